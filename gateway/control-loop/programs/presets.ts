/**
 * Built-in programs for what recovery lounges, spas and physiotherapy clinics offer (devices
 * reference §a: RecoveryAir's Recover / Warm-up / Isolation presets, Flexitouch drainage sequences,
 * spa programs "for drainage, cellulite, circulation"). Staff copy and edit them; they are data and
 * pass parseProgram like any other program (presets.test.ts parses each one).
 *
 * Numbers and where they come from (devices reference §b unless noted):
 * - pressures: 30–120 therapeutic range [32]; 45 mean with 5–10 steps [35]; 45 leg sleeve [10];
 *   30–45 typical [19]; 50 lymphoedema "works well for most" [22]; circulation/lymph "maximum
 *   60–80" [30]; lower pressures tolerated better on arms and trunk (Tactile [18]);
 * - timings: 15 s inflation, 10 s deflation gave the best oedema reduction (pneumatics reference
 *   §1.1, Grieveson); consumer cycles 45–60 s [8][6]; reach set pressure over 2–3 cycles [20];
 * - durations: Normatec 15/30/45/60 min [2]; spa 20–30 min [33b][45]; lymphoedema 45–60 min [44].
 * Abdominal belts stay well under their 80 mmHg class ceiling: the belt presses on the viscera.
 */
import type { GarmentClass } from '../../limits.js';
import type { Program } from './schema.js';

/** Sports recovery, legs: Normatec-like pulse, gradient hold, 30 min session ([1][3][2]; [33] range). */
const legRecoveryPulse: Program = {
  id: 'leg-recovery-pulse',
  name: 'Sports recovery – legs',
  version: 1,
  description: 'Pulsing wave from foot to hip with a lighter hold behind it, for tired legs after training.',
  garments: ['leg', 'thigh'],
  mode: 'pulse',
  pressureMmHg: 80,
  gradientStepMmHg: 5,
  pulse: { holdFraction: 0.6, peakS: 2 },
  inflateMaxS: 20,
  holdS: 10,
  releaseS: 15,
  restS: 5,
  rampUpCycles: 2,
  durationMin: 30,
};

/** Warm-up, legs: a short, lighter peristaltic wave (RecoveryAir "Warm-up" [5]; Normatec 15 min [2]). */
const legWarmUpWave: Program = {
  id: 'leg-warm-up-wave',
  name: 'Warm-up – legs',
  version: 1,
  description: 'A quick, light wave before training.',
  garments: ['leg', 'thigh'],
  mode: 'wave',
  pressureMmHg: 60,
  gradientStepMmHg: 5,
  overlapS: 2,
  inflateMaxS: 20,
  holdS: 5,
  releaseS: 10,
  restS: 5,
  durationMin: 15,
};

/** Calf focus: recovery pulse with a boost on zone 2, the calf of a leg boot (RecoveryAir "Isolation" [5]). */
const legCalfFocus: Program = {
  id: 'leg-calf-focus',
  name: 'Calf focus – legs',
  version: 1,
  description: 'Recovery pulse with extra pressure on the calf.',
  garments: ['leg'],
  mode: 'pulse',
  pressureMmHg: 70,
  gradientStepMmHg: 5,
  boostZones: [{ zone: 2, extraMmHg: 10 }],
  pulse: { holdFraction: 0.6, peakS: 2 },
  inflateMaxS: 20,
  holdS: 10,
  releaseS: 15,
  restS: 5,
  rampUpCycles: 2,
  durationMin: 20,
};

/** Lymphatic drainage, legs: 50 mmHg [22], 5 mmHg steps [35], 15 s hold / 10 s release (§1.1), 45 min [44]. */
const legLymphaticDrainage: Program = {
  id: 'leg-lymphatic-drainage',
  name: 'Lymphatic drainage – legs',
  version: 1,
  description: 'Clears the groin and thigh first, then drains from foot to hip.',
  garments: ['leg', 'thigh'],
  mode: 'lymphatic',
  pressureMmHg: 50,
  gradientStepMmHg: 5,
  lymphatic: { preClearZones: 2, preClearHoldS: 5 },
  inflateMaxS: 30,
  holdS: 15,
  releaseS: 10,
  restS: 10,
  rampUpCycles: 2,
  durationMin: 45,
};

/** Circulation ("heavy legs"): gradient at the 45 mmHg leg-sleeve pressure [10][35], rest for refill, 30 min [33b]. */
const legCirculation: Program = {
  id: 'leg-circulation',
  name: 'Circulation – heavy legs',
  version: 1,
  description: 'Gentle gradient compression, highest at the foot, with a pause for the veins to refill.',
  garments: ['leg'],
  mode: 'gradient',
  pressureMmHg: 45,
  gradientStepMmHg: 5,
  inflateMaxS: 20,
  holdS: 10,
  releaseS: 10,
  restS: 20,
  rampUpCycles: 1,
  durationMin: 30,
};

/** Body contouring, legs: a brisk wave at 60 mmHg, the bottom of "60–80" [30]; spa 30 min, 10–15 course [45]. */
const legBodyContouring: Program = {
  id: 'leg-body-contouring',
  name: 'Body contouring – legs',
  version: 1,
  description: 'A brisk peristaltic wave from ankle to hip, as in spa drainage and cellulite programs.',
  garments: ['leg', 'thigh'],
  mode: 'wave',
  pressureMmHg: 60,
  gradientStepMmHg: 5,
  overlapS: 3,
  inflateMaxS: 20,
  holdS: 5,
  releaseS: 8,
  restS: 5,
  rampUpCycles: 1,
  durationMin: 30,
};

/** Relaxation, legs: slow sequential at 40 mmHg, inside the 30–45 comfort range [19]; spa 20 min [33b]. */
const legRelaxation: Program = {
  id: 'leg-relaxation',
  name: 'Relaxation – legs',
  version: 1,
  description: 'Slow, light squeeze with long holds.',
  garments: ['leg', 'thigh'],
  mode: 'sequential',
  pressureMmHg: 40,
  inflateMaxS: 25,
  holdS: 20,
  releaseS: 15,
  restS: 15,
  durationMin: 20,
};

/** Lymphatic drainage, arms: lower than legs (Tactile [18]; 40 mmHg [20]), shoulder pre-cleared, 45 min [44]. */
const armLymphaticDrainage: Program = {
  id: 'arm-lymphatic-drainage',
  name: 'Lymphatic drainage – arms',
  version: 1,
  description: 'Clears the shoulder first, then drains from hand to shoulder.',
  garments: ['arm'],
  mode: 'lymphatic',
  pressureMmHg: 40,
  gradientStepMmHg: 5,
  lymphatic: { preClearZones: 2, preClearHoldS: 5 },
  inflateMaxS: 25,
  holdS: 15,
  releaseS: 10,
  restS: 10,
  rampUpCycles: 2,
  durationMin: 45,
};

/** Sports recovery, arms: pulse at 60 mmHg (arms below legs [18]; [33] range), 20 min [33b]. */
const armRecoveryPulse: Program = {
  id: 'arm-recovery-pulse',
  name: 'Sports recovery – arms',
  version: 1,
  description: 'Pulsing wave from hand to shoulder for tired arms.',
  garments: ['arm'],
  mode: 'pulse',
  pressureMmHg: 60,
  gradientStepMmHg: 5,
  pulse: { holdFraction: 0.6, peakS: 2 },
  inflateMaxS: 15,
  holdS: 10,
  releaseS: 10,
  restS: 5,
  rampUpCycles: 2,
  durationMin: 20,
};

/** Circulation, arms: gradient at 40 mmHg, 5 mmHg steps [35][18], 30 min [33b]. */
const armCirculation: Program = {
  id: 'arm-circulation',
  name: 'Circulation – arms',
  version: 1,
  description: 'Gentle gradient compression, highest at the hand.',
  garments: ['arm'],
  mode: 'gradient',
  pressureMmHg: 40,
  gradientStepMmHg: 5,
  inflateMaxS: 20,
  holdS: 10,
  releaseS: 10,
  restS: 20,
  rampUpCycles: 1,
  durationMin: 30,
};

/** Body contouring, abdomen: a light wave at 40 mmHg, half the class ceiling; spa 20 min [33b][45]. */
const abdomenBodyContouring: Program = {
  id: 'abdomen-body-contouring',
  name: 'Body contouring – abdomen',
  version: 1,
  description: 'A light wave around the waist, as in spa figure programs.',
  garments: ['abdomen'],
  mode: 'wave',
  pressureMmHg: 40,
  overlapS: 2,
  inflateMaxS: 20,
  holdS: 5,
  releaseS: 10,
  restS: 5,
  rampUpCycles: 1,
  durationMin: 20,
};

/** Lymphatic drainage, abdomen: truncal sequence (Flexitouch core [17]) at 35 mmHg, 30 min (spa 20–60 [27b]). */
const abdomenLymphaticDrainage: Program = {
  id: 'abdomen-lymphatic-drainage',
  name: 'Lymphatic drainage – abdomen',
  version: 1,
  description: 'Clears the upper belt chamber first, then drains upwards.',
  garments: ['abdomen'],
  mode: 'lymphatic',
  pressureMmHg: 35,
  lymphatic: { preClearZones: 1, preClearHoldS: 5 },
  inflateMaxS: 20,
  holdS: 10,
  releaseS: 10,
  restS: 10,
  rampUpCycles: 2,
  durationMin: 30,
};

export const PRESETS: readonly Program[] = Object.freeze([
  legRecoveryPulse,
  legWarmUpWave,
  legCalfFocus,
  legLymphaticDrainage,
  legCirculation,
  legBodyContouring,
  legRelaxation,
  armLymphaticDrainage,
  armRecoveryPulse,
  armCirculation,
  abdomenBodyContouring,
  abdomenLymphaticDrainage,
]);

export function presetById(id: string): Program | undefined {
  return PRESETS.find((p) => p.id === id);
}

/** The presets meant for a garment class, for a station's picker. */
export function presetsFor(garment: GarmentClass): Program[] {
  return PRESETS.filter((p) => p.garments.includes(garment));
}
