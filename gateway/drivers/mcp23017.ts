/**
 * Microchip MCP23017 16-bit I/O expander driving valve and pump outputs (channels 0..7 = GPA0..7,
 * 8..15 = GPB0..7), with optional pins used as debounced inputs (e.g. a door or e-stop contact).
 *
 * Registers are used in the power-on IOCON.BANK=0 map with sequential addressing, so OLATA and
 * OLATB are one 2-byte write: all 16 outputs change in one transaction. Every (re)configuration
 * first reads IOCON and puts BANK=0 / SEQOP=0 back if something changed them (another program on
 * the bus, a glitch): with BANK=1 every write of this driver would land in the wrong register.
 *
 * GPA7 and GPB7 are output-only on current silicon (Microchip DS20001952 rev D: as inputs they
 * can corrupt SDA), so a board profile cannot make them inputs.
 */
import { ConfigError } from '../config-error.js';
import Type from 'typebox';
import { checkSchema } from '../config-check.js';
import { DebouncedInput, StagedDigitalOutput, channelIndex } from './channels.js';
import { I2cBusField, I2cDevice } from './i2c-bus.js';
import {
  type ChannelKind,
  type DigitalInput,
  type DigitalOutput,
  type DriverContext,
  type DriverDefinition,
} from './io.js';
import { LIMITS } from '../limits.js';

export interface Mcp23017Config {
  bus: number | string;
  address: number;
  /**
   * Pins whose "on" level is low: outputs into an inverting relay board, or input contacts that
   * close to GND against the pull-up (so "closed" reads true).
   */
  activeLow: number[];
  /** Pins used as digital inputs, with the internal 100 kΩ pull-up on (contacts switch to GND). */
  inputs: number[];
  debounceMs: number;
}

const IODIRA = 0x00;
/** IOCON's address in the BANK=1 map; in the BANK=0 map this driver uses it is GPINTENB. */
const IOCON_IN_BANK1 = 0x05;
const IOCON = 0x0a;
const IOCON_BANK = 0x80;
const IOCON_SEQOP = 0x20;
const GPPUA = 0x0c;
const GPIOA = 0x12;
const OLATA = 0x14;
const PIN_COUNT = 16;
/** GPA7 and GPB7: output-only on current silicon. */
const OUTPUT_ONLY_PINS: Record<number, string> = { 7: 'GPA7', 15: 'GPB7' };
/**
 * A chip that browns out or is hot-plugged comes back from reset with every pin an input and the
 * latches cleared, and says nothing. Writing only on change would leave its valves dead until the
 * next change, so the whole configuration is written again at this period.
 */
const REFRESH_MS = 1000;

const PinList = Type.Array(Type.Integer({ minimum: 0, maximum: PIN_COUNT - 1 }), { uniqueItems: true });
const Schema = Type.Object(
  {
    bus: I2cBusField,
    address: Type.Optional(Type.Integer({ minimum: 0x20, maximum: 0x27 })),
    activeLow: Type.Optional(PinList),
    inputs: Type.Optional(PinList),
    debounceMs: Type.Optional(
      Type.Number({ minimum: LIMITS.debounceMs.min, maximum: LIMITS.debounceMs.max }),
    ),
  },
  { additionalProperties: false },
);

function parseConfig(raw: Record<string, unknown>, path: string): Mcp23017Config {
  const c = checkSchema(Schema, raw, path);
  for (const [i, pin] of (c.inputs ?? []).entries()) {
    const name = OUTPUT_ONLY_PINS[pin];
    if (name !== undefined) {
      throw new ConfigError(
        `${path}.inputs[${i}]`,
        `pin ${pin} (${name}) is output-only on current MCP23017 silicon (Microchip DS20001952 rev D): as an input it can corrupt the I2C bus's SDA line; wire the contact to another pin (0..6 or 8..14)`,
      );
    }
  }
  return {
    bus: c.bus,
    address: c.address ?? 0x20,
    activeLow: c.activeLow ?? [],
    inputs: c.inputs ?? [],
    debounceMs: c.debounceMs ?? LIMITS.debounceMs.default,
  };
}

function checkChannel(kind: ChannelKind, channel: string, config: Mcp23017Config): string | undefined {
  const pin = channelIndex(channel, PIN_COUNT - 1);
  if (kind !== 'digital-out' && kind !== 'digital-in') return `an mcp23017 has no ${kind} channels`;
  if (pin === undefined) return 'must be 0..15 (0..7 = GPA0..7, 8..15 = GPB0..7)';
  const isInput = config.inputs.includes(pin);
  if (kind === 'digital-out' && isInput) return `pin ${pin} is listed in "inputs"`;
  if (kind === 'digital-in' && !isInput) return `pin ${pin} is not listed in "inputs"`;
  return undefined;
}

function mask(pins: readonly number[]): number {
  return pins.reduce((m, p) => m | (1 << p), 0);
}

function pair(word: number): Buffer {
  return Buffer.from([word & 0xff, (word >> 8) & 0xff]); // port A, then port B
}

class Mcp23017 extends I2cDevice {
  private readonly outputs = new Map<number, StagedDigitalOutput>();
  private readonly inputs = new Map<number, DebouncedInput>();
  private readonly activeLowMask: number;
  private readonly inputMask: number;
  /** Latch value last written, and when the configuration was last written in full. */
  private written: number | undefined;
  private configuredAtMs = Number.NEGATIVE_INFINITY;

  constructor(
    id: string,
    private readonly config: Mcp23017Config,
    ctx: DriverContext,
  ) {
    super(id, 'mcp23017', config.bus, config.address, ctx);
    this.activeLowMask = mask(config.activeLow);
    this.inputMask = mask(config.inputs);
    for (let pin = 0; pin < PIN_COUNT; pin++) {
      const ref = `${id}:${pin}`;
      if (this.inputMask & (1 << pin)) this.inputs.set(pin, new DebouncedInput(ref, config.debounceMs));
      else this.outputs.set(pin, new StagedDigitalOutput(ref));
    }
  }

  /** OLAT for the staged values: "on" is high unless the pin is active-low; unused pins stay off. */
  private latch(): number {
    let on = 0;
    for (const [pin, out] of this.outputs) if (out.value) on |= 1 << pin;
    return (on ^ this.activeLowMask) & 0xffff;
  }

  /**
   * Latches first, then directions: a pin turning into an output drives the staged level (all off
   * at open) from the first instant, not the reset latch value 0, which is "on" for an active-low
   * pin. Called by open() and by the periodic refresh, so it is the one place that sets up the chip.
   */
  protected async configure(): Promise<void> {
    await this.repairIocon();
    const olat = this.latch();
    await this.bus.writeI2cBlock(this.address, OLATA, 2, pair(olat));
    this.written = olat;
    await this.bus.writeI2cBlock(this.address, IODIRA, 2, pair(this.inputMask));
    if (this.inputMask) await this.bus.writeI2cBlock(this.address, GPPUA, 2, pair(this.inputMask));
    this.configuredAtMs = this.ctx.clock.now();
  }

  /**
   * BANK=0 and SEQOP=0, as this driver's register addresses assume. With BANK=1 the chip answers
   * at IOCON_IN_BANK1 with its BANK bit set; there, in the BANK=0 map, is GPINTENB, which this
   * driver never enables, so writing it back is harmless when the chip was in BANK=0 after all.
   */
  private async repairIocon(): Promise<void> {
    const bank1 = await this.bus.readByte(this.address, IOCON_IN_BANK1);
    if (bank1 & IOCON_BANK) {
      await this.bus.writeByte(this.address, IOCON_IN_BANK1, bank1 & ~(IOCON_BANK | IOCON_SEQOP));
      this.ctx.log.warn(
        `${this.id}: IOCON was 0x${bank1.toString(16).padStart(2, '0')} (BANK=1: every register at another address); set back to BANK=0, SEQOP=0`,
      );
    }
    const iocon = await this.bus.readByte(this.address, IOCON);
    if (iocon & IOCON_SEQOP) {
      await this.bus.writeByte(this.address, IOCON, iocon & ~(IOCON_BANK | IOCON_SEQOP));
      this.ctx.log.warn(
        `${this.id}: IOCON was 0x${iocon.toString(16).padStart(2, '0')} (SEQOP=1: no sequential addressing); set back to SEQOP=0`,
      );
    }
  }

  override digitalOutput(channel: string): DigitalOutput {
    const out = this.outputs.get(channelIndex(channel, PIN_COUNT - 1) ?? -1);
    if (out) return out;
    throw this.badChannel('digital-out', channel, checkChannel('digital-out', channel, this.config) ?? '');
  }

  override digitalInput(channel: string): DigitalInput {
    const input = this.inputs.get(channelIndex(channel, PIN_COUNT - 1) ?? -1);
    if (input) return input;
    throw this.badChannel('digital-in', channel, checkChannel('digital-in', channel, this.config) ?? '');
  }

  override async sample(): Promise<void> {
    if (this.inputs.size === 0) return;
    try {
      const buf = Buffer.alloc(2);
      await this.bus.readI2cBlock(this.address, GPIOA, 2, buf);
      const levels = buf.readUInt16LE(0) ^ this.activeLowMask;
      const now = this.ctx.clock.now();
      for (const [pin, input] of this.inputs) input.update((levels & (1 << pin)) !== 0, now);
      this.healthTracker.ok();
    } catch (err) {
      // The debounced inputs keep their last level; health tells the loop they are not current.
      this.failed(err);
    }
  }

  override async flush(): Promise<void> {
    try {
      if (this.ctx.clock.now() - this.configuredAtMs >= REFRESH_MS) {
        await this.configure();
      } else {
        const olat = this.latch();
        if (olat === this.written) return;
        this.written = undefined; // unknown until the write succeeds
        await this.bus.writeI2cBlock(this.address, OLATA, 2, pair(olat));
        this.written = olat;
      }
      this.healthTracker.ok();
    } catch (err) {
      this.written = undefined;
      this.configuredAtMs = Number.NEGATIVE_INFINITY; // the chip may have reset: configure in full
      this.failed(err);
    }
  }

  override async safe(): Promise<void> {
    for (const out of this.outputs.values()) out.set(false);
    this.written = undefined;
    await this.flush();
  }
}

export const mcp23017: DriverDefinition<Mcp23017Config> = {
  type: 'mcp23017',
  summary:
    'Microchip MCP23017 16-bit I2C I/O expander: digital-out 0..15 (GPA0..7, GPB0..7), digital-in on "inputs"',
  parseConfig,
  checkChannel,
  channelKey: (_kind, channel) => `pin ${channelIndex(channel, PIN_COUNT - 1) ?? channel.trim()}`,
  create: (id, config, ctx) => new Mcp23017(id, config, ctx),
};
