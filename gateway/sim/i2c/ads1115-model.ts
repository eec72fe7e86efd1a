/**
 * Register-level model of a TI ADS1115 16-bit delta-sigma ADC (datasheet SBAS444).
 *
 * Pointer register then big-endian 16-bit registers: 0 conversion, 1 config (reset 0x8583),
 * 2 Lo_thresh (0x8000), 3 Hi_thresh (0x7FFF). A conversion takes 1/DR on the injected clock; while
 * it runs, config.OS reads 0 and the conversion register still holds the previous result.
 */
import type { Clock } from '../../clock.js';
import type { I2cDeviceModel } from './fake-bus.js';

/** Volts on AIN`channel` against GND at clock time `atMs`. */
export type AnalogSource = (channel: number, atMs: number) => number;

const FSR_V = [6.144, 4.096, 2.048, 1.024, 0.512, 0.256, 0.256, 0.256];
const DATA_RATE_SPS = [8, 16, 32, 64, 128, 250, 475, 860];
/** MUX[2:0] → [positive input, negative input]; -1 is GND. */
const MUX_INPUTS: readonly (readonly [number, number])[] = [
  [0, 1],
  [0, 3],
  [1, 3],
  [2, 3],
  [0, -1],
  [1, -1],
  [2, -1],
  [3, -1],
];
const CONFIG_RESET = 0x8583;
const OS_BIT = 0x8000;
const MODE_SINGLE_BIT = 0x0100;

interface Conversion {
  config: number;
  startMs: number;
  endMs: number;
}

export interface Ads1115ModelOptions {
  clock: Clock;
  input?: AnalogSource;
  /**
   * Conversion time as a multiple of 1/DR. The internal oscillator is specified to ±10 %, so 1.1
   * is the slowest legal chip; larger values model a broken one.
   */
  oscillatorFactor?: number;
}

export class Ads1115Model implements I2cDeviceModel {
  private pointer = 0;
  private regs = [0, CONFIG_RESET, 0x8000, 0x7fff];
  private running: Conversion | undefined;
  private input: AnalogSource;
  private readonly clock: Clock;
  oscillatorFactor: number;

  constructor(opts: Ads1115ModelOptions) {
    this.clock = opts.clock;
    this.input = opts.input ?? (() => 0);
    this.oscillatorFactor = opts.oscillatorFactor ?? 1;
  }

  setInput(source: AnalogSource): void {
    this.input = source;
  }

  /** Conversion time in ms for a config word, as this chip's oscillator runs. */
  conversionMs(config: number): number {
    return (1000 / (DATA_RATE_SPS[(config >> 5) & 7] ?? 128)) * this.oscillatorFactor;
  }

  /** Code for the inputs at `atMs` under `config`: round(V/FSR·2^15), clipped to the int16 range. */
  private code(config: number, atMs: number): number {
    const [p, n] = MUX_INPUTS[(config >> 12) & 7] ?? [0, -1];
    const volts = this.input(p, atMs) - (n < 0 ? 0 : this.input(n, atMs));
    const fsr = FSR_V[(config >> 9) & 7] ?? 2.048;
    const code = Math.round((volts / fsr) * 32768);
    return Math.max(-32768, Math.min(32767, code));
  }

  /** Brings the conversion state up to the clock: finished single shots, continuous results. */
  private update(): void {
    const c = this.running;
    if (!c) return;
    const now = this.clock.now();
    if (c.config & MODE_SINGLE_BIT) {
      if (now < c.endMs) return;
      this.regs[0] = this.code(c.config, c.endMs) & 0xffff;
      this.running = undefined;
      return;
    }
    // Continuous mode: the register holds the latest finished conversion.
    const period = c.endMs - c.startMs;
    const done = Math.floor((now - c.startMs) / period);
    if (done >= 1) this.regs[0] = this.code(c.config, c.startMs + done * period) & 0xffff;
  }

  write(bytes: Buffer): void {
    this.update();
    if (bytes.length === 0) return;
    this.pointer = (bytes[0] ?? 0) & 3;
    // A register changes only when both bytes arrived (MSB first); a lone pointer byte selects.
    if (bytes.length < 3 || this.pointer === 0) return;
    const value = ((bytes[1] ?? 0) << 8) | (bytes[2] ?? 0);
    if (this.pointer !== 1) {
      this.regs[this.pointer] = value;
      return;
    }
    this.regs[1] = value & ~OS_BIT;
    const now = this.clock.now();
    const single = (value & MODE_SINGLE_BIT) !== 0;
    if (!single) {
      this.running = { config: value, startMs: now, endMs: now + this.conversionMs(value) };
    } else if (!this.running && value & OS_BIT) {
      // OS=1 starts a conversion only from power-down; during one it has no effect.
      this.running = { config: value, startMs: now, endMs: now + this.conversionMs(value) };
    } else if (this.running && !(this.running.config & MODE_SINGLE_BIT)) {
      this.running = undefined;
    }
  }

  read(length: number): Buffer {
    this.update();
    let value = this.regs[this.pointer] ?? 0;
    // OS reads 0 while a conversion is in progress, 1 in power-down.
    if (this.pointer === 1) value = this.running ? value & ~OS_BIT : value | OS_BIT;
    const out = Buffer.alloc(length);
    for (let i = 0; i < length; i++) out[i] = i % 2 === 0 ? value >> 8 : value & 0xff;
    return out;
  }
}
