/**
 * ClockWatch with a scripted sync probe and scripted wall and monotonic clocks: trusted unless the
 * probe says "not synchronised", and a wall-clock step the monotonic clock did not see is a jump.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CLOCK_JUMP_MS, ClockWatch, systemProbe } from './clock-state.js';

test('not synchronised is untrusted; synchronised or unknown is trusted; an NTP step is a jump', async () => {
  let synced: boolean | null = false;
  let wall = new Date(2025, 0, 15, 12).getTime();
  let mono = 1000;
  const lines: string[] = [];
  const watch = new ClockWatch({
    probe: async () => ({ synchronized: synced, source: 'test' }),
    now: () => wall,
    monotonic: () => mono,
    log: { info: (m) => lines.push(`info ${m}`), warn: (m) => lines.push(`warn ${m}`) },
  });
  assert.equal(watch.trusted(), true, 'unknown before the first check');
  await watch.check();
  assert.equal(watch.trusted(), false);
  assert.equal(watch.state().synchronized, false);

  // 30 s pass on both clocks, then NTP steps the wall clock 3 weeks ahead.
  wall += 30_000;
  mono += 30_000;
  await watch.check();
  assert.equal(watch.state().lastJump, null, 'no step, no jump');
  wall += 21 * 24 * 3_600_000 + 30_000;
  mono += 30_000;
  synced = true;
  const s = await watch.check();
  assert.equal(watch.trusted(), true);
  assert.deepEqual(s.lastJump, { atEpochMs: wall, byMs: 21 * 24 * 3_600_000 });
  // Drift below the threshold is not a jump.
  wall += 30_000 + CLOCK_JUMP_MS - 1;
  mono += 30_000;
  assert.equal((await watch.check()).lastJump?.atEpochMs, wall - 30_000 - CLOCK_JUMP_MS + 1);
  synced = null;
  await watch.check();
  assert.equal(watch.trusted(), true, 'a machine that cannot tell is trusted');
  assert.deepEqual(lines, [
    'warn the clock is NOT synchronised (test): records are marked and archives wait',
    'warn the wall clock jumped by 1814400 s (test)',
    'info the clock is synchronised (test)',
    'info the clock cannot be checked (test)',
  ]);
});

test('the system probe answers on this machine with a known state or "unknown"', async () => {
  const r = await systemProbe();
  assert.ok([true, false, null].includes(r.synchronized));
  assert.ok(['systemd-timesyncd', 'timedatectl', 'unknown'].includes(r.source), r.source);
});
