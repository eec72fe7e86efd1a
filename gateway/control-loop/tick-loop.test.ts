import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { VirtualClock } from '../clock.js';
import { LatenessWindow, TickLoop } from './tick-loop.js';

describe('virtual clock', () => {
  it('wakes sleepers in deadline order, including sleeps scheduled by woken code', async () => {
    const clock = new VirtualClock();
    const order: string[] = [];
    void clock.sleep(30).then(() => order.push(`b@${clock.now()}`));
    void clock.sleep(10).then(async () => {
      order.push(`a@${clock.now()}`);
      await clock.sleep(5);
      order.push(`a2@${clock.now()}`);
    });
    await clock.advance(100);
    assert.deepEqual(order, ['a@10', 'a2@15', 'b@30']);
    assert.equal(clock.now(), 100);
    assert.equal(clock.pending, 0);
  });
});

describe('fixed-rate tick loop', () => {
  it('ticks on absolute deadlines without drifting, whatever each tick costs', async () => {
    const clock = new VirtualClock();
    const starts: number[] = [];
    const loop = new TickLoop(clock, 10, async () => {
      starts.push(clock.now());
      await clock.sleep(3); // work that takes 3 ms
    });
    loop.start();
    await clock.advance(1000);
    const stopping = loop.stop();
    await clock.advance(50); // lets a tick that is mid-way finish its own sleeps
    await stopping;
    // setInterval-style scheduling would start tick n at n·13 ms; deadlines keep n·10 ms.
    assert.deepEqual(starts.slice(0, 5), [0, 10, 20, 30, 40]);
    assert.equal(starts[99], 990);
    const s = loop.stats();
    assert.equal(s.maxMs, 0);
    assert.equal(s.skipped, 0);
  });

  it('measures lateness and skips deadlines an overrunning tick missed instead of bursting', async () => {
    const clock = new VirtualClock();
    const starts: number[] = [];
    const overdue: number[] = [];
    const loop = new TickLoop(clock, 10, async ({ n, overdueMs }) => {
      starts.push(clock.now());
      overdue.push(overdueMs);
      if (n === 3) await clock.sleep(35); // a 35 ms stall (GC, a blocked call)
    });
    loop.start();
    await clock.advance(100);
    const s = loop.stats();
    // Tick 3 ran 30..65: deadlines 40, 50 and 60 passed; the next tick runs late at 65 for
    // deadline 60 (5 ms late), then the loop is back on its grid at 70.
    assert.deepEqual(starts.slice(0, 6), [0, 10, 20, 30, 65, 70]);
    assert.equal(s.skipped, 2);
    assert.equal(s.maxMs, 5);
    // The stall shows as the time since the previous tick, which the controller's stall rule uses.
    assert.equal(overdue[4], 25);
    const stopping = loop.stop();
    await clock.advance(50); // lets a tick that is mid-way finish its own sleeps
    await stopping;
  });

  it('keeps running when a tick throws, and reports the error', async () => {
    const clock = new VirtualClock();
    const errors: unknown[] = [];
    let ticks = 0;
    const loop = new TickLoop(
      clock,
      10,
      () => {
        ticks++;
        if (ticks === 2) throw new Error('boom');
      },
      (e) => errors.push(e),
    );
    loop.start();
    await clock.advance(50);
    assert.equal(errors.length, 1);
    assert.ok(ticks >= 5);
    const stopping = loop.stop();
    await clock.advance(50); // lets a tick that is mid-way finish its own sleeps
    await stopping;
  });
});

describe('lateness window', () => {
  it('gives p50, p99 and max over the window', () => {
    const w = new LatenessWindow();
    for (let i = 1; i <= 100; i++) w.add(i / 10);
    const s = w.summary();
    assert.equal(s.p50Ms, 5.1);
    assert.equal(s.p99Ms, 10);
    assert.equal(s.maxMs, 10);
  });
});
