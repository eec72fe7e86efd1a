/**
 * Month files under <dataDir>/archive/: sessions-YYYY-MM.json, audit-YYYY-MM.json and
 * alarms-YYYY-MM.json. Records leave the live file once their month is over, so the file rewritten
 * on every change holds about one month. Archive files are only rewritten when records are moved
 * into them (at most daily, or when a capped list overflows), always durably, and they are merged,
 * never replaced: a move interrupted between the archive write and the live write leaves the
 * records in both places, and the next merge recognises them instead of doubling them.
 */
import { join } from 'node:path';
import {
  CorruptFileError,
  moveAside,
  namesIfExists,
  parseJson,
  readTextIfExists,
  ShapeError,
  writeFileDurably,
} from './durable-file.js';
import {
  type AlarmHistoryRecord,
  isAlarmHistoryRecord,
  isAuditEntry,
  isObject,
  isSessionRecord,
} from './store-file.js';
import type { AuditEntry, SessionRecord } from './types.js';

export interface StoreLog {
  info(msg: string): void;
  warn(msg: string): void;
  error(msg: string): void;
}

const ARCHIVE_FORMAT = 'presso-archive';
/** Session months kept parsed in memory for history queries; older ones are re-read on demand. */
const SESSION_MONTHS_CACHED = 12;

export interface ArchiveSpec<T> {
  kind: 'sessions' | 'audit' | 'alarms';
  guard: (x: unknown) => x is T;
  /**
   * 'by-id': a record with the same identity replaces the archived one (sessions, alarms: the
   * newer state wins). 'multiset': records have no id, so identical content counts as the same
   * record as many times as it appears (audit entries).
   */
  merge: 'by-id' | 'multiset';
  identity: (t: T) => string;
  /** Epoch ms the record is filed and sorted under. */
  timeOf: (t: T) => number;
}

export const SESSION_ARCHIVE: ArchiveSpec<SessionRecord> = {
  kind: 'sessions',
  guard: isSessionRecord,
  merge: 'by-id',
  identity: (s) => s.id,
  // Filed by start, the field history queries filter and sort by: a session that ran over midnight
  // at the end of a month is in the file of the month its range query names.
  timeOf: (s) => s.startedAtEpochMs,
};

export const AUDIT_ARCHIVE: ArchiveSpec<AuditEntry> = {
  kind: 'audit',
  guard: isAuditEntry,
  merge: 'multiset',
  identity: (a) => JSON.stringify(a),
  timeOf: (a) => a.atEpochMs,
};

export const ALARM_ARCHIVE: ArchiveSpec<AlarmHistoryRecord> = {
  kind: 'alarms',
  guard: isAlarmHistoryRecord,
  merge: 'by-id',
  identity: (a) => a.alarm.id,
  timeOf: (a) => a.alarm.raisedAtEpochMs,
};

function mergeRecords<T>(spec: ArchiveSpec<T>, existing: T[], incoming: T[]): T[] {
  const merged = [...existing];
  if (spec.merge === 'by-id') {
    const index = new Map(merged.map((r, i) => [spec.identity(r), i]));
    for (const r of incoming) {
      const at = index.get(spec.identity(r));
      if (at === undefined) {
        index.set(spec.identity(r), merged.length);
        merged.push(r);
      } else merged[at] = r;
    }
  } else {
    const seen = new Map<string, number>();
    for (const r of existing) seen.set(spec.identity(r), (seen.get(spec.identity(r)) ?? 0) + 1);
    for (const r of incoming) {
      const key = spec.identity(r);
      const n = seen.get(key) ?? 0;
      if (n > 0) seen.set(key, n - 1);
      else merged.push(r);
    }
  }
  // Stable sort: equal times keep their order of arrival.
  return merged.sort((a, b) => spec.timeOf(a) - spec.timeOf(b));
}

export class MonthlyArchive {
  private readonly sessionCache = new Map<string, SessionRecord[]>();

  constructor(
    readonly dir: string,
    private readonly now: () => number,
    private readonly log: StoreLog,
  ) {}

  fileFor(kind: ArchiveSpec<unknown>['kind'], month: string): string {
    return join(this.dir, `${kind}-${month}.json`);
  }

  /** Months that have a file of this kind, newest first. */
  async months(kind: ArchiveSpec<unknown>['kind']): Promise<string[]> {
    const names = await namesIfExists(this.dir);
    const pattern = new RegExp(`^${kind}-(\\d{4}-\\d{2})\\.json$`);
    return names
      .flatMap((n) => {
        const m = pattern.exec(n);
        return m?.[1] ? [m[1]] : [];
      })
      .sort()
      .reverse();
  }

  /** A month's records of one kind (a damaged file is an error: CorruptFileError). */
  async read<T>(spec: ArchiveSpec<T>, month: string): Promise<T[]> {
    const file = this.fileFor(spec.kind, month);
    const text = await readTextIfExists(file);
    if (text === null) return [];
    return parseJson(file, text, (raw) => {
      if (!isObject(raw) || raw.format !== ARCHIVE_FORMAT || !Array.isArray(raw.records)) {
        throw new ShapeError('not a Presso archive file');
      }
      const out: T[] = [];
      for (const r of raw.records) {
        if (!spec.guard(r)) throw new ShapeError(`records[${out.length}] is not a valid ${spec.kind} record`);
        out.push(r);
      }
      return out;
    });
  }

  /** Merges `incoming` into the month's file and writes it durably. */
  async add<T>(spec: ArchiveSpec<T>, month: string, incoming: T[]): Promise<void> {
    if (incoming.length === 0) return;
    const file = this.fileFor(spec.kind, month);
    let existing: T[] = [];
    try {
      existing = await this.read(spec, month);
    } catch (e) {
      if (!(e instanceof CorruptFileError)) throw e;
      // Keep the damaged file for a person to look at; the month restarts with what is moved now.
      const movedTo = await moveAside(file, this.now());
      this.log.error(`archive ${e.message}; moved to ${movedTo}, starting the month's archive again`);
    }
    const merged = mergeRecords(spec, existing, incoming);
    await writeFileDurably(
      file,
      JSON.stringify({ format: ARCHIVE_FORMAT, kind: spec.kind, month, records: merged }),
    );
    if (spec.kind === 'sessions')
      this.cacheSessions(
        month,
        merged.filter((r) => isSessionRecord(r)),
      );
  }

  /**
   * Rewrites a month's file with `transform` applied to its records, durably, only if something
   * changed; returns how many records changed. Used to anonymise (anonymise.ts): the file is replaced whole, so
   * a crash leaves the old or the new version, and the caller repeats the pass until it finishes.
   */
  async rewrite<T>(
    spec: ArchiveSpec<T>,
    month: string,
    transform: (records: T[]) => { list: T[]; changed: number },
  ): Promise<number> {
    const file = this.fileFor(spec.kind, month);
    const { list, changed } = transform(await this.read(spec, month));
    if (changed === 0) return 0;
    await writeFileDurably(
      file,
      JSON.stringify({ format: ARCHIVE_FORMAT, kind: spec.kind, month, records: list }),
    );
    if (spec.kind === 'sessions')
      this.cacheSessions(
        month,
        list.filter((r) => isSessionRecord(r)),
      );
    return changed;
  }

  /** A month's archived sessions (read-only, cached; a damaged file reads as empty with a warning). */
  async sessions(month: string): Promise<SessionRecord[]> {
    const cached = this.sessionCache.get(month);
    if (cached) {
      // Re-insert: the Map's order is the eviction order (least recently used first).
      this.sessionCache.delete(month);
      this.sessionCache.set(month, cached);
      return cached;
    }
    let list: SessionRecord[] = [];
    try {
      list = await this.read(SESSION_ARCHIVE, month);
    } catch (e) {
      if (!(e instanceof CorruptFileError)) throw e;
      this.log.warn(`archive ${e.message}; its sessions are left out of history queries`);
    }
    this.cacheSessions(month, list);
    return list;
  }

  private cacheSessions(month: string, list: SessionRecord[]): void {
    this.sessionCache.delete(month);
    this.sessionCache.set(month, list);
    while (this.sessionCache.size > SESSION_MONTHS_CACHED) {
      const oldest = this.sessionCache.keys().next().value;
      if (oldest === undefined) break;
      this.sessionCache.delete(oldest);
    }
  }
}
