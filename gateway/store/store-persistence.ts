/**
 * The store's persistence: the live JSON file (lowdb, with the durable adapter), its batched
 * writes, the session journal, the report files, the monthly archives, the daily backups, and
 * recovery from a damaged or missing file. What is in the file is store-file.ts's; who reads and
 * changes the records is store.ts's (JsonStore).
 *
 * On disk, under dataDir:
 *   presso.json                  the live file, rewritten (durably) at most every writeDelayMs
 *   presso.sessions.jsonl        session versions acknowledged since the last backup (session-journal.ts)
 *   backups/presso-YYYY-MM-DD.json  one per calendar day, the newest keepBackups kept
 *   archive/{sessions,audit,alarms}-YYYY-MM.json  months that are over (archive.ts)
 *   reports/reports-YYYY-MM.jsonl  session reports by start month, append-only (report-files.ts)
 *   presso.json.corrupt-<ISO time>  a damaged live file, moved aside at start
 *
 * One writer: a single process may open a dataDir (pm2 fork mode, instances: 1). A second writer
 * would race on the temporary file names (testing-real-components.md §9).
 */
import { mkdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { Low } from 'lowdb';
import type { SessionReport } from '../protocol.js';
import {
  ALARM_ARCHIVE,
  type ArchiveSpec,
  AUDIT_ARCHIVE,
  MonthlyArchive,
  SESSION_ARCHIVE,
  type StoreLog,
} from './archive.js';
import { CorruptFileError, DurableJsonFile, errorMessage, writeFileDurably } from './durable-file.js';
import { type PendingReport, ReportFiles } from './report-files.js';
import { SessionJournal } from './session-journal.js';
import { dayKey, emptyStoreFile, monthKey, type StoreFile, validateStoreFile } from './store-file.js';
import { backupNames, removeStaleTemps, restoreStoreFile } from './store-recovery.js';
import type { SessionRecord, StoreHealth } from './types.js';

export const STORE_FILE_NAME = 'presso.json';
export const SESSION_JOURNAL_NAME = 'presso.sessions.jsonl';
/** Changes within this window share one rewrite of the file (SD-card wear, §9: every write is the whole file). */
export const DEFAULT_WRITE_DELAY_MS = 250;
export const DEFAULT_KEEP_BACKUPS = 14;
/** After a failed write (disk full, I/O error) the store tries again this much later. */
const WRITE_RETRY_DELAY_MS = 5_000;
/** After a failed archive move, the records stay live and the move is not retried before this. */
const ARCHIVE_RETRY_DELAY_MS = 10 * 60_000;
/** Alarm occurrences kept in the live file; beyond it the oldest go to their month's archive. */
export const ALARMS_LIVE_MAX = 5_000;
/** Audit entries kept in the live file; a busy month overflows into its archive early. */
export const AUDIT_LIVE_MAX = 20_000;
/** When a capped list overflows it is cut to this fraction of the cap, so the archive is not rewritten per entry. */
const LIVE_TRIM_FRACTION = 0.9;

export interface JsonStoreOptions {
  dataDir: string;
  /** Epoch ms; injectable so tests can cross days and months. */
  now?: () => number;
  writeDelayMs?: number;
  keepBackups?: number;
  log?: StoreLog;
  /** Live-file caps, lowered by tests. */
  alarmsLiveMax?: number;
  auditLiveMax?: number;
  /**
   * False while the wall clock is not synchronised (gateway/server/clock-state.ts): sessions,
   * alarm changes and audit entries recorded meanwhile are marked `clockUnsynced`, and the
   * date-driven housekeeping (moving last month's records to the archive, the daily backup)
   * waits, so a clock that resumed months behind, or jumped ahead, files nothing under the wrong
   * month or day. Default: always trusted.
   */
  clockTrusted?: () => boolean;
}

export interface JsonStoreHealth extends StoreHealth {
  /** Set while the last write of the live file failed; cleared by the next good write. */
  writeError?: { message: string; atEpochMs: number };
  /** Rewrites of the live file since open. */
  writes: number;
}

/**
 * Records to move out of a live list: those from months before `beforeMonth` (when given), and,
 * if what remains is over `liveMax`, the oldest down to LIVE_TRIM_FRACTION of it.
 */
function pickForArchive<T>(
  list: T[],
  timeOf: (t: T) => number,
  beforeMonth: string | undefined,
  liveMax: number,
): T[] {
  if (beforeMonth === undefined && list.length <= liveMax) return [];
  const picked = new Set<T>();
  if (beforeMonth !== undefined) {
    for (const r of list) if (monthKey(timeOf(r)) < beforeMonth) picked.add(r);
  }
  const remaining = list.length - picked.size;
  if (remaining > liveMax) {
    const keep = Math.floor(liveMax * LIVE_TRIM_FRACTION);
    const oldestFirst = list.filter((r) => !picked.has(r)).sort((a, b) => timeOf(a) - timeOf(b));
    for (const r of oldestFirst.slice(0, remaining - keep)) picked.add(r);
  }
  return [...picked];
}

/** One data directory's files, written by one process (see the header). */
export class StorePersistence {
  readonly file: string;
  readonly dataDir: string;
  readonly backupsDir: string;
  readonly archive: MonthlyArchive;
  readonly journal: SessionJournal;
  readonly reports: ReportFiles;
  private readonly adapter: DurableJsonFile<StoreFile>;
  private readonly db: Low<StoreFile>;
  readonly now: () => number;
  readonly clockTrusted: () => boolean;
  private readonly writeDelayMs: number;
  private readonly keepBackups: number;
  readonly log: StoreLog;
  private readonly alarmsLiveMax: number;
  private readonly auditLiveMax: number;

  private state: 'new' | 'open' | 'closed' = 'new';
  private dirty = false;
  /** Sessions changed since the last write: they go to the journal after it. */
  private readonly dirtySessions = new Set<string>();
  /** Reports of sessions put since the last write: appended to their month file before it. */
  private readonly pendingReports = new Map<string, PendingReport>();
  private timer: NodeJS.Timeout | undefined;
  /** Writes run one after another; flush() queues behind any write in progress. */
  private chain: Promise<void> = Promise.resolve();
  private housekeepingDay: string | undefined;
  private backupDay: string | undefined;
  private archiveBlockedUntilMs = 0;
  private recovered: StoreHealth['recovered'];
  private lastWriteEpochMs: number | undefined;
  private writeError: JsonStoreHealth['writeError'];

  constructor(options: JsonStoreOptions) {
    this.dataDir = options.dataDir;
    this.file = join(options.dataDir, STORE_FILE_NAME);
    this.backupsDir = join(options.dataDir, 'backups');
    this.now = options.now ?? Date.now;
    this.clockTrusted = options.clockTrusted ?? (() => true);
    this.writeDelayMs = options.writeDelayMs ?? DEFAULT_WRITE_DELAY_MS;
    this.keepBackups = Math.max(1, options.keepBackups ?? DEFAULT_KEEP_BACKUPS);
    this.log = options.log ?? console;
    this.alarmsLiveMax = options.alarmsLiveMax ?? ALARMS_LIVE_MAX;
    this.auditLiveMax = options.auditLiveMax ?? AUDIT_LIVE_MAX;
    this.archive = new MonthlyArchive(join(options.dataDir, 'archive'), this.now, this.log);
    this.journal = new SessionJournal(join(options.dataDir, SESSION_JOURNAL_NAME));
    this.reports = new ReportFiles(join(options.dataDir, 'reports'));
    this.adapter = new DurableJsonFile(this.file, (raw) => validateStoreFile(raw, this.file));
    this.db = new Low(this.adapter, emptyStoreFile());
  }

  /** The records as they are now (lowdb's data): read and changed in place by JsonStore. */
  get data(): StoreFile {
    return this.db.data;
  }

  /**
   * Reads the live file (or recovers it), then `seed` may add defaults to the data (it returns
   * whether it did), the first write runs, and `resume` finishes work a crash cut short. A store
   * whose first write fails is closed again.
   */
  async open(seed: (data: StoreFile) => boolean, resume: (data: StoreFile) => Promise<void>): Promise<void> {
    if (this.state !== 'new') throw new Error(`JsonStore for ${this.file} was already opened`);
    for (const dir of [this.dataDir, this.backupsDir, this.archive.dir]) {
      try {
        await mkdir(dir, { recursive: true, mode: 0o700 });
      } catch (e) {
        throw new Error(`cannot create ${dir}: ${errorMessage(e)}`, { cause: e });
      }
    }
    await removeStaleTemps([this.dataDir, this.backupsDir, this.archive.dir, this.reports.dir]);

    let data: StoreFile | null;
    try {
      data = await this.adapter.read();
    } catch (e) {
      // Only a damaged file is recovered from; EACCES, EIO and a newer schema are for a person.
      if (!(e instanceof CorruptFileError)) throw e;
      data = await this.recover(e.message, true);
    }
    if (data === null) {
      // We never delete the live file, so a missing one next to backups was lost, not "first start".
      if ((await this.backupNames()).length > 0) {
        data = await this.recover(`${this.file} is missing although backups exist`, false);
      } else {
        data = emptyStoreFile();
        this.dirty = true;
      }
    }
    this.db.data = data;
    if (seed(data)) this.dirty = true;
    // Files written before reports had their own files (or a journal replayed from then) carry
    // them inside the records: move them out on the first write.
    for (const [i, rec] of data.sessions.entries()) {
      if (rec.report === undefined) continue;
      data.sessions[i] = this.takeReport(rec);
      this.dirty = true;
    }

    const today = dayKey(this.now());
    if ((await this.backupNames()).includes(`presso-${today}.json`)) this.backupDay = today;
    this.state = 'open';
    try {
      await this.enqueuePersist(true);
      await resume(data);
    } catch (e) {
      // A store that cannot write its file is not usable; leave no retry timer holding the process.
      this.cancelTimer();
      this.state = 'closed';
      throw e;
    }
  }

  async flush(): Promise<void> {
    if (this.state === 'new') throw new Error(`JsonStore for ${this.file} is not open`);
    this.cancelTimer();
    await this.enqueuePersist(false);
  }

  async close(): Promise<void> {
    if (this.state !== 'open') {
      this.state = 'closed';
      return;
    }
    this.cancelTimer();
    try {
      await this.enqueuePersist(false);
    } finally {
      // No retry timer may outlive close(): it would keep the process from exiting. On failure
      // the store stays open, so the caller can flush() or close() again.
      this.cancelTimer();
    }
    this.state = 'closed';
  }

  health(): JsonStoreHealth {
    return {
      file: this.file,
      ...(this.recovered ? { recovered: { ...this.recovered } } : {}),
      ...(this.lastWriteEpochMs !== undefined ? { lastWriteEpochMs: this.lastWriteEpochMs } : {}),
      ...(this.writeError ? { writeError: { ...this.writeError } } : {}),
      sizeBytes: this.adapter.sizeBytes,
      writes: this.adapter.writes,
    };
  }

  /**
   * Moves a record's report to the pending report files and keeps its summary on the record.
   * A record put again without a report keeps the one it had.
   */
  takeReport(record: SessionRecord): SessionRecord {
    const { report, ...rest } = record;
    if (report === undefined) {
      const had = this.data.sessions.find((s) => s.id === record.id)?.hasReport === true;
      return had ? { ...rest, hasReport: true } : rest;
    }
    this.pendingReports.set(record.id, { month: monthKey(record.startedAtEpochMs), report });
    return { ...rest, deliveredMs: report.deliveredMs, cyclesDone: report.cyclesDone, hasReport: true };
  }

  // ---- writing ----

  assertOpen(): void {
    if (this.state !== 'open') {
      throw new Error(
        `JsonStore for ${this.file} is ${this.state === 'new' ? 'not open yet' : 'closed'}: the change would not be saved`,
      );
    }
  }

  /** The data changed (and with it the session `sessionId`, for the journal): a write is due soon. */
  changed(sessionId?: string): void {
    this.markDirty(sessionId);
    this.schedule(this.writeDelayMs);
  }

  /** The data changed within a job of the write chain, which writes it itself. */
  markDirty(sessionId?: string): void {
    this.dirty = true;
    if (sessionId !== undefined) this.dirtySessions.add(sessionId);
  }

  /** A report put since the last write and not yet in its month file. */
  pendingReport(sessionId: string): SessionReport | undefined {
    return this.pendingReports.get(sessionId)?.report;
  }

  private schedule(delayMs: number): void {
    if (this.timer || this.state !== 'open') return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      // persist() logged the failure and scheduled a retry; nobody awaits a timed write.
      this.enqueuePersist(false).catch(() => undefined);
    }, delayMs);
  }

  private cancelTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private enqueuePersist(forceHousekeeping: boolean): Promise<void> {
    return this.enqueue(() => this.persist(forceHousekeeping));
  }

  /** Runs `job` after every write and rewrite queued before it, and before any queued after it. */
  enqueue<T>(job: () => Promise<T>): Promise<T> {
    const run = this.chain.then(job);
    this.chain = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  /**
   * One write round: archive moves if due, the live file if anything changed, the journal lines of
   * changed sessions, and the daily backup. Resolves once all of it that matters is on disk.
   */
  async persist(forceHousekeeping: boolean): Promise<void> {
    const now = this.now();
    const today = dayKey(now);
    // With an unsynchronised clock "today" and "this month" are guesses: no month moves and no
    // daily backup until it is synchronised (the live file and the journal still get every write).
    const trusted = this.clockTrusted();
    await this.archiveOld(now, trusted && (forceHousekeeping || this.housekeepingDay !== today));

    const backupDue = trusted && this.backupDay !== today;
    if (!this.dirty && !backupDue) return;
    // Reports first, so that a record which says it has a report always finds it. Until none is
    // pending: the capture below must follow the last check with no await in between.
    while (this.pendingReports.size > 0) {
      const reports = [...this.pendingReports.values()];
      try {
        await this.reports.append(reports);
      } catch (e) {
        this.writeError = { message: errorMessage(e), atEpochMs: now };
        this.log.error(
          `writing session reports to ${this.reports.dir} failed, retrying in ${WRITE_RETRY_DELAY_MS / 1000} s: ${errorMessage(e)}`,
        );
        this.schedule(WRITE_RETRY_DELAY_MS);
        throw e;
      }
      for (const r of reports) {
        if (this.pendingReports.get(r.report.sessionId) === r) this.pendingReports.delete(r.report.sessionId);
      }
    }
    // From here to db.write() one synchronous step: what is marked clean, journalled and backed up
    // is exactly what the live write serialises.
    const wasDirty = this.dirty;
    const sessionIds = [...this.dirtySessions];
    this.dirty = false;
    this.dirtySessions.clear();
    const journalRecords = sessionIds.flatMap((id) => this.data.sessions.filter((s) => s.id === id));
    // Taken in the same synchronous step as the live write's snapshot (Low.write serialises at
    // call time), so the backup holds exactly what the live file and the journal hold.
    const backupText = backupDue ? JSON.stringify(this.data) : undefined;
    try {
      if (wasDirty) {
        await this.db.write();
        this.lastWriteEpochMs = now;
      }
    } catch (e) {
      this.dirty = true;
      for (const id of sessionIds) this.dirtySessions.add(id);
      this.writeError = { message: errorMessage(e), atEpochMs: now };
      this.log.error(
        `writing ${this.file} failed, retrying in ${WRITE_RETRY_DELAY_MS / 1000} s: ${errorMessage(e)}`,
      );
      this.schedule(WRITE_RETRY_DELAY_MS);
      throw e;
    }
    this.writeError = undefined;

    try {
      await this.journal.append(journalRecords);
    } catch (e) {
      // The sessions are durable in the live file; only a later restore from backup could miss them.
      this.log.error(`appending to the session journal ${this.journal.file} failed: ${errorMessage(e)}`);
    }
    if (backupText !== undefined) await this.backup(today, backupText);
  }

  private async backup(today: string, text: string): Promise<void> {
    try {
      await writeFileDurably(join(this.backupsDir, `presso-${today}.json`), text);
      this.backupDay = today;
      // The backup holds every session the journal does (same snapshot): start the journal afresh.
      await this.journal.clear();
      const names = await this.backupNames();
      for (const name of names.slice(this.keepBackups)) await unlink(join(this.backupsDir, name));
    } catch (e) {
      this.log.error(
        `daily backup to ${this.backupsDir} failed, trying again on the next write: ${errorMessage(e)}`,
      );
    }
  }

  private async archiveOld(now: number, housekeeping: boolean): Promise<void> {
    if (now < this.archiveBlockedUntilMs) return;
    const current = monthKey(now);
    const d = this.data;
    const before = housekeeping ? current : undefined;
    // A running session stays live whatever its month: its end will be put soon.
    const sessions = housekeeping
      ? d.sessions.filter((s) => s.status !== 'running' && monthKey(s.startedAtEpochMs) < current)
      : [];
    const audit = pickForArchive(d.audit, AUDIT_ARCHIVE.timeOf, before, this.auditLiveMax);
    const alarms = pickForArchive(d.alarms, ALARM_ARCHIVE.timeOf, before, this.alarmsLiveMax);
    try {
      await this.moveToArchive(SESSION_ARCHIVE, sessions, (moved) => {
        d.sessions = d.sessions.filter((s) => !moved.has(s));
      });
      await this.moveToArchive(AUDIT_ARCHIVE, audit, (moved) => {
        d.audit = d.audit.filter((a) => !moved.has(a));
      });
      await this.moveToArchive(ALARM_ARCHIVE, alarms, (moved) => {
        d.alarms = d.alarms.filter((a) => !moved.has(a));
      });
      if (housekeeping) this.housekeepingDay = dayKey(now);
    } catch (e) {
      this.archiveBlockedUntilMs = now + ARCHIVE_RETRY_DELAY_MS;
      this.log.error(`archiving old records failed; they stay in ${this.file} for now: ${errorMessage(e)}`);
    }
  }

  /** Writes `records` to their months' archive files, then (only then) drops them from the live data. */
  private async moveToArchive<T>(
    spec: ArchiveSpec<T>,
    records: T[],
    remove: (moved: Set<T>) => void,
  ): Promise<void> {
    if (records.length === 0) return;
    const byMonth = new Map<string, T[]>();
    for (const r of records) {
      const m = monthKey(spec.timeOf(r));
      byMonth.set(m, [...(byMonth.get(m) ?? []), r]);
    }
    for (const [month, list] of byMonth) await this.archive.add(spec, month, list);
    remove(new Set(records));
    this.dirty = true;
  }

  /** Restores the data from the backups and the journal (store-recovery.ts), and remembers it for health(). */
  private async recover(problem: string, fileExists: boolean): Promise<StoreFile> {
    const r = await restoreStoreFile(this, problem, fileExists);
    this.recovered = r.recovered;
    this.dirty = true;
    return r.data;
  }

  /** Backup file names, newest first. */
  backupNames(): Promise<string[]> {
    return backupNames(this.backupsDir);
  }
}
