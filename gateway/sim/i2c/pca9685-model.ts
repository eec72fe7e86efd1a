/**
 * Register-level model of an NXP PCA9685 16-channel 12-bit PWM controller.
 *
 * MODE1 resets to 0x11 (SLEEP | ALLCALL): the oscillator is off and every output is off until
 * SLEEP is cleared. The register pointer advances only when MODE1.AI is set. PRE_SCALE takes writes
 * only while asleep. LEDn_ON/OFF bit 4 of the high byte are the full-on/full-off flags, full-off
 * winning. Not modelled: the 500 µs oscillator start-up, RESTART, EXTCLK and the sub-addresses.
 */
import type { I2cDeviceModel } from './fake-bus.js';

const MODE1 = 0x00;
const MODE2 = 0x01;
const LED0_ON_L = 0x06;
const ALL_LED_ON_L = 0xfa;
const PRE_SCALE = 0xfe;
const MODE1_RESTART = 0x80;
const MODE1_AI = 0x20;
const MODE1_SLEEP = 0x10;
const MODE2_INVRT = 0x10;
const FULL_BIT = 0x10;
const OSCILLATOR_HZ = 25e6;
/** The hardware does not accept a prescale below 3 (1526 Hz). */
const PRESCALE_MIN = 3;

export class Pca9685Model implements I2cDeviceModel {
  private regs = new Uint8Array(256);
  private pointer = 0;
  private readonly listeners = new Set<(channel: number, duty: number) => void>();

  constructor() {
    this.reset();
  }

  /** Power-on reset: asleep, all channels full-off, prescale 0x1E (200 Hz). */
  reset(): void {
    const before = this.duties();
    this.regs.fill(0);
    this.regs[MODE1] = 0x11;
    this.regs[MODE2] = 0x04;
    this.regs.set([0xe2, 0xe4, 0xe8, 0xe0], 0x02);
    for (let ch = 0; ch < 16; ch++) this.regs[LED0_ON_L + 4 * ch + 3] = FULL_BIT;
    this.regs[PRE_SCALE] = 0x1e;
    this.pointer = 0;
    this.notify(before);
  }

  get mode1(): number {
    return this.regs[MODE1] ?? 0;
  }

  get prescale(): number {
    return this.regs[PRE_SCALE] ?? 0;
  }

  frequencyHz(): number {
    return OSCILLATOR_HZ / (4096 * (this.prescale + 1));
  }

  /** Output duty of channel 0..15 in [0, 1] as the pin sees it; 0 while asleep. */
  duty(ch: number): number {
    if (this.mode1 & MODE1_SLEEP) return 0;
    const r = (i: number): number => this.regs[LED0_ON_L + 4 * ch + i] ?? 0;
    let d: number;
    if (r(3) & FULL_BIT) d = 0;
    else if (r(1) & FULL_BIT) d = 1;
    else d = (((((r(3) & 0x0f) << 8) | r(2)) - (((r(1) & 0x0f) << 8) | r(0)) + 4096) % 4096) / 4096;
    return (this.regs[MODE2] ?? 0) & MODE2_INVRT ? 1 - d : d;
  }

  /** Calls `listener(channel, duty)` for every channel whose duty a write changed. */
  onChannel(listener: (channel: number, duty: number) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private duties(): number[] {
    return Array.from({ length: 16 }, (_, ch) => this.duty(ch));
  }

  private notify(before: number[]): void {
    this.duties().forEach((d, ch) => {
      if (d !== before[ch]) for (const l of this.listeners) l(ch, d);
    });
  }

  private store(reg: number, value: number): void {
    if (reg === PRE_SCALE) {
      if (this.mode1 & MODE1_SLEEP) this.regs[PRE_SCALE] = Math.max(PRESCALE_MIN, value);
    } else if (reg >= ALL_LED_ON_L && reg < PRE_SCALE) {
      // ALL_LED_* write the same byte into every channel; they read back as 0.
      for (let ch = 0; ch < 16; ch++) this.regs[LED0_ON_L + 4 * ch + (reg - ALL_LED_ON_L)] = value;
    } else if (reg === MODE1) {
      this.regs[MODE1] = value & ~MODE1_RESTART; // writing RESTART=1 clears it
    } else {
      this.regs[reg] = value;
    }
  }

  private advance(): void {
    if (this.mode1 & MODE1_AI) this.pointer = (this.pointer + 1) & 0xff;
  }

  write(bytes: Buffer): void {
    if (bytes.length === 0) return;
    const before = this.duties();
    this.pointer = bytes[0] ?? 0;
    for (const b of bytes.subarray(1)) {
      this.store(this.pointer, b);
      this.advance();
    }
    this.notify(before);
  }

  read(length: number): Buffer {
    const out = Buffer.alloc(length);
    for (let i = 0; i < length; i++) {
      out[i] = this.pointer >= ALL_LED_ON_L && this.pointer < PRE_SCALE ? 0 : (this.regs[this.pointer] ?? 0);
      this.advance();
    }
    return out;
  }
}
