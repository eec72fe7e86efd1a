/**
 * The web process's store: one compact JSON file holding programs, users, station settings, the
 * current month's sessions, alarm history, the audit log, counters, self-tests, zero offsets,
 * clients and the privacy and notification settings. Telemetry never comes here.
 *
 * JsonStore is the record accessors: what each kind of record is, how it is listed, found and
 * put. Every read returns a copy and every put stores one, so no caller can change a record
 * behind the store's back. Where and when the records are written — the live file, the journal,
 * report files, archives, backups, recovery — is store-persistence.ts's; erasure and retention
 * are privacy-jobs.ts's.
 */
import { PRESETS } from '../control-loop/programs/presets.js';
import type { Program } from '../control-loop/programs/schema.js';
import type { AlarmInfo, MaintenanceCounters, SelfTestResult } from '../protocol.js';
import { AUDIT_ARCHIVE } from './archive.js';
import { CorruptFileError } from './durable-file.js';
import { PrivacyJobs } from './privacy-jobs.js';
import type { ReportFiles } from './report-files.js';
import {
  type AlarmChange,
  type AlarmHistoryRecord,
  DEFAULT_PRIVACY,
  monthKey,
  monthRange,
  type StoreFile,
  upsert,
} from './store-file.js';
import { type JsonStoreHealth, type JsonStoreOptions, StorePersistence } from './store-persistence.js';
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
  UserRecord,
} from './types.js';

export type { StoreLog } from './archive.js';
export type { AlarmHistoryRecord } from './store-file.js';
export {
  ALARMS_LIVE_MAX,
  AUDIT_LIVE_MAX,
  DEFAULT_KEEP_BACKUPS,
  DEFAULT_WRITE_DELAY_MS,
  type JsonStoreHealth,
  type JsonStoreOptions,
  SESSION_JOURNAL_NAME,
  STORE_FILE_NAME,
} from './store-persistence.js';

/** Self-test results kept per station (not archived: only recent results matter for maintenance). */
export const SELF_TESTS_PER_STATION_MAX = 200;
/** alarms() and audit() without a limit (same default as the server's MemoryStore). */
const DEFAULT_LIST_LIMIT = 500;

function clone<T>(x: T): T {
  return structuredClone(x);
}

export class JsonStore implements Store {
  readonly file: string;
  readonly dataDir: string;
  private readonly disk: StorePersistence;
  private readonly privacy: PrivacyJobs;
  /** The disk's report files (session(id) reads reports back from them). */
  private readonly reports: ReportFiles;

  constructor(options: JsonStoreOptions) {
    this.disk = new StorePersistence(options);
    this.privacy = new PrivacyJobs(this.disk);
    this.file = this.disk.file;
    this.dataDir = this.disk.dataDir;
    this.reports = this.disk.reports;
  }

  private get data(): StoreFile {
    return this.disk.data;
  }

  // ---- lifecycle (store-persistence.ts) ----

  /** Reads or recovers the file, adds presets it lacks, writes, and finishes an erasure a crash cut short. */
  open(): Promise<void> {
    return this.disk.open(
      (data) => this.seedPresets(data),
      (data) => this.privacy.resumeErasures(data),
    );
  }

  flush(): Promise<void> {
    return this.disk.flush();
  }

  close(): Promise<void> {
    return this.disk.close();
  }

  health(): JsonStoreHealth {
    return this.disk.health();
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
    this.disk.assertOpen();
    upsert(this.data.users, clone(user), (x) => x.id === user.id);
    this.disk.changed();
  }

  deleteUser(id: string): boolean {
    this.disk.assertOpen();
    const before = this.data.users.length;
    this.data.users = this.data.users.filter((u) => u.id !== id);
    if (this.data.users.length === before) return false;
    this.disk.changed();
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
    this.disk.assertOpen();
    const versions = this.versionsOf(program.id);
    const latest = versions[versions.length - 1]?.program.version ?? 0;
    // Saving a deleted id brings it back; its old versions stay for the sessions that used them.
    for (const r of versions) delete r.deleted;
    const record: ProgramRecord = {
      program: { ...clone(program), version: latest + 1 },
      builtIn: false,
      createdAtEpochMs: this.disk.now(),
      createdBy: by,
    };
    this.data.programs.push(record);
    this.disk.changed();
    return clone(record);
  }

  /** Built-in programs may be deleted too (a clinic hides what it does not offer); they are not re-seeded. */
  deleteProgram(id: string): boolean {
    this.disk.assertOpen();
    const versions = this.versionsOf(id);
    if (versions.length === 0 || versions.every((r) => r.deleted)) return false;
    for (const r of versions) r.deleted = true;
    this.disk.changed();
    return true;
  }

  /** Adds built-in presets whose id the file does not have yet (first start, or a newer release's presets). */
  private seedPresets(data: StoreFile): boolean {
    let added = false;
    for (const p of PRESETS) {
      if (data.programs.some((r) => r.program.id === p.id)) continue;
      data.programs.push({
        program: clone(p),
        builtIn: true,
        createdAtEpochMs: this.disk.now(),
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
    this.disk.assertOpen();
    upsert(this.data.stationSettings, clone(settings), (x) => x.stationId === settings.stationId);
    this.disk.changed();
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

    for (const month of await this.disk.archive.months('sessions')) {
      const { startMs, endMs } = monthRange(month);
      if (endMs <= from || startMs > to) continue;
      // Months are read newest first; once `limit` found records are newer than this whole month,
      // nothing in it (or older) can make the cut.
      if (Number.isFinite(limit)) {
        let newer = 0;
        for (const s of found.values()) if (s.startedAtEpochMs >= endMs) newer++;
        if (newer >= limit) break;
      }
      for (const s of await this.disk.archive.sessions(month)) {
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
      for (const month of await this.disk.archive.months('sessions')) {
        found = (await this.disk.archive.sessions(month)).find((x) => x.id === id);
        if (found) break;
      }
    }
    if (!found) return undefined;
    const record = clone(found);
    // Archives written before report files existed still hold the report inline.
    if (record.report === undefined && record.hasReport === true) {
      const report =
        this.disk.pendingReport(id) ?? (await this.reports.find(id, monthKey(record.startedAtEpochMs)));
      if (report) record.report = clone(report);
    }
    delete record.hasReport;
    return record;
  }

  putSession(session: SessionRecord): void {
    this.disk.assertOpen();
    // A new object each time (never edited in place): a write in progress keeps the version it took.
    const record = this.disk.takeReport(clone(session));
    const before = this.data.sessions.find((s) => s.id === session.id);
    if (!this.disk.clockTrusted() || before?.clockUnsynced) record.clockUnsynced = true;
    upsert(this.data.sessions, record, (s) => s.id === session.id);
    this.disk.changed(session.id);
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
    this.disk.assertOpen();
    const snapshot = clone(alarm);
    // A cleared alarm's condition is gone whatever the snapshot says (same rule as the MemoryStore).
    if (change === 'cleared') snapshot.active = false;
    const list = this.data.alarms;
    const entry = {
      change,
      atEpochMs: this.disk.now(),
      ...(this.disk.clockTrusted() ? {} : { clockUnsynced: true as const }),
    };
    let i = list.length - 1;
    while (i >= 0 && list[i]?.alarm.id !== alarm.id) i--;
    const prev = list[i];
    // Replaced, not edited: an archive move in progress removes the object it took, not this one.
    if (prev) list[i] = { alarm: snapshot, changes: [...prev.changes, entry] };
    else list.push({ alarm: snapshot, changes: [entry] });
    this.disk.changed();
  }

  // ---- audit ----

  audit(limit = DEFAULT_LIST_LIMIT): AuditEntry[] {
    const newestFirst = [...this.data.audit].reverse().sort((a, b) => b.atEpochMs - a.atEpochMs);
    return clone(newestFirst.slice(0, Math.max(0, limit)));
  }

  recordAudit(entry: AuditEntry): void {
    this.disk.assertOpen();
    this.data.audit.push(this.disk.clockTrusted() ? clone(entry) : { ...clone(entry), clockUnsynced: true });
    this.disk.changed();
  }

  // ---- maintenance ----

  counters(): MaintenanceCounters[] {
    return clone(this.data.counters);
  }

  /** Replaces the given stations' counters; others are kept. Unchanged counters cause no write. */
  putCounters(counters: MaintenanceCounters[]): void {
    this.disk.assertOpen();
    let changed = false;
    for (const c of counters) {
      const prev = this.data.counters.find((x) => x.stationId === c.stationId);
      if (prev && JSON.stringify(prev) === JSON.stringify(c)) continue;
      upsert(this.data.counters, clone(c), (x) => x.stationId === c.stationId);
      changed = true;
    }
    if (changed) this.disk.changed();
  }

  /** Oldest first (the order they were recorded in). */
  selfTests(stationId?: string): SelfTestResult[] {
    return clone(this.data.selfTests.filter((t) => stationId === undefined || t.stationId === stationId));
  }

  recordSelfTest(result: SelfTestResult): void {
    this.disk.assertOpen();
    const list = this.data.selfTests;
    list.push(clone(result));
    const ofStation = list.filter((t) => t.stationId === result.stationId);
    if (ofStation.length > SELF_TESTS_PER_STATION_MAX) {
      const drop = new Set(ofStation.slice(0, ofStation.length - SELF_TESTS_PER_STATION_MAX));
      this.data.selfTests = list.filter((t) => !drop.has(t));
    }
    this.disk.changed();
  }

  zeroOffsets(stationId: string): number[] | undefined {
    const z = this.data.zeroOffsets.find((x) => x.stationId === stationId);
    return z && [...z.offsetsMmHg];
  }

  putZeroOffsets(stationId: string, offsetsMmHg: number[]): void {
    this.disk.assertOpen();
    upsert(
      this.data.zeroOffsets,
      { stationId, offsetsMmHg: [...offsetsMmHg] },
      (x) => x.stationId === stationId,
    );
    this.disk.changed();
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
    this.disk.assertOpen();
    upsert(this.data.clients, clone(client), (x) => x.id === client.id);
    this.disk.changed();
  }

  privacySettings(): PrivacySettings {
    // Settings saved before a newer key existed take its default.
    return { ...DEFAULT_PRIVACY, ...clone(this.data.privacy.settings) };
  }

  putPrivacySettings(settings: PrivacySettings): void {
    this.disk.assertOpen();
    this.data.privacy.settings = clone(settings);
    this.disk.changed();
  }

  notificationSettings(): NotificationSettings {
    return clone(this.data.notifications);
  }

  putNotificationSettings(settings: NotificationSettings): void {
    this.disk.assertOpen();
    this.data.notifications = clone(settings);
    this.disk.changed();
  }

  async auditMatching(match: (a: AuditEntry) => boolean): Promise<AuditEntry[]> {
    const out: AuditEntry[] = [];
    for (const month of (await this.disk.archive.months('audit')).reverse()) {
      try {
        out.push(...(await this.disk.archive.read(AUDIT_ARCHIVE, month)).filter(match));
      } catch (e) {
        if (!(e instanceof CorruptFileError)) throw e;
        this.disk.log.warn(`archive ${e.message}; its audit entries are left out`);
      }
    }
    out.push(...this.data.audit.filter(match));
    return clone(out).sort((a, b) => a.atEpochMs - b.atEpochMs);
  }

  // ---- erasure and retention (privacy-jobs.ts) ----

  /**
   * Erases a client: their record goes, and every session of theirs is anonymised in every file.
   * Crash-safe (privacy-jobs.ts); undefined when there is no such client.
   */
  eraseClient(id: string): Promise<ErasureResult | undefined> {
    return this.privacy.eraseClient(id);
  }

  /** Anonymises what is older than the retention period, in every file (privacy-jobs.ts). */
  applyRetention(): Promise<RetentionResult> {
    return this.privacy.applyRetention();
  }

  /** The local day of the last finished retention run (the server's daily job asks). */
  retentionDay(): string | undefined {
    return this.data.privacy.retentionDay;
  }
}
