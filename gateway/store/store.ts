/**
 * The web process's store: one compact JSON file (lowdb, with the durable adapter) holding
 * programs, users, station settings, the current month's sessions, alarm history, the audit log,
 * counters, self-tests and zero offsets. Telemetry never comes here.
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
import { mkdir, readdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { Low } from 'lowdb';
import { PRESETS } from '../control-loop/programs/presets.js';
import type { Program } from '../control-loop/programs/schema.js';
import type { AlarmInfo, MaintenanceCounters, SelfTestResult } from '../protocol.js';
import {
  ALARM_ARCHIVE,
  type ArchiveSpec,
  AUDIT_ARCHIVE,
  MonthlyArchive,
  SESSION_ARCHIVE,
  type StoreLog,
} from './archive.js';
import { anonymiseReport, reportNeedsScrub, type Scrub, scrubSessions, scrubStoreFile } from './anonymise.js';
import {
  CorruptFileError,
  DurableJsonFile,
  errorCode,
  moveAside,
  parseJson,
  readTextIfExists,
  writeFileDurably,
} from './durable-file.js';
import { type PendingReport, ReportFiles } from './report-files.js';
import { SessionJournal } from './session-journal.js';
import {
  type AlarmChange,
  type AlarmHistoryRecord,
  dayKey,
  DEFAULT_PRIVACY,
  emptyStoreFile,
  monthKey,
  monthRange,
  type PendingErasure,
  type StoreFile,
  validateStoreFile,
} from './store-file.js';
import type {
  AuditEntry,
  ClientRecord,
  ErasureResult,
  NotificationSettings,
  PrivacySettings,
  ProgramRecord,
  RetentionResult,
  SessionQuery,
  SessionRecord,
  StationSettings,
  Store,
  StoreHealth,
  UserRecord,
} from './types.js';

export type { StoreLog } from './archive.js';
export type { AlarmHistoryRecord } from './store-file.js';

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
/** Self-test results kept per station (not archived: only recent results matter for maintenance). */
export const SELF_TESTS_PER_STATION_MAX = 200;
/** alarms() and audit() without a limit (same default as the server's MemoryStore). */
const DEFAULT_LIST_LIMIT = 500;
const BACKUP_NAME = /^presso-\d{4}-\d{2}-\d{2}\.json$/;
/** Temporary files of writes cut short by a crash: ".presso.json.tmp", ".sessions-2025-01.json.tmp", … */
const STALE_TEMP = /^\.(presso|sessions|audit|alarms|reports)[^/]*\.jsonl?\.tmp$/;
const DAY_MS = 24 * 60 * 60 * 1000;

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

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function clone<T>(x: T): T {
  return structuredClone(x);
}

function upsert<T>(list: T[], item: T, same: (x: T) => boolean): void {
  const i = list.findIndex(same);
  if (i >= 0) list[i] = item;
  else list.push(item);
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

function countScreeningsRemoved(before: ClientRecord[], after: ClientRecord[]): number {
  const had = new Set(before.filter((c) => c.screening !== undefined).map((c) => c.id));
  return after.filter((c) => had.has(c.id) && c.screening === undefined).length;
}

export class JsonStore implements Store {
  readonly file: string;
  readonly dataDir: string;
  private readonly backupsDir: string;
  private readonly archive: MonthlyArchive;
  private readonly journal: SessionJournal;
  private readonly reports: ReportFiles;
  private readonly adapter: DurableJsonFile<StoreFile>;
  private readonly db: Low<StoreFile>;
  private readonly now: () => number;
  private readonly clockTrusted: () => boolean;
  private readonly writeDelayMs: number;
  private readonly keepBackups: number;
  private readonly log: StoreLog;
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

  private get data(): StoreFile {
    return this.db.data;
  }

  // ---- lifecycle ----

  async open(): Promise<void> {
    if (this.state !== 'new') throw new Error(`JsonStore for ${this.file} was already opened`);
    for (const dir of [this.dataDir, this.backupsDir, this.archive.dir]) {
      try {
        await mkdir(dir, { recursive: true, mode: 0o700 });
      } catch (e) {
        throw new Error(`cannot create ${dir}: ${message(e)}`, { cause: e });
      }
    }
    await this.removeStaleTemps();

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
    if (this.seedPresets()) this.dirty = true;
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
      // An erasure cut short by a crash: its intent is in the file, some files may still name them.
      for (const p of [...data.privacy.pendingErasures]) await this.enqueue(() => this.finishErasure(p));
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

  // ---- users ----

  users(): UserRecord[] {
    return clone(this.data.users);
  }

  userById(id: string): UserRecord | undefined {
    const u = this.data.users.find((x) => x.id === id);
    return u && clone(u);
  }

  putUser(user: UserRecord): void {
    this.assertOpen();
    upsert(this.data.users, clone(user), (x) => x.id === user.id);
    this.changed();
  }

  deleteUser(id: string): boolean {
    this.assertOpen();
    const before = this.data.users.length;
    this.data.users = this.data.users.filter((u) => u.id !== id);
    if (this.data.users.length === before) return false;
    this.changed();
    return true;
  }

  // ---- programs ----

  private versionsOf(id: string): ProgramRecord[] {
    return this.data.programs
      .filter((r) => r.program.id === id)
      .sort((a, b) => a.program.version - b.program.version);
  }

  programs(): ProgramRecord[] {
    const latest = new Map<string, ProgramRecord>();
    for (const r of this.data.programs) {
      const seen = latest.get(r.program.id);
      if (!seen || r.program.version > seen.program.version) latest.set(r.program.id, r);
    }
    return [...latest.values()].filter((r) => !r.deleted).map(clone);
  }

  /**
   * The given version, or the latest. A deleted program is still returned (with deleted: true),
   * because sessions refer to its versions; callers starting a session must check `deleted`.
   */
  program(id: string, version?: number): ProgramRecord | undefined {
    const versions = this.versionsOf(id);
    const r =
      version === undefined
        ? versions[versions.length - 1]
        : versions.find((x) => x.program.version === version);
    return r && clone(r);
  }

  saveProgram(program: Program, by: string): ProgramRecord {
    this.assertOpen();
    const versions = this.versionsOf(program.id);
    const latest = versions[versions.length - 1]?.program.version ?? 0;
    // Saving a deleted id brings it back; its old versions stay for the sessions that used them.
    for (const r of versions) delete r.deleted;
    const record: ProgramRecord = {
      program: { ...clone(program), version: latest + 1 },
      builtIn: false,
      createdAtEpochMs: this.now(),
      createdBy: by,
    };
    this.data.programs.push(record);
    this.changed();
    return clone(record);
  }

  /** Built-in programs may be deleted too (a clinic hides what it does not offer); they are not re-seeded. */
  deleteProgram(id: string): boolean {
    this.assertOpen();
    const versions = this.versionsOf(id);
    if (versions.length === 0 || versions.every((r) => r.deleted)) return false;
    for (const r of versions) r.deleted = true;
    this.changed();
    return true;
  }

  /** Adds built-in presets whose id the file does not have yet (first start, or a newer release's presets). */
  private seedPresets(): boolean {
    let added = false;
    for (const p of PRESETS) {
      if (this.data.programs.some((r) => r.program.id === p.id)) continue;
      this.data.programs.push({
        program: clone(p),
        builtIn: true,
        createdAtEpochMs: this.now(),
        createdBy: 'system',
      });
      added = true;
    }
    return added;
  }

  // ---- station settings ----

  stationSettings(stationId: string): StationSettings | undefined {
    const s = this.data.stationSettings.find((x) => x.stationId === stationId);
    return s && clone(s);
  }

  putStationSettings(settings: StationSettings): void {
    this.assertOpen();
    upsert(this.data.stationSettings, clone(settings), (x) => x.stationId === settings.stationId);
    this.changed();
  }

  // ---- sessions ----

  async sessions(query: SessionQuery = {}): Promise<SessionRecord[]> {
    const from = query.fromEpochMs ?? Number.NEGATIVE_INFINITY;
    const to = query.toEpochMs ?? Number.POSITIVE_INFINITY;
    const limit = query.limit ?? Number.POSITIVE_INFINITY;
    const matches = (s: SessionRecord): boolean =>
      (query.stationId === undefined || s.stationId === query.stationId) &&
      s.startedAtEpochMs >= from &&
      s.startedAtEpochMs <= to;

    // The live file wins over the archive: a session re-put after archiving is newer there.
    const found = new Map<string, SessionRecord>();
    for (const s of this.data.sessions) if (matches(s)) found.set(s.id, s);

    for (const month of await this.archive.months('sessions')) {
      const { startMs, endMs } = monthRange(month);
      if (endMs <= from || startMs > to) continue;
      // Months are read newest first; once `limit` found records are newer than this whole month,
      // nothing in it (or older) can make the cut.
      if (Number.isFinite(limit)) {
        let newer = 0;
        for (const s of found.values()) if (s.startedAtEpochMs >= endMs) newer++;
        if (newer >= limit) break;
      }
      for (const s of await this.archive.sessions(month)) {
        if (matches(s) && !found.has(s.id)) found.set(s.id, s);
      }
    }

    const list = [...found.values()].sort(
      (a, b) => b.startedAtEpochMs - a.startedAtEpochMs || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0),
    );
    return (Number.isFinite(limit) ? list.slice(0, Math.max(0, limit)) : list).map((s) => {
      // Lists carry the summary; the report itself is for session(id).
      const { report, hasReport, ...rest } = s;
      void report;
      void hasReport;
      return clone(rest);
    });
  }

  async session(id: string): Promise<SessionRecord | undefined> {
    let found = this.data.sessions.find((s) => s.id === id);
    if (!found) {
      for (const month of await this.archive.months('sessions')) {
        found = (await this.archive.sessions(month)).find((x) => x.id === id);
        if (found) break;
      }
    }
    if (!found) return undefined;
    const record = clone(found);
    // Archives written before report files existed still hold the report inline.
    if (record.report === undefined && record.hasReport === true) {
      const report =
        this.pendingReports.get(id)?.report ??
        (await this.reports.find(id, monthKey(record.startedAtEpochMs)));
      if (report) record.report = clone(report);
    }
    delete record.hasReport;
    return record;
  }

  putSession(session: SessionRecord): void {
    this.assertOpen();
    // A new object each time (never edited in place): a write in progress keeps the version it took.
    const record = this.takeReport(clone(session));
    const before = this.data.sessions.find((s) => s.id === session.id);
    if (!this.clockTrusted() || before?.clockUnsynced) record.clockUnsynced = true;
    upsert(this.data.sessions, record, (s) => s.id === session.id);
    this.changed(session.id);
  }

  /**
   * Moves a record's report to the pending report files and keeps its summary on the record.
   * A record put again without a report keeps the one it had.
   */
  private takeReport(record: SessionRecord): SessionRecord {
    const { report, ...rest } = record;
    if (report === undefined) {
      const had = this.data.sessions.find((s) => s.id === record.id)?.hasReport === true;
      return had ? { ...rest, hasReport: true } : rest;
    }
    this.pendingReports.set(record.id, { month: monthKey(record.startedAtEpochMs), report });
    return { ...rest, deliveredMs: report.deliveredMs, cyclesDone: report.cyclesDone, hasReport: true };
  }

  // ---- alarms ----

  /** One entry per alarm occurrence, its latest state, newest raised first. */
  alarms(limit = DEFAULT_LIST_LIMIT): AlarmInfo[] {
    return this.alarmHistory(limit).map((r) => r.alarm);
  }

  /** Like alarms(), with every raised/cleared/acknowledged change and when the store saw it. */
  alarmHistory(limit = DEFAULT_LIST_LIMIT): AlarmHistoryRecord[] {
    const newestFirst = [...this.data.alarms].sort(
      (a, b) => b.alarm.raisedAtEpochMs - a.alarm.raisedAtEpochMs,
    );
    return clone(newestFirst.slice(0, Math.max(0, limit)));
  }

  recordAlarm(alarm: AlarmInfo, change: AlarmChange): void {
    this.assertOpen();
    const snapshot = clone(alarm);
    // A cleared alarm's condition is gone whatever the snapshot says (same rule as the MemoryStore).
    if (change === 'cleared') snapshot.active = false;
    const list = this.data.alarms;
    const entry = {
      change,
      atEpochMs: this.now(),
      ...(this.clockTrusted() ? {} : { clockUnsynced: true as const }),
    };
    let i = list.length - 1;
    while (i >= 0 && list[i]?.alarm.id !== alarm.id) i--;
    const prev = list[i];
    // Replaced, not edited: an archive move in progress removes the object it took, not this one.
    if (prev) list[i] = { alarm: snapshot, changes: [...prev.changes, entry] };
    else list.push({ alarm: snapshot, changes: [entry] });
    this.changed();
  }

  // ---- audit ----

  audit(limit = DEFAULT_LIST_LIMIT): AuditEntry[] {
    const newestFirst = [...this.data.audit].reverse().sort((a, b) => b.atEpochMs - a.atEpochMs);
    return clone(newestFirst.slice(0, Math.max(0, limit)));
  }

  recordAudit(entry: AuditEntry): void {
    this.assertOpen();
    this.data.audit.push(this.clockTrusted() ? clone(entry) : { ...clone(entry), clockUnsynced: true });
    this.changed();
  }

  // ---- maintenance ----

  counters(): MaintenanceCounters[] {
    return clone(this.data.counters);
  }

  /** Replaces the given stations' counters; others are kept. Unchanged counters cause no write. */
  putCounters(counters: MaintenanceCounters[]): void {
    this.assertOpen();
    let changed = false;
    for (const c of counters) {
      const prev = this.data.counters.find((x) => x.stationId === c.stationId);
      if (prev && JSON.stringify(prev) === JSON.stringify(c)) continue;
      upsert(this.data.counters, clone(c), (x) => x.stationId === c.stationId);
      changed = true;
    }
    if (changed) this.changed();
  }

  /** Oldest first (the order they were recorded in). */
  selfTests(stationId?: string): SelfTestResult[] {
    return clone(this.data.selfTests.filter((t) => stationId === undefined || t.stationId === stationId));
  }

  recordSelfTest(result: SelfTestResult): void {
    this.assertOpen();
    const list = this.data.selfTests;
    list.push(clone(result));
    const ofStation = list.filter((t) => t.stationId === result.stationId);
    if (ofStation.length > SELF_TESTS_PER_STATION_MAX) {
      const drop = new Set(ofStation.slice(0, ofStation.length - SELF_TESTS_PER_STATION_MAX));
      this.data.selfTests = list.filter((t) => !drop.has(t));
    }
    this.changed();
  }

  zeroOffsets(stationId: string): number[] | undefined {
    const z = this.data.zeroOffsets.find((x) => x.stationId === stationId);
    return z && [...z.offsetsMmHg];
  }

  putZeroOffsets(stationId: string, offsetsMmHg: number[]): void {
    this.assertOpen();
    upsert(
      this.data.zeroOffsets,
      { stationId, offsetsMmHg: [...offsetsMmHg] },
      (x) => x.stationId === stationId,
    );
    this.changed();
  }

  // ---- clients, privacy, notifications ----

  clients(): ClientRecord[] {
    return clone(this.data.clients).sort((a, b) => a.name.localeCompare(b.name));
  }

  client(id: string): ClientRecord | undefined {
    const c = this.data.clients.find((x) => x.id === id);
    return c && clone(c);
  }

  putClient(client: ClientRecord): void {
    this.assertOpen();
    upsert(this.data.clients, clone(client), (x) => x.id === client.id);
    this.changed();
  }

  privacySettings(): PrivacySettings {
    // Settings saved before a newer key existed take its default.
    return { ...DEFAULT_PRIVACY, ...clone(this.data.privacy.settings) };
  }

  putPrivacySettings(settings: PrivacySettings): void {
    this.assertOpen();
    this.data.privacy.settings = clone(settings);
    this.changed();
  }

  notificationSettings(): NotificationSettings {
    return clone(this.data.notifications);
  }

  putNotificationSettings(settings: NotificationSettings): void {
    this.assertOpen();
    this.data.notifications = clone(settings);
    this.changed();
  }

  async auditMatching(match: (a: AuditEntry) => boolean): Promise<AuditEntry[]> {
    const out: AuditEntry[] = [];
    for (const month of (await this.archive.months('audit')).reverse()) {
      try {
        out.push(...(await this.archive.read(AUDIT_ARCHIVE, month)).filter(match));
      } catch (e) {
        if (!(e instanceof CorruptFileError)) throw e;
        this.log.warn(`archive ${e.message}; its audit entries are left out`);
      }
    }
    out.push(...this.data.audit.filter(match));
    return clone(out).sort((a, b) => a.atEpochMs - b.atEpochMs);
  }

  /**
   * Erasure, crash-safe: the intent (client id and every session of theirs with its month) is
   * written with the anonymised live file in one durable write; then archives, report files, the
   * journal and the backups are rewritten one by one (each rename-over, so old or new); then the
   * intent is removed. A crash in between leaves the intent, and open() finishes the job.
   */
  async eraseClient(id: string): Promise<ErasureResult | undefined> {
    this.assertOpen();
    if (!this.data.clients.some((c) => c.id === id)) return undefined;
    // Archived sessions are found first (that awaits); the live ones in the same step as the write.
    const sessions = new Map<string, string>();
    for (const month of await this.archive.months('sessions')) {
      for (const s of await this.archive.sessions(month)) if (s.clientId === id) sessions.set(s.id, month);
    }
    return this.enqueue(async () => {
      for (const s of this.data.sessions) {
        if (s.clientId === id) sessions.set(s.id, monthKey(s.startedAtEpochMs));
      }
      const pending: PendingErasure = {
        clientId: id,
        atEpochMs: this.now(),
        sessions: [...sessions].map(([sid, month]) => ({ id: sid, month })),
      };
      this.data.privacy.pendingErasures.push(pending);
      await this.persist(false);
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
    await this.persist(false);
    const files = await this.scrubFiles(scrub, {
      sessionMonths: await this.archive.months('sessions'),
      reportMonths: [...new Set(p.sessions.map((s) => s.month))],
    });
    this.data.privacy.pendingErasures = this.data.privacy.pendingErasures.filter(
      (x) => x.clientId !== p.clientId,
    );
    this.dirty = true;
    await this.persist(false);
    return files.rewritten;
  }

  /**
   * Anonymises sessions that started more than retentionDays ago (and client screenings given
   * before then), in the live file, the archives, the report files, the journal and the backups.
   * Months wholly before the last finished run's cutoff were done then and are not read again.
   */
  async applyRetention(): Promise<RetentionResult> {
    this.assertOpen();
    return this.enqueue(async () => {
      const now = this.now();
      const privacy = this.data.privacy;
      const cutoff = now - privacy.settings.retentionDays * DAY_MS;
      const scrub: Scrub = { atEpochMs: now, beforeEpochMs: cutoff };
      const live = this.scrubLive(scrub);
      await this.persist(false);
      const fromMonth = monthKey(privacy.retentionDoneBeforeEpochMs ?? Number.NEGATIVE_INFINITY);
      const toMonth = monthKey(cutoff);
      const due = (m: string) =>
        (privacy.retentionDoneBeforeEpochMs === undefined || m >= fromMonth) && m <= toMonth;
      const files = await this.scrubFiles(scrub, {
        sessionMonths: (await this.archive.months('sessions')).filter(due),
        reportMonths: (await this.reports.months()).filter(due),
      });
      privacy.retentionDoneBeforeEpochMs = cutoff;
      privacy.retentionDay = dayKey(now);
      this.dirty = true;
      await this.persist(false);
      return {
        cutoffEpochMs: cutoff,
        sessionsAnonymised: live.sessions + files.sessions,
        clientScreeningsRemoved: live.clients,
        filesRewritten: files.rewritten,
      };
    });
  }

  /** The local day of the last finished retention run (the server's daily job asks). */
  retentionDay(): string | undefined {
    return this.data.privacy.retentionDay;
  }

  /** Applies `scrub` to the live data; changed sessions are journalled in their new form. */
  private scrubLive(scrub: Scrub): { sessions: number; clients: number } {
    const before = new Map(this.data.sessions.map((s) => [s.id, s]));
    const { data } = scrubStoreFile(this.data, scrub);
    let sessions = 0;
    for (const s of data.sessions) {
      if (before.get(s.id) !== s) {
        sessions++;
        this.dirtySessions.add(s.id);
      }
    }
    const clients =
      this.data.clients.length -
      data.clients.length +
      countScreeningsRemoved(this.data.clients, data.clients);
    this.data.sessions = data.sessions;
    this.data.clients = data.clients;
    if (sessions + clients > 0) this.dirty = true;
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
        const n = await this.archive.rewrite(SESSION_ARCHIVE, month, (list) => scrubSessions(list, scrub));
        if (n > 0) rewritten++;
        sessions += n;
      } catch (e) {
        if (!(e instanceof CorruptFileError)) throw e;
        // A damaged archive cannot be read by anyone either; it is named for a person to delete.
        this.log.error(`cannot anonymise ${e.message}: delete or repair it by hand`);
      }
    }
    for (const month of months.reportMonths) {
      const wrote = await this.reports.rewrite(month, (r) => {
        if (!reportNeedsScrub(r, scrub)) return undefined;
        const next = anonymiseReport(r);
        return next.reason === r.reason ? undefined : next;
      });
      if (wrote) rewritten++;
    }
    if (await this.journal.rewrite((list) => scrubSessions(list, scrub))) rewritten++;
    for (const name of await this.backupNames()) {
      const path = join(this.backupsDir, name);
      let data: StoreFile;
      try {
        const text = await readTextIfExists(path);
        if (text === null) continue;
        data = parseJson(path, text, (raw) => validateStoreFile(raw, path));
      } catch (e) {
        if (!(e instanceof CorruptFileError)) throw e;
        this.log.error(`cannot anonymise backup ${e.message}: delete it by hand`);
        continue;
      }
      const scrubbed = scrubStoreFile(data, scrub);
      if (scrubbed.changed === 0) continue;
      await writeFileDurably(path, JSON.stringify(scrubbed.data));
      rewritten++;
    }
    return { rewritten, sessions };
  }

  // ---- writing ----

  private assertOpen(): void {
    if (this.state !== 'open') {
      throw new Error(
        `JsonStore for ${this.file} is ${this.state === 'new' ? 'not open yet' : 'closed'}: the change would not be saved`,
      );
    }
  }

  private changed(sessionId?: string): void {
    this.dirty = true;
    if (sessionId !== undefined) this.dirtySessions.add(sessionId);
    this.schedule(this.writeDelayMs);
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
  private enqueue<T>(job: () => Promise<T>): Promise<T> {
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
  private async persist(forceHousekeeping: boolean): Promise<void> {
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
        this.writeError = { message: message(e), atEpochMs: now };
        this.log.error(
          `writing session reports to ${this.reports.dir} failed, retrying in ${WRITE_RETRY_DELAY_MS / 1000} s: ${message(e)}`,
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
      this.writeError = { message: message(e), atEpochMs: now };
      this.log.error(
        `writing ${this.file} failed, retrying in ${WRITE_RETRY_DELAY_MS / 1000} s: ${message(e)}`,
      );
      this.schedule(WRITE_RETRY_DELAY_MS);
      throw e;
    }
    this.writeError = undefined;

    try {
      await this.journal.append(journalRecords);
    } catch (e) {
      // The sessions are durable in the live file; only a later restore from backup could miss them.
      this.log.error(`appending to the session journal ${this.journal.file} failed: ${message(e)}`);
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
        `daily backup to ${this.backupsDir} failed, trying again on the next write: ${message(e)}`,
      );
    }
  }

  /** Backup file names, newest first. */
  private async backupNames(): Promise<string[]> {
    let names: string[];
    try {
      names = await readdir(this.backupsDir);
    } catch (e) {
      if (errorCode(e) === 'ENOENT') return [];
      throw e;
    }
    return names
      .filter((n) => BACKUP_NAME.test(n))
      .sort()
      .reverse();
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
      this.log.error(`archiving old records failed; they stay in ${this.file} for now: ${message(e)}`);
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

  // ---- recovery ----

  /**
   * Moves the damaged file aside, restores the newest backup that parses (else the defaults),
   * replays the session journal over it, and records what happened for health().recovered.
   */
  private async recover(problem: string, fileExists: boolean): Promise<StoreFile> {
    const at = this.now();
    const movedTo = fileExists ? await moveAside(this.file, at) : 'nothing (the file was missing)';
    let restored: StoreFile | undefined;
    let restoredFrom = 'defaults';
    for (const name of await this.backupNames()) {
      const path = join(this.backupsDir, name);
      try {
        const text = await readTextIfExists(path);
        if (text === null) continue;
        restored = parseJson(path, text, (raw) => validateStoreFile(raw, path));
        restoredFrom = path;
        break;
      } catch (e) {
        this.log.warn(`backup not usable: ${message(e)}`);
      }
    }
    const data = restored ?? emptyStoreFile();
    let replayed = 0;
    try {
      for (const s of await this.journal.read()) {
        upsert(data.sessions, s, (x) => x.id === s.id);
        replayed++;
      }
    } catch (e) {
      this.log.error(`session journal ${this.journal.file} unreadable: ${message(e)}`);
    }
    this.recovered = { movedTo, restoredFrom, atEpochMs: at, error: problem };
    this.log.warn(
      `store file unusable (${problem}); moved to ${movedTo}, restored from ${restoredFrom}` +
        (replayed > 0 ? `, ${replayed} session record(s) replayed from ${this.journal.file}` : ''),
    );
    this.dirty = true;
    return data;
  }

  private async removeStaleTemps(): Promise<void> {
    for (const dir of [this.dataDir, this.backupsDir, this.archive.dir, this.reports.dir]) {
      let names: string[];
      try {
        names = await readdir(dir);
      } catch (e) {
        if (errorCode(e) === 'ENOENT') continue;
        throw e;
      }
      for (const name of names) {
        if (STALE_TEMP.test(name)) await unlink(join(dir, name)).catch(() => undefined);
      }
    }
  }
}
