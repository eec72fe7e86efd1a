/**
 * What the web process keeps, and the interface of the store that keeps it. One writer (the web
 * process); the controller keeps no database. Telemetry is never stored.
 */
import Type, { type Static } from 'typebox';
import type { Program } from '../control-loop/programs/schema.js';
import type {
  AlarmInfo,
  MaintenanceCounters,
  SelfTestResult,
  SessionAdjustment,
  SessionEnd,
  SessionReport,
} from '../protocol.js';

export const RoleSchema = Type.Enum(['viewer', 'walk-up', 'staff', 'support', 'admin']);
export type Role = Static<typeof RoleSchema>;

export interface UserRecord {
  id: string;
  name: string;
  role: Exclude<Role, 'walk-up'>;
  /** scrypt hash of the PIN (staff) or password (support, admin): "scrypt$N$r$p$salt$hash". */
  secretHash: string;
  createdAtEpochMs: number;
  disabled?: boolean;
}

/** A stored program version. Versions are immutable; an edit adds a version. */
export interface ProgramRecord {
  program: Program;
  builtIn: boolean;
  createdAtEpochMs: number;
  createdBy: string;
  /** Deleted programs keep their versions (sessions refer to them) but are hidden from lists. */
  deleted?: boolean;
}

/**
 * The records below that the REST routes answer with are TypeBox schemas (each is its type): the
 * route's response schema is the record itself, so the answer can carry nothing it does not have
 * and lose nothing it does (gateway/server/responses.ts).
 */

/** Per-station settings staff control. */
export const StationSettingsSchema = Type.Object({
  stationId: Type.String(),
  walkUpPrograms: Type.Array(Type.String(), {
    description: 'program ids a walk-up user may choose on this station',
  }),
  walkUpMaxPressureMmHg: Type.Number({ description: 'walk-up limit: the intensity slider stays within it' }),
  walkUpMaxDurationMin: Type.Number(),
  ceilingMmHg: Type.Optional(
    Type.Number({ description: "staff may lower the board's station ceiling further" }),
  ),
  walkUpEnabled: Type.Boolean({ description: 'whether walk-up use is enabled at all' }),
});
export type StationSettings = Static<typeof StationSettingsSchema>;

export const ScreeningAnswersSchema = Type.Object({
  answers: Type.Record(Type.String(), Type.Boolean(), { description: 'question id → answer' }),
  blocked: Type.Boolean({
    description: 'an answer was an absolute contraindication (the start was refused)',
  }),
});
export type ScreeningAnswers = Static<typeof ScreeningAnswersSchema>;

export interface SessionRecord {
  id: string;
  stationId: string;
  programId: string;
  programVersion: number;
  /** Client name (staff start), "walk-up", or ANONYMISED_CLIENT once anonymised. */
  client: string;
  /** The client record the session was started for (a start naming a clientId). */
  clientId?: string;
  /** User id, "token", or "anonymous" (a walk-up start): what walk-up rights are keyed on. */
  startedBy: string;
  startedAtEpochMs: number;
  /** Who paused it last (cleared on resume): a session staff paused is resumed by staff. */
  pausedBy?: string;
  /** Set pressure and duration as requested. */
  pressureMmHg?: number;
  durationMin: number;
  skipZones?: number[];
  screening?: ScreeningAnswers;
  /**
   * 'running' until the controller's session-ended event (or a restart) ends it; 'refused' when the
   * controller would not start it (it was persisted first, and delivered nothing).
   */
  status: 'running' | SessionEnd | 'refused';
  endedAtEpochMs?: number;
  reason?: string;
  /**
   * Softer/stronger and length changes, as the web process accepted them (the controller's report
   * carries the same list once the session ends).
   */
  adjustments?: SessionAdjustment[];
  /** From the report, kept on the record for lists and the CSV export. */
  deliveredMs?: number;
  cyclesDone?: number;
  /**
   * The full report (per zone and cycle). The store keeps it in a monthly report file, not in the
   * record: `session(id)` returns it, `sessions()` lists leave it out.
   */
  report?: SessionReport;
  /** Store-internal: the report is in the month's report file. Never returned by the store. */
  hasReport?: boolean;
  /** Put while the clock was not synchronised: its times may be far off (clock-state.ts). */
  clockUnsynced?: true;
  /**
   * Set when the client's name, id and screening answers were removed (an erasure request or the
   * retention period); the pressures, times and program stay for statistics.
   */
  anonymised?: { atEpochMs: number; why: 'erasure' | 'retention' };
}

/** A screening as kept on a client record: the answers and when they were given. */
export const ClientScreeningSchema = Type.Object({
  ...ScreeningAnswersSchema.properties,
  atEpochMs: Type.Number(),
});
export type ClientScreening = Static<typeof ClientScreeningSchema>;

/** A regular client of the centre (docs/privacy.md says what is kept and for how long). */
export const ClientRecordSchema = Type.Object({
  id: Type.String(),
  name: Type.String(),
  ceilingMmHg: Type.Optional(
    Type.Number({ description: "[mmHg] the client's own limit: every session of theirs runs under it" }),
  ),
  preferredProgramId: Type.Optional(Type.String()),
  notes: Type.Optional(Type.String()),
  consent: Type.Optional(
    Type.Object(
      { atEpochMs: Type.Number(), textVersion: Type.String() },
      { description: 'when the client consented to the record, and which version of the text they saw' },
    ),
  ),
  screening: Type.Optional({
    ...ClientScreeningSchema,
    description: 'the latest; asked again when older than PrivacySettings.screeningMaxAgeDays',
  }),
  createdAtEpochMs: Type.Number(),
  updatedAtEpochMs: Type.Number(),
});
export type ClientRecord = Static<typeof ClientRecordSchema>;

export const PrivacySettingsSchema = Type.Object({
  retentionDays: Type.Integer({
    description: 'sessions, screenings and walk-up answers older than this are anonymised by the daily job',
  }),
  screeningMaxAgeDays: Type.Integer({
    description: "a client's screening older than this is asked again before their next start",
  }),
  consentTextVersion: Type.String({
    description: 'version of the consent text the centre shows clients; recorded with each consent',
  }),
});
export type PrivacySettings = Static<typeof PrivacySettingsSchema>;

export const NOTIFY_EVENTS = [
  'alarm-high',
  'alarm',
  'walk-up-stop',
  'session-end',
  'controller-lost',
] as const;
export type NotifyEvent = (typeof NOTIFY_EVENTS)[number];

interface ChannelBase {
  /** Chosen by the admin: lower-case letters, digits and dashes. */
  id: string;
  enabled: boolean;
  events: NotifyEvent[];
  /** Internal channels (the centre's own staff only) may carry client names; others never do. */
  internal: boolean;
}
export interface WebhookChannel extends ChannelBase {
  kind: 'webhook';
  url: string;
  /** Sent as `Authorization: Bearer <secret>`; never returned by GET. */
  secret?: string;
}
export interface NtfyChannel extends ChannelBase {
  kind: 'ntfy';
  /** e.g. https://ntfy.sh or the centre's own server. */
  server: string;
  topic: string;
  /** ntfy access token (Bearer); never returned by GET. */
  secret?: string;
}
export interface EmailChannel extends ChannelBase {
  kind: 'email';
  host: string;
  port: number;
  /** true: TLS from the first byte (port 465); false: STARTTLS when the server offers it. */
  tls: boolean;
  user?: string;
  /** SMTP password; never returned by GET. */
  secret?: string;
  from: string;
  to: string[];
}
export type NotificationChannel = WebhookChannel | NtfyChannel | EmailChannel;

export interface NotificationSettings {
  /** The centre's language, for every message. */
  language: 'en' | 'de';
  channels: NotificationChannel[];
}

export interface ErasureResult {
  clientId: string;
  sessionsAnonymised: number;
  /** Files outside the live file that were rewritten (archives, report files, backups, journal). */
  filesRewritten: number;
}

export interface RetentionResult {
  /** Sessions (live and archived) started before this were anonymised. */
  cutoffEpochMs: number;
  sessionsAnonymised: number;
  clientScreeningsRemoved: number;
  filesRewritten: number;
}

export const AuditEntrySchema = Type.Object({
  atEpochMs: Type.Number(),
  who: Type.String({ description: 'user id, "walk-up", "token", or "anonymous" (stop needs no login)' }),
  role: Type.Enum([...RoleSchema.enum, 'anonymous']),
  what: Type.String({ description: 'e.g. "POST /api/stations/bay-1/start"' }),
  from: Type.String({ description: 'remote address' }),
  ok: Type.Boolean(),
  detail: Type.Optional(Type.String()),
  clockUnsynced: Type.Optional(
    Type.Literal(true, {
      description: 'recorded before the clock was synchronised: atEpochMs may be far off (clock-state.ts)',
    }),
  ),
});
export type AuditEntry = Static<typeof AuditEntrySchema>;

export interface StoreHealth {
  file: string;
  /** Set when the file was corrupt at start and a backup (or the defaults) was restored. */
  recovered?: { movedTo: string; restoredFrom: string | 'defaults'; atEpochMs: number; error: string };
  lastWriteEpochMs?: number;
  sizeBytes: number;
}

export interface SessionQuery {
  stationId?: string;
  fromEpochMs?: number;
  toEpochMs?: number;
  limit?: number;
}

export interface Store {
  /** Reads the file (recovering from a corrupt one), creates defaults on first start. */
  open(): Promise<void>;
  /** Writes pending changes now and resolves when they are on disk (fsync'd). */
  flush(): Promise<void>;
  /** Flushes and stops the write timer. */
  close(): Promise<void>;
  health(): StoreHealth;

  users(): UserRecord[];
  userById(id: string): UserRecord | undefined;
  putUser(user: UserRecord): void;
  deleteUser(id: string): boolean;

  /** Latest version of every non-deleted program. */
  programs(): ProgramRecord[];
  program(id: string, version?: number): ProgramRecord | undefined;
  /** Adds a new version (program.version is set by the store to latest + 1). */
  saveProgram(program: Program, by: string): ProgramRecord;
  deleteProgram(id: string): boolean;

  stationSettings(stationId: string): StationSettings | undefined;
  putStationSettings(settings: StationSettings): void;

  /** Sessions, newest first, including archived months when the range reaches back. */
  sessions(query?: SessionQuery): Promise<SessionRecord[]>;
  session(id: string): Promise<SessionRecord | undefined>;
  /** Inserts or replaces by id. */
  putSession(session: SessionRecord): void;

  alarms(limit?: number): AlarmInfo[];
  recordAlarm(alarm: AlarmInfo, change: 'raised' | 'cleared' | 'acknowledged'): void;

  audit(limit?: number): AuditEntry[];
  recordAudit(entry: AuditEntry): void;

  counters(): MaintenanceCounters[];
  putCounters(counters: MaintenanceCounters[]): void;
  selfTests(stationId?: string): SelfTestResult[];
  recordSelfTest(result: SelfTestResult): void;
  /** Sensor zero offsets per station, sent to the controller at start and after a sensor-zero test. */
  zeroOffsets(stationId: string): number[] | undefined;
  putZeroOffsets(stationId: string, offsetsMmHg: number[]): void;

  /** Client records, by name. */
  clients(): ClientRecord[];
  client(id: string): ClientRecord | undefined;
  putClient(client: ClientRecord): void;
  /**
   * Removes the record and anonymises the client's sessions everywhere the store keeps them (live
   * file, archives, report files, journal, backups). Durable and resumed after a crash; undefined
   * when there is no such client.
   */
  eraseClient(id: string): Promise<ErasureResult | undefined>;
  /** Anonymises what is older than the retention period, everywhere the store keeps it. */
  applyRetention(): Promise<RetentionResult>;
  /** Local day ("YYYY-MM-DD") of the last finished retention run, if any. */
  retentionDay(): string | undefined;
  /** Every audit entry (live and archived) for which `match` holds, oldest first. */
  auditMatching(match: (a: AuditEntry) => boolean): Promise<AuditEntry[]>;

  privacySettings(): PrivacySettings;
  putPrivacySettings(settings: PrivacySettings): void;
  notificationSettings(): NotificationSettings;
  putNotificationSettings(settings: NotificationSettings): void;
}
