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
import type { Static } from 'typebox';
import type {
  AdjustArgsSchema,
  AlarmCodeSchema,
  AlarmInfoSchema,
  AlarmMessageSchema,
  AlarmPrioritySchema,
  CommandSchemas,
  ControllerInfoSchema,
  LinkHealthSchema,
  LoopHealthSchema,
  LoopLateSchema,
  MaintenanceCountersSchema,
  PhaseKindSchema,
  SelfTestResultSchema,
  SessionEndSchema,
  SessionMessageSchema,
  SessionAdjustmentSchema,
  SessionReportSchema,
  StartArgsSchema,
  StationFrameSchema,
  StationStateSchema,
  SubscribeMessageSchema,
  ZoneCycleReportSchema,
  ZoneFrameSchema,
} from './ipc/schemas.js';

export const PROTOCOL_VERSION = 1;

// The types are the schemas of gateway/ipc/schemas.ts (one definition); see there for each field.
export type StationStateName = Static<typeof StationStateSchema>;
export type PhaseKind = Static<typeof PhaseKindSchema>;
export type SessionEnd = Static<typeof SessionEndSchema>;
/** IEC 60601-1-8 names. */
export type AlarmPriority = Static<typeof AlarmPrioritySchema>;
export type LinkHealth = Static<typeof LinkHealthSchema>;
export type ZoneFrame = Static<typeof ZoneFrameSchema>;
export type StationFrame = Static<typeof StationFrameSchema>;
export type AlarmCode = Static<typeof AlarmCodeSchema>;
export type AlarmInfo = Static<typeof AlarmInfoSchema>;
export type ZoneCycleReport = Static<typeof ZoneCycleReportSchema>;
export type SessionReport = Static<typeof SessionReportSchema>;
export type StartArgs = Static<typeof StartArgsSchema>;
/** One accepted `adjust` of a running or paused session. */
export type SessionAdjustment = Static<typeof SessionAdjustmentSchema>;
/** A new setpoint for a running or paused session (see AdjustArgsSchema). */
export type AdjustArgs = Static<typeof AdjustArgsSchema>;
export type MaintenanceCounters = Static<typeof MaintenanceCountersSchema>;
export type SelfTestResult = Static<typeof SelfTestResultSchema>;
export type LoopHealth = Static<typeof LoopHealthSchema>;
/** A tick later than loopLatePeriods that did not vent (gateway/control-loop/late-tick.ts). */
export type LoopLate = Static<typeof LoopLateSchema>;
export type ControllerInfo = Static<typeof ControllerInfoSchema>;
/** Socket.IO: what a client emits to follow the overview or one station. */
export type SubscribeMessage = Static<typeof SubscribeMessageSchema>;
/** Socket.IO `session`: enough to refresh a view, without the client's name. */
export type SessionMessage = Static<typeof SessionMessageSchema>;
/** Socket.IO `alarm`. */
export type AlarmMessage = Static<typeof AlarmMessageSchema>;

/** Commands: name → [arguments, result]. */
export type Commands = {
  [K in keyof typeof CommandSchemas]: [
    Static<(typeof CommandSchemas)[K]['args']>,
    Static<(typeof CommandSchemas)[K]['result']>,
  ];
};
export type CommandName = keyof Commands;

export interface Events {
  /** The controller emits full frames; on the socket each client gets only the fields that
   * changed since its previous frame of that station (gateway/ipc/frame-diff.ts). */
  frame: StationFrame;
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
