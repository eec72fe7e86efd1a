/** Records and a scratch directory for the store's tests (and the crash-writer child). */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AlarmInfo, MaintenanceCounters, SelfTestResult, ZoneCycleReport } from '../../protocol.js';
import type { StoreLog } from '../archive.js';
import type { AuditEntry, SessionRecord, StationSettings, UserRecord } from '../types.js';

export const DAY_MS = 24 * 60 * 60 * 1000;

const closers = new Map<string, (() => Promise<void>)[]>();

/** A fresh directory, removed after the test once everything registered with closeBeforeRemoving() has run. */
export async function scratchDir(t: { after: (fn: () => Promise<void>) => void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'presso-store-'));
  closers.set(dir, []);
  t.after(async () => {
    for (const close of closers.get(dir) ?? []) await close().catch(() => undefined);
    closers.delete(dir);
    await rm(dir, { recursive: true, force: true });
  });
  return dir;
}

/** Stores must be closed before their directory goes, or their last write fails and a timer lingers. */
export function closeBeforeRemoving(dir: string, close: () => Promise<void>): void {
  closers.get(dir)?.push(close);
}

/** Collects what the store logs, so recovery warnings are asserted instead of printed. */
export class MemoryLog implements StoreLog {
  readonly lines: string[] = [];
  info(msg: string): void {
    this.lines.push(`info ${msg}`);
  }
  warn(msg: string): void {
    this.lines.push(`warn ${msg}`);
  }
  error(msg: string): void {
    this.lines.push(`error ${msg}`);
  }
}

/** A clock the test moves by hand. */
export class ManualClock {
  constructor(public ms: number) {}
  readonly now = (): number => this.ms;
}

export function sessionRecord(
  id: string,
  startedAtEpochMs: number,
  over: Partial<SessionRecord> = {},
): SessionRecord {
  return {
    id,
    stationId: 'bay-1',
    programId: 'leg-recovery-pulse',
    programVersion: 1,
    client: 'Jo Client',
    startedBy: 'u-staff',
    startedAtEpochMs,
    pressureMmHg: 60,
    durationMin: 30,
    status: 'running',
    ...over,
  };
}

/** A session as it is after the controller's report: about `zoneCycles` × 80 bytes of report. */
export function endedSession(s: SessionRecord, zoneCycles = 40): SessionRecord {
  const endedAtEpochMs = s.startedAtEpochMs + s.durationMin * 60_000;
  const zones: ZoneCycleReport[] = Array.from({ length: zoneCycles }, (_, i) => ({
    zone: (i % 6) + 1,
    cycle: Math.floor(i / 6) + 1,
    setMmHg: 60,
    peakMmHg: 61.4,
    meanHoldMmHg: 59.8,
  }));
  return {
    ...s,
    status: 'completed',
    endedAtEpochMs,
    reason: 'completed',
    // The summary the store keeps on the record (it files the report itself by month).
    deliveredMs: s.durationMin * 60_000,
    cyclesDone: Math.ceil(zoneCycles / 6),
    report: {
      sessionId: s.id,
      stationId: s.stationId,
      programId: s.programId,
      programVersion: s.programVersion,
      startedAtEpochMs: s.startedAtEpochMs,
      endedAtEpochMs,
      end: 'completed',
      reason: 'completed',
      cyclesDone: Math.ceil(zoneCycles / 6),
      deliveredMs: s.durationMin * 60_000,
      zones,
    },
  };
}

export function alarm(id: string, raisedAtEpochMs: number): AlarmInfo {
  return {
    id,
    code: 'over-pressure',
    priority: 'high',
    stationId: 'bay-1',
    zone: 2,
    reason: 'Zone 2 went over its limit; the station vented. Check the garment fit.',
    raisedAtEpochMs,
    latched: true,
    active: true,
  };
}

export function auditEntry(atEpochMs: number, what = 'POST /api/stations/bay-1/start'): AuditEntry {
  return { atEpochMs, who: 'u-staff', role: 'staff', what, from: '192.168.1.20', ok: true };
}

export function user(id: string, createdAtEpochMs: number): UserRecord {
  return {
    id,
    name: `User ${id}`,
    role: 'staff',
    secretHash: 'scrypt$16384$8$1$c2FsdA$aGFzaA',
    createdAtEpochMs,
  };
}

export function settings(stationId: string): StationSettings {
  return {
    stationId,
    walkUpPrograms: ['leg-recovery-pulse'],
    walkUpMaxPressureMmHg: 60,
    walkUpMaxDurationMin: 20,
    ceilingMmHg: 90,
    walkUpEnabled: true,
  };
}

export function counters(stationId: string, pumpRunMs: number): MaintenanceCounters {
  return {
    stationId,
    pumpRunMs,
    pumpStarts: 12,
    inletCycles: [10, 11, 12, 13],
    exhaustCycles: [9, 10, 11, 12],
    trips: 1,
    leakDuty: [0.01, 0.02, 0.01, 0],
  };
}

export function selfTest(stationId: string, atEpochMs: number): SelfTestResult {
  return {
    stationId,
    kind: 'sensor-zero',
    ok: true,
    details: ['zone 1 ok', 'zone 2 ok'],
    values: [0.4, -0.2],
    atEpochMs,
  };
}
