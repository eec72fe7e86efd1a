/**
 * One solenoid valve of the simulated station (station-model.ts): its coil state and the opening
 * fraction that follows it in time.
 */

/**
 * Opening fraction of one valve over time: a pure delay after each command, then a linear ramp of
 * the flow area (§7 "pure delay then ramp of opening area"; §1.4 MathWorks models switching the
 * same way). Kept as a short piecewise-linear schedule so a command that arrives while the valve
 * is still moving continues from wherever the armature is when the new delay has elapsed.
 */
export class Valve {
  energised = false;
  actuations = 0;
  private ts: number[];
  private vs: number[];
  /** Last breakpoint: after it the valve rests at endV (the common case, checked first). */
  private endT: number;
  private endV: number;

  constructor(
    /** true for the normally-closed inlet (energised = open), false for the normally-open exhaust. */
    private readonly opensWhenEnergised: boolean,
    now: number,
  ) {
    this.endT = now;
    this.endV = opensWhenEnergised ? 0 : 1;
    this.ts = [now];
    this.vs = [this.endV];
  }

  /** Time after which the valve no longer moves. */
  get settleAt(): number {
    return this.endT;
  }

  fractionAt(t: number): number {
    return t >= this.endT ? this.endV : this.moving(t);
  }

  /** Opening while a movement is scheduled or under way (kept out of fractionAt so that inlines). */
  private moving(t: number): number {
    const n = this.ts.length;
    if (t <= (this.ts[0] ?? 0)) return this.vs[0] ?? 0;
    for (let i = 1; i < n; i++) {
      const t1 = this.ts[i] ?? 0;
      if (t <= t1) {
        const t0 = this.ts[i - 1] ?? 0;
        const v0 = this.vs[i - 1] ?? 0;
        const v1 = this.vs[i] ?? 0;
        return t1 > t0 ? v0 + ((v1 - v0) * (t - t0)) / (t1 - t0) : v1;
      }
    }
    return this.vs[n - 1] ?? 0;
  }

  /**
   * Changes the coil state at `now`. `jitter` (e.g. 1 ± 0.2) scales this actuation's delay and
   * ramp. Returns false (and does nothing) when the coil is already in that state.
   */
  command(
    energised: boolean,
    now: number,
    openDelayMs: number,
    closeDelayMs: number,
    rampMs: number,
    jitter: number,
  ): boolean {
    if (energised === this.energised) return false;
    this.energised = energised;
    this.actuations++;
    const target = energised === this.opensWhenEnergised ? 1 : 0;
    const start = now + (target === 1 ? openDelayMs : closeDelayMs) * jitter;
    const from = this.fractionAt(start);
    const fromNow = this.fractionAt(now);
    // Drop history before now and everything scheduled from `start` on.
    const ts: number[] = [now];
    const vs: number[] = [fromNow];
    for (let i = 0; i < this.ts.length; i++) {
      const t = this.ts[i] ?? 0;
      if (t > now && t < start) {
        ts.push(t);
        vs.push(this.vs[i] ?? 0);
      }
    }
    if (start > now) {
      ts.push(start);
      vs.push(from);
    }
    this.endT = start + rampMs * jitter * Math.abs(target - from);
    this.endV = target;
    ts.push(this.endT);
    vs.push(target);
    this.ts = ts;
    this.vs = vs;
    return true;
  }
}
