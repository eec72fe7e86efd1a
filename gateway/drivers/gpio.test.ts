/**
 * Tests of the GPIO backend in three layers:
 *
 * 1. gpio-numbering against sysfs-like temp directories (no privileges needed);
 * 2. the driver with a stand-in for onoff's Gpio, for what plain files cannot produce (EINVAL
 *    from the kernel, a failing unexport) and to count writes;
 * 3. the driver with the REAL onoff against a fake /sys/class/gpio (test/fixtures/fake-sysfs-gpio.sh)
 *    in a private mount namespace (`unshare -m`). The scenario runs in test/gpio/driver-in-namespace.ts
 *    and reports what it saw as JSON; this file asserts on it. Where unshare is not permitted these
 *    tests are skipped with the reason shown, never passed silently.
 */
import { ConfigError } from '../config-error.js';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { BinaryValue, Direction, Edge, Options } from 'onoff';
import { VirtualClock } from '../clock.js';
import type { Scenario, ScenarioResult } from '../../test/gpio/driver-in-namespace.js';
import {
  createGpioDevice,
  DEFAULT_DEBOUNCE_MS,
  FULL_REWRITE_INTERVAL_MS,
  gpio,
  type GpioConfig,
} from './gpio.js';
import { loadOnoff, type GpioLine, type OnoffImporter } from './gpio-onoff.js';
import {
  bcmToSysfs,
  findHeaderChip,
  GpioNumberingError,
  HEADER_CHIP_LABELS,
  listGpioChips,
} from './gpio-numbering.js';
import { type DriverContext } from './io.js';
import { probeUnshare } from '../../test/support/unshare.js';
import { SharedLinks } from './shared-links.js';

const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));

// ---------------------------------------------------------------------------------------------
// Temp sysfs-like trees for the numbering (no namespace: the code takes the root as a parameter)

type ChipSpec = [name: string, base: number, ngpio: number, label: string];

const PI4_CHIPS: ChipSpec[] = [
  ['gpiochip512', 512, 58, 'pinctrl-bcm2711'],
  ['gpiochip570', 570, 8, 'raspberrypi-exp-gpio'],
];
const PI5_CHIPS: ChipSpec[] = [
  ['gpiochip512', 512, 32, 'gpio-brcmstb@107d508500'],
  ['gpiochip544', 544, 4, 'gpio-brcmstb@107d508520'],
  ['gpiochip548', 548, 17, 'gpio-brcmstb@107d517c00'],
  ['gpiochip565', 565, 6, 'gpio-brcmstb@107d517c20'],
  ['gpiochip571', 571, 54, 'pinctrl-rp1'],
];

const tempRoots: string[] = [];
after(() => {
  for (const dir of tempRoots) rmSync(dir, { recursive: true, force: true });
});

/** A directory laid out like /sys/class/gpio, with a trailing newline in each file as the kernel does. */
function sysfsTree(chips: ChipSpec[]): string {
  const root = mkdtempSync(join(tmpdir(), 'presso-gpio-sysfs-'));
  tempRoots.push(root);
  for (const [name, base, ngpio, label] of chips) {
    mkdirSync(join(root, name));
    writeFileSync(join(root, name, 'base'), `${base}\n`);
    writeFileSync(join(root, name, 'ngpio'), `${ngpio}\n`);
    writeFileSync(join(root, name, 'label'), `${label}\n`);
  }
  writeFileSync(join(root, 'export'), '');
  writeFileSync(join(root, 'unexport'), '');
  return root;
}

describe('gpio-numbering', () => {
  it('maps BCM17 to gpio529 on a Pi 4 with kernel 6.6+ (pinctrl-bcm2711 at base 512)', () => {
    const root = sysfsTree(PI4_CHIPS);
    assert.deepEqual(findHeaderChip(root), {
      name: 'gpiochip512',
      base: 512,
      ngpio: 58,
      label: 'pinctrl-bcm2711',
    });
    assert.equal(bcmToSysfs(17, root), 529);
    assert.equal(bcmToSysfs(0, root), 512);
    assert.equal(bcmToSysfs(57, root), 569);
  });

  it('maps BCM17 to gpio588 on a Pi 5 with kernel 6.6+ (pinctrl-rp1 at base 571, after the SoC chips)', () => {
    const root = sysfsTree(PI5_CHIPS);
    assert.equal(findHeaderChip(root).name, 'gpiochip571');
    assert.equal(bcmToSysfs(17, root), 588);
    assert.equal(bcmToSysfs(0, root), 571);
    assert.equal(bcmToSysfs(53, root), 624);
  });

  it('reads the base instead of assuming one (Pi 0–3 at 512, Pi 4 before 6.6 at 0, Pi 5 on 6.1 at 399)', () => {
    assert.equal(bcmToSysfs(17, sysfsTree([['gpiochip512', 512, 54, 'pinctrl-bcm2835']])), 529);
    assert.equal(bcmToSysfs(17, sysfsTree([['gpiochip0', 0, 58, 'pinctrl-bcm2711']])), 17);
    assert.equal(bcmToSysfs(17, sysfsTree([['gpiochip399', 399, 54, 'pinctrl-rp1']])), 416);
    // The directory name is not trusted either: the base file is what counts.
    assert.equal(bcmToSysfs(17, sysfsTree([['gpiochip7', 522, 58, 'pinctrl-bcm2711']])), 539);
  });

  it('prefers the label order pinctrl-rp1, pinctrl-bcm2711, pinctrl-bcm2835', () => {
    assert.deepEqual([...HEADER_CHIP_LABELS], ['pinctrl-rp1', 'pinctrl-bcm2711', 'pinctrl-bcm2835']);
    const root = sysfsTree([
      ['gpiochip512', 512, 54, 'pinctrl-bcm2835'],
      ['gpiochip600', 600, 54, 'pinctrl-rp1'],
    ]);
    assert.equal(bcmToSysfs(1, root), 601);
  });

  it('says which labels it looked for and which chips it found when there is no header chip', () => {
    const root = sysfsTree([['gpiochip570', 570, 8, 'raspberrypi-exp-gpio']]);
    assert.throws(
      () => bcmToSysfs(17, root),
      (e: unknown) => {
        assert.ok(e instanceof GpioNumberingError);
        assert.match(e.message, /no header gpiochip in /);
        assert.match(e.message, /looked for a label of "pinctrl-rp1", "pinctrl-bcm2711", "pinctrl-bcm2835"/);
        assert.match(e.message, /found gpiochip570 "raspberrypi-exp-gpio" \(base 570, 8 lines\)/);
        return true;
      },
    );
    assert.throws(() => findHeaderChip(sysfsTree([])), /found no gpiochip at all/);
  });

  it('rejects a pin that is not a line of the header chip', () => {
    const pi4 = sysfsTree(PI4_CHIPS);
    assert.throws(
      () => bcmToSysfs(58, pi4),
      /BCM58 is out of range: the header chip gpiochip512 "pinctrl-bcm2711" has 58 lines \(BCM 0\.\.57\)/,
    );
    assert.throws(() => bcmToSysfs(54, sysfsTree(PI5_CHIPS)), /BCM54 is out of range.*pinctrl-rp1.*54 lines/);
    assert.throws(() => bcmToSysfs(-1, pi4), /BCM-1 is out of range/);
    assert.throws(() => bcmToSysfs(1.5, pi4), /BCM1\.5 is out of range/);
  });

  it('explains a missing sysfs root', () => {
    assert.throws(
      () => bcmToSysfs(17, join(tmpdir(), 'presso-no-such-gpio-root')),
      /cannot list .*presso-no-such-gpio-root \(ENOENT.*CONFIG_GPIO_SYSFS/,
    );
  });

  it('reports a chip whose files cannot be read, and refuses two chips with the same header label', () => {
    const root = sysfsTree([['gpiochip570', 570, 8, 'raspberrypi-exp-gpio']]);
    mkdirSync(join(root, 'gpiochip512'));
    writeFileSync(join(root, 'gpiochip512', 'base'), 'garbage\n');
    assert.equal(listGpioChips(root).unreadable[0]?.name, 'gpiochip512');
    assert.throws(
      () => findHeaderChip(root),
      /gpiochip512 \(unreadable: .*holds "garbage", not a whole number\)/,
    );

    const twice = sysfsTree([
      ['gpiochip0', 0, 58, 'pinctrl-bcm2711'],
      ['gpiochip512', 512, 58, 'pinctrl-bcm2711'],
    ]);
    assert.throws(() => findHeaderChip(twice), /more than one gpiochip is labelled "pinctrl-bcm2711"/);
  });
});

// ---------------------------------------------------------------------------------------------
// Config and channels

describe('gpio config and channels', () => {
  const path = 'devices.gpio0';

  it('accepts a full config and rejects mistakes with the field named', () => {
    const full = {
      sysfsRoot: '/tmp/x',
      activeLow: [27, 6],
      debounceMs: 30,
      inputs: [{ pin: 6, pull: 'up' }, { pin: 5 }],
    };
    assert.deepEqual(gpio.parseConfig(full, path), full);
    assert.deepEqual(gpio.parseConfig({}, path), {});
    const bad: [Record<string, unknown>, RegExp][] = [
      [{ activelow: [1] }, /^devices\.gpio0\.activelow: unknown key/],
      [{ activeLow: [28] }, /^devices\.gpio0\.activeLow\[0\]: must be <= 27/],
      [{ activeLow: [17, 17] }, /^devices\.gpio0\.activeLow\[1\]: BCM17 is listed twice/],
      [{ inputs: [{ pin: 5, pull: 'sideways' }] }, /^devices\.gpio0\.inputs\[0\]\.pull: /],
      [{ inputs: [{ pin: 5 }, { pin: 5 }] }, /^devices\.gpio0\.inputs\[1\]\.pin: BCM5 is listed twice/],
      [{ debounceMs: -1 }, /^devices\.gpio0\.debounceMs: must be >= 0/],
      [{ sysfsRoot: 'relative' }, /^devices\.gpio0\.sysfsRoot: /],
    ];
    for (const [raw, message] of bad) {
      assert.throws(
        () => gpio.parseConfig(raw, path),
        (e: unknown) => e instanceof ConfigError && message.test(e.message),
      );
    }
  });

  it('offers digital-out and digital-in on BCM 0..27 only', () => {
    const config: GpioConfig = {};
    assert.equal(gpio.checkChannel('digital-out', '17', config), undefined);
    assert.equal(gpio.checkChannel('digital-in', '0', config), undefined);
    assert.match(
      gpio.checkChannel('digital-out', '28', config) ?? '',
      /BCM number 0\.\.27 \(not the physical pin number\)/,
    );
    assert.match(gpio.checkChannel('digital-out', 'GPIO17', config) ?? '', /not a header GPIO/);
    assert.match(gpio.checkChannel('pwm-out', '18', config) ?? '', /no pwm-out channels/);
    assert.match(gpio.checkChannel('pressure-in', '4', config) ?? '', /no pressure-in channels/);
  });

  it('holds the inputs list to the channels when it is given', () => {
    const config: GpioConfig = { inputs: [{ pin: 6, pull: 'up' }] };
    assert.equal(gpio.checkChannel('digital-in', '6', config), undefined);
    assert.match(
      gpio.checkChannel('digital-in', '5', config) ?? '',
      /BCM5 is used as an input but is not listed in inputs/,
    );
    assert.match(
      gpio.checkChannel('digital-out', '6', config) ?? '',
      /BCM6 is listed in inputs but used as an output/,
    );
  });

  it('gives one key per physical pin, whatever the kind or spelling', () => {
    assert.ok(gpio.channelKey);
    assert.equal(gpio.channelKey('digital-out', '17', {}), 'bcm17');
    assert.equal(gpio.channelKey('digital-in', ' 017 ', {}), 'bcm17');
  });

  it('has channel accessors that refuse what the device does not have', () => {
    const dev = gpio.create('gpio0', {}, makeCtx(new VirtualClock()).ctx);
    const out = dev.digitalOutput('17');
    assert.equal(dev.digitalOutput('17'), out, 'the same channel gives the same object');
    assert.throws(() => dev.digitalInput('17'), /devices\.gpio0: BCM17 is already used as an output/);
    assert.throws(() => dev.digitalOutput('40'), ConfigError);
    assert.throws(() => dev.pwmOutput('18'), /a gpio has no pwm-out channels/);
    assert.throws(() => dev.pressureInput('0'), /a gpio has no pressure-in channels/);
  });
});

// ---------------------------------------------------------------------------------------------
// The driver with a stand-in for onoff's Gpio

function makeCtx(clock: VirtualClock): { ctx: DriverContext; log: string[] } {
  const log: string[] = [];
  return {
    log,
    ctx: {
      clock,
      log: {
        info: (m) => log.push(`info: ${m}`),
        warn: (m) => log.push(`warn: ${m}`),
        error: (m) => log.push(`error: ${m}`),
      },
      openI2c: () => Promise.reject(new Error('no I2C here')),
      services: new Map(),
      links: new SharedLinks(),
    },
  };
}

function errno(code: string, syscall: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${code}: invalid argument, ${syscall}`), { code });
}

/** Records what the driver asks of each line; failures are switched on per sysfs number. */
function standInOnoff(): {
  importer: OnoffImporter;
  lines: Map<number, StandInLine>;
  failExport: Map<number, Error>;
} {
  const lines = new Map<number, StandInLine>();
  const failExport = new Map<number, Error>();
  class Line implements StandInLine {
    level: BinaryValue = 0;
    writes: BinaryValue[] = [];
    failWrite: Error | undefined;
    failRead: Error | undefined;
    failUnexport: Error | undefined;
    unexported = false;
    constructor(
      readonly gpio: number,
      readonly direction: Direction,
      readonly edge?: Edge,
      readonly options?: Options,
    ) {
      const f = failExport.get(gpio);
      if (f) throw f;
      lines.set(gpio, this);
    }
    readSync(): BinaryValue {
      if (this.failRead) throw this.failRead;
      return this.level;
    }
    writeSync(value: BinaryValue): void {
      if (this.failWrite) throw this.failWrite;
      this.writes.push(value);
      this.level = value;
    }
    unexport(): void {
      if (this.failUnexport) throw this.failUnexport;
      this.unexported = true;
    }
  }
  return { importer: () => Promise.resolve({ Gpio: Line }), lines, failExport };
}

interface StandInLine extends GpioLine {
  readonly gpio: number;
  readonly direction: Direction;
  readonly edge?: Edge;
  readonly options?: Options;
  level: BinaryValue;
  writes: BinaryValue[];
  failWrite: Error | undefined;
  failRead: Error | undefined;
  failUnexport: Error | undefined;
  unexported: boolean;
}

function line(lines: Map<number, StandInLine>, n: number): StandInLine {
  const l = lines.get(n);
  assert.ok(l, `gpio${n} was never created`);
  return l;
}

/** A Pi 4 device with BCM17 (valve), BCM27 (active-low relay) and BCM5 (input), not yet opened. */
function pi4Device(extra: Partial<GpioConfig> = {}) {
  const clock = new VirtualClock(0);
  const { ctx, log } = makeCtx(clock);
  const onoff = standInOnoff();
  const config = { sysfsRoot: sysfsTree(PI4_CHIPS), activeLow: [27], ...extra };
  const dev = createGpioDevice('gpio0', config, ctx, { importer: onoff.importer });
  const valve = dev.digitalOutput('17');
  const relay = dev.digitalOutput('27');
  const lid = dev.digitalInput('5');
  return { clock, log, dev, valve, relay, lid, ...onoff };
}

describe('gpio driver (stand-in onoff lines)', () => {
  it('names the optional onoff package and how to build it when it cannot load', async () => {
    await assert.rejects(
      loadOnoff('gpio0', () => Promise.reject(new Error("Cannot find module 'epoll'"))),
      /gpio device "gpio0": this profile needs the optional onoff package.*Cannot find module 'epoll'.*build-essential python3.*npm rebuild epoll/,
    );
  });

  it('opens outputs at their de-energised level with no kernel inversion, and inputs with both edges', async () => {
    const { dev, lines, log } = pi4Device();
    await dev.open();
    const [v, r, i] = [line(lines, 529), line(lines, 539), line(lines, 517)];
    assert.deepEqual([v.direction, v.edge, v.options], ['low', 'none', { activeLow: false }]);
    assert.deepEqual(
      [r.direction, r.options],
      ['high', { activeLow: false }],
      'active-low: off is the wire high',
    );
    assert.deepEqual([i.direction, i.edge, i.options], ['in', 'both', { activeLow: false }]);
    assert.deepEqual([v.writes, r.writes], [[0], [1]]);
    assert.equal(dev.health().state, 'ok');
    assert.ok(log.some((m) => m.includes('BCM17->gpio529') && m.includes('BCM27->gpio539 (active-low)')));
  });

  it('writes only changed outputs, and all of them every FULL_REWRITE_INTERVAL_MS', async () => {
    const { dev, lines, clock, valve, relay } = pi4Device();
    await dev.open();
    const [v, r] = [line(lines, 529), line(lines, 539)];
    v.writes = [];
    r.writes = [];
    valve.set(true);
    await dev.flush();
    assert.deepEqual([v.writes, r.writes], [[1], []], 'only the changed pin is written');
    await clock.advance(10);
    await dev.flush();
    assert.deepEqual([v.writes, r.writes], [[1], []], 'nothing changed, nothing written');
    relay.set(true);
    await clock.advance(10);
    await dev.flush();
    assert.deepEqual([v.writes, r.writes], [[1], [0]], 'active-low relay energised = wire low');
    await clock.advance(FULL_REWRITE_INTERVAL_MS);
    await dev.flush();
    assert.deepEqual(
      [v.writes, r.writes],
      [
        [1, 1],
        [0, 0],
      ],
      'the periodic full rewrite',
    );
  });

  it('debounces inputs polled in sample(), inverting active-low ones', async () => {
    const { dev, lines, clock, lid } = pi4Device({ activeLow: [5] });
    const edges: [boolean, number][] = [];
    lid.onEdge((value, atMs) => edges.push([value, atMs]));
    await dev.open();
    const l = line(lines, 517);
    l.level = 1; // active-low: wire high = inactive
    await dev.sample();
    assert.equal(lid.value, false);
    l.level = 0;
    await clock.advance(5);
    await dev.sample();
    await clock.advance(DEFAULT_DEBOUNCE_MS - 1);
    await dev.sample();
    assert.equal(lid.value, false, 'held 19 ms: not yet');
    await clock.advance(1);
    await dev.sample();
    assert.equal(lid.value, true, 'held 20 ms: counts');
    assert.deepEqual(edges, [[true, 5 + DEFAULT_DEBOUNCE_MS]]);
  });

  it('turns sysfs errors into degraded, then offline, health naming the pin, and recovers', async () => {
    const { dev, lines, clock, valve, relay } = pi4Device();
    await dev.open();
    const [v, r, i] = [line(lines, 529), line(lines, 539), line(lines, 517)];
    v.failWrite = errno('EINVAL', 'write');
    valve.set(true);
    await dev.flush();
    let h = dev.health();
    assert.equal(h.state, 'degraded');
    assert.match(h.message ?? '', /BCM17 \(sysfs gpio529\): writing 1 failed: EINVAL/);
    assert.equal(h.errors, 1);

    // A failed pin is retried at every flush, even with nothing newly staged.
    await clock.advance(10);
    await dev.flush();
    assert.equal(dev.health().errors, 2);

    r.failWrite = errno('EIO', 'write');
    i.failRead = errno('EINVAL', 'read');
    relay.set(true);
    await dev.flush();
    await dev.sample();
    h = dev.health();
    assert.equal(h.state, 'offline', 'every pin failing');
    assert.match(h.message ?? '', /BCM27 \(sysfs gpio539\).*EIO/);
    assert.match(h.message ?? '', /BCM5 \(sysfs gpio517\): reading value failed: EINVAL/);

    v.failWrite = undefined;
    r.failWrite = undefined;
    i.failRead = undefined;
    await dev.flush();
    await dev.sample();
    assert.equal(dev.health().state, 'ok');
    assert.deepEqual([v.level, r.level], [1, 0]);
  });

  it('safe() writes every output off at once; close() does too, then unexports last-first', async () => {
    const { dev, lines, valve, relay } = pi4Device();
    await dev.open();
    const [v, r, i] = [line(lines, 529), line(lines, 539), line(lines, 517)];
    valve.set(true);
    relay.set(true);
    await dev.flush();
    await dev.safe();
    assert.deepEqual([valve.value, relay.value, v.level, r.level], [false, false, 0, 1]);
    valve.set(true);
    await dev.flush();
    await dev.close();
    assert.deepEqual([v.level, r.level], [0, 1]);
    assert.deepEqual([v.unexported, r.unexported, i.unexported], [true, true, true]);
    assert.deepEqual(dev.health().state, 'offline');
    assert.equal(dev.health().message, 'closed');
    // Closed: nothing touches the lines any more, and nothing rejects.
    v.writes = [];
    await dev.flush();
    await dev.sample();
    await dev.safe();
    await dev.close();
    assert.deepEqual(v.writes, []);
  });

  it('close() never rejects: a failing unexport shows in health and the log', async () => {
    const { dev, lines, log } = pi4Device();
    await dev.open();
    line(lines, 539).failUnexport = errno('EINVAL', 'write');
    await dev.close();
    assert.match(
      dev.health().message ?? '',
      /not released cleanly: BCM27 \(sysfs gpio539\): unexport failed: EINVAL/,
    );
    assert.ok(log.some((m) => m.startsWith('warn:') && m.includes('gpio539')));
    assert.equal(line(lines, 529).unexported, true, 'the other pins are still released');
  });

  it('undoes a half-done open() and names the pin that failed', async () => {
    const { dev, lines, failExport } = pi4Device();
    failExport.set(539, errno('EINVAL', 'write'));
    await assert.rejects(
      dev.open(),
      /^Error: gpio device "gpio0": BCM27 \(sysfs gpio539\): export as high failed: EINVAL/,
    );
    assert.equal(line(lines, 529).unexported, true, 'BCM17 was exported first and must be released');
    assert.equal(lines.has(517), false, 'nothing after the failure was touched');
    assert.equal(dev.health().state, 'offline');
  });

  it('touches no pin when the numbering fails (no header chip, pin beyond the chip)', async () => {
    for (const [chips, message] of [
      [
        [['gpiochip570', 570, 8, 'raspberrypi-exp-gpio']],
        /no header gpiochip.*looked for a label of "pinctrl-rp1"/,
      ],
      [[['gpiochip512', 512, 20, 'pinctrl-bcm2835']], /BCM27 is out of range: .*has 20 lines/],
    ] as [ChipSpec[], RegExp][]) {
      const clock = new VirtualClock(0);
      const onoff = standInOnoff();
      const dev = createGpioDevice('gpio0', { sysfsRoot: sysfsTree(chips) }, makeCtx(clock).ctx, {
        importer: onoff.importer,
      });
      dev.digitalOutput('17');
      dev.digitalOutput('27');
      await assert.rejects(
        dev.open(),
        (e: unknown) =>
          e instanceof Error && /^gpio device "gpio0": /.test(e.message) && message.test(e.message),
      );
      assert.equal(onoff.lines.size, 0);
      assert.equal(dev.health().state, 'offline');
    }
  });

  it('refuses a channel claimed after open(), which open() could not have exported', async () => {
    const { dev } = pi4Device();
    await dev.open();
    assert.throws(() => dev.digitalOutput('22'), /BCM22 claimed after open\(\)/);
    dev.digitalOutput('17'); // already claimed: fine
  });
});

// ---------------------------------------------------------------------------------------------
// The real onoff in a fake sysfs, in a private mount namespace

const unshare = probeUnshare();
/** Given to each namespace test (not the suite), so the run's summary counts them as skipped. */
const nsSkip = { skip: 'skip' in unshare ? unshare.skip : false };

interface NamespaceRun {
  code: number | null;
  stdout: string;
  stderr: string;
  result: ScenarioResult | undefined;
}

const NAMESPACE_TIMEOUT_MS = 60_000;

function runInNamespace(
  layout: 'pi4' | 'pi5' | 'none',
  precreate: number[],
  scenario: Scenario,
): Promise<NamespaceRun> {
  if (!('prefix' in unshare)) throw new Error(unshare.skip);
  const [cmd, ...args] = unshare.prefix as [string, ...string[]];
  // $0 is node; the numbers are whole numbers, so the script needs no quoting.
  const script =
    `sh test/fixtures/fake-sysfs-gpio.sh ${layout} ${precreate.join(' ')} && ` +
    `exec "$0" --import tsx test/gpio/driver-in-namespace.ts`;
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    HOST_MNT_NS: readlinkSync('/proc/self/ns/mnt'),
    GPIO_SCENARIO: JSON.stringify(scenario),
  };
  // The inner script is a plain program, not a test file of this run.
  delete env.NODE_TEST_CONTEXT;
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, [...args, 'sh', '-c', script, process.execPath], { cwd: REPO_ROOT, env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), NAMESPACE_TIMEOUT_MS);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      const last = stdout.trim().split('\n').at(-1) ?? '';
      let result: ScenarioResult | undefined;
      try {
        result = JSON.parse(last) as ScenarioResult;
      } catch {
        result = undefined;
      }
      resolve({ code, stdout, stderr, result });
    });
  });
}

/** The scenario's result, or a failure that shows everything the inner run printed. */
function completed(run: NamespaceRun): ScenarioResult {
  if (run.code !== 0 || !run.result?.ok) {
    assert.fail(
      `inner scenario failed (exit ${run.code})\n${run.result?.error ?? ''}\n--- stdout\n${run.stdout}\n--- stderr\n${run.stderr}`,
    );
  }
  return run.result;
}

type DrivePins = { 17: number; 27: number; 5: number; 6: number };

function assertDrive(r: ScenarioResult, pins: DrivePins): void {
  assert.equal(r.accessible, true, 'onoff sees /sys/class/gpio/export in the namespace');
  assert.deepEqual(
    r.afterOpen,
    {
      17: { direction: 'low', active_low: '0', edge: 'none', value: '0' },
      // Active-low: de-energised is the wire high; active_low stays 0 because the driver inverts.
      27: { direction: 'high', active_low: '0', edge: 'none', value: '1' },
      5: { direction: 'in', active_low: '0', edge: 'both', value: '0' },
      6: { direction: 'in', active_low: '0', edge: 'both', value: '0' },
    },
    'files after open()',
  );
  assert.equal(r.healthAfterOpen?.state, 'ok');
  assert.deepEqual(r.energised, { 17: '1', 27: '0' }, 'energised: BCM17 high, active-low BCM27 low');
  assert.equal(r.tamperedAfter100ms, '0', 'no write when nothing changed');
  assert.equal(r.tamperedAfterFullRewrite, '1', 'the periodic full rewrite restores the level');
  assert.deepEqual(r.debounce, [
    { atMs: 0, lid: false, estop: true },
    { atMs: 10, lid: false, estop: true },
    { atMs: 29, lid: false, estop: true },
    { atMs: 30, lid: true, estop: false },
    { atMs: 35, lid: true, estop: false },
    { atMs: 40, lid: true, estop: false },
    { atMs: 70, lid: true, estop: false },
  ]);
  assert.deepEqual(r.lidEdges, [{ value: true, atMs: 30 }], 'one edge; the 5 ms bounce is ignored');
  assert.deepEqual(r.afterSafe, { files: { 17: '0', 27: '1' }, staged: [false, false] });
  assert.deepEqual(r.afterClose?.files, { 17: '0', 27: '1' }, 'close() leaves outputs de-energised');
  assert.equal(r.afterClose?.health.state, 'offline');
  const writesTo = (file: string): string[] =>
    (r.sysfsWrites ?? []).filter((w) => w.file === `/sys/class/gpio/${file}`).map((w) => w.data);
  assert.deepEqual(writesTo('export'), [], 'the gpioN dirs existed, so onoff adopted them without export');
  assert.deepEqual(
    writesTo('unexport'),
    [pins[6], pins[5], pins[27], pins[17]].map(String),
    'every pin unexported, last opened first',
  );
  assert.equal(r.afterClose?.unexportFile, String(pins[17]));
  assert.equal(r.writesBySecondClose, 0, 'a second close() does nothing');
  assert.ok(
    r.log?.some((m) => m.includes(`BCM17->gpio${pins[17]}`)),
    `open() logs the mapping: ${JSON.stringify(r.log)}`,
  );
}

describe('gpio driver with the real onoff in a fake sysfs (unshare -m)', () => {
  it(
    'Pi 4 layout: BCM17 is gpio529; outputs, active-low, debounce, safe, close + unexport',
    nsSkip,
    async () => {
      const pins: DrivePins = { 17: 529, 27: 539, 5: 517, 6: 518 };
      const run = await runInNamespace('pi4', Object.values(pins), { mode: 'drive', pins: { ...pins } });
      assertDrive(completed(run), pins);
    },
  );

  it('Pi 5 layout: BCM17 is gpio588 (pinctrl-rp1 at base 571); same scenario', nsSkip, async () => {
    const pins: DrivePins = { 17: 588, 27: 598, 5: 576, 6: 577 };
    const run = await runInNamespace('pi5', Object.values(pins), { mode: 'drive', pins: { ...pins } });
    assertDrive(completed(run), pins);
  });

  it(
    'no header chip: open() rejects, says what it looked for and found, touches nothing',
    nsSkip,
    async () => {
      const r = completed(await runInNamespace('none', [], { mode: 'no-chip', pins: {} }));
      assert.match(
        r.openError ?? '',
        /^gpio device "gpio0": no header gpiochip in \/sys\/class\/gpio: looked for a label of "pinctrl-rp1", "pinctrl-bcm2711", "pinctrl-bcm2835"; found gpiochip570 "raspberrypi-exp-gpio"/,
      );
      assert.equal(r.healthAfterFailedOpen?.state, 'offline');
      assert.deepEqual(r.sysfsWrites, []);
    },
  );

  it(
    'a gpioN that never appears: open() rejects naming BCM and sysfs number, and releases the pins it took',
    nsSkip,
    async () => {
      // Pi 5: BCM17 = gpio588 exists, BCM22 = gpio593 does not (as when the export has no effect).
      const r = completed(await runInNamespace('pi5', [588], { mode: 'missing-dir', pins: {} }));
      assert.match(
        r.openError ?? '',
        /^gpio device "gpio0": BCM22 \(sysfs gpio593\): export as low failed: ENOENT/,
      );
      assert.equal(r.healthAfterFailedOpen?.state, 'offline');
      assert.match(r.healthAfterFailedOpen?.message ?? '', /BCM22 \(sysfs gpio593\)/);
      const writes = (r.sysfsWrites ?? []).filter((w) => /\/(un)?export$/.test(w.file));
      assert.deepEqual(writes, [
        { file: '/sys/class/gpio/export', data: '593' },
        { file: '/sys/class/gpio/unexport', data: '588' },
      ]);
    },
  );
});
