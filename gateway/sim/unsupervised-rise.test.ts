/**
 * The physics behind the late-tick rule's hard bound (LIMITS.loopLateHardMs, docs/safety.md §5):
 * how much a pump running unsupervised for the bound plus one tick can add to a chamber, and to
 * a blocked hose, on the simulator's pneumatics. The figures are printed as diagnostics and
 * docs/safety.md quotes them.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { GARMENT_CEILING_MMHG, LIMITS } from '../limits.js';
import { resolveStationParams, type GarmentClass } from './params.js';
import { StationModel } from './station-model.js';

/** The longest the outputs can go unsupervised below the bound: the bound plus one 100 Hz tick. */
const UNSUPERVISED_MS = LIMITS.loopLateHardMs.default + 10;

function model(garment: GarmentClass): StationModel {
  return new StationModel(resolveStationParams(garment, 1, { artefacts: { ratePerMin: 0 } }), 1);
}

/** The largest rise of `read` over any UNSUPERVISED_MS window of a fill from 0 to `toMmHg`. */
function worstRise(m: StationModel, read: () => number, toMmHg: number): number {
  m.setExhaust(0, true);
  m.setInlet(0, true);
  m.setPump(1);
  const trace: number[] = [];
  for (let t = 0; t < 60_000 && read() < toMmHg; t++) {
    m.advanceTo(m.timeMs + 1);
    trace.push(read());
  }
  let worst = 0;
  for (let i = UNSUPERVISED_MS; i < trace.length; i++) {
    worst = Math.max(worst, (trace[i] as number) - (trace[i - UNSUPERVISED_MS] as number));
  }
  return worst;
}

describe(`a pump running unsupervised for ${UNSUPERVISED_MS} ms`, () => {
  for (const garment of ['leg', 'thigh', 'arm', 'abdomen'] as const) {
    it(`adds less than the trip margin to a chamber of a ${garment} garment, at any point of a fill`, (t) => {
      const m = model(garment);
      const rise = worstRise(m, () => m.chamberMmHg(0), GARMENT_CEILING_MMHG[garment]);
      t.diagnostic(`${garment}: at most ${rise.toFixed(1)} mmHg in ${UNSUPERVISED_MS} ms`);
      assert.ok(
        rise < LIMITS.tripMarginMmHg.default,
        `${rise.toFixed(1)} mmHg, trip margin ${LIMITS.tripMarginMmHg.default}`,
      );
    });
  }

  it('drives a blocked hose to the relief valve, which only the hardware stops in time', (t) => {
    const m = model('leg');
    m.injectFault({ kind: 'blocked-hose', zone: 0 });
    m.setExhaust(0, true);
    m.setInlet(0, true);
    m.setPump(1);
    const relief = resolveStationParams('leg', 1).manifold.reliefMmHg ?? Number.POSITIVE_INFINITY;
    let toTrip: number | undefined;
    let toRelief: number | undefined;
    let peak = 0;
    for (let ms = 1; ms <= 2000; ms++) {
      m.advanceTo(m.timeMs + 1);
      const p = m.sensorPortMmHg(0);
      peak = Math.max(peak, m.manifoldMmHg());
      if (toTrip === undefined && p > LIMITS.tripMarginMmHg.default) toTrip = ms;
      if (toRelief === undefined && p >= 0.95 * relief) toRelief = ms;
    }
    t.diagnostic(
      `blocked hose, pump on: the sensor port passes ${LIMITS.tripMarginMmHg.default} mmHg after ${toTrip} ms and 95 % of the ${relief} mmHg relief pressure after ${toRelief} ms; the manifold peaks at ${peak.toFixed(0)} mmHg`,
    );
    assert.ok(
      toRelief !== undefined && toRelief < UNSUPERVISED_MS,
      'a blocked hose is faster than any tick rule',
    );
    assert.ok(peak <= relief * 1.05, 'the relief valve holds the manifold');
  });
});
