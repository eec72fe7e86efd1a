/**
 * TI TCA9548A 1-to-8 I2C switch, used to put several same-address sensors (the MPRLS is fixed at
 * 0x18) on one bus. Its only register is the channel-enable mask, written as a single byte.
 *
 * Every device behind a mux shares one selector per (bus, mux address), so a device knows what the
 * switch is set to even when another device moved it, and transactions of different devices
 * behind the same mux do not interleave (a sensor read must not be routed to its neighbour).
 */
import Type from 'typebox';
import { atAddress } from './i2c-bus.js';
import type { I2cBusLike, I2cOpener } from './io.js';

export interface MuxConfig {
  address: number;
  channel: number;
}

/** The A2..A0 pins give the switch an address in 0x70..0x77. */
export const MuxConfigSchema = Type.Object(
  {
    address: Type.Integer({ minimum: 0x70, maximum: 0x77 }),
    channel: Type.Integer({ minimum: 0, maximum: 7 }),
  },
  { additionalProperties: false },
);

export class Tca9548aSelector {
  /** The channel the switch is known to have enabled; undefined after any doubt. */
  private selected: number | undefined;
  private tail: Promise<unknown> = Promise.resolve();

  constructor(readonly address: number) {}

  /** Forget the cached selection, e.g. after the switch may have been reset. */
  invalidate(): void {
    this.selected = undefined;
  }

  /**
   * Runs `io` with `channel` (alone) enabled, selecting it only when it is not already, and with
   * no other user of this switch in between. Keep `io` short: it holds the switch.
   */
  withChannel<T>(bus: I2cBusLike, channel: number, io: () => Promise<T>): Promise<T> {
    const run = async (): Promise<T> => {
      try {
        if (this.selected !== channel) {
          this.selected = undefined;
          await bus.sendByte(this.address, 1 << channel).catch((err: unknown) => {
            throw atAddress(err, this.address);
          });
          this.selected = channel;
        }
        return await io();
      } catch (err) {
        // A NACK may mean the switch reset or another channel is selected: select again next time.
        this.selected = undefined;
        throw err;
      }
    };
    const result = this.tail.then(run, run);
    this.tail = result.catch(() => undefined);
    return result;
  }
}

/**
 * Selectors are shared per opener (one opener = one set of physical or simulated buses), then per
 * bus and mux address. Keying on the opener keeps separate simulations and tests apart.
 */
const selectors = new WeakMap<I2cOpener, Map<string, Tca9548aSelector>>();

export function muxSelector(opener: I2cOpener, bus: number | string, address: number): Tca9548aSelector {
  let perOpener = selectors.get(opener);
  if (!perOpener) {
    perOpener = new Map();
    selectors.set(opener, perOpener);
  }
  const key = `${String(bus)}|${address}`;
  let s = perOpener.get(key);
  if (!s) {
    s = new Tca9548aSelector(address);
    perOpener.set(key, s);
  }
  return s;
}

/** Runs I/O directly, or through the mux channel when the device sits behind one. */
export type MuxedIo = <T>(io: () => Promise<T>) => Promise<T>;

export function muxedIo(
  opener: I2cOpener,
  bus: I2cBusLike,
  busId: number | string,
  mux?: MuxConfig,
): MuxedIo {
  if (!mux) return (io) => io();
  const selector = muxSelector(opener, busId, mux.address);
  return (io) => selector.withChannel(bus, mux.channel, io);
}
