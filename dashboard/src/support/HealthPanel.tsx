import type { ControllerInfo } from '../api.js';
import { lang, num, t } from '../i18n/index.js';

/** GET /api/health's `clock` (gateway/server/clock-state.ts). */
export interface ClockInfo {
  synchronized: boolean | null;
  source: string;
  lastJump: { atEpochMs: number; byMs: number } | null;
}

/** GET /api/support/notifications (gateway/server/notify/notifier.ts ChannelStatus). */
export interface NotifyChannelStatus {
  id: string;
  kind: string;
  state: 'ok' | 'failing' | 'unused';
  queued: number;
  sent: number;
  dropped: number;
  lastError?: string;
}

/**
 * The gateway's health: the controller link, the clock, the board and its loop timing, the
 * notification channels and the board's devices.
 */
export function HealthPanel({
  controller,
  clock,
  notify,
}: {
  controller: { connected: boolean; info: ControllerInfo | null } | null;
  clock: ClockInfo | null;
  notify: NotifyChannelStatus[];
}) {
  const info = controller?.info ?? null;
  return (
    <section class="card health" data-testid="health">
      <h2>{t('support.health')}</h2>
      <dl>
        <dt>{t('support.controllerLink')}</dt>
        <dd class={controller?.connected ? 'ok' : 'bad'} data-testid="controller-link">
          {controller?.connected ? t('support.connected') : t('support.disconnected')}
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
        {notify.length === 0 && <li class="muted">{t('support.noChannels')}</li>}
        {notify.map((c) => (
          <li
            key={c.id}
            class={`device device-${c.state === 'failing' ? 'offline' : c.state === 'ok' ? 'ok' : 'degraded'}`}
            data-channel={c.id}
            data-state={c.state}
          >
            <span class="device-state">{c.state}</span> <strong>{c.id}</strong>{' '}
            <span class="muted">
              {c.kind} · {t('support.notifyCounts', { sent: c.sent, queued: c.queued, dropped: c.dropped })}
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
  );
}
