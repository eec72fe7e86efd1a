/**
 * Supervisor rules that the simulator's fault kinds do not reach, checked on synthetic
 * observations: stale samples, a dead-headed pump, a session past its maximum, and the
 * 2-sample debounce of the over-pressure trip.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { getHeapSpaceStatistics } from 'node:v8';
import { LIMITS } from '../limits.js';
import { presetById } from './programs/presets.js';
import { StationSupervisor, type StationObservation, type ZoneObservation } from './supervisor.js';
import { harness } from './test-support/harness.js';

function zone(over: Partial<ZoneObservation> & { mmHg?: number; at?: number } = {}): ZoneObservation {
  const { mmHg = 0, at = 0, ...rest } = over;
  return {
    sample: { mmHg, sampledAtMs: at, health: 'ok' },
    inlet: false,
    exhaust: false,
    command: 'vent',
    setpointMmHg: 0,
    topUpInHoldMs: 0,
    reached: false,
    ...rest,
  };
}

function obs(
  nowMs: number,
  zones: ZoneObservation[],
  more: Partial<StationObservation> = {},
): StationObservation {
  return {
    nowMs,
    zones,
    pumpOn: false,
    ceilingMmHg: 100,
    sessionElapsedMs: null,
    sessionMaxMs: 3_600_000,
    linkDown: null,
    fillLimitMs: 0,
    ...more,
  };
}

describe('supervisor rules', () => {
  it('a sensor with no fresh sample for longer than the stale limit vents', () => {
    const sup = new StationSupervisor('s', 1, 0);
    for (let t = 10; t <= LIMITS.sensorStaleMs.default; t += 10) {
      assert.deepEqual(sup.check(obs(t, [zone({ mmHg: 1, at: 10 })])), [], `fresh enough at ${t} ms`);
    }
    const trips = sup.check(obs(LIMITS.sensorStaleMs.default + 20, [zone({ mmHg: 1, at: 10 })]));
    assert.equal(trips[0]?.code, 'sensor-implausible');
    assert.equal(trips[0]?.vent, true);
    assert.match(trips[0]?.reason ?? '', /no new value/);
  });

  it('over-pressure needs two consecutive fresh samples above the limit, then vents', () => {
    const sup = new StationSupervisor('s', 1, 0);
    const z = (t: number, mmHg: number) =>
      zone({ mmHg, at: t, command: 'hold', setpointMmHg: 50, exhaust: true });
    assert.deepEqual(sup.check(obs(10, [z(10, 71)])), [], 'one sample above 70 is not enough');
    assert.deepEqual(sup.check(obs(20, [z(20, 60)])), [], 'back under: the count starts again');
    assert.deepEqual(sup.check(obs(30, [z(30, 71)])), []);
    const trips = sup.check(obs(40, [z(40, 72)]));
    assert.equal(trips[0]?.code, 'over-pressure');
    assert.match(trips[0]?.reason ?? '', /above its limit of 70 mmHg/);
  });

  it('one fresh sample above the hard level (trip level + hard margin) vents without the debounce', () => {
    const sup = new StationSupervisor('s', 1, 0);
    const hard = 70 + LIMITS.tripHardMarginMmHg.default;
    const z = (t: number, mmHg: number) =>
      zone({ mmHg, at: t, command: 'hold', setpointMmHg: 50, exhaust: true });
    assert.deepEqual(sup.check(obs(10, [z(10, hard)])), [], 'at the hard level: still debounced');
    assert.deepEqual(sup.check(obs(20, [z(20, 60)])), []);
    const trips = sup.check(obs(30, [z(30, hard + 0.5)]));
    assert.equal(trips[0]?.code, 'over-pressure', 'one sample above it trips');
    assert.equal(trips[0]?.vent, true);
    // A stale sample is not a new reading: it never trips on its own.
    const again = new StationSupervisor('s', 1, 0);
    again.check(obs(10, [z(10, 60)]));
    assert.deepEqual(
      again.check(obs(20, [z(10, hard + 5)])).filter((t) => t.code === 'over-pressure'),
      [],
    );
  });

  it('the over-pressure limit is the ceiling when the set pressure plus margin is above it', () => {
    const sup = new StationSupervisor('s', 1, 0);
    const z = (t: number) => zone({ mmHg: 81, at: t, command: 'hold', setpointMmHg: 75, exhaust: true });
    sup.check(obs(10, [z(10)], { ceilingMmHg: 80 }));
    assert.equal(sup.check(obs(20, [z(20)], { ceilingMmHg: 80 }))[0]?.code, 'over-pressure');
  });

  it('a pump running with every inlet shut for longer than the dead-head limit vents', () => {
    const sup = new StationSupervisor('s', 2, 0);
    const zs = (t: number) => [zone({ at: t }), zone({ at: t })];
    let t = 0;
    for (; t <= LIMITS.deadHeadMs.default; t += 10)
      assert.deepEqual(sup.check(obs(t, zs(t), { pumpOn: true })), []);
    const trips = sup.check(obs(t + 10, zs(t + 10), { pumpOn: true }));
    assert.equal(trips[0]?.code, 'pump-dead-head');
    // With an inlet open the same pump is fine.
    const ok = new StationSupervisor('s', 2, 0);
    for (let u = 0; u < 500; u += 10) {
      assert.deepEqual(
        ok.check(
          obs(
            u,
            [zone({ at: u, inlet: true, command: 'fill', mmHg: u / 10, setpointMmHg: 50 }), zone({ at: u })],
            { pumpOn: true },
          ),
        ),
        [],
      );
    }
  });

  it('a session past its maximum length is ended with a medium alarm', () => {
    const sup = new StationSupervisor('s', 1, 0);
    assert.deepEqual(
      sup.check(obs(10, [zone({ at: 10 })], { sessionElapsedMs: 1000, sessionMaxMs: 1000 })),
      [],
    );
    const trips = sup.check(obs(20, [zone({ at: 20 })], { sessionElapsedMs: 1001, sessionMaxMs: 1000 }));
    assert.equal(trips[0]?.code, 'session-too-long');
    assert.equal(trips[0]?.priority, 'medium');
    assert.equal(trips[0]?.vent, true);
  });
});

/** Bytes in V8's young generation now: every short-lived object is allocated there first. */
function youngBytes(): number {
  const space = getHeapSpaceStatistics().find((x) => x.space_name === 'new_space');
  assert.ok(space, 'V8 reports its new_space');
  return space.space_used_size;
}

/**
 * Allocation per call of `fn`, measured as young-generation growth over 10,000 calls. A minor GC
 * during a run shrinks the space (a negative growth): that run is measured again. One object per
 * call would be at least 160 kB; the bound leaves room for the measuring itself.
 */
function youngGrowthOver10k(fn: (k: number) => void): number {
  for (let k = 0; k < 20_000; k++) fn(k); // warm up: compiled, caches settled
  for (let attempt = 0; attempt < 5; attempt++) {
    const before = youngBytes();
    for (let k = 0; k < 10_000; k++) fn(20_000 + attempt * 10_000 + k);
    const grown = youngBytes() - before;
    if (grown >= 0) return grown;
  }
  assert.fail('a minor GC ran during every one of 5 measurements: the code allocates heavily');
}

describe('no allocation per tick (issue 16)', () => {
  const ZONES = 8;
  const quiet = () => {
    const zones = Array.from({ length: ZONES }, () =>
      zone({ mmHg: 40, command: 'hold', setpointMmHg: 40, exhaust: true, reached: true }),
    );
    return { zones, o: obs(0, zones, { sessionElapsedMs: 0, fillLimitMs: 60_000 }) };
  };
  const tickAt = (q: ReturnType<typeof quiet>, t: number) => {
    q.o.nowMs = t;
    q.o.sampledFromMs = t;
    q.o.sessionElapsedMs = t;
    for (const z of q.zones) {
      z.sample.sampledAtMs = t;
      z.sample.mmHg = 40 + (t % 3) * 0.1;
    }
  };

  it('the supervisor returns the same list every tick, and the same trip objects while a trip lasts', () => {
    const sup = new StationSupervisor('s', ZONES, 0);
    const q = quiet();
    tickAt(q, 10);
    const first = sup.check(q.o);
    for (let t = 20; t < 10_000; t += 10) {
      tickAt(q, t);
      const trips = sup.check(q.o);
      assert.equal(trips, first, `the same list at ${t} ms`);
      assert.equal(trips.length, 0);
    }
    q.o.sessionMaxMs = 1;
    tickAt(q, 10_010);
    const tripped = sup.check(q.o);
    const trip = tripped[0];
    assert.equal(trip?.code, 'session-too-long');
    for (let t = 10_020; t < 10_200; t += 10) {
      tickAt(q, t);
      const again = sup.check(q.o);
      assert.equal(again, first, 'still the same list');
      assert.equal(again[0], trip, 'the same trip object, refilled');
    }
  });

  it('a quiet tick of the supervisor allocates nothing', () => {
    const sup = new StationSupervisor('s', ZONES, 0);
    const q = quiet();
    const grown = youngGrowthOver10k((k) => {
      tickAt(q, 10 + k * 10);
      sup.check(q.o);
    });
    assert.ok(
      grown < 64_000,
      `10,000 supervisor ticks of ${ZONES} zones grew the young heap by ${grown} bytes`,
    );
  });

  it('Station.observe() refills the same observations and allocates nothing, mid-session', async () => {
    const h = await harness();
    await h.ctrl.command('start', {
      stationId: 'bay-1',
      sessionId: 's',
      program: presetById('leg-circulation')!,
    });
    await h.run(20_000);
    const st = h.ctrl.stations[0]!;
    assert.equal(st.state, 'running');
    const now = h.clock.now();
    const first = st.observe(now);
    const zone1 = first[0];
    assert.equal(st.observe(now + 10), first, 'the same list');
    assert.equal(st.observe(now + 20)[0], zone1, 'the same zone objects');
    const grown = youngGrowthOver10k((k) => st.observe(now + k));
    assert.ok(grown < 64_000, `10,000 observe() calls grew the young heap by ${grown} bytes`);
  });
});
