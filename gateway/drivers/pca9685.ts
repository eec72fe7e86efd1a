/**
 * NXP PCA9685 16-channel 12-bit PWM controller: pwm-out 0..15 (proportional valves, pump speed) and
 * digital-out on the same pins (fully on or off, e.g. a pump enable).
 *
 * One flush is one raw I2C write of the LEDn registers from the lowest to the highest used channel
 * (auto-increment on), so all PWM changes of a tick land together.
 */
import Type from 'typebox';
import { checkSchema } from '../config-check.js';
import { StagedDigitalOutput, StagedPwmOutput, channelIndex } from './channels.js';
import { I2cBusField, I2cDevice } from './i2c-bus.js';
import type { ChannelKind, DigitalOutput, DriverContext, DriverDefinition, PwmOutput } from './io.js';

export interface Pca9685Config {
  bus: number | string;
  address: number;
  frequencyHz: number;
}

const MODE1 = 0x00;
const MODE2 = 0x01;
const LED0_ON_L = 0x06;
const ALL_LED_OFF_H = 0xfd;
const PRE_SCALE = 0xfe;
/** AI = register auto-increment; ALLCALL is left clear so the chip does not also answer at 0x70, a TCA9548A's address. */
const MODE1_AI = 0x20;
const MODE1_SLEEP = 0x10;
/** Totem-pole outputs, not inverted (the reset value, written so a previous user's INVRT goes away). */
const MODE2_OUTDRV = 0x04;
/** Bit 4 of LEDn_ON_H / LEDn_OFF_H: output fully on / fully off (full-off wins). */
const FULL_BIT = 0x10;
const OSCILLATOR_HZ = 25e6;
const PWM_STEPS = 4096;
/** The datasheet asks for 500 µs after clearing SLEEP before the oscillator is usable. */
const OSCILLATOR_STARTUP_MS = 0.5;
/** How often MODE1 is checked: a chip that reset is asleep with AI off, so its outputs are dead. */
const REFRESH_MS = 1000;
const CHANNELS = 16;

const Schema = Type.Object(
  {
    bus: I2cBusField,
    address: Type.Optional(Type.Integer({ minimum: 0x40, maximum: 0x7f })),
    // Prescale 255..3 gives 24..1526 Hz from the 25 MHz internal oscillator.
    frequencyHz: Type.Optional(Type.Number({ minimum: 24, maximum: 1526 })),
  },
  { additionalProperties: false },
);

function parseConfig(raw: Record<string, unknown>, path: string): Pca9685Config {
  const c = checkSchema(Schema, raw, path);
  return { bus: c.bus, address: c.address ?? 0x40, frequencyHz: c.frequencyHz ?? 1000 };
}

/** PRE_SCALE = round(f_osc / (4096 · f)) − 1, from the datasheet. */
export function pca9685Prescale(frequencyHz: number): number {
  return Math.round(OSCILLATOR_HZ / (PWM_STEPS * frequencyHz)) - 1;
}

function checkChannel(kind: ChannelKind, channel: string): string | undefined {
  if (kind !== 'pwm-out' && kind !== 'digital-out') return `a pca9685 has no ${kind} channels`;
  if (channelIndex(channel, CHANNELS - 1) === undefined) return 'must be 0..15 (LED0..LED15)';
  return undefined;
}

/**
 * The 4 LEDn bytes (ON_L, ON_H, OFF_L, OFF_H) for a duty. Every channel turns on at count 0;
 * staggering the ON counts would spread inrush current, which a few valves do not need.
 */
function ledBytes(duty: number): number[] {
  if (duty <= 0) return [0, 0, 0, FULL_BIT];
  if (duty >= 1) return [0, FULL_BIT, 0, 0];
  const off = Math.min(PWM_STEPS - 1, Math.max(1, Math.round(duty * PWM_STEPS)));
  return [0, 0, off & 0xff, off >> 8];
}

class Pca9685 extends I2cDevice {
  private readonly channels = new Map<number, StagedPwmOutput | StagedDigitalOutput>();
  private written: Buffer | undefined;
  private checkedAtMs = Number.NEGATIVE_INFINITY;

  constructor(
    id: string,
    private readonly config: Pca9685Config,
    ctx: DriverContext,
  ) {
    super(id, 'pca9685', config.bus, config.address, ctx);
  }

  protected async configure(): Promise<void> {
    const a = this.address;
    // Outputs off before anything else, then the prescale (writable only while asleep), then wake.
    await this.bus.writeByte(a, ALL_LED_OFF_H, FULL_BIT);
    await this.bus.writeByte(a, MODE1, MODE1_SLEEP | MODE1_AI);
    await this.bus.writeByte(a, PRE_SCALE, pca9685Prescale(this.config.frequencyHz));
    await this.bus.writeByte(a, MODE2, MODE2_OUTDRV);
    await this.bus.writeByte(a, MODE1, MODE1_AI);
    await this.ctx.clock.sleep(OSCILLATOR_STARTUP_MS);
    this.written = undefined;
    this.checkedAtMs = this.ctx.clock.now();
  }

  private pin(kind: ChannelKind, channel: string): number {
    const n = channelIndex(channel, CHANNELS - 1);
    if (n === undefined) throw this.badChannel(kind, channel, checkChannel(kind, channel) ?? '');
    return n;
  }

  override pwmOutput(channel: string): PwmOutput {
    const n = this.pin('pwm-out', channel);
    const c = this.channels.get(n) ?? new StagedPwmOutput(`${this.id}:${n}`);
    if (!(c instanceof StagedPwmOutput)) {
      throw this.badChannel('pwm-out', channel, `pin ${n} is a digital-out`);
    }
    this.channels.set(n, c);
    return c;
  }

  override digitalOutput(channel: string): DigitalOutput {
    const n = this.pin('digital-out', channel);
    const c = this.channels.get(n) ?? new StagedDigitalOutput(`${this.id}:${n}`);
    if (!(c instanceof StagedDigitalOutput)) {
      throw this.badChannel('digital-out', channel, `pin ${n} is a pwm-out`);
    }
    this.channels.set(n, c);
    return c;
  }

  private dutyOf(ch: number): number {
    const c = this.channels.get(ch);
    if (c instanceof StagedPwmOutput) return c.duty;
    return c?.value ? 1 : 0;
  }

  /** [register, LEDlo bytes … LEDhi bytes]; channels in the range that are not used stay off. */
  private block(): Buffer | undefined {
    const used = [...this.channels.keys()];
    if (used.length === 0) return undefined;
    const lo = Math.min(...used);
    const hi = Math.max(...used);
    const bytes = [LED0_ON_L + 4 * lo];
    for (let ch = lo; ch <= hi; ch++) {
      bytes.push(...ledBytes(this.dutyOf(ch)));
    }
    return Buffer.from(bytes);
  }

  override async flush(): Promise<void> {
    try {
      if (this.ctx.clock.now() - this.checkedAtMs >= REFRESH_MS) {
        const mode1 = await this.bus.readByte(this.address, MODE1);
        if ((mode1 & (MODE1_SLEEP | MODE1_AI)) !== MODE1_AI) {
          this.ctx.log.warn(
            `pca9685 "${this.id}": MODE1 reads 0x${mode1.toString(16)}, chip reset? configuring again`,
          );
          await this.configure();
        }
        this.checkedAtMs = this.ctx.clock.now();
        this.written = undefined; // rewrite the block too, in case a glitch corrupted an LEDn register
      }
      const block = this.block();
      if (block && !(this.written && block.equals(this.written))) {
        this.written = undefined;
        // A raw write, not an SMBus block write: 16 channels are 64 bytes, over SMBus's 32-byte limit.
        await this.bus.i2cWrite(this.address, block.length, block);
        this.written = block;
      }
      this.healthTracker.ok();
    } catch (err) {
      this.written = undefined;
      this.checkedAtMs = Number.NEGATIVE_INFINITY;
      this.failed(err);
    }
  }

  override async safe(): Promise<void> {
    for (const c of this.channels.values()) {
      if (c instanceof StagedPwmOutput) c.set(0);
      else c.set(false);
    }
    try {
      // One byte sets full-off on every channel, including ones this driver does not use.
      await this.bus.writeByte(this.address, ALL_LED_OFF_H, FULL_BIT);
      this.healthTracker.ok();
    } catch (err) {
      this.failed(err);
    }
    this.written = undefined;
  }
}

export const pca9685: DriverDefinition<Pca9685Config> = {
  type: 'pca9685',
  summary: 'NXP PCA9685 16-channel 12-bit I2C PWM: pwm-out or digital-out 0..15 (LED0..LED15)',
  parseConfig,
  checkChannel: (kind, channel) => checkChannel(kind, channel),
  channelKey: (_kind, channel) => `pin ${channelIndex(channel, CHANNELS - 1) ?? channel.trim()}`,
  create: (id, config, ctx) => new Pca9685(id, config, ctx),
};
