/**
 * The register-level chip models a simulated I2C bus can carry, by the driver type a board profile
 * names. Adding a simulated chip means one entry here (and its model under i2c/): from-board.ts
 * looks the type up and has no list of its own.
 */
import type { Clock } from '../clock.js';
import { Ads1115Model } from './i2c/ads1115-model.js';
import { AbpModel, type AbpUnit } from './i2c/abp-model.js';
import type { I2cDeviceModel } from './i2c/fake-bus.js';
import { Mcp23017Model } from './i2c/mcp23017-model.js';
import { MprlsModel } from './i2c/mprls-model.js';
import { Pca9685Model } from './i2c/pca9685-model.js';
import { P_ATM_MMHG } from './physics.js';

const MMHG_PER_KPA = 7.50062;

/** MPX50x0 transfer functions (datasheet): Vout = Vs·(slope·P_kPa + 0.04). */
const MPX_SLOPE_PER_KPA: Readonly<Record<string, number>> = { mpx5050: 0.018, mpx5100: 0.009 };

/** A zone sensor's reading as the physics gives it. */
export interface SensedPressure {
  mmHg: number;
  connected: boolean;
}

/** What a chip model is connected to: the physics through the board's channel references. */
export interface ChipWiring {
  /** The device's config section as the board profile gives it. */
  config: Record<string, unknown>;
  clock: Clock;
  /** The gauge pressure on one of the device's input channels at `atMs` (atmosphere when unused). */
  sense(channel: string | number, atMs: number): SensedPressure;
  /** Drives whatever one of the device's output channels is wired to (nothing when unused). */
  drive(channel: string | number, energised: boolean, duty: number): void;
}

export interface ChipModelFactory {
  /** The chip's address when the device config names none (the datasheet default). */
  defaultAddress: number;
  create(wiring: ChipWiring): I2cDeviceModel;
}

function sensedOrNaN(r: SensedPressure): number {
  return r.connected ? r.mmHg : Number.NaN;
}

const ads1115: ChipModelFactory = {
  defaultAddress: 0x48,
  create: ({ config, clock, sense }) => {
    const slope = MPX_SLOPE_PER_KPA[String(config.sensor)] ?? 0.018;
    const vs = Number(config.supplyV ?? 5);
    const divider = Number(config.dividerRatio ?? 1);
    return new Ads1115Model({
      clock,
      input: (ch, atMs) => {
        const r = sense(ch, atMs);
        // An unplugged sensor leaves the input pulled to ground through the divider.
        if (!r.connected) return 0;
        return vs * (slope * (r.mmHg / MMHG_PER_KPA) + 0.04) * divider;
      },
    });
  },
};

const mprls: ChipModelFactory = {
  defaultAddress: 0x18,
  create: ({ clock, sense }) =>
    new MprlsModel({ clock, pressure: (t) => sensedOrNaN(sense(0, t)) + P_ATM_MMHG }),
};

const abp: ChipModelFactory = {
  defaultAddress: 0x28,
  create: ({ config, clock, sense }) =>
    new AbpModel({
      clock,
      unit: (config.unit as AbpUnit | undefined) ?? 'psi',
      pMin: Number(config.pMin ?? 0),
      pMax: Number(config.pMax),
      pressure: (t) => sensedOrNaN(sense(0, t)),
    }),
};

const mcp23017: ChipModelFactory = {
  defaultAddress: 0x20,
  create: ({ config, drive }) => {
    const model = new Mcp23017Model();
    const activeLow = new Set((config.activeLow as number[] | undefined) ?? []);
    model.onOutputs((pins) => {
      pins.forEach((level, pin) => {
        if (level === 'hi-z') return;
        drive(pin, (level === 'high') !== activeLow.has(pin), 0);
      });
    });
    return model;
  },
};

const pca9685: ChipModelFactory = {
  defaultAddress: 0x40,
  create: ({ drive }) => {
    const model = new Pca9685Model();
    model.onChannel((ch, duty) => drive(ch, duty >= 0.5, duty));
    return model;
  },
};

export const CHIP_MODELS: ReadonlyMap<string, ChipModelFactory> = new Map([
  ['ads1115', ads1115],
  ['mprls', mprls],
  ['abp', abp],
  ['mcp23017', mcp23017],
  ['pca9685', pca9685],
]);
