/**
 * Response schemas of the REST routes, beside the request pieces in schemas.ts. Each is the type
 * of what its route returns (the handler is checked against it by the TypeBox type provider),
 * Fastify serialises with it (fast-json-stringify: faster than JSON.stringify, and a field not
 * in the schema never leaks), /docs shows it, and the dashboard imports the types type-only.
 * What the controller defines comes from gateway/ipc/schemas.ts, not a copy.
 */
import Type, { type Static, type TSchema } from 'typebox';
import type { SessionRecord } from '../store/types.js';
import type { ProgramRecord } from '../store/types.js';
import {
  AlarmInfoSchema,
  ControllerInfoSchema,
  GarmentClassSchema,
  LinkHealthSchema,
  MaintenanceCountersSchema,
  PhaseKindSchema,
  SelfTestResultSchema,
  StationStateSchema,
} from '../ipc/schemas.js';

const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);

/** An effective ceiling as the web process reports it (gateway/limits.ts effectiveCeiling). */
export const CeilingViewSchema = Type.Object({
  ceilingMmHg: Type.Number(),
  highestTargetMmHg: Type.Number({
    description: 'the highest zone target under it (limits.ts highestTargetMmHg)',
  }),
  source: Type.Enum(['board', 'station', 'walk-up', 'client'], { description: 'which limit set it' }),
});

/** What a dashboard shows of a station: the controller's frame, trimmed to what people read. */
export const StationViewSchema = Type.Object({
  id: Type.String(),
  name: Type.String(),
  garment: GarmentClassSchema,
  state: StationStateSchema,
  phase: Nullable(Type.Object({ kind: PhaseKindSchema, zone: Type.Optional(Type.Integer()) })),
  program: Nullable(Type.Object({ id: Type.String(), name: Type.String(), version: Type.Integer() })),
  session: Nullable(
    Type.Object({
      id: Type.String(),
      cycle: Type.Integer(),
      elapsedS: Type.Number(),
      remainingS: Type.Number(),
      pressureMmHg: Type.Number({ description: 'base set pressure now, after any adjustment (mmHg)' }),
      durationMin: Type.Number({ description: 'total length now, after any adjustment (min)' }),
      adjustPending: Type.Boolean({ description: 'an adjusted pressure the zones take from the next cycle' }),
    }),
  ),
  remainingS: Nullable(Type.Number()),
  zones: Type.Array(
    Type.Object({ zone: Type.Integer(), pressureMmHg: Nullable(Type.Number()), targetMmHg: Type.Number() }),
  ),
  ceilingMmHg: Type.Number(),
  startCeiling: CeilingViewSchema,
  sessionCeilingMmHg: Nullable(
    Type.Number({
      description: "the running session's effective ceiling, which its over-pressure trip enforces",
    }),
  ),
  link: LinkHealthSchema,
  alarms: Type.Array(AlarmInfoSchema),
  walkUp: Nullable(
    Type.Object({
      programs: Type.Array(Type.String()),
      maxPressureMmHg: Type.Number(),
      maxDurationMin: Type.Number(),
      ceiling: CeilingViewSchema,
    }),
  ),
});
export type StationView = Static<typeof StationViewSchema>;

export const StationListSchema = Type.Object({ stations: Type.Array(StationViewSchema) });
export const AcknowledgedSchema = Type.Object({ acknowledged: Type.Array(AlarmInfoSchema) });

/** Store records keep their TypeScript interfaces (gateway/store/types.ts); on the wire they are
 * declared with the fields every record has and may carry the optional ones. */
const recordOf = <T>(required: Parameters<typeof Type.Object>[0]) =>
  Type.Unsafe<T>(Type.Object(required, { additionalProperties: true }));

export const SessionRecordSchema = recordOf<SessionRecord>({
  id: Type.String(),
  stationId: Type.String(),
  programId: Type.String(),
  programVersion: Type.Integer(),
  client: Type.String(),
  startedBy: Type.String(),
  startedAtEpochMs: Type.Number(),
  durationMin: Type.Number(),
  status: Type.String(),
});
export const ProgramRecordSchema = recordOf<ProgramRecord>({
  program: Type.Object(
    { id: Type.String(), name: Type.String(), version: Type.Integer() },
    {
      additionalProperties: true,
    },
  ),
  builtIn: Type.Boolean(),
});

export const StartResponseSchema = Type.Object({ session: SessionRecordSchema, station: StationViewSchema });
export const ProgramListSchema = Type.Object({ programs: Type.Array(ProgramRecordSchema) });

export const AlarmsResponseSchema = Type.Object({
  active: Nullable(Type.Array(AlarmInfoSchema, { description: 'null while nothing is known to be waiting' })),
  controller: Type.Enum(['connected', 'disconnected']),
  history: Type.Array(AlarmInfoSchema),
});

export const MaintenanceResponseSchema = Type.Object({
  counters: Type.Array(MaintenanceCountersSchema),
  selfTests: Type.Array(SelfTestResultSchema),
});

export const ControllerStatusSchema = Type.Object({
  connected: Type.Boolean(),
  info: Nullable(ControllerInfoSchema),
});

export const ActorSchema = Type.Object({
  who: Type.String(),
  role: Type.Enum(['anonymous', 'viewer', 'walk-up', 'staff', 'support', 'admin']),
});
export type ActorView = Static<typeof ActorSchema>;
