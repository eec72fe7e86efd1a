import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { targetsFor } from './plan.js';
import { rampFactor } from './ramp.js';
import { ProgramRunner } from './runner.js';
import { at, commands, fillStarts, rig, testProgram } from './test-support/fake-regulator.js';

describe('ramp-up', () => {
  test('the curve is linear from the start fraction to full, reached in cycle rampUpCycles + 1', () => {
    const p = { rampUpCycles: 4, rampStartFraction: 0.5 };
    assert.deepEqual(
      [1, 2, 3, 4, 5, 6].map((c) => rampFactor(p, c)),
      [0.5, 0.625, 0.75, 0.875, 1, 1],
    );
    assert.equal(rampFactor({}, 1), 1, 'no ramp-up: full pressure from the first cycle');
  });

  test('cycles 1 and 2 run at 60 % and 80 % of the targets, cycle 3 at full', () => {
    // 2 zones: each cycle is 2 s of fills + 5 s hold + 4 s release + 3 s rest = 14 s.
    const r = rig(testProgram({ rampUpCycles: 2 }), 2);
    r.runTo(45_000);
    const held = [2000, 16_000, 30_000].map((t) => at(r.trace, t));
    assert.deepEqual(
      held.map((o) => [o.cycle, o.phase.kind]),
      [
        [1, 'holding'],
        [2, 'holding'],
        [3, 'holding'],
      ],
    );
    held.forEach((o, i) => {
      const want = [0.6, 0.8, 1][i] ?? NaN;
      assert.ok(Math.abs(o.rampFactor - want) < 1e-9, `cycle ${o.cycle} factor ${o.rampFactor}`);
      for (const z of o.zones) assert.ok(Math.abs(z.targetMmHg - 40 * want) < 1e-9, `${z.targetMmHg} mmHg`);
    });
  });
});

describe('inflateMaxS', () => {
  test('a zone that never reaches its target is given up after inflateMaxS and the next zone fills', () => {
    const r = rig(testProgram({ inflateMaxS: 3 }), 4, { fillMs: (z) => (z === 2 ? Infinity : 1000) });
    r.runTo(6000);
    assert.deepEqual(fillStarts(r.trace), [
      [1, 0],
      [2, 1000],
      [3, 4000],
      [4, 5000],
    ]);
    assert.deepEqual(
      at(r.trace, 4000).zones[1],
      { command: 'hold', targetMmHg: 40 },
      'it keeps its target (top-ups); the supervisor judges the fault',
    );
  });
});

describe('session duration', () => {
  // 4 zones, hold 30 s: cycle 1 runs 0–41 s; cycle 2 fills from 41 s and holds from 45 s.
  const long = () => testProgram({ durationMin: 1, holdS: 30 });

  test('time up mid-hold goes to releasing, and the session is done once that release has finished', () => {
    const r = rig(long(), 4);
    r.runTo(70_000);
    assert.equal(at(r.trace, 59_900).phase.kind, 'holding');
    const cut = at(r.trace, 60_000);
    assert.equal(cut.phase.kind, 'releasing');
    assert.equal(commands(cut), 'vvvv');
    assert.equal(at(r.trace, 63_900).done, false);
    const end = at(r.trace, 64_000);
    assert.equal(end.done, true);
    assert.equal(commands(end), 'vvvv');
    assert.equal(end.cyclesDone, 1, 'the cut cycle does not count as done');
    assert.equal(at(r.trace, 70_000).done, true);
    assert.equal(r.runner.elapsedMs(70_000), 64_000, 'the clock stops at the end');
    assert.equal(r.runner.remainingMs(70_000), 0);
  });

  test('time up mid-inflation never stops with air in the garment: it vents through a release first', () => {
    // hold 46 s: cycle 2 starts at 57 s and zone 3 is filling when the minute is up.
    const r = rig(testProgram({ durationMin: 1, holdS: 46 }), 4);
    r.runTo(65_000);
    assert.deepEqual(at(r.trace, 59_900).phase, { kind: 'inflating', zone: 3 });
    assert.equal(at(r.trace, 60_000).phase.kind, 'releasing');
    assert.equal(commands(at(r.trace, 60_000)), 'vvvv');
    assert.equal(at(r.trace, 63_900).done, false);
    assert.equal(at(r.trace, 64_000).done, true);
  });

  test('time up during the rest ends the session at once: the release has already finished', () => {
    // hold 44 s: release 48–52 s, rest 52–62 s.
    const r = rig(testProgram({ durationMin: 1, holdS: 44, restS: 10 }), 4);
    r.runTo(61_000);
    assert.equal(at(r.trace, 59_900).phase.kind, 'resting');
    assert.equal(at(r.trace, 59_900).done, false);
    assert.equal(at(r.trace, 60_000).done, true);
    assert.equal(at(r.trace, 60_000).cyclesDone, 1);
  });

  test('remainingMs counts down with session time', () => {
    const r = rig(long(), 4);
    r.runTo(15_000);
    assert.equal(r.runner.elapsedMs(15_000), 15_000);
    assert.equal(r.runner.remainingMs(15_000), 45_000);
  });
});

describe('pause and resume', () => {
  test('pause vents every zone and stops the session clock', () => {
    const r = rig(testProgram(), 4);
    r.runTo(2500);
    assert.equal(commands(at(r.trace, 2500)), 'hhfv');
    r.runner.pause(2500);
    const paused = r.runTo(10_000);
    for (const { out } of paused) {
      assert.equal(commands(out), 'vvvv');
      assert.equal(out.paused, true);
      assert.equal(out.done, false);
    }
    assert.equal(r.runner.elapsedMs(10_000), 2500);
  });

  test('resume restarts the current cycle from its first zone, and paused time does not count', () => {
    const r = rig(testProgram(), 4);
    r.runTo(2500);
    r.runner.pause(2500);
    r.runTo(12_400);
    r.runner.resume(12_500);
    r.runTo(14_600);
    assert.deepEqual(fillStarts(r.trace.filter((s) => s.t >= 12_500)), [
      [1, 12_500],
      [2, 13_500],
      [3, 14_500],
    ]);
    const resumed = at(r.trace, 12_500);
    assert.equal(resumed.cycle, 1);
    assert.deepEqual(resumed.phase, { kind: 'inflating', zone: 1 });
    assert.equal(r.runner.elapsedMs(13_500), 3500);
  });

  test('paused time extends the session end by exactly the pause', () => {
    // Without the pause this session is done at 64 s (see session duration); the pause lasts 10 s.
    const r = rig(testProgram({ durationMin: 1, holdS: 30 }), 4);
    r.runTo(2500);
    r.runner.pause(2500);
    r.runTo(12_400);
    r.runner.resume(12_500);
    r.runTo(80_000);
    assert.equal(at(r.trace, 69_900).phase.kind, 'holding');
    assert.equal(at(r.trace, 70_000).phase.kind, 'releasing', 'time up after 60 s of session time');
    assert.equal(at(r.trace, 73_900).done, false);
    assert.equal(at(r.trace, 74_000).done, true);
    assert.equal(r.runner.elapsedMs(80_000), 64_000);
  });

  test('resume after session time is up only finishes the release', () => {
    const r = rig(testProgram({ durationMin: 1, holdS: 30 }), 4);
    r.runTo(61_000);
    assert.equal(at(r.trace, 61_000).phase.kind, 'releasing');
    r.runner.pause(61_000);
    r.runTo(69_900);
    r.runner.resume(70_000);
    r.runTo(75_000);
    assert.equal(fillStarts(r.trace.filter((s) => s.t >= 70_000)).length, 0, 'no zone fills again');
    assert.equal(at(r.trace, 73_900).phase.kind, 'releasing');
    assert.equal(at(r.trace, 74_000).done, true);
  });
});

describe('skipped zones', () => {
  test('always vent, through every phase and cycle, and the sequence steps over them', () => {
    const p = testProgram({ mode: 'wave', overlapS: 1, skipZones: [2] });
    const r = rig(p, 5, { skipZones: [4] });
    r.runTo(40_000);
    for (const { t, out } of r.trace) {
      assert.deepEqual(out.zones[1], { command: 'vent', targetMmHg: 0 }, `zone 2 at ${t} ms`);
      assert.deepEqual(out.zones[3], { command: 'vent', targetMmHg: 0 }, `zone 4 at ${t} ms`);
    }
    assert.deepEqual(
      fillStarts(r.trace)
        .slice(0, 3)
        .map(([zone]) => zone),
      [1, 3, 5],
    );
    assert.ok(r.trace.some((s) => s.out.cycle === 2));
  });
});

describe('timing', () => {
  test('a late update dates each timed transition at its boundary, so phases keep their length', () => {
    const r = rig(testProgram(), 4);
    r.runTo(4000); // all four zones filled; the 5 s hold runs 4–9 s
    const none = { reached: [false, false, false, false] };
    assert.equal(r.runner.update(9500, none).phase.kind, 'releasing');
    // The release began at 9 s (not at the 9.5 s update), so it ends at 13 s.
    assert.equal(r.runner.update(12_999, none).phase.kind, 'releasing');
    assert.equal(r.runner.update(13_000, none).phase.kind, 'resting');
    assert.deepEqual(r.runner.update(16_000, none).phase, { kind: 'inflating', zone: 1 });
  });
});

describe('construction', () => {
  test('refuses targets that do not match the garment', () => {
    const p = testProgram();
    const plan = targetsFor(p, 4, { ceilingMmHg: 100 });
    assert.throws(() => new ProgramRunner(p, 5, plan.zones, 0), /4 zones for a 5-zone garment/);
  });
});
