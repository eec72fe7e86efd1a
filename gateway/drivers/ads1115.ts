/**
 * TI ADS1115 16-bit ADC reading NXP MPX5050/MPX5100 analog pressure sensors, one per AIN pin.
 *
 * Each used channel is converted single-shot: write the config word (starts a conversion), wait
 * 1/DR on the clock, check the OS bit, read the conversion register. All registers are big-endian
 * on the wire, so the driver uses I2C block transfers; SMBus readWord would swap the bytes.
 */
import { ConfigError } from '../config-error.js';
import Type from 'typebox';
import { checkSchema } from '../config-check.js';
import { CalibratedPressureInput, channelIndex } from './channels.js';
import { I2cBusField, I2cDevice, hex2, oneOf } from './i2c-bus.js';
import { type ChannelKind, type DriverContext, type DriverDefinition, type PressureInput } from './io.js';

export type MpxSensor = 'mpx5050' | 'mpx5100';

export interface Ads1115Config {
  bus: number | string;
  address: number;
  /** Full-scale range of the PGA in volts. */
  gainV: number;
  /** Conversions per second: 8, 16, 32, 64, 128, 250, 475 or 860. */
  dataRate: number;
  sensor: MpxSensor;
  /** The MPX supply; its output is ratiometric to it. */
  supplyV: number;
  /** Vadc / Vsensor of a divider in front of the ADC (1 = none), e.g. 0.667 for 2:3 into a 3.3 V ADC. */
  dividerRatio: number;
}

const REG_CONVERSION = 0x00;
const REG_CONFIG = 0x01;
const OS_BIT = 0x8000;
const MODE_SINGLE_SHOT = 0x0100;
/** COMP_QUE = 11 disables the comparator and leaves ALERT/RDY high-Z. */
const COMPARATOR_OFF = 0x0003;
const PGA_BITS_BY_FSR_V = new Map([
  [6.144, 0],
  [4.096, 1],
  [2.048, 2],
  [1.024, 3],
  [0.512, 4],
  [0.256, 5],
]);
const DR_BITS_BY_SPS = new Map([
  [8, 0],
  [16, 1],
  [32, 2],
  [64, 3],
  [128, 4],
  [250, 5],
  [475, 6],
  [860, 7],
]);

/** The internal oscillator is specified to ±10 %, so a conversion may take 1.1/DR. */
const OSCILLATOR_TOLERANCE = 1.1;
/** Power-up from single-shot power-down before the conversion starts (TI E2E quotes 20–110 µs). */
const SINGLE_SHOT_STARTUP_MS = 0.11;
/** OS-bit reads after the wait; polling faster than the conversion only adds bus load. */
const READY_POLL_LIMIT = 4;
const READY_POLL_FRACTION_OF_CONVERSION = 0.1;

/** MPX5x00 transfer function: Vout = Vs·(sensitivity·P_kPa + 0.04), so 0 kPa reads 4 % of supply. */
const MPX_SENSITIVITY_PER_KPA: Record<MpxSensor, number> = { mpx5050: 0.018, mpx5100: 0.009 };
const MPX_ZERO_FRACTION_OF_SUPPLY = 0.04;
/** Full-scale output is 94 % of supply (4.7 V at 5 V) for both parts. */
const MPX_FULL_SCALE_FRACTION_OF_SUPPLY = 0.94;
/**
 * Beyond the datasheet's offset (0.088–0.313 V) and full-scale (4.587–4.813 V) spreads at 5 V, a
 * reading can only come from a broken wire (the input floats or is pulled to GND) or a short to
 * the supply.
 */
const WIRING_FAULT_MARGIN_V = 0.15;
const MMHG_PER_KPA = 7.50062;

const Schema = Type.Object(
  {
    bus: I2cBusField,
    address: Type.Optional(Type.Integer({ minimum: 0x48, maximum: 0x4b })),
    gainV: Type.Optional(Type.Number()),
    dataRate: Type.Optional(Type.Integer()),
    sensor: Type.Union([Type.Literal('mpx5050'), Type.Literal('mpx5100')]),
    supplyV: Type.Optional(Type.Number({ minimum: 4.75, maximum: 5.25 })),
    dividerRatio: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 1 })),
  },
  { additionalProperties: false },
);

/** The highest voltage a healthy sensor can put on the ADC pin. */
function maxHealthyAdcV(c: Pick<Ads1115Config, 'supplyV' | 'dividerRatio'>): number {
  return (c.supplyV * MPX_FULL_SCALE_FRACTION_OF_SUPPLY + WIRING_FAULT_MARGIN_V) * c.dividerRatio;
}

function parseConfig(raw: Record<string, unknown>, path: string): Ads1115Config {
  const c = checkSchema(Schema, raw, path);
  const supplyV = c.supplyV ?? 5.0;
  const dividerRatio = c.dividerRatio ?? 1;
  const needV = maxHealthyAdcV({ supplyV, dividerRatio });
  const ranges = [...PGA_BITS_BY_FSR_V.keys()];
  // Default: the finest range that still shows a short to supply instead of clipping.
  const fitting = ranges.filter((r) => r >= needV);
  const gainV =
    c.gainV === undefined
      ? (fitting[fitting.length - 1] ?? 6.144)
      : oneOf(c.gainV, ranges, `${path}.gainV`, ' (full-scale volts)');
  if (gainV < needV) {
    throw new ConfigError(
      `${path}.gainV`,
      `±${gainV} V clips the sensor: a ${c.sensor} can put up to ${needV.toFixed(2)} V on the pin`,
      'use a larger gainV or a divider (dividerRatio)',
    );
  }
  const dataRate = oneOf(c.dataRate ?? 860, [...DR_BITS_BY_SPS.keys()], `${path}.dataRate`, ' samples/s');
  return { bus: c.bus, address: c.address ?? 0x48, gainV, dataRate, sensor: c.sensor, supplyV, dividerRatio };
}

function checkChannel(kind: ChannelKind, channel: string): string | undefined {
  if (kind !== 'pressure-in') return `an ads1115 has only pressure-in channels, not ${kind}`;
  if (channelIndex(channel, 3) === undefined) return 'must be 0..3 (AIN0..AIN3 against GND)';
  return undefined;
}

type Conversion = { ready: true; code: number; atMs: number } | { ready: false; detail: string };

class Ads1115 extends I2cDevice {
  private readonly inputs = new Map<number, CalibratedPressureInput>();
  /** Set when a conversion overran: the chip ignores a start while busy, so check before writing. */
  private mayBeBusy = false;
  private readonly conversionMs: number;

  constructor(
    id: string,
    private readonly config: Ads1115Config,
    ctx: DriverContext,
  ) {
    super(id, 'ads1115', config.bus, config.address, ctx);
    this.conversionMs = 1000 / config.dataRate;
  }

  protected async configure(): Promise<void> {
    // Proves the chip answers; a single-shot ADC needs no setup until the first conversion.
    await this.readRegister(REG_CONFIG);
  }

  override pressureInput(channel: string): PressureInput {
    const n = channelIndex(channel, 3);
    if (n === undefined) {
      throw this.badChannel('pressure-in', channel, checkChannel('pressure-in', channel) ?? '');
    }
    let input = this.inputs.get(n);
    if (!input) {
      input = new CalibratedPressureInput(`${this.id}:${n}`);
      this.inputs.set(n, input);
    }
    return input;
  }

  private configWord(channel: number): number {
    const mux = 0b100 + channel; // AINx against GND
    const pga = PGA_BITS_BY_FSR_V.get(this.config.gainV) ?? 0;
    const dr = DR_BITS_BY_SPS.get(this.config.dataRate) ?? 7;
    return OS_BIT | (mux << 12) | (pga << 9) | MODE_SINGLE_SHOT | (dr << 5) | COMPARATOR_OFF;
  }

  private async readRegister(reg: number): Promise<number> {
    const buf = Buffer.alloc(2);
    await this.bus.readI2cBlock(this.address, reg, 2, buf);
    return buf.readUInt16BE(0);
  }

  /** Polls OS until the conversion is done, at most READY_POLL_LIMIT reads. */
  private async waitReady(expected: number | undefined): Promise<boolean> {
    const pollMs = this.conversionMs * READY_POLL_FRACTION_OF_CONVERSION;
    for (let poll = 1; ; poll++) {
      const status = await this.readRegister(REG_CONFIG);
      if (expected !== undefined && (status & ~OS_BIT) !== (expected & ~OS_BIT)) {
        throw new Error(
          `config reads back 0x${status.toString(16)}, not 0x${expected.toString(16)}: chip reset?`,
        );
      }
      if (status & OS_BIT) return true;
      if (poll >= READY_POLL_LIMIT) return false;
      await this.ctx.clock.sleep(pollMs);
    }
  }

  private async convert(channel: number): Promise<Conversion> {
    const { clock } = this.ctx;
    if (this.mayBeBusy && !(await this.waitReady(undefined))) {
      return {
        ready: false,
        detail: `ADS1115 at ${hex2(this.address)} still busy with an earlier conversion`,
      };
    }
    const config = this.configWord(channel);
    const word = Buffer.from([config >> 8, config & 0xff]);
    await this.bus.writeI2cBlock(this.address, REG_CONFIG, 2, word);
    await clock.sleep(this.conversionMs * OSCILLATOR_TOLERANCE + SINGLE_SHOT_STARTUP_MS);
    this.mayBeBusy = !(await this.waitReady(config));
    if (this.mayBeBusy) {
      return { ready: false, detail: `ADS1115 conversion not ready after ${READY_POLL_LIMIT} polls` };
    }
    const atMs = clock.now();
    const raw = await this.readRegister(REG_CONVERSION);
    const code = raw >= 0x8000 ? raw - 0x10000 : raw; // two's complement int16
    return { ready: true, code, atMs };
  }

  /** ADC code → gauge mmHg through the divider and the MPX transfer function, or a wiring fault. */
  private toMmHg(channel: number, code: number): { mmHg: number } | { fault: string } {
    const { gainV, dividerRatio, supplyV, sensor } = this.config;
    const sensorV = (code * gainV) / 32768 / dividerRatio;
    const zeroV = supplyV * MPX_ZERO_FRACTION_OF_SUPPLY;
    const fullV = supplyV * MPX_FULL_SCALE_FRACTION_OF_SUPPLY;
    const shown = `AIN${channel} reads ${sensorV.toFixed(3)} V at the sensor`;
    if (sensorV < zeroV - WIRING_FAULT_MARGIN_V) {
      return {
        fault: `${shown}, below its 0 kPa output of ${zeroV.toFixed(2)} V: open wire or no sensor supply`,
      };
    }
    if (sensorV > fullV + WIRING_FAULT_MARGIN_V) {
      return { fault: `${shown}, above its full-scale ${fullV.toFixed(2)} V: short to supply or over range` };
    }
    const kPa = (sensorV / supplyV - MPX_ZERO_FRACTION_OF_SUPPLY) / MPX_SENSITIVITY_PER_KPA[sensor];
    return { mmHg: kPa * MMHG_PER_KPA };
  }

  override async sample(): Promise<void> {
    let linkError: string | undefined;
    let skip: string | undefined;
    let answered = false;
    for (const [channel, input] of [...this.inputs].sort((a, b) => a[0] - b[0])) {
      if (linkError !== undefined) {
        input.failed(linkError, this.ctx.clock.now());
        continue;
      }
      if (skip !== undefined) {
        input.stale(skip);
        continue;
      }
      try {
        const r = await this.convert(channel);
        answered = true;
        if (!r.ready) {
          // The late conversion still runs on this channel's input. The chip would ignore the next
          // channel's start and hand this result over as the next channel's: stop the scan here.
          skip = r.detail;
          input.stale(r.detail);
          continue;
        }
        const v = this.toMmHg(channel, r.code);
        if ('fault' in v) input.failed(v.fault, r.atMs);
        else input.measured(v.mmHg, r.atMs);
      } catch (err) {
        linkError = this.failed(err, answered ? 'degraded' : 'offline');
        input.failed(linkError, this.ctx.clock.now());
      }
    }
    if (linkError === undefined && answered) this.healthTracker.ok();
  }
}

export const ads1115: DriverDefinition<Ads1115Config> = {
  type: 'ads1115',
  summary: 'TI ADS1115 16-bit I2C ADC with MPX5050/MPX5100 pressure sensors on AIN0..AIN3 (pressure-in 0..3)',
  parseConfig,
  checkChannel: (kind, channel) => checkChannel(kind, channel),
  channelKey: (_kind, channel) => String(channelIndex(channel, 3) ?? channel.trim()),
  create: (id, config, ctx) => new Ads1115(id, config, ctx),
};
