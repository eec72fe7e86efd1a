/**
 * Runs the gpio driver with the REAL onoff against the fake sysfs laid out by
 * test/fixtures/fake-sysfs-gpio.sh, and prints what it observed as one JSON line on stdout.
 * gateway/drivers/gpio.test.ts starts it inside `unshare -m --propagation private` and asserts on
 * the JSON, so a failure shows the whole observation next to the expectation.
 *
 * It must only run inside that namespace: it reads and writes /sys/class/gpio.
 *
 * The scenario comes in the GPIO_SCENARIO environment variable (JSON, see `Scenario`). `pins`
 * maps each BCM number used to the sysfs number the test expects, so the files read here are the
 * ones the test named, not ones derived from the code under test.
 */
import fs, { readFileSync } from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import { Gpio } from 'onoff';
import { VirtualClock } from '../../gateway/clock.js';
import { FULL_REWRITE_INTERVAL_MS, gpio } from '../../gateway/drivers/gpio.js';
import type { DeviceHealth, DriverContext } from '../../gateway/drivers/io.js';
import { SharedLinks } from '../../gateway/drivers/shared-links.js';

export interface Scenario {
  /** drive: outputs, inputs, safe and close; no-chip / missing-dir: open() must fail. */
  mode: 'drive' | 'no-chip' | 'missing-dir';
  pins: Record<string, number>;
}

export interface PinFiles {
  direction: string;
  active_low: string;
  edge: string;
  value: string;
}

export interface DebounceStep {
  atMs: number;
  lid: boolean;
  estop: boolean;
}

export interface ScenarioResult {
  ok: boolean;
  /** Set when the scenario itself threw (not an expected open() failure). */
  error?: string;
  accessible?: boolean;
  /** Every write onoff or the driver made with writeFileSync under /sys/class/gpio, in order. */
  sysfsWrites?: { file: string; data: string }[];
  log?: string[];
  afterOpen?: Record<string, PinFiles>;
  healthAfterOpen?: DeviceHealth;
  energised?: Record<string, string>;
  tamperedAfter100ms?: string;
  tamperedAfterFullRewrite?: string;
  debounce?: DebounceStep[];
  lidEdges?: { value: boolean; atMs: number }[];
  afterSafe?: { files: Record<string, string>; staged: boolean[] };
  afterClose?: { files: Record<string, string>; unexportFile: string; health: DeviceHealth };
  writesBySecondClose?: number;
  openError?: string;
  openMs?: number;
  healthAfterFailedOpen?: DeviceHealth;
}

const ROOT = '/sys/class/gpio';
const scenario = JSON.parse(process.env.GPIO_SCENARIO ?? '{}') as Scenario;
const result: ScenarioResult = { ok: false, sysfsWrites: [], log: [] };

// Record writeFileSync calls under /sys/class/gpio while still performing them. onoff does its
// export/unexport/direction/edge/active_low writes through require('fs').writeFileSync, and the
// unexport file of the fake holds only the LAST number written, so without this record the test
// could not see that close() unexported every pin.
const realWriteFileSync = fs.writeFileSync;
const spy: typeof fs.writeFileSync = (file, data, options) => {
  if (typeof file === 'string' && file.startsWith(`${ROOT}/`)) {
    result.sysfsWrites?.push({ file, data: String(data) });
  }
  realWriteFileSync(file, data, options);
};
Object.defineProperty(fs, 'writeFileSync', { value: spy, writable: true, configurable: true });
syncBuiltinESMExports(); // so the driver's own `import { writeFileSync }` goes through the spy too

function sysfsOf(bcm: number): number {
  const n = scenario.pins[String(bcm)];
  if (n === undefined) throw new Error(`scenario has no sysfs number for BCM${bcm}`);
  return n;
}

function readPin(bcm: number, name: keyof PinFiles): string {
  return readFileSync(`${ROOT}/gpio${sysfsOf(bcm)}/${name}`, 'utf8').trim();
}

function pinFiles(bcm: number): PinFiles {
  return {
    direction: readPin(bcm, 'direction'),
    active_low: readPin(bcm, 'active_low'),
    edge: readPin(bcm, 'edge'),
    value: readPin(bcm, 'value'),
  };
}

/** What the outside world (a switch, a technician) does to a pin: writes its value file. */
function setWire(bcm: number, level: 0 | 1): void {
  realWriteFileSync(`${ROOT}/gpio${sysfsOf(bcm)}/value`, `${level}\n`);
}

const clock = new VirtualClock(0);
const ctx: DriverContext = {
  clock,
  log: {
    info: (m) => result.log?.push(`info: ${m}`),
    warn: (m) => result.log?.push(`warn: ${m}`),
    error: (m) => result.log?.push(`error: ${m}`),
  },
  openI2c: () => Promise.reject(new Error('no I2C in this test')),
  services: new Map(),
  links: new SharedLinks(),
};

async function drive(): Promise<void> {
  // BCM17: valve, active-high. BCM27: pump relay board, active-low (energised = wire low).
  // BCM5: lid switch, active-high. BCM6: e-stop, active-low (pressed = wire low).
  const config = gpio.parseConfig(
    {
      activeLow: [27, 6],
      inputs: [
        { pin: 5, pull: 'down' },
        { pin: 6, pull: 'up' },
      ],
    },
    'devices.gpio0',
  );
  const dev = gpio.create('gpio0', config, ctx);
  const valve = dev.digitalOutput('17');
  const relay = dev.digitalOutput('27');
  const lid = dev.digitalInput('5');
  const estop = dev.digitalInput('6');
  result.lidEdges = [];
  lid.onEdge((value, atMs) => result.lidEdges?.push({ value, atMs }));

  await dev.open();
  result.afterOpen = { 17: pinFiles(17), 27: pinFiles(27), 5: pinFiles(5), 6: pinFiles(6) };
  result.healthAfterOpen = dev.health();

  valve.set(true);
  relay.set(true);
  await dev.flush();
  result.energised = { 17: readPin(17, 'value'), 27: readPin(27, 'value') };

  // Someone else drives BCM17 low. Nothing was staged differently, so the next flush writes
  // nothing; the full rewrite puts it right within FULL_REWRITE_INTERVAL_MS.
  setWire(17, 0);
  await clock.advance(100);
  await dev.flush();
  result.tamperedAfter100ms = readPin(17, 'value');
  await clock.advance(FULL_REWRITE_INTERVAL_MS);
  await dev.flush();
  result.tamperedAfterFullRewrite = readPin(17, 'value');

  // Inputs, polled: the level must hold debounceMs (20) before it counts.
  const t0 = clock.now();
  result.debounce = [];
  const sampleAt = async (offsetMs: number): Promise<void> => {
    await clock.advanceTo(t0 + offsetMs);
    await dev.sample();
    result.debounce?.push({ atMs: offsetMs, lid: lid.value, estop: estop.value });
  };
  setWire(5, 0);
  setWire(6, 0); // e-stop pressed (active-low)
  await sampleAt(0); // first reading is taken as is
  setWire(5, 1); // lid closes
  setWire(6, 1); // e-stop released
  await sampleAt(10);
  await sampleAt(29); // 19 ms held: not yet
  await sampleAt(30); // 20 ms held: counts
  setWire(5, 0); // a 5 ms bounce
  await sampleAt(35);
  setWire(5, 1);
  await sampleAt(40);
  await sampleAt(70);
  result.lidEdges = result.lidEdges.map((e) => ({ value: e.value, atMs: e.atMs - t0 }));

  valve.set(true);
  relay.set(true);
  await dev.flush();
  await dev.safe();
  result.afterSafe = {
    files: { 17: readPin(17, 'value'), 27: readPin(27, 'value') },
    staged: [valve.value, relay.value],
  };

  valve.set(true);
  relay.set(true);
  await dev.flush();
  await dev.close();
  result.afterClose = {
    files: { 17: readPin(17, 'value'), 27: readPin(27, 'value') },
    unexportFile: readFileSync(`${ROOT}/unexport`, 'utf8'),
    health: dev.health(),
  };
  const before = result.sysfsWrites?.length ?? 0;
  await dev.close();
  result.writesBySecondClose = (result.sysfsWrites?.length ?? 0) - before;
}

async function failingOpen(outputs: string[]): Promise<void> {
  const dev = gpio.create('gpio0', gpio.parseConfig({}, 'devices.gpio0'), ctx);
  for (const ch of outputs) dev.digitalOutput(ch);
  const started = performance.now();
  try {
    await dev.open();
    result.openError = '(open() resolved)';
  } catch (e) {
    result.openError = (e as Error).message;
  }
  result.openMs = performance.now() - started;
  result.healthAfterFailedOpen = dev.health();
}

async function main(): Promise<void> {
  result.accessible = Gpio.accessible;
  if (scenario.mode === 'drive') await drive();
  else if (scenario.mode === 'no-chip') await failingOpen(['17']);
  else await failingOpen(['17', '22']);
  result.ok = true;
}

main()
  .catch((e: unknown) => {
    result.error = e instanceof Error ? (e.stack ?? e.message) : String(e);
  })
  .finally(() => {
    process.stdout.write(`${JSON.stringify(result)}\n`);
    // onoff creates an epoll watcher per pin that unexport() does not close; exit explicitly
    // rather than depend on it letting the event loop end.
    process.exit(result.ok ? 0 : 1);
  });
