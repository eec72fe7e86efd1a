/**
 * The program sequencer: runs one program on one station, as pure logic. It takes the time and
 * per-zone "reached target" feedback, and returns what each zone should do; it owns no timer and
 * touches no hardware (DESIGN.md: pure logic takes plain values and a clock, so a 30-minute session
 * runs in virtual time). The safety supervisor runs separately and overrides it.
 *
 * Event-driven where physics sets the pace: a zone's fill ends when the regulator reports the
 * target reached, or when inflateMaxS runs out (then the sequence moves on and the supervisor deals
 * with the fault: a stalled sequence would hold every other zone inflated for as long as the leak
 * lasts). Holds, releases and rests are timed. A transition that fell between two updates is dated
 * at its exact boundary, so a coarse update rate does not stretch the program.
 */
import type { ZoneTarget } from './plan.js';
import { rampFactor } from './ramp.js';
import type { Program } from './schema.js';
import { activeZones, preClearOrder } from './zone-order.js';

const MS_PER_S = 1000;
const MS_PER_MIN = 60_000;
/** A real update handles a few events; this many means a zero-length loop, which is a bug. */
const MAX_EVENTS_PER_UPDATE = 1_000_000;

/** fill: bring the zone up to target and keep it there; hold: keep it at target (top-ups, or bleed
 * down to a lower hold target); vent: exhaust open. */
export type ZoneCommand = 'vent' | 'fill' | 'hold';

export interface ZoneOutput {
  command: ZoneCommand;
  /** 0 when venting. */
  targetMmHg: number;
}

export type PhaseKind = 'inflating' | 'holding' | 'releasing' | 'resting';

export interface RunnerPhase {
  kind: PhaseKind;
  /** While inflating: the zone filling (1-based), including its pulse peak or pre-clear hold. */
  zone?: number;
  /** Lymphatic: true during the proximal pre-clearing pass. */
  preClearing?: boolean;
}

export interface RunnerFeedback {
  /** Per zone (index 0 = zone 1): pressure has reached the target of the previous output. */
  reached: readonly boolean[];
}

export interface RunnerOutput {
  zones: ZoneOutput[];
  phase: RunnerPhase;
  /** 1-based; stays at the last cycle once done. */
  cycle: number;
  /** Cycles whose release has finished; a cycle cut short by the end of the session does not count. */
  cyclesDone: number;
  rampFactor: number;
  done: boolean;
  paused: boolean;
}

type Pass = 'pre-clear' | 'main';

/** A zone past its fill: held at full, held at the pulse hold fraction, or (wave) vented. */
type SettledCommand = 'vent' | 'hold' | 'hold-fraction';

interface FillStage {
  kind: 'fill';
  pass: Pass;
  /** Index into the pass's zone order. */
  index: number;
  startedMs: number;
  /** When the fill ended (target reached or inflateMaxS ran out); the dwell runs from here. */
  endedMs?: number;
  /** The fill has been in an output, so "reached" feedback is about this fill (not about a vented zone). */
  commanded: boolean;
}

interface TimedStage<K extends 'hold' | 'release' | 'rest'> {
  kind: K;
  startedMs: number;
}

type Stage = FillStage | TimedStage<'hold'> | TimedStage<'release'> | TimedStage<'rest'> | { kind: 'done' };

const NO_FEEDBACK: readonly boolean[] = [];

function validateTargets(zoneCount: number, targets: readonly ZoneTarget[]): void {
  if (!Number.isInteger(zoneCount) || zoneCount < 1) {
    throw new RangeError(`zoneCount must be ≥ 1, got ${zoneCount}`);
  }
  if (targets.length !== zoneCount) {
    throw new RangeError(`targets has ${targets.length} zones for a ${zoneCount}-zone garment`);
  }
  targets.forEach((t, i) => {
    if (t.zone !== i + 1) throw new RangeError(`targets[${i}] is zone ${t.zone}, expected zone ${i + 1}`);
    if (!t.skipped && !(Number.isFinite(t.targetMmHg) && t.targetMmHg > 0)) {
      throw new RangeError(`zone ${t.zone} has no usable target (${t.targetMmHg} mmHg)`);
    }
  });
  if (targets.every((t) => t.skipped)) throw new RangeError('every zone is skipped');
}

export class ProgramRunner {
  private readonly fullMmHg: number[];
  private readonly order: number[];
  private readonly preOrder: number[];
  private durationMs: number;
  private readonly inflateMaxMs: number;
  /** Adjusted full targets waiting for the next cycle (`retarget`). */
  private pendingMmHg: number[] | null = null;
  private stage: Stage;
  private cycle = 1;
  private cyclesDone = 0;
  /** The current cycle was cut short (session time ran out), so its release does not complete it. */
  private cycleCut = false;
  /** Session time is up: the current (or next) release is the last thing the session does. */
  private timeUp = false;
  private paused = false;
  /** When each zone of the main pass started filling this cycle; wave releases key off these. */
  private mainFillStartMs: number[] = [];
  /** Session time accumulated before `runningSinceMs`; paused time never counts. */
  private activeBeforeMs = 0;
  private runningSinceMs: number | undefined;
  private lastNowMs: number;

  constructor(
    private readonly program: Program,
    zoneCount: number,
    targets: readonly ZoneTarget[],
    startMs: number,
  ) {
    validateTargets(zoneCount, targets);
    if (!(program.inflateMaxS > 0 && program.releaseS > 0 && program.durationMin > 0)) {
      // Zero-length fills and releases would let a cycle take no time (parseProgram forbids them).
      throw new RangeError('inflateMaxS, releaseS and durationMin must be positive');
    }
    this.fullMmHg = targets.map((t) => (t.skipped ? 0 : t.targetMmHg));
    this.order = activeZones(targets.map((t) => t.skipped));
    this.preOrder = program.mode === 'lymphatic' ? preClearOrder(program, this.order) : [];
    this.durationMs = program.durationMin * MS_PER_MIN;
    this.inflateMaxMs = program.inflateMaxS * MS_PER_S;
    this.runningSinceMs = startMs;
    this.lastNowMs = startMs;
    this.stage = this.cycleStart(startMs);
  }

  /** Advances to `nowMs` with this tick's feedback and returns every zone's command. */
  update(nowMs: number, feedback: RunnerFeedback): RunnerOutput {
    const now = this.clampNow(nowMs);
    if (!this.paused) this.advance(now, feedback.reached);
    return this.output(now);
  }

  /** All zones vent and the session clock stops. No effect once done or already paused. */
  pause(nowMs: number): void {
    if (this.paused || this.isDone()) return;
    const now = this.clampNow(nowMs);
    this.advance(now, NO_FEEDBACK);
    if (this.isDone()) return; // the session ended before the pause
    this.stopClock(now);
    this.paused = true;
  }

  /**
   * Restarts the current cycle from its beginning: the pause vented every zone, so continuing
   * mid-sequence would leave distal zones empty behind a proximal one. A pause during the rest
   * starts the next cycle (the paused one had completed). If session time was already up, the
   * resume only finishes the final release.
   */
  resume(nowMs: number): void {
    if (!this.paused) return;
    const now = this.clampNow(nowMs);
    this.paused = false;
    this.runningSinceMs = now;
    if (this.activeBeforeMs >= this.durationMs) {
      this.timeUp = true;
      this.cycleCut = true;
      this.stage = { kind: 'release', startedMs: now };
      return;
    }
    if (this.stage.kind === 'rest') this.cycle++;
    this.stage = this.cycleStart(now);
  }

  /**
   * New full targets (an adjustment) for every zone, taken on when the next cycle starts (or when a
   * paused session resumes, which restarts the cycle): a cycle already under way keeps the
   * pressures it started with, so zones filled earlier in it are not left at another level.
   * The skip pattern must stay the same.
   */
  retarget(targets: readonly ZoneTarget[]): void {
    validateTargets(this.fullMmHg.length, targets);
    targets.forEach((t, i) => {
      if (t.skipped !== (this.fullMmHg[i] === 0)) {
        throw new RangeError(`zone ${t.zone}: an adjustment cannot skip or unskip a zone`);
      }
    });
    this.pendingMmHg = targets.map((t) => (t.skipped ? 0 : t.targetMmHg));
  }

  /** Session time is up (or the session is done): what is left is the final release. */
  get ending(): boolean {
    return this.timeUp || this.isDone();
  }

  /** Whether targets given to `retarget` are still waiting for the next cycle. */
  get retargetPending(): boolean {
    return this.pendingMmHg !== null;
  }

  /**
   * A new total session length (paused time never counts). A length at or below the time already
   * run ends the session as time-up does: the current release is the last thing it does.
   */
  setDurationMin(durationMin: number): void {
    if (!(Number.isFinite(durationMin) && durationMin > 0)) {
      throw new RangeError(`durationMin must be positive, got ${durationMin}`);
    }
    this.durationMs = durationMin * MS_PER_MIN;
  }

  /** Session time so far, excluding pauses; frozen once done. */
  elapsedMs(nowMs: number = this.lastNowMs): number {
    if (this.runningSinceMs === undefined) return this.activeBeforeMs;
    return this.activeBeforeMs + Math.max(0, nowMs - this.runningSinceMs);
  }

  remainingMs(nowMs: number = this.lastNowMs): number {
    return Math.max(0, this.durationMs - this.elapsedMs(nowMs));
  }

  private isDone(): boolean {
    return this.stage.kind === 'done';
  }

  private clampNow(nowMs: number): number {
    // The clock is monotonic; an older time would replay transitions already taken.
    this.lastNowMs = Math.max(this.lastNowMs, nowMs);
    return this.lastNowMs;
  }

  private stopClock(atMs: number): void {
    if (this.runningSinceMs !== undefined) this.activeBeforeMs += atMs - this.runningSinceMs;
    this.runningSinceMs = undefined;
  }

  // ---- the event loop -------------------------------------------------------------------------

  private advance(nowMs: number, reached: readonly boolean[]): void {
    for (let n = 0; n < MAX_EVENTS_PER_UPDATE; n++) {
      const timeUpAt = this.timeUpAtMs();
      const stageAt = this.stageEndMs(nowMs, reached);
      // On a tie, time-up goes first: a rest ending exactly at time-up ends the session, it does
      // not start a cycle that would be cut at once.
      if (timeUpAt !== undefined && timeUpAt <= nowMs && (stageAt === undefined || timeUpAt <= stageAt)) {
        this.onTimeUp(timeUpAt);
      } else if (stageAt !== undefined && stageAt <= nowMs) {
        this.onStageEnd(stageAt);
      } else {
        return;
      }
    }
    throw new Error('ProgramRunner: the sequence did not settle (zero-length loop)');
  }

  private timeUpAtMs(): number | undefined {
    if (this.timeUp || this.runningSinceMs === undefined || this.stage.kind === 'done') return undefined;
    return this.runningSinceMs + this.durationMs - this.activeBeforeMs;
  }

  private stageEndMs(nowMs: number, reached: readonly boolean[]): number | undefined {
    const s = this.stage;
    switch (s.kind) {
      case 'fill': {
        if (s.endedMs !== undefined) return s.endedMs + this.dwellMs(s.pass);
        const timeoutMs = s.startedMs + this.inflateMaxMs;
        const isReached = s.commanded && reached[this.fillZone(s) - 1] === true;
        return isReached ? Math.min(nowMs, timeoutMs) : timeoutMs;
      }
      case 'hold':
        return s.startedMs + this.program.holdS * MS_PER_S;
      case 'release':
        return s.startedMs + this.program.releaseS * MS_PER_S;
      case 'rest':
        return s.startedMs + this.program.restS * MS_PER_S;
      case 'done':
        return undefined;
    }
  }

  /** Time up never stops a session mid-inflation with air in the garment: it goes to releasing first. */
  private onTimeUp(atMs: number): void {
    this.timeUp = true;
    switch (this.stage.kind) {
      case 'fill':
      case 'hold':
        this.cycleCut = true;
        this.stage = { kind: 'release', startedMs: atMs };
        return;
      case 'rest':
        this.finish(atMs);
        return;
      case 'release':
      case 'done':
        return;
    }
  }

  private onStageEnd(atMs: number): void {
    const s = this.stage;
    switch (s.kind) {
      case 'fill':
        if (s.endedMs === undefined) s.endedMs = atMs;
        else this.stage = this.afterFill(s, atMs);
        return;
      case 'hold':
        this.stage = { kind: 'release', startedMs: atMs };
        return;
      case 'release':
        if (!this.cycleCut) this.cyclesDone++;
        if (this.timeUp) this.finish(atMs);
        else this.stage = { kind: 'rest', startedMs: atMs };
        return;
      case 'rest':
        this.cycle++;
        this.stage = this.cycleStart(atMs);
        return;
      case 'done':
        return;
    }
  }

  private finish(atMs: number): void {
    this.stage = { kind: 'done' };
    this.stopClock(atMs);
  }

  // ---- the sequence ---------------------------------------------------------------------------

  private cycleStart(atMs: number): Stage {
    this.cycleCut = false;
    if (this.pendingMmHg !== null) {
      this.pendingMmHg.forEach((p, i) => (this.fullMmHg[i] = p));
      this.pendingMmHg = null;
    }
    this.mainFillStartMs = [];
    if (this.preOrder.length > 0) {
      return { kind: 'fill', pass: 'pre-clear', index: 0, startedMs: atMs, commanded: false };
    }
    return this.mainFill(0, atMs);
  }

  private mainFill(index: number, atMs: number): FillStage {
    this.mainFillStartMs[index] = atMs;
    return { kind: 'fill', pass: 'main', index, startedMs: atMs, commanded: false };
  }

  private afterFill(s: FillStage, atMs: number): Stage {
    if (s.pass === 'pre-clear') {
      if (s.index + 1 < this.preOrder.length) {
        return { kind: 'fill', pass: 'pre-clear', index: s.index + 1, startedMs: atMs, commanded: false };
      }
      return this.mainFill(0, atMs);
    }
    if (s.index + 1 < this.order.length) return this.mainFill(s.index + 1, atMs);
    return { kind: 'hold', startedMs: atMs };
  }

  /** What a zone does after its fill ends, before the sequence moves on. */
  private dwellMs(pass: Pass): number {
    if (pass === 'pre-clear') return (this.program.lymphatic?.preClearHoldS ?? 0) * MS_PER_S;
    if (this.program.mode === 'pulse') return (this.program.pulse?.peakS ?? 0) * MS_PER_S;
    return 0;
  }

  private fillZone(s: FillStage): number {
    const zone = (s.pass === 'pre-clear' ? this.preOrder : this.order)[s.index];
    if (zone === undefined) throw new Error(`ProgramRunner: no zone at ${s.pass} index ${s.index}`);
    return zone;
  }

  // ---- the output -----------------------------------------------------------------------------

  private output(nowMs: number): RunnerOutput {
    const ramp = rampFactor(this.program, this.cycle);
    const zones: ZoneOutput[] = this.fullMmHg.map(() => ({ command: 'vent', targetMmHg: 0 }));
    const s = this.stage;
    if (!this.paused && (s.kind === 'fill' || s.kind === 'hold')) {
      const filled = s.kind === 'hold' ? this.order.length : s.pass === 'main' ? s.index : 0;
      for (let j = 0; j < filled; j++) {
        this.setZone(zones, this.order[j], this.settledCommand(j, nowMs), ramp);
      }
      if (s.kind === 'fill') {
        this.setZone(zones, this.fillZone(s), s.endedMs === undefined ? 'fill' : 'hold', ramp);
        s.commanded = true;
      }
    }
    return {
      zones,
      phase: this.phase(),
      cycle: this.cycle,
      cyclesDone: this.cyclesDone,
      rampFactor: ramp,
      done: s.kind === 'done',
      paused: this.paused,
    };
  }

  /**
   * A zone whose fill is over while later zones fill or all hold. Wave: it vents overlapS after the
   * next zone started filling (the peristaltic hand-over). Pulse: it holds at holdFraction of its
   * target (Normatec "pulse, then hold", devices reference §a). Otherwise it holds at full target,
   * so no fluid flows back distally (Airos: each chamber holds until all are full, §a).
   */
  private settledCommand(j: number, nowMs: number): SettledCommand {
    if (this.program.mode === 'pulse') return 'hold-fraction';
    if (this.program.mode === 'wave') {
      const nextStart = this.mainFillStartMs[j + 1];
      const releaseAtMs =
        nextStart === undefined ? Infinity : nextStart + (this.program.overlapS ?? 0) * MS_PER_S;
      if (nowMs >= releaseAtMs) return 'vent';
    }
    return 'hold';
  }

  private setZone(
    zones: ZoneOutput[],
    zone: number | undefined,
    what: ZoneCommand | SettledCommand,
    ramp: number,
  ): void {
    if (zone === undefined || what === 'vent') return;
    const full = (this.fullMmHg[zone - 1] ?? 0) * ramp;
    zones[zone - 1] =
      what === 'hold-fraction'
        ? { command: 'hold', targetMmHg: full * (this.program.pulse?.holdFraction ?? 1) }
        : { command: what, targetMmHg: full };
  }

  private phase(): RunnerPhase {
    const s = this.stage;
    if (this.paused) return { kind: 'resting' };
    switch (s.kind) {
      case 'fill':
        return s.pass === 'pre-clear'
          ? { kind: 'inflating', zone: this.fillZone(s), preClearing: true }
          : { kind: 'inflating', zone: this.fillZone(s) };
      case 'hold':
        return { kind: 'holding' };
      case 'release':
        return { kind: 'releasing' };
      case 'rest':
      case 'done':
        return { kind: 'resting' };
    }
  }
}
