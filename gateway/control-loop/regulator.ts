/**
 * Chamber pressure regulation for one zone: turns the program's command (fill / hold / vent to a
 * target) and the measured pressure into valve states and a pump demand. Pure logic with per-zone
 * state; the station adds up the pump demands and the supervisor has the last word.
 *
 * Physics it works with (pneumatics reference §1.6, §6): a pump fill raises a chamber at
 * 20–50 mmHg/s near the set point, and ~40 ms pass between a decision and the inlet actually
 * closing (tick, sensor age, valve closing delay). So the inlet is closed a learned "lead" below
 * the target, and the pump slows over the last mmHg (the AutoInflate approach of ramping PWM
 * near the set point). The lead is learned per zone from each fill's overshoot, as commercial
 * controllers converge over 2–3 cycles.
 */

export type ZoneCommandKind = 'vent' | 'fill' | 'hold';

export interface ZoneDrive {
  /** Inlet valve energised (open). */
  inlet: boolean;
  /** Exhaust valve energised (closed). De-energised vents. */
  exhaust: boolean;
  /** Pump duty this zone asks for, 0..1. */
  pumpDemand: number;
}

/** Pressure band over which the pump slows down before the target. */
export const SLOW_BAND_MMHG = 12;
/** Slowest useful duty: the simulated and typical diaphragm pumps stall below ~25 % (§7). */
export const MIN_FILL_DUTY = 0.35;
/** Least duty for a top-up: gentle, so a hold does not overshoot, but well above the pump's stall. */
export const TOP_UP_DUTY = 0.5;
/** Holding: refill when this far below the target, bleed when this far above. */
export const HOLD_LOW_MMHG = 1.5;
export const HOLD_HIGH_MMHG = 3;
/** Bounds of the learned inlet-close lead. */
export const LEAD_MIN_MMHG = 0;
export const LEAD_MAX_MMHG = 8;
const LEAD_INITIAL_MMHG = 1;
/** How much of a fill's overshoot the lead learns per cycle (damped, so noise does not make it hunt). */
const LEAD_LEARNING_RATE = 0.5;
/** Overshoot is judged this long after the inlet closed: valve delay plus tube equalisation. */
const OVERSHOOT_WINDOW_MS = 400;

export class ZoneRegulator {
  private lead = LEAD_INITIAL_MMHG;
  private filling = false;
  private topUp = false;
  private bleed = false;
  /** Set when a fill ended, to measure its overshoot. */
  private closedAtMs: number | undefined;
  private peakAfterClose = Number.NEGATIVE_INFINITY;
  private closedTarget = 0;
  /** Top-up time in the current hold, for the compensated-leak rule and the leak trend. */
  private topUpMs = 0;
  private holdMs = 0;
  private lastMs: number | undefined;
  private lastCommand: ZoneCommandKind = 'vent';
  private overshoots: number[] = [];
  /** Whether the station let this zone's inlet open last tick (see Station's arbitration). */
  private granted = true;

  /** True once the zone has reached its current fill target (the sequencer's feedback). */
  reached = false;

  get leadMmHg(): number {
    return this.lead;
  }

  /** Top-up time so far in the current hold phase, ms. */
  get topUpInHoldMs(): number {
    return this.topUpMs;
  }

  /** Share of the current hold spent topping up (0..1): the leak trend. */
  get topUpDuty(): number {
    return this.holdMs > 0 ? this.topUpMs / this.holdMs : 0;
  }

  /** Overshoot (mmHg above target) of each completed fill, oldest first. */
  get fillOvershoots(): readonly number[] {
    return this.overshoots;
  }

  /** Forget the phase (after a pause, a stop or a fault); the learned lead is kept. */
  reset(): void {
    this.filling = false;
    this.topUp = false;
    this.bleed = false;
    this.reached = false;
    this.closedAtMs = undefined;
    this.topUpMs = 0;
    this.holdMs = 0;
    this.lastCommand = 'vent';
  }

  /**
   * One tick. `pressure` is the latest valid sample (NaN when there is none: the zone is then
   * driven safe — inlet shut, pump not asked — and the supervisor decides what the fault means).
   */
  update(command: ZoneCommandKind, targetMmHg: number, pressure: number, nowMs: number): ZoneDrive {
    const dt = this.lastMs === undefined ? 0 : Math.max(0, nowMs - this.lastMs);
    this.lastMs = nowMs;
    this.trackOvershoot(pressure, nowMs);

    if (command !== this.lastCommand) {
      if (command === 'fill') {
        this.filling = true;
        this.reached = false;
      }
      if (command !== 'hold' || this.lastCommand === 'vent') {
        this.topUpMs = 0;
        this.holdMs = 0;
      }
      if (command === 'vent') this.reached = false;
      this.lastCommand = command;
    }

    if (command === 'vent' || !Number.isFinite(pressure)) {
      this.filling = false;
      this.topUp = false;
      return { inlet: false, exhaust: command !== 'vent', pumpDemand: 0 };
    }

    if (this.filling) {
      if (pressure >= targetMmHg - this.lead) {
        this.filling = false;
        this.reached = true;
        this.closedAtMs = nowMs;
        this.closedTarget = targetMmHg;
        this.peakAfterClose = pressure;
      } else {
        return { inlet: true, exhaust: true, pumpDemand: fillDuty(targetMmHg - pressure) };
      }
    }

    // Holding at target: gentle top-ups below the band, short bleeds above it.
    this.holdMs += dt;
    // Only time the inlet was really open counts as topping up: waiting for the pump is not a leak.
    if (this.topUp && this.granted) this.topUpMs += dt;
    if (this.topUp ? pressure >= targetMmHg - this.lead / 2 : pressure < targetMmHg - HOLD_LOW_MMHG) {
      this.topUp = !this.topUp;
    }
    this.bleed = !this.topUp && pressure > targetMmHg + HOLD_HIGH_MMHG;
    if (pressure >= targetMmHg - HOLD_LOW_MMHG) this.reached = true;
    return {
      inlet: this.topUp,
      exhaust: !this.bleed,
      pumpDemand: this.topUp ? Math.max(TOP_UP_DUTY, fillDuty(targetMmHg - pressure)) : 0,
    };
  }

  /** The station's decision on this tick's inlet request. */
  grant(granted: boolean): void {
    this.granted = granted;
  }

  /**
   * How urgently this zone wants its inlet. Top-ups go before fills: a top-up takes ~0.1 s and
   * keeps a held zone at its set pressure, while a fill paused that long only ends that much
   * later (the sequencer waits for "reached"). Among top-ups, the largest deficit first.
   */
  inletPriority(targetMmHg: number, pressure: number): number {
    if (this.topUp) return 1e6 + (targetMmHg - pressure);
    return this.filling ? 0 : Number.NEGATIVE_INFINITY;
  }

  private trackOvershoot(pressure: number, nowMs: number): void {
    if (this.closedAtMs === undefined) return;
    if (Number.isFinite(pressure)) this.peakAfterClose = Math.max(this.peakAfterClose, pressure);
    if (nowMs - this.closedAtMs < OVERSHOOT_WINDOW_MS) return;
    const overshoot = this.peakAfterClose - this.closedTarget;
    this.overshoots.push(overshoot);
    if (this.overshoots.length > 64) this.overshoots.shift();
    this.lead = Math.min(LEAD_MAX_MMHG, Math.max(LEAD_MIN_MMHG, this.lead + LEAD_LEARNING_RATE * overshoot));
    this.closedAtMs = undefined;
  }
}

/** Full speed far from the target, slowing linearly to MIN_FILL_DUTY over the last SLOW_BAND_MMHG. */
export function fillDuty(belowTargetMmHg: number): number {
  if (belowTargetMmHg >= SLOW_BAND_MMHG) return 1;
  const f = Math.max(0, belowTargetMmHg) / SLOW_BAND_MMHG;
  return MIN_FILL_DUTY + (1 - MIN_FILL_DUTY) * f;
}
