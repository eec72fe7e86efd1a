/**
 * Alarm bookkeeping: a trip from the supervisor becomes an alarm once (not once per tick), stays
 * active while its condition lasts, and — when it vented the station — stays latched until
 * someone acknowledges it after the condition has gone (IEC 60601-1-8's latching alarm).
 */
import type { AlarmInfo } from '../protocol.js';
import type { Trip } from './trips.js';

export interface AlarmChange {
  readonly raised: readonly AlarmInfo[];
  readonly cleared: readonly AlarmInfo[];
}

/** The usual tick's change: none (shared, so a quiet tick allocates nothing). */
const NO_CHANGE: AlarmChange = Object.freeze({ raised: Object.freeze([]), cleared: Object.freeze([]) });

const key = (stationId: string | null, t: { code: string; zone?: number }) =>
  `${stationId ?? '*'}|${t.code}|${t.zone ?? ''}`;

export class AlarmBook {
  private readonly alarms = new Map<string, AlarmInfo>();
  private seq = 0;

  constructor(private readonly epochNow: () => number = Date.now) {}

  /**
   * Reconciles this tick's trips for one scope (a station id, or null for the board): new ones
   * are raised, missing ones become inactive; inactive unlatched ones are cleared.
   */
  update(stationId: string | null, trips: readonly Trip[]): AlarmChange {
    // The usual tick: nothing tripped and nothing to clear (called once per station per tick).
    if (trips.length === 0 && this.alarms.size === 0) return NO_CHANGE;
    const raised: AlarmInfo[] = [];
    const cleared: AlarmInfo[] = [];
    const now = new Set<string>();
    for (const t of trips) {
      const k = key(stationId, t);
      now.add(k);
      const existing = this.alarms.get(k);
      if (existing) {
        existing.active = true;
        if (t.vent && !existing.latched) existing.latched = true;
        continue;
      }
      const a: AlarmInfo = {
        id: `a${Date.now().toString(36)}-${(++this.seq).toString(36)}`,
        code: t.code,
        priority: t.priority,
        stationId,
        ...(t.zone !== undefined ? { zone: t.zone } : {}),
        reason: t.reason,
        raisedAtEpochMs: this.epochNow(),
        latched: t.vent,
        active: true,
      };
      this.alarms.set(k, a);
      raised.push({ ...a });
    }
    for (const [k, a] of this.alarms) {
      if (a.stationId !== stationId || now.has(k)) continue;
      if (a.active) a.active = false;
      if (!a.latched) {
        this.alarms.delete(k);
        cleared.push({ ...a });
      }
    }
    return { raised, cleared };
  }

  /** Alarms of a station plus board-wide ones. */
  forStation(stationId: string): AlarmInfo[] {
    return [...this.alarms.values()]
      .filter((a) => a.stationId === stationId || a.stationId === null)
      .map((a) => ({ ...a }));
  }

  all(): AlarmInfo[] {
    return [...this.alarms.values()].map((a) => ({ ...a }));
  }

  /** Whether a station (or the board, for null) has a latched alarm. */
  latched(stationId: string | null): boolean {
    return [...this.alarms.values()].some((a) => a.latched && a.stationId === stationId);
  }

  /**
   * Acknowledges latched alarms whose condition is gone: those of `stationId` (and board-wide
   * ones) or the one with `alarmId`. Returns the cleared alarms; still-active ones are returned
   * in `refused` so the caller can say why.
   */
  acknowledge(filter: { stationId?: string; alarmId?: string }): {
    cleared: AlarmInfo[];
    refused: AlarmInfo[];
  } {
    const cleared: AlarmInfo[] = [];
    const refused: AlarmInfo[] = [];
    for (const [k, a] of this.alarms) {
      const match = filter.alarmId
        ? a.id === filter.alarmId
        : filter.stationId === undefined || a.stationId === filter.stationId || a.stationId === null;
      if (!match) continue;
      if (a.active) {
        refused.push({ ...a });
        continue;
      }
      this.alarms.delete(k);
      cleared.push({ ...a });
    }
    return { cleared, refused };
  }
}
