/**
 * The physical and clinical range of every numeric program field, defined once with its unit and
 * its reason (the PVP pattern that gateway/limits.ts follows). The program schema, a program editor's
 * sliders and docs read this table. Station- and garment-wide safety numbers are not repeated here:
 * they come from gateway/limits.ts.
 *
 * "devices reference" = the project's survey of commercial IPC devices; "pneumatics reference" = its
 * research on pneumatics and timing (both summarised in docs/hardware.md and docs/safety.md).
 */
import { GARMENT_CEILING_MMHG, GARMENT_CLASSES, LIMITS } from '../../limits.js';
import { MAX_ZONES } from '../../board/size.js';

export interface ProgramBound {
  readonly unit: string;
  readonly min: number;
  readonly max: number;
  readonly why: string;
}

function bound(unit: string, min: number, max: number, why: string): ProgramBound {
  return { unit, min, max, why };
}

/** The highest garment-class ceiling: no program may ask more of any garment. */
const HIGHEST_GARMENT_CEILING_MMHG = Math.max(...GARMENT_CLASSES.map((c) => GARMENT_CEILING_MMHG[c]));

export const PROGRAM_BOUNDS = {
  pressureMmHg: bound(
    'mmHg',
    20,
    HIGHEST_GARMENT_CEILING_MMHG,
    'Base (most distal) target. Working pressures start at 20 mmHg (pneumatics reference §1.1); below it a ' +
      'chamber only wraps the limb and the ±5 mmHg regulation band is a quarter of the target. The top is the ' +
      'highest garment-class ceiling; the cross-field check holds each program to its own garments.',
  ),
  gradientStepMmHg: bound(
    'mmHg',
    5,
    10,
    'Drop per zone from distal to proximal: the optimal inter-compartment step is 5–10 mmHg (devices reference §b, Kamm [35]).',
  ),
  zoneOffsetMmHg: bound(
    'mmHg',
    -30,
    30,
    'A per-zone shape tweak. Beyond three gradient steps it is a different program, and a typo of 100 must not pass.',
  ),
  boostMmHg: bound(
    'mmHg',
    1,
    20,
    'Extra pressure on a focus zone ("ZoneBoost", devices reference §a): at most two 10 mmHg gradient steps.',
  ),
  inflateMaxS: bound(
    's',
    3,
    60,
    'Longest a zone may take to reach its target before the sequence moves on. Fills take 3.4–8.8 s and up to ' +
      '28 s on a large chamber with a weak pump (pneumatics reference §1.6); a shorter limit would give up on ' +
      'healthy fills, a longer one would stall the sequence on a leak.',
  ),
  holdS: bound(
    's',
    0,
    120,
    'All zones held after the last one fills. Holds of 5–45 s are typical (pneumatics reference §1.1) and a whole ' +
      'cycle runs 75 s to 5 min (devices reference §b [38]).',
  ),
  releaseS: bound(
    's',
    2,
    60,
    'All zones vented. A chamber vents to 10 mmHg in 1.1–3.7 s (pneumatics reference §1.6), so 2 s is the ' +
      'shortest release that empties an arm chamber with margin; deflation times of 10–35 s were studied (§1.1).',
  ),
  restS: bound(
    's',
    0,
    300,
    'Pause between cycles for venous refill (Kendall times it to the refill time, devices reference §b); a cycle ' +
      'of up to 5 min is the longest in the sources.',
  ),
  overlapS: bound(
    's',
    0,
    30,
    'Wave: how long a zone keeps holding after the next one starts filling. Zero is a strict peristaltic hand-over; ' +
      'longer than a typical fill plus hold (≈ 30 s) is no longer a wave but a sequential hold.',
  ),
  pulseHoldFraction: bound(
    '',
    0.3,
    0.9,
    'Pulse: fraction of the zone target held while the next zone pulses (Normatec "pulse, then hold", devices ' +
      'reference §a). Below 0.3 the zone is effectively released; above 0.9 it is within the regulation band of full.',
  ),
  pulsePeakS: bound(
    's',
    0,
    10,
    'Pulse: how long a zone stays at full target after reaching it, before it drops to the hold fraction.',
  ),
  preClearZones: bound(
    'zones',
    1,
    MAX_ZONES / 2,
    'Lymphatic: how many proximal zones the pre-clearing pass works (devices reference §a Flexitouch "preparation" ' +
      'phase; §d lymph-node unblocking). At most half the largest garment: the root of the limb, not the whole limb.',
  ),
  preClearHoldS: bound(
    's',
    0,
    30,
    'Lymphatic: how long each pre-clearing zone holds before it vents and the next (more distal) one fills.',
  ),
  rampUpCycles: bound(
    'cycles',
    0,
    5,
    'First cycles at reduced pressure: devices reach the set pressure over 2–3 cycles (devices reference §b [20]).',
  ),
  rampStartFraction: bound(
    '',
    0.4,
    0.95,
    'Fraction of the target in the first ramp-up cycle (default 0.6); a lower start would be below working pressure.',
  ),
  durationMin: bound(
    'min',
    LIMITS.sessionMaxMin.min,
    LIMITS.sessionMaxMin.max,
    'Session length: the station-wide session limits (gateway/limits.ts); 15–60 min is usual (devices reference §b).',
  ),
} as const satisfies Record<string, ProgramBound>;

/** Default first-cycle fraction when rampUpCycles is set without rampStartFraction ("60 % → 100 %"). */
export const DEFAULT_RAMP_START_FRACTION = 0.6;
