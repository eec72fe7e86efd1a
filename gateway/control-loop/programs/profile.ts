/**
 * The pressure profile of a program along the garment: what one zone is planned at before skips,
 * ceilings and ramp-up. Shared by the schema's ceiling check and by the start-up plan, so both
 * compute the same number.
 */
import { PROGRAM_BOUNDS } from './bounds.js';
import type { Program } from './schema.js';

export type ProfileFields = Pick<Program, 'gradientStepMmHg' | 'zoneOffsetsMmHg' | 'boostZones'>;

/**
 * No zone is planned below working pressure: a long gradient on a 12-zone garment would otherwise
 * run past zero, and a chamber under ~20 mmHg only wraps the limb (pneumatics reference §1.1).
 */
export const ZONE_FLOOR_MMHG = PROGRAM_BOUNDS.pressureMmHg.min;

/**
 * Zone `zone` (1 = most distal): base minus one gradient step per zone above zone 1 (distal highest,
 * devices reference §b: steps of 5–10 mmHg; Airos sets the start pressure in chamber 1, §a), plus the
 * zone's offset and boost, never below the floor.
 */
export function zoneProfileMmHg(program: ProfileFields, zone: number, baseMmHg: number): number {
  const gradient = (program.gradientStepMmHg ?? 0) * (zone - 1);
  const offset = program.zoneOffsetsMmHg?.[zone - 1] ?? 0;
  const boost = program.boostZones?.find((b) => b.zone === zone)?.extraMmHg ?? 0;
  return Math.max(ZONE_FLOOR_MMHG, baseMmHg - gradient + offset + boost);
}

/** The planned targets of the zones that run (1-based zones not in `skipZones` nor the program's skips). */
function runningZones(
  program: ProfileFields & Pick<Program, 'skipZones'>,
  zoneCount: number,
  skip: readonly number[],
) {
  const skipped = new Set([...(program.skipZones ?? []), ...skip]);
  const zones: number[] = [];
  for (let z = 1; z <= zoneCount; z++) if (!skipped.has(z)) zones.push(z);
  return zones;
}

/** The highest zone target of `program` at base pressure `baseMmHg` on a `zoneCount`-zone garment. */
export function peakTargetMmHg(
  program: ProfileFields & Pick<Program, 'skipZones'>,
  zoneCount: number,
  baseMmHg: number,
  skipZones: readonly number[] = [],
): number {
  const zones = runningZones(program, zoneCount, skipZones);
  return Math.max(ZONE_FLOOR_MMHG, ...zones.map((z) => zoneProfileMmHg(program, z, baseMmHg)));
}

/**
 * The highest base pressure at which no zone of `program` is planned above `highestTargetMmHg`
 * (gateway/limits.ts highestTargetMmHg of the effective ceiling): the profile is the base plus a
 * fixed amount per zone, so it is the highest target less the largest of those amounts. Below
 * ZONE_FLOOR_MMHG the program cannot run under that ceiling at all. The dashboard bounds its
 * pressure controls with it; the controller's plan refuses anything above.
 */
export function highestBaseMmHg(
  program: ProfileFields & Pick<Program, 'skipZones'>,
  zoneCount: number,
  highestTargetMmHg: number,
  skipZones: readonly number[] = [],
): number {
  const zones = runningZones(program, zoneCount, skipZones);
  const above = Math.max(0, ...zones.map((z) => zoneProfileMmHg(program, z, 1000) - 1000));
  return Math.floor(highestTargetMmHg - above);
}
