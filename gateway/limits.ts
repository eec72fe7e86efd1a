/**
 * Every tunable number with a safety meaning, defined once with its unit, hard range and default
 * (the PVP pattern). The board-config validator, the controller's clamps, the API schemas and the
 * dashboard's sliders all read this table; docs/safety.md prints it. Do not repeat these numbers
 * as literals elsewhere.
 *
 * Sources: "pneumatics reference" = the project's research on pneumatics and timing (§ numbers
 * cited); "devices reference" = its survey of commercial IPC devices. Both are summarised in
 * docs/hardware.md and docs/safety.md.
 */

export interface Limit {
  readonly unit: string;
  readonly min: number;
  readonly max: number;
  readonly default: number;
  readonly why: string;
}

function limit(unit: string, min: number, max: number, def: number, why: string): Limit {
  return { unit, min, max, default: def, why };
}

export const LIMITS = {
  loopRateHz: limit(
    'Hz',
    20,
    200,
    100,
    'Control tick rate. At 50 mmHg/s fill rate a 10 ms tick moves pressure 0.5 mmHg (pneumatics reference §8).',
  ),
  absoluteCeilingMmHg: limit(
    'mmHg',
    150,
    150,
    150,
    'No garment of this product is ever driven above 150 mmHg, whatever the config (pneumatics reference §1.1).',
  ),
  stationCeilingMmHg: limit(
    'mmHg',
    20,
    150,
    100,
    'Per-station ceiling set by staff; can only lower the garment-class ceiling, never raise it.',
  ),
  tripMarginMmHg: limit(
    'mmHg',
    5,
    30,
    20,
    'Over-pressure trip at min(target + margin, ceiling) (pneumatics reference §8: set + 20 mmHg).',
  ),
  tripHardMarginMmHg: limit(
    'mmHg',
    5,
    30,
    10,
    'One fresh sample this far above the over-pressure trip level vents without the 2-sample debounce: sensor noise is σ 0.3 mmHg (0.1–1, pneumatics reference, sensor model), so 10 mmHg is over 10σ, and a blocked hose rises thousands of mmHg/s, so a debounce tick there costs tens of mmHg.',
  ),
  regulationHeadroomMmHg: limit(
    'mmHg',
    0,
    20,
    5,
    'Program targets must stay this far below the applicable ceiling: a fill overshoots by up to ~5 mmHg (the regulation goal), which at the ceiling itself would trip the over-pressure rule.',
  ),
  sessionMaxMin: limit(
    'min',
    1,
    120,
    60,
    'Longest session a station accepts; 120 min is the longest protocol in the devices reference (DFU trial).',
  ),
  debounceMs: limit('ms', 0, 200, 20, 'Digital input debounce (emergency stop, garment switch).'),
  heartbeatWatchdogMs: limit(
    'ms',
    50,
    1000,
    200,
    'A hardware watchdog cuts pump power when the heartbeat stops toggling this long (pneumatics reference §8).',
  ),
  sensorMinMmHg: limit(
    'mmHg',
    -40,
    0,
    -20,
    'A gauge reading below this is not a pressure but a broken sensor or wire (chambers cannot go far below atmosphere).',
  ),
  sensorMaxMmHg: limit(
    'mmHg',
    150,
    400,
    300,
    'A reading above this is beyond the relief valve (pneumatics reference §7: 300 mmHg) and so implausible.',
  ),
  sensorErrorTicks: limit(
    'ticks',
    1,
    20,
    3,
    'Consecutive failed reads of a zone sensor before its station vents.',
  ),
  sensorStaleMs: limit(
    'ms',
    50,
    1000,
    150,
    'No fresh sample for this long and the zone is unguarded: vent. 15 ticks at 100 Hz; covers a slow ADC scan.',
  ),
  sensorStuckMs: limit(
    'ms',
    300,
    5000,
    1000,
    'A reading that does not change at all for this long while the chamber fills or vents is frozen (real sensors show noise).',
  ),
  idleMaxMmHg: limit(
    'mmHg',
    5,
    40,
    15,
    'A vented zone reading above this after venting is a drifting sensor or a blocked exhaust.',
  ),
  inflationRiseMmHg: limit(
    'mmHg',
    2,
    20,
    5,
    'A fill must raise the zone by this much (the analogue of Klipper verify_heater)…',
  ),
  inflationVerifyS: limit(
    's',
    3,
    60,
    15,
    '…within this time, or the hose is off, the garment leaks or the pump is dead. A large thigh chamber needs ~6 s to unfold at 4 L/min (pneumatics reference §1.6).',
  ),
  compensatedLeakS: limit(
    's',
    3,
    60,
    7,
    'Top-ups for longer than this within one hold mean a leak the pump is compensating (tourniquet practice, devices reference §b).',
  ),
  leakAlarmMmHgPerMin: limit(
    'mmHg/min',
    10,
    120,
    45,
    'A held zone whose top-ups put back more than this per minute leaks: three times the 15 mmHg/min that inspection procedures accept (pneumatics reference §1.6), leaving room for the thermal sag and the pull of neighbouring chambers that the estimate also sees.',
  ),
  compensatedLeakLimit: limit(
    'cycles',
    1,
    10,
    3,
    'Compensated-leak alarms in one session before the station is stopped.',
  ),
  sealedGainMmHg: limit(
    'mmHg',
    3,
    20,
    8,
    'A held zone with its inlet shut that rises this far above its set pressure while another zone fills is being fed through a leaking or stuck inlet valve (neighbour coupling alone moves it ~2 mmHg).',
  ),
  sealedGainMs: limit(
    'ms',
    500,
    10_000,
    3000,
    '…for this long: longer than a patient-movement bump (0.2–2 s).',
  ),
  ventBelowMmHg: limit('mmHg', 5, 20, 10, 'A vented zone must fall below this…'),
  ventVerifyS: limit(
    's',
    2,
    30,
    10,
    '…within this time, else the exhaust is blocked. A leg chamber vents 50→10 mmHg in 1–3 s, a large thigh chamber in ~4 s (pneumatics reference §1.6); §8 asks for < 15 mmHg within 10 s.',
  ),
  deadHeadMs: limit(
    'ms',
    20,
    500,
    100,
    'The pump may run with every inlet shut at most this long: a 10 mL manifold reaches 500 mmHg in ~0.1 s (pneumatics reference §1.3).',
  ),
  loopLatePeriods: limit(
    'ticks',
    2,
    20,
    5,
    'A tick later than this many periods is a late tick: the supervisor checks the fresh pressures and reports it (loop-late, not latched) and vents only by the two rules below.',
  ),
  loopLateHardMs: limit(
    'ms',
    50,
    180,
    150,
    'A tick this late or later vents every station (loop-stall). Below the 200 ms hardware watchdog cut less one 20 Hz period; a pump running 160 ms unsupervised adds at most 5.6 mmHg to a chamber on the simulator, under the 20 mmHg trip margin (docs/safety.md §5).',
  ),
  loopLateBurst: limit(
    'ticks/60 s',
    2,
    10,
    3,
    'This many late ticks within 60 s vent every station (loop-stall): a loop that keeps missing its deadline is not one nuisance gap.',
  ),
  zeroOffsetMaxMmHg: limit(
    'mmHg',
    2,
    20,
    10,
    'Largest sensor zero offset the sensor-zero self-test stores and set-zero-offsets accepts: an MPX5050 drifts up to ±9 mmHg uncalibrated; more is a faulty sensor.',
  ),
} as const satisfies Record<string, Limit>;

/** Window of the loopLateBurst rule. */
export const LOOP_LATE_WINDOW_MS = 60_000;

/** Most zones (chambers) one station's garment may have, in the board file, the API and the simulator. */
export const MAX_ZONES = 12;

/**
 * The highest zone target a session may have under `ceilingMmHg`: a fill overshoots by up to a
 * few mmHg (the regulation goal), which at the ceiling itself would trip the over-pressure rule,
 * so targets stay `regulationHeadroomMmHg` below it. Used by the station (plan), the API (walk-up
 * limits) and the dashboard (slider range, disabled presets).
 */
export function highestTargetMmHg(ceilingMmHg: number): number {
  return ceilingMmHg - LIMITS.regulationHeadroomMmHg.default;
}

/** The inverse of highestTargetMmHg: the ceiling under which `maxTargetMmHg` is the highest target. */
export function ceilingForMaxTargetMmHg(maxTargetMmHg: number): number {
  return maxTargetMmHg + LIMITS.regulationHeadroomMmHg.default;
}

/** Where a session's effective ceiling comes from; the lowest one wins. */
export interface CeilingSources {
  /** The board's station ceiling, already lowered to the garment class (StationSpec.ceilingMmHg). */
  boardMmHg: number;
  /** The station ceiling staff set in the station settings, if any. */
  stationSettingMmHg?: number | undefined;
  /** The walk-up maximum target, for a walk-up start (a target, not a ceiling: headroom is added). */
  walkUpMaxTargetMmHg?: number | undefined;
  /** The client's own ceiling (e.g. from a screening or a prescription). */
  clientMmHg?: number | undefined;
}

export type CeilingSource = 'board' | 'station' | 'walk-up' | 'client';

/**
 * The one effective ceiling of a session: the lowest of the board (garment class and station),
 * the station setting, the walk-up maximum and the client's own limit, never above the absolute
 * ceiling. The controller's plan, the supervisor's over-pressure trip, the frame and the UI all
 * read this number. `source` says which limit set it (for the reason shown next to a refused or
 * disabled preset); a value that is not a positive number is ignored, not taken as 0.
 */
export function effectiveCeiling(s: CeilingSources): { ceilingMmHg: number; source: CeilingSource } {
  const usable = (v: number | undefined): v is number => v !== undefined && Number.isFinite(v) && v > 0;
  let best: { ceilingMmHg: number; source: CeilingSource } = {
    ceilingMmHg: Math.min(s.boardMmHg, LIMITS.absoluteCeilingMmHg.max),
    source: 'board',
  };
  const consider = (v: number | undefined, source: CeilingSource) => {
    if (usable(v) && v < best.ceilingMmHg) best = { ceilingMmHg: v, source };
  };
  consider(s.stationSettingMmHg, 'station');
  consider(
    usable(s.walkUpMaxTargetMmHg) ? ceilingForMaxTargetMmHg(s.walkUpMaxTargetMmHg) : undefined,
    'walk-up',
  );
  consider(s.clientMmHg, 'client');
  return best;
}

/** Garment classes: the kind of chamber, which sets its physics and its pressure ceiling. */
export const GARMENT_CLASSES = ['leg', 'arm', 'thigh', 'abdomen'] as const;
export type GarmentClass = (typeof GARMENT_CLASSES)[number];

/**
 * Hard ceiling per garment class. Leg, thigh and arm: 120 mmHg, the top of the therapeutic range
 * (devices reference §b, "30–120"). Abdomen: 80 mmHg, because an abdominal belt presses on the
 * viscera and diaphragm, and the circulation/lymph guidance caps useful pressure at 60–80
 * (devices reference §b). A station or client ceiling can only lower these.
 */
export const GARMENT_CEILING_MMHG: Readonly<Record<GarmentClass, number>> = {
  leg: 120,
  thigh: 120,
  arm: 120,
  abdomen: 80,
};
