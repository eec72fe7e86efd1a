/**
 * Commands with bad values are refused with a reason and change nothing; stop is always
 * accepted and vents at once; a latched fault needs an acknowledge once its cause is gone.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LIMITS } from '../limits.js';
import { CommandError, type StationFrame } from '../protocol.js';
import { presetById } from './programs/presets.js';
import { harness } from './test-support/harness.js';

const circulation = presetById('leg-circulation')!;

/** Everything a refused command must leave as it was. */
const snapshot = (frames: StationFrame[]) =>
  frames.map((f) => ({ id: f.id, state: f.state, session: f.session?.id ?? null, alarms: f.alarms.length }));

async function refused(h: Awaited<ReturnType<typeof harness>>, run: () => Promise<unknown>, reason: RegExp) {
  const before = snapshot(h.ctrl.frames());
  await assert.rejects(run, (e: unknown) => {
    assert.ok(e instanceof CommandError, `a CommandError, got ${String(e)}`);
    assert.match(e.message, reason);
    return true;
  });
  await h.run(100);
  assert.deepEqual(snapshot(h.ctrl.frames()), before, 'nothing changed');
}

describe('controller commands', () => {
  it('refuses bad starts with a reason and changes nothing', async () => {
    const h = await harness();
    const start = (args: Record<string, unknown>) =>
      h.ctrl.command('start', { stationId: 'bay-1', sessionId: 's', program: circulation, ...args } as never);
    await refused(h, () => start({ pressureMmHg: 140 }), /ceiling|above/);
    await refused(h, () => start({ durationMin: -5 }), /durationMin/);
    await refused(h, () => start({ durationMin: 500 }), /maximum/);
    await refused(h, () => start({ clientCeilingMmHg: 30 }), /ceiling|above/);
    await refused(h, () => start({ program: { ...circulation, holdS: -1 } }), /holdS/);
    await refused(h, () => start({ program: 'leg-circulation' }), /program must be a program object/);
    await refused(h, () => start({ stationId: 'bay-9' }), /no station "bay-9"/);
    await refused(h, () => start({ stationId: 'bay-3' }), /arm garment|for leg/);
    await refused(h, () => start({ skipZones: [1, 2, 3, 4, 5] }), /skip|every zone/i);
    await refused(h, () => start({ sessionId: '' }), /sessionId/);
    await refused(
      h,
      () => h.ctrl.command('pause', { stationId: 'bay-1' }),
      /only a running session can pause/,
    );
    await refused(
      h,
      () => h.ctrl.command('resume', { stationId: 'bay-1' }),
      /only a paused session can resume/,
    );
    await refused(
      h,
      () => h.ctrl.command('sim-inject', { stationId: 'bay-1', kind: 'gremlins' }),
      /unknown fault kind/,
    );
    await refused(h, () => h.ctrl.command('nonsense' as never, {} as never), /unknown command/);
    // The schema's bounds, named by field; and the bounds only the board knows.
    await refused(
      h,
      () => h.ctrl.command('sim-freeze', { ms: 5000 }),
      /^sim-freeze: ms must be a number of ms from 1 to 2000$/,
    );
    await refused(
      h,
      () => h.ctrl.command('sim-inject', { stationId: 'bay-1', kind: 'leak', zone: 9 }),
      /^zone must be 1\.\.\d+$/,
    );
    await refused(
      h,
      () => h.ctrl.command('set-zero-offsets', { stationId: 'bay-1', offsetsMmHg: [0] }),
      /^offsetsMmHg must list \d+ numbers/,
    );
  });

  it('refuses a second start on a running station', async () => {
    const h = await harness();
    await h.ctrl.command('start', { stationId: 'bay-1', sessionId: 'a', program: circulation });
    await h.run(500);
    await refused(
      h,
      () => h.ctrl.command('start', { stationId: 'bay-1', sessionId: 'b', program: circulation }),
      /is running, not idle/,
    );
  });

  it('stop is always accepted, vents at once and reports the session stopped', async () => {
    const h = await harness();
    await h.ctrl.command('start', { stationId: 'bay-1', sessionId: 'a', program: circulation });
    await h.run(5000);
    const model = h.sim!.world.station('bay-1');
    assert.ok(model.pumpDuty > 0 || model.inletEnergised(0));
    const [frame] = await h.ctrl.command('stop', { stationId: 'bay-1' });
    // Written in the stop command itself, not at the next tick.
    assert.equal(model.pumpDuty, 0);
    assert.ok([0, 1, 2, 3, 4].every((z) => !model.exhaustEnergised(z) && !model.inletEnergised(z)));
    assert.equal(frame?.state, 'venting');
    assert.equal(h.of('session-ended')[0]?.end, 'stopped');
    await h.run(5000);
    assert.equal(h.ctrl.stations[0]!.state, 'idle');
    // Stopping an idle station, or every station, is accepted too.
    await h.ctrl.command('stop', { stationId: 'bay-1' });
    await h.ctrl.command('stop', {});
  });

  it('pause vents and stops the clock; resume restarts the cycle', async () => {
    const h = await harness();
    await h.ctrl.command('start', {
      stationId: 'bay-1',
      sessionId: 'a',
      program: circulation,
      durationMin: 5,
    });
    await h.run(8000);
    await h.ctrl.command('pause', { stationId: 'bay-1' });
    const left = h.ctrl.frames()[0]!.session!.remainingS;
    await h.run(20_000);
    const f = h.ctrl.frames()[0]!;
    assert.equal(f.state, 'paused');
    assert.equal(f.session!.remainingS, left, 'the session clock stopped');
    assert.ok(
      f.zones.every((z) => (z.pressureMmHg ?? 0) < 10),
      'vented while paused',
    );
    await h.ctrl.command('resume', { stationId: 'bay-1' });
    await h.run(200);
    const r = h.ctrl.frames()[0]!;
    assert.equal(r.state, 'running');
    assert.deepEqual(r.phase, { kind: 'inflating', zone: 1 }, 'the cycle starts again from zone 1');
  });

  it('an acknowledge is refused while the cause is present, accepted once it is gone', async () => {
    const h = await harness();
    await h.ctrl.command('sim-inject', { stationId: 'bay-2', kind: 'estop' });
    await h.run(200);
    assert.ok(
      h.ctrl.stations.every((s) => s.state === 'fault'),
      'the emergency stop faults every station',
    );
    await refused(h, () => h.ctrl.command('acknowledge', {}), /still present/);
    await h.ctrl.command('sim-clear', { stationId: 'bay-2', kind: 'estop' });
    await h.run(200);
    const cleared = await h.ctrl.command('acknowledge', {});
    assert.ok(cleared.some((a) => a.code === 'emergency-stop'));
    await h.run(1000);
    assert.ok(h.ctrl.stations.every((s) => s.state === 'idle'));
  });

  it('a stalled control loop vents every station and latches a loop-stall alarm', async () => {
    const h = await harness();
    await h.ctrl.command('start', { stationId: 'bay-1', sessionId: 'a', program: circulation });
    await h.run(3000);
    // The tick loop reports a tick overdue by the late-tick rule's hard bound (late-tick.ts; a
    // tick 60 ms late, which vented here before that rule, is now only reported: late-tick.test.ts).
    await h.ctrl.tick(LIMITS.loopLateHardMs.default);
    const [alarm] = h.of('alarm-raised');
    assert.equal(alarm?.code, 'loop-stall');
    assert.equal(alarm?.latched, true);
    assert.ok(h.ctrl.stations.every((s) => s.state === 'fault'));
    assert.equal(h.sim!.world.station('bay-1').pumpDuty, 0);
  });
});
