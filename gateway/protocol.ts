/**
 * The controller's interface, shared by the controller, the web process, the support CLI and the
 * dashboard: what a station looks like from outside, alarms, session reports, and the commands
 * and events that cross the controller's Unix socket as JSON lines.
 *
 * Wire format, one JSON object per line:
 *   request  {"v":1,"id":7,"cmd":"start","args":{…}}
 *   reply    {"v":1,"id":7,"ok":true,"result":…}  or  {"v":1,"id":7,"ok":false,"error":{"code":"refused","message":"…"}}
 *   event    {"v":1,"event":"frame","data":{…}}
 * A message with another "v" is answered with error code "version".
 */
import type { Program } from './control-loop/programs/schema.js';
import type { GarmentClass } from './limits.js';

export const PROTOCOL_VERSION = 1;

export type StationStateName = 'idle' | 'running' | 'paused' | 'venting' | 'fault';
export type PhaseKind = 'inflating' | 'holding' | 'releasing' | 'resting';
export type SessionEnd = 'completed' | 'stopped' | 'fault' | 'interrupted';
/** IEC 60601-1-8 names. */
export type AlarmPriority = 'high' | 'medium' | 'low';
export type LinkHealth = 'ok' | 'degraded' | 'offline';

export interface ZoneFrame {
  /** 1-based, distal → proximal. */
  zone: number;
  /** Latest measured pressure; null when the sensor gives no valid value. */
  pressureMmHg: number | null;
  /** What the program asks of the zone now (0 when venting). */
  targetMmHg: number;
  sensor: 'ok' | 'stale' | 'error';
  /** Inlet energised (open) / exhaust energised (closed) as last written. */
  inlet: boolean;
  exhaust: boolean;
}

export interface StationFrame {
  id: string;
  name: string;
  garment: GarmentClass;
  state: StationStateName;
  phase: { kind: PhaseKind; zone?: number } | null;
  /** The self-test running on the station (state 'running', no session), if any. */
  selfTest: 'valve-click' | 'sensor-zero' | 'leak' | null;
  session: {
    id: string;
    /**
     * The session's effective ceiling (board, station setting, walk-up maximum, client): its
     * targets stay below it and its over-pressure trip never exceeds it.
     */
    ceilingMmHg: number;
    programId: string;
    programName: string;
    programVersion: number;
    cycle: number;
    elapsedS: number;
    remainingS: number;
    /** The session's base (most distal) set pressure now, after any adjustment (mmHg). */
    pressureMmHg: number;
    /** The session's total length now, after any adjustment (min). */
    durationMin: number;
    /** An adjusted pressure that the zones take on from the next cycle (false once they have). */
    adjustPending: boolean;
  } | null;
  zones: ZoneFrame[];
  pumpDuty: number;
  /** The board's ceiling of this station (garment class and station); a session's own is in `session`. */
  ceilingMmHg: number;
  link: LinkHealth;
  /** Active alarms of this station (and board-wide ones such as the emergency stop). */
  alarms: AlarmInfo[];
  /** Controller clock (ms) of the sample behind this frame; epoch ms of the same instant. */
  sampledAtMs: number;
  sampledAtEpochMs: number;
}

export type AlarmCode =
  | 'over-pressure'
  | 'sensor-implausible'
  | 'inflation-not-verified'
  | 'compensated-leak'
  | 'vent-not-verified'
  | 'pump-dead-head'
  | 'session-too-long'
  | 'emergency-stop'
  | 'link-lost'
  | 'loop-stall'
  | 'controller-restarted'
  /** Raised by the web process, not the controller: its database file was unusable at start. */
  | 'database-recovered';

export interface AlarmInfo {
  /** Unique per occurrence. */
  id: string;
  code: AlarmCode;
  priority: AlarmPriority;
  /** null when it concerns every station (emergency stop, loop stall). */
  stationId: string | null;
  zone?: number;
  /** In words a staff member understands, with what to do. */
  reason: string;
  raisedAtEpochMs: number;
  /** True when the alarm vented the station: it stays until someone acknowledges it. */
  latched: boolean;
  /** Whether the condition behind it is still present. */
  active: boolean;
}

export interface ZoneCycleReport {
  zone: number;
  cycle: number;
  setMmHg: number;
  peakMmHg: number;
  /** Mean measured pressure while holding; null when the zone never held this cycle. */
  meanHoldMmHg: number | null;
}

export interface SessionReport {
  sessionId: string;
  stationId: string;
  programId: string;
  programVersion: number;
  startedAtEpochMs: number;
  endedAtEpochMs: number;
  end: SessionEnd;
  /** Why it ended, in words ("completed", "stopped by staff", the alarm's reason). */
  reason: string;
  cyclesDone: number;
  /** Therapy time delivered (paused time excluded), ms. */
  deliveredMs: number;
  zones: ZoneCycleReport[];
  /** Softer/stronger and longer/shorter during the session, oldest first (absent when none). */
  adjustments?: SessionAdjustment[];
}

/** One accepted `adjust` of a running or paused session. */
export interface SessionAdjustment {
  atEpochMs: number;
  /** Who asked (the web process passes the user id, "walk-up" or "token"). */
  by: string;
  pressureMmHg?: { from: number; to: number };
  durationMin?: { from: number; to: number };
}

/**
 * A new setpoint for a running or paused session: a base pressure (every zone's target follows the
 * program's shape, under the session's ceiling, from the next cycle) and/or a new total length.
 */
export interface AdjustArgs {
  stationId: string;
  pressureMmHg?: number;
  durationMin?: number;
  /** Recorded in the report's adjustments. */
  by?: string;
}

export interface StartArgs {
  stationId: string;
  /** Chosen by the web process, which persists the session before asking. */
  sessionId: string;
  program: Program;
  pressureMmHg?: number;
  durationMin?: number;
  /** 1-based zone numbers. */
  skipZones?: number[];
  /** The client's own ceiling (e.g. from a screening), lowers every other ceiling. */
  clientCeilingMmHg?: number;
}

export interface MaintenanceCounters {
  stationId: string;
  pumpRunMs: number;
  pumpStarts: number;
  /** Actuations per zone valve (1-based zone order). */
  inletCycles: number[];
  exhaustCycles: number[];
  trips: number;
  /** Mean top-up duty while holding over the last session, per zone: a leak trend. */
  leakDuty: number[];
}

export interface SelfTestResult {
  stationId: string;
  kind: 'valve-click' | 'sensor-zero' | 'leak';
  ok: boolean;
  /** Plain-words outcome per zone. */
  details: string[];
  /** sensor-zero: offsets stored per zone (mmHg); leak: decay per zone (mmHg/min). */
  values: number[];
  atEpochMs: number;
}

export interface LoopHealth {
  periodMs: number;
  latenessP50Ms: number;
  latenessP99Ms: number;
  latenessMaxMs: number;
  skippedTicks: number;
  /** Late ticks since the controller started (the late-tick rule's maintenance counter). */
  lateTicks: number;
  /** The most recent late tick, if any. */
  lastLate: LoopLate | null;
}

/** A tick later than loopLatePeriods that did not vent (gateway/control-loop/late-tick.ts). */
export interface LoopLate {
  latenessMs: number;
  periodMs: number;
  /** Late ticks within the last 60 s, this one included. */
  lateInWindow: number;
  /** What the controller's main thread did during the gap, in words. */
  cause: string;
  /** The figures behind `cause` (gateway/control-loop/lateness-cause.ts), where the OS gives them. */
  detail?: {
    gapMs: number;
    runQueueMs?: number;
    onCpuMs?: number;
    gcMs: number;
    minorFaults?: number;
    majorFaults?: number;
  };
  atEpochMs: number;
}

export interface ControllerInfo {
  version: string;
  protocol: number;
  board: string;
  simulated: boolean;
  startedAtEpochMs: number;
  /** How the control loop is scheduled, in words (gateway/control-loop/scheduling.ts). */
  scheduling?: string;
  loop: LoopHealth;
  devices: Record<string, { type: string; state: LinkHealth; message?: string }>;
}

/** Commands: name → [arguments, result]. */
export interface Commands {
  hello: [Record<string, never>, ControllerInfo];
  state: [{ stationId?: string }, StationFrame[]];
  config: [Record<string, never>, { board: unknown; limits: unknown }];
  start: [StartArgs, StationFrame];
  pause: [{ stationId: string }, StationFrame];
  resume: [{ stationId: string }, StationFrame];
  adjust: [AdjustArgs, StationFrame];
  stop: [{ stationId?: string; reason?: string }, StationFrame[]];
  acknowledge: [{ stationId?: string; alarmId?: string }, AlarmInfo[]];
  alarms: [Record<string, never>, AlarmInfo[]];
  counters: [Record<string, never>, MaintenanceCounters[]];
  'self-test': [{ stationId: string; kind: SelfTestResult['kind'] }, SelfTestResult];
  'set-zero-offsets': [{ stationId: string; offsetsMmHg: number[] }, { stationId: string }];
  'sim-inject': [{ stationId: string; kind: string; zone?: number }, { active: string[] }];
  'sim-clear': [{ stationId: string; kind?: string }, { active: string[] }];
  /**
   * Simulated boards only (a test hook): blocks the controller's event loop for `ms` (1…2000), as
   * a starved or stalled process would, so the late-tick rule can be shown from both sides.
   */
  'sim-freeze': [{ ms: number }, { frozeMs: number }];
}
export type CommandName = keyof Commands;

export interface Events {
  /** Changed fields of a station since the previous frame to the same client (id always present). */
  frame: Partial<StationFrame> & { id: string };
  'session-started': { stationId: string; sessionId: string };
  'session-ended': SessionReport;
  'alarm-raised': AlarmInfo;
  'alarm-cleared': AlarmInfo;
  counters: MaintenanceCounters[];
  /** Low priority, not latched, nothing vented: support sees it with its duration and cause. */
  'loop-late': LoopLate;
}
export type EventName = keyof Events;

export type ErrorCode = 'bad-request' | 'refused' | 'unknown-command' | 'not-found' | 'version' | 'internal';

export interface RequestMessage {
  v: number;
  id: number;
  cmd: string;
  args?: unknown;
}

export type ReplyMessage =
  | { v: number; id: number; ok: true; result: unknown }
  | { v: number; id: number; ok: false; error: { code: ErrorCode; message: string } };

export interface EventMessage {
  v: number;
  event: EventName;
  data: unknown;
}

/** A command the controller turned down, with the reason in words. */
export class CommandError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'CommandError';
  }
}
