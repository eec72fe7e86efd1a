/**
 * Building blocks shared by every driver: health bookkeeping, staged outputs, debounced inputs and
 * calibrated pressure inputs. A driver keeps one of these per channel in use and does only the
 * chip-specific I/O itself.
 */
import { ConfigError } from '../config-error.js';
import type { Clock } from '../clock.js';
import {
  clampDuty,
  type ChannelKind,
  type DeviceHealth,
  type DigitalInput,
  type DigitalOutput,
  type DeviceHealthState,
  type PressureInput,
  type PressureSample,
  type PwmOutput,
} from './io.js';

export class HealthTracker {
  private h: DeviceHealth;

  constructor(private readonly clock: Clock) {
    this.h = { state: 'offline', message: 'not opened', sinceMs: clock.now(), errors: 0 };
  }

  get(): DeviceHealth {
    return { ...this.h };
  }

  get state(): DeviceHealthState {
    return this.h.state;
  }

  ok(): void {
    this.set('ok', undefined);
  }

  /** Records a failed transaction. `state` is 'degraded' when some I/O still works, else 'offline'. */
  fail(message: string, state: DeviceHealthState = 'degraded'): void {
    this.h.errors++;
    this.set(state, message);
  }

  /** Marks the device offline without counting a failed transaction (closed, not yet opened). */
  offline(message: string): void {
    this.set('offline', message);
  }

  private set(state: DeviceHealthState, message: string | undefined): void {
    if (state !== this.h.state) this.h.sinceMs = this.clock.now();
    this.h.state = state;
    this.h.message = message;
  }
}

export class StagedDigitalOutput implements DigitalOutput {
  private v = false;
  constructor(readonly ref: string) {}
  set(on: boolean): void {
    this.v = on === true;
  }
  get value(): boolean {
    return this.v;
  }
}

export class StagedPwmOutput implements PwmOutput {
  private d = 0;
  constructor(readonly ref: string) {}
  set(duty: number): void {
    this.d = clampDuty(duty);
  }
  get duty(): number {
    return this.d;
  }
}

/**
 * A level that must hold for `debounceMs` before it counts. Contact bounce on a mushroom e-stop
 * lasts a few ms; LIMITS.debounceMs's default keeps a single bounce from latching a fault while
 * adding at most two ticks at the default LIMITS.loopRateHz.
 */
export class DebouncedInput implements DigitalInput {
  private level: boolean;
  private candidate: boolean;
  private candidateSince: number;
  private listeners = new Set<(value: boolean, atMs: number) => void>();

  constructor(
    readonly ref: string,
    private readonly debounceMs: number,
    initial = false,
  ) {
    this.level = initial;
    this.candidate = initial;
    this.candidateSince = Number.NEGATIVE_INFINITY;
  }

  get value(): boolean {
    return this.level;
  }

  /** Feeds one raw reading taken at `atMs`. The first reading after start is taken as is. */
  update(raw: boolean, atMs: number): void {
    if (this.candidateSince === Number.NEGATIVE_INFINITY) {
      this.level = raw;
      this.candidate = raw;
      this.candidateSince = atMs;
      return;
    }
    if (raw !== this.candidate) {
      this.candidate = raw;
      this.candidateSince = atMs;
    }
    if (this.candidate !== this.level && atMs - this.candidateSince >= this.debounceMs) {
      this.level = this.candidate;
      for (const l of this.listeners) l(this.level, atMs);
    }
  }

  onEdge(listener: (value: boolean, atMs: number) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}

export class CalibratedPressureInput implements PressureInput {
  private zero = 0;
  private last: PressureSample = {
    mmHg: Number.NaN,
    sampledAtMs: Number.NEGATIVE_INFINITY,
    health: 'error',
    detail: 'no sample yet',
  };

  constructor(readonly ref: string) {}

  read(): PressureSample {
    return this.last;
  }

  setZeroOffset(offsetMmHg: number): void {
    if (!Number.isFinite(offsetMmHg))
      throw new RangeError(`zero offset for ${this.ref} must be a finite number`);
    this.zero = offsetMmHg;
  }

  get zeroOffsetMmHg(): number {
    return this.zero;
  }

  /** Records a fresh measurement in mmHg before zero correction. */
  measured(rawMmHg: number, atMs: number): void {
    this.last = { mmHg: rawMmHg - this.zero, sampledAtMs: atMs, health: 'ok' };
  }

  /** The chip answered but had nothing new: keep the old value and time, flag it stale. */
  stale(detail: string): void {
    this.last = { ...this.last, health: 'stale', detail };
  }

  failed(detail: string, atMs: number): void {
    this.last = { mmHg: Number.NaN, sampledAtMs: atMs, health: 'error', detail };
  }
}

/** The error a device throws for a channel kind it does not offer. */
export function noSuchKind(deviceId: string, type: string, kind: ChannelKind): ConfigError {
  return new ConfigError(`devices.${deviceId}`, `a ${type} has no ${kind} channels`);
}

/** Parses a whole-number channel in [0, max], or returns undefined. */
export function channelIndex(channel: string, max: number): number | undefined {
  if (!/^\d+$/.test(channel.trim())) return undefined;
  const n = Number(channel);
  return n <= max ? n : undefined;
}
