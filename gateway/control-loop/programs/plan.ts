/**
 * The start-up plan of a session: each zone's target pressure on this garment for this client, and
 * every reason the controller must refuse to start. DESIGN.md: the controller clamps or refuses;
 * for a target above the ceiling it refuses, because a silently clamped program is not the program
 * staff chose. The targets are still returned (clamped, never above the ceiling) so a UI can show
 * what was asked next to what is allowed.
 */
import { GARMENT_CEILING_MMHG, LIMITS, MAX_ZONES, type GarmentClass } from '../../limits.js';
import { ZONE_FLOOR_MMHG, zoneProfileMmHg } from './profile.js';
import type { Program } from './schema.js';

export interface PlanOptions {
  /** Session override of the program's base pressure (the client's chosen level). */
  pressureMmHg?: number;
  /** Session skips (1-based), on top of the program's own. */
  skipZones?: readonly number[];
  /** The effective ceiling for this session: min of station and client ceilings, set by the caller. */
  ceilingMmHg: number;
  /** The station's garment class: its ceiling also applies, and the program must be meant for it. */
  garment?: GarmentClass;
}

export interface ZoneTarget {
  /** 1 = most distal. */
  zone: number;
  /** Full-pressure target, ≤ the ceiling; 0 for a skipped zone. */
  targetMmHg: number;
  skipped: boolean;
}

export interface TargetViolation {
  /** The option or program field at fault, e.g. `pressureMmHg`, `skipZones`, `zone 3`. */
  field: string;
  zone?: number;
  wantedMmHg?: number;
  ceilingMmHg?: number;
  /** A sentence a staff member understands. */
  reason: string;
}

export interface TargetPlan {
  zones: ZoneTarget[];
  /** Empty when the session may start. */
  violations: TargetViolation[];
  /** The ceiling the targets were checked against (never above the absolute ceiling). */
  ceilingMmHg: number;
}

/** Thrown by `startableTargets` for a plan with violations; the message lists every reason. */
export class ProgramRefusedError extends Error {
  constructor(readonly violations: readonly TargetViolation[]) {
    super(`program refused: ${violations.map((v) => v.reason).join('; ')}`);
    this.name = 'ProgramRefusedError';
  }
}

/** An unusable ceiling becomes 0, so every zone is refused rather than compared against NaN. */
function effectiveCeilingMmHg(options: PlanOptions): number {
  const asked = Number.isFinite(options.ceilingMmHg) && options.ceilingMmHg > 0 ? options.ceilingMmHg : 0;
  const garment = options.garment === undefined ? Infinity : GARMENT_CEILING_MMHG[options.garment];
  return Math.min(asked, garment, LIMITS.absoluteCeilingMmHg.max);
}

function validPressure(p: number | undefined): boolean {
  return p === undefined || (Number.isFinite(p) && p >= ZONE_FLOOR_MMHG);
}

function optionViolations(
  program: Program,
  zoneCount: number,
  options: PlanOptions,
  skip: Set<number>,
): TargetViolation[] {
  const out: TargetViolation[] = [];
  if (!Number.isFinite(options.ceilingMmHg) || options.ceilingMmHg <= 0) {
    out.push({
      field: 'ceilingMmHg',
      reason: `the session ceiling ${options.ceilingMmHg} is not a pressure`,
    });
  }
  if (options.garment !== undefined && !program.garments.includes(options.garment)) {
    out.push({
      field: 'garment',
      reason: `program '${program.name}' is made for ${program.garments.join(', ')}, not for ${options.garment} garments`,
    });
  }
  if (!validPressure(options.pressureMmHg)) {
    out.push({
      field: 'pressureMmHg',
      reason: `a pressure of ${options.pressureMmHg} mmHg is below the ${ZONE_FLOOR_MMHG} mmHg working floor`,
    });
  }
  for (const z of options.skipZones ?? []) {
    if (!Number.isInteger(z) || z < 1 || z > zoneCount) {
      out.push({
        field: 'skipZones',
        zone: z,
        reason: `zone ${z} does not exist on this ${zoneCount}-zone garment`,
      });
    }
  }
  if ([...skip].filter((z) => z >= 1 && z <= zoneCount).length >= zoneCount) {
    out.push({ field: 'skipZones', reason: 'every zone is skipped; at least one zone must run' });
  }
  return out;
}

/** Program zone references the garment does not have: the program was written for a larger garment. */
function programFitViolations(program: Program, zoneCount: number): TargetViolation[] {
  const out: TargetViolation[] = [];
  for (const b of program.boostZones ?? []) {
    if (b.zone > zoneCount) {
      out.push({
        field: 'boostZones',
        zone: b.zone,
        reason: `the program boosts zone ${b.zone}, which this ${zoneCount}-zone garment lacks`,
      });
    }
  }
  const offsets = program.zoneOffsetsMmHg?.length ?? 0;
  if (offsets > zoneCount) {
    out.push({
      field: 'zoneOffsetsMmHg',
      reason: `the program shapes ${offsets} zones; this garment has ${zoneCount}`,
    });
  }
  return out;
}

function zoneTarget(
  program: Program,
  zone: number,
  base: number,
  skipped: boolean,
  ceiling: number,
): ZoneTarget {
  if (skipped) return { zone, targetMmHg: 0, skipped };
  return { zone, targetMmHg: Math.min(ceiling, zoneProfileMmHg(program, zone, base)), skipped };
}

/**
 * Per-zone targets after mode (gradient: distal highest), offsets, boost and skip, clamped to the
 * ceiling; `violations` lists every zone whose unclamped target was above it and every other reason
 * not to start. `zoneCount` outside 1…MAX_ZONES is a programming error and throws.
 */
export function targetsFor(program: Program, zoneCount: number, options: PlanOptions): TargetPlan {
  if (!Number.isInteger(zoneCount) || zoneCount < 1 || zoneCount > MAX_ZONES) {
    throw new RangeError(`zoneCount must be an integer 1…${MAX_ZONES}, got ${zoneCount}`);
  }
  const skip = new Set([...(program.skipZones ?? []), ...(options.skipZones ?? [])]);
  const ceiling = effectiveCeilingMmHg(options);
  // An invalid override is already a violation; plan at the floor so no target is NaN.
  const base = validPressure(options.pressureMmHg)
    ? (options.pressureMmHg ?? program.pressureMmHg)
    : ZONE_FLOOR_MMHG;
  const violations = [
    ...optionViolations(program, zoneCount, options, skip),
    ...programFitViolations(program, zoneCount),
  ];
  const zones: ZoneTarget[] = [];
  for (let zone = 1; zone <= zoneCount; zone++) {
    const skipped = skip.has(zone);
    const wanted = zoneProfileMmHg(program, zone, base);
    if (!skipped && wanted > ceiling) {
      violations.push({
        field: `zone ${zone}`,
        zone,
        wantedMmHg: wanted,
        ceilingMmHg: ceiling,
        reason: `zone ${zone} would need ${wanted} mmHg, above the ${ceiling} mmHg ceiling`,
      });
    }
    zones.push(zoneTarget(program, zone, base, skipped, ceiling));
  }
  return { zones, violations, ceilingMmHg: ceiling };
}

/** The plan's zones when it has no violations; otherwise a ProgramRefusedError with every reason. */
export function startableTargets(plan: TargetPlan): ZoneTarget[] {
  if (plan.violations.length > 0) throw new ProgramRefusedError(plan.violations);
  return plan.zones;
}
