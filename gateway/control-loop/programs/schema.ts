/**
 * A program is data (DESIGN.md: "a named sequence of steps … versioned; staff can edit"): this is
 * its shape and its type. Turning untrusted JSON into a Program is parse.ts's job.
 */
import Type, { type Static, type TInteger, type TNumber } from 'typebox';
import { GARMENT_CLASSES, MAX_ZONES } from '../../limits.js';
import { PROGRAM_BOUNDS, type ProgramBound } from './bounds.js';

/**
 * How zones are sequenced (devices reference §a, "Sequence pattern"):
 * - sequential: each zone fills and holds until all are full, then all release (Airos pressure mode);
 * - gradient: the same, distal zone highest, each zone one step lower (Airos gradient mode);
 * - wave: a peristaltic wave, a zone releases shortly after the next starts (JetBoots, Airos peristaltic);
 * - pulse: each zone pulses to full, then holds lower while the next pulses (Normatec);
 * - lymphatic: a proximal pre-clearing pass, then distal → proximal drainage (Flexitouch preparation).
 */
export const PROGRAM_MODES = ['sequential', 'gradient', 'wave', 'pulse', 'lymphatic'] as const;
export type ProgramMode = (typeof PROGRAM_MODES)[number];

function num(b: ProgramBound): TNumber {
  return Type.Number({
    minimum: b.min,
    maximum: b.max,
    description: `${b.unit ? `[${b.unit}] ` : ''}${b.why}`,
  });
}

function int(b: ProgramBound): TInteger {
  return Type.Integer({ minimum: b.min, maximum: b.max, description: `[${b.unit}] ${b.why}` });
}

const B = PROGRAM_BOUNDS;
const ZoneNumberSchema = Type.Integer({ minimum: 1, maximum: MAX_ZONES, description: '1 = most distal' });

export const ProgramSchema = Type.Object(
  {
    id: Type.String({
      pattern: '^[a-z0-9][a-z0-9-]{0,47}$',
      description: 'lower-case letters, digits and dashes',
    }),
    name: Type.String({ minLength: 1, maxLength: 60 }),
    version: Type.Integer({ minimum: 1, description: 'raised on every edit; sessions record it' }),
    description: Type.Optional(Type.String({ maxLength: 500 })),
    garments: Type.Array(Type.Enum(GARMENT_CLASSES), { minItems: 1, uniqueItems: true }),
    mode: Type.Enum(PROGRAM_MODES),
    pressureMmHg: num(B.pressureMmHg),
    gradientStepMmHg: Type.Optional(num(B.gradientStepMmHg)),
    zoneOffsetsMmHg: Type.Optional(
      Type.Array(num(B.zoneOffsetMmHg), {
        maxItems: MAX_ZONES,
        description: 'index 0 = zone 1',
      }),
    ),
    skipZones: Type.Optional(Type.Array(ZoneNumberSchema, { uniqueItems: true, maxItems: MAX_ZONES })),
    boostZones: Type.Optional(
      Type.Array(
        Type.Object({ zone: ZoneNumberSchema, extraMmHg: num(B.boostMmHg) }, { additionalProperties: false }),
        { maxItems: MAX_ZONES },
      ),
    ),
    inflateMaxS: num(B.inflateMaxS),
    holdS: num(B.holdS),
    releaseS: num(B.releaseS),
    restS: num(B.restS),
    overlapS: Type.Optional(num(B.overlapS)),
    pulse: Type.Optional(
      Type.Object(
        {
          holdFraction: num(B.pulseHoldFraction),
          peakS: num(B.pulsePeakS),
        },
        { additionalProperties: false },
      ),
    ),
    lymphatic: Type.Optional(
      Type.Object(
        {
          preClearZones: int(B.preClearZones),
          preClearHoldS: num(B.preClearHoldS),
        },
        { additionalProperties: false },
      ),
    ),
    rampUpCycles: Type.Optional(int(B.rampUpCycles)),
    rampStartFraction: Type.Optional(num(B.rampStartFraction)),
    durationMin: int(B.durationMin),
  },
  { additionalProperties: false },
);

export type Program = Static<typeof ProgramSchema>;
