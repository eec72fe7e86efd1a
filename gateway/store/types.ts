/**
 * What the web process keeps, and the interface of the store that keeps it. One writer (the web
 * process); the controller keeps no database. Telemetry is never stored.
 */
import type { Program } from '../control-loop/programs/schema.js';
import type {
  AlarmInfo,
  MaintenanceCounters,
  SelfTestResult,
  SessionAdjustment,
  SessionEnd,
  SessionReport,
} from '../protocol.js';

export type Role = 'viewer' | 'walk-up' | 'staff' | 'support' | 'admin';

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

/** Per-station settings staff control. */
export interface StationSettings {
  stationId: string;
  /** Program ids a walk-up user may choose on this station. */
  walkUpPrograms: string[];
  /** Walk-up limits: the intensity slider and duration stay within these. */
  walkUpMaxPressureMmHg: number;
  walkUpMaxDurationMin: number;
  /** Staff may lower the board's station ceiling further. */
  ceilingMmHg?: number;
  /** Whether walk-up use is enabled at all. */
  walkUpEnabled: boolean;
}

export interface ScreeningAnswers {
  /** Question id → answer. */
  answers: Record<string, boolean>;
  /** True when an answer was an absolute contraindication (the start was refused). */
  blocked: boolean;
}

export interface SessionRecord {
  id: string;
  stationId: string;
  programId: string;
  programVersion: number;
  /** Client name (staff start) or "walk-up". */
  client: string;
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
}

export interface AuditEntry {
  atEpochMs: number;
  /** User id, "walk-up", "token", or "anonymous" (stop needs no login). */
  who: string;
  role: Role | 'anonymous';
  /** e.g. "POST /api/stations/bay-1/start". */
  what: string;
  /** Remote address. */
  from: string;
  ok: boolean;
  detail?: string;
  /** Recorded before the clock was synchronised: atEpochMs may be far off (clock-state.ts). */
  clockUnsynced?: true;
}

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
}
