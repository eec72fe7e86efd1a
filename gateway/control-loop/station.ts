/**
 * One station's state machine: idle → running ⇄ paused → venting → idle, and fault (latched,
 * vented) from anywhere. It runs the program through the sequencer and the zone regulators and
 * stages outputs; the controller has the supervisor check it first and gates what it stages.
 */
import type { StationIo, ZoneIo } from '../board/open.js';
import { effectiveCeiling, highestTargetMmHg, LIMITS } from '../limits.js';
import { planAdjustment, type SessionPlanBasis } from './adjust.js';
import {
  CommandError,
  type AdjustArgs,
  type PhaseKind,
  type SessionAdjustment,
  type SessionEnd,
  type SessionReport,
  type StartArgs,
  type StationStateName,
} from '../protocol.js';
import { ProgramRefusedError, startableTargets, targetsFor, type ZoneTarget } from './programs/plan.js';
import { ProgramRunner, type RunnerOutput } from './programs/runner.js';
import { parseProgram } from './programs/parse.js';
import type { Program } from './programs/schema.js';
import { ZoneRegulator, type ZoneCommandKind, type ZoneDrive } from './regulator.js';
import { LEAK_TEST_MMHG, SelfTestRun, type SelfTestKind } from './self-test.js';
import { CycleLog, sessionReport } from './session-report.js';
import type { ZoneObservation } from './supervisor.js';
import type { SelfTestResult } from '../protocol.js';

const MS_PER_MIN = 60_000;
/** After a session, venting is done when every zone is below this (or the supervisor trips). */
const VENTED_MMHG = LIMITS.ventBelowMmHg.default;

interface Session {
  id: string;
  /** The session's effective ceiling (gateway/limits.ts effectiveCeiling). */
  ceilingMmHg: number;
  program: Program;
  runner: ProgramRunner;
  targets: ZoneTarget[];
  startedAtEpochMs: number;
  startedAtMs: number;
  /** Per zone, per cycle: what the report is built from. */
  cycles: CycleLog;
  last: RunnerOutput | null;
  /** What an adjustment is planned from: the start's ceiling, skips and the base pressure now. */
  basis: SessionPlanBasis;
  adjustments: SessionAdjustment[];
  /**
   * Adjusted setpoints not yet the supervisor's: a lowered zone keeps its higher trip level until
   * the runner has taken on the new targets and the zone has come down to its new target.
   */
  pendingSetpoints: number[] | null;
}

export class Station {
  state: StationStateName = 'idle';
  private session: Session | null = null;
  private test: { run: SelfTestRun; resolve: (r: SelfTestResult) => void } | null = null;
  /** Setpoints stay until the station is vented, so the over-pressure limit does not drop mid-vent. */
  private setpoints: number[];
  /**
   * The effective ceiling the supervisor enforces: the session's while it runs and until the
   * station has vented after it (like the setpoints), the board's otherwise.
   */
  private ceiling: number;
  readonly regulators: ZoneRegulator[];
  /** What was staged (and so written) at the last tick, per zone. */
  readonly written: ZoneDrive[];
  private commands: ZoneCommandKind[];
  private targetsNow: number[];
  private readonly pressureBuf: number[];
  private readonly reachedBuf: boolean[];
  /** observe() refills these in place every tick. */
  private readonly observations: ZoneObservation[];
  pumpDuty = 0;

  constructor(
    readonly io: StationIo,
    private readonly epochNow: () => number = Date.now,
  ) {
    const n = io.zones.length;
    this.setpoints = new Array<number>(n).fill(0);
    this.ceiling = io.spec.ceilingMmHg;
    this.regulators = Array.from({ length: n }, () => new ZoneRegulator());
    this.written = Array.from({ length: n }, () => ({ inlet: false, exhaust: false, pumpDemand: 0 }));
    this.commands = new Array<ZoneCommandKind>(n).fill('vent');
    this.targetsNow = new Array<number>(n).fill(0);
    this.pressureBuf = new Array<number>(n).fill(0);
    this.reachedBuf = new Array<boolean>(n).fill(false);
    this.observations = io.zones.map((z) => ({
      sample: z.sensor.read(),
      inlet: false,
      exhaust: false,
      command: 'vent' as ZoneCommandKind,
      setpointMmHg: 0,
      topUpInHoldMs: 0,
      reached: false,
      leakRateMmHgPerMin: undefined,
    }));
  }

  get id(): string {
    return this.io.spec.id;
  }

  get sessionInfo(): Session | null {
    return this.session;
  }

  /** The ceiling the over-pressure trip uses now (never above the board's station ceiling). */
  get ceilingMmHg(): number {
    return this.ceiling;
  }

  /**
   * What the supervisor needs about each zone this tick. The same objects are refilled every tick
   * (no garbage at the loop rate, LIMITS.loopRateHz, per station): valid until the next call, so a caller reads them within
   * the tick and keeps nothing.
   */
  observe(nowMs: number): readonly ZoneObservation[] {
    const zones = this.io.zones;
    for (let i = 0; i < zones.length; i++) {
      const o = this.observations[i] as ZoneObservation;
      const written = this.written[i];
      const regulator = this.regulators[i];
      o.sample = (zones[i] as ZoneIo).sensor.read();
      o.inlet = written?.inlet ?? false;
      o.exhaust = written?.exhaust ?? false;
      o.command = this.commands[i] ?? 'vent';
      o.setpointMmHg = this.setpoints[i] ?? 0;
      o.topUpInHoldMs = regulator?.topUpInHoldMs ?? 0;
      o.reached = regulator?.reached ?? false;
      o.leakRateMmHgPerMin = regulator?.leakRateMmHgPerMin(nowMs);
    }
    return this.observations;
  }

  sessionElapsedMs(nowMs: number): number | null {
    return this.session ? nowMs - this.session.startedAtMs : null;
  }

  /** What every start (a session or a self-test) needs: idle, nothing latched, I/O reachable. */
  private refuseUnlessReady(opts: { latched: boolean; linkOk: boolean }): void {
    if (this.state === 'fault' || opts.latched) {
      throw new CommandError('refused', `station ${this.id} has a latched alarm: acknowledge it first`);
    }
    if (this.state !== 'idle')
      throw new CommandError('refused', `station ${this.id} is ${this.state}, not idle`);
    if (!opts.linkOk)
      throw new CommandError('refused', `station ${this.id} cannot reach its valves and sensors`);
  }

  /** Validates and starts a session, or throws CommandError('refused' | 'bad-request') changing nothing. */
  start(args: StartArgs, nowMs: number, opts: { latched: boolean; linkOk: boolean }): void {
    this.refuseUnlessReady(opts);
    let program: Program;
    try {
      program = parseProgram(args.program, 'program', { zoneCount: this.io.zones.length });
    } catch (e) {
      throw new CommandError('bad-request', (e as Error).message);
    }
    const spec = this.io.spec;
    if (!program.garments.includes(spec.garment)) {
      throw new CommandError(
        'refused',
        `program "${program.name}" is for ${program.garments.join('/')} garments; station ${this.id} has a ${spec.garment} garment`,
      );
    }
    // The arguments' types and signs are the schema's (commands.ts validates them first); the
    // limits below are the board's and the program's.
    if (args.durationMin !== undefined) {
      if (args.durationMin > LIMITS.sessionMaxMin.default) {
        throw new CommandError(
          'refused',
          `durationMin ${args.durationMin} is above the maximum session of ${LIMITS.sessionMaxMin.default} minutes`,
        );
      }
      program = { ...program, durationMin: args.durationMin };
    }
    if (program.durationMin > LIMITS.sessionMaxMin.default) {
      throw new CommandError(
        'refused',
        `the program lasts ${program.durationMin} minutes, above the maximum of ${LIMITS.sessionMaxMin.default}`,
      );
    }
    // The web process folds the station setting and the walk-up maximum into clientCeilingMmHg
    // (the lowest of them); the board's own ceiling is applied here.
    const ceiling = effectiveCeiling({
      boardMmHg: spec.ceilingMmHg,
      clientMmHg: args.clientCeilingMmHg,
    }).ceilingMmHg;
    let targets: ZoneTarget[];
    // Targets stay a little below the ceiling: a fill overshoots by a few mmHg, and at the
    // ceiling itself that overshoot would be an over-pressure trip.
    const planCeilingMmHg = highestTargetMmHg(ceiling);
    try {
      const plan = targetsFor(program, this.io.zones.length, {
        ceilingMmHg: planCeilingMmHg,
        garment: spec.garment,
        ...(args.pressureMmHg !== undefined ? { pressureMmHg: args.pressureMmHg } : {}),
        ...(args.skipZones !== undefined ? { skipZones: args.skipZones } : {}),
      });
      targets = startableTargets(plan);
    } catch (e) {
      if (e instanceof ProgramRefusedError) throw new CommandError('refused', e.message);
      throw new CommandError('bad-request', (e as Error).message);
    }
    this.session = {
      id: args.sessionId,
      ceilingMmHg: ceiling,
      program,
      runner: new ProgramRunner(program, this.io.zones.length, targets, nowMs),
      targets,
      startedAtEpochMs: this.epochNow(),
      startedAtMs: nowMs,
      cycles: new CycleLog(),
      last: null,
      basis: {
        planCeilingMmHg,
        pressureMmHg: args.pressureMmHg ?? program.pressureMmHg,
        skipZones: args.skipZones ?? [],
        garment: spec.garment,
      },
      adjustments: [],
      pendingSetpoints: null,
    };
    this.setpoints = targets.map((t) => (t.skipped ? 0 : t.targetMmHg));
    this.ceiling = ceiling;
    for (const r of this.regulators) r.reset();
    this.state = 'running';
  }

  pause(nowMs: number): void {
    if (this.state !== 'running' || !this.session) {
      throw new CommandError(
        'refused',
        `station ${this.id} is ${this.state}: only a running session can pause`,
      );
    }
    this.session.runner.pause(nowMs);
    this.state = 'paused';
  }

  resume(nowMs: number): void {
    if (this.state !== 'paused' || !this.session) {
      throw new CommandError(
        'refused',
        `station ${this.id} is ${this.state}: only a paused session can resume`,
      );
    }
    this.session.runner.resume(nowMs);
    for (const r of this.regulators) r.reset();
    this.state = 'running';
  }

  /**
   * Softer/stronger, longer/shorter (`adjust.ts` plans and checks it). A new pressure reaches the
   * zones from the next cycle; the supervisor's setpoints rise at once (a fill to the new target
   * must not look like over-pressure) and fall only once the zone is down at its new target.
   */
  adjust(args: AdjustArgs, nowMs: number): SessionAdjustment {
    const s = this.session;
    if (!s || (this.state !== 'running' && this.state !== 'paused')) {
      throw new CommandError('refused', `station ${this.id} is ${this.state}: no session to adjust`);
    }
    if (s.runner.ending) {
      throw new CommandError('refused', `the session on station ${this.id} is ending`);
    }
    const plan = planAdjustment(s.program, this.io.zones.length, s.basis, args, s.runner.elapsedMs(nowMs));
    if (plan.targets) {
      const next = plan.targets.map((t) => (t.skipped ? 0 : t.targetMmHg));
      s.runner.retarget(plan.targets);
      s.targets = plan.targets;
      s.basis = { ...s.basis, pressureMmHg: plan.change.pressureMmHg?.to ?? s.basis.pressureMmHg };
      this.setpoints = this.setpoints.map((p, i) => Math.max(p, next[i] ?? 0));
      s.pendingSetpoints = next;
    }
    if (plan.change.durationMin) {
      s.runner.setDurationMin(plan.change.durationMin.to);
      s.program = { ...s.program, durationMin: plan.change.durationMin.to };
    }
    const adjustment: SessionAdjustment = {
      atEpochMs: this.epochNow(),
      by: typeof args.by === 'string' && args.by ? args.by.slice(0, 100) : 'unknown',
      ...plan.change,
    };
    s.adjustments.push(adjustment);
    return adjustment;
  }

  /** Lowers the supervisor's setpoints of an adjusted session zone by zone (see `adjust`). */
  private settleSetpoints(pressures: readonly number[]): void {
    const s = this.session;
    const next = s?.pendingSetpoints;
    if (!s || !next || s.runner.retargetPending) return;
    let settled = true;
    next.forEach((target, i) => {
      const p = pressures[i] ?? Number.NaN;
      if ((this.setpoints[i] ?? 0) <= target || (Number.isFinite(p) && p <= target)) {
        this.setpoints[i] = target;
      } else settled = false;
    });
    if (settled) s.pendingSetpoints = null;
  }

  /** Starts a self-test; resolves with its result when it ends (or is stopped or tripped). */
  startSelfTest(
    kind: SelfTestKind,
    nowMs: number,
    opts: { latched: boolean; linkOk: boolean },
  ): Promise<SelfTestResult> {
    this.refuseUnlessReady(opts);
    const offsets = this.io.zones.map((z) => z.sensor.zeroOffsetMmHg);
    const run = new SelfTestRun(kind, this.io.zones.length, nowMs, offsets);
    this.setpoints = this.io.zones.map(() => (kind === 'leak' ? LEAK_TEST_MMHG : 0));
    this.ceiling = this.io.spec.ceilingMmHg;
    for (const r of this.regulators) r.reset();
    this.state = 'running';
    return new Promise((resolve) => (this.test = { run, resolve }));
  }

  get selfTestKind(): SelfTestKind | null {
    return this.test?.run.kind ?? null;
  }

  private endTest(result: Omit<SelfTestResult, 'stationId' | 'atEpochMs'>): void {
    const t = this.test;
    if (!t) return;
    this.test = null;
    if (result.kind === 'sensor-zero' && result.ok) {
      this.io.zones.forEach((z, i) => z.sensor.setZeroOffset(result.values[i] ?? 0));
    }
    t.resolve({ ...result, stationId: this.id, atEpochMs: this.epochNow() });
  }

  /** Stop is always accepted: it vents at once. Returns the ended session's report, if any. */
  stop(nowMs: number, reason: string): SessionReport | null {
    if (this.test)
      this.endTest({ kind: this.test.run.kind, ok: false, details: [`aborted: ${reason}`], values: [] });
    const report = this.endSession(nowMs, 'stopped', reason);
    if (this.state !== 'fault') this.beginVenting();
    return report;
  }

  /** A venting trip: latch the fault and end the session as 'fault'. */
  trip(nowMs: number, reason: string): SessionReport | null {
    if (this.test) {
      this.endTest({
        kind: this.test.run.kind,
        ok: false,
        details: [`stopped by an alarm: ${reason}`],
        values: [],
      });
    }
    const report = this.endSession(nowMs, 'fault', reason);
    this.state = 'fault';
    return report;
  }

  /** Leaves the fault state once the caller has acknowledged every latched alarm. */
  clearFault(): void {
    if (this.state === 'fault') this.beginVenting();
  }

  private beginVenting(): void {
    this.state = 'venting';
  }

  /**
   * Runs the state machine and regulators for this tick and stages every output. Returns a
   * report when the session completed this tick.
   */
  control(nowMs: number): SessionReport | null {
    const n = this.io.zones.length;
    // Per-tick buffers are reused (this runs 100 times a second per station, and thousands of
    // times a second in virtual time); the runner and the self-test read them during the call only.
    const pressures = this.pressureBuf;
    const reached = this.reachedBuf;
    for (let i = 0; i < n; i++) {
      const s = (this.io.zones[i] as ZoneIo).sensor.read();
      pressures[i] = s.health === 'error' ? Number.NaN : s.mmHg;
      reached[i] = (this.regulators[i] as ZoneRegulator).reached;
    }
    let ended: SessionReport | null = null;
    const out: RunnerOutput | null =
      this.session && this.state === 'running' ? this.session.runner.update(nowMs, { reached }) : null;
    if (this.session && out) {
      this.session.last = out;
      this.session.cycles.record(out, pressures, reached);
      this.settleSetpoints(pressures);
    }
    const test =
      this.test && this.state === 'running'
        ? // Copies: a self-test may keep what it is given, and it runs for seconds, not hours.
          this.test.run.update(nowMs, pressures.slice(), reached.slice())
        : null;
    for (let i = 0; i < n; i++) {
      const zo = out?.zones[i] ?? test?.zones[i];
      const raw = zo ? zo.command : 'vent';
      // Self-test commands outside the regulator's vocabulary are driven directly below.
      const command: ZoneCommandKind =
        raw === 'seal' ? 'hold' : raw === 'fill' || raw === 'hold' ? raw : 'vent';
      const target = zo ? zo.targetMmHg : 0;
      this.commands[i] = command;
      this.targetsNow[i] = target;
      this.written[i] = (this.regulators[i] as ZoneRegulator).update(
        command,
        target,
        pressures[i] ?? Number.NaN,
        nowMs,
      );
    }
    this.arbitrateInlets();
    test?.zones.forEach((z, i) => {
      if (z.command === 'seal') this.written[i] = { inlet: false, exhaust: true, pumpDemand: 0 };
      if (z.command === 'click-inlet') this.written[i] = { inlet: true, exhaust: false, pumpDemand: 0 };
      if (z.command === 'click-exhaust') this.written[i] = { inlet: false, exhaust: true, pumpDemand: 0 };
    });
    if (test?.done && test.result) {
      this.endTest(test.result);
      this.beginVenting();
    }
    if (out?.done) ended = this.endSession(nowMs, 'completed', 'completed');
    if (ended) this.beginVenting();

    if (this.state === 'venting') {
      let vented = true;
      for (let i = 0; i < n; i++) {
        const p = pressures[i] as number;
        if (Number.isFinite(p) && p >= VENTED_MMHG) vented = false;
      }
      if (vented) {
        this.state = 'idle';
        this.setpoints.fill(0);
      }
    }
    if (this.state === 'idle' && this.session === null) {
      this.setpoints.fill(0);
      this.ceiling = this.io.spec.ceilingMmHg;
    }

    // Stage: the pump runs only for zones with an open inlet (the supervisor gates this again).
    let demand = 0;
    for (const d of this.written) if (d.inlet && d.pumpDemand > demand) demand = d.pumpDemand;
    this.pumpDuty = this.state === 'running' ? demand : 0;
    if (this.state !== 'running') for (const d of this.written) offDrive(d);
    this.stage();
    return ended;
  }

  /**
   * One inlet open at a time. The inlets share the pump's manifold: with two open, a chamber
   * above the manifold pressure blows back into one being filled below it (no check valves in
   * the plumbing). Priorities are the regulators' (a spin-down first, then top-ups, then fills).
   */
  private arbitrateInlets(): void {
    let best = -1;
    let bestPriority = Number.NEGATIVE_INFINITY;
    this.written.forEach((d, i) => {
      if (!d.inlet) return;
      const pr = (this.regulators[i] as ZoneRegulator).inletPriority(this.targetsNow[i] ?? 0);
      if (pr > bestPriority) {
        bestPriority = pr;
        best = i;
      }
    });
    this.written.forEach((d, i) => {
      const granted = !d.inlet || i === best;
      (this.regulators[i] as ZoneRegulator).grant(granted);
      if (!granted) Object.assign(d, { inlet: false, pumpDemand: 0 });
    });
  }

  /** Writes this tick's decisions to the staged outputs. */
  stage(): void {
    const zones = this.io.zones;
    for (let i = 0; i < zones.length; i++) {
      const z = zones[i] as ZoneIo;
      const d = this.written[i] as ZoneDrive;
      z.inlet.set(d.inlet);
      z.exhaust.set(d.exhaust);
    }
    this.io.pumpEnable.set(this.pumpDuty > 0);
    this.io.pumpPwm?.set(this.pumpDuty);
  }

  /** The safe state staged: pump off, inlets shut, exhausts open. */
  stageSafe(): void {
    for (const d of this.written) offDrive(d);
    this.pumpDuty = 0;
    this.stage();
  }

  phase(): { kind: PhaseKind; zone?: number } | null {
    const last = this.session?.last;
    if (!last || (this.state !== 'running' && this.state !== 'paused')) return null;
    return { kind: last.phase.kind, ...(last.phase.zone !== undefined ? { zone: last.phase.zone } : {}) };
  }

  targetNow(zone: number): number {
    return this.targetsNow[zone] ?? 0;
  }

  remainingMs(nowMs: number): number {
    return this.session ? this.session.runner.remainingMs(nowMs) : 0;
  }

  elapsedMs(nowMs: number): number {
    return this.session ? this.session.runner.elapsedMs(nowMs) : 0;
  }

  /** The longest fill of one zone the running program allows, ms (0 when not running). */
  fillLimitMs(): number {
    const p = this.session?.program;
    return p && this.state === 'running' ? p.inflateMaxS * 1000 : 0;
  }

  /** Session time limit for the supervisor: the program's duration, its last release, and a margin. */
  sessionMaxMs(): number {
    const p = this.session?.program;
    if (!p) return LIMITS.sessionMaxMin.default * MS_PER_MIN;
    const cycleMs = (p.inflateMaxS * this.io.zones.length + p.holdS + p.releaseS + p.restS) * 1000;
    return Math.min(LIMITS.sessionMaxMin.max * MS_PER_MIN, p.durationMin * MS_PER_MIN + cycleMs + MS_PER_MIN);
  }

  private endSession(nowMs: number, end: SessionEnd, reason: string): SessionReport | null {
    const s = this.session;
    if (!s) return null;
    this.session = null;
    return sessionReport({
      sessionId: s.id,
      stationId: this.id,
      programId: s.program.id,
      programVersion: s.program.version,
      startedAtEpochMs: s.startedAtEpochMs,
      endedAtEpochMs: this.epochNow(),
      end,
      reason,
      cyclesDone: s.last?.cyclesDone ?? 0,
      deliveredMs: s.runner.elapsedMs(nowMs),
      log: s.cycles,
      skipped: (i) => s.targets[i]?.skipped === true,
      adjustments: s.adjustments,
    });
  }
}

/** The de-energised drive: pump demand off, inlet shut, exhaust open (normally open). */
function offDrive(d: ZoneDrive): void {
  d.inlet = false;
  d.exhaust = false;
  d.pumpDemand = 0;
}
