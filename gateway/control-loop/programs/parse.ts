/**
 * The one function that turns untrusted JSON into a typed Program. Like the board config, a typo is
 * an error that names the field (`program.holdS: must be <= 120`), never a silent default.
 */
import { schemaProblems } from '../../config-check.js';
import { ConfigError } from '../../config-error.js';
import { GARMENT_CLASSES } from '../../limits.js';
import { crossFieldProblems, type ProgramProblem } from './cross-checks.js';
import { PROGRAM_MODES, ProgramSchema, type Program } from './schema.js';

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

/** Returns `raw` as a Program (a copy), or throws a ConfigError naming the first bad field. */
export function parseProgram(raw: unknown, path = 'program', options: ParseProgramOptions = {}): Program {
  const first = programProblems(raw, path, options)[0];
  if (first) throw new ConfigError(first.path, first.problem, hintFor(first.path));
  return structuredClone(raw as Program);
}
