import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { at, commands, fillStarts, rig, testProgram } from './test-support/fake-regulator.js';

// Every zone reaches its target 1 s after it is commanded (the fake regulator's default), the rig
// ticks every 100 ms, and the test program holds 5 s, releases 4 s and rests 3 s.

describe('sequential mode', () => {
  test('zones fill distal → proximal, each on the previous one reaching its target, then all hold, release, rest, and the next cycle starts', () => {
    const r = rig(testProgram(), 4);
    r.runTo(20_000);
    assert.deepEqual(fillStarts(r.trace), [
      [1, 0],
      [2, 1000],
      [3, 2000],
      [4, 3000],
      [1, 16_000],
      [2, 17_000],
      [3, 18_000],
      [4, 19_000],
    ]);
    assert.equal(commands(at(r.trace, 2500)), 'hhfv', 'filled zones hold while the next fills');
    assert.deepEqual(at(r.trace, 2500).phase, { kind: 'inflating', zone: 3 });
    const holding = at(r.trace, 4000);
    assert.equal(holding.phase.kind, 'holding');
    assert.deepEqual(holding.zones, Array(4).fill({ command: 'hold', targetMmHg: 40 }));
    assert.equal(at(r.trace, 8900).phase.kind, 'holding');
    const releasing = at(r.trace, 9000);
    assert.equal(releasing.phase.kind, 'releasing');
    assert.deepEqual(releasing.zones, Array(4).fill({ command: 'vent', targetMmHg: 0 }));
    assert.equal(at(r.trace, 12_900).cyclesDone, 0);
    const resting = at(r.trace, 13_000);
    assert.equal(resting.phase.kind, 'resting');
    assert.equal(commands(resting), 'vvvv');
    assert.equal(resting.cyclesDone, 1, 'a cycle counts once its release has finished');
    assert.equal(at(r.trace, 16_000).cycle, 2);
  });

  test('a stale "reached" never skips a fill: each zone is commanded to fill at least once', () => {
    // The regulator reports every commanded zone as reached at once (fill time 0).
    const r = rig(testProgram(), 4, { fillMs: () => 0 });
    r.runTo(1000);
    assert.deepEqual(fillStarts(r.trace).slice(0, 4), [
      [1, 0],
      [2, 100],
      [3, 200],
      [4, 300],
    ]);
  });
});

describe('gradient mode', () => {
  test('fills in program order and holds with the distal zone highest, one step lower per zone', () => {
    const r = rig(testProgram({ mode: 'gradient', pressureMmHg: 60, gradientStepMmHg: 10 }), 4);
    r.runTo(5000);
    assert.deepEqual(
      fillStarts(r.trace).map(([zone]) => zone),
      [1, 2, 3, 4],
    );
    assert.deepEqual(
      at(r.trace, 4000).zones.map((z) => z.targetMmHg),
      [60, 50, 40, 30],
    );
  });
});

describe('wave mode', () => {
  test('a zone vents overlapS after the next one starts filling: a peristaltic wave', () => {
    const r = rig(testProgram({ mode: 'wave', overlapS: 2 }), 4);
    r.runTo(10_000);
    assert.deepEqual(
      fillStarts(r.trace).map(([zone, t]) => [zone, t]),
      [
        [1, 0],
        [2, 1000],
        [3, 2000],
        [4, 3000],
      ],
    );
    // Zone 2 started filling at 1000 ms, so zone 1 holds until 3000 ms and then vents.
    assert.equal(at(r.trace, 2900).zones[0]?.command, 'hold');
    assert.equal(at(r.trace, 3000).zones[0]?.command, 'vent');
    assert.equal(commands(at(r.trace, 2000)), 'hhfv');
    assert.equal(commands(at(r.trace, 3000)), 'vhhf');
    assert.equal(commands(at(r.trace, 4000)), 'vvhh', 'zone 2 vents 2 s after zone 3 started at 2000 ms');
    assert.equal(at(r.trace, 4000).phase.kind, 'holding');
    assert.equal(commands(at(r.trace, 5000)), 'vvvh', 'the last zone holds alone');
    assert.equal(commands(at(r.trace, 9000)), 'vvvv');
    assert.equal(at(r.trace, 9000).phase.kind, 'releasing');
  });
});

describe('pulse mode', () => {
  test('each zone pulses to full for peakS, then holds at holdFraction while the next one fills', () => {
    const r = rig(testProgram({ mode: 'pulse', pulse: { holdFraction: 0.5, peakS: 1 } }), 3);
    r.runTo(12_000);
    assert.deepEqual(fillStarts(r.trace), [
      [1, 0],
      [2, 2000],
      [3, 4000],
    ]);
    assert.deepEqual(
      at(r.trace, 1500).zones[0],
      { command: 'hold', targetMmHg: 40 },
      'the peak, at full target',
    );
    assert.deepEqual(at(r.trace, 1500).phase, { kind: 'inflating', zone: 1 });
    assert.deepEqual(at(r.trace, 2000).zones, [
      { command: 'hold', targetMmHg: 20 },
      { command: 'fill', targetMmHg: 40 },
      { command: 'vent', targetMmHg: 0 },
    ]);
    const holding = at(r.trace, 6000);
    assert.equal(holding.phase.kind, 'holding');
    assert.deepEqual(holding.zones, Array(3).fill({ command: 'hold', targetMmHg: 20 }));
    assert.equal(commands(at(r.trace, 11_000)), 'vvv', 'all release at the end of the cycle');
  });
});

describe('lymphatic mode', () => {
  test('pre-clears the top zones most proximal first, one at a time, then drains distal → proximal', () => {
    const r = rig(testProgram({ mode: 'lymphatic', lymphatic: { preClearZones: 2, preClearHoldS: 1 } }), 5);
    r.runTo(10_000);
    assert.deepEqual(fillStarts(r.trace), [
      [5, 0],
      [4, 2000],
      [1, 4000],
      [2, 5000],
      [3, 6000],
      [4, 7000],
      [5, 8000],
    ]);
    assert.equal(commands(at(r.trace, 1500)), 'vvvvh', 'zone 5 holds its pre-clear');
    assert.deepEqual(at(r.trace, 1500).phase, { kind: 'inflating', zone: 5, preClearing: true });
    assert.equal(commands(at(r.trace, 2500)), 'vvvfv', 'zone 5 vented when zone 4 began');
    assert.equal(commands(at(r.trace, 4500)), 'fvvvv', 'pre-cleared zones are vented before drainage');
    assert.deepEqual(at(r.trace, 4500).phase, { kind: 'inflating', zone: 1 });
    assert.equal(commands(at(r.trace, 9000)), 'hhhhh');
    assert.equal(at(r.trace, 9000).phase.kind, 'holding');
  });
});
