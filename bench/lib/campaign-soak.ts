/**
 * Soak campaign: the 8-station bench board (8 zones each) in accelerated (virtual) time, every
 * station running presets back to back with the simulator's noise, offsets, coupling and patient
 * artefacts on, as the long-run test does on 4 stations. Verdicts:
 *
 * - memory flat: the heap after a full GC at the end is within 5 % of the heap after the first
 *   simulated 10 % (warm-up: code compiled, the sessions' buffers sized);
 * - no false alarm: nothing is wrong with the simulated hardware, so any alarm is false;
 * - every session report is consistent with its trace (the 20 Hz frames of that session): the
 *   cycles match, every zone's reported peak is at least the highest pressure its frames showed
 *   in that cycle, the delivered time matches the report's start and end, and it completed (or was
 *   stopped by the end of the run).
 *
 * Run node with --expose-gc for the memory figure (npm run campaign does); without it the heap is
 * read without a forced GC and the verdict is looser than it says.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SessionReport, StationFrame } from '../../gateway/protocol.js';
import { writeBenchBoard } from './board.js';
import { runVirtual } from './virtual.js';

export interface SoakCounts {
  simulatedMin: number;
  stations: number;
  sessions: number;
  completed: number;
  alarms: number;
  alarmCodes: string[];
  inconsistentReports: number;
  heapWarmMb: number;
  heapEndMb: number;
  heapGrowthPercent: number;
  rssEndMb: number;
  speedup: number;
  forcedGc: boolean;
  failures: string[];
  durationS: number;
}

interface Trace {
  maxCycle: number;
  /** "zone/cycle" → highest frame pressure. */
  peak: Map<string, number>;
}

function heapMb(): number {
  (globalThis as { gc?: () => void }).gc?.();
  return process.memoryUsage().heapUsed / 2 ** 20;
}

export async function soakCampaign(
  simulatedMin: number,
  stations: number,
  log: (m: string) => void = () => {},
): Promise<SoakCounts> {
  const t0 = Date.now();
  const dir = mkdtempSync(join(tmpdir(), 'presso-soak-'));
  const board = writeBenchBoard(dir, stations, 8);
  const traces = new Map<string, Trace>();
  let heapWarm = Number.NaN;
  const warmAtMs = Math.max(60_000, simulatedMin * 6000);
  const failures: string[] = [];
  let inconsistent = 0;
  let sessions = 0;
  let completed = 0;
  const check = (r: SessionReport) => {
    const problems: string[] = [];
    const t = traces.get(r.sessionId);
    traces.delete(r.sessionId);
    sessions++;
    if (r.end === 'completed') completed++;
    if (!t) problems.push('no frames');
    if (r.end !== 'completed' && !(r.end === 'stopped' && r.reason === 'end of the virtual run'))
      problems.push(`ended ${r.end}: ${r.reason}`);
    const cycles = Math.max(0, ...r.zones.map((z) => z.cycle));
    if (t && cycles !== t.maxCycle) problems.push(`report has ${cycles} cycles, frames showed ${t.maxCycle}`);
    if (r.cyclesDone > cycles || r.cyclesDone < cycles - 1)
      problems.push(`cyclesDone ${r.cyclesDone} against ${cycles} cycles reported`);
    for (const z of r.zones) {
      const seen = t?.peak.get(`${z.zone}/${z.cycle}`);
      // Both are rounded to 0.1 mmHg.
      if (seen !== undefined && z.peakMmHg < seen - 0.15)
        problems.push(
          `zone ${z.zone} cycle ${z.cycle}: peak ${z.peakMmHg} below the ${seen} its frames showed`,
        );
      if (z.meanHoldMmHg !== null && z.meanHoldMmHg > z.peakMmHg + 0.15)
        problems.push(
          `zone ${z.zone} cycle ${z.cycle}: mean hold ${z.meanHoldMmHg} above its peak ${z.peakMmHg}`,
        );
    }
    // No pauses in the soak: therapy time is the span of the session, within a tick or two.
    const span = r.endedAtEpochMs - r.startedAtEpochMs;
    if (Math.abs(r.deliveredMs - span) > 50)
      problems.push(`delivered ${r.deliveredMs} ms over a span of ${span} ms`);
    if (problems.length > 0) {
      inconsistent++;
      if (failures.length < 20) failures.push(`${r.stationId} ${r.sessionId}: ${problems.join('; ')}`);
    }
  };
  try {
    const run = await runVirtual({
      profile: board,
      simulatedMs: simulatedMin * 60_000,
      // Short soaks run short sessions, so that sessions complete and are checked.
      sessionMin: simulatedMin >= 30 ? 10 : 3,
      keepReports: false,
      onProgress: (ms) => {
        if (Number.isNaN(heapWarm) && ms >= warmAtMs) heapWarm = heapMb();
        if (ms > 0 && ms % 600_000 < 60_000)
          log(`soak: ${Math.round(ms / 60_000)}/${simulatedMin} simulated min`);
      },
      listen: (event, data) => {
        if (event === 'session-ended') check(data as SessionReport);
        if (event !== 'frame') return;
        const f = data as StationFrame;
        if (!f.session) return;
        let t = traces.get(f.session.id);
        if (!t) traces.set(f.session.id, (t = { maxCycle: 0, peak: new Map() }));
        const cycle = f.session.cycle;
        if (cycle > t.maxCycle) t.maxCycle = cycle;
        for (const z of f.zones) {
          if (z.pressureMmHg === null) continue;
          const k = `${z.zone}/${cycle}`;
          if (z.pressureMmHg > (t.peak.get(k) ?? Number.NEGATIVE_INFINITY)) t.peak.set(k, z.pressureMmHg);
        }
      },
    });
    const heapEnd = heapMb();
    if (Number.isNaN(heapWarm)) heapWarm = heapEnd;
    const growth = (100 * (heapEnd - heapWarm)) / heapWarm;
    if (run.alarms.length > 0)
      failures.push(
        `${run.alarms.length} false alarm(s): ${run.alarms
          .slice(0, 5)
          .map((a) => `${a.stationId} ${a.code}: ${a.reason}`)
          .join(' | ')}`,
      );
    if (growth >= 5)
      failures.push(`heap grew ${growth.toFixed(1)} % (${heapWarm.toFixed(1)} → ${heapEnd.toFixed(1)} MB)`);
    return {
      simulatedMin,
      stations,
      sessions,
      completed,
      alarms: run.alarms.length,
      alarmCodes: [...new Set(run.alarms.map((a) => a.code))],
      inconsistentReports: inconsistent,
      heapWarmMb: heapWarm,
      heapEndMb: heapEnd,
      heapGrowthPercent: growth,
      rssEndMb: process.memoryUsage().rss / 2 ** 20,
      speedup: run.speedup,
      forcedGc: typeof (globalThis as { gc?: unknown }).gc === 'function',
      failures,
      durationS: (Date.now() - t0) / 1000,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
