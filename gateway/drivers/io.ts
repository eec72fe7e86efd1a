/**
 * The small interfaces every hardware backend implements, and the contract between a driver and
 * the control loop.
 *
 * One control tick is: `sample()` every device (one batched read per chip), decide, stage new
 * output values with `set()`, then `flush()` every device (one batched write per chip). Staging is
 * free; only `sample()` and `flush()` touch the bus.
 *
 * Output polarity: `true` always means "energised". The plumbing is chosen so that de-energised
 * is safe (normally-closed inlet valves, normally-open exhaust valves, pump off), which makes the
 * safe state of every output simply `false`. Active-low wiring is the driver's business.
 */
import type { Clock } from '../clock.js';
import type { SharedLinks } from './shared-links.js';

export type ChannelKind = 'digital-out' | 'digital-in' | 'pwm-out' | 'pressure-in';

/** Health of a device or of the link to it. `offline` means no I/O is getting through. */
export type DeviceHealthState = 'ok' | 'degraded' | 'offline';

export interface DeviceHealth {
  state: DeviceHealthState;
  /** Plain words for support staff, e.g. "no answer from 0x48 on i2c-1 (EREMOTEIO)". */
  message?: string;
  /** Clock time (ms) when `state` last changed. */
  sinceMs: number;
  /** Failed transactions since open. */
  errors: number;
}

export type SampleHealth = 'ok' | 'stale' | 'error';

export interface PressureSample {
  /** Gauge pressure in mmHg after zero calibration; NaN when health is 'error'. */
  mmHg: number;
  /** Clock time (ms) the value was measured (end of conversion), not when it was read out. */
  sampledAtMs: number;
  /** 'stale': the chip had no new conversion; 'error': the read failed or the value is impossible. */
  health: SampleHealth;
  /** Why it is not ok, in words: "EREMOTEIO at 0x48", "MPRLS busy", "ABP status: stale data". */
  detail?: string;
}

export interface DigitalOutput {
  readonly ref: string;
  /** Stages the value; it reaches the hardware at the device's next `flush()`. */
  set(on: boolean): void;
  /** The staged value. */
  readonly value: boolean;
}

export interface PwmOutput {
  readonly ref: string;
  /** Stages a duty cycle in [0, 1]; values outside are clamped. */
  set(duty: number): void;
  readonly duty: number;
}

export interface DigitalInput {
  readonly ref: string;
  /** The debounced level as of the last `sample()`. */
  readonly value: boolean;
  /** Called on every debounced change, with the clock time of the change. Returns an unsubscribe. */
  onEdge(listener: (value: boolean, atMs: number) => void): () => void;
}

export interface PressureInput {
  readonly ref: string;
  /** The latest sample taken by the device's last `sample()`. */
  read(): PressureSample;
  /** Zero offset in mmHg subtracted from every reading (from a sensor-zero self-test). */
  setZeroOffset(offsetMmHg: number): void;
  readonly zeroOffsetMmHg: number;
}

export interface IoDevice {
  /** The device's name in the board config, e.g. "adc0". */
  readonly id: string;
  /** The driver type, e.g. "ads1115". */
  readonly type: string;
  /**
   * True for devices behind a network or serial link whose transactions can take a timeout
   * (Modbus). The control tick waits for them only so long, and works on their last values
   * meanwhile: a silent module must not stall the tick of every other station.
   */
  readonly remote?: boolean;
  health(): DeviceHealth;
  /** Opens the bus or link and configures the chip. Rejects with a message that names the device. */
  open(): Promise<void>;
  /** Reads every input channel in use, batched. Never rejects: failures show in samples and health. */
  sample(): Promise<void>;
  /** Writes every staged output, batched. Never rejects: failures show in health. */
  flush(): Promise<void>;
  /** Stages every output off (the safe state) and writes it now. Never rejects. */
  safe(): Promise<void>;
  /** Undoes exactly what open() did (unexport pins, close the bus or socket). Never rejects. */
  close(): Promise<void>;
  /** Channel accessors. They throw a ConfigError for a channel the device does not have. */
  digitalOutput(channel: string): DigitalOutput;
  digitalInput(channel: string): DigitalInput;
  pwmOutput(channel: string): PwmOutput;
  pressureInput(channel: string): PressureInput;
}

/**
 * The subset of i2c-bus's PromisifiedBus that drivers use, so production passes the real bus and
 * tests pass a register-level fake. SMBus words are little-endian on the wire, as the kernel does.
 */
export interface I2cBusLike {
  readByte(address: number, command: number): Promise<number>;
  writeByte(address: number, command: number, byte: number): Promise<void>;
  readWord(address: number, command: number): Promise<number>;
  writeWord(address: number, command: number, word: number): Promise<void>;
  readI2cBlock(
    address: number,
    command: number,
    length: number,
    buffer: Buffer,
  ): Promise<{ bytesRead: number; buffer: Buffer }>;
  writeI2cBlock(
    address: number,
    command: number,
    length: number,
    buffer: Buffer,
  ): Promise<{ bytesWritten: number; buffer: Buffer }>;
  i2cRead(address: number, length: number, buffer: Buffer): Promise<{ bytesRead: number; buffer: Buffer }>;
  i2cWrite(
    address: number,
    length: number,
    buffer: Buffer,
  ): Promise<{ bytesWritten: number; buffer: Buffer }>;
  receiveByte(address: number): Promise<number>;
  sendByte(address: number, byte: number): Promise<void>;
  close(): Promise<void>;
}

/** Opens an I2C bus by number (`/dev/i2c-N`) or by the name of a simulated bus. */
export type I2cOpener = (bus: number | string) => Promise<I2cBusLike>;

export interface Logger {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

export interface DriverContext {
  clock: Clock;
  log: Logger;
  /** How to open an I2C bus; the real one lazily loads the optional `i2c-bus` package. */
  openI2c: I2cOpener;
  /**
   * Services a driver may look up by name, e.g. the simulator's world for the `simulator` driver.
   * Kept untyped here so io.ts does not depend on the simulator.
   */
  services: ReadonlyMap<string, unknown>;
  /** Connections this board's devices share (one per RS-485 bus or Modbus TCP gateway). */
  links: SharedLinks;
}

/**
 * What a driver file exports. Adding a chip means writing one file that exports one of these and
 * naming it in `gateway/drivers/registry.ts`; the board config then refers to it by `type`.
 */
export interface DriverDefinition<Config = unknown> {
  readonly type: string;
  /** One line for `docs/hardware.md` and error hints. */
  readonly summary: string;
  /**
   * Validates the device's config section (without the `type` key) and returns it typed.
   * Throws ConfigError naming `path` + the field. Unknown keys are errors.
   */
  parseConfig(raw: Record<string, unknown>, path: string): Config;
  /** Returns what is wrong with `channel` for `kind` on this device, or undefined when it is valid. */
  checkChannel(kind: ChannelKind, channel: string, config: Config): string | undefined;
  /**
   * Whether two channel names address the same physical pin (so a board that uses both is a
   * clash). Defaults to string equality after trimming.
   */
  channelKey?(kind: ChannelKind, channel: string, config: Config): string;
  create(id: string, config: Config, ctx: DriverContext): IoDevice;
}

/** Clamp helper shared by PWM drivers: duty is physical, so NaN is treated as off. */
export function clampDuty(duty: number): number {
  if (!Number.isFinite(duty) || duty <= 0) return 0;
  return duty >= 1 ? 1 : duty;
}
