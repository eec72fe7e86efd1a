import type { AlarmInfo } from '../api.js';
import { AlarmItem } from '../components/AlarmItem.js';
import { lang, t } from '../i18n/index.js';

export function AlarmPanel({
  active,
  history,
  nameOf,
  unlocked,
  onAck,
  muted,
  onMute,
}: {
  active: AlarmInfo[];
  history: AlarmInfo[] | null;
  nameOf: (stationId: string | null) => string;
  unlocked: boolean;
  onAck: (a: AlarmInfo) => void;
  muted: boolean;
  onMute: () => void;
}) {
  const anyHigh = active.some((a) => a.priority === 'high');
  return (
    <aside class="alarm-panel" aria-label={t('alarms.title')}>
      <div class="panel-head">
        <h2>{t('alarms.title')}</h2>
        {anyHigh && (
          <button class="btn btn-secondary" onClick={onMute} disabled={muted}>
            {muted ? t('alarms.muted') : t('alarms.mute')}
          </button>
        )}
      </div>
      {active.length === 0 ? (
        <p class="muted" data-testid="no-alarms">
          {t('alarms.none')}
        </p>
      ) : (
        <ul class="alarm-list" data-testid="active-alarms">
          {active.map((a) => (
            <AlarmItem
              key={a.id}
              alarm={a}
              stationName={nameOf(a.stationId)}
              onAck={unlocked && a.latched ? () => onAck(a) : undefined}
            />
          ))}
        </ul>
      )}
      <h3>{t('alarms.history')}</h3>
      {!unlocked || history === null ? (
        <p class="muted">{t('alarms.historyLocked')}</p>
      ) : (
        <ul class="history-list" data-testid="alarm-history">
          {history.slice(0, 30).map((a, i) => (
            <li key={`${a.id}-${i}`} class={`history-item alarm-${a.priority}-text`}>
              <time>{new Date(a.raisedAtEpochMs).toLocaleTimeString(lang())}</time>{' '}
              <strong>{t(`priority.${a.priority}`)}</strong> {nameOf(a.stationId)}: {a.reason}
            </li>
          ))}
        </ul>
      )}
    </aside>
  );
}
