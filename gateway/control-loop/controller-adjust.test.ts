/**
 * Softer or stronger during a session (the `adjust` command): the new pressure goes through the
 * start's planning under the session's ceiling, every zone follows the program's shape from the
 * next cycle, the supervisor's over-pressure trip level follows the adjusted targets, a refusal
 * changes nothing, and the report lists every adjustment.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LIMITS } from '../limits.js';
import { CommandError, type SessionReport, type StationFrame } from '../protocol.js';
import type { Program } from './programs/schema.js';
import { overPressureLimitMmHg } from './supervisor.js';
import { harness } from './test-support/harness.js';

type H = Awaited<ReturnType<typeof harness>>;

/** A gradient program with short cycles, so a test sees several in a few minutes of virtual time. */
const quick: Program = {
  id: 'quick-gradient',
  name: 'Quick gradient',
  version: 1,
  garments: ['leg'],
  mode: 'gradient',
  pressureMmHg: 40,
  gradientStepMmHg: 5,
  inflateMaxS: 20,
  holdS: 4,
  releaseS: 6,
  restS: 2,
  durationMin: 10,
};

const frameOf = (h: H, id = 'bay-1'): StationFrame => h.ctrl.frames().find((f) => f.id === id)!;
const station = (h: H, id = 'bay-1') => h.ctrl.stations.find((s) => s.id === id)!;
/** The over-pressure level the supervisor applies to each zone right now. */
const tripLevels = (h: H) => {
  const st = station(h);
  return st.observe(h.clock.now()).map((z) => overPressureLimitMmHg(z.setpointMmHg, st.io.spec.ceilingMmHg));
};
const targets = (h: H) => frameOf(h).zones.map((z) => z.targetMmHg);

/** Runs until the frame's zone-1 target is `mmHg` while inflating zone 1 (a new cycle's fill). */
async function untilZone1Fills(h: H, mmHg: number, maxMs = 120_000) {
  let seen = false;
  await h.run(maxMs, () => {
    const f = frameOf(h);
    seen = f.phase?.kind === 'inflating' && f.zones[0]?.targetMmHg === mmHg;
    return seen;
  });
  assert.ok(seen, `zone 1 filled to ${mmHg} mmHg within ${maxMs} ms (targets ${targets(h).join(', ')})`);
}

async function refusedUnchanged(h: H, args: Record<string, unknown>, code: string, reason: RegExp) {
  const before = JSON.stringify(frameOf(h).session && { ...frameOf(h).session, elapsedS: 0, remainingS: 0 });
  const levels = tripLevels(h);
  await assert.rejects(
    () => h.ctrl.command('adjust', { stationId: 'bay-1', by: 'test', ...args } as never),
    (e: unknown) => {
      assert.ok(e instanceof CommandError, String(e));
      assert.equal(e.code, code);
      assert.match(e.message, reason);
      return true;
    },
  );
  const after = JSON.stringify(frameOf(h).session && { ...frameOf(h).session, elapsedS: 0, remainingS: 0 });
  assert.equal(after, before, 'the session is as it was');
  assert.deepEqual(tripLevels(h), levels, 'the trip levels are as they were');
}

describe('adjust during a session', () => {
  it('stronger, then softer: zones follow from the next cycle and the trip level follows the targets', async () => {
    const h = await harness();
    await h.ctrl.command('start', { stationId: 'bay-1', sessionId: 's1', program: quick });
    await h.run(3000);
    const margin = LIMITS.tripMarginMmHg.default;
    // Gradient 40, step 5 on 5 zones.
    assert.deepEqual(
      tripLevels(h),
      [40, 35, 30, 25, 20].map((p) => p + margin),
    );

    const up = await h.ctrl.command('adjust', { stationId: 'bay-1', pressureMmHg: 60, by: 'sam' });
    assert.equal(up.session?.pressureMmHg, 60, 'the new setpoint shows at once');
    assert.equal(up.session?.adjustPending, true);
    // Raised at once, so the fill to the new target in the next cycle is not an over-pressure.
    assert.deepEqual(
      tripLevels(h),
      [60, 55, 50, 45, 40].map((p) => p + margin),
    );
    assert.ok(Math.max(...targets(h)) <= 40, 'the cycle under way keeps its pressures');

    await untilZone1Fills(h, 60);
    assert.equal(frameOf(h).session?.adjustPending, false);
    // Let the whole cycle fill and hold at the new pressures.
    await h.run(60_000, () => frameOf(h).phase?.kind === 'holding');
    assert.deepEqual(targets(h), [60, 55, 50, 45, 40]);
    const held = frameOf(h).zones.map((z) => z.pressureMmHg ?? 0);
    assert.ok(held[0]! > 50, `zone 1 held near 60 mmHg (got ${held[0]})`);
    assert.equal(h.of('alarm-raised').length, 0, 'no alarm on the way up');

    const down = await h.ctrl.command('adjust', { stationId: 'bay-1', pressureMmHg: 30, by: 'walk-up' });
    assert.equal(down.session?.pressureMmHg, 30);
    // Still held at 60: the old trip level stays until the zones are down at the new targets.
    assert.deepEqual(
      tripLevels(h),
      [60, 55, 50, 45, 40].map((p) => p + margin),
    );
    await untilZone1Fills(h, 30);
    await h.run(60_000, () => frameOf(h).phase?.kind === 'holding');
    assert.deepEqual(targets(h), [30, 25, 20, 20, 20], 'the shape follows, floored at 20 mmHg');
    assert.deepEqual(
      tripLevels(h),
      [30, 25, 20, 20, 20].map((p) => p + margin),
    );
    assert.equal(h.of('alarm-raised').length, 0, 'no alarm on the way down');

    // The lowered level is the one that trips: a sensor reading drifting up (fast, so
    // the slower sealed-gain rule does not come first) is vented at 30 + margin.
    h.sim!.inject('bay-1', { kind: 'sensor-drift', zone: 0, mmHgPerS: 40 });
    await h.run(30_000, () => frameOf(h).state === 'fault');
    const trip = h.of('alarm-raised').find((a) => a.code === 'over-pressure');
    assert.ok(
      trip,
      `an over-pressure trip (alarms: ${h
        .of('alarm-raised')
        .map((a) => a.code)
        .join(', ')})`,
    );
    assert.match(trip.reason, new RegExp(`limit of ${30 + margin} mmHg`));

    const report = h.of('session-ended')[0] as SessionReport;
    assert.deepEqual(
      report.adjustments?.map((a) => ({ by: a.by, p: a.pressureMmHg })),
      [
        { by: 'sam', p: { from: 40, to: 60 } },
        { by: 'walk-up', p: { from: 60, to: 30 } },
      ],
    );
  });

  it('refuses what a limit forbids, says which, and changes nothing', async () => {
    const h = await harness();
    await refusedUnchanged(h, { pressureMmHg: 50 }, 'refused', /bay-1 is idle: no session to adjust/);
    await h.ctrl.command('start', {
      stationId: 'bay-1',
      sessionId: 's2',
      program: quick,
      clientCeilingMmHg: 60,
    });
    await h.run(2000);
    // The client's ceiling (60, less the regulation headroom) binds the adjustment as it bound the start.
    await refusedUnchanged(
      h,
      { pressureMmHg: 58 },
      'refused',
      /zone 1 would need 58 mmHg, above the 55 mmHg ceiling/,
    );
    await refusedUnchanged(h, { pressureMmHg: 10 }, 'refused', /below the 20 mmHg working floor/);
    await refusedUnchanged(h, { durationMin: 500 }, 'refused', /above the maximum session of 60 minutes/);
    await refusedUnchanged(h, { durationMin: 0.01 }, 'refused', /already run/);
    await refusedUnchanged(h, {}, 'bad-request', /give pressureMmHg and\/or durationMin/);
    await refusedUnchanged(h, { pressureMmHg: '50' }, 'bad-request', /pressureMmHg must be a number/);

    const f = await h.ctrl.command('adjust', {
      stationId: 'bay-1',
      pressureMmHg: 55,
      durationMin: 4,
      by: 'sam',
    });
    assert.equal(f.session?.pressureMmHg, 55);
    assert.equal(f.session?.durationMin, 4);
    assert.ok(Math.abs((f.session?.remainingS ?? 0) - (240 - (f.session?.elapsedS ?? 0))) <= 1);
    // A paused session can be adjusted too; it takes the new targets when it resumes.
    await h.ctrl.command('pause', { stationId: 'bay-1' });
    const p = await h.ctrl.command('adjust', { stationId: 'bay-1', pressureMmHg: 35, by: 'sam' });
    assert.equal(p.session?.pressureMmHg, 35);
    await h.ctrl.command('resume', { stationId: 'bay-1' });
    await untilZone1Fills(h, 35, 20_000);
  });
});
