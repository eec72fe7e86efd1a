/**
 * Staff notifications: a bounded queue per channel, sent in the background with retries and
 * back-off. Nothing that raises a notice waits for it: `notify()` only appends to in-memory
 * queues, so the web process's request handling and the controller (which never talks to this at
 * all) go on at their pace whatever the receivers do. Channels are independent: a receiver that
 * hangs holds up its own queue (for at most the send timeout per try), never another channel's.
 *
 * A message is sent once: it is retried only after a failed try, and a try that timed out is a
 * failure even if the receiver took it late; webhooks carry the notice id as Idempotency-Key so a
 * receiver can drop such a late repeat. A channel whose last message failed every try is "failing"
 * (GET /api/support/notifications and the support page); the next success clears it.
 */
import type { NotificationChannel, NotificationSettings } from '../../store/types.js';
import type { ChannelStatus } from '../responses.js';
import { message, type Notice } from './messages.js';
import type { Send } from './senders.js';

/** Per channel; a burst beyond this drops the oldest waiting message (the newest say more). */
export const QUEUE_MAX = 50;
export const MAX_TRIES = 5;

export interface NotifierOptions {
  send: Send;
  settings: () => NotificationSettings;
  /** First retry delay; doubled per try, capped at 60 s. */
  backoffMs: number;
  log: { warn(msg: string): void };
}

/** A channel's delivery state, as GET /api/support/notifications answers it. */
export type { ChannelStatus };

/** A high alarm is also an alarm: a channel that takes both gets it once. */
function subscribed(c: NotificationChannel, n: Notice): boolean {
  if (n.event === 'test') return false;
  return c.events.includes(n.event) || (n.event === 'alarm-high' && c.events.includes('alarm'));
}

interface Job {
  notice: Notice;
  tries: number;
}

class ChannelQueue {
  readonly jobs: Job[] = [];
  busy = false;
  timer: NodeJS.Timeout | undefined;
  status: ChannelStatus;

  constructor(channel: NotificationChannel) {
    this.status = { id: channel.id, kind: channel.kind, state: 'unused', queued: 0, sent: 0, dropped: 0 };
  }
}

export class Notifier {
  private readonly queues = new Map<string, ChannelQueue>();
  private stopped = false;

  constructor(private readonly opts: NotifierOptions) {}

  /** Queues `notice` on every enabled channel that subscribed to its event. Never waits. */
  notify(notice: Notice): void {
    if (this.stopped) return;
    for (const c of this.opts.settings().channels) {
      if (!c.enabled || !subscribed(c, notice)) continue;
      const q = this.queueOf(c);
      if (q.jobs.length >= QUEUE_MAX) {
        q.jobs.shift();
        q.status.dropped++;
      }
      q.jobs.push({ notice, tries: 0 });
      this.pump(c.id);
    }
  }

  /** Sends one test message now, bypassing the queue: the admin waits for the receiver's answer. */
  async test(channel: NotificationChannel, notice: Notice): Promise<void> {
    const { language } = this.opts.settings();
    const q = this.queueOf(channel);
    try {
      await this.opts.send(channel, notice, message(notice, language, channel.internal));
      this.ok(q, notice.atEpochMs);
    } catch (e) {
      this.failed(q, e, notice.atEpochMs);
      throw e;
    }
  }

  status(): ChannelStatus[] {
    return this.opts.settings().channels.map((c) => {
      const q = this.queues.get(c.id);
      return q ? { ...q.status, kind: c.kind, queued: q.jobs.length } : new ChannelQueue(c).status;
    });
  }

  /** Drops the queues of channels that were removed; a changed channel sends what waits to its new address. */
  settingsChanged(): void {
    const ids = new Set(this.opts.settings().channels.map((c) => c.id));
    for (const [id, q] of this.queues) {
      if (ids.has(id)) continue;
      if (q.timer) clearTimeout(q.timer);
      this.queues.delete(id);
    }
  }

  stop(): void {
    this.stopped = true;
    for (const q of this.queues.values()) if (q.timer) clearTimeout(q.timer);
    this.queues.clear();
  }

  /** Resolves when every queue is empty and idle (tests). */
  async drained(timeoutMs = 10_000): Promise<void> {
    const until = Date.now() + timeoutMs;
    while ([...this.queues.values()].some((q) => q.busy || q.jobs.length > 0)) {
      if (Date.now() > until) throw new Error('notification queues did not drain');
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  private queueOf(c: NotificationChannel): ChannelQueue {
    let q = this.queues.get(c.id);
    if (!q) {
      q = new ChannelQueue(c);
      this.queues.set(c.id, q);
    }
    return q;
  }

  private pump(id: string): void {
    const q = this.queues.get(id);
    if (!q || q.busy || q.timer || this.stopped) return;
    const job = q.jobs[0];
    const channel = this.opts.settings().channels.find((c) => c.id === id);
    if (!job) return;
    if (!channel?.enabled) {
      q.jobs.length = 0;
      return;
    }
    q.busy = true;
    job.tries++;
    const { language } = this.opts.settings();
    this.opts
      .send(channel, job.notice, message(job.notice, language, channel.internal))
      .then(
        () => {
          q.jobs.shift();
          this.ok(q, Date.now());
        },
        (e: unknown) => {
          this.failed(q, e, Date.now());
          if (job.tries >= MAX_TRIES) {
            q.jobs.shift();
            q.status.dropped++;
            q.status.state = 'failing';
            this.opts.log.warn(
              `notification channel ${id}: gave up on a ${job.notice.event} message after ${job.tries} tries`,
            );
            return;
          }
          const delay = Math.min(60_000, this.opts.backoffMs * 2 ** (job.tries - 1));
          q.timer = setTimeout(() => {
            q.timer = undefined;
            this.pump(id);
          }, delay);
          q.timer.unref();
        },
      )
      .finally(() => {
        q.busy = false;
        this.pump(id);
      });
  }

  private ok(q: ChannelQueue, at: number): void {
    q.status.sent++;
    q.status.state = 'ok';
    q.status.lastOkAtEpochMs = at;
  }

  private failed(q: ChannelQueue, e: unknown, at: number): void {
    q.status.lastError = e instanceof Error ? e.message : String(e);
    q.status.lastErrorAtEpochMs = at;
    // A channel that has never delivered is failing from its first error.
    if (q.status.state === 'unused') q.status.state = 'failing';
  }
}
