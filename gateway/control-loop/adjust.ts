/**
 * Softer or stronger, longer or shorter, during a session: the checks and the new targets of an
 * `adjust` command. DESIGN.md: "an adjustment during a session is a new setpoint under the same
 * ceiling" — so a new base pressure goes through the same planning code as a start
 * (`programs/plan.ts`), against the ceiling the session started with, and is refused (never
 * clamped) when any zone would go above it. Pure logic: the station applies the result.
 */
import type { GarmentClass } from '../limits.js';
import { LIMITS } from '../limits.js';
import { CommandError, type AdjustArgs, type SessionAdjustment } from '../protocol.js';
import { targetsFor, type ZoneTarget } from './programs/plan.js';
import type { Program } from './programs/schema.js';

const MS_PER_MIN = 60_000;

/** What a session keeps from its start to plan an adjustment with. */
export interface SessionPlanBasis {
  /** The ceiling the start checked targets against (station and client ceilings, less headroom). */
  planCeilingMmHg: number;
  /** Base (most distal) pressure now. */
  pressureMmHg: number;
  /** The session's own skips (the program's are in the program). */
  skipZones: readonly number[];
  garment: GarmentClass;
}

export interface AdjustmentPlan {
  /** New full targets per zone, when the pressure changes. */
  targets?: ZoneTarget[];
  change: Omit<SessionAdjustment, 'atEpochMs' | 'by'>;
}

function numberArg(args: AdjustArgs, key: 'pressureMmHg' | 'durationMin'): number | undefined {
  const v: unknown = args[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v)) {
    throw new CommandError('bad-request', `${key} must be a number`);
  }
  return v;
}

/**
 * Checks an adjustment of a session running `program` (with `durationMin` its current length) and
 * returns what changes. Throws CommandError: 'bad-request' for a malformed request, 'refused' with
 * the limit in words when a limit forbids it. Nothing is changed either way.
 */
export function planAdjustment(
  program: Program,
  zoneCount: number,
  basis: SessionPlanBasis,
  args: AdjustArgs,
  elapsedMs: number,
): AdjustmentPlan {
  const pressure = numberArg(args, 'pressureMmHg');
  const duration = numberArg(args, 'durationMin');
  if (pressure === undefined && duration === undefined) {
    throw new CommandError('bad-request', 'give pressureMmHg and/or durationMin');
  }
  const change: AdjustmentPlan['change'] = {};
  let targets: ZoneTarget[] | undefined;

  if (pressure !== undefined) {
    const plan = targetsFor(program, zoneCount, {
      ceilingMmHg: basis.planCeilingMmHg,
      garment: basis.garment,
      pressureMmHg: pressure,
      skipZones: basis.skipZones,
    });
    if (plan.violations.length > 0) {
      throw new CommandError(
        'refused',
        `pressure ${pressure} mmHg refused: ${plan.violations.map((v) => v.reason).join('; ')}`,
      );
    }
    targets = plan.zones;
    change.pressureMmHg = { from: basis.pressureMmHg, to: pressure };
  }

  if (duration !== undefined) {
    if (duration <= 0) throw new CommandError('bad-request', 'durationMin must be a positive number');
    if (duration > LIMITS.sessionMaxMin.default) {
      throw new CommandError(
        'refused',
        `durationMin ${duration} is above the maximum session of ${LIMITS.sessionMaxMin.default} minutes`,
      );
    }
    const ranMin = elapsedMs / MS_PER_MIN;
    if (duration <= ranMin) {
      throw new CommandError(
        'refused',
        `durationMin ${duration} is not more than the ${ranMin.toFixed(1)} minutes already run; STOP ends a session now`,
      );
    }
    change.durationMin = { from: program.durationMin, to: duration };
  }
  return { ...(targets !== undefined ? { targets } : {}), change };
}
