/**
 * Model of a TI TCA9548A I2C switch: one control register (a channel-enable mask, reset 0x00) and
 * eight downstream segments. Chips on every enabled segment see the upstream bus, so two enabled
 * segments with the same address collide, as on the real part.
 */
import type { I2cDeviceModel } from './fake-bus.js';

export class Tca9548aModel implements I2cDeviceModel {
  private mask = 0;
  private readonly segments = Array.from({ length: 8 }, () => new Map<number, I2cDeviceModel>());

  /** Puts `model` at `address` on downstream channel `channel` (0..7). */
  attach(channel: number, address: number, model: I2cDeviceModel): this {
    const seg = this.segments[channel];
    if (!seg) throw new RangeError(`TCA9548A has channels 0..7, not ${channel}`);
    seg.set(address, model);
    return this;
  }

  /** The enabled-channel mask. */
  get enabled(): number {
    return this.mask;
  }

  /** Power-on reset: all channels disconnected. */
  reset(): void {
    this.mask = 0;
  }

  write(bytes: Buffer): void {
    // Only the last byte of a write counts: the part has a single register and no pointer.
    if (bytes.length > 0) this.mask = bytes[bytes.length - 1] ?? 0;
  }

  read(length: number): Buffer {
    return Buffer.alloc(length, this.mask);
  }

  route(address: number): I2cDeviceModel[] {
    const out: I2cDeviceModel[] = [];
    this.segments.forEach((seg, ch) => {
      if (!(this.mask & (1 << ch))) return;
      const d = seg.get(address);
      if (d) out.push(d);
      // A switch behind a switch passes its own enabled segments on.
      for (const inner of seg.values()) out.push(...(inner.route?.(address) ?? []));
    });
    return out;
  }
}
