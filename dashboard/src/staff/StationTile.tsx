import type { LiveFrame } from '../api.js';
import { alarmTitle, PriorityTag } from '../components/AlarmItem.js';
import { AdjustButtons, Setpoint } from '../components/Adjust.js';
import { ZoneBars } from '../components/ZoneBars.js';
import { activeAlarms, clock } from '../format.js';
import { t } from '../i18n/index.js';

/**
 * One station on the wall board. STOP is always there and always enabled, live or not. Another
 * gateway's station (`remote`) has STOP too; starting it opens that gateway's own board, where its
 * own staff log in.
 */
export function StationTile({
  frame,
  live,
  unlocked,
  onStop,
  onStart,
  onQr,
  remote,
}: {
  frame: LiveFrame;
  live: boolean;
  unlocked: boolean;
  onStop: () => void;
  onStart: () => void;
  onQr: () => void;
  remote?: { url: string | undefined };
}) {
  const top = activeAlarms([frame])[0];
  const remaining = frame.session?.remainingS;
  return (
    <section
      class={`tile state-${frame.state} ${live ? 'live' : 'stale'}`}
      data-station={frame.id}
      data-gateway={frame.gatewayId}
      data-state={frame.state}
      aria-label={frame.name}
    >
      <header class="tile-head">
        <h3>{frame.name}</h3>
        <span class="state-chip" data-testid="state">
          {live ? t(`state.${frame.state}`) : t('value.notLive')}
        </span>
      </header>
      <div class="tile-body">
        <div class="tile-info">
          <div class="tile-program">{frame.session ? frame.session.programName : t('board.noProgram')}</div>
          <div class="tile-remaining" data-testid="remaining">
            {frame.session && remaining !== undefined && live
              ? t('board.remaining', { time: clock(remaining) })
              : ''}
          </div>
          {live && <Setpoint frame={frame} />}
          <div class="zone-caption">{t('board.zonesCaption')}</div>
        </div>
        <ZoneBars zones={frame.zones} scaleMmHg={frame.ceilingMmHg} live={live} />
      </div>
      {top ? (
        <div class={`tile-alarm alarm-${top.priority}`} data-testid="tile-alarm" data-priority={top.priority}>
          <PriorityTag priority={top.priority} />{' '}
          <span>
            <strong>{alarmTitle(top.code)}</strong> {top.reason}
          </span>
        </div>
      ) : (
        <div class="tile-alarm tile-alarm-none" />
      )}
      <footer class="tile-actions">
        <button
          class="btn btn-stop"
          onClick={onStop}
          aria-label={t('board.stopStation', { name: frame.name })}
        >
          {t('board.stop')}
        </button>
        {remote === undefined && unlocked && live && <AdjustButtons frame={frame} stronger />}
        {remote === undefined && unlocked && frame.state === 'idle' && live && (
          <button class="btn btn-primary" onClick={onStart}>
            {t('board.start')}
          </button>
        )}
        {remote === undefined && (
          <button class="btn btn-secondary btn-qr" onClick={onQr}>
            {t('board.qr')}
          </button>
        )}
        {remote?.url !== undefined && frame.state === 'idle' && live && (
          <a class="btn btn-secondary" href={remote.url} target="_blank" rel="noopener">
            {t('centre.openBoard')}
          </a>
        )}
      </footer>
    </section>
  );
}
