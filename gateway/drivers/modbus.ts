/**
 * Remote I/O modules over Modbus: `modbus-tcp` (Ethernet) and `modbus-rtu` (RS-485 through a
 * serial port). One device = one unit id on one link; devices on the same port or host:port share
 * the link (see modbus-link.ts).
 *
 * Channels (addresses are the zero-based addresses on the wire: `coil:0` is what vendor manuals
 * call coil 1 or 00001, `hr:0` is holding register 1 or 40001):
 *
 *   digital-out  `coil:N`         written with FC15 (write multiple coils)
 *   digital-in   `di:N`           read with FC02 (read discrete inputs), debounced by `debounceMs`
 *   pressure-in  `ir:N` / `hr:N`  read with FC04 / FC03, mmHg = offset + scale × count
 *   pwm-out      `hr:N`           written with FC16; duty 1.0 = `pwmFullScale` counts
 *
 * Config keys (both types): `unitId`, `timeoutMs` (answer timeout, default 200), `pollHz`
 * (optional cap on bus traffic), `debounceMs` (default 20), `pressure` ({ scale: mmHg per count,
 * offset: mmHg (default 0), signed: counts are int16 (default false) }, one scaling for every
 * pressure channel of the device; a module with differently scaled inputs is configured as two
 * devices with the same unit id), `pwmFullScale` (required for pwm-out). `modbus-tcp` adds `host`,
 * `port` (default 502); `modbus-rtu` adds `path`, `baudRate`, `parity`, `dataBits` (default 8),
 * `stopBits` (default 1).
 *
 * Batching: sample() reads each table (di, ir, hr) in ONE request spanning the lowest to the
 * highest address in use (split only past the protocol limit of 125 registers / 2000 bits).
 * flush() writes coils with FC15 and registers with FC16, one request per run of CONSECUTIVE
 * addresses in use: contiguous channels (the usual wiring) take one request each, and a coil or
 * register this device does not own is never written. Filling a gap with a remembered value would
 * overwrite whatever another master, or another device entry on the same unit, set there since we
 * last looked, and forcing gaps off could switch off somebody else's output.
 *
 * Health: `offline` while the link is down or the unit has not answered UNIT_OFFLINE_AFTER_SILENT
 * requests in a row ("no answer from 127.0.0.1:1502 unit 1 for 612 ms: …"); `degraded` for fewer
 * missed answers or a Modbus exception ("unit 1 at … refused read ir:0..ir:100 (FC04 start 0,
 * count 101): illegal data address (exception 2)"). While offline, sample() and flush() return at
 * once without touching the bus: the link reconnects with back-off in the background and a silent
 * unit is re-probed with back-off, so a dead module costs a call at most one timeout. sample()
 * stops at the first silence, so it never waits for more than one timeout either.
 *
 * open() connects and reads every channel in use once. When that fails it rejects, naming the
 * device and the register or the connect error, but keeps retrying in the background like after a
 * dropped link, so a module powered up after the gateway comes online by itself.
 *
 * Time: sockets and jsmodbus's timeouts run in real time, so these drivers need the RealClock.
 */
import { ConfigError } from '../config-error.js';
import Type from 'typebox';
import { checkSchema } from '../config-check.js';
import {
  CalibratedPressureInput,
  DebouncedInput,
  HealthTracker,
  StagedDigitalOutput,
  StagedPwmOutput,
} from './channels.js';
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
  acquireLink,
  classifyFailure,
  MAX_READ_BITS,
  MAX_READ_REGISTERS,
  MAX_WRITE_COILS,
  MAX_WRITE_REGISTERS,
  RECONNECT_MAX_MS,
  RECONNECT_MIN_MS,
  releaseLink,
  rtuLinkSpec,
  tcpLinkSpec,
  type LinkEvent,
  type LinkSpec,
  type ModbusClientPort,
  type ModbusFailure,
  type ModbusLink,
  type SerialSettings,
} from './modbus-link.js';
import { LIMITS } from '../limits.js';

/** Default answer timeout. A module on a LAN answers in a few ms; 200 ms rides out a busy switch. */
export const DEFAULT_TIMEOUT_MS = 200;
/** Missed answers in a row before the unit counts as offline (one miss can be line noise). */
export const UNIT_OFFLINE_AFTER_SILENT = 3;
const DEFAULT_TCP_PORT = 502;
const MAX_ADDRESS = 0xffff;

export interface PressureScaling {
  /** mmHg per count. */
  scale: number;
  /** mmHg at count 0. */
  offset: number;
  /** Whether counts are two's-complement int16 (else uint16). */
  signed: boolean;
}

interface ModbusCommonConfig {
  unitId: number;
  /** How long the unit may take to answer, ms (RTU adds the time frames spend on the wire). */
  timeoutMs: number;
  /** At most this many polls per second; undefined = every sample()/flush(). */
  pollHz: number | undefined;
  debounceMs: number;
  pressure: PressureScaling | undefined;
  /** Register value for duty 1.0 on pwm-out channels. */
  pwmFullScale: number | undefined;
}

export interface ModbusTcpConfig extends ModbusCommonConfig {
  host: string;
  port: number;
}

export interface ModbusRtuConfig extends ModbusCommonConfig, SerialSettings {}

/* ------------------------------------------------------------------------------------------------ */
/* Config                                                                                            */

const commonKeys = {
  timeoutMs: Type.Optional(Type.Integer({ minimum: 10, maximum: 10_000 })),
  pollHz: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 1000 })),
  debounceMs: Type.Optional(Type.Integer({ minimum: LIMITS.debounceMs.min, maximum: LIMITS.debounceMs.max })),
  pressure: Type.Optional(
    Type.Object(
      {
        scale: Type.Number(),
        offset: Type.Optional(Type.Number()),
        signed: Type.Optional(Type.Boolean()),
      },
      { additionalProperties: false },
    ),
  ),
  pwmFullScale: Type.Optional(Type.Integer({ minimum: 1, maximum: 0xffff })),
};

const TcpSchema = Type.Object(
  {
    host: Type.String({ minLength: 1 }),
    port: Type.Optional(Type.Integer({ minimum: 1, maximum: 65535 })),
    // Modbus TCP allows 0..255 (0 and 255 are what many single-unit TCP modules expect).
    unitId: Type.Integer({ minimum: 0, maximum: 255 }),
    ...commonKeys,
  },
  { additionalProperties: false },
);

const RtuSchema = Type.Object(
  {
    path: Type.String({ minLength: 1 }),
    baudRate: Type.Integer({ minimum: 300, maximum: 4_000_000 }),
    parity: Type.String(),
    dataBits: Type.Optional(Type.Integer()),
    stopBits: Type.Optional(Type.Integer()),
    // 0 is broadcast (nobody answers) and 248..255 are reserved on a serial line.
    unitId: Type.Integer({ minimum: 1, maximum: 247 }),
    ...commonKeys,
  },
  { additionalProperties: false },
);

function oneOf<T extends string | number>(value: unknown, allowed: readonly T[], path: string): T {
  const hit = allowed.find((a) => a === value);
  if (hit === undefined) throw new ConfigError(path, `must be one of ${allowed.join(', ')}`);
  return hit;
}

function parseCommon(
  raw: {
    unitId: number;
    timeoutMs?: number;
    pollHz?: number;
    debounceMs?: number;
    pressure?: { scale: number; offset?: number; signed?: boolean };
    pwmFullScale?: number;
  },
  path: string,
): ModbusCommonConfig {
  const p = raw.pressure;
  if (p && (!Number.isFinite(p.scale) || p.scale === 0)) {
    throw new ConfigError(`${path}.pressure.scale`, 'must be a non-zero number (mmHg per count)');
  }
  if (p?.offset !== undefined && !Number.isFinite(p.offset)) {
    throw new ConfigError(`${path}.pressure.offset`, 'must be a finite number (mmHg at count 0)');
  }
  return {
    unitId: raw.unitId,
    timeoutMs: raw.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    pollHz: raw.pollHz,
    debounceMs: raw.debounceMs ?? LIMITS.debounceMs.default,
    pressure: p ? { scale: p.scale, offset: p.offset ?? 0, signed: p.signed ?? false } : undefined,
    pwmFullScale: raw.pwmFullScale,
  };
}

/* ------------------------------------------------------------------------------------------------ */
/* Channels                                                                                          */

type Table = 'coil' | 'di' | 'ir' | 'hr';

interface Address {
  table: Table;
  address: number;
}

const TABLES_FOR: Readonly<Record<ChannelKind, readonly Table[]>> = {
  'digital-out': ['coil'],
  'digital-in': ['di'],
  'pressure-in': ['ir', 'hr'],
  'pwm-out': ['hr'],
};

const SYNTAX: Readonly<Record<ChannelKind, string>> = {
  'digital-out': '"coil:N"',
  'digital-in': '"di:N"',
  'pressure-in': '"ir:N" (input register) or "hr:N" (holding register)',
  'pwm-out': '"hr:N"',
};

function parseAddress(channel: string): Address | undefined {
  const m = /^(coil|di|ir|hr):(\d{1,5})$/.exec(channel.trim().toLowerCase());
  if (!m?.[1] || !m[2]) return undefined;
  const address = Number(m[2]);
  if (address > MAX_ADDRESS) return undefined;
  return { table: m[1] as Table, address };
}

function checkModbusChannel(
  kind: ChannelKind,
  channel: string,
  config: ModbusCommonConfig,
): string | undefined {
  const a = parseAddress(channel);
  const syntax = `${kind} channels are ${SYNTAX[kind]}, N the zero-based address 0..${MAX_ADDRESS} (coil 00001 in a manual is "coil:0")`;
  if (!a) return `"${channel}" is not a Modbus channel: ${syntax}`;
  if (!TABLES_FOR[kind].includes(a.table)) return `"${channel}" is the wrong table: ${syntax}`;
  if (kind === 'pressure-in' && !config.pressure) {
    return `pressure-in needs the device's "pressure" scaling, e.g. { "scale": 0.1, "offset": 0, "signed": false } (mmHg = offset + scale × count)`;
  }
  if (kind === 'pwm-out' && config.pwmFullScale === undefined) {
    return `pwm-out needs the device's "pwmFullScale" (the register value for 100 % duty, e.g. 1000)`;
  }
  return undefined;
}

function modbusChannelKey(_kind: ChannelKind, channel: string): string {
  const a = parseAddress(channel);
  return a ? `${a.table}:${a.address}` : channel.trim();
}

/** Groups sorted addresses into spans of at most `max` (start..end inclusive) covering gaps. */
export function spans(addresses: readonly number[], max: number): { start: number; count: number }[] {
  const sorted = [...new Set(addresses)].sort((a, b) => a - b);
  const out: { start: number; count: number }[] = [];
  for (const a of sorted) {
    const last = out[out.length - 1];
    if (last && a - last.start < max) last.count = a - last.start + 1;
    else out.push({ start: a, count: 1 });
  }
  return out;
}

/** Groups sorted addresses into runs of consecutive addresses, each at most `max` long. */
export function runs(addresses: readonly number[], max: number): { start: number; count: number }[] {
  const sorted = [...new Set(addresses)].sort((a, b) => a - b);
  const out: { start: number; count: number }[] = [];
  for (const a of sorted) {
    const last = out[out.length - 1];
    if (last && a === last.start + last.count && last.count < max) last.count++;
    else out.push({ start: a, count: 1 });
  }
  return out;
}

function spanLabel(verb: string, table: Table, fc: string, s: { start: number; count: number }): string {
  const range =
    s.count === 1 ? `${table}:${s.start}` : `${table}:${s.start}..${table}:${s.start + s.count - 1}`;
  return `${verb} ${range} (${fc} start ${s.start}, count ${s.count})`;
}

/* ------------------------------------------------------------------------------------------------ */
/* Device                                                                                            */

type Outcome<T> = { ok: true; value: T } | { ok: false; failure: ModbusFailure };

class ModbusDevice implements IoDevice {
  readonly remote = true;
  private readonly tracker: HealthTracker;
  private readonly coils = new Map<number, StagedDigitalOutput>();
  private readonly pwms = new Map<number, StagedPwmOutput>();
  private readonly inputs = new Map<number, DebouncedInput>();
  private readonly pressures = new Map<
    string,
    { table: 'ir' | 'hr'; address: number; input: CalibratedPressureInput }
  >();

  private link: ModbusLink | undefined;
  private unsubscribe: (() => void) | undefined;
  /** Last operation problems by label, so one clean operation does not hide another's persistent fault. */
  private readonly problems = new Map<string, string>();
  private silentInARow = 0;
  private lastAnswerAtMs = 0;
  private unitRetryAtMs = Number.NEGATIVE_INFINITY;
  private unitBackoffMs = 0;
  private lastSampleAtMs = Number.NEGATIVE_INFINITY;
  private lastFlushAtMs = Number.NEGATIVE_INFINITY;
  private lastWritten: string | undefined;
  private readonly pollPeriodMs: number;

  constructor(
    readonly id: string,
    readonly type: string,
    private readonly config: ModbusCommonConfig,
    private readonly spec: LinkSpec,
    private readonly ctx: DriverContext,
  ) {
    this.tracker = new HealthTracker(ctx.clock);
    this.pollPeriodMs = config.pollHz ? 1000 / config.pollHz : 0;
  }

  private get unit(): string {
    return `${this.spec.where} unit ${this.config.unitId}`;
  }

  health(): DeviceHealth {
    return this.tracker.get();
  }

  /**
   * Connects and reads every channel in use once, so a wrong address or unit id fails here with
   * its name instead of as a fault in the middle of a session. On failure it rejects (the board
   * logs why) but keeps the link: like after a dropped link, sample()/flush() retry with back-off,
   * so a module switched on after the gateway comes online by itself. close() lets go either way.
   */
  async open(): Promise<void> {
    const fail = (why: string) => new Error(`${this.type} device ${this.id}: ${why}`);
    let link = this.link;
    if (!link) {
      try {
        link = acquireLink(this.spec, this.ctx.clock, this.ctx.log);
      } catch (err) {
        this.tracker.fail(err instanceof Error ? err.message : String(err), 'offline');
        throw fail(err instanceof Error ? err.message : String(err));
      }
      this.link = link;
      this.unsubscribe = link.onChange((e) => this.onLink(e));
    }
    // Nothing from an earlier open() carries over.
    this.problems.clear();
    this.silentInARow = 0;
    this.unitBackoffMs = 0;
    this.unitRetryAtMs = Number.NEGATIVE_INFINITY;
    this.lastSampleAtMs = Number.NEGATIVE_INFINITY;
    this.lastWritten = undefined;
    this.lastAnswerAtMs = this.ctx.clock.now();
    try {
      await link.connectNow();
    } catch (err) {
      // Health already says so, with the retry schedule (the link's down event).
      const why = err instanceof Error ? err.message : String(err);
      throw fail(
        `${this.spec.kind === 'tcp' ? 'cannot connect to' : 'cannot open'} ${this.spec.where} (${why})`,
      );
    }
    // Health is still 'offline' from before open(), so a silent unit stays offline (with a retry
    // back-off) rather than counting as one missed answer of a working unit.
    const problem = await this.probe(link);
    if (problem) throw fail(problem);
    this.settled();
  }

  async sample(): Promise<void> {
    try {
      await this.sampleNow();
    } catch (err) {
      // Nothing above should throw; if it does, it is a bug, but a tick must not die of it.
      this.tracker.fail(`internal error while sampling: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  async flush(): Promise<void> {
    try {
      await this.flushNow(false);
    } catch (err) {
      this.tracker.fail(`internal error while writing: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  async safe(): Promise<void> {
    for (const c of this.coils.values()) c.set(false);
    for (const p of this.pwms.values()) p.set(0);
    try {
      await this.flushNow(true);
    } catch (err) {
      this.tracker.fail(
        `internal error while writing the safe state: ${err instanceof Error ? err.message : String(err)}`,
      );
    }
  }

  async close(): Promise<void> {
    if (!this.link) return;
    await this.release();
    this.tracker.fail('closed', 'offline');
  }

  digitalOutput(channel: string): DigitalOutput {
    const a = this.address('digital-out', channel);
    let out = this.coils.get(a);
    if (!out) this.coils.set(a, (out = new StagedDigitalOutput(`${this.id}:coil:${a}`)));
    return out;
  }

  digitalInput(channel: string): DigitalInput {
    const a = this.address('digital-in', channel);
    let input = this.inputs.get(a);
    if (!input)
      this.inputs.set(a, (input = new DebouncedInput(`${this.id}:di:${a}`, this.config.debounceMs)));
    return input;
  }

  pwmOutput(channel: string): PwmOutput {
    const a = this.address('pwm-out', channel);
    let out = this.pwms.get(a);
    if (!out) this.pwms.set(a, (out = new StagedPwmOutput(`${this.id}:hr:${a}`)));
    return out;
  }

  pressureInput(channel: string): PressureInput {
    this.address('pressure-in', channel);
    const key = modbusChannelKey('pressure-in', channel);
    let p = this.pressures.get(key);
    if (!p) {
      const a = parseAddress(channel);
      if (!a || (a.table !== 'ir' && a.table !== 'hr')) throw new Error('unreachable: checked above');
      p = { table: a.table, address: a.address, input: new CalibratedPressureInput(`${this.id}:${key}`) };
      this.pressures.set(key, p);
    }
    return p.input;
  }

  private address(kind: ChannelKind, channel: string): number {
    const problem = checkModbusChannel(kind, channel, this.config);
    const a = parseAddress(channel);
    if (problem || !a) throw new ConfigError(`devices.${this.id}`, problem ?? `bad channel "${channel}"`);
    return a.address;
  }

  private async release(): Promise<void> {
    const link = this.link;
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    this.link = undefined;
    if (link) await releaseLink(link);
  }

  /* -- link and unit state ----------------------------------------------------------------------- */

  private onLink(e: LinkEvent): void {
    if (e.up) {
      // Probe the unit at the next tick instead of waiting out a back-off from before the outage.
      this.unitRetryAtMs = Number.NEGATIVE_INFINITY;
      return;
    }
    // Problems found before the outage may be gone after it; every operation re-reports.
    this.problems.clear();
    this.tracker.fail(`${this.silenceFor()}: ${e.reason}`, 'offline');
    this.failPressures(this.tracker.get().message ?? 'link down');
  }

  private silenceFor(): string {
    const ms = Math.round(this.ctx.clock.now() - this.lastAnswerAtMs);
    return `no answer from ${this.unit} for ${ms} ms`;
  }

  /** Whether I/O should be attempted now; kicks the link's reconnect when it is down. */
  private ready(link: ModbusLink, ignoreUnitBackoff = false): boolean {
    link.poll();
    return link.isUp && (ignoreUnitBackoff || this.ctx.clock.now() >= this.unitRetryAtMs);
  }

  private failPressures(detail: string, except?: ReadonlySet<CalibratedPressureInput>): void {
    const now = this.ctx.clock.now();
    for (const p of this.pressures.values()) if (!except?.has(p.input)) p.input.failed(detail, now);
  }

  /** Runs one transaction and does the health bookkeeping for it. Never rejects. */
  private async call<T>(
    link: ModbusLink,
    label: string,
    frameBytes: number,
    op: (c: ModbusClientPort) => Promise<T>,
  ): Promise<Outcome<T>> {
    try {
      const value = await link.transact(this.config.unitId, this.config.timeoutMs, frameBytes, op);
      this.answered();
      this.problems.delete(label);
      return { ok: true, value };
    } catch (err) {
      const failure = classifyFailure(err);
      this.failed(label, failure);
      return { ok: false, failure };
    }
  }

  private answered(): void {
    this.silentInARow = 0;
    this.unitBackoffMs = 0;
    this.unitRetryAtMs = Number.NEGATIVE_INFINITY;
    this.lastAnswerAtMs = this.ctx.clock.now();
  }

  private failed(label: string, failure: ModbusFailure): void {
    if (failure.kind === 'exception') {
      this.answered();
      const message = `unit ${this.config.unitId} at ${this.spec.where} refused ${label}: ${failure.text}`;
      this.problems.set(label, message);
      this.tracker.fail(message, 'degraded');
      return;
    }
    if (failure.kind === 'link-down') {
      this.tracker.fail(`${this.silenceFor()}: ${failure.text}`, 'offline');
      return;
    }
    this.silentInARow++;
    // Still offline if nothing has answered since it went offline (e.g. first try after a reconnect).
    if (this.silentInARow < UNIT_OFFLINE_AFTER_SILENT && this.tracker.state !== 'offline') {
      const message = `no answer from ${this.unit} within ${this.config.timeoutMs} ms to ${label} (${failure.text})`;
      this.problems.set(label, message);
      this.tracker.fail(message, 'degraded');
      return;
    }
    this.unitBackoffMs = Math.min(Math.max(this.unitBackoffMs * 2, RECONNECT_MIN_MS), RECONNECT_MAX_MS);
    this.unitRetryAtMs = this.ctx.clock.now() + this.unitBackoffMs;
    this.problems.set(label, failure.text);
    this.tracker.fail(
      `${this.silenceFor()} (${failure.text} on ${label}); next try in ${this.unitBackoffMs} ms`,
      'offline',
    );
  }

  /** After an operation with no failure of its own: ok unless another operation's fault persists. */
  private settled(): void {
    if (this.problems.size === 0 && this.tracker.state !== 'ok') this.tracker.ok();
  }

  /* -- I/O ------------------------------------------------------------------------------------------ */

  /** Reads every channel in use once (outputs too, to check their addresses). Returns the first problem. */
  private async probe(link: ModbusLink): Promise<string | undefined> {
    const hr = [...this.pressures.values()].filter((p) => p.table === 'hr').map((p) => p.address);
    for (const s of spans([...this.coils.keys()], MAX_READ_BITS)) {
      const out = await this.call(link, spanLabel('read', 'coil', 'FC01', s), readBitsBytes(s.count), (c) =>
        c.readCoils(s.start, s.count),
      );
      if (!out.ok) return this.tracker.get().message;
    }
    for (const s of spans([...this.pwms.keys(), ...hr], MAX_READ_REGISTERS)) {
      const out = await this.call(
        link,
        spanLabel('read', 'hr', 'FC03', s),
        readRegistersBytes(s.count),
        (c) => c.readHoldingRegisters(s.start, s.count),
      );
      if (!out.ok) return this.tracker.get().message;
    }
    return (await this.readInputs(link)) ? undefined : this.tracker.get().message;
  }

  private async sampleNow(): Promise<void> {
    const link = this.link;
    if (!link) return;
    if (!this.ready(link)) {
      this.failPressures(this.tracker.get().message ?? 'offline');
      return;
    }
    const now = this.ctx.clock.now();
    if (now - this.lastSampleAtMs < this.pollPeriodMs) {
      for (const p of this.pressures.values()) {
        if (p.input.read().health !== 'error')
          p.input.stale(`not polled this tick (pollHz ${this.config.pollHz})`);
      }
      return;
    }
    this.lastSampleAtMs = now;
    if (await this.readInputs(link)) this.settled();
  }

  /**
   * One request per table in use. Stops at the first silence, so a dead unit costs a tick one
   * timeout, not one per table. Returns whether every request succeeded.
   */
  private async readInputs(link: ModbusLink): Promise<boolean> {
    const clock = this.ctx.clock;
    const fresh = new Set<CalibratedPressureInput>();
    let clean = true;
    const giveUp = (): false => {
      this.failPressures(this.tracker.get().message ?? 'no answer', fresh);
      return false;
    };

    for (const s of spans([...this.inputs.keys()], MAX_READ_BITS)) {
      let at = 0;
      const out = await this.call(link, spanLabel('read', 'di', 'FC02', s), readBitsBytes(s.count), (c) => {
        at = clock.now();
        return c.readDiscreteInputs(s.start, s.count);
      });
      if (!out.ok) {
        clean = false;
        if (out.failure.kind !== 'exception') return giveUp();
        continue;
      }
      const bits = out.value.response.body.valuesAsArray;
      for (const [address, input] of this.inputs) {
        const i = address - s.start;
        if (i >= 0 && i < s.count) input.update(Boolean(bits[i]), at);
      }
    }

    const scaling = this.config.pressure;
    for (const table of ['ir', 'hr'] as const) {
      const channels = [...this.pressures.values()].filter((p) => p.table === table);
      const spansOfTable = spans(
        channels.map((p) => p.address),
        MAX_READ_REGISTERS,
      );
      for (const s of spansOfTable) {
        const label = spanLabel('read', table, table === 'ir' ? 'FC04' : 'FC03', s);
        let at = 0;
        const out = await this.call(link, label, readRegistersBytes(s.count), (c) => {
          at = clock.now();
          return table === 'ir'
            ? c.readInputRegisters(s.start, s.count)
            : c.readHoldingRegisters(s.start, s.count);
        });
        const inSpan = channels.filter((p) => p.address >= s.start && p.address < s.start + s.count);
        if (!out.ok) {
          clean = false;
          if (out.failure.kind !== 'exception') return giveUp();
          for (const p of inSpan) p.input.failed(this.tracker.get().message ?? label, clock.now());
          continue;
        }
        const words = out.value.response.body.valuesAsArray;
        for (const p of inSpan) {
          const word = words[p.address - s.start];
          if (word === undefined || !scaling) {
            p.input.failed(`short answer to ${label}`, at);
            continue;
          }
          const count = scaling.signed && word > 0x7fff ? word - 0x10000 : word;
          // `at` is when the request went out: the module's value already existed then, which is
          // the closest bound we have on when it was measured.
          p.input.measured(scaling.offset + scaling.scale * count, at);
          fresh.add(p.input);
        }
      }
    }
    return clean;
  }

  private async flushNow(force: boolean): Promise<void> {
    const link = this.link;
    if (!link || (this.coils.size === 0 && this.pwms.size === 0)) return;
    // The safe state is worth one timeout even to a unit that has stopped answering.
    if (!this.ready(link, force)) return;
    const coilValue = new Map([...this.coils].map(([a, c]) => [a, c.value]));
    const full = this.config.pwmFullScale ?? 0;
    const registerValue = new Map([...this.pwms].map(([a, p]) => [a, Math.round(p.duty * full)]));
    const signature = JSON.stringify([[...coilValue].sort(byAddress), [...registerValue].sort(byAddress)]);
    const now = this.ctx.clock.now();
    // pollHz caps the keep-alive rewrites, never a change: a valve must move on the tick it was told to.
    if (!force && signature === this.lastWritten && now - this.lastFlushAtMs < this.pollPeriodMs) return;
    this.lastFlushAtMs = now;

    const writes = [
      ...runs([...coilValue.keys()], MAX_WRITE_COILS).map((r) => ({
        label: spanLabel('write', 'coil', 'FC15', r),
        bytes: writeCoilsBytes(r.count),
        op: (c: ModbusClientPort) =>
          c.writeMultipleCoils(
            r.start,
            Array.from({ length: r.count }, (_, i) => coilValue.get(r.start + i) === true),
          ),
      })),
      ...runs([...registerValue.keys()], MAX_WRITE_REGISTERS).map((r) => ({
        label: spanLabel('write', 'hr', 'FC16', r),
        bytes: writeRegistersBytes(r.count),
        op: (c: ModbusClientPort) =>
          c.writeMultipleRegisters(
            r.start,
            Array.from({ length: r.count }, (_, i) => registerValue.get(r.start + i) ?? 0),
          ),
      })),
    ];
    let clean = true;
    for (const w of writes) {
      const out = await this.call(link, w.label, w.bytes, w.op);
      if (out.ok) continue;
      clean = false;
      // An exception concerns that request only; silence or a dead link concerns them all.
      if (out.failure.kind !== 'exception') break;
    }
    // Anything short of a clean write is retried at the next flush whatever pollHz says.
    this.lastWritten = clean ? signature : undefined;
    if (clean) this.settled();
  }
}

function byAddress(a: [number, unknown], b: [number, unknown]): number {
  return a[0] - b[0];
}

/*
 * Bytes of request plus answer on an RTU line (address + PDU + CRC each), for the wire-time part
 * of the timeout. Spec PDUs: reads 5 bytes out; answers 2 + data; FC15/FC16 6 + data out, 5 back.
 */
function readBitsBytes(count: number): number {
  return 8 + 5 + Math.ceil(count / 8);
}
function readRegistersBytes(count: number): number {
  return 8 + 5 + 2 * count;
}
function writeCoilsBytes(count: number): number {
  return 9 + Math.ceil(count / 8) + 8;
}
function writeRegistersBytes(count: number): number {
  return 9 + 2 * count + 8;
}

/* ------------------------------------------------------------------------------------------------ */
/* Driver definitions                                                                                */

export const modbusTcp: DriverDefinition<ModbusTcpConfig> = {
  type: 'modbus-tcp',
  summary:
    'Remote I/O module over Modbus TCP: coil:N outputs, di:N inputs, ir:N/hr:N pressure (scaled), hr:N PWM duty',
  parseConfig(raw, path) {
    const c = checkSchema(TcpSchema, raw, path);
    return { ...parseCommon(c, path), host: c.host, port: c.port ?? DEFAULT_TCP_PORT };
  },
  checkChannel: checkModbusChannel,
  channelKey: modbusChannelKey,
  create(id, config, ctx) {
    return new ModbusDevice(id, 'modbus-tcp', config, tcpLinkSpec(config.host, config.port), ctx);
  },
};

export const modbusRtu: DriverDefinition<ModbusRtuConfig> = {
  type: 'modbus-rtu',
  summary:
    'Remote I/O module over Modbus RTU (RS-485 serial port, needs the optional "serialport" package): same channels as modbus-tcp',
  parseConfig(raw, path) {
    const c = checkSchema(RtuSchema, raw, path);
    return {
      ...parseCommon(c, path),
      path: c.path,
      baudRate: c.baudRate,
      parity: oneOf(c.parity, ['none', 'even', 'odd'] as const, `${path}.parity`),
      dataBits: oneOf(c.dataBits ?? 8, [7, 8] as const, `${path}.dataBits`),
      stopBits: oneOf(c.stopBits ?? 1, [1, 2] as const, `${path}.stopBits`),
    };
  },
  checkChannel: checkModbusChannel,
  channelKey: modbusChannelKey,
  create(id, config, ctx) {
    return new ModbusDevice(id, 'modbus-rtu', config, rtuLinkSpec(config), ctx);
  },
};
