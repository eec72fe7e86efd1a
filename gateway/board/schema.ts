/**
 * The shape of a board profile (`config/*.json`): which devices exist, and which device channel
 * each station's pump, valves and sensors use. Typos are errors, never silent defaults.
 */
import Type, { type Static } from 'typebox';
import type { SchemaHints } from '../config-check.js';
import { GARMENT_CLASSES, LIMITS } from '../limits.js';
import { MAX_STATIONS, MAX_ZONES } from './size.js';

const CHANNEL_REF_PATTERN = '^[A-Za-z][A-Za-z0-9_-]*:\\S+$';

/** `device:channel`, e.g. `valves0:3`, `adc1:0`, `sim:bay-1.z2.inlet`, `io1:coil:4`. */
export const ChannelRefSchema = Type.String({
  pattern: CHANNEL_REF_PATTERN,
  description: 'device:channel, e.g. valves0:3',
});

export const GarmentClassSchema = Type.Union(
  GARMENT_CLASSES.map((c) => Type.Literal(c)),
  { description: 'garment class: sets the chamber physics and the pressure ceiling' },
);

export const ZoneSchema = Type.Object(
  {
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 40 })),
    class: Type.Optional(GarmentClassSchema),
    inlet: ChannelRefSchema,
    exhaust: ChannelRefSchema,
    sensor: ChannelRefSchema,
  },
  { additionalProperties: false },
);

export { MAX_STATIONS, MAX_ZONES };

export const StationSchema = Type.Object(
  {
    id: Type.String({
      pattern: '^[a-z0-9][a-z0-9-]{0,31}$',
      description: 'lower-case letters, digits and dashes',
    }),
    name: Type.String({ minLength: 1, maxLength: 60 }),
    garment: GarmentClassSchema,
    garmentName: Type.Optional(Type.String({ minLength: 1, maxLength: 60 })),
    ceilingMmHg: Type.Optional(
      Type.Number({ minimum: LIMITS.stationCeilingMmHg.min, maximum: LIMITS.stationCeilingMmHg.max }),
    ),
    pump: Type.Object(
      { enable: ChannelRefSchema, pwm: Type.Optional(ChannelRefSchema) },
      { additionalProperties: false },
    ),
    zones: Type.Array(ZoneSchema, { minItems: 1, maxItems: MAX_ZONES }),
  },
  { additionalProperties: false },
);

export const DeviceSchema = Type.Object(
  { type: Type.String({ minLength: 1 }) },
  { additionalProperties: true, description: 'type plus the driver’s own keys' },
);

export const BoardSchema = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 60 }),
    description: Type.Optional(Type.String()),
    loopRateHz: Type.Optional(
      Type.Integer({ minimum: LIMITS.loopRateHz.min, maximum: LIMITS.loopRateHz.max }),
    ),
    devices: Type.Record(Type.String({ pattern: '^[A-Za-z][A-Za-z0-9_-]*$' }), DeviceSchema),
    heartbeat: Type.Optional(ChannelRefSchema),
    estop: Type.Optional(ChannelRefSchema),
    simulator: Type.Optional(
      Type.Object(
        {
          seed: Type.Optional(Type.Integer({ minimum: 0, maximum: 2 ** 32 - 1 })),
          stations: Type.Optional(
            Type.Record(Type.String(), Type.Object({}, { additionalProperties: true })),
          ),
        },
        { additionalProperties: false },
      ),
    ),
    stations: Type.Array(StationSchema, { minItems: 1, maxItems: MAX_STATIONS }),
  },
  { additionalProperties: false },
);

/** What to tell someone whose board file fails the schema. */
export const BOARD_HINTS: SchemaHints = {
  required: {
    sensor:
      'every zone needs a pressure sensor of its own; the safety supervisor cannot protect a chamber it cannot measure',
    inlet: 'every zone needs an inlet valve channel',
    exhaust: 'every zone needs an exhaust valve channel (normally open, so it vents without power)',
    enable: 'every station needs a pump enable channel, so the supervisor can switch the pump off',
    stations: 'a board needs at least one station',
    devices: 'list the chips and links the stations use',
  },
  pattern: {
    [CHANNEL_REF_PATTERN]: 'must be written device:channel, e.g. valves0:3',
    '^[a-z0-9][a-z0-9-]{0,31}$': 'must be 1-32 lower-case letters, digits and dashes, e.g. bay-1',
  },
};

export type BoardFile = Static<typeof BoardSchema>;
export type StationFile = Static<typeof StationSchema>;
export type ZoneFile = Static<typeof ZoneSchema>;
