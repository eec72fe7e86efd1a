/**
 * Response schemas of every JSON answer of the REST routes, beside the request pieces in
 * schemas.ts (response-schemas.test.ts fails on a route without one). Each is the type of what its
 * route returns (the handler is checked against it by the TypeBox type provider), Fastify
 * serialises with it (fast-json-stringify: faster than JSON.stringify, and a field not in the
 * schema never leaks: a password hash or a notification secret has no place here, so it cannot be
 * sent), /docs shows it, and the dashboard imports the types type-only.
 *
 * The other side of that: a field the handler returns but the schema lacks is silently dropped,
 * so a schema names every field, optional ones included. What the controller defines comes from
 * gateway/ipc/schemas.ts and what the store keeps from gateway/store/types.ts, not a copy.
 */
import Type, { type Static, type TSchema } from 'typebox';
import type { ProgramPreview } from '../control-loop/programs/preview.js';
import {
  AuditEntrySchema,
  ClientRecordSchema,
  ClientScreeningSchema,
  NOTIFY_EVENTS,
  PrivacySettingsSchema,
  StationSettingsSchema,
  type ProgramRecord,
  type SessionRecord,
} from '../store/types.js';
import {
  AlarmInfoSchema,
  CommandSchemas,
  ControllerInfoSchema,
  GarmentClassSchema,
  LinkHealthSchema,
  MaintenanceCountersSchema,
  PhaseKindSchema,
  SelfTestResultSchema,
  StationStateSchema,
} from '../ipc/schemas.js';

/** Records the routes answer with as the store keeps them. */
export { AuditEntrySchema, ClientRecordSchema, PrivacySettingsSchema, StationSettingsSchema };
export type {
  AuditEntry,
  ClientRecord,
  ClientScreening,
  PrivacySettings,
  ProgramRecord,
  SessionRecord,
  StationSettings,
} from '../store/types.js';

const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);

/** An effective ceiling as the web process reports it (gateway/limits.ts effectiveCeiling). */
export const CeilingViewSchema = Type.Object({
  ceilingMmHg: Type.Number(),
  highestTargetMmHg: Type.Number({
    description: 'the highest zone target under it (limits.ts highestTargetMmHg)',
  }),
  source: Type.Enum(['board', 'station', 'walk-up', 'client'], { description: 'which limit set it' }),
});
export type CeilingView = Static<typeof CeilingViewSchema>;

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

/** Sessions and programs keep their TypeScript interfaces (gateway/store/types.ts); on the wire
 * they are declared with the fields every record has, and carry the optional ones as they are
 * (additionalProperties: nothing of theirs is secret, and nothing of theirs may be lost). */
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
  createdAtEpochMs: Type.Number(),
  createdBy: Type.String(),
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

/** `{ ok: true }`: the answer of a command whose effect is all there is to say. */
export const OkSchema = Type.Object({ ok: Type.Boolean() });

// ------------------------------------------------------------------ auth and users

const UserRoleSchema = Type.Enum(['viewer', 'staff', 'support', 'admin']);

/** A login (password, PIN or admin token); the login itself is the HttpOnly cookie. */
export const LoginResponseSchema = Type.Object({
  user: Type.String({ description: 'the user id ("token" for the admin token)' }),
  role: UserRoleSchema,
  expiresAtEpochMs: Type.Number(),
});
export type LoginAnswer = Static<typeof LoginResponseSchema>;

export const SetupInfoSchema = Type.Object({
  firstRun: Type.Boolean({ description: 'no users yet' }),
  adminToken: Type.Boolean({ description: 'PRESSO_ADMIN_TOKEN is set' }),
});
export type SetupInfo = Static<typeof SetupInfoSchema>;

/** A user as the admin's list shows it: never the secret's hash; the lockout, so it can be lifted. */
export const UserViewSchema = Type.Object({
  id: Type.String(),
  name: Type.String(),
  role: UserRoleSchema,
  createdAtEpochMs: Type.Number(),
  disabled: Type.Boolean(),
  failedLogins: Type.Integer({ description: 'wrong secrets in a row' }),
  lockedUntilEpochMs: Type.Optional(Type.Number({ description: 'set while the user is locked out' })),
});
export type UserView = Static<typeof UserViewSchema>;
export const UserListSchema = Type.Object({ users: Type.Array(UserViewSchema) });

// ------------------------------------------------------------------ stations

export const ScreeningQuestionSchema = Type.Object({
  id: Type.String(),
  text: Type.String(),
  absolute: Type.Boolean({ description: 'a "yes" means no pressotherapy here (see a doctor first)' }),
});
export type ScreeningQuestion = Static<typeof ScreeningQuestionSchema>;
export const ScreeningQuestionsSchema = Type.Object({ questions: Type.Array(ScreeningQuestionSchema) });

const RangeSchema = Type.Object({ min: Type.Number(), max: Type.Number() });
export type Range = Static<typeof RangeSchema>;
/** What each station setting may be on that station (routes/stations.ts settingRanges). */
export const SettingRangesSchema = Type.Object({
  ceilingMmHg: RangeSchema,
  walkUpMaxPressureMmHg: RangeSchema,
  walkUpMaxDurationMin: RangeSchema,
});
export type SettingRanges = Static<typeof SettingRangesSchema>;
export const StationSettingsResponseSchema = Type.Object({
  settings: StationSettingsSchema,
  ranges: SettingRangesSchema,
});

// ------------------------------------------------------------------ programs

const ProgramProblemSchema = Type.Object({ path: Type.String(), problem: Type.String() });

/** control-loop/programs/preview.ts ProgramPreview, with plan.ts's TargetPlan. */
const ProgramPreviewSchema = Type.Object({
  plan: Type.Object({
    zones: Type.Array(
      Type.Object({ zone: Type.Integer(), targetMmHg: Type.Number(), skipped: Type.Boolean() }),
    ),
    violations: Type.Array(
      Type.Object({
        field: Type.String(),
        zone: Type.Optional(Type.Integer()),
        wantedMmHg: Type.Optional(Type.Number()),
        ceilingMmHg: Type.Optional(Type.Number()),
        reason: Type.String(),
      }),
    ),
    ceilingMmHg: Type.Number(),
  }),
  tS: Type.Array(Type.Number(), { description: 'seconds from the start, one per sample' }),
  zones: Type.Array(Type.Array(Type.Number()), {
    description: 'per zone (index 0 = zone 1), the target at each sample (0 = venting)',
  }),
  cycles: Type.Integer(),
  cycleS: Nullable(Type.Number()),
  assumedFillS: Type.Number(),
});

/** POST /api/programs/preview: every problem of the program, or what it would do on the station. */
export const PreviewAnswerSchema = Type.Object({
  problems: Type.Array(ProgramProblemSchema),
  preview: Nullable(Type.Unsafe<ProgramPreview>(ProgramPreviewSchema)),
  station: Type.Optional(
    Type.Object({ id: Type.String(), garment: GarmentClassSchema, ceilingMmHg: Type.Number() }),
  ),
});
export type PreviewAnswer = Static<typeof PreviewAnswerSchema>;

// ------------------------------------------------------------------ sessions, audit

export const SessionListSchema = Type.Object({ sessions: Type.Array(SessionRecordSchema) });
export const AuditListSchema = Type.Object({ audit: Type.Array(AuditEntrySchema) });

// ------------------------------------------------------------------ clients

/** A GET /api/clients row: enough to pick the client at a start, never the screening answers. */
export const ClientSummarySchema = Type.Object({
  ...Type.Omit(ClientRecordSchema, ['screening']).properties,
  screeningAtEpochMs: Type.Optional(Type.Number()),
  screeningDue: Type.Boolean(),
  screeningDueReason: Type.Optional(Type.String()),
});
export type ClientSummary = Static<typeof ClientSummarySchema>;
export const ClientListSchema = Type.Object({
  clients: Type.Array(ClientSummarySchema),
  consentTextVersion: Type.String({ description: 'what a new record made now consents to' }),
});
/** GET /api/clients/:id: the row and the screening answers (an audited read). */
export const ClientDetailSchema = Type.Object({
  ...ClientSummarySchema.properties,
  screening: Type.Optional(ClientScreeningSchema),
});
export type ClientDetail = Static<typeof ClientDetailSchema>;
export const ErasureResponseSchema = Type.Object({
  ok: Type.Boolean(),
  clientId: Type.String(),
  sessionsAnonymised: Type.Integer(),
  filesRewritten: Type.Integer({
    description: 'files outside the live file that were rewritten (archives, report files, backups, journal)',
  }),
});
/** GET /api/clients/:id/export: everything stored about the client (a JSON download). */
export const ClientExportSchema = Type.Object({
  exportedAtEpochMs: Type.Number(),
  about: Type.String(),
  client: ClientRecordSchema,
  sessions: Type.Array(SessionRecordSchema),
  audit: Type.Array(AuditEntrySchema),
});

// ------------------------------------------------------------------ notifications

const channelCommon = {
  id: Type.String(),
  enabled: Type.Boolean(),
  events: Type.Array(Type.Enum(NOTIFY_EVENTS)),
  internal: Type.Boolean(),
  secretSet: Type.Boolean({ description: 'whether a secret is stored (the secret itself never leaves)' }),
};
/** A channel as GET shows it: its secret replaced by whether one is set. */
export const ChannelViewSchema = Type.Union([
  Type.Object({ ...channelCommon, kind: Type.Literal('webhook'), url: Type.String() }),
  Type.Object({ ...channelCommon, kind: Type.Literal('ntfy'), server: Type.String(), topic: Type.String() }),
  Type.Object({
    ...channelCommon,
    kind: Type.Literal('email'),
    host: Type.String(),
    port: Type.Integer(),
    tls: Type.Boolean(),
    user: Type.Optional(Type.String()),
    from: Type.String(),
    to: Type.Array(Type.String()),
  }),
]);
export type ChannelView = Static<typeof ChannelViewSchema>;
export const NotificationSettingsViewSchema = Type.Object({
  language: Type.Enum(['en', 'de']),
  channels: Type.Array(ChannelViewSchema),
});
export type NotificationSettingsView = Static<typeof NotificationSettingsViewSchema>;

/** A channel's delivery state (notify/notifier.ts). */
export const ChannelStatusSchema = Type.Object({
  id: Type.String(),
  kind: Type.Enum(['webhook', 'ntfy', 'email']),
  state: Type.Enum(['ok', 'failing', 'unused']),
  queued: Type.Integer(),
  sent: Type.Integer(),
  dropped: Type.Integer(),
  lastOkAtEpochMs: Type.Optional(Type.Number()),
  lastError: Type.Optional(Type.String()),
  lastErrorAtEpochMs: Type.Optional(Type.Number()),
});
export type ChannelStatus = Static<typeof ChannelStatusSchema>;
export const ChannelStatusListSchema = Type.Object({ channels: Type.Array(ChannelStatusSchema) });

// ------------------------------------------------------------------ support, simulator

/** The board profile (credentials redacted) and the limits table, as the controller reports them. */
export const SupportConfigSchema = CommandSchemas.config.result;
/** The faults active on a simulated station after an inject or a clear. */
export const SimFaultsSchema = CommandSchemas['sim-inject'].result;
