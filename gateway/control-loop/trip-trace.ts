/**
 * Bench instrumentation, off unless PRESSO_BENCH_TRACE names a file: times every venting trip
 * from the moment the simulated pressure at the sensor crossed the over-pressure trip level to
 * the moment the vent outputs were written, one JSON line per trip. It also keeps every tick's
 * lateness since the last mark() (SIGUSR2: startBenchTrace below), so the bench reads the lateness of exactly
 * its load window rather than the loop's rolling 60-second window, which includes start-up.
 *
 * The crossing is found inside the physics integration (StationModel.watchPort, 1 ms steps while
 * a zone fills) on the same clock as the tick, so the figure includes everything a real sensor
 * and loop add: the sensor lag, the wait for the next sample, the 2-sample debounce and the tick.
 * Only simulated boards can be traced (the crossing is only known to the simulator).
 *
 * It reaches the loop only through the TickObserver seam (tick-observer.ts), handed to the
 * Controller and the TickLoop at start-up.
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import type { Clock } from '../clock.js';
import type { Simulation } from '../sim/from-board.js';
import type { SimWorld } from '../sim/world.js';
import type { StationModel } from '../sim/station-model.js';
import { overPressureLimitMmHg, type ZoneObservation } from './supervisor.js';
import type { Trip } from './trips.js';
import type { TickInfo } from './tick-loop.js';
import type { TickObserver } from './tick-observer.js';

/** Tick lateness between two marks, as written to the file. */
export interface LatenessLine {
  kind: 'lateness';
  ticks: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Largest gap beyond one period between two tick starts (a stall that skipped deadlines). */
  maxOverdueMs: number;
  fromMs: number;
  toMs: number;
}

/** One traced trip, as written to the file. */
export interface TripTraceLine {
  kind: 'trip';
  stationId: string;
  /** 1-based; absent for a station- or board-wide trip. */
  zone?: number;
  code: string;
  /** Clock ms when the simulated sensor-port pressure last rose above the trip level (null if it did not). */
  crossedAtMs: number | null;
  ventedAtMs: number;
  tripToVentMs: number | null;
  levelMmHg: number | null;
}

export class TripTraceFile implements TickObserver {
  private readonly out: WriteStream;
  private readonly models = new Map<string, StationModel>();

  constructor(
    private readonly world: SimWorld,
    path: string,
  ) {
    // Appended asynchronously: the tick never waits on the disk for the bench.
    this.out = createWriteStream(path, { flags: 'a' });
  }

  private model(stationId: string): StationModel | undefined {
    let m = this.models.get(stationId);
    if (m === undefined && this.world.stationIds.includes(stationId)) {
      m = this.world.station(stationId);
      this.models.set(stationId, m);
    }
    return m;
  }

  /** Every tick, before the supervisor: sets each zone's watched level to its trip level now. */
  stationObserved(stationId: string, zones: readonly ZoneObservation[], ceilingMmHg: number): void {
    const m = this.model(stationId);
    if (m === undefined) return;
    for (let i = 0; i < zones.length; i++) {
      m.watchPort(i, overPressureLimitMmHg((zones[i] as ZoneObservation).setpointMmHg, ceilingMmHg));
    }
  }

  /** A trip that vented a station, once its vent has been written to the outputs. */
  vented(stationId: string, trip: Trip, atMs: number): void {
    const m = this.model(stationId);
    const z = trip.zone;
    const crossed = m !== undefined && z !== undefined ? m.portCrossedAtMs(z - 1) : Number.NaN;
    const line: TripTraceLine = {
      kind: 'trip',
      stationId,
      ...(z !== undefined ? { zone: z } : {}),
      code: trip.code,
      crossedAtMs: Number.isFinite(crossed) ? crossed : null,
      ventedAtMs: atMs,
      tripToVentMs: Number.isFinite(crossed) ? atMs - crossed : null,
      levelMmHg: m !== undefined && z !== undefined ? m.watchedLevelMmHg(z - 1) : null,
    };
    this.out.write(`${JSON.stringify(line)}\n`);
  }

  private lateness: number[] = [];
  private maxOverdue = 0;
  private since = Number.NaN;

  /** Every tick, from the tick loop. */
  loopTick(info: TickInfo, nowMs: number): void {
    if (Number.isNaN(this.since)) this.since = nowMs;
    this.lateness.push(info.latenessMs);
    if (info.overdueMs > this.maxOverdue) this.maxOverdue = info.overdueMs;
  }

  /** Writes the lateness figures since the previous mark, and starts again. */
  mark(nowMs: number): void {
    const sorted = Float64Array.from(this.lateness).sort();
    const k = sorted.length;
    const at = (q: number) => (k === 0 ? 0 : (sorted[Math.min(k - 1, Math.floor(q * k))] ?? 0));
    const line: LatenessLine = {
      kind: 'lateness',
      ticks: k,
      p50Ms: at(0.5),
      p99Ms: at(0.99),
      maxMs: k === 0 ? 0 : (sorted[k - 1] ?? 0),
      maxOverdueMs: this.maxOverdue,
      fromMs: Number.isNaN(this.since) ? nowMs : this.since,
      toMs: nowMs,
    };
    this.out.write(`${JSON.stringify(line)}\n`);
    this.lateness = [];
    this.maxOverdue = 0;
    this.since = nowMs;
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.out.end(() => resolve()));
  }
}

/** The bench's trace as a process runs it: SIGUSR2 marks it; close() stops listening and closes the file. */
export interface BenchTrace {
  observer: TickObserver;
  close(): Promise<void>;
}

/**
 * The bench's trace when `path` (PRESSO_BENCH_TRACE) names a file and the board is simulated;
 * undefined otherwise, and then nothing of the bench is wired into the loop. The bench marks the
 * start and end of its load window with SIGUSR2.
 */
export function startBenchTrace(
  sim: Simulation | undefined,
  clock: Clock,
  path = process.env.PRESSO_BENCH_TRACE,
): BenchTrace | undefined {
  if (!path || !sim) return undefined;
  const file = new TripTraceFile(sim.world, path);
  const onMark = () => file.mark(clock.now());
  process.on('SIGUSR2', onMark);
  return {
    observer: file,
    close: () => {
      process.off('SIGUSR2', onMark);
      return file.close();
    },
  };
}
