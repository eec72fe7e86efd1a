import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { defaultStationParams, resolveStationParams, type StationParamsOverride } from './params.js';

describe('station parameters', () => {
  it('defaults follow the §7 table per garment class', () => {
    const leg = defaultStationParams('leg', 5);
    assert.deepEqual(leg.pump, {
      freeFlowLPerMin: 4,
      maxPressureMmHg: 500,
      spinUpTauMs: 50,
      deadZoneDuty: 0.25,
    });
    assert.deepEqual(leg.manifold, {
      volumeMl: 10,
      reliefMmHg: 300,
      reliefOrificeMm: 1.5,
      reliefBandMmHg: 10,
    });
    assert.equal(leg.valves.inletOrificeMm, 1.2);
    assert.equal(leg.valves.exhaustOrificeMm, 1.6);
    assert.equal(leg.valves.openDelayMs, 10);
    assert.equal(leg.valves.closeDelayMs, 15);
    assert.equal(leg.valves.timingJitter, 0.2);
    assert.equal(leg.chambers.length, 5);
    assert.deepEqual(leg.chambers[0], {
      residualMl: 30,
      slackMl: 300,
      slackMmHg: 5,
      wallMlPerMmHg: 1.5,
      leakMmHgPerMinAt50: 10,
    });
    assert.equal(leg.couplingKappa, 0.05);
    assert.deepEqual(leg.thermal, { epsilon: 0.03, tauMs: 2000 });
    assert.equal(leg.sensor.noiseMmHg, 0.3);
    assert.equal(leg.sensor.offsetRangeMmHg, 2);
    assert.equal(leg.integration.stepMs, 1);
    const arm = defaultStationParams('arm', 1);
    assert.deepEqual(
      [
        arm.pump.freeFlowLPerMin,
        arm.pump.maxPressureMmHg,
        arm.valves.inletOrificeMm,
        arm.valves.exhaustOrificeMm,
      ],
      [2, 400, 1.0, 1.2],
    );
    assert.deepEqual(
      [
        arm.chambers[0]?.residualMl,
        arm.chambers[0]?.slackMl,
        arm.chambers[0]?.slackMmHg,
        arm.chambers[0]?.wallMlPerMmHg,
      ],
      [20, 150, 5, 0.5],
    );
    const thigh = defaultStationParams('thigh', 1).chambers[0];
    assert.deepEqual(
      [thigh?.residualMl, thigh?.slackMl, thigh?.slackMmHg, thigh?.wallMlPerMmHg],
      [50, 600, 6, 3.0],
    );
  });

  it('overrides any subset deeply, per zone too, and leaves the rest at the class defaults', () => {
    const p = resolveStationParams('leg', 3, {
      pump: { freeFlowLPerMin: 6 },
      manifold: { reliefMmHg: null },
      chamber: { leakMmHgPerMinAt50: 4 },
      chambers: [undefined, { slackMl: 200 }],
      sensor: { location: 'chamber', offsetMmHg: 0 },
      integration: { adaptive: false },
    });
    assert.equal(p.pump.freeFlowLPerMin, 6);
    assert.equal(p.pump.maxPressureMmHg, 500);
    assert.equal(p.manifold.reliefMmHg, null);
    assert.deepEqual(
      p.chambers.map((c) => [c.slackMl, c.leakMmHgPerMinAt50]),
      [
        [300, 4],
        [200, 4],
        [300, 4],
      ],
    );
    assert.equal(p.sensor.location, 'chamber');
    assert.equal(p.sensor.offsetMmHg, 0);
    assert.equal(p.integration.adaptive, false);
    const mixed = resolveStationParams('leg', 2, undefined, ['arm', 'thigh']);
    assert.deepEqual(mixed.zoneGarments, ['arm', 'thigh']);
    assert.equal(mixed.chambers[0]?.slackMl, 150);
    assert.equal(mixed.chambers[1]?.slackMl, 600);
    assert.equal(mixed.pump.freeFlowLPerMin, 4, 'the station garment sizes the pump');
  });

  it('names the parameter path of unknown keys, wrong types and out-of-range values', () => {
    const bad: [StationParamsOverride | Record<string, unknown>, RegExp][] = [
      [{ pump: { flow: 4 } }, /params\.pump\.flow: unknown parameter/],
      [{ pumps: {} }, /params\.pumps: unknown parameter/],
      [{ pump: { freeFlowLPerMin: '4' } }, /params\.pump\.freeFlowLPerMin: expected a number/],
      [{ pump: 4 }, /params\.pump: expected an object/],
      [{ sensor: { location: 'manifold' } }, /sensor\.location/],
      [{ integration: { adaptive: 'yes' } }, /expected a boolean/],
      [{ valves: { timingJitter: 2 } }, /valves\.timingJitter: 2 is outside/],
      [{ couplingKappa: Number.NaN }, /couplingKappa/],
      [{ chambers: [{}, {}, {}] }, /params\.chambers: expected an array of at most 2/],
      [{ chambers: [{ slackMmHg: 0 }] }, /chambers\[0\]\.slackMmHg/],
      [{ artefacts: { minMmHg: 10, maxMmHg: 5 } }, /artefacts\.maxMmHg/],
      [{ zones: 4 }, /params\.zones/],
    ];
    for (const [o, re] of bad) {
      assert.throws(() => resolveStationParams('leg', 2, o as StationParamsOverride), re, JSON.stringify(o));
    }
    assert.throws(() => resolveStationParams('leg', 0), /zones/);
    assert.throws(() => resolveStationParams('leg', 2, undefined, ['leg']), /zoneGarments/);
    assert.throws(() => resolveStationParams('boot' as 'leg', 2), /garment/);
  });
});
