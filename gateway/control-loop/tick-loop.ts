/**
 * A fixed-rate loop on absolute deadlines: tick n is due at start + n·period, whatever the
 * previous tick cost, so the rate never drifts (setInterval schedules after the callback and
 * drifts by the work time; pneumatics reference §3). Lateness (start − deadline) is measured
 * every tick. When a tick overruns a whole period the missed deadlines are skipped, not run in
 * a burst: a burst would act on stale samples.
 */
import type { Clock } from '../clock.js';

export interface LatenessStats {
  periodMs: number;
  ticks: number;
  /** Ticks whose deadline was skipped because an earlier tick ran past it. */
  skipped: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Largest lateness since start (the window above forgets). */
  maxEverMs: number;
}

/** Lateness figures over the last WINDOW ticks (LOOP_LATE_WINDOW_MS at the default LIMITS.loopRateHz). */
const WINDOW_TICKS = 6000;

export class LatenessWindow {
  private readonly buf = new Float64Array(WINDOW_TICKS);
  private n = 0;
  private maxEver = 0;

  add(ms: number): void {
    this.buf[this.n % WINDOW_TICKS] = ms;
    this.n++;
    if (ms > this.maxEver) this.maxEver = ms;
  }

  get count(): number {
    return this.n;
  }

  summary(): { p50Ms: number; p99Ms: number; maxMs: number; maxEverMs: number } {
    const k = Math.min(this.n, WINDOW_TICKS);
    if (k === 0) return { p50Ms: 0, p99Ms: 0, maxMs: 0, maxEverMs: 0 };
    const sorted = Array.from(this.buf.subarray(0, k)).sort((a, b) => a - b);
    const at = (q: number) => sorted[Math.min(k - 1, Math.floor(q * k))] ?? 0;
    return { p50Ms: at(0.5), p99Ms: at(0.99), maxMs: sorted[k - 1] ?? 0, maxEverMs: this.maxEver };
  }
}

export interface TickInfo {
  n: number;
  deadlineMs: number;
  /** How late this tick started against its own deadline. */
  latenessMs: number;
  /**
   * How much longer than one period has passed since the previous tick started. A stalled tick
   * makes the loop skip deadlines, so its successor is not late against its own: this is what
   * shows the stall.
   */
  overdueMs: number;
}

export type TickFn = (info: TickInfo) => Promise<void> | void;

export class TickLoop {
  private running = false;
  private done: Promise<void> | undefined;
  private readonly lateness = new LatenessWindow();
  private skipped = 0;
  private wake: (() => void) | undefined;
  private readonly stopped = new Promise<void>((resolve) => (this.wake = resolve));

  constructor(
    private readonly clock: Clock,
    readonly periodMs: number,
    private readonly tick: TickFn,
    private readonly onError: (e: unknown) => void = () => {},
    /** Bench instrumentation (a TickObserver, tick-observer.ts); absent in normal use. */
    private readonly observer?: { loopTick?(info: TickInfo, nowMs: number): void },
  ) {
    if (!(periodMs > 0)) throw new RangeError('tick period must be positive');
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.done = this.run();
  }

  /**
   * Stops after the tick in progress (a loop waiting for its next deadline stops at once, so a
   * shutdown never waits a period); resolves when the loop has returned.
   */
  async stop(): Promise<void> {
    this.running = false;
    this.wake?.();
    await this.done;
  }

  stats(): LatenessStats {
    return {
      periodMs: this.periodMs,
      ticks: this.lateness.count,
      skipped: this.skipped,
      ...this.lateness.summary(),
    };
  }

  private async run(): Promise<void> {
    const start = this.clock.now();
    let n = 0;
    let lastStart: number | undefined;
    while (this.running) {
      const deadline = start + n * this.periodMs;
      const wait = deadline - this.clock.now();
      if (wait > 0) await Promise.race([this.clock.sleep(wait), this.stopped]);
      if (!this.running) break;
      const now = this.clock.now();
      const latenessMs = Math.max(0, now - deadline);
      const overdueMs = lastStart === undefined ? 0 : Math.max(0, now - lastStart - this.periodMs);
      lastStart = now;
      this.lateness.add(latenessMs);
      const info: TickInfo = { n, deadlineMs: deadline, latenessMs, overdueMs };
      try {
        this.observer?.loopTick?.(info, now);
        await this.tick(info);
      } catch (e) {
        this.onError(e);
      }
      n++;
      // Skip deadlines that already passed while this tick ran.
      const behind = Math.floor((this.clock.now() - (start + n * this.periodMs)) / this.periodMs);
      if (behind > 0) {
        this.skipped += behind;
        n += behind;
      }
    }
  }
}
