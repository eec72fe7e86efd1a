/**
 * Honeywell ABP (Basic Amplified) I2C gauge pressure sensor, pressure-in channel 0, optionally
 * behind a TCA9548A. The part measures on its own; one 2-byte read returns status + 14-bit counts.
 */
import { ConfigError } from '../config-error.js';
import Type from 'typebox';
import { checkSchema } from '../config-check.js';
import { I2cBusField, hex2 } from './i2c-bus.js';
import { type DriverContext, type DriverDefinition } from './io.js';
import { checkSingleSensorChannel, SingleSensorDevice } from './single-sensor.js';
import { MuxConfigSchema, type MuxConfig } from './tca9548a.js';

export type AbpUnit = 'psi' | 'mbar' | 'mmHg';

export interface AbpConfig {
  bus: number | string;
  address: number;
  /** Calibrated range in `unit`, from the part number (e.g. ABPDANN005PG2A3: 0..5 psi gauge). */
  pMin: number;
  pMax: number;
  unit: AbpUnit;
  mux?: MuxConfig;
}

const MMHG_PER_UNIT: Readonly<Record<AbpUnit, number>> = { psi: 51.71493, mbar: 0.750062, mmHg: 1 };
/** Counts span 10 %..90 % of 2^14 over Pmin..Pmax. */
const COUNTS_AT_PMIN = 1638;
const COUNTS_AT_PMAX = 14745;
const STATUS_TEXT = [
  'ok',
  'in command mode (it should never be: power-cycle it)',
  'stale data',
  'diagnostic fault',
];

const Schema = Type.Object(
  {
    bus: I2cBusField,
    // Ordering options put the part at 0x28, 0x38, … 0x78.
    address: Type.Optional(Type.Integer({ minimum: 0x08, maximum: 0x7f })),
    pMin: Type.Optional(Type.Number()),
    pMax: Type.Number(),
    unit: Type.Union([Type.Literal('psi'), Type.Literal('mbar'), Type.Literal('mmHg')]),
    mux: Type.Optional(MuxConfigSchema),
  },
  { additionalProperties: false },
);

function parseConfig(raw: Record<string, unknown>, path: string): AbpConfig {
  const c = checkSchema(Schema, raw, path);
  const pMin = c.pMin ?? 0;
  if (c.pMax <= pMin) throw new ConfigError(`${path}.pMax`, `must be above pMin (${pMin})`);
  return {
    bus: c.bus,
    address: c.address ?? 0x28,
    pMin,
    pMax: c.pMax,
    unit: c.unit,
    ...(c.mux ? { mux: c.mux } : {}),
  };
}

class Abp extends SingleSensorDevice {
  constructor(
    id: string,
    private readonly config: AbpConfig,
    ctx: DriverContext,
  ) {
    super(id, 'abp', config, ctx);
  }

  protected async configure(): Promise<void> {
    await this.read(); // proves the sensor (and the mux in front of it) answers
  }

  private async read(): Promise<Buffer> {
    const buf = Buffer.alloc(2);
    await this.io(() => this.bus.i2cRead(this.address, 2, buf));
    return buf;
  }

  override async sample(): Promise<void> {
    try {
      const frame = await this.read();
      const atMs = this.ctx.clock.now();
      this.healthTracker.ok();
      const word = frame.readUInt16BE(0);
      const status = word >> 14;
      const detail = `ABP at ${hex2(this.address)} status: ${STATUS_TEXT[status] ?? '?'}`;
      // Stale means the part has not measured since the last read: keep the old value.
      if (status === 2) return this.input.stale(detail);
      if (status !== 0) return this.input.failed(detail, atMs);
      const { pMin, pMax, unit } = this.config;
      const p =
        (((word & 0x3fff) - COUNTS_AT_PMIN) * (pMax - pMin)) / (COUNTS_AT_PMAX - COUNTS_AT_PMIN) + pMin;
      this.input.measured(p * MMHG_PER_UNIT[unit], atMs);
    } catch (err) {
      this.input.failed(this.failed(err), this.ctx.clock.now());
    }
  }
}

export const abp: DriverDefinition<AbpConfig> = {
  type: 'abp',
  summary: 'Honeywell ABP I2C gauge pressure sensor (pressure-in 0), optionally behind a TCA9548A mux',
  parseConfig,
  checkChannel: (kind, channel) => checkSingleSensorChannel('abp', kind, channel),
  create: (id, config, ctx) => new Abp(id, config, ctx),
};
