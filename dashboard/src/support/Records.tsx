import type { AlarmInfo, AuditEntry, MaintenanceCounters } from '../api.js';
import { PriorityTag } from '../components/AlarmItem.js';
import { lang, num, t } from '../i18n/index.js';

/** The last 40 alarms, newest first. */
export function AlarmHistory({ alarms }: { alarms: AlarmInfo[] }) {
  return (
    <section class="card">
      <h2>{t('support.alarmHistory')}</h2>
      <ul class="history-list" data-testid="support-alarms">
        {alarms.slice(0, 40).map((a, i) => (
          <li key={`${a.id}-${i}`}>
            <PriorityTag priority={a.priority} />{' '}
            <time>{new Date(a.raisedAtEpochMs).toLocaleString(lang())}</time>{' '}
            <strong>{a.stationId ?? '—'}</strong> {a.code}: {a.reason}
          </li>
        ))}
      </ul>
    </section>
  );
}

/** The last 40 changes asked for, accepted or not. */
export function AuditList({ audit }: { audit: AuditEntry[] }) {
  return (
    <section class="card">
      <h2>{t('support.audit')}</h2>
      <ul class="history-list" data-testid="support-audit">
        {audit.slice(0, 40).map((a, i) => (
          <li key={i} class={a.ok ? '' : 'refused'}>
            <time>{new Date(a.atEpochMs).toLocaleString(lang())}</time> <strong>{a.who}</strong> {a.what}{' '}
            {a.ok ? '✓' : '✗'}
            {a.detail && <span class="muted"> — {a.detail}</span>}
          </li>
        ))}
      </ul>
    </section>
  );
}

/** Pump hours and starts, trips and valve cycles per station. */
export function CountersTable({ counters }: { counters: MaintenanceCounters[] }) {
  return (
    <section class="card">
      <h2>{t('support.counters')}</h2>
      <table class="counters">
        <thead>
          <tr>
            <th>{t('support.station')}</th>
            <th>{t('support.pumpHours')}</th>
            <th>{t('support.pumpStarts')}</th>
            <th>{t('support.trips')}</th>
            <th>{t('support.valveCycles')}</th>
          </tr>
        </thead>
        <tbody>
          {counters.map((c) => (
            <tr key={c.stationId}>
              <td>{c.stationId}</td>
              <td>
                {num(c.pumpRunMs / 60_000, 1)} {t('unit.min')}
              </td>
              <td>{c.pumpStarts}</td>
              <td>{c.trips}</td>
              <td>{c.inletCycles.join(' / ')}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

/** The board configuration as the controller loaded it (read-only). */
export function BoardConfig({ board, error }: { board: unknown; error: string | null }) {
  return (
    <section class="card">
      <h2>{t('support.config')}</h2>
      <pre class="config" data-testid="board-config">
        {board !== undefined ? JSON.stringify(board, null, 2) : (error ?? '…')}
      </pre>
    </section>
  );
}
