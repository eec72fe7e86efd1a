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
