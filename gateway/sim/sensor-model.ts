/**
 * The pressure sensors of one simulated station (station-model.ts): each zone's per-unit errors
 * (drawn once from the seed, like a batch of real sensors, §7 sensor row), its noise stream, and
 * the tap and lagged pressure the integrator updates every step. What the physics puts at the tap
 * is the model's business; what the sensor makes of it is this file's.
 */
import type { StationParams } from './params.js';
import { deriveSeed, Rng } from './random.js';

/** A reading as the sensor's analog output would give it, before the ADC (not quantised by default). */
export interface SensorReading {
  /** mmHg as the sensor reports it: lag, gain and offset error, noise, drift and faults included. NaN if unplugged. */
  mmHg: number;
  /** false when the sensor is unplugged ('sensor-disconnected'). */
  connected: boolean;
}

export class SensorBank {
  /** The true pressure at each zone's tap (chamber, or valve block incl. hose drop), mmHg. */
  readonly port: Float64Array;
  /** The tap pressure through the sensor's first-order lag, mmHg. */
  readonly lag: Float64Array;
  /** The last value each sensor gave (NaN before its first reading): what a stuck sensor holds. */
  readonly lastSensed: Float64Array;
  private readonly offset: Float64Array;
  private readonly gain: Float64Array;
  private readonly noise: Rng[];

  constructor(
    private readonly params: StationParams['sensor'],
    zones: number,
    seed: number,
  ) {
    this.port = new Float64Array(zones);
    this.lag = new Float64Array(zones);
    this.lastSensed = new Float64Array(zones).fill(Number.NaN);
    const unit = new Rng(deriveSeed(seed, 'sensor-unit'));
    const s = params;
    this.offset = Float64Array.from({ length: zones }, () =>
      unit.uniform(-s.offsetRangeMmHg, s.offsetRangeMmHg),
    );
    this.gain = Float64Array.from({ length: zones }, () => unit.uniform(-s.gainRange, s.gainRange));
    if (s.offsetMmHg !== null) this.offset.fill(s.offsetMmHg);
    if (s.gainError !== null) this.gain.fill(s.gainError);
    this.noise = Array.from({ length: zones }, (_, z) => new Rng(deriveSeed(seed, 'sensor-noise', z)));
  }

  /** The seeded per-unit errors of zone's sensor (what a zero/span calibration would find). */
  calibration(zone: number): { offsetMmHg: number; gainError: number } {
    return { offsetMmHg: this.offset[zone] ?? 0, gainError: this.gain[zone] ?? 0 };
  }

  /** The sensor's output without noise: y = (1 + gain)·P_lagged + offset + drift. */
  reading(zone: number, lagged: number, drift: number): number {
    return (1 + (this.gain[zone] ?? 0)) * lagged + (this.offset[zone] ?? 0) + drift;
  }

  /** One reading: `noiseFree` plus fresh noise from the zone's own stream, quantised if configured. */
  read(zone: number, noiseFree: number): number {
    const s = this.params;
    let v = noiseFree + s.noiseMmHg * (this.noise[zone] as Rng).gaussian();
    if (s.quantumMmHg > 0) v = Math.round(v / s.quantumMmHg) * s.quantumMmHg;
    this.lastSensed[zone] = v;
    return v;
  }
}

/** Bench instrumentation: per zone, a watched level and when the tap last rose above it. */
export class PortWatch {
  readonly level: Float64Array;
  readonly crossedAt: Float64Array;

  constructor(zones: number) {
    this.level = new Float64Array(zones).fill(Number.POSITIVE_INFINITY);
    this.crossedAt = new Float64Array(zones).fill(Number.NaN);
  }

  set(zone: number, levelMmHg: number): void {
    this.level[zone] = levelMmHg;
  }

  levelMmHg(zone: number): number | null {
    const l = this.level[zone];
    return l === undefined || !Number.isFinite(l) ? null : l;
  }

  /** Zone z's tap moved from `before` to `after` over a step from `t0` to `t1`. */
  crossing(z: number, before: number, after: number, t0: number, t1: number): void {
    const level = this.level[z] ?? Number.POSITIVE_INFINITY;
    if (after <= level) this.crossedAt[z] = Number.NaN;
    else if (Number.isNaN(this.crossedAt[z] ?? Number.NaN)) {
      // Within the step the tap moved linearly from `before` to `after` (1 ms while filling).
      const f = before < level ? (level - before) / (after - before) : 0;
      this.crossedAt[z] = t0 + f * (t1 - t0);
    }
  }
}
