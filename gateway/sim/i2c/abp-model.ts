/**
 * Model of a Honeywell ABP (Basic Amplified) I2C gauge pressure sensor, e.g. 0x28, 0–5 psi.
 *
 * Read-only: it measures continuously and a read returns 2 bytes (status in bits 15:14, 14-bit
 * counts = 1638 + 13107·(P − Pmin)/(Pmax − Pmin), the 10 %..90 % transfer function), optionally 2
 * more with an 11-bit temperature. Status 00 is fresh data, 01 command mode, 10 stale (no new
 * measurement since the last read), 11 a diagnostic fault.
 */
import type { Clock } from '../../clock.js';
import type { I2cDeviceModel } from './fake-bus.js';

export type AbpUnit = 'psi' | 'mbar' | 'mmHg';
export type AbpStatus = 'ok' | 'command' | 'stale' | 'diagnostic';

export const MMHG_PER_ABP_UNIT: Readonly<Record<AbpUnit, number>> = {
  psi: 51.71493,
  mbar: 0.750062,
  mmHg: 1,
};
const STATUS_BITS: Readonly<Record<AbpStatus, number>> = { ok: 0, command: 1, stale: 2, diagnostic: 3 };
const COUNTS_AT_PMIN = 1638;
const COUNTS_AT_PMAX = 14745;
const COUNTS_MAX = 0x3fff;

export interface AbpModelOptions {
  clock: Clock;
  /** Gauge pressure at the port in mmHg at clock time `atMs`; 0 if not given. */
  pressure?: (atMs: number) => number;
  pMin?: number;
  pMax: number;
  unit: AbpUnit;
  /** Time between internal measurements; reading faster than this returns stale data. */
  updateMs?: number;
  temperatureC?: number;
}

export class AbpModel implements I2cDeviceModel {
  private readonly opts: Required<Omit<AbpModelOptions, 'pressure'>>;
  private pressure: (atMs: number) => number;
  private lastReadMeasurement = Number.NaN;
  /** Forces a status on every read (e.g. 'stale' or 'diagnostic'); undefined = behave normally. */
  forcedStatus: AbpStatus | undefined;

  constructor(opts: AbpModelOptions) {
    this.pressure = opts.pressure ?? (() => 0);
    this.opts = { pMin: 0, updateMs: 1, temperatureC: 25, ...opts };
  }

  setPressure(source: (atMs: number) => number): void {
    this.pressure = source;
  }

  write(_bytes: Buffer): void {
    // Command mode entry is not modelled: a write only addresses the part.
  }

  read(length: number): Buffer {
    const { clock, pMin, pMax, unit, updateMs, temperatureC } = this.opts;
    const measurement = Math.floor(clock.now() / updateMs);
    const fresh = measurement !== this.lastReadMeasurement;
    this.lastReadMeasurement = measurement;
    const status = STATUS_BITS[this.forcedStatus ?? (fresh ? 'ok' : 'stale')];
    const p = this.pressure(measurement * updateMs) / MMHG_PER_ABP_UNIT[unit];
    const raw = Math.round(COUNTS_AT_PMIN + ((COUNTS_AT_PMAX - COUNTS_AT_PMIN) * (p - pMin)) / (pMax - pMin));
    const counts = Math.max(0, Math.min(COUNTS_MAX, raw));
    const t = Math.round(((temperatureC + 50) / 200) * 2047); // T = raw/2047·200 − 50 °C
    const frame = [(status << 6) | (counts >> 8), counts & 0xff, (t >> 3) & 0xff, (t & 7) << 5];
    const out = Buffer.alloc(length);
    for (let i = 0; i < length && i < frame.length; i++) out[i] = frame[i] ?? 0;
    return out;
  }
}
