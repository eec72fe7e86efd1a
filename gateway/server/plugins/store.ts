/**
 * Gives every route the Store. The caller opens it (main.ts, or a test) and closes it after the
 * server: the store outlives the HTTP server so the last session-ended reports are kept.
 *
 * It also keeps the web process's own alarms (WebAlarms): the controller knows nothing of the
 * database, so an alarm about it has to come from here. When the store had to recover a corrupt,
 * empty or missing file at open (health().recovered), a latched 'database-recovered' alarm is
 * raised and recorded in the alarm history. The history, not memory, is the truth for whether it
 * is still waiting: a web process restarted before anyone acknowledged it opens a good file (no
 * `recovered` any more) and must still show the alarm.
 */
import { basename } from 'node:path';
import type { AlarmInfo } from '../../protocol.js';
import type { Store, StoreHealth } from '../../store/types.js';
import { shared } from './shared.js';
import { ALARM_TABLE } from '../../alarm-table.js';

/** Web-side alarm ids start with this, so the acknowledge route knows not to ask the controller. */
export const WEB_ALARM_PREFIX = 'web-';
/** How far back in the history a waiting web-side alarm is looked for (the store's default list). */
const HISTORY_SCAN_LIMIT = 500;
const BACKUP_DATE = /^presso-(\d{4}-\d{2}-\d{2})\.json$/;

type Recovered = NonNullable<StoreHealth['recovered']>;

/** The reason staff read: what was wrong, where the bad file went, and what they now have. */
export function recoveredReason(r: Recovered): string {
  const date = BACKUP_DATE.exec(basename(r.restoredFrom))?.[1];
  const restored =
    r.restoredFrom === 'defaults'
      ? 'empty defaults: programs are the built-ins, users and settings must be set again'
      : `the last backup from ${date ?? r.restoredFrom}`;
  const moved = r.movedTo.startsWith('nothing')
    ? 'there was no file to move aside'
    : `it was moved to ${r.movedTo}`;
  return (
    `The gateway's database file could not be read at start (${r.error}); ${moved}. ` +
    `Restored ${restored}. Check recent sessions and settings, then acknowledge this alarm.`
  );
}

export class WebAlarms {
  constructor(private readonly store: Store) {}

  /** Raises the database alarm when the store recovered at open; once per recovery. */
  raiseIfRecovered(): AlarmInfo | undefined {
    const r = this.store.health().recovered;
    if (r === undefined) return undefined;
    // The recovery's own time makes the id: registering the plugin twice raises nothing new.
    const id = `${WEB_ALARM_PREFIX}database-recovered-${r.atEpochMs}`;
    if (this.store.alarms(HISTORY_SCAN_LIMIT).some((a) => a.id === id)) return undefined;
    const alarm: AlarmInfo = {
      id,
      code: 'database-recovered',
      priority: ALARM_TABLE['database-recovered'].priority,
      stationId: null,
      reason: recoveredReason(r),
      raisedAtEpochMs: r.atEpochMs,
      // Latched: nothing clears it by itself, a person has to look at what was restored.
      latched: true,
      // The condition is over (the store is usable again); only the acknowledgement is missing.
      active: false,
    };
    this.store.recordAlarm(alarm, 'raised');
    return alarm;
  }

  /** Web-side alarms still waiting for an acknowledgement, newest first. */
  active(): AlarmInfo[] {
    return this.store
      .alarms(HISTORY_SCAN_LIMIT)
      .filter((a) => a.id.startsWith(WEB_ALARM_PREFIX) && (a.latched || a.active));
  }

  /** Acknowledges one waiting web-side alarm; undefined when there is none with that id. */
  acknowledge(id: string): AlarmInfo | undefined {
    const alarm = this.active().find((a) => a.id === id);
    if (alarm === undefined) return undefined;
    const done: AlarmInfo = { ...alarm, latched: false, active: false };
    this.store.recordAlarm(done, 'acknowledged');
    return done;
  }
}

declare module 'fastify' {
  interface FastifyInstance {
    store: Store;
    webAlarms: WebAlarms;
  }
}

export const storePlugin = shared<{ store: Store }>('presso-store', async (app, opts) => {
  app.decorate('store', opts.store);
  const webAlarms = new WebAlarms(opts.store);
  app.decorate('webAlarms', webAlarms);
  const raised = webAlarms.raiseIfRecovered();
  if (raised !== undefined) {
    app.log.warn(`alarm ${raised.code}: ${raised.reason}`);
    // On disk before the server answers: a crash right after start must not lose the alarm.
    await opts.store.flush();
  }
});
