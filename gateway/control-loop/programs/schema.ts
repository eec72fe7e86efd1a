/**
 * A program is data (DESIGN.md: "a named sequence of steps … versioned; staff can edit"): this is
 * its shape and the one function that turns untrusted JSON into a typed Program. Like the board
 * config, a typo is an error that names the field (`program.holdS: must be <= 120`), never a silent
 * default.
 */
import Type, { type Static, type TInteger, type TNumber } from 'typebox';
import { schemaProblems } from '../../config-check.js';
import { BoardConfigError } from '../../drivers/io.js';
import { GARMENT_CLASSES, MAX_ZONES } from '../../limits.js';
import { PROGRAM_BOUNDS, type ProgramBound } from './bounds.js';
import { crossFieldProblems, type ProgramProblem } from './cross-checks.js';

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

/** Enum errors say only "one of the allowed values": name them, so the fix is in the message. */
function hintFor(path: string): string | undefined {
  if (/\.mode$/.test(path)) return `one of: ${PROGRAM_MODES.join(', ')}`;
  if (/\.garments\[\d+\]$/.test(path)) return `one of: ${GARMENT_CLASSES.join(', ')}`;
  return undefined;
}

export interface ParseProgramOptions {
  /** The garment's zone count, when known: zone references are then checked against it. */
  zoneCount?: number;
}

/** Every problem in `raw`: schema problems first; cross-field rules only once the shape is right. */
export function programProblems(
  raw: unknown,
  path = 'program',
  options: ParseProgramOptions = {},
): ProgramProblem[] {
  const shape = schemaProblems(ProgramSchema, raw, path);
  if (shape.length > 0) return shape;
  return crossFieldProblems(raw as Program, path, options.zoneCount);
}

/** Returns `raw` as a Program (a copy), or throws a BoardConfigError naming the first bad field. */
export function parseProgram(raw: unknown, path = 'program', options: ParseProgramOptions = {}): Program {
  const first = programProblems(raw, path, options)[0];
  if (first) throw new BoardConfigError(first.path, first.problem, hintFor(first.path));
  return structuredClone(raw as Program);
}
