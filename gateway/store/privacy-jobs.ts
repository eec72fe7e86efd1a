/**
 * Erasure and retention (docs/privacy.md): a client's records, or everything older than the
 * retention period, anonymised in the live file and in every file outside it — the month archives,
 * the report files, the session journal and the backups. Each job runs inside the store's write
 * chain, so no batched write or report append races a rewrite.
 */
import { join } from 'node:path';
import { anonymiseReport, reportNeedsScrub, type Scrub, scrubSessions, scrubStoreFile } from './anonymise.js';
import { SESSION_ARCHIVE } from './archive.js';
import { CorruptFileError, parseJson, readTextIfExists, writeFileDurably } from './durable-file.js';
import { dayKey, monthKey, type PendingErasure, type StoreFile, validateStoreFile } from './store-file.js';
import type { StorePersistence } from './store-persistence.js';
import type { ClientRecord, ErasureResult, RetentionResult } from './types.js';

const DAY_MS = 24 * 60 * 60 * 1000;

function countScreeningsRemoved(before: ClientRecord[], after: ClientRecord[]): number {
  const had = new Set(before.filter((c) => c.screening !== undefined).map((c) => c.id));
  return after.filter((c) => had.has(c.id) && c.screening === undefined).length;
}

export class PrivacyJobs {
  constructor(private readonly disk: StorePersistence) {}

  /** Finishes every erasure a crash cut short: its intent is in the file, some files may still name them. */
  async resumeErasures(data: StoreFile): Promise<void> {
    for (const p of [...data.privacy.pendingErasures]) await this.disk.enqueue(() => this.finishErasure(p));
  }

  /**
   * Erasure, crash-safe: the intent (client id and every session of theirs with its month) is
   * written with the anonymised live file in one durable write; then archives, report files, the
   * journal and the backups are rewritten one by one (each rename-over, so old or new); then the
   * intent is removed. A crash in between leaves the intent, and open() finishes the job.
   */
  async eraseClient(id: string): Promise<ErasureResult | undefined> {
    this.disk.assertOpen();
    if (!this.disk.data.clients.some((c) => c.id === id)) return undefined;
    // Archived sessions are found first (that awaits); the live ones in the same step as the write.
    const sessions = new Map<string, string>();
    for (const month of await this.disk.archive.months('sessions')) {
      for (const s of await this.disk.archive.sessions(month))
        if (s.clientId === id) sessions.set(s.id, month);
    }
    return this.disk.enqueue(async () => {
      for (const s of this.disk.data.sessions) {
        if (s.clientId === id) sessions.set(s.id, monthKey(s.startedAtEpochMs));
      }
      const pending: PendingErasure = {
        clientId: id,
        atEpochMs: this.disk.now(),
        sessions: [...sessions].map(([sid, month]) => ({ id: sid, month })),
      };
      this.disk.data.privacy.pendingErasures.push(pending);
      await this.disk.persist(false);
      const files = await this.finishErasure(pending);
      return { clientId: id, sessionsAnonymised: sessions.size, filesRewritten: files };
    });
  }

  /** Runs inside the write chain: every step is idempotent, so a resumed erasure repeats them. */
  private async finishErasure(p: PendingErasure): Promise<number> {
    const scrub: Scrub = {
      atEpochMs: p.atEpochMs,
      erasedClientIds: new Set([p.clientId]),
      erasedSessionIds: new Set(p.sessions.map((s) => s.id)),
    };
    this.scrubLive(scrub);
    await this.disk.persist(false);
    const files = await this.scrubFiles(scrub, {
      sessionMonths: await this.disk.archive.months('sessions'),
      reportMonths: [...new Set(p.sessions.map((s) => s.month))],
    });
    this.disk.data.privacy.pendingErasures = this.disk.data.privacy.pendingErasures.filter(
      (x) => x.clientId !== p.clientId,
    );
    this.disk.markDirty();
    await this.disk.persist(false);
    return files.rewritten;
  }

  /**
   * Anonymises sessions that started more than retentionDays ago (and client screenings given
   * before then), in the live file, the archives, the report files, the journal and the backups.
   * Months wholly before the last finished run's cutoff were done then and are not read again.
   */
  async applyRetention(): Promise<RetentionResult> {
    this.disk.assertOpen();
    return this.disk.enqueue(async () => {
      const now = this.disk.now();
      const privacy = this.disk.data.privacy;
      const cutoff = now - privacy.settings.retentionDays * DAY_MS;
      const scrub: Scrub = { atEpochMs: now, beforeEpochMs: cutoff };
      const live = this.scrubLive(scrub);
      await this.disk.persist(false);
      const fromMonth = monthKey(privacy.retentionDoneBeforeEpochMs ?? Number.NEGATIVE_INFINITY);
      const toMonth = monthKey(cutoff);
      const due = (m: string) =>
        (privacy.retentionDoneBeforeEpochMs === undefined || m >= fromMonth) && m <= toMonth;
      const files = await this.scrubFiles(scrub, {
        sessionMonths: (await this.disk.archive.months('sessions')).filter(due),
        reportMonths: (await this.disk.reports.months()).filter(due),
      });
      privacy.retentionDoneBeforeEpochMs = cutoff;
      privacy.retentionDay = dayKey(now);
      this.disk.markDirty();
      await this.disk.persist(false);
      return {
        cutoffEpochMs: cutoff,
        sessionsAnonymised: live.sessions + files.sessions,
        clientScreeningsRemoved: live.clients,
        filesRewritten: files.rewritten,
      };
    });
  }

  /** Applies `scrub` to the live data; changed sessions are journalled in their new form. */
  private scrubLive(scrub: Scrub): { sessions: number; clients: number } {
    const before = new Map(this.disk.data.sessions.map((s) => [s.id, s]));
    const { data } = scrubStoreFile(this.disk.data, scrub);
    let sessions = 0;
    for (const s of data.sessions) {
      if (before.get(s.id) !== s) {
        sessions++;
        this.disk.markDirty(s.id);
      }
    }
    const clients =
      this.disk.data.clients.length -
      data.clients.length +
      countScreeningsRemoved(this.disk.data.clients, data.clients);
    this.disk.data.sessions = data.sessions;
    this.disk.data.clients = data.clients;
    if (clients > 0) this.disk.markDirty();
    return { sessions, clients };
  }

  /** Rewrites the files outside the live file that hold records `scrub` anonymises. */
  private async scrubFiles(
    scrub: Scrub,
    months: { sessionMonths: string[]; reportMonths: string[] },
  ): Promise<{ rewritten: number; sessions: number }> {
    let rewritten = 0;
    let sessions = 0;
    for (const month of months.sessionMonths) {
      try {
        const n = await this.disk.archive.rewrite(SESSION_ARCHIVE, month, (list) =>
          scrubSessions(list, scrub),
        );
        if (n > 0) rewritten++;
        sessions += n;
      } catch (e) {
        if (!(e instanceof CorruptFileError)) throw e;
        // A damaged archive cannot be read by anyone either; it is named for a person to delete.
        this.disk.log.error(`cannot anonymise ${e.message}: delete or repair it by hand`);
      }
    }
    for (const month of months.reportMonths) {
      const wrote = await this.disk.reports.rewrite(month, (r) => {
        if (!reportNeedsScrub(r, scrub)) return undefined;
        const next = anonymiseReport(r);
        return next.reason === r.reason ? undefined : next;
      });
      if (wrote) rewritten++;
    }
    if (await this.disk.journal.rewrite((list) => scrubSessions(list, scrub))) rewritten++;
    for (const name of await this.disk.backupNames()) {
      const path = join(this.disk.backupsDir, name);
      let data: StoreFile;
      try {
        const text = await readTextIfExists(path);
        if (text === null) continue;
        data = parseJson(path, text, (raw) => validateStoreFile(raw, path));
      } catch (e) {
        if (!(e instanceof CorruptFileError)) throw e;
        this.disk.log.error(`cannot anonymise backup ${e.message}: delete it by hand`);
        continue;
      }
      const scrubbed = scrubStoreFile(data, scrub);
      if (scrubbed.changed === 0) continue;
      await writeFileDurably(path, JSON.stringify(scrubbed.data));
      rewritten++;
    }
    return { rewritten, sessions };
  }
}
