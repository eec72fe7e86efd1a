import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { GARMENT_CEILING_MMHG } from '../../limits.js';
import { ProgramRefusedError, startableTargets, targetsFor } from './plan.js';
import { ZONE_FLOOR_MMHG } from './profile.js';
import { testProgram } from './test-support/fake-regulator.js';

const targets = (plan: ReturnType<typeof targetsFor>) => plan.zones.map((z) => z.targetMmHg);

describe('targetsFor', () => {
  test('gradient: the distal zone gets the base pressure and each zone towards the heart one step less', () => {
    const p = testProgram({ mode: 'gradient', pressureMmHg: 60, gradientStepMmHg: 10 });
    assert.deepEqual(targets(targetsFor(p, 4, { ceilingMmHg: 100 })), [60, 50, 40, 30]);
    const p5 = testProgram({ mode: 'gradient', pressureMmHg: 60, gradientStepMmHg: 5 });
    assert.deepEqual(targets(targetsFor(p5, 5, { ceilingMmHg: 100 })), [60, 55, 50, 45, 40]);
  });

  test('a long gradient stops at the working floor instead of running towards zero', () => {
    const p = testProgram({ mode: 'gradient', pressureMmHg: 60, gradientStepMmHg: 10 });
    const t = targets(targetsFor(p, 8, { ceilingMmHg: 100 }));
    assert.deepEqual(t, [60, 50, 40, 30, 20, 20, 20, 20]);
    assert.equal(Math.min(...t), ZONE_FLOOR_MMHG);
  });

  test('offsets, boost and skips (program and session) shape the profile; skipped zones get 0', () => {
    const p = testProgram({
      zoneOffsetsMmHg: [0, 5, -5],
      boostZones: [{ zone: 3, extraMmHg: 10 }],
      skipZones: [5],
    });
    const plan = targetsFor(p, 5, { ceilingMmHg: 100, skipZones: [4] });
    assert.deepEqual(targets(plan), [40, 45, 45, 0, 0]);
    assert.deepEqual(
      plan.zones.map((z) => z.skipped),
      [false, false, false, true, true],
    );
    assert.deepEqual(plan.violations, []);
  });

  test('the session pressure replaces the program base pressure', () => {
    const p = testProgram({ mode: 'gradient', pressureMmHg: 60, gradientStepMmHg: 5 });
    assert.deepEqual(targets(targetsFor(p, 3, { ceilingMmHg: 100, pressureMmHg: 50 })), [50, 45, 40]);
  });

  test('a target over the ceiling is a violation naming the zone, and the returned target is clamped', () => {
    const p = testProgram({ mode: 'gradient', pressureMmHg: 100, gradientStepMmHg: 10 });
    const plan = targetsFor(p, 4, { ceilingMmHg: 85 });
    assert.deepEqual(targets(plan), [85, 85, 80, 70]);
    assert.deepEqual(
      plan.violations.map((v) => [v.zone, v.wantedMmHg, v.ceilingMmHg]),
      [
        [1, 100, 85],
        [2, 90, 85],
      ],
    );
    assert.match(plan.violations[0]?.reason ?? '', /zone 1 would need 100 mmHg, above the 85 mmHg ceiling/);
    assert.throws(
      () => startableTargets(plan),
      (e: unknown) =>
        e instanceof ProgramRefusedError && /zone 1/.test(e.message) && e.violations.length === 2,
    );
  });

  test('a boost over the ceiling is refused, not silently clamped', () => {
    const p = testProgram({ pressureMmHg: 70, boostZones: [{ zone: 2, extraMmHg: 20 }] });
    const plan = targetsFor(p, 3, { ceilingMmHg: 80 });
    assert.deepEqual(
      plan.violations.map((v) => v.zone),
      [2],
    );
  });

  test('the garment-class ceiling applies even when the session ceiling is higher', () => {
    const p = testProgram({ garments: ['abdomen'], pressureMmHg: 60 });
    const plan = targetsFor(p, 3, { ceilingMmHg: 120, garment: 'abdomen', pressureMmHg: 85 });
    assert.equal(plan.ceilingMmHg, GARMENT_CEILING_MMHG.abdomen);
    assert.deepEqual(
      plan.violations.map((v) => v.zone),
      [1, 2, 3],
    );
  });

  test('skipping every zone, a zone the garment lacks, or a program for another garment is refused', () => {
    const p = testProgram({ skipZones: [1, 2] });
    assert.match(
      targetsFor(p, 3, { ceilingMmHg: 100, skipZones: [3] }).violations[0]?.reason ?? '',
      /every zone/,
    );
    assert.match(
      targetsFor(p, 3, { ceilingMmHg: 100, skipZones: [7] }).violations[0]?.reason ?? '',
      /zone 7 does not exist/,
    );
    const legs = testProgram({ garments: ['leg'] });
    assert.match(
      targetsFor(legs, 3, { ceilingMmHg: 100, garment: 'arm' }).violations[0]?.reason ?? '',
      /made for leg, not for arm garments/,
    );
    const boost = testProgram({ boostZones: [{ zone: 6, extraMmHg: 5 }] });
    assert.match(targetsFor(boost, 4, { ceilingMmHg: 100 }).violations[0]?.reason ?? '', /zone 6/);
  });

  test('an unusable session pressure or ceiling is refused and never yields NaN targets', () => {
    const p = testProgram();
    for (const plan of [
      targetsFor(p, 3, { ceilingMmHg: Number.NaN }),
      targetsFor(p, 3, { ceilingMmHg: 100, pressureMmHg: Number.NaN }),
      targetsFor(p, 3, { ceilingMmHg: 100, pressureMmHg: 5 }),
    ]) {
      assert.ok(plan.violations.length > 0);
      assert.ok(plan.zones.every((z) => Number.isFinite(z.targetMmHg)));
    }
  });

  test('a clean plan is startable', () => {
    const plan = targetsFor(testProgram(), 4, { ceilingMmHg: 100, garment: 'leg' });
    assert.deepEqual(startableTargets(plan), plan.zones);
  });
});
