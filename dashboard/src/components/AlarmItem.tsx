import { ALARM_TABLE } from '../../../gateway/alarm-table.js';
import type { AlarmInfo } from '../api.js';
import { lang, t } from '../i18n/index.js';

/**
 * A short title in the reader's language, by the alarm table's message key (gateway/alarm-table.ts);
 * the reason comes from the controller in English.
 */
export function alarmTitle(code: AlarmInfo['code']): string {
  return t(ALARM_TABLE[code].messageKey);
}

/** IEC 60601-1-8 priorities told apart by colour, by a word and by a symbol (not colour alone). */
const ICON: Record<AlarmInfo['priority'], string> = { high: '!!!', medium: '!!', low: '!' };

export function PriorityTag({ priority }: { priority: AlarmInfo['priority'] }) {
  return (
    <span class={`priority-tag priority-${priority}`}>
      <span aria-hidden="true">{ICON[priority]}</span> {t(`priority.${priority}`)}
    </span>
  );
}

export function AlarmItem({
  alarm,
  stationName,
  onAck,
}: {
  alarm: AlarmInfo;
  stationName: string;
  onAck?: (() => void) | undefined;
}) {
  return (
    <li class={`alarm alarm-${alarm.priority}`} data-alarm-code={alarm.code} data-priority={alarm.priority}>
      <div class="alarm-head">
        <PriorityTag priority={alarm.priority} />
        <span class="alarm-where">
          {stationName}
          {alarm.zone !== undefined ? ` · ${t('board.zone', { n: alarm.zone })}` : ''}
        </span>
        <time class="alarm-time">{new Date(alarm.raisedAtEpochMs).toLocaleTimeString(lang())}</time>
      </div>
      <div class="alarm-title">{alarmTitle(alarm.code)}</div>
      <div class="alarm-reason">{alarm.reason}</div>
      <div class="alarm-foot">
        <span class="alarm-status">
          {alarm.latched ? t('alarms.latched') : ''}
          {!alarm.active ? ` · ${t('alarms.inactive')}` : ''}
        </span>
        {onAck && (
          <button class="btn btn-secondary" onClick={onAck}>
            {t('alarms.ack')}
          </button>
        )}
      </div>
    </li>
  );
}
