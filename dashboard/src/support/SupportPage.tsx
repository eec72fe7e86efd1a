import { useEffect, useState } from 'preact/hooks';
import {
  api,
  type Actor,
  type AlarmInfo,
  type AuditEntry,
  type ControllerInfo,
  type MaintenanceCounters,
  type SelfTestResult,
} from '../api.js';
import { useLiveLink, usePoll } from '../components/hooks.js';
import { LangSwitch } from '../components/LangSwitch.js';
import { LinkBanner } from '../components/LinkBanner.js';
import { t } from '../i18n/index.js';
import { HealthPanel, type ClockInfo, type NotifyChannelStatus } from './HealthPanel.js';
import { PressureChart } from './PressureChart.js';
import { AlarmHistory, AuditList, BoardConfig, CountersTable } from './Records.js';
import { FaultPanel, SelfTests } from './StationTools.js';

const POLL_MS = 3000;

/** The support page once signed in: every panel, polled, and one station's live trace. */
export function SupportPage({
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
        <HealthPanel controller={controller.value} clock={clock} notify={notify.value?.channels ?? []} />

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

        <AlarmHistory alarms={alarms.value?.history ?? []} />
        <AuditList audit={audit.value?.audit ?? []} />
        <CountersTable counters={maintenance.value?.counters ?? []} />
        <BoardConfig board={config.value?.board} error={config.error} />
      </main>
    </div>
  );
}
