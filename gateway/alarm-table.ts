/**
 * Every alarm code, defined once: its priority (IEC 60601-1-8 names), whether it vents, whether it
 * latches, and the dashboard's message key for its title. The supervisor raises trips from this
 * table (supervisor.ts, TripList.raise), the dashboard titles and orders alarms from it, and docs/safety.md's hazard
 * table names the same values (alarm-table.test.ts checks them against the docs).
 *
 * Every venting alarm latches (docs/safety.md §4). `compensated-leak` vents only on the
 * `compensatedLeakLimit`-th occurrence in a session ('on-repeat'). `loop-late` is not kept in the
 * alarm book: it travels as its own low-priority event and is listed here so its priority and
 * title have one definition too.
 */
import type { AlarmCode, AlarmPriority } from './protocol.js';

export interface AlarmSpec {
  readonly priority: AlarmPriority;
  /** 'always', 'never', or 'on-repeat' (the compensatedLeakLimit-th time in a session). */
  readonly vents: 'always' | 'never' | 'on-repeat';
  /** Stays until acknowledged (every alarm that vented does). */
  readonly latches: 'always' | 'never' | 'on-repeat';
  /** Where it comes from: a station's supervisor rule, the board rules, or the web process. */
  readonly raisedBy: 'station' | 'board' | 'web';
  /** The dashboard's i18n key of the short title. */
  readonly messageKey: `alarm.${AlarmTableCode}`;
}

export type AlarmTableCode = AlarmCode | 'loop-late';

function spec(
  priority: AlarmPriority,
  vents: AlarmSpec['vents'],
  raisedBy: AlarmSpec['raisedBy'],
  code: AlarmTableCode,
): AlarmSpec {
  return { priority, vents, latches: vents, raisedBy, messageKey: `alarm.${code}` };
}

export const ALARM_TABLE = {
  'over-pressure': spec('high', 'always', 'station', 'over-pressure'),
  'sensor-implausible': spec('high', 'always', 'station', 'sensor-implausible'),
  'inflation-not-verified': spec('high', 'always', 'station', 'inflation-not-verified'),
  'compensated-leak': spec('medium', 'on-repeat', 'station', 'compensated-leak'),
  'vent-not-verified': spec('high', 'always', 'station', 'vent-not-verified'),
  'pump-dead-head': spec('high', 'always', 'station', 'pump-dead-head'),
  'session-too-long': spec('medium', 'always', 'station', 'session-too-long'),
  'link-lost': spec('high', 'always', 'station', 'link-lost'),
  'emergency-stop': spec('high', 'always', 'board', 'emergency-stop'),
  'loop-stall': spec('high', 'always', 'board', 'loop-stall'),
  'loop-late': spec('low', 'never', 'board', 'loop-late'),
  // The web process's own: its database had to be restored (gateway/server/plugins/store.ts).
  // Nothing to vent, but a person must look. 'controller-restarted' is named by the protocol and
  // the dashboard but raised by no code today.
  'controller-restarted': { ...spec('high', 'never', 'web', 'controller-restarted'), latches: 'always' },
  'database-recovered': { ...spec('medium', 'never', 'web', 'database-recovered'), latches: 'always' },
} as const satisfies Record<AlarmTableCode, AlarmSpec>;

/** Rank of each priority, most urgent first, for ordering alarm lists (board, presso-ctl). */
export const PRIORITY_RANK: Readonly<Record<AlarmPriority, number>> = { high: 0, medium: 1, low: 2 };
