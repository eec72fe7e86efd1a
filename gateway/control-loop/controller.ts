/**
 * The controller: owns every output of the board and runs the tick —
 *
 *   sample every device → board rules (e-stop, loop stall) → per-station supervisor → vent what
 *   tripped → state machines and regulators stage outputs → gate (dead-head, safe state) →
 *   heartbeat → flush every device → counters and frames.
 *
 * The supervisor sees every tick before any output is computed, so a trip vents in the same
 * tick. Commands from clients (IPC) only change station state; outputs are staged only here.
 */
import type { Clock } from '../clock.js';
import type { BoardIo } from '../board/open.js';
import type { Simulation } from '../sim/from-board.js';
import { isFaultKind, SimFaultError, type SimFault } from '../sim/faults.js';
import { LIMITS } from '../limits.js';
import { describeCause, type LatenessCause } from './lateness-cause.js';
import { LateTickRule, type LateVerdict } from './late-tick.js';
import {
  CommandError,
  PROTOCOL_VERSION,
  type AdjustArgs,
  type AlarmInfo,
  type CommandName,
  type Commands,
  type ControllerInfo,
  type EventName,
  type Events,
  type LoopLate,
  type MaintenanceCounters,
  type SessionReport,
  type StartArgs,
  type StationFrame,
} from '../protocol.js';
import { AlarmBook } from './alarms.js';
import type { SelfTestKind } from './self-test.js';
import { FRAME_INTERVAL_MS } from '../ipc/rate.js';
import { validateCommand } from '../ipc/validate.js';
import { Station } from './station.js';
import { checkBoard, StationSupervisor, type Trip } from './supervisor.js';
import type { LatenessStats } from './tick-loop.js';
import type { TripTrace } from './trip-trace.js';

/** Maintenance counters are published this often, for the web process to persist. */
export const COUNTERS_INTERVAL_MS = 10_000;
/** The longest loop freeze the sim-freeze test hook makes (above the watchdog's 200 ms cut). */
const MAX_FREEZE_MS = 2000;

type Listener = <E extends EventName>(event: E, data: Events[E]) => void;

interface Counters {
  pumpRunMs: number;
  pumpStarts: number;
  inletCycles: number[];
  exhaustCycles: number[];
  trips: number;
  lastPump: boolean;
  lastInlet: boolean[];
  lastExhaust: boolean[];
}

export interface ControllerOptions {
  clock: Clock;
  io: BoardIo;
  sim?: Simulation;
  version: string;
  epochNow?: () => number;
  /** Loop timing, from the tick loop that drives this controller. */
  loopStats?: () => LatenessStats;
  /** Bench instrumentation (trip-trace.ts); absent in normal use. */
  tripTrace?: TripTrace;
  /**
   * What the process did during a late tick's gap (lateness-cause.ts): mark() at every tick
   * start, explain() on a late one. Absent in virtual time.
   */
  latenessCause?: { mark(): void; explain(): LatenessCause };
  /** How the process is scheduled, in words, for `hello` (scheduling.ts). */
  scheduling?: string;
}

export class Controller {
  readonly stations: Station[];
  private readonly supervisors: StationSupervisor[];
  private readonly alarms: AlarmBook;
  private readonly counters: Counters[];
  private readonly listeners = new Set<Listener>();
  private readonly noFrames = new Set<Listener>();
  private readonly epochNow: () => number;
  private heartbeat = false;
  private lastFrameMs = Number.NEGATIVE_INFINITY;
  private lastCountersMs = Number.NEGATIVE_INFINITY;
  private lastTickMs: number | undefined;
  private readonly startedAtEpochMs: number;
  private readonly lateRule: LateTickRule;
  private lastLate: LoopLate | null = null;

  constructor(private readonly opts: ControllerOptions) {
    this.epochNow = opts.epochNow ?? Date.now;
    this.startedAtEpochMs = this.epochNow();
    this.alarms = new AlarmBook(this.epochNow);
    this.lateRule = new LateTickRule(this.periodMs);
    this.stations = opts.io.stations.map((s) => new Station(s, this.epochNow));
    const now = opts.clock.now();
    this.supervisors = this.stations.map((s) => new StationSupervisor(s.id, s.io.zones.length, now));
    this.counters = this.stations.map((s) => {
      const n = s.io.zones.length;
      return {
        pumpRunMs: 0,
        pumpStarts: 0,
        inletCycles: new Array<number>(n).fill(0),
        exhaustCycles: new Array<number>(n).fill(0),
        trips: 0,
        lastPump: false,
        lastInlet: new Array<boolean>(n).fill(false),
        lastExhaust: new Array<boolean>(n).fill(false),
      };
    });
  }

  get periodMs(): number {
    return 1000 / this.opts.io.board.loopRateHz;
  }

  /**
   * Subscribes to events. `{ frames: false }` leaves the state frames out: a listener that only
   * wants sessions and alarms (a virtual-time run, the bench) then spares the controller building
   * frames at all when nobody else wants them.
   */
  onEvent(listener: Listener, opts: { frames?: boolean } = {}): () => void {
    const frames = opts.frames !== false;
    this.listeners.add(listener);
    if (!frames) this.noFrames.add(listener);
    return () => {
      this.listeners.delete(listener);
      this.noFrames.delete(listener);
    };
  }

  private emit<E extends EventName>(event: E, data: Events[E]): void {
    for (const l of this.listeners) {
      if (event === 'frame' && this.noFrames.has(l)) continue;
      try {
        l(event, data);
      } catch {
        // A failing listener (a client) must never stop the control tick.
      }
    }
  }

  /** One control tick. `latenessMs` is how late the tick loop started it. */
  async tick(latenessMs = 0): Promise<void> {
    const { io, clock } = this.opts;
    this.opts.latenessCause?.mark();
    const sampledFrom = clock.now();
    await io.sampleAll();
    const now = clock.now();
    const dt = this.lastTickMs === undefined ? 0 : now - this.lastTickMs;
    this.lastTickMs = now;

    // Board-wide rules first: they vent every station. A late tick is judged here, but every
    // station's rules below still run on the fresh samples of this tick (late-tick.ts).
    const late = this.lateRule.judge(now, latenessMs);
    const cause = this.explainLate(late);
    const boardTrips = checkBoard({
      estopPressed: io.estop?.value === true,
      late,
      cause: cause?.cause ?? null,
    });
    this.publish(this.alarms.update(null, boardTrips));
    const boardVent = boardTrips.find((t) => t.vent);

    const health = io.health();
    const trace = this.opts.tripTrace;
    const vented: { st: Station; trip: Trip }[] | undefined = trace ? [] : undefined;
    this.stations.forEach((st, i) => {
      const down = st.io.devices.find((d) => health[d.id]?.state === 'offline');
      const zones = st.observe(now);
      trace?.limits(st.id, zones, st.ceilingMmHg);
      const trips = (this.supervisors[i] as StationSupervisor).check({
        nowMs: now,
        sampledFromMs: sampledFrom,
        zones,
        pumpOn: st.pumpDuty > 0,
        ceilingMmHg: st.ceilingMmHg,
        sessionElapsedMs: st.sessionElapsedMs(now),
        sessionMaxMs: st.sessionMaxMs(),
        linkDown: down ? `${down.id}: ${health[down.id]?.message ?? 'offline'}` : null,
        fillLimitMs: st.fillLimitMs(),
      });
      const change = this.alarms.update(st.id, trips);
      this.publish(change);
      const vent: Trip | undefined = trips.find((t) => t.vent) ?? boardVent;
      if (vent) {
        if (change.raised.some((a) => a.latched)) (this.counters[i] as Counters).trips++;
        const report = st.trip(now, vent.reason);
        if (report) this.emit('session-ended', report);
        // Timed once, at the tick the alarm is raised; a trip that persists vents again each tick.
        if (change.raised.some((a) => a.latched)) vented?.push({ st, trip: vent });
      }
    });

    for (const st of this.stations) {
      const report = st.control(now);
      if (report) this.emit('session-ended', report);
      this.gate(st);
    }

    this.heartbeat = !this.heartbeat;
    io.heartbeat?.set(this.heartbeat);
    await io.flushAll();
    if (trace && vented) for (const v of vented) trace.vented(v.st.id, v.trip, clock.now());
    this.count(dt);

    if (now - this.lastFrameMs >= FRAME_INTERVAL_MS) {
      this.lastFrameMs = now;
      if (this.listeners.size > this.noFrames.size) for (const f of this.frames()) this.emit('frame', f);
    }
    if (late.kind === 'late' && cause) this.emit('loop-late', cause);
    if (now - this.lastCountersMs >= COUNTERS_INTERVAL_MS) {
      this.lastCountersMs = now;
      this.emit('counters', this.counterReport());
    }
  }

  /** The cause of a late tick in the protocol's words. */
  private explainLate(late: LateVerdict): LoopLate | null {
    if (late.kind === 'on-time') return null;
    const detail = this.opts.latenessCause?.explain();
    const { cause: _kind, ...figures } = detail ?? { cause: null };
    this.lastLate = {
      latenessMs: Math.round(late.latenessMs * 10) / 10,
      periodMs: this.periodMs,
      lateInWindow: late.lateInWindow,
      cause: detail ? describeCause(detail) : 'cause unknown (no process figures here)',
      ...(detail ? { detail: figures as NonNullable<LoopLate['detail']> } : {}),
      atEpochMs: this.epochNow(),
    };
    return this.lastLate;
  }

  /**
   * The last check on what is staged: a station that is not running is in the safe state, and
   * the pump never runs with every inlet shut.
   */
  private gate(st: Station): void {
    if (st.state !== 'running') {
      st.stageSafe();
      return;
    }
    if (st.pumpDuty > 0 && !st.written.some((d) => d.inlet)) {
      st.pumpDuty = 0;
      st.stage();
    }
  }

  private count(dt: number): void {
    this.stations.forEach((st, i) => {
      const c = this.counters[i] as Counters;
      const pump = st.pumpDuty > 0;
      if (pump) c.pumpRunMs += dt;
      if (pump && !c.lastPump) c.pumpStarts++;
      c.lastPump = pump;
      st.written.forEach((d, z) => {
        if (d.inlet && !c.lastInlet[z]) c.inletCycles[z] = (c.inletCycles[z] ?? 0) + 1;
        if (d.exhaust && !c.lastExhaust[z]) c.exhaustCycles[z] = (c.exhaustCycles[z] ?? 0) + 1;
        c.lastInlet[z] = d.inlet;
        c.lastExhaust[z] = d.exhaust;
      });
    });
  }

  private publish(change: { raised: AlarmInfo[]; cleared: AlarmInfo[] }): void {
    for (const a of change.raised) this.emit('alarm-raised', a);
    for (const a of change.cleared) this.emit('alarm-cleared', a);
  }

  frames(): StationFrame[] {
    const now = this.opts.clock.now();
    const epoch = this.epochNow();
    const health = this.opts.io.health();
    return this.stations.map((st) => this.frameFor(st, now, epoch, health));
  }

  /** One station's frame. The frame itself is new each time (it is handed to the socket, which
   * keeps it); nothing else is allocated on the way. */
  private frameFor(
    st: Station,
    now: number,
    epoch: number,
    health: ReturnType<BoardIo['health']>,
  ): StationFrame {
    const s = st.sessionInfo;
    let link: StationFrame['link'] = 'ok';
    for (const d of st.io.devices) {
      const state = health[d.id]?.state ?? 'offline';
      if (state === 'offline') link = 'offline';
      else if (state === 'degraded' && link === 'ok') link = 'degraded';
    }
    let newest = Number.NEGATIVE_INFINITY;
    for (const z of st.io.zones) newest = Math.max(newest, z.sensor.read().sampledAtMs);
    const sampledAt = Number.isFinite(newest) ? newest : now;
    return {
      id: st.id,
      name: st.io.spec.name,
      garment: st.io.spec.garment,
      state: st.state,
      phase: st.phase(),
      selfTest: st.selfTestKind,
      session: s
        ? {
            id: s.id,
            ceilingMmHg: s.ceilingMmHg,
            programId: s.program.id,
            programName: s.program.name,
            programVersion: s.program.version,
            cycle: s.last?.cycle ?? 1,
            elapsedS: Math.round(st.elapsedMs(now) / 1000),
            remainingS: Math.round(st.remainingMs(now) / 1000),
            pressureMmHg: s.basis.pressureMmHg,
            durationMin: s.program.durationMin,
            adjustPending: s.runner.retargetPending,
          }
        : null,
      zones: st.io.zones.map((z, i) => {
        const r = z.sensor.read();
        return {
          zone: i + 1,
          pressureMmHg:
            r.health === 'error' || !Number.isFinite(r.mmHg) ? null : Math.round(r.mmHg * 10) / 10,
          targetMmHg: st.targetNow(i),
          sensor: r.health,
          inlet: st.written[i]?.inlet ?? false,
          exhaust: st.written[i]?.exhaust ?? false,
        };
      }),
      pumpDuty: Math.round(st.pumpDuty * 100) / 100,
      ceilingMmHg: st.io.spec.ceilingMmHg,
      link,
      alarms: this.alarms.forStation(st.id),
      sampledAtMs: sampledAt,
      sampledAtEpochMs: Math.round(epoch - (now - sampledAt)),
    };
  }

  private station(id: unknown): Station {
    const st = this.stations.find((s) => s.id === id);
    if (!st) {
      throw new CommandError(
        'not-found',
        `no station "${String(id)}" (stations: ${this.stations.map((s) => s.id).join(', ')})`,
      );
    }
    return st;
  }

  private frameOf(st: Station): StationFrame {
    return this.frameFor(st, this.opts.clock.now(), this.epochNow(), this.opts.io.health());
  }

  counterReport(): MaintenanceCounters[] {
    return this.stations.map((st, i) => {
      const c = this.counters[i] as Counters;
      return {
        stationId: st.id,
        pumpRunMs: Math.round(c.pumpRunMs),
        pumpStarts: c.pumpStarts,
        inletCycles: [...c.inletCycles],
        exhaustCycles: [...c.exhaustCycles],
        trips: c.trips,
        leakDuty: st.regulators.map((r) => Math.round(r.topUpDuty * 1000) / 1000),
      };
    });
  }

  info(): ControllerInfo {
    const s = this.opts.loopStats?.();
    const health = this.opts.io.health();
    return {
      version: this.opts.version,
      protocol: PROTOCOL_VERSION,
      board: this.opts.io.board.name,
      simulated: this.opts.sim !== undefined,
      startedAtEpochMs: this.startedAtEpochMs,
      ...(this.opts.scheduling ? { scheduling: this.opts.scheduling } : {}),
      loop: {
        periodMs: this.periodMs,
        latenessP50Ms: s?.p50Ms ?? 0,
        latenessP99Ms: s?.p99Ms ?? 0,
        latenessMaxMs: s?.maxMs ?? 0,
        skippedTicks: s?.skipped ?? 0,
        lateTicks: this.lateRule.lateTicks,
        lastLate: this.lastLate,
      },
      devices: Object.fromEntries(
        this.opts.io.devices.map((d) => {
          const h = health[d.id];
          return [
            d.id,
            { type: d.type, state: h?.state ?? 'offline', ...(h?.message ? { message: h.message } : {}) },
          ];
        }),
      ),
    };
  }

  /** Runs a command from a client. Throws CommandError with a reason; a refused command changes nothing. */
  async command<K extends CommandName>(
    cmd: K,
    args: Commands[K][0],
    _origin = 'local',
  ): Promise<Commands[K][1]> {
    // Every argument is checked against the command's schema first (the protocol's one
    // definition); below are only the checks that need the board (zone counts, station ids).
    const a = validateCommand(cmd, args ?? {}) as Record<string, unknown>;
    const now = this.opts.clock.now();
    type R = Commands[K][1];
    switch (cmd as CommandName) {
      case 'hello':
        return this.info() as R;
      case 'state': {
        const frames = this.frames();
        return (a.stationId === undefined ? frames : [this.frameOf(this.station(a.stationId))]) as R;
      }
      case 'config':
        return { board: this.opts.io.board, limits: LIMITS } as R;
      case 'start': {
        const st = this.station(a.stationId);
        const health = this.opts.io.health();
        st.start(a as unknown as StartArgs, now, {
          latched: this.alarms.latched(st.id) || this.alarms.latched(null),
          linkOk: st.io.devices.every((d) => health[d.id]?.state !== 'offline'),
        });
        this.supervisors[this.stations.indexOf(st)]?.sessionStarted();
        this.emit('session-started', { stationId: st.id, sessionId: String(a.sessionId) });
        return this.frameOf(st) as R;
      }
      case 'pause': {
        const st = this.station(a.stationId);
        st.pause(now);
        return this.frameOf(st) as R;
      }
      case 'resume': {
        const st = this.station(a.stationId);
        st.resume(now);
        return this.frameOf(st) as R;
      }
      case 'adjust': {
        const st = this.station(a.stationId);
        st.adjust(a as unknown as AdjustArgs, now);
        return this.frameOf(st) as R;
      }
      case 'stop': {
        const targets = a.stationId === undefined ? this.stations : [this.station(a.stationId)];
        const reason = typeof a.reason === 'string' && a.reason ? a.reason.slice(0, 200) : 'stopped';
        for (const st of targets) {
          const report = st.stop(now, reason);
          st.stageSafe();
          if (report) this.emit('session-ended', report);
        }
        // Stop does not wait for the next tick: the vent is written now.
        await this.opts.io.flushAll();
        const ids = new Set(targets.map((s) => s.id));
        return this.frames().filter((f) => ids.has(f.id)) as R;
      }
      case 'acknowledge':
        return this.acknowledge(a) as R;
      case 'alarms':
        return this.alarms.all() as R;
      case 'counters':
        return this.counterReport() as R;
      case 'set-zero-offsets': {
        const st = this.station(a.stationId);
        const offsets = a.offsetsMmHg as number[];
        if (offsets.length !== st.io.zones.length) {
          throw new CommandError(
            'bad-request',
            `offsetsMmHg must list ${st.io.zones.length} numbers within ±${LIMITS.zeroOffsetMaxMmHg.default} mmHg, one per zone`,
          );
        }
        st.io.zones.forEach((z, i) => z.sensor.setZeroOffset(offsets[i] as number));
        return { stationId: st.id } as R;
      }
      case 'sim-inject':
      case 'sim-clear':
        return this.simFault(cmd === 'sim-inject', a) as R;
      case 'sim-freeze':
        return this.simFreeze(a.ms) as R;
      case 'self-test': {
        const st = this.station(a.stationId);
        const health = this.opts.io.health();
        const result = await st.startSelfTest(a.kind as SelfTestKind, now, {
          latched: this.alarms.latched(st.id) || this.alarms.latched(null),
          linkOk: st.io.devices.every((d) => health[d.id]?.state !== 'offline'),
        });
        return result as R;
      }
      default:
        throw new CommandError('unknown-command', `unknown command "${String(cmd)}"`);
    }
  }

  private acknowledge(a: Record<string, unknown>): AlarmInfo[] {
    if (a.stationId !== undefined) this.station(a.stationId);
    const filter = {
      ...(typeof a.stationId === 'string' ? { stationId: a.stationId } : {}),
      ...(typeof a.alarmId === 'string' ? { alarmId: a.alarmId } : {}),
    };
    const { cleared, refused } = this.alarms.acknowledge(filter);
    for (const x of cleared) this.emit('alarm-cleared', x);
    for (const st of this.stations) {
      if (st.state === 'fault' && !this.alarms.latched(st.id) && !this.alarms.latched(null)) st.clearFault();
    }
    if (cleared.length === 0 && refused.length > 0) {
      throw new CommandError(
        'refused',
        `cannot acknowledge while the condition is still present: ${refused.map((r) => r.reason).join(' / ')}`,
      );
    }
    return cleared;
  }

  private simFault(inject: boolean, a: Record<string, unknown>): Commands['sim-inject'][1] {
    const sim = this.opts.sim;
    if (!sim) throw new CommandError('refused', 'fault injection exists only on a simulated board');
    const st = this.station(a.stationId);
    const zone = a.zone;
    if (
      zone !== undefined &&
      !(Number.isInteger(zone) && (zone as number) >= 1 && (zone as number) <= st.io.zones.length)
    ) {
      throw new CommandError('bad-request', `zone must be 1..${st.io.zones.length}`);
    }
    try {
      if (inject) {
        if (!isFaultKind(a.kind)) throw new SimFaultError(`unknown fault kind ${JSON.stringify(a.kind)}`);
        const fault = {
          kind: a.kind,
          ...(zone !== undefined ? { zone: (zone as number) - 1 } : {}),
        } as SimFault;
        sim.inject(st.id, fault);
      } else {
        if (a.kind !== undefined && !isFaultKind(a.kind)) {
          throw new SimFaultError(`unknown fault kind ${JSON.stringify(a.kind)}`);
        }
        sim.clear(st.id, a.kind as Parameters<Simulation['clear']>[1]);
      }
    } catch (e) {
      if (e instanceof SimFaultError) throw new CommandError('bad-request', e.message);
      throw e;
    }
    return {
      active: sim.world
        .faults(st.id)
        .map((f) => ('zone' in f && f.zone !== undefined ? `${f.kind}@${f.zone + 1}` : f.kind)),
    };
  }

  /**
   * Blocks the event loop for `ms`, as a starved process would be: the tick loop runs late by
   * about that much and the late-tick rule judges the gap. Simulated boards only.
   */
  private simFreeze(ms: unknown): Commands['sim-freeze'][1] {
    if (!this.opts.sim)
      throw new CommandError('refused', 'freezing the loop exists only on a simulated board');
    if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 1 || ms > MAX_FREEZE_MS) {
      throw new CommandError('bad-request', `ms must be a number of milliseconds from 1 to ${MAX_FREEZE_MS}`);
    }
    const from = performance.now();
    while (performance.now() - from < ms) {
      // Busy on purpose: the point is to hold the event loop.
    }
    return { frozeMs: Math.round(performance.now() - from) };
  }

  /** Every output off, written now (shutdown, uncaught error). */
  async ventAll(reason: string): Promise<SessionReport[]> {
    const now = this.opts.clock.now();
    const reports: SessionReport[] = [];
    for (const st of this.stations) {
      const r = st.stop(now, reason);
      if (r) reports.push({ ...r, end: 'interrupted' });
      st.stageSafe();
    }
    await this.opts.io.safeAll();
    for (const r of reports) this.emit('session-ended', r);
    return reports;
  }
}
