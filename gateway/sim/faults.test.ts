/**
 * Every fault kind shows its physical effect (or raises its flag), and fault requests are
 * validated. Zones are 0-based.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseFault, SIM_FAULT_KINDS, SimFaultError, type SimFault } from './faults.js';
import { resolveStationParams, type StationParamsOverride } from './params.js';
import { StationModel } from './station-model.js';

function leg(zones = 2, override: StationParamsOverride = {}, seed = 3): StationModel {
  return new StationModel(
    resolveStationParams('leg', zones, { ...override, artefacts: { ratePerMin: 0, ...override.artefacts } }),
    seed,
  );
}

function fill(m: StationModel, zone: number, target: number): void {
  m.setExhaust(zone, true);
  m.setInlet(zone, true);
  m.setPump(1);
  while (m.chamberMmHg(zone) < target && m.timeMs < 60_000) m.advanceTo(m.timeMs + 1);
  m.setInlet(zone, false);
  m.setPump(0);
}

/** Pressure decay rate over `ms` starting now, mmHg/min. */
function decayRate(m: StationModel, zone: number, ms: number): number {
  const p0 = m.chamberMmHg(zone);
  m.advanceTo(m.timeMs + ms);
  return ((p0 - m.chamberMmHg(zone)) / ms) * 60_000;
}

describe('fault catalogue', () => {
  it('lists every kind once with a one-line description', () => {
    const kinds = SIM_FAULT_KINDS.map((k) => k.kind);
    assert.deepEqual(kinds.sort(), [
      'blocked-hose',
      'estop',
      'hose-disconnected',
      'i2c-nack',
      'leak',
      'modbus-link-drop',
      'pump-dead',
      'pump-weak',
      'sensor-disconnected',
      'sensor-drift',
      'sensor-stuck',
      'valve-stuck-closed',
      'valve-stuck-open',
    ]);
    for (const k of SIM_FAULT_KINDS) {
      assert.ok(k.description.length > 20 && !k.description.includes('\n'), k.kind);
      assert.ok(k.description.length < 120, `${k.kind}: one line`);
    }
  });

  it('validates kind, zone and parameters, and fills in defaults', () => {
    assert.deepEqual(parseFault({ kind: 'leak', zone: 1 }, 4), { kind: 'leak', zone: 1, mmHgPerMin: 60 });
    assert.deepEqual(parseFault({ kind: 'pump-weak' }, 4), { kind: 'pump-weak', flowFactor: 0.3 });
    assert.deepEqual(parseFault({ kind: 'valve-stuck-open', zone: 0 }, 4), {
      kind: 'valve-stuck-open',
      zone: 0,
      valve: 'inlet',
    });
    assert.deepEqual(parseFault({ kind: 'i2c-nack' }, 4), { kind: 'i2c-nack' });
    const bad: [unknown, RegExp][] = [
      [{ kind: 'leek', zone: 0 }, /unknown kind "leek"/],
      [{ kind: 'leak' }, /needs a zone/],
      [{ kind: 'leak', zone: 4 }, /zone: expected an integer 0\.\.3, got 4/],
      [{ kind: 'leak', zone: -1 }, /zone/],
      [{ kind: 'leak', zone: 1.5 }, /zone/],
      [{ kind: 'pump-dead', zone: 0 }, /unexpected field 'zone'/],
      [{ kind: 'leak', zone: 0, rate: 5 }, /unexpected field 'rate'/],
      [{ kind: 'leak', zone: 0, mmHgPerMin: -5 }, /mmHgPerMin/],
      [{ kind: 'pump-weak', flowFactor: 2 }, /flowFactor/],
      [{ kind: 'sensor-drift', zone: 0, mmHgPerS: 'fast' }, /mmHgPerS/],
      [{ kind: 'valve-stuck-open', zone: 0, valve: 'pump' }, /valve/],
      ['leak', /expected an object/],
    ];
    for (const [raw, re] of bad) {
      assert.throws(
        () => parseFault(raw, 4),
        (e: unknown) => e instanceof SimFaultError && re.test(e.message),
        JSON.stringify(raw),
      );
    }
  });

  it('re-injecting replaces; clearing one kind leaves the others; clearing all empties the station', () => {
    const m = leg(3);
    m.injectFault({ kind: 'leak', zone: 0, mmHgPerMin: 100 });
    m.injectFault({ kind: 'leak', zone: 0, mmHgPerMin: 200 });
    m.injectFault({ kind: 'leak', zone: 2 });
    m.injectFault({ kind: 'pump-weak' });
    assert.equal(m.faults().length, 3);
    assert.deepEqual(
      m.faults().find((f) => f.kind === 'leak' && f.zone === 0),
      { kind: 'leak', zone: 0, mmHgPerMin: 200, sinceMs: 0 },
    );
    // A valve is either stuck open or stuck closed.
    m.injectFault({ kind: 'valve-stuck-open', zone: 1, valve: 'exhaust' });
    m.injectFault({ kind: 'valve-stuck-closed', zone: 1, valve: 'exhaust' });
    assert.equal(m.faults().filter((f) => f.kind.startsWith('valve-stuck')).length, 1);
    assert.equal(m.clearFault('leak', 2), 1);
    assert.equal(m.clearFault('leak'), 1);
    assert.deepEqual(
      m.faults().map((f) => f.kind),
      ['pump-weak', 'valve-stuck-closed'],
    );
    assert.equal(m.clearFault(), 2);
    assert.deepEqual(m.faults(), []);
    assert.throws(() => m.injectFault({ kind: 'estop' }), /world-wide/);
  });
});

describe('physical faults', () => {
  it('leak: an injected leak decays a held chamber at the configured extra rate (±20 %)', (t) => {
    const rates: number[] = [];
    for (const extra of [0, 60, 200]) {
      const m = leg(1);
      fill(m, 0, 53);
      m.advanceTo(m.timeMs + 6000); // thermal settling first (§1.6: wait ~5 s before judging a leak)
      while (m.chamberMmHg(0) > 51) m.advanceTo(m.timeMs + 10);
      if (extra > 0) m.injectFault({ kind: 'leak', zone: 0, mmHgPerMin: extra });
      // A short window around 50 mmHg, where leak rates are specified.
      rates.push(decayRate(m, 0, 500));
    }
    const [base = 0, r60 = 0, r200 = 0] = rates;
    t.diagnostic(
      `held at ≈ 50 mmHg: healthy ${base.toFixed(1)} mmHg/min; with +60 fault ${r60.toFixed(1)}; with +200 fault ${r200.toFixed(1)}`,
    );
    assert.ok(Math.abs(base - 10) <= 2, `healthy leak ${base} mmHg/min (default 10)`);
    assert.ok(Math.abs(r60 - base - 60) <= 12, `extra leak ${r60 - base} mmHg/min`);
    assert.ok(Math.abs(r200 - base - 200) <= 40, `extra leak ${r200 - base} mmHg/min`);
  });

  it('hose-disconnected: a full chamber dumps at ≫ 600 mmHg/min, pressure never builds, the sensor reads ~0', (t) => {
    const m = leg(2);
    fill(m, 0, 50);
    m.advanceTo(m.timeMs + 100);
    m.injectFault({ kind: 'hose-disconnected', zone: 0 });
    const initial = decayRate(m, 0, 100);
    m.advanceTo(m.timeMs + 1000);
    const after1 = m.chamberMmHg(0);
    m.advanceTo(m.timeMs + 4000);
    t.diagnostic(
      `disconnected hose: initial decay ${initial.toFixed(0)} mmHg/min; ${after1.toFixed(2)} mmHg after 1.1 s, ${m.chamberMmHg(0).toFixed(2)} after 5.1 s`,
    );
    assert.ok(initial > 600, `${initial} mmHg/min`);
    assert.ok(after1 < 6 && m.chamberMmHg(0) < 1);
    // Filling now blows the air out of the loose hose end.
    m.setExhaust(0, true);
    m.setInlet(0, true);
    m.setPump(1);
    m.advanceTo(m.timeMs + 5000);
    assert.ok(m.chamberMmHg(0) < 1, `chamber ${m.chamberMmHg(0)}`);
    assert.ok(m.pumpFlowMlPerS() > 40, 'the pump runs free');
    const reading = m.sense(0).mmHg - m.sensorCalibration(0).offsetMmHg;
    assert.ok(reading < 10, `valve-block sensor reads ${reading} (only the hose drop)`);
    assert.ok(Math.abs(m.chamberMmHg(1)) < 0.1, 'the other zone feels only limb coupling');
    // Reconnected, it fills again.
    m.clearFault('hose-disconnected');
    m.advanceTo(m.timeMs + 6000);
    assert.ok(m.chamberMmHg(0) > 20, `refilled to ${m.chamberMmHg(0)}`);
  });

  it('blocked-hose: the chamber neither fills nor vents, and the valve-block sensor sees the manifold', () => {
    const m = leg(2, { thermal: { epsilon: 0 }, chamber: { leakMmHgPerMinAt50: 0 } });
    fill(m, 0, 30);
    m.advanceTo(m.timeMs + 100);
    m.injectFault({ kind: 'blocked-hose', zone: 0 });
    const p0 = m.chamberMmHg(0);
    m.setExhaust(0, false); // try to vent (only limb coupling from the venting neighbour moves it)
    m.advanceTo(m.timeMs + 3000);
    assert.ok(Math.abs(m.chamberMmHg(0) - p0) < 0.1, `vent blocked: ${p0} → ${m.chamberMmHg(0)}`);
    m.setExhaust(0, true);
    m.setInlet(0, true);
    m.setPump(1);
    m.advanceTo(m.timeMs + 2000);
    assert.ok(Math.abs(m.chamberMmHg(0) - p0) < 0.1, 'fill blocked');
    // The blocked zone is the only open path: the pump dead-heads and the relief opens; the
    // valve-block tap sees the manifold (the "fast over-pressure" signature of a kinked hose).
    assert.ok(m.manifoldMmHg() > 250);
    assert.ok(m.sensorPortMmHg(0) > 250, `tap ${m.sensorPortMmHg(0)}`);
    m.clearFault('blocked-hose', 0);
    m.advanceTo(m.timeMs + 500);
    assert.ok(m.chamberMmHg(0) > p0 + 5, 'flows again when cleared');
  });

  it('valve-stuck-open (inlet): the zone keeps filling after its inlet is released', () => {
    const m = leg(2);
    m.injectFault({ kind: 'valve-stuck-open', zone: 0 });
    m.setExhaust(0, true);
    m.setPump(1); // inlet never energised
    m.advanceTo(8000);
    assert.ok(m.chamberMmHg(0) > 40, `chamber ${m.chamberMmHg(0)}`);
    assert.equal(m.inletEnergised(0), false);
    assert.equal(m.inletOpenFraction(0), 1);
    // Stuck open exhaust: a sealed chamber cannot hold.
    const x = leg(1);
    fill(x, 0, 40);
    x.injectFault({ kind: 'valve-stuck-open', zone: 0, valve: 'exhaust' });
    x.advanceTo(x.timeMs + 3000);
    assert.ok(x.chamberMmHg(0) < 10);
  });

  it('valve-stuck-closed (exhaust): a chamber cannot vent', () => {
    const m = leg(1, { thermal: { epsilon: 0 } });
    fill(m, 0, 50);
    m.injectFault({ kind: 'valve-stuck-closed', zone: 0 });
    m.setExhaust(0, false);
    m.advanceTo(m.timeMs + 5000);
    assert.ok(m.chamberMmHg(0) > 48, `chamber ${m.chamberMmHg(0)}`);
    assert.equal(m.exhaustOpenFraction(0), 0);
    m.clearFault('valve-stuck-closed');
    m.advanceTo(m.timeMs + 3000);
    assert.ok(m.chamberMmHg(0) < 10, 'vents once freed');
    // Stuck closed inlet: no fill.
    const x = leg(1);
    x.injectFault({ kind: 'valve-stuck-closed', zone: 0, valve: 'inlet' });
    fill(x, 0, 1000);
    assert.ok(x.chamberMmHg(0) < 0.01);
  });

  it('pump-dead: no flow; pump-weak: 30 % of the flow and a slower fill', (t) => {
    const dead = leg(1);
    dead.injectFault({ kind: 'pump-dead' });
    dead.setExhaust(0, true);
    dead.setInlet(0, true);
    dead.setPump(1);
    dead.advanceTo(3000);
    assert.equal(dead.pumpFlowMlPerS(), 0);
    assert.equal(dead.chamberMmHg(0), 0);

    const times: number[] = [];
    for (const weak of [false, true]) {
      const m = leg(1);
      if (weak) m.injectFault({ kind: 'pump-weak' });
      m.setExhaust(0, true);
      m.setInlet(0, true);
      m.setPump(1);
      m.advanceTo(1000);
      if (weak) {
        const expected = 0.3 * (4000 / 60) * (1 - m.manifoldMmHg() / 500);
        assert.ok(
          Math.abs(m.pumpFlowMlPerS() - expected) < 1e-3 * expected,
          `${m.pumpFlowMlPerS()} vs ${expected}`,
        );
      }
      while (m.chamberMmHg(0) < 30 && m.timeMs < 120_000) m.advanceTo(m.timeMs + 10);
      times.push(m.timeMs);
    }
    t.diagnostic(`0→30 mmHg: healthy pump ${times[0]} ms, weak pump ${times[1]} ms`);
    assert.ok((times[1] ?? 0) > 2.5 * (times[0] ?? 0));
  });

  it('sensor-stuck holds its last reading while the pressure changes', () => {
    const m = leg(1);
    fill(m, 0, 40);
    const last = m.sense(0).mmHg;
    m.injectFault({ kind: 'sensor-stuck', zone: 0 });
    m.setExhaust(0, false);
    m.advanceTo(m.timeMs + 3000);
    assert.ok(m.chamberMmHg(0) < 10);
    for (let i = 0; i < 5; i++) assert.equal(m.sense(0).mmHg, last);
    m.clearFault('sensor-stuck');
    assert.ok(Math.abs(m.sense(0).mmHg - m.chamberMmHg(0)) < 4);
  });

  it('sensor-drift moves the reading away from the truth at the configured rate', () => {
    const m = leg(1, { sensor: { noiseMmHg: 0 } });
    const before = m.sense(0).mmHg;
    m.injectFault({ kind: 'sensor-drift', zone: 0 });
    m.advanceTo(m.timeMs + 5000);
    assert.ok(
      Math.abs(m.sense(0).mmHg - before - 10) < 1e-6,
      `+2 mmHg/s for 5 s: ${m.sense(0).mmHg - before}`,
    );
    assert.equal(m.chamberMmHg(0), 0, 'the chamber itself is untouched');
    m.injectFault({ kind: 'sensor-drift', zone: 0, mmHgPerS: -0.5 }); // restarts from now
    m.advanceTo(m.timeMs + 2000);
    assert.ok(Math.abs(m.sense(0).mmHg - before + 1) < 1e-6);
    m.clearFault('sensor-drift', 0);
    assert.ok(Math.abs(m.sense(0).mmHg - before) < 1e-6);
  });

  it('sensor-disconnected: readings are not connected (NaN) until reconnected', () => {
    const m = leg(2);
    m.injectFault({ kind: 'sensor-disconnected', zone: 1 });
    const r = m.sense(1);
    assert.equal(r.connected, false);
    assert.ok(Number.isNaN(r.mmHg));
    assert.equal(m.sense(0).connected, true);
    m.clearFault('sensor-disconnected');
    assert.equal(m.sense(1).connected, true);
  });
});

describe('flags for the I/O layer', () => {
  it('i2c-nack (zone or station) and modbus-link-drop raise flags and change no physics', () => {
    const run = (faults: SimFault[]) => {
      const m = leg(3);
      for (const f of faults) m.injectFault(f);
      fill(m, 1, 40);
      return m;
    };
    const m = run([{ kind: 'i2c-nack', zone: 2 }]);
    assert.equal(m.flagActive('i2c-nack', 2), true);
    assert.equal(m.flagActive('i2c-nack', 1), false);
    assert.equal(m.flagActive('i2c-nack'), false, 'no station-wide NACK');
    assert.equal(m.flagActive('modbus-link-drop'), false);
    m.injectFault({ kind: 'i2c-nack' });
    assert.equal(m.flagActive('i2c-nack'), true);
    assert.equal(m.flagActive('i2c-nack', 0), true, 'a station-wide NACK covers every zone');
    m.injectFault({ kind: 'modbus-link-drop' });
    assert.equal(m.flagActive('modbus-link-drop'), true);
    // Same physics as without the flags.
    const plain = run([]);
    const flagged = run([{ kind: 'i2c-nack' }, { kind: 'modbus-link-drop' }]);
    assert.equal(flagged.chamberMmHg(1), plain.chamberMmHg(1));
    assert.equal(flagged.sense(1).mmHg, plain.sense(1).mmHg);
  });
});
