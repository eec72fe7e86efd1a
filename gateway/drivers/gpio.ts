/**
 * Raspberry Pi header GPIOs through the kernel's sysfs interface, using `onoff`.
 *
 * Channels are BCM numbers '0'..'27' (not physical pin numbers: physical pin 11 is BCM17), used
 * as `digital-out` (valves, pump relay) or `digital-in` (e-stop, lid switch). The sysfs number of
 * a pin is looked up at open() from the header gpiochip's base (see gpio-numbering.ts), because
 * kernel 6.6+ moved it from 0 to 512 (Pi 0–4) or 571 (Pi 5).
 *
 * Polarity is handled here, in software, not with the kernel's `active_low` attribute: the driver
 * always writes and reads the physical level and inverts for pins listed in `activeLow`. That
 * keeps the value file equal to the wire, which a technician can check with a meter and which the
 * fake-sysfs tests can check on plain files (a plain file does not apply `active_low`).
 */
import { ConfigError } from '../config-error.js';
import { existsSync, writeFileSync } from 'node:fs';
import Type, { type Static } from 'typebox';
import type { Direction, Edge } from 'onoff';
import { checkSchema } from '../config-check.js';
import {
  errorText,
  loadOnoff,
  type GpioLine,
  type GpioLineConstructor,
  type OnoffImporter,
} from './gpio-onoff.js';
import { DebouncedInput, HealthTracker, StagedDigitalOutput, channelIndex, noSuchKind } from './channels.js';
import {
  type ChannelKind,
  type DeviceHealth,
  type DigitalInput,
  type DigitalOutput,
  type DriverContext,
  type DriverDefinition,
  type IoDevice,
  type PressureInput,
  type PwmOutput,
} from './io.js';
import {
  DEFAULT_SYSFS_GPIO_ROOT,
  findHeaderChip,
  sysfsNumberOnChip,
  type GpioChipInfo,
} from './gpio-numbering.js';
import { LIMITS } from '../limits.js';

const TYPE = 'gpio';

/** onoff hard-codes this root for export/unexport and the gpioN directories. */
export const ONOFF_GPIO_ROOT = '/sys/class/gpio';

/** Highest BCM number on the 40-pin header (BCM 28+ exist on the chip but are not on the header). */
export const HEADER_MAX_BCM = 27;

/** Default time a level must hold before an input reports it: see DebouncedInput. */
/** The e-stop and garment-switch debounce unless the board sets one (gateway/limits.ts). */
export const DEFAULT_DEBOUNCE_MS = LIMITS.debounceMs.default;

/**
 * flush() writes only changed outputs, but every FULL_REWRITE_INTERVAL_MS it writes them all.
 * The value file is shared kernel state: a technician's `pinctrl set`, a second process or a
 * re-exported pin can change a level behind our back, and change-only writes would never put it
 * right. One rewrite a second bounds such a divergence to ~1 s for at most 28 writes of ~3 µs.
 */
export const FULL_REWRITE_INTERVAL_MS = 1000;

const BcmPin = Type.Integer({ minimum: 0, maximum: HEADER_MAX_BCM });

export const GpioConfigSchema = Type.Object(
  {
    /**
     * Where to look for the gpiochips when numbering pins. For tests of the numbering and error
     * paths only: onoff itself always uses /sys/class/gpio.
     */
    sysfsRoot: Type.Optional(Type.String({ pattern: '^/' })),
    /** BCM pins wired active-low (energised / active when the wire is low). Inputs and outputs. */
    activeLow: Type.Optional(Type.Array(BcmPin)),
    /** Milliseconds an input level must hold before it counts. Default DEFAULT_DEBOUNCE_MS. */
    debounceMs: Type.Optional(
      Type.Number({ minimum: LIMITS.debounceMs.min, maximum: LIMITS.debounceMs.max }),
    ),
    /**
     * Documentation of the pins used as inputs and the pull each one expects. sysfs cannot set
     * pulls: set them in config.txt (`gpio=5=ip,pu`) or with external resistors. When present,
     * every digital-in channel must be listed here and no digital-out may be.
     */
    inputs: Type.Optional(
      Type.Array(
        Type.Object(
          {
            pin: BcmPin,
            pull: Type.Optional(Type.Enum(['up', 'down', 'none'])),
          },
          { additionalProperties: false },
        ),
      ),
    ),
  },
  { additionalProperties: false },
);

export type GpioConfig = Static<typeof GpioConfigSchema>;

function pinWords(bcm: number, sysfs: number | undefined): string {
  return sysfs === undefined ? `BCM${bcm}` : `BCM${bcm} (sysfs gpio${sysfs})`;
}

function checkGpioChannel(kind: ChannelKind, channel: string, config: GpioConfig): string | undefined {
  if (kind !== 'digital-out' && kind !== 'digital-in') return `a ${TYPE} device has no ${kind} channels`;
  const bcm = channelIndex(channel, HEADER_MAX_BCM);
  if (bcm === undefined) {
    return `"${channel}" is not a header GPIO: use a BCM number 0..${HEADER_MAX_BCM} (not the physical pin number)`;
  }
  if (config.inputs) {
    const listed = config.inputs.some((i) => i.pin === bcm);
    if (kind === 'digital-in' && !listed) return `BCM${bcm} is used as an input but is not listed in inputs`;
    if (kind === 'digital-out' && listed) return `BCM${bcm} is listed in inputs but used as an output`;
  }
  return undefined;
}

function parseGpioConfig(raw: Record<string, unknown>, path: string): GpioConfig {
  const config = checkSchema(GpioConfigSchema, raw, path);
  // Duplicates are checked here rather than with uniqueItems so the message names the pin.
  const seen = new Set<number>();
  for (const [i, pin] of (config.activeLow ?? []).entries()) {
    if (seen.has(pin)) throw new ConfigError(`${path}.activeLow[${i}]`, `BCM${pin} is listed twice`);
    seen.add(pin);
  }
  seen.clear();
  for (const [i, input] of (config.inputs ?? []).entries()) {
    if (seen.has(input.pin))
      throw new ConfigError(`${path}.inputs[${i}].pin`, `BCM${input.pin} is listed twice`);
    seen.add(input.pin);
  }
  return config;
}

interface OutputPin {
  readonly bcm: number;
  readonly activeLow: boolean;
  readonly staged: StagedDigitalOutput;
  sysfs?: number;
  line?: GpioLine;
  /** Physical level last written successfully; undefined forces a write at the next flush. */
  written?: 0 | 1;
}

interface InputPin {
  readonly bcm: number;
  readonly activeLow: boolean;
  readonly input: DebouncedInput;
  sysfs?: number;
  line?: GpioLine;
}

export interface GpioDeviceOptions {
  /** How to load onoff; tests pass a constructor whose lines fail. Default: `import('onoff')`. */
  importer?: OnoffImporter;
}

class GpioDevice implements IoDevice {
  readonly type = TYPE;
  private readonly tracker: HealthTracker;
  private readonly outputs = new Map<number, OutputPin>();
  private readonly inputs = new Map<number, InputPin>();
  private readonly activeLow: ReadonlySet<number>;
  private readonly debounceMs: number;
  private readonly root: string;
  /** Every line open() created, in order, so close() can undo exactly that. */
  private exported: { bcm: number; sysfs: number; line: GpioLine }[] = [];
  private isOpen = false;
  private lastFullWriteMs = Number.NEGATIVE_INFINITY;
  /** Pins whose last I/O failed, with the words for it. */
  private readonly failing = new Map<number, string>();
  private closedAtMs: number | undefined;
  private closeProblems: string[] = [];

  constructor(
    readonly id: string,
    private readonly config: GpioConfig,
    private readonly ctx: DriverContext,
    private readonly options: GpioDeviceOptions,
  ) {
    this.tracker = new HealthTracker(ctx.clock);
    this.activeLow = new Set(config.activeLow ?? []);
    this.debounceMs = config.debounceMs ?? DEFAULT_DEBOUNCE_MS;
    this.root = config.sysfsRoot ?? DEFAULT_SYSFS_GPIO_ROOT;
  }

  health(): DeviceHealth {
    const h = this.tracker.get();
    if (this.closedAtMs === undefined) return h;
    const message =
      this.closeProblems.length > 0
        ? `closed; not released cleanly: ${this.closeProblems.join('; ')}`
        : 'closed';
    return { ...h, state: 'offline', message, sinceMs: this.closedAtMs };
  }

  private where(): string {
    return `gpio device "${this.id}"`;
  }

  private claimBcm(kind: ChannelKind, channel: string): number {
    const problem = checkGpioChannel(kind, channel, this.config);
    const bcm = channelIndex(channel, HEADER_MAX_BCM);
    if (problem !== undefined || bcm === undefined) {
      throw new ConfigError(`devices.${this.id}`, `channel "${channel}": ${problem ?? 'not a BCM number'}`);
    }
    const other = kind === 'digital-out' ? this.inputs : this.outputs;
    if (other.has(bcm)) {
      const was = kind === 'digital-out' ? 'an input' : 'an output';
      throw new ConfigError(`devices.${this.id}`, `BCM${bcm} is already used as ${was}`);
    }
    const mine = kind === 'digital-out' ? this.outputs : this.inputs;
    if (!mine.has(bcm) && this.isOpen) {
      // open() exports the pins claimed so far; a pin claimed later would never be exported.
      throw new Error(`${this.where()}: BCM${bcm} claimed after open(); claim every channel before opening`);
    }
    return bcm;
  }

  digitalOutput(channel: string): DigitalOutput {
    const bcm = this.claimBcm('digital-out', channel);
    let pin = this.outputs.get(bcm);
    if (!pin) {
      pin = { bcm, activeLow: this.activeLow.has(bcm), staged: new StagedDigitalOutput(`${this.id}:${bcm}`) };
      this.outputs.set(bcm, pin);
    }
    return pin.staged;
  }

  digitalInput(channel: string): DigitalInput {
    const bcm = this.claimBcm('digital-in', channel);
    let pin = this.inputs.get(bcm);
    if (!pin) {
      pin = {
        bcm,
        activeLow: this.activeLow.has(bcm),
        input: new DebouncedInput(`${this.id}:${bcm}`, this.debounceMs),
      };
      this.inputs.set(bcm, pin);
    }
    return pin.input;
  }

  pwmOutput(_channel: string): PwmOutput {
    throw noSuchKind(this.id, TYPE, 'pwm-out');
  }

  pressureInput(_channel: string): PressureInput {
    throw noSuchKind(this.id, TYPE, 'pressure-in');
  }

  private get pinCount(): number {
    return this.outputs.size + this.inputs.size;
  }

  async open(): Promise<void> {
    if (this.isOpen) return;
    this.closedAtMs = undefined;
    this.closeProblems = [];

    // Number every pin before touching anything, so a wrong board or kernel changes nothing.
    let chip: GpioChipInfo;
    const outputs: { pin: OutputPin; sysfs: number }[] = [];
    const inputs: { pin: InputPin; sysfs: number }[] = [];
    try {
      chip = findHeaderChip(this.root);
      for (const pin of this.outputs.values()) outputs.push({ pin, sysfs: sysfsNumberOnChip(chip, pin.bcm) });
      for (const pin of this.inputs.values()) inputs.push({ pin, sysfs: sysfsNumberOnChip(chip, pin.bcm) });
    } catch (e) {
      const message = errorText(e);
      this.tracker.fail(message, 'offline');
      throw new Error(`${this.where()}: ${message}`, { cause: e });
    }
    if (this.root !== ONOFF_GPIO_ROOT) {
      this.ctx.log.warn(
        `${this.where()}: pins numbered from ${this.root}, but onoff always drives ${ONOFF_GPIO_ROOT}; ` +
          `sysfsRoot is meant for tests`,
      );
    }

    let Gpio: GpioLineConstructor;
    try {
      Gpio = await loadOnoff(this.id, this.options.importer);
    } catch (e) {
      this.tracker.fail(errorText(e), 'offline');
      throw e;
    }

    try {
      for (const { pin, sysfs } of outputs) {
        pin.sysfs = sysfs;
        const safeLevel = this.physical(pin, false);
        // 'low'/'high' make the pin an output already at the de-energised level in one kernel
        // call, so it never glitches to the wrong level. activeLow: false resets an active_low
        // left at 1 by another program, which would silently invert our physical writes.
        // onoff ignores the edge for outputs.
        const line = this.exportLine(Gpio, pin.bcm, sysfs, safeLevel === 1 ? 'high' : 'low', 'none');
        // The kernel already set the level; writing it again costs ~3 µs and makes the value
        // file right where no kernel applies the direction (the fake sysfs in the tests).
        this.ioStep(pin.bcm, sysfs, 'writing the safe level', () => line.writeSync(safeLevel));
        pin.line = line;
        pin.written = safeLevel;
      }
      for (const { pin, sysfs } of inputs) {
        pin.sysfs = sysfs;
        // The edge is set so that switching to onoff's watch() later is a code change only; for
        // now inputs are polled in sample() (epoll interrupts are a later optimisation, and
        // cannot be tested off-Pi: epoll on a regular file gives EPERM).
        pin.line = this.exportLine(Gpio, pin.bcm, sysfs, 'in', 'both');
      }
    } catch (e) {
      this.releaseAll();
      const message = errorText(e);
      this.tracker.fail(message, 'offline');
      throw new Error(`${this.where()}: ${message}`, { cause: e });
    }

    this.isOpen = true;
    this.failing.clear();
    this.lastFullWriteMs = this.ctx.clock.now();
    this.tracker.ok();
    this.logOpened(chip);
  }

  /** Creates one onoff line; on failure undoes a kernel export onoff did before failing. */
  private exportLine(
    Gpio: GpioLineConstructor,
    bcm: number,
    sysfs: number,
    direction: Direction,
    edge: Edge,
  ): GpioLine {
    const dir = `${ONOFF_GPIO_ROOT}/gpio${sysfs}`;
    const existedBefore = existsSync(dir);
    let line: GpioLine;
    try {
      line = new Gpio(sysfs, direction, edge, { activeLow: false });
    } catch (e) {
      // onoff exports first and then configures; if configuring failed, the pin stays exported
      // unless we unexport it (open() must leave nothing behind when it fails).
      if (!existedBefore && existsSync(dir)) {
        try {
          writeFileSync(`${ONOFF_GPIO_ROOT}/unexport`, String(sysfs));
        } catch {
          // Reported through the error below; nothing more we can do.
        }
      }
      throw new Error(`${pinWords(bcm, sysfs)}: export as ${direction} failed: ${errorText(e)}`, {
        cause: e,
      });
    }
    this.exported.push({ bcm, sysfs, line });
    return line;
  }

  private ioStep(bcm: number, sysfs: number, what: string, step: () => void): void {
    try {
      step();
    } catch (e) {
      throw new Error(`${pinWords(bcm, sysfs)}: ${what} failed: ${errorText(e)}`, { cause: e });
    }
  }

  private logOpened(chip: GpioChipInfo): void {
    const map = (pins: Iterable<OutputPin | InputPin>): string =>
      [...pins].map((p) => `BCM${p.bcm}->gpio${p.sysfs}${p.activeLow ? ' (active-low)' : ''}`).join(', ') ||
      'none';
    this.ctx.log.info(
      `${this.where()}: header chip ${chip.name} "${chip.label}" base ${chip.base}; ` +
        `outputs ${map(this.outputs.values())}; inputs ${map(this.inputs.values())}`,
    );
    for (const input of this.config.inputs ?? []) {
      if (input.pull === 'up' || input.pull === 'down') {
        // sysfs has no pull control; the pull comes from config.txt or the wiring.
        this.ctx.log.info(
          `${this.where()}: BCM${input.pin} expects a pull-${input.pull}; sysfs cannot set pulls, so make sure ` +
            `config.txt has gpio=${input.pin}=ip,p${input.pull === 'up' ? 'u' : 'd'} or the board has a resistor`,
        );
      }
    }
  }

  /** The wire level for a logical value: energised (`true`) is low on an active-low pin. */
  private physical(pin: OutputPin, on: boolean): 0 | 1 {
    return on !== pin.activeLow ? 1 : 0;
  }

  /** Records one pin's failure in health: offline when every pin in use is failing. */
  private pinFailed(bcm: number, sysfs: number | undefined, what: string, e: unknown): void {
    const words = `${pinWords(bcm, sysfs)}: ${what} failed: ${errorText(e)}`;
    this.failing.set(bcm, words);
    const state = this.failing.size >= this.pinCount ? 'offline' : 'degraded';
    this.tracker.fail([...this.failing.values()].join('; '), state);
  }

  /** After a pass: ok once no pin is failing any more. */
  private settleHealth(): void {
    if (this.failing.size === 0 && this.tracker.state !== 'ok') this.tracker.ok();
  }

  async sample(): Promise<void> {
    if (!this.isOpen) return;
    // Inputs are polled once per control tick; debouncing at the tick rate is the documented
    // behaviour. One timestamp for the pass: the reads take microseconds.
    const now = this.ctx.clock.now();
    for (const pin of this.inputs.values()) {
      const line = pin.line;
      if (!line) continue;
      try {
        const high = line.readSync() === 1;
        pin.input.update(high !== pin.activeLow, now);
        this.failing.delete(pin.bcm);
      } catch (e) {
        // The debounced value keeps its last level; health tells the control loop not to trust it.
        this.pinFailed(pin.bcm, pin.sysfs, 'reading value', e);
      }
    }
    this.settleHealth();
  }

  /** Writes outputs: all of them when `all`, else only those whose level differs from the last write. */
  private writeOutputs(all: boolean): void {
    for (const pin of this.outputs.values()) {
      const line = pin.line;
      if (!line) continue;
      const level = this.physical(pin, pin.staged.value);
      if (!all && pin.written === level) continue;
      try {
        line.writeSync(level);
        pin.written = level;
        this.failing.delete(pin.bcm);
      } catch (e) {
        pin.written = undefined;
        this.pinFailed(pin.bcm, pin.sysfs, `writing ${level}`, e);
      }
    }
  }

  async flush(): Promise<void> {
    if (!this.isOpen) return;
    const now = this.ctx.clock.now();
    const all = now - this.lastFullWriteMs >= FULL_REWRITE_INTERVAL_MS;
    this.writeOutputs(all);
    if (all) this.lastFullWriteMs = now;
    this.settleHealth();
  }

  async safe(): Promise<void> {
    for (const pin of this.outputs.values()) pin.staged.set(false);
    if (!this.isOpen) return;
    this.writeOutputs(true);
    this.lastFullWriteMs = this.ctx.clock.now();
    this.settleHealth();
  }

  async close(): Promise<void> {
    if (!this.isOpen) return;
    await this.safe();
    this.releaseAll();
    this.isOpen = false;
    this.closedAtMs = this.ctx.clock.now();
  }

  /** Unexports every line open() created, last first. Failures are logged, never thrown. */
  private releaseAll(): void {
    for (const { bcm, sysfs, line } of this.exported.reverse()) {
      try {
        line.unexport();
      } catch (e) {
        const words = `${pinWords(bcm, sysfs)}: unexport failed: ${errorText(e)}`;
        this.closeProblems.push(words);
        this.ctx.log.warn(`${this.where()}: ${words}`);
      }
    }
    this.exported = [];
    for (const pin of this.outputs.values()) {
      pin.line = undefined;
      pin.written = undefined;
    }
    for (const pin of this.inputs.values()) pin.line = undefined;
  }
}

/** Creates a device; `options` exists for tests (a failing onoff stand-in). */
export function createGpioDevice(
  id: string,
  config: GpioConfig,
  ctx: DriverContext,
  options: GpioDeviceOptions = {},
): IoDevice {
  return new GpioDevice(id, config, ctx, options);
}

export const gpio: DriverDefinition<GpioConfig> = {
  type: TYPE,
  summary:
    'Raspberry Pi header GPIOs (BCM 0..27) through sysfs with onoff: digital outputs and polled, ' +
    'debounced digital inputs; active-low in software; pulls must be set in config.txt',
  parseConfig: parseGpioConfig,
  checkChannel: checkGpioChannel,
  channelKey(_kind: ChannelKind, channel: string): string {
    // Input and output on the same BCM pin are one physical pin, so the key ignores the kind.
    const bcm = channelIndex(channel, HEADER_MAX_BCM);
    return bcm === undefined ? channel.trim() : `bcm${bcm}`;
  },
  create: (id, config, ctx) => createGpioDevice(id, config, ctx),
};
