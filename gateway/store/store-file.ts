/**
 * The layout of presso.json and the cheap checks that tell a good file from a damaged one. The
 * checks look at the top level and at the fields the store itself indexes or sorts by (ids,
 * timestamps): enough that a file which passes cannot crash the store, without re-validating
 * every program (the server validates programs with parseProgram when they are saved).
 */
import type { AlarmInfo, MaintenanceCounters, SelfTestResult } from '../protocol.js';
import { ShapeError } from './durable-file.js';
import type {
  AuditEntry,
  ClientRecord,
  NotificationSettings,
  PrivacySettings,
  ProgramRecord,
  SessionRecord,
  StationSettings,
  UserRecord,
} from './types.js';

export const STORE_FORMAT = 'presso-store';
/**
 * Raised when the layout changes incompatibly; older code refuses a newer file rather than damage it.
 * 2: clients, privacy and notifications. A version-1 gateway would drop them on its next write
 * (and with them pending erasures), so it must refuse the file instead; version-1 files read here
 * with those collections empty.
 */
export const STORE_SCHEMA_VERSION = 2;

export const DEFAULT_PRIVACY: PrivacySettings = {
  retentionDays: 365,
  screeningMaxAgeDays: 180,
  consentTextVersion: '1',
};

/** An erasure in progress: written before any file is touched, removed once all are done. */
export interface PendingErasure {
  clientId: string;
  atEpochMs: number;
  /** Every session of the client and the month it started (its report file and archive). */
  sessions: { id: string; month: string }[];
}

export interface PrivacyState {
  settings: PrivacySettings;
  pendingErasures: PendingErasure[];
  /** The cutoff of the last retention run that finished everywhere: older months need no rescan. */
  retentionDoneBeforeEpochMs?: number;
  /** Local day of the last finished retention run. */
  retentionDay?: string;
}

export type AlarmChange = 'raised' | 'cleared' | 'acknowledged';

/** One alarm occurrence (AlarmInfo.id) with its latest state and every change the store saw. */
export interface AlarmHistoryRecord {
  alarm: AlarmInfo;
  /** clockUnsynced: recorded before the clock was synchronised (gateway/server/clock-state.ts). */
  changes: { change: AlarmChange; atEpochMs: number; clockUnsynced?: true }[];
}

export interface ZeroOffsetsRecord {
  stationId: string;
  offsetsMmHg: number[];
}

/** Keyed collections are arrays, not objects: station and user ids never become property names. */
export interface StoreFile {
  format: typeof STORE_FORMAT;
  schemaVersion: number;
  /** Every version of every program, oldest first within an id. */
  programs: ProgramRecord[];
  users: UserRecord[];
  stationSettings: StationSettings[];
  /** The current month's sessions (and running or re-opened older ones); older months are archived. */
  sessions: SessionRecord[];
  alarms: AlarmHistoryRecord[];
  audit: AuditEntry[];
  counters: MaintenanceCounters[];
  selfTests: SelfTestResult[];
  zeroOffsets: ZeroOffsetsRecord[];
  clients: ClientRecord[];
  privacy: PrivacyState;
  notifications: NotificationSettings;
}

/** A file written by a newer gateway: not corrupt, so it is neither moved aside nor overwritten. */
export class NewerStoreVersionError extends Error {
  constructor(file: string, version: number) {
    super(
      `${file} has store schema version ${version}, newer than this gateway's ${STORE_SCHEMA_VERSION}: ` +
        'install the newer gateway again, or restore a backup written by this version',
    );
    this.name = 'NewerStoreVersionError';
  }
}

export function emptyStoreFile(): StoreFile {
  return {
    format: STORE_FORMAT,
    schemaVersion: STORE_SCHEMA_VERSION,
    programs: [],
    users: [],
    stationSettings: [],
    sessions: [],
    alarms: [],
    audit: [],
    counters: [],
    selfTests: [],
    zeroOffsets: [],
    clients: [],
    privacy: { settings: { ...DEFAULT_PRIVACY }, pendingErasures: [] },
    notifications: { language: 'en', channels: [] },
  };
}

// ---- small guards for unknown JSON ----

export function isObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

function isString(x: unknown): x is string {
  return typeof x === 'string';
}

function isFiniteNumber(x: unknown): x is number {
  return typeof x === 'number' && Number.isFinite(x);
}

export function isSessionRecord(x: unknown): x is SessionRecord {
  return (
    isObject(x) &&
    isString(x.id) &&
    isString(x.stationId) &&
    isFiniteNumber(x.startedAtEpochMs) &&
    isString(x.status)
  );
}

export function isAuditEntry(x: unknown): x is AuditEntry {
  return isObject(x) && isFiniteNumber(x.atEpochMs) && isString(x.what);
}

export function isAlarmHistoryRecord(x: unknown): x is AlarmHistoryRecord {
  return (
    isObject(x) &&
    isObject(x.alarm) &&
    isString(x.alarm.id) &&
    isFiniteNumber(x.alarm.raisedAtEpochMs) &&
    Array.isArray(x.changes)
  );
}

function isProgramRecord(x: unknown): x is ProgramRecord {
  return (
    isObject(x) &&
    isObject(x.program) &&
    isString(x.program.id) &&
    Number.isInteger(x.program.version) &&
    typeof x.builtIn === 'boolean'
  );
}

function isUserRecord(x: unknown): x is UserRecord {
  return isObject(x) && isString(x.id) && isString(x.role) && isString(x.secretHash);
}

function isStationSettings(x: unknown): x is StationSettings {
  return isObject(x) && isString(x.stationId) && Array.isArray(x.walkUpPrograms);
}

function isCounters(x: unknown): x is MaintenanceCounters {
  return isObject(x) && isString(x.stationId) && isFiniteNumber(x.pumpRunMs);
}

function isSelfTest(x: unknown): x is SelfTestResult {
  return isObject(x) && isString(x.stationId) && isFiniteNumber(x.atEpochMs);
}

function isClientRecord(x: unknown): x is ClientRecord {
  return isObject(x) && isString(x.id) && isString(x.name);
}

function isPrivacyState(x: unknown): x is PrivacyState {
  return (
    isObject(x) &&
    isObject(x.settings) &&
    isFiniteNumber(x.settings.retentionDays) &&
    isFiniteNumber(x.settings.screeningMaxAgeDays) &&
    Array.isArray(x.pendingErasures) &&
    x.pendingErasures.every((p) => isObject(p) && isString(p.clientId) && Array.isArray(p.sessions))
  );
}

function isNotificationSettings(x: unknown): x is NotificationSettings {
  return (
    isObject(x) &&
    isString(x.language) &&
    Array.isArray(x.channels) &&
    x.channels.every((c) => isObject(c) && isString(c.id) && isString(c.kind) && Array.isArray(c.events))
  );
}

/** `raw[key]` when it passes `guard`; the default when the key is missing (a version-1 file). */
function optional<T>(
  raw: Record<string, unknown>,
  key: string,
  guard: (x: unknown) => x is T,
  fallback: T,
): T {
  const v = raw[key];
  if (v === undefined) return fallback;
  if (!guard(v)) throw new ShapeError(`"${key}" is not valid`);
  return v;
}

function isZeroOffsets(x: unknown): x is ZeroOffsetsRecord {
  return isObject(x) && isString(x.stationId) && Array.isArray(x.offsetsMmHg);
}

/** `raw[key]` as an array whose every element passes `guard`, or a ShapeError naming the first bad one. */
function arrayOf<T>(raw: Record<string, unknown>, key: string, guard: (x: unknown) => x is T): T[] {
  const list = raw[key];
  if (!Array.isArray(list))
    throw new ShapeError(`"${key}" is ${list === undefined ? 'missing' : 'not a list'}`);
  const out: T[] = [];
  for (let i = 0; i < list.length; i++) {
    const item: unknown = list[i];
    if (!guard(item)) throw new ShapeError(`${key}[${i}] is not a valid record`);
    out.push(item);
  }
  return out;
}

/** The typed content of presso.json (or a backup of it), or ShapeError. */
export function validateStoreFile(raw: unknown, file = 'store file'): StoreFile {
  if (!isObject(raw)) throw new ShapeError('not a Presso store: the top level is not an object');
  if (raw.format !== STORE_FORMAT)
    throw new ShapeError(`not a Presso store: "format" is not "${STORE_FORMAT}"`);
  const version = raw.schemaVersion;
  if (!isFiniteNumber(version)) throw new ShapeError('"schemaVersion" is missing');
  if (version > STORE_SCHEMA_VERSION) throw new NewerStoreVersionError(file, version);
  return {
    format: STORE_FORMAT,
    // What this gateway writes back is its own layout.
    schemaVersion: STORE_SCHEMA_VERSION,
    programs: arrayOf(raw, 'programs', isProgramRecord),
    users: arrayOf(raw, 'users', isUserRecord),
    stationSettings: arrayOf(raw, 'stationSettings', isStationSettings),
    sessions: arrayOf(raw, 'sessions', isSessionRecord),
    alarms: arrayOf(raw, 'alarms', isAlarmHistoryRecord),
    audit: arrayOf(raw, 'audit', isAuditEntry),
    counters: arrayOf(raw, 'counters', isCounters),
    selfTests: arrayOf(raw, 'selfTests', isSelfTest),
    zeroOffsets: arrayOf(raw, 'zeroOffsets', isZeroOffsets),
    clients: raw.clients === undefined ? [] : arrayOf(raw, 'clients', isClientRecord),
    privacy: optional(raw, 'privacy', isPrivacyState, emptyStoreFile().privacy),
    notifications: optional(raw, 'notifications', isNotificationSettings, emptyStoreFile().notifications),
  };
}

/** Replaces the record `same` finds in a store list, or adds it at the end. */
export function upsert<T>(list: T[], item: T, same: (x: T) => boolean): void {
  const i = list.findIndex(same);
  if (i >= 0) list[i] = item;
  else list.push(item);
}

// ---- calendar keys (local time: a clinic's "month" and "day" are its own) ----

function pad2(n: number): string {
  return String(n).padStart(2, '0');
}

/** "YYYY-MM" in local time; compares correctly as a string. */
export function monthKey(epochMs: number): string {
  const d = new Date(epochMs);
  return `${d.getFullYear()}-${pad2(d.getMonth() + 1)}`;
}

/** "YYYY-MM-DD" in local time. */
export function dayKey(epochMs: number): string {
  const d = new Date(epochMs);
  return `${d.getFullYear()}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())}`;
}

/** [start, end) of a "YYYY-MM" month in epoch ms, local time. */
export function monthRange(month: string): { startMs: number; endMs: number } {
  const [y, m] = month.split('-').map(Number);
  const year = y ?? 1970;
  const index = (m ?? 1) - 1;
  return { startMs: new Date(year, index, 1).getTime(), endMs: new Date(year, index + 1, 1).getTime() };
}
