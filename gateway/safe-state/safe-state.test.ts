/**
 * The safe-state program (ExecStopPost=) against real peers, starting from energised outputs:
 *
 * 1. GPIO: the program as a real process, with the real onoff, in a fake /sys/class/gpio inside a
 *    private mount namespace (test/fixtures/fake-sysfs-gpio.sh); every output pin's value file is
 *    read back afterwards.
 * 2. Modbus TCP: the program as a real process against Debian's pymodbus slave; every coil and
 *    register is read back through the slave. A dead module: a clear error, exit code 1, and the
 *    live module made safe all the same, in bounded time.
 * 3. I2C: the chip models live in-process behind the i2c-bus interface, so the safe-state function
 *    runs in-process on the simulator-i2c profile's buses; each chip's registers are read back.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it, type TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ModbusSlave } from '../../test/modbus/peers.js';
import { loadBoard, PROFILE_DIR } from '../board/load.js';
import { startBoard } from '../board/runtime.js';
import { VirtualClock } from '../clock.js';
import type { I2cBusLike, Logger } from '../drivers/io.js';
import { DEVICE_BUDGET_MS, driveSafeState, formatReport } from './safe-state.js';
import { freePort as deadPort } from '../../test/support/ports.js';
import { probeUnshare } from '../../test/support/unshare.js';

const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
const quiet: Logger = { info: () => {}, warn: () => {}, error: () => {} };
const RUN_TIMEOUT_MS = 30_000;

const temps: string[] = [];
after(() => {
  for (const d of temps) rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'presso-safe-state-'));
  temps.push(d);
  return d;
}

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** Runs `cmd args` (the program, or a shell around it) to the end and collects its output. */
function run(cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<Run> {
  const started = performance.now();
  const childEnv: NodeJS.ProcessEnv = { ...process.env, ...env };
  // The program is a plain process, not a test file of this run.
  delete childEnv.NODE_TEST_CONTEXT;
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: REPO_ROOT, env: childEnv });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), RUN_TIMEOUT_MS);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, ms: performance.now() - started });
    });
  });
}

/** The program itself (gateway/safe-state/main.ts, what scripts/safe-state.mjs runs compiled). */
const PROGRAM = ['--import', 'tsx', 'gateway/safe-state/main.ts'];

// ---------------------------------------------------------------------------------------------
// 1. GPIO in a fake sysfs

const unshare = probeUnshare();
const nsSkip = { skip: 'skip' in unshare ? unshare.skip : false };

/** Pi 4 on kernel 6.6+: the header chip's base is 512. */
const PI4_BASE = 512;

describe('safe-state program: GPIO through the real onoff in a fake sysfs', () => {
  it(
    'drives every output pin of pi-direct to its de-energised level, active-low pins high',
    nsSkip,
    async () => {
      if (!('prefix' in unshare)) throw new Error(unshare.skip);
      // pi-direct, with the pump relay on BCM12 wired active-low (energised = wire low).
      const board = JSON.parse(readFileSync(join(PROFILE_DIR, 'pi-direct.json'), 'utf8')) as {
        devices: { gpio: Record<string, unknown> };
      };
      board.devices.gpio.activeLow = [12];
      const file = join(tempDir(), 'board.json');
      writeFileSync(file, JSON.stringify(board));
      const outputs = [12, 5, 26, 6, 16, 13, 20, 19, 21, 4]; // pump, 4 inlets, 4 exhausts, heartbeat
      const energised = (bcm: number) => (bcm === 12 ? 0 : 1);
      const sysfs = (bcm: number) => PI4_BASE + bcm;
      const [cmd, ...args] = unshare.prefix as [string, ...string[]];
      // $0 is node. Every output starts energised, as a controller killed mid-session leaves them.
      const script = [
        `sh test/fixtures/fake-sysfs-gpio.sh pi4 ${outputs.map(sysfs).join(' ')}`,
        ...outputs.map((b) => `printf '${energised(b)}\\n' > /sys/class/gpio/gpio${sysfs(b)}/value`),
        `"$0" ${PROGRAM.join(' ')}; echo "rc=$?"`,
        ...outputs.map((b) => `echo "gpio${sysfs(b)}=$(cat /sys/class/gpio/gpio${sysfs(b)}/value)"`),
      ].join(' && ');
      const r = await run(cmd, [...args, 'sh', '-c', script, process.execPath], {
        HOST_MNT_NS: readlinkSync('/proc/self/ns/mnt'),
        PRESSO_BOARD: file,
      });
      const seen = Object.fromEntries(
        [...r.stdout.matchAll(/^(rc|gpio\d+)=(\S*)$/gm)].map((m) => [m[1], m[2]]),
      );
      const where = `\n--- stdout ---\n${r.stdout}\n--- stderr ---\n${r.stderr}`;
      assert.equal(seen.rc, '0', `exit code${where}`);
      for (const bcm of outputs) {
        assert.equal(
          seen[`gpio${sysfs(bcm)}`],
          bcm === 12 ? '1' : '0',
          `BCM${bcm} (gpio${sysfs(bcm)})${where}`,
        );
      }
      assert.match(r.stdout, /safe +gpio \(gpio, \d+ ms\): 10 output\(s\) de-energised/);
      assert.match(r.stdout, /skipped adc0 \(ads1115, \d+ ms\): no outputs in this profile/);
      assert.match(r.stdout, /every output of board "pi-direct" is in the safe state/);
    },
  );
});

// ---------------------------------------------------------------------------------------------
// 2. Modbus TCP against the pymodbus slave

/** One 5-zone station per module: coils 0..9 valves, coil 10 pump enable, hr 0 pump speed. */
function modbusBoard(modules: { id: string; port: number }[]): string {
  const devices = Object.fromEntries(
    modules.map((m) => [
      m.id,
      {
        type: 'modbus-tcp',
        host: '127.0.0.1',
        port: m.port,
        unitId: 1,
        timeoutMs: 200,
        pressure: { scale: 0.1 },
        pwmFullScale: 1000,
      },
    ]),
  );
  const stations = modules.map((m, i) => ({
    id: `bay-${i + 1}`,
    name: `Bay ${i + 1}`,
    garment: 'leg',
    garmentName: 'leg boots, 5 chambers',
    pump: { enable: `${m.id}:coil:10`, pwm: `${m.id}:hr:0` },
    zones: Array.from({ length: 5 }, (_, z) => ({
      inlet: `${m.id}:coil:${2 * z}`,
      exhaust: `${m.id}:coil:${2 * z + 1}`,
      sensor: `${m.id}:ir:${z}`,
    })),
  }));
  const file = join(tempDir(), 'board.json');
  writeFileSync(
    file,
    JSON.stringify({
      name: 'modbus-test',
      description: 'safe-state test',
      loopRateHz: 50,
      devices,
      stations,
    }),
  );
  return file;
}

/** Everything on, as a controller killed in the middle of a fill leaves a module; coil 20 is not ours. */
async function energise(slave: ModbusSlave): Promise<void> {
  await slave.set(
    'co',
    0,
    Array.from({ length: 11 }, () => 1),
  );
  await slave.set('co', 20, [1]);
  await slave.set('hr', 0, [750]);
  assert.deepEqual(
    await slave.get('co', 0, 11),
    Array.from({ length: 11 }, () => 1),
  );
}

async function assertSafe(slave: ModbusSlave): Promise<void> {
  assert.deepEqual(
    await slave.get('co', 0, 11),
    Array.from({ length: 11 }, () => 0),
    'every valve and pump coil off',
  );
  assert.deepEqual(await slave.get('hr', 0, 1), [0], 'pump speed 0');
  assert.deepEqual(await slave.get('co', 20, 1), [1], 'a coil the board does not own is left alone');
}

describe('safe-state program: Modbus TCP against the pymodbus slave', () => {
  it('writes every coil off and the pump speed register to 0', async (t: TestContext) => {
    const slave = await ModbusSlave.start(t, ['tcp', '127.0.0.1', '0']);
    await energise(slave);
    const r = await run(process.execPath, PROGRAM, {
      PRESSO_BOARD: modbusBoard([{ id: 'io1', port: slave.port }]),
    });
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
    await assertSafe(slave);
    assert.match(r.stdout, /safe +io1 \(modbus-tcp, \d+ ms\): 12 output\(s\) de-energised/);
  });

  it('a dead module: names it and the cause, exits 1, and still makes the live module safe', async (t: TestContext) => {
    const slave = await ModbusSlave.start(t, ['tcp', '127.0.0.1', '0']);
    await energise(slave);
    const port = await deadPort();
    const r = await run(process.execPath, PROGRAM, {
      PRESSO_BOARD: modbusBoard([
        { id: 'io1', port: slave.port },
        { id: 'io2', port },
      ]),
    });
    const where = `\n--- stdout ---\n${r.stdout}\n--- stderr ---\n${r.stderr}`;
    assert.equal(r.code, 1, `exit code${where}`);
    await assertSafe(slave);
    assert.match(
      r.stderr,
      new RegExp(
        `FAILED +io2 \\(modbus-tcp, \\d+ ms\\): modbus-tcp device io2: cannot connect to 127\\.0\\.0\\.1:${port}`,
      ),
      where,
    );
    assert.match(r.stderr, /safe +io1 \(modbus-tcp/, where);
    assert.match(r.stderr, /NOT SAFE: io2 could not be driven to the safe state/, where);
    // Bounded: the per-device budget plus the time to start Node and load the drivers.
    assert.ok(r.ms < DEVICE_BUDGET_MS + 5000, `took ${Math.round(r.ms)} ms`);
  });
});

// ---------------------------------------------------------------------------------------------
// 3. I2C chips on the simulator-i2c profile's buses, in-process

const MCP_IODIRA = 0x00;
const MCP_OLATA = 0x14;
const PCA_MODE1 = 0x00;
const PCA_LED0_ON_L = 0x06;
const PCA_FULL_BIT = 0x10;
const PCA_SLEEP = 0x10;

/** Awaits `p` while moving virtual time 1 ms at a time (the ADC drivers sleep for conversions). */
async function settle<T>(clock: VirtualClock, p: Promise<T>): Promise<T> {
  let done = false;
  void p.finally(() => (done = true)).catch(() => {});
  while (!done) await clock.advance(1);
  return p;
}

/** MCP23017 pins that are driven high: IODIR bit 0 (output) and OLAT bit 1. */
async function mcpHighPins(bus: I2cBusLike, address: number): Promise<number[]> {
  const word = async (reg: number) =>
    (await bus.readByte(address, reg)) | ((await bus.readByte(address, reg + 1)) << 8);
  const iodir = await word(MCP_IODIRA);
  const olat = await word(MCP_OLATA);
  return Array.from({ length: 16 }, (_, pin) => pin).filter(
    (pin) => (iodir & (1 << pin)) === 0 && (olat & (1 << pin)) !== 0,
  );
}

/** PCA9685 duty of each channel from its LEDn registers, as the pin sees it (0 while asleep). */
async function pcaDuties(bus: I2cBusLike, address: number, channels: number[]): Promise<number[]> {
  const mode1 = await bus.readByte(address, PCA_MODE1);
  const out: number[] = [];
  for (const ch of channels) {
    const r = async (i: number) => bus.readByte(address, PCA_LED0_ON_L + 4 * ch + i);
    const [onL, onH, offL, offH] = [await r(0), await r(1), await r(2), await r(3)];
    if (mode1 & PCA_SLEEP || offH & PCA_FULL_BIT) out.push(0);
    else if (onH & PCA_FULL_BIT) out.push(1);
    else out.push((((((offH & 0x0f) << 8) | offL) - (((onH & 0x0f) << 8) | onL) + 4096) % 4096) / 4096);
  }
  return out;
}

describe('safe-state function: I2C chips on the simulator-i2c buses', () => {
  async function energisedBoard() {
    const clock = new VirtualClock();
    const board = loadBoard('simulator-i2c');
    const running = await settle(clock, startBoard(board, clock, quiet));
    for (const st of running.io.stations) {
      st.pumpEnable.set(true);
      st.pumpPwm?.set(0.8);
      for (const z of st.zones) {
        z.inlet.set(true);
        z.exhaust.set(true);
      }
    }
    await settle(clock, running.io.flushAll());
    const sim = running.sim;
    assert.ok(sim);
    const bus = sim.buses['sim-i2c-1'];
    assert.ok(bus);
    // Starting point: valves energised on both banks, pumps running.
    assert.equal((await mcpHighPins(bus, 0x20)).length, 16);
    assert.deepEqual(await mcpHighPins(bus, 0x21), [0, 1]);
    assert.ok((await pcaDuties(bus, 0x40, [0, 1, 8, 9])).every((d) => d > 0.5));
    return { clock, board, sim, bus };
  }

  it('every MCP23017 output low and every PCA9685 channel at duty 0, from energised outputs', async () => {
    const { clock, board, sim, bus } = await energisedBoard();
    const report = await settle(
      clock,
      driveSafeState(board, { clock, log: quiet, simulatedI2c: sim.openI2c }),
    );
    assert.equal(report.ok, true, formatReport(report).join('\n'));
    assert.deepEqual(await mcpHighPins(bus, 0x20), []);
    assert.deepEqual(await mcpHighPins(bus, 0x21), []);
    assert.deepEqual(await pcaDuties(bus, 0x40, [0, 1, 8, 9]), [0, 0, 0, 0]);
    const byId = Object.fromEntries(report.devices.map((d) => [d.id, d.result]));
    assert.deepEqual(byId, {
      panel: 'skipped',
      valves0: 'safe',
      pumps: 'safe',
      adc0: 'skipped',
      adc1: 'skipped',
      adc2: 'skipped',
      valves1: 'safe',
    });
  });

  it('a chip that NACKs is reported, the others are still made safe', async () => {
    const { clock, board, sim, bus } = await energisedBoard();
    bus.setNack(0x21, true);
    const report = await settle(
      clock,
      driveSafeState(board, { clock, log: quiet, simulatedI2c: sim.openI2c }),
    );
    assert.equal(report.ok, false);
    const valves1 = report.devices.find((d) => d.id === 'valves1');
    assert.equal(valves1?.result, 'failed');
    assert.match(valves1?.detail ?? '', /no answer from 0x21 on bus "sim-i2c-1"/);
    assert.deepEqual(await mcpHighPins(bus, 0x20), []);
    assert.deepEqual(await pcaDuties(bus, 0x40, [0, 1, 8, 9]), [0, 0, 0, 0]);
    const lines = formatReport(report);
    assert.match(lines.at(-1) ?? '', /^NOT SAFE: valves1 could not be driven/);
  });

  it('without the simulated buses the simulator profiles have nothing physical to drive', async () => {
    for (const profile of ['simulator', 'simulator-i2c']) {
      const report = await driveSafeState(loadBoard(profile), { clock: new VirtualClock(), log: quiet });
      assert.equal(report.ok, true);
      assert.equal(report.nothingPhysical, true, profile);
      assert.match(formatReport(report).at(-1) ?? '', /is simulated: nothing physical to drive/);
    }
  });
});
