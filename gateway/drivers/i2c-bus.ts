/**
 * The I2C layer every I2C chip driver stands on: the real bus opener (the native `i2c-bus` package
 * is optional and loaded only when a hardware profile asks for it), the reopen-after-address-error
 * rule, and a small base class with the parts that are the same for every I2C chip.
 */
import { ConfigError } from '../config-error.js';
import type * as I2cBusModule from 'i2c-bus';
import Type from 'typebox';
import { HealthTracker, noSuchKind } from './channels.js';
import {
  type ChannelKind,
  type DeviceHealth,
  type DigitalInput,
  type DigitalOutput,
  type DriverContext,
  type I2cBusLike,
  type I2cOpener,
  type IoDevice,
  type PressureInput,
  type PwmOutput,
} from './io.js';

/** `1`, `"i2c-1"` and `"/dev/i2c-1"` all mean /dev/i2c-1; any other string names a simulated bus. */
function hardwareBusNumber(bus: number | string): number | undefined {
  if (typeof bus === 'number') return bus;
  const m = /^(?:\/dev\/)?i2c-(\d+)$/.exec(bus.trim());
  return m ? Number(m[1]) : undefined;
}

export const openRealI2c: I2cOpener = async (bus) => {
  const n = hardwareBusNumber(bus);
  if (n === undefined) {
    throw new Error(`I2C bus "${bus}" is not a hardware bus; use a bus number (1 for /dev/i2c-1)`);
  }
  let i2c: typeof I2cBusModule;
  try {
    i2c = await import('i2c-bus');
  } catch (err) {
    throw new Error(
      'this board profile uses I2C, which needs the optional i2c-bus package: install build-essential and ' +
        `python3, then run \`npm rebuild i2c-bus\` (${err instanceof Error ? err.message : String(err)})`,
      { cause: err },
    );
  }
  // openPromisified resolves even when /dev/i2c-N is missing (the file is opened per address on the
  // first transfer), so a wrong bus number shows up as ENOENT on the driver's first transaction.
  return await i2c.openPromisified(n);
};

/** The errno codes Linux I2C adapters return when a chip does not answer or the bus is stuck. */
const ADDRESS_ERROR_CODES = new Set(['EREMOTEIO', 'ENXIO', 'EIO', 'ETIMEDOUT', 'EBUSY']);

function errorCode(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null || !('code' in err)) return undefined;
  return typeof err.code === 'string' ? err.code : undefined;
}

/** True for a NACK, a timeout or an address already claimed by a kernel driver. */
export function isAddressError(err: unknown): boolean {
  const code = errorCode(err);
  return code !== undefined && ADDRESS_ERROR_CODES.has(code);
}

/** "i2c-1" for a hardware bus, `bus "left"` for a simulated one: how support staff name a bus. */
export function busLabel(bus: number | string): string {
  const n = hardwareBusNumber(bus);
  return n === undefined ? `bus "${bus}"` : `i2c-${n}`;
}

export function hex2(address: number): string {
  return `0x${address.toString(16).padStart(2, '0')}`;
}

/** Marks an error as coming from a different chip than the driver's own, e.g. the mux in front of it. */
export function atAddress(err: unknown, address: number): unknown {
  if (typeof err === 'object' && err !== null) Object.assign(err, { i2cAddress: address });
  return err;
}

/** "no answer from 0x48 on i2c-1 (EREMOTEIO)" or "EBADF: bus is closed at 0x48 on i2c-1". */
export function describeI2cError(err: unknown, address: number, bus: number | string): string {
  const other = typeof err === 'object' && err !== null && 'i2cAddress' in err ? err.i2cAddress : undefined;
  const where = `${hex2(typeof other === 'number' ? other : address)} on ${busLabel(bus)}`;
  const code = errorCode(err);
  if (isAddressError(err)) return `no answer from ${where} (${code})`;
  const text = err instanceof Error ? err.message : String(err);
  return `${text} at ${where}`;
}

/**
 * An I2cBusLike that never retries on a bus object that had an address error: it closes it, and
 * the next transaction opens a fresh one. i2c-bus caches the per-address file descriptor before the
 * I2C_SLAVE ioctl succeeds, so after e.g. EBUSY the same object would skip the ioctl and talk
 * without the address set. Closing drops every cached descriptor.
 */
export class ReopeningBus implements I2cBusLike {
  private bus: I2cBusLike | undefined;
  private opening: Promise<I2cBusLike> | undefined;
  private closed = true;

  constructor(
    private readonly opener: I2cOpener,
    readonly busId: number | string,
  ) {}

  async open(): Promise<void> {
    this.closed = false;
    await this.current();
  }

  private current(): Promise<I2cBusLike> {
    if (this.closed) return Promise.reject(new Error(`${busLabel(this.busId)} is closed`));
    if (this.bus) return Promise.resolve(this.bus);
    this.opening ??= this.opener(this.busId).then(
      (b) => {
        this.opening = undefined;
        this.bus = b;
        return b;
      },
      (err: unknown) => {
        this.opening = undefined;
        throw err;
      },
    );
    return this.opening;
  }

  private async run<T>(op: (b: I2cBusLike) => Promise<T>): Promise<T> {
    const b = await this.current();
    try {
      return await op(b);
    } catch (err) {
      if (isAddressError(err) && this.bus === b) {
        this.bus = undefined;
        await b.close().catch(() => undefined);
      }
      throw err;
    }
  }

  readByte(a: number, c: number): Promise<number> {
    return this.run((b) => b.readByte(a, c));
  }
  writeByte(a: number, c: number, v: number): Promise<void> {
    return this.run((b) => b.writeByte(a, c, v));
  }
  readWord(a: number, c: number): Promise<number> {
    return this.run((b) => b.readWord(a, c));
  }
  writeWord(a: number, c: number, w: number): Promise<void> {
    return this.run((b) => b.writeWord(a, c, w));
  }
  readI2cBlock(a: number, c: number, n: number, buf: Buffer): Promise<{ bytesRead: number; buffer: Buffer }> {
    return this.run((b) => b.readI2cBlock(a, c, n, buf));
  }
  writeI2cBlock(
    a: number,
    c: number,
    n: number,
    buf: Buffer,
  ): Promise<{ bytesWritten: number; buffer: Buffer }> {
    return this.run((b) => b.writeI2cBlock(a, c, n, buf));
  }
  i2cRead(a: number, n: number, buf: Buffer): Promise<{ bytesRead: number; buffer: Buffer }> {
    return this.run((b) => b.i2cRead(a, n, buf));
  }
  i2cWrite(a: number, n: number, buf: Buffer): Promise<{ bytesWritten: number; buffer: Buffer }> {
    return this.run((b) => b.i2cWrite(a, n, buf));
  }
  receiveByte(a: number): Promise<number> {
    return this.run((b) => b.receiveByte(a));
  }
  sendByte(a: number, v: number): Promise<void> {
    return this.run((b) => b.sendByte(a, v));
  }

  async close(): Promise<void> {
    this.closed = true;
    const b = this.bus ?? (await this.opening?.catch(() => undefined));
    this.bus = undefined;
    await b?.close();
  }
}

/** Config fields every I2C chip has. A string names a simulated bus (or "i2c-1"). */
export const I2cBusField = Type.Union([Type.Integer({ minimum: 0 }), Type.String({ minLength: 1 })]);

/** Rejects a value outside `allowed` with a message that lists what is allowed. */
export function oneOf<T>(value: T, allowed: readonly T[], path: string, unit = ''): T {
  if (allowed.includes(value)) return value;
  throw new ConfigError(path, `must be one of ${allowed.join(', ')}${unit}`);
}

/**
 * The parts of an IoDevice that are the same for every I2C chip: the reopening bus, health,
 * open/close, and accessors that throw for channel kinds the chip does not offer.
 */
export abstract class I2cDevice implements IoDevice {
  protected readonly bus: ReopeningBus;
  protected readonly healthTracker: HealthTracker;

  constructor(
    readonly id: string,
    readonly type: string,
    protected readonly busId: number | string,
    protected readonly address: number,
    protected readonly ctx: DriverContext,
  ) {
    this.bus = new ReopeningBus(ctx.openI2c, busId);
    this.healthTracker = new HealthTracker(ctx.clock);
  }

  /** Puts the chip in its safe, configured state; called by open(). */
  protected abstract configure(): Promise<void>;

  health(): DeviceHealth {
    return this.healthTracker.get();
  }

  async open(): Promise<void> {
    try {
      await this.bus.open();
      await this.configure();
    } catch (err) {
      const text = describeI2cError(err, this.address, this.busId);
      this.healthTracker.fail(text, 'offline');
      await this.bus.close().catch(() => undefined);
      throw new Error(`${this.type} "${this.id}": ${text}`, { cause: err });
    }
    this.healthTracker.ok();
  }

  async sample(): Promise<void> {}
  async flush(): Promise<void> {}
  async safe(): Promise<void> {}

  async close(): Promise<void> {
    await this.bus.close().catch(() => undefined);
    this.healthTracker.offline('closed');
  }

  /** Records a failed transaction in health and returns the words for the sample's detail. */
  protected failed(err: unknown, state: 'degraded' | 'offline' = 'offline'): string {
    const text = describeI2cError(err, this.address, this.busId);
    this.healthTracker.fail(text, state);
    return text;
  }

  protected badChannel(kind: ChannelKind, channel: string, problem: string): ConfigError {
    return new ConfigError(`devices.${this.id}`, `${kind} channel "${channel}": ${problem}`);
  }

  digitalOutput(_channel: string): DigitalOutput {
    throw noSuchKind(this.id, this.type, 'digital-out');
  }
  digitalInput(_channel: string): DigitalInput {
    throw noSuchKind(this.id, this.type, 'digital-in');
  }
  pwmOutput(_channel: string): PwmOutput {
    throw noSuchKind(this.id, this.type, 'pwm-out');
  }
  pressureInput(_channel: string): PressureInput {
    throw noSuchKind(this.id, this.type, 'pressure-in');
  }
}
