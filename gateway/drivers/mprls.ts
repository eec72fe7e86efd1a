/**
 * Honeywell MPRLS digital pressure sensor (e.g. the MPRLS0025PA on Adafruit's breakout), pressure-in
 * channel 0, optionally behind a TCA9548A because every MPRLS answers at the same address.
 *
 * The part measures ABSOLUTE pressure, so the gauge pressure a chamber needs is absolute minus
 * ambient. Ambient is the configured `ambientMmHg` (standard atmosphere if not given); what is left
 * of the difference to the real barometric pressure (weather, altitude: 630 mmHg at 1500 m) is
 * removed by the zero calibration at ambient, through setZeroOffset.
 */
import { ConfigError } from '../config-error.js';
import Type from 'typebox';
import { checkSchema } from '../config-check.js';
import { I2cBusField, hex2 } from './i2c-bus.js';
import { type DriverContext, type DriverDefinition } from './io.js';
import { checkSingleSensorChannel, SingleSensorDevice } from './single-sensor.js';
import { MuxConfigSchema, type MuxConfig } from './tca9548a.js';

export interface MprlsConfig {
  bus: number | string;
  address: number;
  pMinPsi: number;
  pMaxPsi: number;
  ambientMmHg: number;
  mux?: MuxConfig;
}

const MEASURE_COMMAND = [0xaa, 0x00, 0x00];
const STATUS_POWERED = 0x40;
const STATUS_BUSY = 0x20;
const STATUS_INTEGRITY = 0x04;
const STATUS_SATURATION = 0x01;
/** A measurement takes about 5 ms; reading earlier only finds the busy bit. */
const CONVERSION_MS = 5;
/** 5 ms + 10 × 1 ms stays inside the 20 ms timeout Adafruit's driver uses for this part. */
const BUSY_POLL_INTERVAL_MS = 1;
const BUSY_POLL_LIMIT = 10;
/** Output counts span 10 %..90 % of 2^24 over Pmin..Pmax. */
const COUNTS_AT_PMIN = 0x19999a;
const COUNTS_SPAN = 0xcccccc;
const MMHG_PER_PSI = 51.71493;
const STANDARD_ATMOSPHERE_MMHG = 760;

const Schema = Type.Object(
  {
    bus: I2cBusField,
    address: Type.Optional(Type.Integer({ minimum: 0x08, maximum: 0x77 })),
    pMinPsi: Type.Optional(Type.Number({ minimum: 0 })),
    pMaxPsi: Type.Optional(Type.Number({ exclusiveMinimum: 0 })),
    ambientMmHg: Type.Optional(Type.Number({ minimum: 400, maximum: 820 })),
    mux: Type.Optional(MuxConfigSchema),
  },
  { additionalProperties: false },
);

function parseConfig(raw: Record<string, unknown>, path: string): MprlsConfig {
  const c = checkSchema(Schema, raw, path);
  const pMinPsi = c.pMinPsi ?? 0;
  const pMaxPsi = c.pMaxPsi ?? 25;
  if (pMaxPsi <= pMinPsi) throw new ConfigError(`${path}.pMaxPsi`, `must be above pMinPsi (${pMinPsi})`);
  return {
    bus: c.bus,
    address: c.address ?? 0x18,
    pMinPsi,
    pMaxPsi,
    ambientMmHg: c.ambientMmHg ?? STANDARD_ATMOSPHERE_MMHG,
    ...(c.mux ? { mux: c.mux } : {}),
  };
}

/** What a status byte says is wrong, or undefined. Busy is handled by the caller. */
function statusProblem(status: number): string | undefined {
  const s = `MPRLS status 0x${status.toString(16).padStart(2, '0')}`;
  if (!(status & STATUS_POWERED)) return `${s}: power bit clear (not an MPRLS, or brown-out)`;
  if (status & STATUS_INTEGRITY) return `${s}: memory integrity check failed`;
  if (status & STATUS_SATURATION) return `${s}: math saturation (pressure out of range)`;
  return undefined;
}

class Mprls extends SingleSensorDevice {
  constructor(
    id: string,
    private readonly config: MprlsConfig,
    ctx: DriverContext,
  ) {
    super(id, 'mprls', config, ctx);
  }

  protected async configure(): Promise<void> {
    await this.readStatus(); // proves the sensor (and the mux in front of it) answers
  }

  private async readStatus(): Promise<number> {
    const buf = Buffer.alloc(1);
    await this.io(() => this.bus.i2cRead(this.address, 1, buf));
    return buf.readUInt8(0);
  }

  override async sample(): Promise<void> {
    const { clock } = this.ctx;
    try {
      await this.io(() => this.bus.i2cWrite(this.address, 3, Buffer.from(MEASURE_COMMAND)));
      await clock.sleep(CONVERSION_MS);
      let status = await this.readStatus();
      for (let poll = 0; status & STATUS_BUSY && poll < BUSY_POLL_LIMIT; poll++) {
        await clock.sleep(BUSY_POLL_INTERVAL_MS);
        status = await this.readStatus();
      }
      const atMs = clock.now();
      const frame = Buffer.alloc(4);
      if (!(status & STATUS_BUSY)) {
        await this.io(() => this.bus.i2cRead(this.address, 4, frame));
        status = frame.readUInt8(0);
      }
      this.healthTracker.ok();
      if (status & STATUS_BUSY) {
        const waited = CONVERSION_MS + BUSY_POLL_LIMIT * BUSY_POLL_INTERVAL_MS;
        this.input.stale(`MPRLS at ${hex2(this.address)} still busy after ${waited} ms`);
        return;
      }
      const problem = statusProblem(status);
      if (problem !== undefined) {
        this.input.failed(problem, atMs);
        return;
      }
      const counts = frame.readUIntBE(1, 3);
      const { pMinPsi, pMaxPsi, ambientMmHg } = this.config;
      const psi = ((counts - COUNTS_AT_PMIN) * (pMaxPsi - pMinPsi)) / COUNTS_SPAN + pMinPsi;
      this.input.measured(psi * MMHG_PER_PSI - ambientMmHg, atMs);
    } catch (err) {
      this.input.failed(this.failed(err), clock.now());
    }
  }
}

export const mprls: DriverDefinition<MprlsConfig> = {
  type: 'mprls',
  summary: 'Honeywell MPRLS absolute I2C pressure sensor (pressure-in 0), optionally behind a TCA9548A mux',
  parseConfig,
  checkChannel: (kind, channel) => checkSingleSensorChannel('mprls', kind, channel),
  create: (id, config, ctx) => new Mprls(id, config, ctx),
};
