/**
 * The fault matrix: every simulator fault kind, injected on every default station during a
 * session, ends with the station vented within the fault's time limit, with the expected alarm
 * (code and priority) latched until acknowledged. All four stations run at once in one world,
 * each with its own fault, which is also a check that a fault stays on its station.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { AlarmCode, AlarmPriority } from '../protocol.js';
import type { SimFaultKind } from '../sim/faults.js';
import { presetById } from './programs/presets.js';
import { harness } from './test-support/harness.js';

interface Expectation {
  /** Acceptable alarm codes (the first that fires must be one of these). */
  codes: AlarmCode[];
  priority: AlarmPriority;
  /** From the injection to the station being vented, virtual ms. */
  withinMs: number;
  zone?: boolean;
}

const MATRIX: Record<SimFaultKind, Expectation> = {
  leak: { codes: ['compensated-leak'], priority: 'medium', withinMs: 8 * 60_000, zone: true },
  'hose-disconnected': { codes: ['inflation-not-verified'], priority: 'high', withinMs: 90_000, zone: true },
  'blocked-hose': {
    codes: ['inflation-not-verified', 'over-pressure', 'vent-not-verified'],
    priority: 'high',
    withinMs: 120_000,
    zone: true,
  },
  // A stuck-open inlet either overfills its zone or, while that zone vents, lets the pump's air
  // escape through it so another zone cannot fill or it cannot vent. A strong pump (lounge-1)
  // still fills the first, ramped cycle; the second cycle's full pressure shows it.
  'valve-stuck-open': {
    codes: ['over-pressure', 'inflation-not-verified', 'vent-not-verified'],
    priority: 'high',
    withinMs: 150_000,
    zone: true,
  },
  'valve-stuck-closed': { codes: ['vent-not-verified'], priority: 'high', withinMs: 120_000, zone: true },
  'pump-dead': { codes: ['inflation-not-verified'], priority: 'high', withinMs: 60_000 },
  // At 30 % flow a pump still fills the first (ramped, lower-pressure) cycle of some programs; it is
  // caught when a zone can no longer reach its pressure within the program's fill time.
  'pump-weak': { codes: ['inflation-not-verified'], priority: 'high', withinMs: 6 * 60_000 },
  'sensor-stuck': { codes: ['sensor-implausible'], priority: 'high', withinMs: 90_000, zone: true },
  'sensor-drift': {
    codes: ['sensor-implausible', 'over-pressure'],
    priority: 'high',
    withinMs: 120_000,
    zone: true,
  },
  'sensor-disconnected': { codes: ['sensor-implausible'], priority: 'high', withinMs: 1_000, zone: true },
  'i2c-nack': { codes: ['sensor-implausible'], priority: 'high', withinMs: 1_000, zone: true },
  'modbus-link-drop': { codes: ['link-lost'], priority: 'high', withinMs: 1_000 },
  estop: { codes: ['emergency-stop'], priority: 'high', withinMs: 1_000 },
};

const PROGRAM_FOR: Record<string, string> = {
  'bay-1': 'leg-circulation',
  'bay-2': 'leg-recovery-pulse',
  'bay-3': 'arm-recovery-pulse',
  'lounge-1': 'leg-circulation',
};

/** Zone 2 is hit: distal enough to be filled early in every program. */
const FAULT_ZONE = 2;
/** Injected this far into the session: the first fill of zone 1 is under way. */
const INJECT_AT_MS = 4_000;

describe('fault matrix: every fault on every station vents it with the right alarm', () => {
  for (const [kind, want] of Object.entries(MATRIX) as [SimFaultKind, Expectation][]) {
    it(kind, async () => {
      const h = await harness();
      for (const st of h.ctrl.stations) {
        await h.ctrl.command('start', {
          stationId: st.id,
          sessionId: `${kind}-${st.id}`,
          program: presetById(PROGRAM_FOR[st.id] as string)!,
          durationMin: 20,
        });
      }
      await h.run(INJECT_AT_MS);
      if (kind === 'estop') {
        await h.ctrl.command('sim-inject', { stationId: 'bay-1', kind });
      } else {
        for (const st of h.ctrl.stations) {
          await h.ctrl.command('sim-inject', {
            stationId: st.id,
            kind,
            ...(want.zone ? { zone: FAULT_ZONE } : {}),
          });
        }
      }
      const injectedAt = h.clock.now();
      const ventedAt = new Map<string, number>();
      await h.run(want.withinMs + 100, () => {
        for (const st of h.ctrl.stations) {
          if (ventedAt.has(st.id) || st.state !== 'fault') continue;
          const m = h.sim!.world.station(st.id);
          const safe =
            m.pumpDuty === 0 && st.io.zones.every((_z, i) => !m.exhaustEnergised(i) && !m.inletEnergised(i));
          if (safe) ventedAt.set(st.id, h.clock.now());
        }
        return ventedAt.size === h.ctrl.stations.length;
      });

      const raised = h.of('alarm-raised');
      for (const st of h.ctrl.stations) {
        const at = ventedAt.get(st.id);
        assert.ok(
          at !== undefined,
          `${st.id}: not vented within ${want.withinMs} ms (state ${st.state}); alarms: ${raised.map((a) => `${a.stationId}:${a.code}`).join(', ')}`,
        );
        assert.ok(at - injectedAt <= want.withinMs, `${st.id}: vented after ${at - injectedAt} ms`);
        const mine = raised.filter((a) => a.stationId === st.id || a.stationId === null);
        const first = mine.find((a) => a.latched) ?? mine[0];
        assert.ok(first, `${st.id}: an alarm was raised`);
        assert.ok(
          want.codes.includes(first.code),
          `${st.id}: first alarm ${first.code} (${first.reason}), expected ${want.codes.join(' or ')}`,
        );
        const latched = mine.find((a) => want.codes.includes(a.code) && a.latched);
        assert.ok(latched, `${st.id}: a latched ${want.codes.join('/')} alarm`);
        assert.equal(latched.priority, want.priority, `${st.id}: priority`);
        assert.ok(latched.reason.length > 30, 'the reason is in words');
        const report = h.of('session-ended').find((r) => r.stationId === st.id);
        assert.equal(report?.end, 'fault', `${st.id}: the session ended as a fault`);
      }

      // Latched: still in fault after the condition is cleared, until acknowledged.
      await h.ctrl.command('sim-clear', { stationId: 'bay-1' });
      if (kind === 'estop') await h.ctrl.command('sim-clear', { stationId: 'bay-1', kind: 'estop' });
      await h.run(500);
      const bay1 = h.ctrl.stations[0]!;
      assert.equal(bay1.state, 'fault', 'latched until acknowledged');
      await assert.rejects(
        h.ctrl.command('start', {
          stationId: 'bay-1',
          sessionId: 'again',
          program: presetById('leg-circulation')!,
        }),
        /latched alarm/,
      );
      await h.run(12_000); // let any vent-check window pass with the condition gone
      await h.ctrl.command('acknowledge', { stationId: 'bay-1' });
      await h.run(12_000);
      assert.equal(bay1.state, 'idle', 'acknowledged and vented: idle again');
    });
  }
});
