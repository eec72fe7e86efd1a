/**
 * Parameters of one simulated station, with defaults per garment class.
 *
 * Numbers come from the project's pneumatics reference (§1.2–1.6 and the proposed parameter set in
 * §7); the project must not read that document at run time, so they are copied here with their
 * section. Most are [U]/[D] estimates there: calibrate them on the first real garment (§7 lists the
 * 5-minute procedure) and override them per station.
 */
import { GARMENT_CLASSES, MAX_ZONES, type GarmentClass } from '../limits.js';

export type { GarmentClass };

/** Where a zone's pressure sensor taps the air path. */
export type SensorLocation = 'chamber' | 'valve-block';
export const SENSOR_LOCATIONS: readonly SensorLocation[] = ['chamber', 'valve-block'];

export interface PumpParams {
  /** Q0: free-delivery flow at 100 % duty and zero back-pressure, L/min (§7: 4; range 1–10). */
  freeFlowLPerMin: number;
  /** P_max: dead-head pressure of the linear pump curve, mmHg (§7: 500; range 250–750). */
  maxPressureMmHg: number;
  /** τ_p: first-order motor spin-up/down time constant, ms (§7: 50; range 20–150). */
  spinUpTauMs: number;
  /** Below this PWM duty the motor does not turn (breakaway torque): §7 "dead zone < 25 %". */
  deadZoneDuty: number;
}

export interface ManifoldParams {
  /** V_m: gas volume of manifold + valve block, mL (§7: 10; range 3–30). Gas-only compliance V_m/760. */
  volumeMl: number;
  /** Mechanical relief valve cracking pressure, mmHg; null = no relief valve (§7: 300; 200–350). */
  reliefMmHg: number | null;
  /** Relief valve orifice at full lift, mm (§7: 1.5). */
  reliefOrificeMm: number;
  /** Over-pressure above cracking at which the relief is fully open, mmHg (a spring valve's proportional band). */
  reliefBandMmHg: number;
}

export interface ValveParams {
  /** Orifice discharge coefficient Cd (§1.4, §7: 0.6). */
  dischargeCoefficient: number;
  /** Inlet valve orifice, mm (§7: 1.2 for leg; range 0.6–2.0). */
  inletOrificeMm: number;
  /** Exhaust valve orifice, mm (§7: 1.6 for leg). */
  exhaustOrificeMm: number;
  /** Pure delay from command to the start of opening, ms (§7: 10; range 3–30). */
  openDelayMs: number;
  /** Pure delay from command to the start of closing, ms (§7: 15). */
  closeDelayMs: number;
  /** Duration of the area ramp after the delay, for a full stroke, ms (§7 "short ramp"). */
  rampMs: number;
  /** Relative random spread of delay and ramp per actuation: 0.2 = ±20 % (§7). */
  timingJitter: number;
}

export interface TubeParams {
  /** Hose from the valve block to the garment, m (§7: 1.5; range 0.5–3). */
  lengthM: number;
  /** Hose inner diameter, mm (§7: 3; range 2–6). */
  innerDiameterMm: number;
}

export interface ChamberParams {
  /** V_res, mL (§1.2). */
  residualMl: number;
  /** V_slack, mL. */
  slackMl: number;
  /** P_s, mmHg. */
  slackMmHg: number;
  /** C_w, mL/mmHg. */
  wallMlPerMmHg: number;
  /** Healthy leak as a pressure-decay rate at 50 mmHg, mmHg/min (§1.6, §7: 10; normal range 1–30). */
  leakMmHgPerMinAt50: number;
}

export interface ThermalParams {
  /**
   * ε: fraction of the pressure rise from an inflow that is compression heat and is lost again as
   * the gas cools (§1.6, §7: 3 %; range 0–8 %). 0 disables thermal settling.
   */
  epsilon: number;
  /** τ_th: cooling time constant, ms (§7: 2 s; range 0.5–5 s). */
  tauMs: number;
}

export interface ArtefactParams {
  /** Mean patient-movement bumps per minute per station (Poisson). See DEFAULT_ARTEFACT_RATE_PER_MIN. */
  ratePerMin: number;
  /** Bump amplitude range, mmHg (§7: +5–15). */
  minMmHg: number;
  maxMmHg: number;
  /** Bump duration range, ms (§7: 0.2–2 s). */
  minMs: number;
  maxMs: number;
}

export interface SensorParams {
  location: SensorLocation;
  /** τ_s: first-order sensor + port lag, ms (§7: 1 ms, MPX5050 response time §2.2). */
  lagMs: number;
  /** σ of white noise per reading, mmHg (§7: 0.3). */
  noiseMmHg: number;
  /** Offset drawn uniformly in ±this per sensor from the seed, mmHg (§7: ±2, zeroable). */
  offsetRangeMmHg: number;
  /** Fixed offset for every zone instead of the seeded draw, mmHg. */
  offsetMmHg: number | null;
  /** Gain error drawn uniformly in ±this per sensor (§7: ±1 %). */
  gainRange: number;
  /** Fixed gain error (0.01 = reads 1 % high) instead of the seeded draw. */
  gainError: number | null;
  /**
   * Quantisation step applied by sense(), mmHg. Default 0: the ADC model that reads the simulated
   * sensor quantises; set this only when the model is used without one.
   */
  quantumMmHg: number;
}

export interface IntegrationParams {
  /** Fixed step while anything flows fast (pump running, an inlet open, a valve moving), ms (§7: 1 ms). */
  stepMs: number;
  /**
   * Longest step for slow parts: the whole station when it is quiet (pump stopped, inlets shut,
   * valves settled), or a single zone whose inlet is shut and whose valves are settled, ms.
   */
  maxQuietStepMs: number;
  /**
   * false: every zone takes every `stepMs` step (the reference the adaptive scheme is tested
   * against; 2–3× slower for a 5-zone cycle, more with more zones).
   */
  adaptive: boolean;
}

export interface StationParams {
  /** The station's garment class; each zone may have its own (`zoneGarments`). */
  garment: GarmentClass;
  zones: number;
  /** Garment class per zone (distal first), which picked that zone's default chamber. */
  zoneGarments: readonly GarmentClass[];
  pump: PumpParams;
  manifold: ManifoldParams;
  valves: ValveParams;
  tube: TubeParams;
  /** One entry per zone, 0 = most distal. */
  chambers: readonly ChamberParams[];
  /** κ: pressure change passed to each neighbouring chamber through shared tissue/shell (§7: 0.05). */
  couplingKappa: number;
  thermal: ThermalParams;
  artefacts: ArtefactParams;
  sensor: SensorParams;
  integration: IntegrationParams;
}

/** Recursive optional, for overriding any subset of the defaults. Arrays are overridden per index. */
export type DeepPartial<T> = T extends readonly (infer U)[]
  ? readonly (DeepPartial<U> | undefined)[]
  : T extends object
    ? { [K in keyof T]?: DeepPartial<T[K]> }
    : T;

/** What a station config may override. `chamber` applies to every zone, `chambers[i]` on top for zone i. */
export type StationParamsOverride = DeepPartial<
  Omit<StationParams, 'garment' | 'zones' | 'zoneGarments' | 'chambers'>
> & {
  chamber?: DeepPartial<ChamberParams>;
  chambers?: readonly (DeepPartial<ChamberParams> | undefined)[];
};

/**
 * Most zones a station model accepts. Garments seen have 3–10 chambers (devices reference §b);
 * 24 or 32 are claimed but unconfirmed there, so 32 is the ceiling.
 */

/**
 * Patient artefacts default to 0.2 bumps/min (one every ~5 min per station) instead of the 1/min in
 * §7. A resting client moves now and then; at 1/min every 60-s leak hold and most hold-accuracy
 * checks would contain a +5–15 mmHg bump, so short tests would mostly exercise the artefact filter
 * rather than the thing they test. At 0.2/min a 30-min session still sees ~6 bumps per station,
 * which keeps the controller's artefact handling exercised. Raise it (0–5/min, §7) for stress runs.
 */
export const DEFAULT_ARTEFACT_RATE_PER_MIN = 0.2;

/** Chamber P–V curves per class (§7 table: leg, arm, thigh; abdomen chosen here). */
const CHAMBERS: Readonly<Record<GarmentClass, ChamberParams>> = {
  // §1.6 "Leg" row: 50 mmHg in ≈ 6.7 s with a 4 L/min pump; C_eff ≈ 2.1 mL/mmHg at 50.
  leg: { residualMl: 30, slackMl: 300, slackMmHg: 5, wallMlPerMmHg: 1.5, leakMmHgPerMinAt50: 10 },
  // §1.6 "Arm" row: 50 mmHg in ≈ 6.2 s with a 2 L/min pump; C_eff ≈ 0.8 mL/mmHg.
  arm: { residualMl: 20, slackMl: 150, slackMmHg: 5, wallMlPerMmHg: 0.5, leakMmHgPerMinAt50: 10 },
  // §1.6 "Large chamber" row; thigh chambers hold up to ~1 L (§1.2).
  thigh: { residualMl: 50, slackMl: 600, slackMmHg: 6, wallMlPerMmHg: 3.0, leakMmHgPerMinAt50: 10 },
  // Abdomen (not in §7): a belt chamber wraps an 80–100 cm waist over 15–20 cm, an inner area of
  // 1200–2000 cm² with a 5–10 mm inflation gap ⇒ 0.6–2 L by the §1.2 geometry method, so a slack
  // volume above the thigh's. The soft abdominal wall yields more than a muscled limb, hence the
  // larger stiff-region C_w (4 vs 3 mL/mmHg) and a slower unfolding scale (7 vs 6 mmHg).
  // C_eff at 50 mmHg ≈ 5.7 mL/mmHg against the thigh's 4.3.
  abdomen: { residualMl: 60, slackMl: 800, slackMmHg: 7, wallMlPerMmHg: 4.0, leakMmHgPerMinAt50: 10 },
};

/**
 * Pump and valve sizes per class: the §1.6 rows that give fills inside the clinical 1–15 s window
 * (§1.1). Arm: the 2 L/min / 1.0–1.2 mm row. Leg: the 4 L/min / 1.2–1.6 mm row (§7 defaults).
 * Thigh and abdomen: the 8 L/min / 1.6–2.0 mm "strong pump" row, because §1.6 shows the large
 * chamber on a weak pump needs 28 s (flagged there as a sizing warning).
 */
const SUPPLY: Readonly<
  Record<
    GarmentClass,
    Pick<PumpParams, 'freeFlowLPerMin' | 'maxPressureMmHg'> &
      Pick<ValveParams, 'inletOrificeMm' | 'exhaustOrificeMm'>
  >
> = {
  arm: { freeFlowLPerMin: 2, maxPressureMmHg: 400, inletOrificeMm: 1.0, exhaustOrificeMm: 1.2 },
  leg: { freeFlowLPerMin: 4, maxPressureMmHg: 500, inletOrificeMm: 1.2, exhaustOrificeMm: 1.6 },
  thigh: { freeFlowLPerMin: 8, maxPressureMmHg: 600, inletOrificeMm: 1.6, exhaustOrificeMm: 2.0 },
  abdomen: { freeFlowLPerMin: 8, maxPressureMmHg: 600, inletOrificeMm: 1.6, exhaustOrificeMm: 2.0 },
};

/** Defaults for a station of `garment` with `zones` zones (each zone may name its own class). */
export function defaultStationParams(
  garment: GarmentClass,
  zones: number,
  zoneGarments?: readonly GarmentClass[],
): StationParams {
  const supply = SUPPLY[garment];
  const perZone = zoneGarments ?? Array.from({ length: zones }, () => garment);
  return {
    garment,
    zones,
    zoneGarments: [...perZone],
    pump: {
      freeFlowLPerMin: supply.freeFlowLPerMin,
      maxPressureMmHg: supply.maxPressureMmHg,
      spinUpTauMs: 50,
      deadZoneDuty: 0.25,
    },
    manifold: { volumeMl: 10, reliefMmHg: 300, reliefOrificeMm: 1.5, reliefBandMmHg: 10 },
    valves: {
      dischargeCoefficient: 0.6,
      inletOrificeMm: supply.inletOrificeMm,
      exhaustOrificeMm: supply.exhaustOrificeMm,
      openDelayMs: 10,
      closeDelayMs: 15,
      // §1.4: direct-acting miniature valves switch in 5–20 ms overall; most of it is the
      // electrical delay, the armature stroke itself takes a few ms.
      rampMs: 3,
      timingJitter: 0.2,
    },
    tube: { lengthM: 1.5, innerDiameterMm: 3 },
    chambers: perZone.map((g) => ({ ...CHAMBERS[g] })),
    couplingKappa: 0.05,
    thermal: { epsilon: 0.03, tauMs: 2000 },
    artefacts: {
      ratePerMin: DEFAULT_ARTEFACT_RATE_PER_MIN,
      minMmHg: 5,
      maxMmHg: 15,
      minMs: 200,
      maxMs: 2000,
    },
    sensor: {
      // The sensors sit on the controller PCB next to the valves in a typical IPC pump unit, so
      // the default reads the tube drop while air flows (§1.5) and the controller has to cope.
      location: 'valve-block',
      lagMs: 1,
      noiseMmHg: 0.3,
      offsetRangeMmHg: 2,
      offsetMmHg: null,
      gainRange: 0.01,
      gainError: null,
      quantumMmHg: 0,
    },
    integration: { stepMs: 1, maxQuietStepMs: 100, adaptive: true },
  };
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Overlays `override` on `base`, recursively. Unknown keys and type mismatches are errors that name
 * the path (a typo in a station config must not silently fall back to a default).
 */
function merge(base: unknown, override: unknown, path: string): unknown {
  if (override === undefined) return base;
  if (isPlainObject(base)) {
    if (!isPlainObject(override)) throw new RangeError(`${path}: expected an object`);
    const out: Record<string, unknown> = { ...base };
    for (const [key, value] of Object.entries(override)) {
      if (!(key in base)) {
        throw new RangeError(
          `${path}.${key}: unknown parameter (${path} has: ${Object.keys(base).join(', ')})`,
        );
      }
      out[key] = merge(base[key], value, `${path}.${key}`);
    }
    return out;
  }
  if (typeof base === 'number' || base === null) {
    if (override === null) return null;
    if (typeof override !== 'number') throw new RangeError(`${path}: expected a number`);
    return override;
  }
  if (typeof base === 'string' || typeof base === 'boolean') {
    if (typeof override !== typeof base) throw new RangeError(`${path}: expected a ${typeof base}`);
    return override;
  }
  throw new RangeError(`${path}: cannot be overridden`);
}

/**
 * Defaults for the class, then `override`, validated. Throws a RangeError naming the parameter
 * path for an unknown key or a value out of range.
 */
export function resolveStationParams(
  garment: GarmentClass,
  zones: number,
  override?: StationParamsOverride,
  zoneGarments?: readonly GarmentClass[],
): StationParams {
  if (!GARMENT_CLASSES.includes(garment)) throw new RangeError(`garment: unknown class '${String(garment)}'`);
  checkZoneCount(zones);
  if (zoneGarments !== undefined) {
    if (zoneGarments.length !== zones) {
      throw new RangeError(`zoneGarments: ${zoneGarments.length} entries for ${zones} zones`);
    }
    zoneGarments.forEach((g, i) => {
      if (!GARMENT_CLASSES.includes(g))
        throw new RangeError(`zoneGarments[${i}]: unknown class '${String(g)}'`);
    });
  }
  const base = defaultStationParams(garment, zones, zoneGarments);
  if (override === undefined) return base;
  if (!isPlainObject(override)) throw new RangeError('params: expected an object');
  const { chamber, chambers, ...rest } = override;
  const merged = merge(
    { ...base, garment: undefined, zones: undefined, zoneGarments: undefined, chambers: undefined },
    rest,
    'params',
  ) as Record<string, unknown>;
  if (chambers !== undefined && (!Array.isArray(chambers) || chambers.length > zones)) {
    throw new RangeError(`params.chambers: expected an array of at most ${zones} entries`);
  }
  const perZone = base.chambers.map((c, i) => {
    const all = merge(c, chamber, 'params.chamber');
    return merge(all, chambers?.[i], `params.chambers[${i}]`) as ChamberParams;
  });
  const out = {
    ...(merged as unknown as StationParams),
    garment,
    zones,
    zoneGarments: base.zoneGarments,
    chambers: perZone,
  };
  validateStationParams(out);
  return out;
}

function checkZoneCount(zones: number): void {
  if (!Number.isInteger(zones) || zones < 1 || zones > MAX_ZONES) {
    throw new RangeError(`zones: expected an integer 1..${MAX_ZONES}, got ${String(zones)}`);
  }
}

function num(path: string, v: number, lo: number, hi: number, loOpen = false): void {
  if (typeof v !== 'number' || !Number.isFinite(v) || v > hi || v < lo || (loOpen && v === lo)) {
    throw new RangeError(`${path}: ${String(v)} is outside ${loOpen ? '(' : '['}${lo}, ${hi}]`);
  }
}

/**
 * Physical sanity ranges. Wider than §7's "range for randomised tests" so unusual hardware can be
 * modelled, but narrow enough to keep the integrator stable and the numbers meaningful.
 */
export function validateStationParams(p: StationParams): void {
  checkZoneCount(p.zones);
  if (p.chambers.length !== p.zones) {
    throw new RangeError(`chambers: ${p.chambers.length} entries for ${p.zones} zones`);
  }
  if (p.zoneGarments.length !== p.zones) {
    throw new RangeError(`zoneGarments: ${p.zoneGarments.length} entries for ${p.zones} zones`);
  }
  num('pump.freeFlowLPerMin', p.pump.freeFlowLPerMin, 0, 100);
  num('pump.maxPressureMmHg', p.pump.maxPressureMmHg, 10, 3000);
  num('pump.spinUpTauMs', p.pump.spinUpTauMs, 0, 5000, true);
  num('pump.deadZoneDuty', p.pump.deadZoneDuty, 0, 0.95);
  num('manifold.volumeMl', p.manifold.volumeMl, 0.5, 1000);
  if (p.manifold.reliefMmHg !== null) num('manifold.reliefMmHg', p.manifold.reliefMmHg, 10, 3000);
  num('manifold.reliefOrificeMm', p.manifold.reliefOrificeMm, 0.1, 20);
  num('manifold.reliefBandMmHg', p.manifold.reliefBandMmHg, 0.1, 500);
  num('valves.dischargeCoefficient', p.valves.dischargeCoefficient, 0, 1, true);
  num('valves.inletOrificeMm', p.valves.inletOrificeMm, 0.05, 20);
  num('valves.exhaustOrificeMm', p.valves.exhaustOrificeMm, 0.05, 20);
  num('valves.openDelayMs', p.valves.openDelayMs, 0, 1000);
  num('valves.closeDelayMs', p.valves.closeDelayMs, 0, 1000);
  num('valves.rampMs', p.valves.rampMs, 0, 1000);
  num('valves.timingJitter', p.valves.timingJitter, 0, 0.9);
  num('tube.lengthM', p.tube.lengthM, 0.01, 50);
  num('tube.innerDiameterMm', p.tube.innerDiameterMm, 0.5, 30);
  p.chambers.forEach((c, i) => {
    num(`chambers[${i}].residualMl`, c.residualMl, 0.1, 20000);
    num(`chambers[${i}].slackMl`, c.slackMl, 0, 20000);
    num(`chambers[${i}].slackMmHg`, c.slackMmHg, 0.1, 100);
    num(`chambers[${i}].wallMlPerMmHg`, c.wallMlPerMmHg, 0, 1000);
    num(`chambers[${i}].leakMmHgPerMinAt50`, c.leakMmHgPerMinAt50, 0, 10000);
  });
  num('couplingKappa', p.couplingKappa, 0, 0.3);
  num('thermal.epsilon', p.thermal.epsilon, 0, 0.3);
  num('thermal.tauMs', p.thermal.tauMs, 1, 600000);
  num('artefacts.ratePerMin', p.artefacts.ratePerMin, 0, 60);
  num('artefacts.minMmHg', p.artefacts.minMmHg, 0, 200);
  num('artefacts.maxMmHg', p.artefacts.maxMmHg, p.artefacts.minMmHg, 200);
  num('artefacts.minMs', p.artefacts.minMs, 1, 60000);
  num('artefacts.maxMs', p.artefacts.maxMs, p.artefacts.minMs, 60000);
  if (!SENSOR_LOCATIONS.includes(p.sensor.location)) {
    throw new RangeError(`sensor.location: expected one of ${SENSOR_LOCATIONS.join(', ')}`);
  }
  num('sensor.lagMs', p.sensor.lagMs, 0, 10000);
  num('sensor.noiseMmHg', p.sensor.noiseMmHg, 0, 100);
  num('sensor.offsetRangeMmHg', p.sensor.offsetRangeMmHg, 0, 100);
  if (p.sensor.offsetMmHg !== null) num('sensor.offsetMmHg', p.sensor.offsetMmHg, -100, 100);
  num('sensor.gainRange', p.sensor.gainRange, 0, 0.5);
  if (p.sensor.gainError !== null) num('sensor.gainError', p.sensor.gainError, -0.5, 0.5);
  num('sensor.quantumMmHg', p.sensor.quantumMmHg, 0, 100);
  num('integration.stepMs', p.integration.stepMs, 0.01, 10);
  num('integration.maxQuietStepMs', p.integration.maxQuietStepMs, p.integration.stepMs, 1000);
  if (typeof p.integration.adaptive !== 'boolean')
    throw new RangeError('integration.adaptive: expected a boolean');
}
