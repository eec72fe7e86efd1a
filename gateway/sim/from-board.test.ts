/**
 * The simulated boards end to end: the board loader, the drivers (for simulator-i2c the
 * production ADS1115/MCP23017/PCA9685 code over register-level chip models), and the physics,
 * in virtual time. These tests drive outputs directly to check the wiring; in the product only
 * the controller's safety supervisor does that.
 */
import { ConfigError } from '../config-error.js';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { VirtualClock } from '../clock.js';
import { loadBoard, PROFILE_DIR, validateBoard } from '../board/load.js';
import type { StationIo } from '../board/open.js';
import { startBoard, type RunningBoard } from '../board/runtime.js';
import { type Logger } from '../drivers/io.js';

const quiet: Logger = { info: () => {}, warn: () => {}, error: () => {} };
const TICK_MS = 10;

/** Awaits `p` while moving virtual time 1 ms at a time (drivers sleep for conversions). */
async function settle<T>(clock: VirtualClock, p: Promise<T>): Promise<T> {
  let done = false;
  void p.finally(() => (done = true)).catch(() => {});
  while (!done) await clock.advance(1);
  return p;
}

async function boot(profile: string) {
  const clock = new VirtualClock();
  const running = await settle(clock, startBoard(loadBoard(profile), clock, quiet));
  return { clock, ...running };
}

/**
 * Runs the I/O cycle the controller will run (sample, heartbeat, stage, flush) for `ms` of
 * virtual time. `stage` sets outputs each tick; `heartbeat: false` stops toggling it.
 */
async function runFor(
  b: { clock: VirtualClock } & RunningBoard,
  ms: number,
  stage: () => void = () => {},
  opts: { heartbeat?: boolean } = {},
) {
  const end = b.clock.now() + ms;
  let level = false;
  while (b.clock.now() < end) {
    const t0 = b.clock.now();
    await settle(b.clock, b.io.sampleAll());
    if (opts.heartbeat !== false) b.io.heartbeat?.set((level = !level));
    stage();
    await settle(b.clock, b.io.flushAll());
    const rest = t0 + TICK_MS - b.clock.now();
    if (rest > 0) await b.clock.advance(rest);
  }
}

/** Pump at full speed into `zone` (0-based) with its exhaust closed; other zones stay vented. */
function inflate(st: StationIo, zone: number): () => void {
  return () => {
    st.pumpEnable.set(true);
    st.pumpPwm?.set(1);
    st.zones[zone]?.inlet.set(true);
    st.zones[zone]?.exhaust.set(true);
  };
}

const reading = (st: StationIo, zone: number) => st.zones[zone]!.sensor.read();

describe('simulator board', () => {
  it('starts in the safe state with every zone near atmospheric pressure', async () => {
    const b = await boot('simulator');
    await runFor(b, 100);
    for (const st of b.io.stations) {
      const model = b.sim!.world.station(st.spec.id);
      assert.equal(model.pumpDuty, 0);
      for (let z = 0; z < st.zones.length; z++) {
        assert.equal(model.inletEnergised(z), false);
        assert.equal(model.exhaustEnergised(z), false);
        const r = reading(st, z);
        assert.equal(r.health, 'ok');
        // Uncalibrated sensor offset (±2 mmHg) plus noise, no pressure.
        assert.ok(Math.abs(r.mmHg) < 4, `${st.spec.id} z${z + 1} reads ${r.mmHg}`);
      }
    }
  });

  it('fills a leg chamber through the outputs and vents it in the safe state', async () => {
    const b = await boot('simulator');
    const st = b.io.stations[0]!;
    let t50: number | undefined;
    const t0 = b.clock.now();
    await runFor(b, 12_000, () => {
      inflate(st, 0)();
      if (t50 === undefined && reading(st, 0).mmHg >= 50) t50 = b.clock.now() - t0;
    });
    assert.ok(t50 !== undefined && t50 > 2000 && t50 < 11_000, `50 mmHg after ${t50} ms`);
    assert.ok(Math.abs(reading(st, 1).mmHg) < 6, 'the neighbouring zone stayed vented (coupling only)');
    await settle(b.clock, b.io.safeAll());
    await runFor(b, 3000);
    assert.ok(reading(st, 0).mmHg < 10, `vented to ${reading(st, 0).mmHg} mmHg`);
  });

  it('cuts pump and valve power when the heartbeat stops, and restores it when it returns', async () => {
    const b = await boot('simulator');
    const st = b.io.stations[0]!;
    const model = b.sim!.world.station(st.spec.id);
    await runFor(b, 8000, inflate(st, 0));
    const held = model.chamberMmHg(0);
    assert.ok(held > 20, `inflated to ${held} mmHg`);
    await runFor(b, 400, inflate(st, 0), { heartbeat: false });
    assert.equal(b.sim!.power.cut, true);
    assert.equal(model.pumpDuty, 0);
    assert.equal(model.exhaustEnergised(0), false, 'the normally-open exhaust is venting');
    assert.ok(model.chamberMmHg(0) < held, 'pressure falls once the power is cut');
    await runFor(b, 100, inflate(st, 0));
    assert.equal(b.sim!.power.cut, false);
    assert.ok(model.pumpDuty > 0);
  });

  it('a dropped station link fails its samples, and the module de-energises its outputs', async () => {
    const b = await boot('simulator');
    const st = b.io.stations[1]!;
    const model = b.sim!.world.station(st.spec.id);
    await runFor(b, 2000, inflate(st, 0));
    b.sim!.inject(st.spec.id, { kind: 'modbus-link-drop' });
    await runFor(b, 100, inflate(st, 0));
    const dev = st.devices[0]!;
    assert.equal(dev.health().state, 'offline');
    assert.match(dev.health().message ?? '', /link to the I\/O module of bay-2 lost/);
    assert.equal(reading(st, 0).health, 'error');
    assert.equal(model.exhaustEnergised(0), true, 'outputs hold until the module watchdog');
    await runFor(b, 600, inflate(st, 0));
    assert.equal(model.exhaustEnergised(0), false);
    assert.equal(model.pumpDuty, 0);
    // Other stations are untouched.
    assert.equal(b.io.stations[0]!.devices[0]!.health().state, 'ok');
    b.sim!.clear(st.spec.id, 'modbus-link-drop');
    await runFor(b, 50);
    assert.equal(dev.health().state, 'ok');
    assert.equal(reading(st, 0).health, 'ok');
  });

  it('the emergency-stop fault presses the debounced e-stop input', async () => {
    const b = await boot('simulator');
    await runFor(b, 50);
    assert.equal(b.io.estop?.value, false);
    b.sim!.inject('bay-3', { kind: 'estop' });
    await runFor(b, 50);
    assert.equal(b.io.estop?.value, true);
    b.sim!.clear('bay-3', 'estop');
    await runFor(b, 50);
    assert.equal(b.io.estop?.value, false);
  });

  it('a sim-station used by another station is a config error', () => {
    const raw = JSON.parse(readFileSync(join(PROFILE_DIR, 'simulator.json'), 'utf8')) as {
      stations: { zones: { sensor: string }[] }[];
    };
    raw.stations[1]!.zones[0]!.sensor = 'io-bay-1:z6.pressure';
    const board = validateBoard(
      { ...raw, stations: raw.stations.slice(0, 2), simulator: { seed: 1 } },
      'x.json',
    );
    const clock = new VirtualClock();
    return assert.rejects(startBoard(board, clock, quiet), (e: unknown) => {
      assert.ok(e instanceof ConfigError);
      assert.equal(
        e.message,
        'stations[1].zones[0].sensor: io-bay-1 is the simulated I/O of station "bay-1", not of "bay-2" (give station "bay-2" its own sim-station device)',
      );
      return true;
    });
  });
});

describe('simulator-i2c board: production chip drivers over register-level models', () => {
  it('fills and vents through MCP23017 valves, PCA9685 pump speed and ADS1115 sensors', async () => {
    const b = await boot('simulator-i2c');
    const st = b.io.stations[0]!;
    await runFor(b, 200);
    assert.ok(Math.abs(reading(st, 0).mmHg) < 4, `idle reading ${reading(st, 0).mmHg}`);
    const bus = b.sim!.buses['sim-i2c-1']!;
    const logStart = bus.log.length;
    // Fill to 50 mmHg, then hold with every valve shut and the pump off.
    let filled = false;
    await runFor(b, 12_000, () => {
      if (reading(st, 0).mmHg >= 50) filled = true;
      if (!filled) inflate(st, 0)();
      else {
        st.pumpEnable.set(false);
        st.pumpPwm?.set(0);
        st.zones[0]!.inlet.set(false);
      }
    });
    assert.ok(filled, `reached only ${reading(st, 0).mmHg} mmHg`);
    // The physics and the driver agree within the sensor's offset and noise.
    const truth = b.sim!.world.station('bay-1').chamberMmHg(0);
    assert.ok(truth > 40, `chamber holds ${truth} mmHg`);
    assert.ok(Math.abs(reading(st, 0).mmHg - truth) < 4, `sensor ${reading(st, 0).mmHg} vs chamber ${truth}`);
    const log = bus.log.slice(logStart);
    assert.ok(
      log.some((l) => l.startsWith('W 20 14')),
      'valve bank written as one OLATA/OLATB block',
    );
    assert.ok(
      log.some((l) => l.startsWith('W 48 01')),
      'ADS1115 single-shot config writes',
    );
    await settle(b.clock, b.io.safeAll());
    await runFor(b, 3000);
    assert.ok(reading(st, 0).mmHg < 10, `vented to ${reading(st, 0).mmHg}`);
  });

  it('an injected i2c-nack fails that sensor chip, and it recovers when cleared', async () => {
    const b = await boot('simulator-i2c');
    const bay1 = b.io.stations[0]!;
    const bay2 = b.io.stations[1]!;
    await runFor(b, 50);
    b.sim!.inject('bay-1', { kind: 'i2c-nack', zone: 0 });
    await runFor(b, 50);
    assert.equal(reading(bay1, 0).health, 'error');
    assert.match(reading(bay1, 0).detail ?? '', /EREMOTEIO/);
    assert.equal(reading(bay2, 3).health, 'ok', 'a sensor on another chip still reads');
    b.sim!.clear('bay-1', 'i2c-nack');
    await runFor(b, 50);
    assert.equal(reading(bay1, 0).health, 'ok');
  });
});
