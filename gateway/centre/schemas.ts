/**
 * What gateways of one centre say to each other on the MQTT broker (docs/centre.md), and what the
 * web process answers about it. Each TypeBox schema is its type; every message that arrives from
 * the broker is checked against its schema (messages.ts) before anything reads it, because a
 * broker is shared: any client the broker lets in can publish on a topic it may write.
 */
import Type, { type Static, type TSchema } from 'typebox';
import { StationViewSchema } from '../server/responses.js';
import { MQTT_ID_PATTERN } from './ids.js';

const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);

export { MQTT_ID_PATTERN };
export const GatewayIdSchema = Type.String({
  pattern: MQTT_ID_PATTERN,
  description: 'letters, digits, ".", "_" or "-", at most 64 (a topic level)',
});
/** The largest payload read from the broker; a state with 8 zones and a few alarms is ~2 KB. */
export const MAX_PAYLOAD_BYTES = 32 * 1024;

/** `presso/<centre>/<gateway>/status`, retained; the last will sets `online: false`. */
export const StatusPayloadSchema = Type.Object({
  online: Type.Boolean(),
  gatewayId: GatewayIdSchema,
  name: Type.Optional(Type.String({ maxLength: 100, description: 'the gateway as people call it' })),
  url: Type.Optional(
    Type.String({
      maxLength: 300,
      pattern: '^https?://',
      description: "the gateway's own board (a remote start opens it)",
    }),
  ),
  version: Type.Optional(Type.String({ maxLength: 40 })),
  atEpochMs: Type.Optional(Type.Number()),
});
export type StatusPayload = Static<typeof StatusPayloadSchema>;

/** The last STOP that came over the broker, so the sender can see its own request answered. */
export const LastStopSchema = Type.Object({
  requestId: Type.String({ maxLength: 64 }),
  by: Type.String({ maxLength: 100 }),
  atEpochMs: Type.Number(),
});

/**
 * `presso/<centre>/<gateway>/stations/<station>/state`, retained: the station view the REST API
 * serves (GET /api/stations/<id>), zone pressures rounded to 1 mmHg, plus the gateway's id and
 * the sample time.
 */
export const StatePayloadSchema = Type.Evaluate(
  Type.Intersect([
    StationViewSchema,
    Type.Object({
      gatewayId: GatewayIdSchema,
      atEpochMs: Type.Number({ description: 'epoch ms of the sample behind this state' }),
      lastStop: Type.Optional(LastStopSchema),
    }),
  ]),
);
export type StatePayload = Static<typeof StatePayloadSchema>;

/** `presso/<centre>/<gateway>/stations/<station>/stop`: the only command accepted over MQTT. */
export const StopPayloadSchema = Type.Object(
  {
    by: Type.String({ minLength: 1, maxLength: 100, description: 'the gateway or user that pressed STOP' }),
    requestId: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 64,
        description: "echoed in the station's next state (lastStop) so the sender knows it was done",
      }),
    ),
  },
  { additionalProperties: false },
);
export type StopPayload = Static<typeof StopPayloadSchema>;

/** `presso/<centre>/<gateway>/alarms`, not retained. */
export const AlarmEventPayloadSchema = Type.Object({
  gatewayId: GatewayIdSchema,
  change: Type.Enum(['raised', 'cleared', 'acknowledged']),
  alarm: Type.Object({
    id: Type.String(),
    code: Type.String(),
    priority: Type.String(),
    stationId: Nullable(Type.String()),
    reason: Type.String(),
    raisedAtEpochMs: Type.Number(),
  }),
  atEpochMs: Type.Number(),
});
export type AlarmEventPayload = Static<typeof AlarmEventPayloadSchema>;

/** `presso/<centre>/<gateway>/sessions`, not retained: never a client's name or screening answers. */
export const SessionEventPayloadSchema = Type.Object({
  gatewayId: GatewayIdSchema,
  kind: Type.Enum(['started', 'ended', 'interrupted', 'refused']),
  sessionId: Type.String(),
  stationId: Type.String(),
  programId: Type.String(),
  programVersion: Type.Integer(),
  status: Type.String(),
  reason: Type.Optional(Type.String()),
  atEpochMs: Type.Number(),
});
export type SessionEventPayload = Static<typeof SessionEventPayloadSchema>;

// ------------------------------------------------------------------ REST and Socket.IO

export const BrokerStateSchema = Type.Enum(['off', 'connecting', 'connected', 'disconnected'], {
  description: 'off: no PRESSO_MQTT_URL; disconnected: the centre view is stale until it reconnects',
});

export const CentreGatewaySchema = Type.Object({
  gatewayId: Type.String(),
  self: Type.Boolean({ description: 'this gateway' }),
  online: Type.Boolean({ description: 'its retained status says online (false after its last will)' }),
  name: Type.Optional(Type.String()),
  url: Type.Optional(Type.String()),
  lastSeenEpochMs: Nullable(Type.Number()),
});
export type CentreGateway = Static<typeof CentreGatewaySchema>;

/** The `centre` Socket.IO event and the head of GET /api/centre/stations. */
export const CentreStatusSchema = Type.Object({
  centreId: Type.String(),
  gatewayId: Type.String(),
  broker: BrokerStateSchema,
  gateways: Type.Array(CentreGatewaySchema),
});
export type CentreStatus = Static<typeof CentreStatusSchema>;

export const CentreStationSchema = Type.Object({
  gatewayId: Type.String(),
  online: Type.Boolean({ description: "whether the station's gateway is online" }),
  ageMs: Type.Number({ description: 'since this web process received its latest state' }),
  station: StatePayloadSchema,
});

export const CentreStationsResponseSchema = Type.Evaluate(
  Type.Intersect([CentreStatusSchema, Type.Object({ stations: Type.Array(CentreStationSchema) })]),
);
export type CentreStationsResponse = Static<typeof CentreStationsResponseSchema>;

export const CentreStopResponseSchema = Type.Object({
  gatewayId: Type.String(),
  station: StatePayloadSchema,
});

export const CentreStopParamsSchema = Type.Object({
  gatewayId: GatewayIdSchema,
  stationId: Type.String({ minLength: 1, maxLength: 64, pattern: MQTT_ID_PATTERN }),
});
