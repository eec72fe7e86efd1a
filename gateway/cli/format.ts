/**
 * What presso-ctl prints: plain columns for people, whose layout scripts and tests read, so it
 * is kept stable.
 */
import { PRIORITY_RANK as PRIORITY_ORDER } from '../alarm-table.js';
import type { AlarmInfo, MaintenanceCounters, StationFrame } from '../protocol.js';

/** Columns padded to their widest cell, two spaces apart, no trailing blanks. */
function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  return [header, ...rows]
    .map((cells) =>
      cells
        .map((c, i) => c.padEnd(widths[i] ?? 0))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

function minutesSeconds(totalS: number): string {
  const s = Math.max(0, Math.round(totalS));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

function mmHg(v: number | null): string {
  return v === null ? '--' : v.toFixed(0);
}

function phaseText(frame: StationFrame): string {
  if (frame.phase === null) return '-';
  return frame.phase.zone === undefined ? frame.phase.kind : `${frame.phase.kind} z${frame.phase.zone}`;
}

/** Measured/target per zone, distal first; "--" where the sensor gives no valid value. */
function zonesText(frame: StationFrame): string {
  return frame.zones.map((z) => `${mmHg(z.pressureMmHg)}/${mmHg(z.targetMmHg)}`).join(' ');
}

export function stationTable(frames: StationFrame[]): string {
  return table(
    [
      'STATION',
      'NAME',
      'STATE',
      'PHASE',
      'PROGRAM',
      'CYCLE',
      'LEFT',
      'LINK',
      'ALARMS',
      'ZONES mmHg (measured/target)',
    ],
    frames.map((f) => [
      f.id,
      f.name,
      f.state,
      phaseText(f),
      f.session?.programId ?? '-',
      f.session ? String(f.session.cycle) : '-',
      f.session ? minutesSeconds(f.session.remainingS) : '-',
      f.link,
      String(f.alarms.length),
      zonesText(f),
    ]),
  );
}

export function alarmTable(alarms: AlarmInfo[]): string {
  const sorted = [...alarms].sort(
    (a, b) =>
      PRIORITY_ORDER[a.priority] - PRIORITY_ORDER[b.priority] || a.raisedAtEpochMs - b.raisedAtEpochMs,
  );
  return table(
    ['PRIORITY', 'STATION', 'ZONE', 'ALARM', 'STATUS', 'REASON'],
    sorted.map((a) => [
      a.priority.toUpperCase(),
      a.stationId ?? 'all',
      a.zone === undefined ? '-' : String(a.zone),
      a.code,
      [a.active ? 'active' : 'cleared', ...(a.latched ? ['latched'] : [])].join(', '),
      a.reason,
    ]),
  );
}

export function countersTable(counters: MaintenanceCounters[]): string {
  const perZone = (values: number[], digits = 0) => values.map((v) => v.toFixed(digits)).join('/');
  return table(
    ['STATION', 'PUMP HOURS', 'PUMP STARTS', 'TRIPS', 'INLET CYCLES', 'EXHAUST CYCLES', 'LEAK DUTY'],
    counters.map((c) => [
      c.stationId,
      (c.pumpRunMs / 3_600_000).toFixed(1),
      String(c.pumpStarts),
      String(c.trips),
      perZone(c.inletCycles),
      perZone(c.exhaustCycles),
      perZone(c.leakDuty, 2),
    ]),
  );
}

/** One watch line without its time, so an unchanged station prints nothing. */
export function watchLine(f: StationFrame): string {
  const alarms = f.alarms.length === 0 ? '' : `  alarms ${f.alarms.length}`;
  const link = f.link === 'ok' ? '' : `  link ${f.link}`;
  return `${f.id}  ${f.state}  ${phaseText(f)}  zones ${zonesText(f)}  pump ${(f.pumpDuty * 100).toFixed(0)}%${alarms}${link}`;
}

export function clockTime(epochMs: number): string {
  const d = new Date(epochMs);
  const two = (n: number) => String(n).padStart(2, '0');
  return `${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}.${String(d.getMilliseconds()).padStart(3, '0')}`;
}
