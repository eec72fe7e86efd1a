/**
 * The daily retention run (docs/privacy.md): once per local day the store anonymises what is older
 * than the retention period, in every file it keeps. Checked hourly and once at start, so a
 * gateway that was off at midnight catches up; the store's write chain keeps it from racing
 * ordinary writes, and nothing waits for it. Also gives routes the server's clock (`app.clock`).
 */
import { dayKey } from '../../store/store-file.js';
import { shared } from './shared.js';

const CHECK_EVERY_MS = 60 * 60_000;

export class RetentionJob {
  private running: Promise<void> | undefined;

  constructor(
    private readonly run: () => Promise<void>,
    private readonly lastDay: () => string | undefined,
    private readonly now: () => number,
  ) {}

  /** Starts a run when today's has not finished; resolves when it (or the one in progress) ends. */
  tick(): Promise<void> {
    if (this.running) return this.running;
    if (this.lastDay() === dayKey(this.now())) return Promise.resolve();
    this.running = this.run().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  /** Resolves when a run in progress has finished (nothing is started). */
  settled(): Promise<void> {
    return this.running ?? Promise.resolve();
  }
}

declare module 'fastify' {
  interface FastifyInstance {
    clock: () => number;
    retention: RetentionJob;
  }
}

export const privacyJobPlugin = shared<{ now: () => number }>('presso-privacy-job', async (app, opts) => {
  app.decorate('clock', opts.now);
  const job = new RetentionJob(
    async () => {
      try {
        const r = await app.store.applyRetention();
        app.log.info(
          `retention: ${r.sessionsAnonymised} session(s) and ${r.clientScreeningsRemoved} screening(s) ` +
            `older than ${new Date(r.cutoffEpochMs).toISOString()} anonymised, ${r.filesRewritten} file(s) rewritten`,
        );
      } catch (e) {
        // Tried again at the next hourly check: the day is only marked done when a run finishes.
        app.log.error(`retention run failed: ${String(e)}`);
      }
    },
    () => app.store.retentionDay(),
    opts.now,
  );
  app.decorate('retention', job);
  const timer = setInterval(() => void job.tick(), CHECK_EVERY_MS);
  timer.unref();
  app.addHook('onReady', async () => {
    void job.tick();
  });
  app.addHook('preClose', async () => {
    clearInterval(timer);
    await job.settled();
  });
});
