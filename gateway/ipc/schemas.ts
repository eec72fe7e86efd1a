/**
 * The one definition of every message that crosses a process boundary: the controller socket
 * (commands, replies, events), the Socket.IO events and the REST bodies built from them. Each
 * TypeBox schema here IS its TypeScript type (gateway/protocol.ts exports `Static<…>` of these);
 * the controller validates commands against them (gateway/ipc/validate.ts), Fastify routes declare
 * them as response schemas, and the dashboard imports the types with `import type`, so TypeBox
 * never enters its bundle.
 *
 * Adding a field to the station frame is one line in StationFrameSchema: the controller's socket,
 * the web process's merge and the live views (gateway/ipc/views.ts) carry every top-level field
 * they are not told to leave out.
 */
import Type, { type TSchema } from 'typebox';
import type { Program } from '../control-loop/programs/schema.js';
import { GARMENT_CLASSES, LIMITS } from '../limits.js';

const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);

export const StationStateSchema = Type.Enum(['idle', 'running', 'paused', 'venting', 'fault']);
export const PhaseKindSchema = Type.Enum(['inflating', 'holding', 'releasing', 'resting']);
export const SessionEndSchema = Type.Enum(['completed', 'stopped', 'fault', 'interrupted']);
/** IEC 60601-1-8 names. */
export const AlarmPrioritySchema = Type.Enum(['high', 'medium', 'low']);
export const LinkHealthSchema = Type.Enum(['ok', 'degraded', 'offline']);
export const SensorHealthSchema = Type.Enum(['ok', 'stale', 'error']);
export const SelfTestKindSchema = Type.Enum(['valve-click', 'sensor-zero', 'leak']);
export const GarmentClassSchema = Type.Enum(GARMENT_CLASSES);

export const AlarmCodeSchema = Type.Enum([
  'over-pressure',
  'sensor-implausible',
  'inflation-not-verified',
  'compensated-leak',
  'vent-not-verified',
  'pump-dead-head',
  'session-too-long',
  'emergency-stop',
  'link-lost',
  'loop-stall',
  'controller-restarted',
  // Raised by the web process, not the controller: its database file was unusable at start.
  'database-recovered',
]);

export const AlarmInfoSchema = Type.Object({
  id: Type.String({ description: 'unique per occurrence' }),
  code: AlarmCodeSchema,
  priority: AlarmPrioritySchema,
  stationId: Nullable(Type.String({ description: 'null when it concerns every station' })),
  zone: Type.Optional(Type.Integer()),
  reason: Type.String({ description: 'in words a staff member understands, with what to do' }),
  raisedAtEpochMs: Type.Number(),
  latched: Type.Boolean({ description: 'it vented the station: it stays until acknowledged' }),
  active: Type.Boolean({ description: 'whether the condition behind it is still present' }),
});

export const ZoneFrameSchema = Type.Object({
  zone: Type.Integer({ description: '1-based, distal → proximal' }),
  pressureMmHg: Nullable(
    Type.Number({ description: 'latest measured pressure; null without a valid value' }),
  ),
  targetMmHg: Type.Number({ description: 'what the program asks of the zone now (0 when venting)' }),
  sensor: SensorHealthSchema,
  inlet: Type.Boolean({ description: 'inlet energised (open) as last written' }),
  exhaust: Type.Boolean({ description: 'exhaust energised (closed) as last written' }),
});

export const FrameSessionSchema = Type.Object({
  id: Type.String(),
  ceilingMmHg: Type.Number({
    description:
      "the session's effective ceiling (board, station setting, walk-up maximum, client): its targets stay below it and its over-pressure trip never exceeds it",
  }),
  programId: Type.String(),
  programName: Type.String(),
  programVersion: Type.Integer(),
  cycle: Type.Integer(),
  elapsedS: Type.Number(),
  remainingS: Type.Number(),
  pressureMmHg: Type.Number({
    description: "the session's base (most distal) set pressure now, after any adjustment (mmHg)",
  }),
  durationMin: Type.Number({ description: "the session's total length now, after any adjustment (min)" }),
  adjustPending: Type.Boolean({
    description: 'an adjusted pressure that the zones take on from the next cycle (false once they have)',
  }),
});

export const StationFrameSchema = Type.Object({
  id: Type.String(),
  name: Type.String(),
  garment: GarmentClassSchema,
  state: StationStateSchema,
  phase: Nullable(Type.Object({ kind: PhaseKindSchema, zone: Type.Optional(Type.Integer()) })),
  selfTest: Nullable(SelfTestKindSchema),
  session: Nullable(FrameSessionSchema),
  zones: Type.Array(ZoneFrameSchema),
  pumpDuty: Type.Number(),
  ceilingMmHg: Type.Number({
    description:
      "the board's ceiling of this station (garment class and station); a session's own is in `session`",
  }),
  link: LinkHealthSchema,
  alarms: Type.Array(AlarmInfoSchema, {
    description: 'active alarms of this station and board-wide ones such as the emergency stop',
  }),
  sampledAtMs: Type.Number({ description: 'controller clock (ms) of the sample behind this frame' }),
  sampledAtEpochMs: Type.Number({ description: 'epoch ms of the same instant' }),
});

export const ZoneCycleReportSchema = Type.Object({
  zone: Type.Integer(),
  cycle: Type.Integer(),
  setMmHg: Type.Number(),
  peakMmHg: Type.Number(),
  meanHoldMmHg: Nullable(Type.Number({ description: 'null when the zone never held this cycle' })),
});

const FromTo = Type.Object({ from: Type.Number(), to: Type.Number() });

/** One accepted `adjust` of a running or paused session. */
export const SessionAdjustmentSchema = Type.Object({
  atEpochMs: Type.Number(),
  by: Type.String({ description: 'who asked: the user id, "walk-up" or "token"' }),
  pressureMmHg: Type.Optional(FromTo),
  durationMin: Type.Optional(FromTo),
});

export const SessionReportSchema = Type.Object({
  sessionId: Type.String(),
  stationId: Type.String(),
  programId: Type.String(),
  programVersion: Type.Integer(),
  startedAtEpochMs: Type.Number(),
  endedAtEpochMs: Type.Number(),
  end: SessionEndSchema,
  reason: Type.String({ description: 'why it ended, in words' }),
  cyclesDone: Type.Integer(),
  deliveredMs: Type.Number({ description: 'therapy time delivered (paused time excluded)' }),
  zones: Type.Array(ZoneCycleReportSchema),
  adjustments: Type.Optional(
    Type.Array(SessionAdjustmentSchema, {
      description: 'softer/stronger and longer/shorter during the session, oldest first (absent when none)',
    }),
  ),
});

export const MaintenanceCountersSchema = Type.Object({
  stationId: Type.String(),
  pumpRunMs: Type.Number(),
  pumpStarts: Type.Integer(),
  inletCycles: Type.Array(Type.Integer(), { description: 'actuations per zone valve, zone order' }),
  exhaustCycles: Type.Array(Type.Integer()),
  trips: Type.Integer(),
  leakDuty: Type.Array(Type.Number(), { description: 'mean top-up duty while holding, per zone' }),
});

export const SelfTestResultSchema = Type.Object({
  stationId: Type.String(),
  kind: SelfTestKindSchema,
  ok: Type.Boolean(),
  details: Type.Array(Type.String(), { description: 'plain-words outcome per zone' }),
  values: Type.Array(Type.Number(), {
    description: 'sensor-zero: offsets per zone (mmHg); leak: decay per zone (mmHg/min)',
  }),
  atEpochMs: Type.Number(),
});

/** A tick later than loopLatePeriods that did not vent (gateway/control-loop/late-tick.ts). */
export const LoopLateSchema = Type.Object({
  latenessMs: Type.Number(),
  periodMs: Type.Number(),
  lateInWindow: Type.Integer({ description: 'late ticks within the last 60 s, this one included' }),
  cause: Type.String({ description: "what the controller's main thread did during the gap, in words" }),
  detail: Type.Optional(
    Type.Object(
      {
        gapMs: Type.Number(),
        runQueueMs: Type.Optional(Type.Number()),
        onCpuMs: Type.Optional(Type.Number()),
        gcMs: Type.Number(),
        minorFaults: Type.Optional(Type.Number()),
        majorFaults: Type.Optional(Type.Number()),
      },
      {
        description:
          'the figures behind `cause` (gateway/control-loop/lateness-cause.ts), where the OS gives them',
      },
    ),
  ),
  atEpochMs: Type.Number(),
});

export const LoopHealthSchema = Type.Object({
  periodMs: Type.Number(),
  latenessP50Ms: Type.Number(),
  latenessP99Ms: Type.Number(),
  latenessMaxMs: Type.Number(),
  skippedTicks: Type.Integer(),
  lateTicks: Type.Integer({
    description: "late ticks since the controller started (the late-tick rule's maintenance counter)",
  }),
  lastLate: Nullable(LoopLateSchema),
});

export const ControllerInfoSchema = Type.Object({
  version: Type.String(),
  protocol: Type.Integer(),
  board: Type.String(),
  simulated: Type.Boolean(),
  startedAtEpochMs: Type.Number(),
  scheduling: Type.Optional(
    Type.String({
      description: 'how the control loop is scheduled, in words (gateway/control-loop/scheduling.ts)',
    }),
  ),
  loop: LoopHealthSchema,
  devices: Type.Record(
    Type.String(),
    Type.Object({ type: Type.String(), state: LinkHealthSchema, message: Type.Optional(Type.String()) }),
  ),
});

// ------------------------------------------------------------------ commands

const StationId = Type.String({ minLength: 1, maxLength: 64, description: 'a station id' });
const Args = <P extends Parameters<typeof Type.Object>[0]>(properties: P) =>
  Type.Object(properties, { additionalProperties: false });
const NoArgs = Args({});

export const StartArgsSchema = Args({
  stationId: StationId,
  sessionId: Type.String({
    minLength: 1,
    maxLength: 100,
    description: 'a non-empty string of at most 100 characters (chosen by the web process)',
  }),
  // The program is checked field by field, cross-checks included, by parseProgram() against
  // ProgramSchema; here it only has to be an object.
  program: Type.Unsafe<Program>(
    Type.Object(
      {},
      {
        description:
          'a program object (the whole program: id, name, version, garments, mode, pressureMmHg and its timings), not a program id: look the id up first',
      },
    ),
  ),
  pressureMmHg: Type.Optional(Type.Number({ description: 'a number of mmHg' })),
  durationMin: Type.Optional(
    Type.Number({ exclusiveMinimum: 0, description: 'a positive number of minutes' }),
  ),
  skipZones: Type.Optional(Type.Array(Type.Integer(), { description: 'a list of zone numbers' })),
  clientCeilingMmHg: Type.Optional(
    Type.Number({ exclusiveMinimum: 0, description: "a positive number (the client's own ceiling, mmHg)" }),
  ),
});

/**
 * A new setpoint for a running or paused session: a base pressure (every zone's target follows the
 * program's shape, under the session's ceiling, from the next cycle) and/or a new total length.
 */
export const AdjustArgsSchema = Args({
  stationId: StationId,
  pressureMmHg: Type.Optional(Type.Number({ description: 'a number of mmHg' })),
  durationMin: Type.Optional(Type.Number({ description: 'a number of minutes' })),
  by: Type.Optional(Type.String({ description: "who asked, recorded in the report's adjustments" })),
});

/** Each command: its arguments and its result. The controller serves exactly these. */
export const CommandSchemas = {
  hello: { args: NoArgs, result: ControllerInfoSchema },
  state: { args: Args({ stationId: Type.Optional(StationId) }), result: Type.Array(StationFrameSchema) },
  config: { args: NoArgs, result: Type.Object({ board: Type.Unknown(), limits: Type.Unknown() }) },
  start: { args: StartArgsSchema, result: StationFrameSchema },
  pause: { args: Args({ stationId: StationId }), result: StationFrameSchema },
  resume: { args: Args({ stationId: StationId }), result: StationFrameSchema },
  adjust: { args: AdjustArgsSchema, result: StationFrameSchema },
  stop: {
    args: Args({
      stationId: Type.Optional(StationId),
      reason: Type.Optional(Type.String({ description: 'a reason in words' })),
    }),
    result: Type.Array(StationFrameSchema),
  },
  acknowledge: {
    args: Args({ stationId: Type.Optional(StationId), alarmId: Type.Optional(Type.String()) }),
    result: Type.Array(AlarmInfoSchema),
  },
  alarms: { args: NoArgs, result: Type.Array(AlarmInfoSchema) },
  counters: { args: NoArgs, result: Type.Array(MaintenanceCountersSchema) },
  'self-test': {
    args: Args({ stationId: StationId, kind: SelfTestKindSchema }),
    result: SelfTestResultSchema,
  },
  'set-zero-offsets': {
    args: Args({
      stationId: StationId,
      offsetsMmHg: Type.Array(
        Type.Number({
          minimum: -LIMITS.zeroOffsetMaxMmHg.default,
          maximum: LIMITS.zeroOffsetMaxMmHg.default,
        }),
        { description: `one number within ±${LIMITS.zeroOffsetMaxMmHg.default} mmHg per zone` },
      ),
    }),
    result: Type.Object({ stationId: Type.String() }),
  },
  'sim-inject': {
    args: Args({ stationId: StationId, kind: Type.String(), zone: Type.Optional(Type.Integer()) }),
    result: Type.Object({ active: Type.Array(Type.String()) }),
  },
  'sim-clear': {
    args: Args({ stationId: StationId, kind: Type.Optional(Type.String()) }),
    result: Type.Object({ active: Type.Array(Type.String()) }),
  },
  /**
   * Simulated boards only (a test hook): blocks the controller's event loop for `ms` (1…2000), as
   * a starved or stalled process would, so the late-tick rule can be shown from both sides.
   */
  'sim-freeze': {
    args: Args({
      ms: Type.Number({ minimum: 1, maximum: 2000, description: 'a number of ms from 1 to 2000' }),
    }),
    result: Type.Object({ frozeMs: Type.Number() }),
  },
} as const;

// ------------------------------------------------------------------ Socket.IO

export const SubscribeMessageSchema = Type.Union([
  Type.Object({ overview: Type.Literal(true) }, { additionalProperties: false }),
  // `alarm` events, for a client that keeps its own alarm list (the dashboard reads alarms from
  // the frames and does not ask for them).
  Type.Object({ alarms: Type.Literal(true) }, { additionalProperties: false }),
  Type.Object({ stationId: StationId }, { additionalProperties: false }),
  // Every station of the other gateways of the centre, and `centre` messages (docs/centre.md).
  Type.Object({ centre: Type.Literal(true) }, { additionalProperties: false }),
]);

export const SessionMessageSchema = Type.Object({
  kind: Type.Enum(['started', 'ended', 'interrupted', 'refused']),
  id: Type.String(),
  stationId: Type.String(),
  programId: Type.String(),
  programVersion: Type.Integer(),
  status: Type.String(),
  reason: Type.Optional(Type.String()),
});

export const AlarmMessageSchema = Type.Object({
  change: Type.Enum(['raised', 'cleared']),
  alarm: AlarmInfoSchema,
});
