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
} as const satisfies Record<string, Limit>;

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

/** Clamps `value` into the limit's hard range. */
export function clampToLimit(l: Limit, value: number): number {
  if (!Number.isFinite(value)) return l.default;
  return Math.min(l.max, Math.max(l.min, value));
}
