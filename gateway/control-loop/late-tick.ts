/**
 * The late-tick rule: late is not the same as unsafe (docs/safety.md §5, "A late tick").
 *
 * The danger of a late tick is a pump that ran unsupervised for the length of the gap. The tick
 * that ends the gap samples fresh pressures and runs every station rule first (a zone above its
 * trip level trips as usual); this rule then only decides about the gap itself:
 *
 * - below `loopLatePeriods` periods: on time;
 * - late, but below `loopLateHardMs`, and fewer than `loopLateBurst` late ticks within 60 s: a
 *   `loop-late` report (low priority, not latched, no vent) and a maintenance count;
 * - at or above `loopLateHardMs`, or the `loopLateBurst`-th late tick within 60 s: vent every
 *   station (`loop-stall`, high, latched).
 *
 * Pure: it takes the lateness and the clock and returns a verdict.
 */
import { LIMITS, LOOP_LATE_WINDOW_MS } from '../limits.js';

export type LateVerdict =
  | { kind: 'on-time' }
  | { kind: 'late'; latenessMs: number; lateInWindow: number }
  | { kind: 'stall'; latenessMs: number; lateInWindow: number; why: 'hard-bound' | 'burst' };

/** Shared: judged every tick, and nothing to say on a tick on time. */
const ON_TIME: LateVerdict = Object.freeze({ kind: 'on-time' });

export class LateTickRule {
  /** Clock times of the late ticks within the last LOOP_LATE_WINDOW_MS. */
  private recent: number[] = [];
  private total = 0;

  constructor(
    private readonly periodMs: number,
    private readonly limits = {
      latePeriods: LIMITS.loopLatePeriods.default,
      hardMs: LIMITS.loopLateHardMs.default,
      burst: LIMITS.loopLateBurst.default,
    },
  ) {}

  /** Late ticks since the controller started (a maintenance counter). */
  get lateTicks(): number {
    return this.total;
  }

  /** The lateness from which a tick counts as late, ms. */
  get lateFromMs(): number {
    return this.limits.latePeriods * this.periodMs;
  }

  judge(nowMs: number, latenessMs: number): LateVerdict {
    if (!(latenessMs > this.lateFromMs)) return ON_TIME;
    this.total++;
    this.recent = this.recent.filter((t) => nowMs - t < LOOP_LATE_WINDOW_MS);
    this.recent.push(nowMs);
    const lateInWindow = this.recent.length;
    if (latenessMs >= this.limits.hardMs)
      return { kind: 'stall', latenessMs, lateInWindow, why: 'hard-bound' };
    if (lateInWindow >= this.limits.burst) return { kind: 'stall', latenessMs, lateInWindow, why: 'burst' };
    return { kind: 'late', latenessMs, lateInWindow };
  }
}
