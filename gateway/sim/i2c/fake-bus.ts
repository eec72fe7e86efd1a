/**
 * An in-memory I2C bus for tests and the simulator. Every SMBus call is turned into the raw write
 * and read transactions the Linux kernel emulates on a plain I2C adapter (readWord = write the
 * command byte, read 2 bytes, little-endian), so the chip models only see bytes and a driver that
 * uses the wrong call for a big-endian register gets swapped bytes, as it would on a Pi.
 */
import type { I2cBusLike, I2cOpener } from '../../drivers/io.js';

/** A chip on the wire: it receives the bytes of one write transaction, or produces `length` bytes. */
export interface I2cDeviceModel {
  write(bytes: Buffer): void;
  read(length: number): Buffer;
  /** A bus switch (TCA9548A) offers the chips on its enabled downstream channels for `address`. */
  route?(address: number): I2cDeviceModel[];
}

interface Wire {
  devices: Map<number, I2cDeviceModel>;
  nacks: Set<number>;
  log: string[];
  opens: number;
  closes: number;
}

function ioError(code: string, errno: number, text: string): Error {
  return Object.assign(new Error(`${code}, ${text}`), { code, errno });
}

function hexAddr(a: number): string {
  return a.toString(16).padStart(2, '0');
}

/**
 * One handle on a simulated bus. `open()` returns a further handle on the same wire (same chips,
 * same log), the way i2c-bus's openPromisified gives a new object for the same /dev/i2c-N.
 */
export class FakeI2cBus implements I2cBusLike {
  private readonly wire: Wire;
  private isClosed = false;

  constructor(devices: Iterable<[number, I2cDeviceModel]> = [], wire?: Wire) {
    this.wire = wire ?? { devices: new Map(), nacks: new Set(), log: [], opens: 0, closes: 0 };
    for (const [a, d] of devices) this.addDevice(a, d);
  }

  /** Transactions as "W 48 01c383" (address, then the bytes) and "R 48 8583"; "W 48 NACK" on no answer. */
  get log(): string[] {
    return this.wire.log;
  }
  get opens(): number {
    return this.wire.opens;
  }
  get closes(): number {
    return this.wire.closes;
  }
  get closed(): boolean {
    return this.isClosed;
  }

  addDevice(address: number, model: I2cDeviceModel): this {
    this.wire.devices.set(address, model);
    return this;
  }

  removeDevice(address: number): void {
    this.wire.devices.delete(address);
  }

  /** Makes `address` stop answering (a loose connector, a dead chip) until switched off again. */
  setNack(address: number, on: boolean): void {
    if (on) this.wire.nacks.add(address);
    else this.wire.nacks.delete(address);
  }

  /** A new handle on the same wire. */
  open(): FakeI2cBus {
    this.wire.opens++;
    return new FakeI2cBus([], this.wire);
  }

  private device(a: number, dir: 'W' | 'R'): I2cDeviceModel {
    if (this.isClosed) throw ioError('EBADF', -9, 'bus is closed');
    const found: I2cDeviceModel[] = [];
    const direct = this.wire.devices.get(a);
    if (direct) found.push(direct);
    for (const d of this.wire.devices.values()) found.push(...(d.route?.(a) ?? []));
    if (found.length === 0 || this.wire.nacks.has(a)) {
      this.wire.log.push(`${dir} ${hexAddr(a)} NACK`);
      throw ioError('EREMOTEIO', -121, `Remote I/O error (no answer from 0x${hexAddr(a)})`);
    }
    // Two chips answering the same address corrupt each other's data; the adapter sees garbage.
    if (found.length > 1) throw ioError('EIO', -5, `bus collision: ${found.length} chips at 0x${hexAddr(a)}`);
    return found[0] as I2cDeviceModel;
  }

  private async wr(a: number, bytes: number[] | Buffer): Promise<void> {
    const x = Buffer.from(bytes);
    const d = this.device(a, 'W');
    this.wire.log.push(`W ${hexAddr(a)} ${x.toString('hex')}`);
    d.write(x);
  }

  private async rd(a: number, n: number): Promise<Buffer> {
    const x = Buffer.from(this.device(a, 'R').read(n).subarray(0, n));
    this.wire.log.push(`R ${hexAddr(a)} ${x.toString('hex')}`);
    return x;
  }

  async readByte(a: number, c: number): Promise<number> {
    await this.wr(a, [c]);
    return (await this.rd(a, 1)).readUInt8(0);
  }
  async writeByte(a: number, c: number, v: number): Promise<void> {
    await this.wr(a, [c, v & 0xff]);
  }
  async readWord(a: number, c: number): Promise<number> {
    await this.wr(a, [c]);
    return (await this.rd(a, 2)).readUInt16LE(0);
  }
  async writeWord(a: number, c: number, w: number): Promise<void> {
    await this.wr(a, [c, w & 0xff, (w >> 8) & 0xff]);
  }
  async readI2cBlock(
    a: number,
    c: number,
    n: number,
    buf: Buffer,
  ): Promise<{ bytesRead: number; buffer: Buffer }> {
    await this.wr(a, [c]);
    (await this.rd(a, n)).copy(buf);
    return { bytesRead: n, buffer: buf };
  }
  async writeI2cBlock(
    a: number,
    c: number,
    n: number,
    buf: Buffer,
  ): Promise<{ bytesWritten: number; buffer: Buffer }> {
    // The kernel's SMBus block transfers carry at most 32 data bytes (I2C_SMBUS_BLOCK_MAX).
    if (n > 32) throw ioError('EINVAL', -22, `I2C block write of ${n} bytes exceeds 32`);
    await this.wr(a, Buffer.concat([Buffer.from([c]), buf.subarray(0, n)]));
    return { bytesWritten: n, buffer: buf };
  }
  async i2cRead(a: number, n: number, buf: Buffer): Promise<{ bytesRead: number; buffer: Buffer }> {
    (await this.rd(a, n)).copy(buf);
    return { bytesRead: n, buffer: buf };
  }
  async i2cWrite(a: number, n: number, buf: Buffer): Promise<{ bytesWritten: number; buffer: Buffer }> {
    await this.wr(a, buf.subarray(0, n));
    return { bytesWritten: n, buffer: buf };
  }
  async receiveByte(a: number): Promise<number> {
    return (await this.rd(a, 1)).readUInt8(0);
  }
  async sendByte(a: number, v: number): Promise<void> {
    await this.wr(a, [v & 0xff]);
  }

  async close(): Promise<void> {
    if (this.isClosed) return;
    this.isClosed = true;
    this.wire.closes++;
  }
}

/** An I2cOpener over named fake buses (the simulator's), handing out a fresh handle per open. */
export function fakeI2cOpener(buses: Readonly<Record<string, FakeI2cBus>>): I2cOpener {
  return async (bus) => {
    const wire = buses[String(bus)];
    if (!wire) throw ioError('ENOENT', -2, `no simulated I2C bus "${bus}"`);
    return wire.open();
  };
}
