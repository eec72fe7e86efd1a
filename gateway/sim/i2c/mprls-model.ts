/**
 * Model of a Honeywell MPRLS absolute pressure sensor (MPRLS0025PA: 0–25 psi, address 0x18).
 *
 * There are no registers: the command AA 00 00 starts a measurement that keeps the busy bit set
 * for ~5 ms; any read returns the status byte (bit 6 powered, bit 5 busy, bit 2 memory integrity
 * failure, bit 0 math saturation) followed by the 24-bit result of the last finished measurement,
 * counts = 0x19999A + 0xCCCCCC·(P − Pmin)/(Pmax − Pmin) (the 10 %..90 % transfer function).
 */
import type { Clock } from '../../clock.js';
import type { I2cDeviceModel } from './fake-bus.js';

const STATUS_POWERED = 0x40;
const STATUS_BUSY = 0x20;
const STATUS_INTEGRITY = 0x04;
const STATUS_SATURATION = 0x01;
const COUNTS_AT_PMIN = 0x19999a;
const COUNTS_SPAN = 0xcccccc;
const COUNTS_MAX = 0xffffff;
const MMHG_PER_PSI = 51.71493;

export interface MprlsModelOptions {
  clock: Clock;
  /** Absolute pressure at the port in mmHg at clock time `atMs`; 760 if not given. */
  pressure?: (atMs: number) => number;
  pMinPsi?: number;
  pMaxPsi?: number;
  conversionMs?: number;
}

export class MprlsModel implements I2cDeviceModel {
  private readonly clock: Clock;
  private pressure: (atMs: number) => number;
  private readonly pMinPsi: number;
  private readonly pMaxPsi: number;
  /** Measurement time; set it longer than the driver's timeout to test a sensor that stays busy. */
  conversionMs: number;
  /** Simulates a failed EEPROM checksum, which the part reports in every status byte. */
  integrityFault = false;
  private endMs: number | undefined;
  private counts = 0;
  private saturated = false;

  constructor(opts: MprlsModelOptions) {
    this.clock = opts.clock;
    this.pressure = opts.pressure ?? (() => 760);
    this.pMinPsi = opts.pMinPsi ?? 0;
    this.pMaxPsi = opts.pMaxPsi ?? 25;
    this.conversionMs = opts.conversionMs ?? 5;
  }

  setPressure(source: (atMs: number) => number): void {
    this.pressure = source;
  }

  private update(): void {
    if (this.endMs === undefined || this.clock.now() < this.endMs) return;
    const psi = this.pressure(this.endMs) / MMHG_PER_PSI;
    const counts = Math.round(
      COUNTS_AT_PMIN + (COUNTS_SPAN * (psi - this.pMinPsi)) / (this.pMaxPsi - this.pMinPsi),
    );
    this.saturated = counts < 0 || counts > COUNTS_MAX;
    this.counts = Math.max(0, Math.min(COUNTS_MAX, counts));
    this.endMs = undefined;
  }

  write(bytes: Buffer): void {
    this.update();
    // A new command while busy is ignored; the running measurement finishes.
    if (bytes[0] === 0xaa && this.endMs === undefined) this.endMs = this.clock.now() + this.conversionMs;
  }

  read(length: number): Buffer {
    this.update();
    let status = STATUS_POWERED;
    if (this.endMs !== undefined) status |= STATUS_BUSY;
    if (this.integrityFault) status |= STATUS_INTEGRITY;
    if (this.saturated) status |= STATUS_SATURATION;
    const out = Buffer.alloc(length);
    const frame = [status, (this.counts >> 16) & 0xff, (this.counts >> 8) & 0xff, this.counts & 0xff];
    for (let i = 0; i < length && i < frame.length; i++) out[i] = frame[i] ?? 0;
    return out;
  }
}
