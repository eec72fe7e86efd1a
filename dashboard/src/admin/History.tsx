/**
 * History: sessions filtered by station, program, status, date range and client name; the CSV of
 * exactly that list (the same query with format=csv); and one session's delivered-pressure record
 * as a chart (per zone and cycle: set against mean held pressure) beside its screening answers,
 * who started it, how it ended, and its adjustments.
 */
import { useMemo, useState } from 'preact/hooks';
import { api, type ProgramRecordView, type ScreeningQuestion } from '../api.js';
import { usePoll } from '../components/poll.js';
import { hasKey, num, t } from '../i18n/index.js';
import { dayBound, query, SESSION_STATUSES, type SessionRow } from './adminApi.js';
import { DateRangeFields, FilterForm, FilterText, ResultTable, useFilters } from './FilterTable.js';
import { LineChart, zoneColour, type LineSeries } from './LineChart.js';

type Filters = {
  station: string;
  program: string;
  status: string;
  from: string;
  to: string;
  client: string;
};
const NO_FILTERS: Filters = { station: '', program: '', status: '', from: '', to: '', client: '' };

function queryOf(f: Filters, extra: Record<string, string> = {}): string {
  return query({
    station: f.station,
    program: f.program,
    status: f.status,
    client: f.client.trim(),
    from: dayBound(f.from, false),
    to: dayBound(f.to, true),
    ...extra,
  });
}

export const when = (ms: number | undefined) => (ms === undefined ? '—' : new Date(ms).toLocaleString());

export function HistoryPage() {
  const filters = useFilters<Filters>(NO_FILTERS);
  const { form, applied, input } = filters;
  const [openId, setOpenId] = useState<string | null>(null);
  const stations = usePoll(
    () => api<{ stations: { id: string; name: string }[] }>('GET', '/api/stations').then((r) => r.stations),
    0,
  );
  const programs = usePoll(
    () => api<{ programs: ProgramRecordView[] }>('GET', '/api/programs').then((r) => r.programs),
    0,
  );
  const sessions = usePoll(
    () => api<{ sessions: SessionRow[] }>('GET', `/api/sessions${queryOf(applied)}`).then((r) => r.sessions),
    10_000,
    [applied],
  );

  return (
    <div class="history-page">
      <FilterForm
        filters={filters}
        testId="history-filters"
        actions={
          <a
            class="btn btn-secondary"
            data-testid="csv"
            href={`/api/sessions${queryOf(applied, { format: 'csv', limit: '5000' })}`}
            download="sessions.csv"
          >
            {t('history.csv')}
          </a>
        }
      >
        <label class="field">
          <span>{t('history.station')}</span>
          <select name="station" value={form.station} onChange={input('station')}>
            <option value="">{t('history.all')}</option>
            {(stations.value ?? []).map((s) => (
              <option key={s.id} value={s.id}>
                {s.name}
              </option>
            ))}
          </select>
        </label>
        <label class="field">
          <span>{t('history.program')}</span>
          <select name="program" value={form.program} onChange={input('program')}>
            <option value="">{t('history.all')}</option>
            {(programs.value ?? []).map((p) => (
              <option key={p.program.id} value={p.program.id}>
                {p.program.name}
              </option>
            ))}
          </select>
        </label>
        <label class="field">
          <span>{t('history.status')}</span>
          <select name="status" value={form.status} onChange={input('status')}>
            <option value="">{t('history.all')}</option>
            {SESSION_STATUSES.map((s) => (
              <option key={s} value={s}>
                {t(`status.${s}`)}
              </option>
            ))}
          </select>
        </label>
        <DateRangeFields filters={filters} />
        <FilterText filters={filters} name="client" label={t('history.client')} maxLength={80} />
      </FilterForm>
      <ResultTable
        testId="sessions-table"
        error={sessions.error}
        headers={[
          t('history.started'),
          t('history.station'),
          t('history.program'),
          t('history.client'),
          t('history.status'),
          t('history.delivered'),
        ]}
        empty={sessions.value?.length === 0}
        none={t('history.none')}
      >
        {(sessions.value ?? []).map((s) => (
          <tr
            key={s.id}
            data-session={s.id}
            class={`clickable ${s.id === openId ? 'selected' : ''}`}
            tabIndex={0}
            onClick={() => setOpenId(s.id === openId ? null : s.id)}
            onKeyDown={(e) => e.key === 'Enter' && setOpenId(s.id === openId ? null : s.id)}
          >
            <td>{when(s.startedAtEpochMs)}</td>
            <td>{s.stationId}</td>
            <td>
              {s.programId} v{s.programVersion}
            </td>
            <td>{s.client === 'walk-up' ? t('history.walkUp') : s.client || '—'}</td>
            <td>{t(`status.${s.status}`)}</td>
            <td>
              {s.deliveredMs === undefined ? '—' : `${num(s.deliveredMs / 60_000, 1)} ${t('unit.min')}`}
            </td>
          </tr>
        ))}
      </ResultTable>
      {openId && <SessionDetail key={openId} id={openId} />}
    </div>
  );
}

function SessionDetail({ id }: { id: string }) {
  const session = usePoll(() => api<SessionRow>('GET', `/api/sessions/${encodeURIComponent(id)}`), 0);
  const questions = usePoll(() => api<{ questions: ScreeningQuestion[] }>('GET', '/api/screening'), 0);
  const s = session.value;
  const report = s?.report;
  const chart = useMemo(() => {
    if (!report || report.zones.length === 0) return null;
    const cycles = [...new Set(report.zones.map((z) => z.cycle))].sort((a, b) => a - b);
    const zones = [...new Set(report.zones.map((z) => z.zone))].sort((a, b) => a - b);
    const at = (zone: number, cycle: number) =>
      report.zones.find((z) => z.zone === zone && z.cycle === cycle);
    const series: LineSeries[] = zones.flatMap((zone) => [
      {
        // A zone the cycle never reached (the session ended first) has no set pressure that cycle.
        label: t('history.setZone', { n: zone }),
        values: cycles.map((c) => at(zone, c)?.setMmHg || null),
        colour: zoneColour(zone),
        dash: [6, 4],
        width: 1,
      },
      {
        label: t('history.heldZone', { n: zone }),
        values: cycles.map((c) => at(zone, c)?.meanHoldMmHg ?? null),
        colour: zoneColour(zone),
        points: true,
      },
    ]);
    const top = Math.max(...report.zones.map((z) => Math.max(z.setMmHg, z.peakMmHg)));
    return { cycles, series, top };
  }, [report]);
  if (s === null) return <section class="card">{session.error ?? t('link.connecting')}</section>;
  const adjustments = s.report?.adjustments ?? s.adjustments ?? [];
  const questionText = (qid: string) => {
    const key = `screening.${qid}`;
    return hasKey(key) ? t(key) : (questions.value?.questions.find((q) => q.id === qid)?.text ?? qid);
  };
  return (
    <section class="card session-detail" data-testid="session-detail">
      <h2>
        {t('history.session')} {s.stationId} · {s.programId} v{s.programVersion}
      </h2>
      <div class="detail-grid">
        <div>
          {chart ? (
            <LineChart
              x={chart.cycles}
              series={chart.series}
              xLabel={t('history.cycle')}
              yLabel={t('unit.mmHg')}
              yMax={chart.top + 10}
              testId="session-chart"
              integerX
            />
          ) : (
            <p class="muted">{t('history.noReport')}</p>
          )}
          <p class="muted">{t('history.chartNote')}</p>
        </div>
        <dl class="facts">
          <dt>{t('history.client')}</dt>
          <dd>{s.client === 'walk-up' ? t('history.walkUp') : s.client || '—'}</dd>
          <dt>{t('history.startedBy')}</dt>
          <dd data-testid="started-by">
            {s.startedBy} · {when(s.startedAtEpochMs)}
          </dd>
          <dt>{t('history.ended')}</dt>
          <dd data-testid="ended">
            {t(`status.${s.status}`)}
            {s.reason ? ` — ${s.reason}` : ''} · {when(s.endedAtEpochMs)}
          </dd>
          <dt>{t('history.setting')}</dt>
          <dd>
            {s.pressureMmHg ?? '—'} {t('unit.mmHg')} · {s.durationMin} {t('unit.min')}
          </dd>
          <dt>{t('history.adjustments')}</dt>
          <dd data-testid="adjustments">
            {adjustments.length === 0
              ? t('history.noAdjustments')
              : adjustments.map((a, i) => (
                  <div key={i}>
                    {new Date(a.atEpochMs).toLocaleTimeString()} {a.by}:{' '}
                    {a.pressureMmHg && `${a.pressureMmHg.from} → ${a.pressureMmHg.to} ${t('unit.mmHg')}`}
                    {a.pressureMmHg && a.durationMin && ', '}
                    {a.durationMin && `${a.durationMin.from} → ${a.durationMin.to} ${t('unit.min')}`}
                  </div>
                ))}
          </dd>
          <dt>{t('history.screening')}</dt>
          <dd data-testid="screening">
            {s.screening
              ? Object.entries(s.screening.answers).map(([qid, yes]) => (
                  <div key={qid}>
                    {questionText(qid)}: <strong>{yes ? t('walkup.yes') : t('walkup.no')}</strong>
                  </div>
                ))
              : t('history.noScreening')}
          </dd>
        </dl>
      </div>
    </section>
  );
}
