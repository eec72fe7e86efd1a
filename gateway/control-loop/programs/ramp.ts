/**
 * Ramp-up: the first cycles of a session run below the planned targets, the way commercial pumps
 * reach their set pressure over 2–3 cycles (devices reference §b [20]; pneumatics reference §1.1),
 * so a client meets full pressure only after the garment has settled on the limb.
 */
import { DEFAULT_RAMP_START_FRACTION } from './bounds.js';
import type { Program } from './schema.js';

/**
 * The fraction of every target used in cycle `cycle` (1-based). A straight line from
 * rampStartFraction in cycle 1, in equal steps, to 1.0 in cycle rampUpCycles + 1:
 * rampUpCycles 2 from 0.6 gives 0.6, 0.8, then 1.0 from cycle 3 on.
 */
export function rampFactor(
  program: Pick<Program, 'rampUpCycles' | 'rampStartFraction'>,
  cycle: number,
): number {
  const cycles = program.rampUpCycles ?? 0;
  if (cycle > cycles) return 1;
  const start = program.rampStartFraction ?? DEFAULT_RAMP_START_FRACTION;
  return start + ((1 - start) * (Math.max(1, cycle) - 1)) / cycles;
}
