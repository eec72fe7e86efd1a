/**
 * A session's report: what each zone was set to, reached and held in every cycle, and how the
 * session ended. The station records each tick's figures into a CycleLog while the session runs
 * and builds the report from it once, when the session ends (completed, stopped or tripped).
 */
import type { SessionAdjustment, SessionEnd, SessionReport, ZoneCycleReport } from '../protocol.js';
import type { RunnerOutput } from './programs/runner.js';

/** One cycle's figures, per zone. */
interface CycleFigures {
  set: number[];
  peak: number[];
  holdSum: number[];
  holdN: number[];
}

/** Per zone, per cycle: the set pressure, the peak, and the sum of pressures while held at target. */
export class CycleLog {
  private readonly cycles = new Map<number, CycleFigures>();

  /**
   * Adds one tick of the runner's output. `reached` says which zones the regulator had brought to
   * their target (only those count towards the mean hold pressure); a NaN pressure (a read error)
   * counts for nothing.
   */
  record(out: RunnerOutput, pressures: readonly number[], reached: readonly boolean[]): void {
    let c = this.cycles.get(out.cycle);
    if (!c) {
      const n = pressures.length;
      c = {
        set: new Array<number>(n).fill(0),
        peak: new Array<number>(n).fill(Number.NEGATIVE_INFINITY),
        holdSum: new Array<number>(n).fill(0),
        holdN: new Array<number>(n).fill(0),
      };
      this.cycles.set(out.cycle, c);
    }
    for (let i = 0; i < out.zones.length; i++) {
      const z = out.zones[i];
      if (!z) continue;
      const p = pressures[i] ?? Number.NaN;
      if (z.command !== 'vent') c.set[i] = Math.max(c.set[i] ?? 0, z.targetMmHg);
      if (Number.isFinite(p)) c.peak[i] = Math.max(c.peak[i] ?? Number.NEGATIVE_INFINITY, p);
      if (z.command === 'hold' && reached[i] === true && Number.isFinite(p)) {
        c.holdSum[i] = (c.holdSum[i] ?? 0) + p;
        c.holdN[i] = (c.holdN[i] ?? 0) + 1;
      }
    }
  }

  /** Every cycle of every zone not skipped, cycle by cycle in zone order. */
  zoneReports(skipped: (zoneIndex: number) => boolean): ZoneCycleReport[] {
    const zones: ZoneCycleReport[] = [];
    for (const [cycle, c] of [...this.cycles.entries()].sort((a, b) => a[0] - b[0])) {
      c.set.forEach((set, i) => {
        if (skipped(i)) return;
        const n = c.holdN[i] ?? 0;
        const peak = c.peak[i] ?? Number.NEGATIVE_INFINITY;
        zones.push({
          zone: i + 1,
          cycle,
          setMmHg: round1(set),
          peakMmHg: round1(Number.isFinite(peak) ? peak : 0),
          meanHoldMmHg: n > 0 ? round1((c.holdSum[i] ?? 0) / n) : null,
        });
      });
    }
    return zones;
  }
}

/** What a session's report is built from, as the station holds it when the session ends. */
export interface EndedSession {
  sessionId: string;
  stationId: string;
  programId: string;
  programVersion: number;
  startedAtEpochMs: number;
  endedAtEpochMs: number;
  end: SessionEnd;
  reason: string;
  cyclesDone: number;
  deliveredMs: number;
  log: CycleLog;
  skipped: (zoneIndex: number) => boolean;
  adjustments: SessionAdjustment[];
}

export function sessionReport(s: EndedSession): SessionReport {
  return {
    sessionId: s.sessionId,
    stationId: s.stationId,
    programId: s.programId,
    programVersion: s.programVersion,
    startedAtEpochMs: s.startedAtEpochMs,
    endedAtEpochMs: s.endedAtEpochMs,
    end: s.end,
    reason: s.reason,
    cyclesDone: s.cyclesDone,
    deliveredMs: Math.round(s.deliveredMs),
    zones: s.log.zoneReports(s.skipped),
    ...(s.adjustments.length > 0 ? { adjustments: s.adjustments } : {}),
  };
}

function round1(x: number): number {
  return Math.round(x * 10) / 10;
}
