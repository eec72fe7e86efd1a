/**
 * Every built-in program runs on the simulated board in virtual time: zones inflate in the
 * program's order, the gradient is held, the session ends on time, and the report's figures
 * match the trace the test recorded itself.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PRESETS } from './programs/presets.js';
import { harness } from './test-support/harness.js';
import type { Program } from './programs/schema.js';

/** The zone order a mode fills in, for an n-zone garment (1-based). */
function expectedOrder(p: Program, n: number): number[] {
  const main = Array.from({ length: n }, (_, i) => i + 1);
  if (p.mode !== 'lymphatic') return main;
  const pre = main.slice(-(p.lymphatic?.preClearZones ?? 0)).reverse();
  return [...pre, ...main];
}

const STATION_FOR: Record<string, string> = {
  leg: 'bay-1',
  thigh: 'bay-1',
  arm: 'bay-3',
  abdomen: 'lounge-1',
};
const DURATION_MIN = 3;

describe('built-in programs on the simulator', () => {
  for (const preset of PRESETS) {
    const stationId = STATION_FOR[preset.garments[0] ?? 'leg'] ?? 'bay-1';
    it(`${preset.id} on ${stationId}: order, hold, duration and report`, async () => {
      // The default board has no abdomen-only garment: for abdomen programs, lounge-1 wears an
      // 8-chamber abdominal belt instead (the simulator builds abdomen chambers for it).
      const h = await harness('simulator', (board) => {
        if (stationId !== 'lounge-1') return;
        const st = board.stations[3]!;
        st.garment = 'abdomen';
        for (const z of st.zones) z.class = 'abdomen';
      });
      const st = h.ctrl.stations.find((s) => s.id === stationId)!;
      const n = st.io.zones.length;
      await h.ctrl.command('start', {
        stationId,
        sessionId: 'x',
        program: preset,
        durationMin: DURATION_MIN,
      });

      // Record the trace: fill order per cycle, and pressures per zone per cycle.
      const order = new Map<number, number[]>();
      const peak = new Map<string, number>();
      await h.run((DURATION_MIN + 5) * 60_000, () => {
        const f = h.ctrl.frames().find((x) => x.id === stationId)!;
        if (f.state !== 'running') return f.state === 'idle' || f.state === 'fault';
        const cycle = f.session!.cycle;
        if (f.phase?.kind === 'inflating' && f.phase.zone !== undefined) {
          const seq = order.get(cycle) ?? [];
          if (seq.at(-1) !== f.phase.zone) seq.push(f.phase.zone);
          order.set(cycle, seq);
        }
        for (const z of f.zones) {
          if (z.pressureMmHg === null) continue;
          const k = `${cycle}/${z.zone}`;
          peak.set(k, Math.max(peak.get(k) ?? Number.NEGATIVE_INFINITY, z.pressureMmHg));
        }
        return false;
      });

      assert.deepEqual(h.of('alarm-raised'), [], 'no alarm during a normal session');
      const [report] = h.of('session-ended');
      assert.ok(report, 'the session ended');
      assert.equal(report.end, 'completed');
      assert.ok(report.cyclesDone >= 1);
      // On time: the duration, plus at most the cycle that was running when time ran out.
      assert.ok(report.deliveredMs >= DURATION_MIN * 60_000, `delivered ${report.deliveredMs} ms`);
      assert.ok(
        report.deliveredMs <= DURATION_MIN * 60_000 + 3 * 60_000,
        `delivered ${report.deliveredMs} ms`,
      );

      const want = expectedOrder(preset, n);
      for (const [cycle, seq] of order) {
        if (cycle > report.cyclesDone) continue; // the cycle cut by the end of the session
        assert.deepEqual(seq, want, `cycle ${cycle} fill order`);
      }

      // The report's peaks are the trace's peaks (the test sampled every tick, as the report does).
      for (const z of report.zones) {
        const traced = peak.get(`${z.cycle}/${z.zone}`);
        assert.ok(traced !== undefined, `trace has cycle ${z.cycle} zone ${z.zone}`);
        assert.ok(
          Math.abs(z.peakMmHg - traced) <= 0.15,
          `cycle ${z.cycle} zone ${z.zone}: report ${z.peakMmHg} trace ${traced}`,
        );
      }

      // From cycle 2 on (after the ramp), held pressure is close to the set pressure.
      const full = report.zones.filter(
        (z) => z.cycle > (preset.rampUpCycles ?? 0) && z.meanHoldMmHg !== null,
      );
      for (const z of full) {
        if (preset.mode === 'pulse') continue; // pulse holds at a fraction by design
        assert.ok(
          Math.abs((z.meanHoldMmHg as number) - z.setMmHg) <= 3,
          `cycle ${z.cycle} zone ${z.zone}: held ${z.meanHoldMmHg} for ${z.setMmHg}`,
        );
      }
      if (preset.mode === 'gradient') {
        const c = Math.max(...full.map((z) => z.cycle));
        const held = full.filter((z) => z.cycle === c).sort((a, b) => a.zone - b.zone);
        for (let i = 1; i < held.length; i++) {
          assert.ok(
            (held[i - 1]!.meanHoldMmHg as number) > (held[i]!.meanHoldMmHg as number),
            `gradient: zone ${held[i - 1]!.zone} above zone ${held[i]!.zone}`,
          );
        }
      }
      assert.equal(st.state, 'idle', 'vented and idle after the session');
    });
  }
});
