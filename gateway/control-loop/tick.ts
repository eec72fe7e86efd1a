/**
 * One control tick:
 *
 *   sample every device → board rules (e-stop, loop stall) → per-station supervisor → vent what
 *   tripped → state machines and regulators stage outputs → gate (dead-head, safe state) →
 *   heartbeat → flush every device → counters and frames.
 *
 * The supervisor sees every tick before any output is computed, so a trip vents in the same
 * tick. Nothing here allocates on a quiet tick beyond what the I/O layer and the frames (when a
 * client wants them) do: the supervisor's inputs and results are reused.
 */
import type { BoardIo } from '../board/open.js';
import type { LoopLate, MaintenanceCounters } from '../protocol.js';
import type { AlarmChange } from './alarms.js';
import type { ControllerContext } from './controller-context.js';
import { COUNTERS_INTERVAL_MS } from './counters.js';
import { FRAME_INTERVAL_MS } from '../ipc/rate.js';
import { allFrames } from './frames.js';
import { describeCause } from './lateness-cause.js';
import { LateTickRule, type LateVerdict } from './late-tick.js';
import type { Station } from './station.js';
import type { StationRecord } from './station-record.js';
import { BoardSupervisor, type BoardObservation } from './board-supervisor.js';
import type { Trip } from './trips.js';

/** The first venting trip of a list, if any. */
function firstVent(trips: readonly Trip[]): Trip | undefined {
  for (const t of trips) if (t.vent) return t;
  return undefined;
}

function raisedLatched(change: AlarmChange): boolean {
  for (const a of change.raised) if (a.latched) return true;
  return false;
}

/** Why a station's I/O is unreachable (its first offline device), or null. */
function linkDown(st: Station, health: ReturnType<BoardIo['health']>): string | null {
  for (const d of st.io.devices) {
    const h = health[d.id];
    if (h?.state === 'offline') return `${d.id}: ${h.message ?? 'offline'}`;
  }
  return null;
}

export class ControlTick {
  private heartbeat = false;
  private lastFrameMs = Number.NEGATIVE_INFINITY;
  private lastCountersMs = Number.NEGATIVE_INFINITY;
  private lastTickMs: number | undefined;
  private readonly board = new BoardSupervisor();
  private readonly boardObs: BoardObservation = {
    estopPressed: false,
    late: { kind: 'on-time' },
    cause: null,
  };
  readonly lateRule: LateTickRule;
  /** The last late tick, as `hello` reports it. */
  lastLate: LoopLate | null = null;

  constructor(
    private readonly c: ControllerContext,
    readonly periodMs: number,
    private readonly counterReport: () => MaintenanceCounters[],
  ) {
    this.lateRule = new LateTickRule(periodMs);
  }

  /** One control tick. `latenessMs` is how late the tick loop started it. */
  async run(latenessMs: number): Promise<void> {
    const { io, clock, observer } = this.c.opts;
    const { alarms, events, records } = this.c;
    this.c.opts.latenessCause?.mark();
    const sampledFrom = clock.now();
    await io.sampleAll();
    const now = clock.now();
    const dt = this.lastTickMs === undefined ? 0 : now - this.lastTickMs;
    this.lastTickMs = now;

    // Board-wide rules first: they vent every station. A late tick is judged here, but every
    // station's rules below still run on the fresh samples of this tick (late-tick.ts).
    const late = this.lateRule.judge(now, latenessMs);
    const cause = this.explainLate(late);
    this.boardObs.estopPressed = io.estop?.value === true;
    this.boardObs.late = late;
    this.boardObs.cause = cause?.cause ?? null;
    const boardTrips = this.board.check(this.boardObs);
    events.publish(alarms.update(null, boardTrips));
    const boardVent = firstVent(boardTrips);

    const health = io.health();
    for (const rec of records) {
      const st = rec.station;
      rec.ventedNow = null;
      const zones = st.observe(now);
      observer?.stationObserved?.(st.id, zones, st.ceilingMmHg);
      const trips = rec.supervisor.check(this.observation(rec, now, sampledFrom, zones, health));
      const change = alarms.update(st.id, trips);
      events.publish(change);
      const vent = firstVent(trips) ?? boardVent;
      if (vent) {
        const raised = raisedLatched(change);
        if (raised) rec.counters.tripped();
        const report = st.trip(now, vent.reason);
        if (report) events.emit('session-ended', report);
        // Timed once, at the tick the alarm is raised; a trip that persists vents again each tick.
        if (raised) rec.ventedNow = vent;
      }
    }

    for (const rec of records) {
      const report = rec.station.control(now);
      if (report) events.emit('session-ended', report);
      gate(rec.station);
    }

    this.heartbeat = !this.heartbeat;
    io.heartbeat?.set(this.heartbeat);
    await io.flushAll();
    if (observer?.vented) {
      const at = clock.now();
      for (const rec of records) if (rec.ventedNow) observer.vented(rec.station.id, rec.ventedNow, at);
    }
    for (const rec of records) rec.counters.count(rec.station, dt);

    if (now - this.lastFrameMs >= FRAME_INTERVAL_MS) {
      this.lastFrameMs = now;
      if (events.wantsFrames) for (const f of allFrames(this.c)) events.emit('frame', f);
    }
    if (late.kind === 'late' && cause) events.emit('loop-late', cause);
    if (now - this.lastCountersMs >= COUNTERS_INTERVAL_MS) {
      this.lastCountersMs = now;
      events.emit('counters', this.counterReport());
    }
  }

  /** The station's supervisor input for this tick, refilled in place. */
  private observation(
    rec: StationRecord,
    now: number,
    sampledFrom: number,
    zones: StationRecord['obs']['zones'],
    health: ReturnType<BoardIo['health']>,
  ): StationRecord['obs'] {
    const st = rec.station;
    const o = rec.obs;
    o.nowMs = now;
    o.sampledFromMs = sampledFrom;
    o.zones = zones;
    o.pumpOn = st.pumpDuty > 0;
    o.ceilingMmHg = st.ceilingMmHg;
    o.sessionElapsedMs = st.sessionElapsedMs(now);
    o.sessionMaxMs = st.sessionMaxMs();
    o.linkDown = linkDown(st, health);
    o.fillLimitMs = st.fillLimitMs();
    return o;
  }

  /** The cause of a late tick in the protocol's words. */
  private explainLate(late: LateVerdict): LoopLate | null {
    if (late.kind === 'on-time') return null;
    const detail = this.c.opts.latenessCause?.explain();
    const { cause: _kind, ...figures } = detail ?? { cause: null };
    this.lastLate = {
      latenessMs: Math.round(late.latenessMs * 10) / 10,
      periodMs: this.periodMs,
      lateInWindow: late.lateInWindow,
      cause: detail ? describeCause(detail) : 'cause unknown (no process figures here)',
      ...(detail ? { detail: figures as NonNullable<LoopLate['detail']> } : {}),
      atEpochMs: this.c.epochNow(),
    };
    return this.lastLate;
  }
}

/**
 * The last check on what is staged: a station that is not running is in the safe state, and
 * the pump never runs with every inlet shut.
 */
function gate(st: Station): void {
  if (st.state !== 'running') {
    st.stageSafe();
    return;
  }
  if (!(st.pumpDuty > 0)) return;
  for (const d of st.written) if (d.inlet) return;
  st.pumpDuty = 0;
  st.stage();
}
