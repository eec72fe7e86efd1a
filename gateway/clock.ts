/**
 * The one source of time for drivers, the simulator and the control loop.
 *
 * Everything that waits or timestamps takes a Clock, so tests can run a 30-minute session in
 * virtual time: the simulator integrates up to `clock.now()` and drivers `sleep()` for conversion
 * times on the same clock.
 */
export interface Clock {
  /** Monotonic milliseconds (fractional). Never goes backwards. */
  now(): number;
  /** Resolves once `now()` has reached the current time plus `ms`. */
  sleep(ms: number): Promise<void>;
}

/** Wall-clock time from the monotonic high-resolution timer; immune to NTP steps. */
export class RealClock implements Clock {
  now(): number {
    return performance.now();
  }

  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
  }
}

interface Sleeper {
  at: number;
  seq: number;
  resolve: () => void;
}

/**
 * Time that only moves when told to. `advance()` walks through every pending sleep in deadline
 * order and lets the promise chains that wake up run (and schedule further sleeps) before time
 * moves on, so code that awaits `sleep()` behaves as it would in real time, only faster.
 */
export class VirtualClock implements Clock {
  private t: number;
  private seq = 0;
  private sleepers: Sleeper[] = [];

  constructor(startMs = 0) {
    this.t = startMs;
  }

  now(): number {
    return this.t;
  }

  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      this.sleepers.push({ at: this.t + Math.max(0, ms), seq: this.seq++, resolve });
    });
  }

  /** Number of sleeps not yet woken. */
  get pending(): number {
    return this.sleepers.length;
  }

  /** Moves time forward by `ms`, waking sleepers (and what they schedule) in order. */
  async advance(ms: number): Promise<void> {
    await this.advanceTo(this.t + ms);
  }

  async advanceTo(target: number): Promise<void> {
    await settle();
    for (;;) {
      const next = this.earliest();
      if (!next || next.at > target) break;
      this.sleepers.splice(this.sleepers.indexOf(next), 1);
      if (next.at > this.t) this.t = next.at;
      next.resolve();
      await settle();
    }
    if (target > this.t) this.t = target;
    await settle();
  }

  private earliest(): Sleeper | undefined {
    let best: Sleeper | undefined;
    for (const s of this.sleepers) {
      if (!best || s.at < best.at || (s.at === best.at && s.seq < best.seq)) best = s;
    }
    return best;
  }
}

/**
 * Lets every promise continuation that is already runnable run: the microtask queue is drained
 * completely before the next macrotask, so one turn of setImmediate is enough for code whose I/O
 * resolves in microtasks (the simulator and the chip models).
 */
export function settle(): Promise<void> {
  return new Promise<void>((resolve) => setImmediate(resolve));
}
