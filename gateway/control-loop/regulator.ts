/**
 * Chamber pressure regulation for one zone: turns the program's command (fill / hold / vent to a
 * target) and the measured pressure into valve states and a pump demand. Pure logic with per-zone
 * state; the station arbitrates the shared pump and the supervisor has the last word.
 *
 * Physics it works with (pneumatics reference §1.5, §1.6, §6):
 * - a pump fill raises a chamber at 20–50 mmHg/s near the set point, and ~40 ms pass between a
 *   decision and the inlet really closing, so the inlet closes a learned "lead" early and the
 *   pump slows over the last few mmHg;
 * - the sensor usually sits at the valve block, so while air flows it reads the chamber plus the
 *   tube's pressure drop. Readings taken with the inlet open are therefore only used to end a
 *   fill (the lead learns that offset too, so it can be negative); every holding decision is
 *   made on a reading taken after the inlet has been shut for SETTLE_MS (sample and hold);
 * - the pump spins down for ~50 ms: it is switched off first and the inlet shut PUMP_SPINDOWN_MS
 *   later, so it does not blow the closed manifold up to the relief pressure after every fill.
 * The lead is learned per zone from each fill's settled error, as commercial controllers
 * converge over 2–3 cycles.
 */

export type ZoneCommandKind = 'vent' | 'fill' | 'hold';

export interface ZoneDrive {
  /** Inlet valve energised (open). */
  inlet: boolean;
  /** Exhaust valve energised (closed). De-energised vents. */
  exhaust: boolean;
  /** Pump duty this zone asks for, 0..1 (0 with the inlet open = spinning down into the chamber). */
  pumpDemand: number;
}

/** Least duty that still moves air: the simulated and typical diaphragm pumps stall below ~25 % (§7). */
export const MIN_FILL_DUTY = 0.35;
/** Top-ups refill gently, so a hold does not overshoot, but well above the pump's stall. */
export const TOP_UP_DUTY = 0.5;
/** Holding: refill when this far below the target, bleed when this far above. */
export const HOLD_LOW_MMHG = 1.5;
export const HOLD_HIGH_MMHG = 3;
/** Pump spin-down (τ ≈ 50 ms, §7) before the inlet is shut at the end of a fill or top-up. */
export const PUMP_SPINDOWN_MS = 60;
/** After the inlet shuts, the tube equalises and the valve-block reading becomes the chamber's. */
export const SETTLE_MS = 250;
/** Bounds of the learned inlet-close lead (negative: the valve-block reading runs high while filling). */
export const LEAD_MIN_MMHG = -15;
export const LEAD_MAX_MMHG = 10;
const LEAD_INITIAL_MMHG = 1;
/** How much of a fill's settled error the lead learns per fill (damped, so noise does not make it hunt). */
const LEAD_LEARNING_RATE = 0.6;
/** Fill error is judged this long after the inlet shut: spin-down, valve delay and tube equalisation. */
const FILL_JUDGE_MS = PUMP_SPINDOWN_MS + SETTLE_MS + 100;
/** Top-up pulses: bounded length, sized from the learned rise rate of this zone. */
const TOP_UP_MIN_MS = 40;
const TOP_UP_MAX_MS = 800;
const TOP_UP_RATE_INITIAL_MMHG_PER_MS = 0.01;
const TOP_UP_TARGET_FRACTION = 0.8;
/** Bleed pulses (exhaust opened briefly to come down to a lower hold), sized like top-ups. */
const BLEED_MIN_MS = 20;
const BLEED_MAX_MS = 500;
const BLEED_RATE_INITIAL_MMHG_PER_MS = 0.03;
/**
 * Leak is judged from top-ups that start this long after a hold began: right after a fill the
 * gas cools and the pressure sags by a few percent over 1–5 s, which is not a leak (§1.6).
 */
export const LEAK_SETTLE_MS = 4000;
/** Least observation time before a leak rate is reported. */
export const LEAK_OBSERVE_MS = 8000;

type Mode = 'vent' | 'filling' | 'spindown' | 'settling' | 'holding' | 'topup' | 'bleed';

export class ZoneRegulator {
  private mode: Mode = 'vent';
  private modeSince = 0;
  private lead = LEAD_INITIAL_MMHG;
  private topUpRate = TOP_UP_RATE_INITIAL_MMHG_PER_MS;
  private topUpFrom = 0;
  private topUpLenMs = 0;
  private spinAfterTopUp = false;
  private fillClosedAt: number | undefined;
  private fillTarget = 0;
  private settledPeak = Number.NEGATIVE_INFINITY;
  /** Top-up time in the current hold, for the compensated-leak rule and the leak trend. */
  private topUpMs = 0;
  private holdMs = 0;
  private lastMs: number | undefined;
  private lastCommand: ZoneCommandKind = 'vent';
  private overshoots: number[] = [];
  private granted = true;
  private bleedRate = BLEED_RATE_INITIAL_MMHG_PER_MS;
  private bleedFrom = 0;
  private bleedLenMs = 0;
  private afterBleed = false;
  /** Leak estimate: pressure the top-ups put back since LEAK_SETTLE_MS into the hold. */
  private holdStartMs: number | undefined;
  private leakRiseMmHg = 0;
  private topUpCounts = false;
  private holdTargetMmHg = 0;

  /** True once the zone has reached its current fill target (the sequencer's feedback). */
  reached = false;

  /** Top-up time so far in the current hold phase, ms. */
  get topUpInHoldMs(): number {
    return this.topUpMs;
  }

  /** Share of the current hold spent topping up (0..1): the leak trend. */
  get topUpDuty(): number {
    return this.holdMs > 0 ? this.topUpMs / this.holdMs : 0;
  }

  /**
   * Compensated leak rate of the current hold, mmHg/min: what the top-ups had to put back per
   * minute once the gas had settled. Undefined until enough of the hold has been seen.
   */
  leakRateMmHgPerMin(nowMs: number): number | undefined {
    if (this.holdStartMs === undefined || this.lastCommand !== 'hold') return undefined;
    const observed = nowMs - this.holdStartMs - LEAK_SETTLE_MS;
    if (observed < LEAK_OBSERVE_MS) return undefined;
    return (this.leakRiseMmHg / observed) * 60_000;
  }

  /** Settled overshoot (mmHg above target, negative = short) of each completed fill, oldest first. */
  get fillOvershoots(): readonly number[] {
    return this.overshoots;
  }

  /** Forget the phase (after a pause, a stop or a fault); what was learned is kept. */
  reset(): void {
    this.mode = 'vent';
    this.reached = false;
    this.fillClosedAt = undefined;
    this.topUpMs = 0;
    this.holdMs = 0;
    this.lastCommand = 'vent';
    this.afterBleed = false;
    this.holdStartMs = undefined;
    this.leakRiseMmHg = 0;
  }

  /** The station's decision on this tick's inlet request. */
  grant(granted: boolean): void {
    this.granted = granted;
    // A top-up that was not allowed to open has not started: it starts when it is granted.
    if (!granted && this.mode === 'topup') this.modeSince = this.lastMs ?? this.modeSince;
  }

  /**
   * How urgently this zone wants its inlet. Top-ups go before fills: a top-up takes ~0.1 s and
   * keeps a held zone at its set pressure, while a fill paused that long only ends that much
   * later (the sequencer waits for "reached"). Among top-ups, the largest deficit first; a zone
   * spinning down keeps its inlet until the pump has stopped.
   */
  inletPriority(targetMmHg: number): number {
    if (this.mode === 'spindown') return 2e6;
    if (this.mode === 'topup') return 1e6 + (targetMmHg - this.topUpFrom);
    return this.mode === 'filling' ? 0 : Number.NEGATIVE_INFINITY;
  }

  private enter(mode: Mode, nowMs: number): void {
    this.mode = mode;
    this.modeSince = nowMs;
  }

  /**
   * One tick. `pressure` is the latest valid sample (NaN when there is none: the zone is then
   * driven safe — inlet shut, pump not asked — and the supervisor decides what that means).
   */
  update(command: ZoneCommandKind, targetMmHg: number, pressure: number, nowMs: number): ZoneDrive {
    const dt = this.lastMs === undefined ? 0 : Math.max(0, nowMs - this.lastMs);
    this.lastMs = nowMs;
    const since = nowMs - this.modeSince;

    if (command !== this.lastCommand) {
      if (command === 'fill') {
        this.enter('filling', nowMs);
        this.reached = false;
      }
      if (command === 'hold' && this.lastCommand === 'vent') this.enter('settling', nowMs);
      if (command !== 'hold' || this.lastCommand === 'vent') {
        this.topUpMs = 0;
        this.holdMs = 0;
      }
      if (command === 'hold') {
        this.holdStartMs = nowMs;
        this.leakRiseMmHg = 0;
      } else {
        this.holdStartMs = undefined;
      }
      if (command === 'vent') {
        this.reached = false;
        this.enter('vent', nowMs);
      }
      this.lastCommand = command;
    }

    if (command === 'vent' || !Number.isFinite(pressure)) {
      if (command !== 'vent' && this.mode !== 'vent') this.enter('settling', nowMs);
      return { inlet: false, exhaust: command !== 'vent', pumpDemand: 0 };
    }
    this.learn(pressure, nowMs);
    // A new hold target (a pulse dropping to its hold fraction) starts a new leak measurement.
    if (command === 'hold' && Math.abs(targetMmHg - this.holdTargetMmHg) > 0.5) {
      this.holdTargetMmHg = targetMmHg;
      this.holdStartMs = nowMs;
      this.leakRiseMmHg = 0;
      this.topUpCounts = false;
    }

    switch (this.mode) {
      case 'vent':
        this.enter('settling', nowMs);
        return { inlet: false, exhaust: true, pumpDemand: 0 };
      case 'filling':
        if (pressure >= targetMmHg - this.lead) {
          this.reached = true;
          this.fillClosedAt = nowMs;
          this.fillTarget = targetMmHg;
          this.settledPeak = Number.NEGATIVE_INFINITY;
          this.spinAfterTopUp = false;
          this.enter('spindown', nowMs);
          return { inlet: true, exhaust: true, pumpDemand: 0 };
        }
        return {
          inlet: true,
          exhaust: true,
          pumpDemand: fillDuty(targetMmHg - this.lead - pressure, targetMmHg),
        };
      case 'spindown':
        if (since >= PUMP_SPINDOWN_MS) this.enter('settling', nowMs);
        else return { inlet: true, exhaust: true, pumpDemand: 0 };
        return { inlet: false, exhaust: true, pumpDemand: 0 };
      case 'topup': {
        this.holdMs += dt;
        if (this.granted) this.topUpMs += dt;
        if (since >= this.topUpLenMs && this.granted) {
          this.spinAfterTopUp = true;
          this.enter('spindown', nowMs);
          return { inlet: true, exhaust: true, pumpDemand: 0 };
        }
        return { inlet: true, exhaust: true, pumpDemand: TOP_UP_DUTY };
      }
      case 'bleed':
        this.holdMs += dt;
        if (since >= this.bleedLenMs) {
          this.afterBleed = true;
          this.enter('settling', nowMs);
          return { inlet: false, exhaust: true, pumpDemand: 0 };
        }
        return { inlet: false, exhaust: false, pumpDemand: 0 };
      case 'settling':
      case 'holding': {
        this.holdMs += dt;
        if (this.mode === 'settling') {
          if (since < SETTLE_MS) return { inlet: false, exhaust: true, pumpDemand: 0 };
          if (this.spinAfterTopUp) this.learnTopUp(pressure, nowMs);
          if (this.afterBleed) this.learnBleed(pressure);
          this.enter('holding', nowMs);
        }
        if (pressure >= targetMmHg - HOLD_LOW_MMHG) this.reached = true;
        if (pressure < targetMmHg - HOLD_LOW_MMHG) {
          const deficit = targetMmHg - pressure;
          this.topUpFrom = pressure;
          this.topUpLenMs = Math.min(
            TOP_UP_MAX_MS,
            Math.max(TOP_UP_MIN_MS, (deficit * TOP_UP_TARGET_FRACTION) / this.topUpRate),
          );
          this.topUpCounts =
            this.holdStartMs !== undefined &&
            nowMs - this.holdStartMs >= LEAK_SETTLE_MS &&
            this.lastCommand === 'hold';
          this.enter('topup', nowMs);
          return { inlet: true, exhaust: true, pumpDemand: TOP_UP_DUTY };
        }
        // Above the band (a pulse's lower hold, thermal rebound): a bleed pulse through the exhaust,
        // judged again only once settled (the valve-block reading runs low while air flows out).
        if (pressure > targetMmHg + HOLD_HIGH_MMHG) {
          const excess = pressure - targetMmHg;
          this.bleedFrom = pressure;
          this.bleedLenMs = Math.min(
            BLEED_MAX_MS,
            Math.max(BLEED_MIN_MS, (excess * TOP_UP_TARGET_FRACTION) / this.bleedRate),
          );
          // Air let out on purpose is not a leak: the leak measurement starts again.
          this.holdStartMs = nowMs;
          this.leakRiseMmHg = 0;
          this.enter('bleed', nowMs);
          return { inlet: false, exhaust: false, pumpDemand: 0 };
        }
        return { inlet: false, exhaust: true, pumpDemand: 0 };
      }
    }
  }

  /** Learns the fill lead from the settled pressure after a fill. */
  private learn(pressure: number, nowMs: number): void {
    if (this.fillClosedAt === undefined) return;
    const since = nowMs - this.fillClosedAt;
    if (since < PUMP_SPINDOWN_MS + SETTLE_MS) return;
    this.settledPeak = Math.max(this.settledPeak, pressure);
    if (since < FILL_JUDGE_MS) return;
    const error = this.settledPeak - this.fillTarget;
    this.overshoots.push(error);
    if (this.overshoots.length > 64) this.overshoots.shift();
    this.lead = Math.min(LEAD_MAX_MMHG, Math.max(LEAD_MIN_MMHG, this.lead + LEAD_LEARNING_RATE * error));
    this.fillClosedAt = undefined;
  }

  /** Learns how fast a bleed lowers this zone, to size the next one. */
  private learnBleed(pressure: number): void {
    this.afterBleed = false;
    const drop = this.bleedFrom - pressure;
    if (drop > 0.2 && this.bleedLenMs > 0) {
      const rate = drop / this.bleedLenMs;
      this.bleedRate = Math.min(0.5, Math.max(0.002, 0.5 * this.bleedRate + 0.5 * rate));
    }
  }

  /** Learns how fast a top-up raises this zone, to size the next pulse. */
  private learnTopUp(pressure: number, _nowMs: number): void {
    this.spinAfterTopUp = false;
    const rise = pressure - this.topUpFrom;
    if (this.topUpCounts && rise > 0) this.leakRiseMmHg += rise;
    this.topUpCounts = false;
    if (rise > 0.2 && this.topUpLenMs > 0) {
      const rate = rise / this.topUpLenMs;
      this.topUpRate = Math.min(0.2, Math.max(0.001, 0.5 * this.topUpRate + 0.5 * rate));
    }
  }
}

/**
 * Full speed far from the target, slowing linearly to MIN_FILL_DUTY over the last stretch: a
 * quarter of the target, 4–12 mmHg (AutoInflate ramps PWM over a small window near the set point).
 */
export function fillDuty(belowTargetMmHg: number, targetMmHg = 48): number {
  const band = Math.min(12, Math.max(4, targetMmHg / 4));
  if (belowTargetMmHg >= band) return 1;
  const f = Math.max(0, belowTargetMmHg) / band;
  return MIN_FILL_DUTY + (1 - MIN_FILL_DUTY) * f;
}
