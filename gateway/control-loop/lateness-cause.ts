/**
 * Why was a tick late? What the controller's own main thread did during the gap, from Linux's
 * per-task accounting (no package, no privilege):
 *
 * - /proc/thread-self/schedstat: time on a CPU and time runnable but waiting for one (run-queue
 *   delay), in ns — a starved process shows the gap here;
 * - /proc/self/stat: minor and major page faults — memory reclaim or swap shows here;
 * - PerformanceObserver 'gc' entries: V8's pauses (they are on-CPU time of the main thread, so
 *   they are a part of `onCpuMs`, not added to it).
 *
 * Whatever is neither on a CPU nor waiting for one is `otherMs`: blocked in the kernel (a major
 * fault, I/O), a lock (V8's main thread waiting for its GC helper threads) or the timer firing
 * late. The controller calls mark() at the start of every tick, before it samples; a late tick
 * then asks explain() about the gap between the previous tick's start and this one's. Each snapshot is two pread()s of
 * small procfs files into a preallocated buffer: no allocation worth the name at LIMITS.loopRateHz. On a
 * system without these files (not Linux) the figures are absent and the cause says 'unknown'.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { PerformanceObserver } from 'node:perf_hooks';

export interface LatenessCause {
  /** The gap explained: time since the previous tick started, ms. */
  gapMs: number;
  /** Main thread runnable but not running (waiting for a CPU), ms. */
  runQueueMs?: number;
  /** Main thread on a CPU (own work, GC included), ms. */
  onCpuMs?: number;
  /** V8 garbage collection pauses seen within the gap, ms. */
  gcMs: number;
  minorFaults?: number;
  majorFaults?: number;
  /** The largest share of the gap, in words support can act on. */
  cause: 'cpu-starved' | 'own-work' | 'garbage-collection' | 'blocked' | 'unknown';
}

interface Counters {
  atMs: number;
  runNs: number;
  waitNs: number;
  minflt: number;
  majflt: number;
}

const GC_KEEP = 64;

export class LatenessCauseProbe {
  private readonly buf = Buffer.alloc(1024);
  private schedFd: number | undefined;
  private statFd: number | undefined;
  private prev: Counters | undefined;
  private last: Counters | undefined;
  private readonly gc: { start: number; end: number }[] = [];
  private readonly observer: PerformanceObserver | undefined;

  constructor(private readonly now: () => number = () => performance.now()) {
    try {
      this.schedFd = openSync('/proc/thread-self/schedstat', 'r');
      this.statFd = openSync('/proc/self/stat', 'r');
    } catch {
      this.close();
    }
    try {
      this.observer = new PerformanceObserver((list) => {
        for (const e of list.getEntries()) {
          this.gc.push({ start: e.startTime, end: e.startTime + e.duration });
          if (this.gc.length > GC_KEEP) this.gc.shift();
        }
      });
      this.observer.observe({ entryTypes: ['gc'] });
    } catch {
      this.observer = undefined;
    }
  }

  private read(fd: number | undefined): string | undefined {
    if (fd === undefined) return undefined;
    try {
      const n = readSync(fd, this.buf, 0, this.buf.length, 0);
      return this.buf.toString('latin1', 0, n);
    } catch {
      return undefined;
    }
  }

  private counters(): Counters | undefined {
    const sched = this.read(this.schedFd);
    const stat = this.read(this.statFd);
    if (sched === undefined || stat === undefined) return undefined;
    const [run, wait] = sched.split(' ');
    // Fields after the command name's closing ')': state is 0, minflt 7, majflt 9 (proc(5) 10, 12).
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return {
      atMs: this.now(),
      runNs: Number(run),
      waitNs: Number(wait),
      minflt: Number(f[7]),
      majflt: Number(f[9]),
    };
  }

  /** At every tick start, before anything else. */
  mark(): void {
    this.prev = this.last;
    this.last = this.counters() ?? { atMs: this.now(), runNs: NaN, waitNs: NaN, minflt: NaN, majflt: NaN };
  }

  /** About the gap between the last two marks (the previous tick's start and this one's). */
  explain(): LatenessCause {
    const before = this.prev;
    const after = this.last ?? { atMs: this.now(), runNs: NaN, waitNs: NaN, minflt: NaN, majflt: NaN };
    const from = before?.atMs ?? after.atMs;
    const gapMs = after.atMs - from;
    let gcMs = 0;
    for (const g of this.gc) gcMs += Math.max(0, Math.min(g.end, after.atMs) - Math.max(g.start, from));
    const out: LatenessCause = { gapMs, gcMs, cause: 'unknown' };
    if (before && Number.isFinite(before.runNs) && Number.isFinite(after.runNs)) {
      out.runQueueMs = (after.waitNs - before.waitNs) / 1e6;
      out.onCpuMs = (after.runNs - before.runNs) / 1e6;
      out.minorFaults = after.minflt - before.minflt;
      out.majorFaults = after.majflt - before.majflt;
      const other = gapMs - out.runQueueMs - out.onCpuMs;
      const top = Math.max(out.runQueueMs, out.onCpuMs, other);
      out.cause =
        top === out.runQueueMs
          ? 'cpu-starved'
          : top === out.onCpuMs
            ? gcMs >= out.onCpuMs / 2
              ? 'garbage-collection'
              : 'own-work'
            : 'blocked';
    } else if (gcMs > gapMs / 2) {
      out.cause = 'garbage-collection';
    }
    return out;
  }

  close(): void {
    this.observer?.disconnect();
    for (const fd of [this.schedFd, this.statFd]) {
      if (fd !== undefined) {
        try {
          closeSync(fd);
        } catch {
          // already closed
        }
      }
    }
    this.schedFd = undefined;
    this.statFd = undefined;
  }
}

/** The cause in words for an alarm reason or a log line. */
export function describeCause(c: LatenessCause): string {
  const parts: string[] = [];
  if (c.runQueueMs !== undefined) parts.push(`waiting for a CPU ${c.runQueueMs.toFixed(0)} ms`);
  if (c.onCpuMs !== undefined) parts.push(`running ${c.onCpuMs.toFixed(0)} ms`);
  if (c.gcMs > 0) parts.push(`garbage collection ${c.gcMs.toFixed(0)} ms`);
  if (c.majorFaults) parts.push(`${c.majorFaults} major page faults`);
  const words = {
    'cpu-starved': 'other processes had the CPU',
    'own-work': 'the controller was busy',
    'garbage-collection': 'garbage collection',
    blocked: 'the controller was blocked (in the kernel, or waiting for its own helper threads)',
    unknown: 'cause unknown',
  }[c.cause];
  return parts.length > 0 ? `${words} (${parts.join(', ')})` : words;
}
