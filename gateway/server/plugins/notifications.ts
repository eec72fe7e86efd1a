/**
 * Hears what staff must know about and hands it to the Notifier (notify/notifier.ts), which sends
 * in the background: high and other alarms from the controller, a walk-up user's STOP (the stop
 * route calls `walkUpStop`), the end of a session, and a controller link that stays down.
 */
import { randomUUID } from 'node:crypto';
import { ANONYMISED_CLIENT } from '../../store/anonymise.js';
import type { Notice } from '../notify/messages.js';
import { Notifier } from '../notify/notifier.js';
import { realSend, type Send } from '../notify/senders.js';
import { shared } from './shared.js';

/** A controller restart by pm2 takes a second or two; only a longer outage is news for staff. */
export const CONTROLLER_LOST_AFTER_MS = 5_000;
const SEND_TIMEOUT_MS = 5_000;
const BACKOFF_MS = 2_000;

export interface NotificationOptions {
  /** Tests shorten these. */
  sendTimeoutMs?: number;
  backoffMs?: number;
  controllerLostAfterMs?: number;
  send?: Send;
}

export class Notifications {
  private readonly stationNames = new Map<string, string>();

  constructor(
    readonly notifier: Notifier,
    private readonly now: () => number,
  ) {}

  noticeFor(event: Notice['event'], stationId: string | null, extra: Partial<Notice> = {}): Notice {
    return {
      id: randomUUID(),
      event,
      atEpochMs: this.now(),
      stationId,
      stationName: stationId === null ? null : (this.stationNames.get(stationId) ?? stationId),
      ...extra,
    };
  }

  nameStation(id: string, name: string): void {
    if (this.stationNames.get(id) !== name) this.stationNames.set(id, name);
  }

  walkUpStop(stationId: string): void {
    this.notifier.notify(this.noticeFor('walk-up-stop', stationId));
  }
}

declare module 'fastify' {
  interface FastifyInstance {
    notifications: Notifications;
  }
}

export const notificationsPlugin = shared<{ now: () => number; options: NotificationOptions }>(
  'presso-notifications',
  async (app, opts) => {
    const o = opts.options;
    const notifier = new Notifier({
      send: o.send ?? realSend(o.sendTimeoutMs ?? SEND_TIMEOUT_MS),
      settings: () => app.store.notificationSettings(),
      backoffMs: o.backoffMs ?? BACKOFF_MS,
      log: app.log,
    });
    const n = new Notifications(notifier, opts.now);
    app.decorate('notifications', n);
    const client = app.link.client;
    let lostTimer: NodeJS.Timeout | undefined;
    let lostAt = 0;
    const lostAfter = o.controllerLostAfterMs ?? CONTROLLER_LOST_AFTER_MS;
    const unsubscribe = [
      client.on('frame', (f) => n.nameStation(f.id, f.name)),
      client.on('alarm-raised', (a) => {
        notifier.notify(
          n.noticeFor(a.priority === 'high' ? 'alarm-high' : 'alarm', a.stationId, {
            alarm: {
              code: a.code,
              priority: a.priority,
              reason: a.reason,
              ...(a.zone !== undefined ? { zone: a.zone } : {}),
            },
          }),
        );
      }),
      app.link.onSessionChange((c) => {
        if (c.kind !== 'ended' && c.kind !== 'interrupted') return;
        const s = c.session;
        const named =
          s.client !== '' &&
          s.client !== 'walk-up' &&
          s.client !== ANONYMISED_CLIENT &&
          s.client !== 'unknown';
        notifier.notify(
          n.noticeFor('session-end', s.stationId, {
            end: { status: s.status, ...(s.reason !== undefined ? { reason: s.reason } : {}) },
            ...(named ? { clientName: s.client } : {}),
          }),
        );
      }),
      client.on('disconnected', () => {
        if (lostTimer) return;
        lostAt = Date.now();
        lostTimer = setTimeout(() => {
          notifier.notify(
            n.noticeFor('controller-lost', null, { lostForS: Math.round((Date.now() - lostAt) / 1000) }),
          );
        }, lostAfter);
        lostTimer.unref();
      }),
      client.on('connected', () => {
        clearTimeout(lostTimer);
        lostTimer = undefined;
      }),
    ];
    app.addHook('onClose', async () => {
      for (const u of unsubscribe) u();
      clearTimeout(lostTimer);
      notifier.stop();
    });
  },
);
