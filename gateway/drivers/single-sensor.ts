/**
 * The part shared by I2C pressure sensors that are one device with one channel and may sit behind
 * a TCA9548A multiplexer (Honeywell MPRLS and ABP): the channel check, the calibrated input, and
 * I/O routed through the mux.
 */
import { CalibratedPressureInput } from './channels.js';
import { I2cDevice } from './i2c-bus.js';
import type { ChannelKind, DriverContext, PressureInput } from './io.js';
import { muxedIo, type MuxConfig, type MuxedIo } from './tca9548a.js';

export function checkSingleSensorChannel(
  type: string,
  kind: ChannelKind,
  channel: string,
): string | undefined {
  if (kind !== 'pressure-in') return `an ${type} has only pressure-in channel 0, not ${kind}`;
  return channel.trim() === '0' ? undefined : 'must be 0 (one sensor per device)';
}

export abstract class SingleSensorDevice extends I2cDevice {
  protected readonly input: CalibratedPressureInput;
  /** Runs one transaction with the mux channel selected first (or directly, without a mux). */
  protected readonly io: MuxedIo;

  constructor(
    id: string,
    type: string,
    config: { bus: number | string; address: number; mux?: MuxConfig },
    ctx: DriverContext,
  ) {
    super(id, type, config.bus, config.address, ctx);
    this.input = new CalibratedPressureInput(`${id}:0`);
    this.io = muxedIo(ctx.openI2c, this.bus, config.bus, config.mux);
  }

  override pressureInput(channel: string): PressureInput {
    const problem = checkSingleSensorChannel(this.type, 'pressure-in', channel);
    if (problem !== undefined) throw this.badChannel('pressure-in', channel, problem);
    return this.input;
  }
}
