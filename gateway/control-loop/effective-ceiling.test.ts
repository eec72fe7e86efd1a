/**
 * One effective ceiling per session reaches the supervisor: a client ceiling below the board's
 * becomes the session's, shown in the frame, bounds the targets, and is the over-pressure trip
 * level (before, the trip stayed at min(target + 20, board ceiling)).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { effectiveCeiling, highestTargetMmHg, LIMITS } from '../limits.js';
import { CommandError } from '../protocol.js';
import { presetById } from './programs/presets.js';
import { harness } from './test-support/harness.js';

const circulation = presetById('leg-circulation')!; // 45 mmHg, gradient: zone 1 highest

describe('the effective ceiling', () => {
  it('is the lowest usable limit and says which one it is', () => {
    assert.deepEqual(effectiveCeiling({ boardMmHg: 80 }), { ceilingMmHg: 80, source: 'board' });
    assert.deepEqual(effectiveCeiling({ boardMmHg: 80, stationSettingMmHg: 60, clientMmHg: 70 }), {
      ceilingMmHg: 60,
      source: 'station',
    });
    assert.deepEqual(effectiveCeiling({ boardMmHg: 80, stationSettingMmHg: 60, walkUpMaxTargetMmHg: 40 }), {
      ceilingMmHg: 40 + LIMITS.regulationHeadroomMmHg.default,
      source: 'walk-up',
    });
    assert.deepEqual(effectiveCeiling({ boardMmHg: 500, clientMmHg: Number.NaN }), {
      ceilingMmHg: LIMITS.absoluteCeilingMmHg.max,
      source: 'board',
    });
    assert.equal(highestTargetMmHg(80), 80 - LIMITS.regulationHeadroomMmHg.default);
  });

  it("is the session's: in the frame, in the plan and in the over-pressure trip", async () => {
    const h = await harness();
    const frame = await h.ctrl.command('start', {
      stationId: 'bay-1',
      sessionId: 's',
      program: circulation,
      clientCeilingMmHg: 52,
    });
    assert.equal(frame.session?.ceilingMmHg, 52, 'the frame carries the session ceiling');
    assert.equal(frame.ceilingMmHg, 100, "the board's own ceiling stays as it is");
    // Zone 1's reading drifts up 2 mmHg/s from its 45 mmHg target: it passes 52 mmHg well before
    // the 65 mmHg the board's ceiling would have allowed (target + 20).
    await h.run(1000);
    await h.ctrl.command('sim-inject', { stationId: 'bay-1', kind: 'sensor-drift', zone: 1 });
    await h.run(150_000, () => h.of('alarm-raised').some((a) => a.code === 'over-pressure'));
    const alarm = h.of('alarm-raised').find((a) => a.code === 'over-pressure');
    assert.equal(alarm?.code, 'over-pressure', alarm?.reason);
    assert.match(alarm?.reason ?? '', /above its limit of 52 mmHg/);
  });

  it('refuses a start whose targets are above it, naming it', async () => {
    const h = await harness();
    await assert.rejects(
      h.ctrl.command('start', {
        stationId: 'bay-1',
        sessionId: 's',
        program: circulation,
        clientCeilingMmHg: 45,
      }),
      (e: unknown) => e instanceof CommandError && /above the 40 mmHg ceiling/.test(e.message),
    );
    assert.equal(h.ctrl.stations[0]?.state, 'idle');
  });
});
