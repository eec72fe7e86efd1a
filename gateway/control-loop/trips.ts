/**
 * What the supervisors return: a trip is a rule's finding this tick, with its alarm code and, from
 * the alarm table (gateway/alarm-table.ts), its priority and whether it vents.
 */
import { ALARM_TABLE, type AlarmSpec } from '../alarm-table.js';
import type { AlarmCode, AlarmPriority } from '../protocol.js';

export interface Trip {
  code: AlarmCode;
  priority: AlarmPriority;
  /** 1-based; undefined for a station- or board-wide trip. */
  zone: number | undefined;
  reason: string;
  /** Vents the station (or every station, for board trips) and latches it in fault. */
  vent: boolean;
}

/**
 * A tick's trips. The list and the Trip objects in it are the supervisor's own and are refilled
 * every tick (a supervisor runs 100 times a second per station): a caller reads them within the
 * tick and keeps nothing. A tick that trips nothing allocates nothing; one that trips builds its
 * messages.
 */
export class TripList {
  readonly list: Trip[] = [];
  private readonly pool: Trip[] = [];

  clear(): void {
    if (this.list.length > 0) this.list.length = 0;
  }

  /**
   * Adds a trip of `code` as the alarm table defines it (gateway/alarm-table.ts: its priority and
   * whether it vents). `repeatVents` decides an 'on-repeat' code (the compensated-leak count).
   */
  raise(code: AlarmCode, reason: string, zone?: number, repeatVents = false): void {
    const spec: AlarmSpec = ALARM_TABLE[code];
    let t = this.pool[this.list.length];
    if (t === undefined) {
      t = { code, priority: spec.priority, zone: undefined, reason, vent: false };
      this.pool.push(t);
    }
    t.code = code;
    t.priority = spec.priority;
    t.zone = zone;
    t.reason = reason;
    t.vent = spec.vents === 'always' || (spec.vents === 'on-repeat' && repeatVents);
    this.list.push(t);
  }
}
