/**
 * Remote support (`/support`, support or admin login): live pressure traces per station, the
 * controller and device links and loop timing, alarm and audit history, maintenance counters,
 * self-tests, the board configuration (read-only), a log download, and on a simulated board the
 * simulator's fault injection.
 */
import { useEffect, useState } from 'preact/hooks';
import { SIM_FAULT_KINDS } from '../../../gateway/sim/faults.js';
import {
  api,
  ApiError,
  login,
  logout,
  whoAmI,
  type Actor,
  type AlarmInfo,
  type AuditEntry,
  type ControllerInfo,
  type MaintenanceCounters,
  type SelfTestResult,
} from '../api.js';
import { PriorityTag } from '../components/AlarmItem.js';
import { useLiveLink, usePoll } from '../components/hooks.js';
import { LangSwitch } from '../components/LangSwitch.js';
import { LinkBanner } from '../components/LinkBanner.js';
import { Modal } from '../components/Modal.js';
import { lang, num, t } from '../i18n/index.js';
import { PressureChart } from './PressureChart.js';

const POLL_MS = 3000;

/** GET /api/health's `clock` (gateway/server/clock-state.ts). */
interface ClockInfo {
  synchronized: boolean | null;
  source: string;
  lastJump: { atEpochMs: number; byMs: number } | null;
}
const SELF_TESTS = ['valve-click', 'sensor-zero', 'leak'] as const;

export function Support({ onLangChange }: { onLangChange: () => void }) {
  const [actor, setActor] = useState<Actor | null>(null);
  useEffect(() => {
    whoAmI().then(setActor, () => setActor({ who: 'anonymous', role: 'anonymous' }));
  }, []);
  if (actor === null) return <p class="walkup-message">{t('link.connecting')}</p>;
  if (actor.role !== 'support' && actor.role !== 'admin') {
    return <SupportLogin onLangChange={onLangChange} onDone={setActor} />;
  }
  return (
    <SupportPage
      actor={actor}
      onLangChange={onLangChange}
      onSignOut={() => {
        void logout().finally(() => setActor({ who: 'anonymous', role: 'anonymous' }));
      }}
    />
  );
}

function SupportLogin({ onDone, onLangChange }: { onDone: (a: Actor) => void; onLangChange: () => void }) {
  const [user, setUser] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | null>(null);
  return (
    <div class="support-login">
      <header class="top-bar">
        <h1>{t('support.title')}</h1>
        <LangSwitch onChange={onLangChange} />
      </header>
      <form
        class="card login-card"
        onSubmit={(e) => {
          e.preventDefault();
          login(user, password).then(
            (a) => (a.role === 'support' || a.role === 'admin' ? onDone(a) : setError(t('support.needRole'))),
            (err: unknown) => setError(err instanceof Error ? err.message : String(err)),
          );
        }}
      >
        <h2>{t('support.login')}</h2>
        <p>{t('support.needRole')}</p>
        <label class="field">
          <span>{t('support.user')}</span>
          <input
            name="user"
            autocomplete="username"
            value={user}
            onInput={(e) => setUser((e.currentTarget as HTMLInputElement).value)}
          />
        </label>
        <label class="field">
          <span>{t('support.password')}</span>
          <input
            name="password"
            type="password"
            autocomplete="current-password"
            value={password}
            onInput={(e) => setPassword((e.currentTarget as HTMLInputElement).value)}
          />
        </label>
        {error && (
          <p class="form-error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" class="btn btn-primary">
          {t('support.signIn')}
        </button>
      </form>
    </div>
  );
}

/** GET /api/support/notifications (gateway/server/notify/notifier.ts ChannelStatus). */
interface NotifyChannelStatus {
  id: string;
  kind: string;
  state: 'ok' | 'failing' | 'unused';
  queued: number;
  sent: number;
  dropped: number;
  lastError?: string;
}

function SupportPage({
  actor,
  onLangChange,
  onSignOut,
}: {
  actor: Actor;
  onLangChange: () => void;
  onSignOut: () => void;
}) {
  const live = useLiveLink([{ overview: true }]);
  const stations = live.stations();
  const [selected, setSelected] = useState<string | null>(null);
  const stationId = selected ?? stations[0]?.id ?? null;
  useEffect(() => {
    if (stationId !== null) live.resubscribe([{ overview: true }, { stationId }]);
  }, [live, stationId]);

  const controller = usePoll(
    () => api<{ connected: boolean; info: ControllerInfo | null }>('GET', '/api/support/controller'),
    POLL_MS,
  );
  const alarms = usePoll(() => api<{ history: AlarmInfo[] }>('GET', '/api/alarms?limit=100'), POLL_MS);
  const audit = usePoll(() => api<{ audit: AuditEntry[] }>('GET', '/api/audit?limit=100'), POLL_MS);
  const maintenance = usePoll(
    () => api<{ counters: MaintenanceCounters[]; selfTests: SelfTestResult[] }>('GET', '/api/maintenance'),
    POLL_MS * 3,
  );
  const config = usePoll(() => api<{ board: unknown; limits: unknown }>('GET', '/api/support/config'), 0);
  const health = usePoll(() => api<{ clock: ClockInfo }>('GET', '/api/health'), POLL_MS * 3);
  const clock = health.value?.clock ?? null;
  const notify = usePoll(
    () => api<{ channels: NotifyChannelStatus[] }>('GET', '/api/support/notifications'),
    POLL_MS,
  );
  const info = controller.value?.info ?? null;

  return (
    <div class="support">
      <LinkBanner link={live.link} controllerDown={controller.value?.connected === false} />
      <header class="top-bar">
        <h1>{t('support.title')}</h1>
        <span class="lock-state is-unlocked">{actor.who}</span>
        <a class="btn btn-secondary" href="/api/support/logs" download data-testid="download-logs">
          {t('support.logs')}
        </a>
        <LangSwitch onChange={onLangChange} />
        <button class="btn btn-secondary" onClick={onSignOut}>
          {t('support.signOut')}
        </button>
      </header>
      <main class="support-grid">
        <section class="card health" data-testid="health">
          <h2>{t('support.health')}</h2>
          <dl>
            <dt>{t('support.controllerLink')}</dt>
            <dd class={controller.value?.connected ? 'ok' : 'bad'} data-testid="controller-link">
              {controller.value?.connected ? t('support.connected') : t('support.disconnected')}
            </dd>
            <dt>{t('support.clock')}</dt>
            <dd
              class={clock?.synchronized === false ? 'bad' : clock?.synchronized ? 'ok' : ''}
              data-testid="clock-state"
            >
              {clock === null
                ? '—'
                : clock.synchronized === null
                  ? t('support.clockUnknown')
                  : t(clock.synchronized ? 'support.clockSynced' : 'support.clockUnsynced', {
                      source: clock.source,
                    })}
              {clock?.lastJump && (
                <div class="muted">
                  {t('support.clockJump', {
                    by: Math.round(clock.lastJump.byMs / 1000),
                    at: new Date(clock.lastJump.atEpochMs).toLocaleString(lang()),
                  })}
                </div>
              )}
            </dd>
            <dt>{t('support.board')}</dt>
            <dd>
              {info
                ? `${info.board}${info.simulated ? ` (${t('support.simulated')})` : ''} · v${info.version}`
                : '—'}
            </dd>
            <dt>{t('support.loop')}</dt>
            <dd>
              {info
                ? t('support.loopValues', {
                    period: num(info.loop.periodMs, 1),
                    p50: num(info.loop.latenessP50Ms, 2),
                    p99: num(info.loop.latenessP99Ms, 2),
                    max: num(info.loop.latenessMaxMs, 1),
                    skipped: info.loop.skippedTicks,
                  })
                : '—'}
              {info && (
                <div data-testid="late-ticks">
                  {t('support.lateTicks', { n: info.loop.lateTicks })}
                  {info.loop.lastLate &&
                    ` · ${t('support.lastLate', {
                      ms: num(info.loop.lastLate.latenessMs, 0),
                      time: new Date(info.loop.lastLate.atEpochMs).toLocaleTimeString(lang()),
                      cause: info.loop.lastLate.cause,
                    })}`}
                </div>
              )}
            </dd>
          </dl>
          <h3>{t('support.notifications')}</h3>
          <ul class="devices" data-testid="notify-channels">
            {(notify.value?.channels ?? []).length === 0 && <li class="muted">{t('support.noChannels')}</li>}
            {(notify.value?.channels ?? []).map((c) => (
              <li
                key={c.id}
                class={`device device-${c.state === 'failing' ? 'offline' : c.state === 'ok' ? 'ok' : 'degraded'}`}
                data-channel={c.id}
                data-state={c.state}
              >
                <span class="device-state">{c.state}</span> <strong>{c.id}</strong>{' '}
                <span class="muted">
                  {c.kind} ·{' '}
                  {t('support.notifyCounts', { sent: c.sent, queued: c.queued, dropped: c.dropped })}
                </span>
                {c.lastError && c.state === 'failing' && <div class="muted">{c.lastError}</div>}
              </li>
            ))}
          </ul>
          <h3>{t('support.devices')}</h3>
          <ul class="devices">
            {Object.entries(info?.devices ?? {}).map(([name, d]) => (
              <li key={name} class={`device device-${d.state}`} data-device={name}>
                <span class="device-state">{d.state}</span> <strong>{name}</strong>{' '}
                <span class="muted">{d.type}</span>
                {d.message && <div class="muted">{d.message}</div>}
              </li>
            ))}
          </ul>
        </section>

        <section class="card chart-card">
          <div class="panel-head">
            <h2>{t('support.chart')}</h2>
            <div class="station-tabs" role="tablist" aria-label={t('support.station')}>
              {stations.map((s) => (
                <button
                  key={s.id}
                  role="tab"
                  aria-selected={s.id === stationId}
                  class={`btn btn-toggle ${s.id === stationId ? 'on' : ''}`}
                  onClick={() => setSelected(s.id)}
                >
                  {s.name}
                </button>
              ))}
            </div>
          </div>
          {stationId !== null && <PressureChart live={live} stationId={stationId} />}
          {stationId !== null && info?.simulated && (
            <FaultPanel stationId={stationId} zones={live.frames.get(stationId)?.zones.length ?? 1} />
          )}
          {stationId !== null && (
            <SelfTests
              stationId={stationId}
              stationName={live.frames.get(stationId)?.name ?? stationId}
              onDone={maintenance.refresh}
            />
          )}
        </section>

        <section class="card">
          <h2>{t('support.alarmHistory')}</h2>
          <ul class="history-list" data-testid="support-alarms">
            {(alarms.value?.history ?? []).slice(0, 40).map((a, i) => (
              <li key={`${a.id}-${i}`}>
                <PriorityTag priority={a.priority} />{' '}
                <time>{new Date(a.raisedAtEpochMs).toLocaleString(lang())}</time>{' '}
                <strong>{a.stationId ?? '—'}</strong> {a.code}: {a.reason}
              </li>
            ))}
          </ul>
        </section>

        <section class="card">
          <h2>{t('support.audit')}</h2>
          <ul class="history-list" data-testid="support-audit">
            {(audit.value?.audit ?? []).slice(0, 40).map((a, i) => (
              <li key={i} class={a.ok ? '' : 'refused'}>
                <time>{new Date(a.atEpochMs).toLocaleString(lang())}</time> <strong>{a.who}</strong> {a.what}{' '}
                {a.ok ? '✓' : '✗'}
                {a.detail && <span class="muted"> — {a.detail}</span>}
              </li>
            ))}
          </ul>
        </section>

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
              {(maintenance.value?.counters ?? []).map((c) => (
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

        <section class="card">
          <h2>{t('support.config')}</h2>
          <pre class="config" data-testid="board-config">
            {config.value ? JSON.stringify(config.value.board, null, 2) : (config.error ?? '…')}
          </pre>
        </section>
      </main>
    </div>
  );
}

function FaultPanel({ stationId, zones }: { stationId: string; zones: number }) {
  const [kind, setKind] = useState<string>(SIM_FAULT_KINDS[0]?.kind ?? 'leak');
  const [zone, setZone] = useState(1);
  const [active, setActive] = useState<string[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const info = SIM_FAULT_KINDS.find((f) => f.kind === kind);
  const needsZone = info?.scope === 'zone' || info?.scope === 'zone-or-station';
  const base = `/api/sim/stations/${encodeURIComponent(stationId)}/faults`;
  const run = (p: Promise<{ active: string[] }>) =>
    p.then(
      (r) => {
        setActive(r.active);
        setError(null);
      },
      (e: unknown) =>
        setError(t('support.error', { message: e instanceof ApiError ? e.message : String(e) })),
    );
  return (
    <div class="fault-panel" data-testid="fault-panel">
      <h3>{t('support.faults')}</h3>
      <div class="row">
        <label class="field">
          <span>{t('support.fault')}</span>
          <select
            name="fault"
            value={kind}
            onChange={(e) => setKind((e.currentTarget as HTMLSelectElement).value)}
          >
            {SIM_FAULT_KINDS.map((f) => (
              <option key={f.kind} value={f.kind} title={f.description}>
                {f.kind}
              </option>
            ))}
          </select>
        </label>
        {needsZone && (
          <label class="field">
            <span>{t('support.zone')}</span>
            <select
              name="zone"
              value={zone}
              onChange={(e) => setZone(Number((e.currentTarget as HTMLSelectElement).value))}
            >
              {Array.from({ length: zones }, (_, i) => i + 1).map((z) => (
                <option key={z} value={z}>
                  {z}
                </option>
              ))}
            </select>
          </label>
        )}
        <button
          class="btn btn-warn"
          onClick={() => void run(api('POST', base, { kind, ...(needsZone ? { zone } : {}) }))}
        >
          {t('support.inject')}
        </button>
        <button
          class="btn btn-secondary"
          onClick={() =>
            // A station's clear leaves the board-wide emergency stop pressed (gateway/sim/world.ts).
            void run(
              api('DELETE', base).then(() => api<{ active: string[] }>('DELETE', `${base}?kind=estop`)),
            )
          }
        >
          {t('support.clearFaults')}
        </button>
      </div>
      {info && <p class="muted">{info.description}</p>}
      {active !== null && (
        <p data-testid="active-faults">
          {t('support.activeFaults', { list: active.length > 0 ? active.join(', ') : '—' })}
        </p>
      )}
      {error && (
        <p class="form-error" role="alert">
          {error}
        </p>
      )}
    </div>
  );
}

function SelfTests({
  stationId,
  stationName,
  onDone,
}: {
  stationId: string;
  stationName: string;
  onDone: () => void;
}) {
  const [confirm, setConfirm] = useState<(typeof SELF_TESTS)[number] | null>(null);
  const [running, setRunning] = useState<string | null>(null);
  const [result, setResult] = useState<SelfTestResult | null>(null);
  const [error, setError] = useState<string | null>(null);
  const run = (kind: (typeof SELF_TESTS)[number]) => {
    setConfirm(null);
    setRunning(kind);
    setError(null);
    api<SelfTestResult>('POST', `/api/stations/${encodeURIComponent(stationId)}/self-test`, { kind })
      .then(
        (r) => {
          setResult(r);
          onDone();
        },
        (e: unknown) =>
          setError(t('support.error', { message: e instanceof ApiError ? e.message : String(e) })),
      )
      .finally(() => setRunning(null));
  };
  return (
    <div class="self-tests">
      <h3>{t('support.selfTests')}</h3>
      <div class="row">
        {SELF_TESTS.map((k) => (
          <button key={k} class="btn btn-secondary" disabled={running !== null} onClick={() => setConfirm(k)}>
            {running === k ? t('support.running') : t('support.run', { kind: k })}
          </button>
        ))}
      </div>
      {result && (
        <div class={`self-test-result ${result.ok ? 'ok' : 'bad'}`}>
          <strong>
            {result.kind}: {result.ok ? '✓' : '✗'}
          </strong>
          <ul>
            {result.details.map((d, i) => (
              <li key={i}>{d}</li>
            ))}
          </ul>
        </div>
      )}
      {error && (
        <p class="form-error" role="alert">
          {error}
        </p>
      )}
      {confirm !== null && (
        <Modal title={t('support.selfTests')}>
          <p>{t('support.confirmSelfTest', { kind: confirm, station: stationName })}</p>
          <div class="modal-actions">
            <button class="btn btn-secondary" onClick={() => setConfirm(null)}>
              {t('support.cancel')}
            </button>
            <button class="btn btn-primary" onClick={() => run(confirm)}>
              {t('support.yes')}
            </button>
          </div>
        </Modal>
      )}
    </div>
  );
}
