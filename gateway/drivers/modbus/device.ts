/**
 * One Modbus device: one unit id on one link (behaviour: ../modbus.ts). It batches its channels
 * into requests, keeps its health from the answers, and shares its link with the other devices of
 * the board on the same port or host:port.
 */
import { ConfigError } from '../../config-error.js';
import {
  CalibratedPressureInput,
  DebouncedInput,
  HealthTracker,
  StagedDigitalOutput,
  StagedPwmOutput,
} from '../channels.js';
import type {
  ChannelKind,
  DeviceHealth,
  DigitalInput,
  DigitalOutput,
  DriverContext,
  IoDevice,
  PressureInput,
  PwmOutput,
} from '../io.js';
import { checkModbusChannel, modbusChannelKey, parseAddress, spanLabel } from './address.js';
import {
  MAX_READ_BITS,
  MAX_READ_REGISTERS,
  MAX_WRITE_COILS,
  MAX_WRITE_REGISTERS,
  readBitsBytes,
  readRegistersBytes,
  runs,
  spans,
  writeCoilsBytes,
  writeRegistersBytes,
} from './batching.js';
import type { ModbusCommonConfig } from './config.js';
import { classifyFailure, type ModbusFailure } from './failure.js';
import {
  ModbusLink,
  RECONNECT_MAX_MS,
  RECONNECT_MIN_MS,
  type LinkEvent,
  type LinkSpec,
  type ModbusClientPort,
} from './link.js';

/** Missed answers in a row before the unit counts as offline (one miss can be line noise). */
export const UNIT_OFFLINE_AFTER_SILENT = 3;

type Outcome<T> = { ok: true; value: T } | { ok: false; failure: ModbusFailure };

export class ModbusDevice implements IoDevice {
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
        link = this.ctx.links.acquire(
          this.spec.key,
          this.spec.settings,
          () => new ModbusLink(this.spec, this.ctx.clock, this.ctx.log),
        );
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
    if (link) await this.ctx.links.release(this.spec.key, link);
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
