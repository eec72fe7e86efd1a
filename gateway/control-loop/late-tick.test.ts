/**
 * Late is not unsafe: a late tick below the hard bound with every zone within its limits vents
 * nothing and is reported; a tick at or above the bound, or the third late tick within a minute,
 * vents every station. Shown in virtual time (the physics runs through the gap with the pumps as
 * they were written) and on the real controller process, whose event loop the sim-freeze hook
 * blocks.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ControllerClient } from '../ipc/client.js';
import { LIMITS } from '../limits.js';
import type { Events } from '../protocol.js';
import { readyBoard, spawnController } from '../server/test-support/harness.js';
import { LateTickRule } from './late-tick.js';
import { presetById } from './programs/presets.js';
import { harness, type Harness } from './test-support/harness.js';

const HARD = LIMITS.loopLateHardMs.default;
const PROGRAM_FOR: Record<string, string> = {
  'bay-1': 'leg-circulation',
  'bay-2': 'leg-circulation',
  'bay-3': 'arm-circulation',
  'lounge-1': 'leg-circulation',
};

describe('the late-tick rule', () => {
  it('tells on time, late, a stall at the hard bound and a burst of late ticks apart', () => {
    const rule = new LateTickRule(10);
    assert.equal(rule.judge(0, 50).kind, 'on-time', 'exactly 5 periods is not late');
    assert.deepEqual(rule.judge(1000, 51), { kind: 'late', latenessMs: 51, lateInWindow: 1 });
    assert.deepEqual(rule.judge(2000, HARD), {
      kind: 'stall',
      latenessMs: HARD,
      lateInWindow: 2,
      why: 'hard-bound',
    });
    // The third late tick within 60 s.
    assert.equal(rule.judge(3000, 60).kind, 'stall');
    assert.equal(rule.lateTicks, 3);
  });

  it('forgets late ticks older than a minute', () => {
    const rule = new LateTickRule(10);
    assert.equal(rule.judge(0, 60).kind, 'late');
    assert.equal(rule.judge(30_000, 60).kind, 'late');
    assert.equal(rule.judge(61_000, 60).kind, 'late', 'the first one is out of the window');
    assert.equal(rule.judge(62_000, 60).kind, 'stall', 'three within 60 s');
  });
});

async function allRunning(): Promise<Harness> {
  const h = await harness();
  for (const st of h.ctrl.stations) {
    const program = presetById(PROGRAM_FOR[st.id] ?? 'leg-circulation')!;
    await h.ctrl.command('start', { stationId: st.id, sessionId: `s-${st.id}`, program });
  }
  // Into the fills: pumps running, inlets open.
  await h.run(2000);
  assert.ok(
    h.ctrl.stations.some((s) => s.pumpDuty > 0),
    'a pump is running when the loop freezes',
  );
  return h;
}

/** The loop frozen for `ms` of virtual time: the physics runs on with the outputs as written. */
async function freeze(h: Harness, ms: number): Promise<void> {
  await h.clock.advance(ms);
  await h.ctrl.tick(ms);
}

describe('a late tick on the controller (virtual time)', () => {
  it('below the hard bound, with every zone within its limits, vents nothing and reports it', async () => {
    const h = await allRunning();
    await freeze(h, HARD - 10);
    await h.run(500);
    assert.deepEqual(
      h.ctrl.stations.map((s) => s.state),
      ['running', 'running', 'running', 'running'],
    );
    assert.deepEqual(h.of('alarm-raised'), [], 'no alarm');
    const [late] = h.of('loop-late');
    assert.ok(late, 'a loop-late event');
    assert.equal(late.latenessMs, HARD - 10);
    assert.equal(late.lateInWindow, 1);
    assert.equal(h.ctrl.info().loop.lateTicks, 1, 'the maintenance counter');
    assert.equal(h.ctrl.info().loop.lastLate?.latenessMs, HARD - 10);
  });

  it('at the hard bound vents every station and latches loop-stall', async () => {
    const h = await allRunning();
    await freeze(h, HARD);
    const [alarm] = h.of('alarm-raised');
    assert.equal(alarm?.code, 'loop-stall');
    assert.equal(alarm?.priority, 'high');
    assert.equal(alarm?.latched, true);
    assert.match(alarm?.reason ?? '', new RegExp(`stalled for ${HARD} ms`));
    assert.ok(h.ctrl.stations.every((s) => s.state === 'fault'));
    for (const st of h.ctrl.stations) assert.equal(h.sim!.world.station(st.id).pumpDuty, 0, st.id);
    assert.deepEqual(h.of('loop-late'), [], 'a stall is an alarm, not a loop-late report');
  });

  it('the third late tick within a minute vents every station', async () => {
    const h = await allRunning();
    await freeze(h, 60);
    await h.run(5000);
    await freeze(h, 60);
    await h.run(5000);
    assert.ok(
      h.ctrl.stations.every((s) => s.state === 'running'),
      'two late ticks: still running',
    );
    await freeze(h, 60);
    const [alarm] = h.of('alarm-raised');
    assert.equal(alarm?.code, 'loop-stall');
    assert.match(alarm?.reason ?? '', /late 3 times within a minute/);
    assert.ok(h.ctrl.stations.every((s) => s.state === 'fault'));
  });

  it('a late tick still trips a zone that is above its trip level', async () => {
    const h = await allRunning();
    // A stuck-open inlet on bay-1 zone 1 lets the manifold push the zone past its trip level
    // while the loop is frozen; the late tick's fresh samples see it.
    await h.ctrl.command('sim-inject', { stationId: 'bay-1', kind: 'blocked-hose', zone: 1 });
    let tripped = false;
    for (let i = 0; i < 40 && !tripped; i++) {
      await freeze(h, 60);
      tripped = h.of('alarm-raised').some((a) => a.stationId === 'bay-1' && a.code !== 'loop-stall');
      // Spaced out so the burst rule does not decide first.
      if (!tripped) await h.run(30_000, () => h.of('alarm-raised').some((a) => a.stationId === 'bay-1'));
      tripped ||= h.of('alarm-raised').some((a) => a.stationId === 'bay-1');
    }
    const bay1 = h.of('alarm-raised').find((a) => a.stationId === 'bay-1');
    assert.ok(bay1, 'bay-1 tripped');
    assert.ok(
      ['over-pressure', 'vent-not-verified', 'inflation-not-verified'].includes(bay1.code),
      bay1.code,
    );
    assert.equal(h.ctrl.stations.find((s) => s.id === 'bay-1')?.state, 'fault');
  });
});

describe('a frozen controller process (sim-freeze)', () => {
  it(
    'a freeze below the hard bound vents nothing; one above it vents every station',
    { timeout: 90_000 },
    async (t) => {
      const dataDir = mkdtempSync(join(tmpdir(), 'presso-freeze-'));
      const controller = spawnController(dataDir);
      const client = new ControllerClient({ log: { info: () => {}, warn: () => {}, error: () => {} } });
      t.after(async () => {
        await client.close().catch(() => undefined);
        await controller.kill();
        rmSync(dataDir, { recursive: true, force: true });
      });
      await client.connect(controller.socketPath, { retry: true });
      await readyBoard(client);
      const lates: Events['loop-late'][] = [];
      const alarms: Events['alarm-raised'][] = [];
      client.on('loop-late', (l) => lates.push(l));
      client.on('alarm-raised', (a) => alarms.push(a));
      for (const [stationId, id] of Object.entries(PROGRAM_FOR)) {
        await client.request('start', { stationId, sessionId: `f-${stationId}`, program: presetById(id)! });
      }
      await new Promise((r) => setTimeout(r, 1500));

      // Well below the bound, so this machine's own scheduling delay cannot carry it over.
      const below = await client.request('sim-freeze', { ms: HARD / 2 });
      assert.ok(below.frozeMs >= HARD / 2);
      const until = Date.now() + 5000;
      while (lates.length === 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
      const late = lates.find((l) => l.latenessMs >= HARD / 2 - 15);
      assert.ok(late, `a loop-late event for the freeze (got ${JSON.stringify(lates)})`);
      assert.match(late.cause, /ms/);
      assert.ok(late.detail && late.detail.gapMs >= HARD / 2, 'the gap is measured');
      let frames = await client.request('state', {});
      assert.deepEqual(
        frames.map((f) => f.state),
        ['running', 'running', 'running', 'running'],
        `nothing vented (alarms: ${alarms.map((a) => `${a.code}: ${a.reason}`).join(' / ')})`,
      );

      await client.request('sim-freeze', { ms: HARD + 100 });
      const until2 = Date.now() + 5000;
      while (!alarms.some((a) => a.code === 'loop-stall') && Date.now() < until2) {
        await new Promise((r) => setTimeout(r, 50));
      }
      const stall = alarms.find((a) => a.code === 'loop-stall');
      assert.ok(stall, 'a loop-stall alarm');
      assert.equal(stall.latched, true);
      frames = await client.request('state', {});
      assert.ok(
        frames.every((f) => f.state === 'fault' && f.pumpDuty === 0),
        frames.map((f) => `${f.id}=${f.state}`).join(', '),
      );
    },
  );
});

describe('a controller starved in the middle of a tick', () => {
  it('does not take its own fresh samples for stale ones on idle stations', async () => {
    const h = await harness();
    await h.run(1000);
    // The process is preempted for 200 ms after the devices were sampled and before the
    // supervisor judges them (what a kiosk browser's start did to the e2e board's controller).
    const sampleAll = h.io.sampleAll.bind(h.io);
    h.io.sampleAll = async () => {
      await sampleAll();
      await h.clock.advance(200);
    };
    await h.ctrl.tick(0);
    h.io.sampleAll = sampleAll;
    await h.run(1000);
    assert.deepEqual(
      h.of('alarm-raised').map((a) => `${a.stationId}: ${a.reason}`),
      [],
      'no sensor alarm on an idle board',
    );
    assert.ok(h.ctrl.stations.every((s) => s.state === 'idle'));
  });

  it('still finds a sensor that really gives no new value', async () => {
    const h = await harness();
    await h.run(1000);
    const zone = h.io.stations[0]!.zones[0]!;
    const read = zone.sensor.read.bind(zone.sensor);
    const frozen = read();
    zone.sensor.read = () => frozen;
    await h.run(LIMITS.sensorStaleMs.default + 50);
    const alarm = h.of('alarm-raised').find((a) => a.code === 'sensor-implausible');
    assert.ok(alarm, 'a stale sensor trips');
    assert.match(alarm.reason, /no new value/);
  });
});
