import { PRIORITY_RANK as PRIORITY_ORDER } from '../../gateway/alarm-table.js';
import type { AlarmInfo, LiveFrame } from './api.js';
import { num } from './i18n/index.js';

/** 754 s → "12:34": minutes as the unit staff and visitors read, seconds for the last stretch. */
export function clock(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

export function mmHg(v: number | null | undefined): string {
  return v === null || v === undefined ? '—' : num(v);
}

/** Active and latched alarms of every station once each (board-wide ones appear in every frame). */
export function activeAlarms(frames: LiveFrame[]): AlarmInfo[] {
  const byId = new Map<string, AlarmInfo>();
  for (const f of frames) for (const a of f.alarms ?? []) if (a.active || a.latched) byId.set(a.id, a);
  return [...byId.values()].sort(
    (a, b) =>
      PRIORITY_ORDER[a.priority] - PRIORITY_ORDER[b.priority] || b.raisedAtEpochMs - a.raisedAtEpochMs,
  );
}
