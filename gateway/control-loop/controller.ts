/**
 * The controller: owns every output of the board. It holds one record per station (its state
 * machine, supervisor and counters: station-record.ts), the alarm book and the event hub, and
 * hands them to its parts:
 *
 *   tick.ts      the control tick (sample → supervise → vent → control → gate → flush)
 *   commands.ts  the commands clients send (IPC); they change station state, never outputs
 *   frames.ts    the state frames clients see
 *   counters.ts  the maintenance counters
 */
import {
  PROTOCOL_VERSION,
  type CommandName,
  type Commands,
  type ControllerInfo,
  type MaintenanceCounters,
  type SessionReport,
  type StationFrame,
} from '../protocol.js';
import { AlarmBook } from './alarms.js';
import { runCommand, type CommandContext } from './commands.js';
import type { ControllerContext, ControllerOptions } from './controller-context.js';
import { ControllerEvents, type Listener } from './controller-events.js';
import { allFrames } from './frames.js';
import type { Station } from './station.js';
import { stationRecord, type StationRecord } from './station-record.js';
import { ControlTick } from './tick.js';

export type { ControllerOptions } from './controller-context.js';
export { COUNTERS_INTERVAL_MS } from './counters.js';

export class Controller {
  readonly stations: Station[];
  private readonly records: StationRecord[];
  private readonly events = new ControllerEvents();
  private readonly ctx: CommandContext;
  private readonly ticker: ControlTick;
  private readonly startedAtEpochMs: number;

  constructor(private readonly opts: ControllerOptions) {
    const epochNow = opts.epochNow ?? Date.now;
    this.startedAtEpochMs = epochNow();
    const now = opts.clock.now();
    this.records = opts.io.stations.map((s) => stationRecord(s, epochNow, now));
    this.stations = this.records.map((r) => r.station);
    const parts: ControllerContext = {
      opts,
      epochNow,
      records: this.records,
      stations: this.stations,
      alarms: new AlarmBook(epochNow),
      events: this.events,
    };
    this.ctx = { ...parts, info: () => this.info(), counterReport: () => this.counterReport() };
    this.ticker = new ControlTick(parts, this.periodMs, () => this.counterReport());
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
    return this.events.on(listener, opts);
  }

  /** One control tick (tick.ts). `latenessMs` is how late the tick loop started it. */
  tick(latenessMs = 0): Promise<void> {
    return this.ticker.run(latenessMs);
  }

  frames(): StationFrame[] {
    return allFrames(this.ctx);
  }

  counterReport(): MaintenanceCounters[] {
    return this.records.map((r) => r.counters.report(r.station));
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
        lateTicks: this.ticker.lateRule.lateTicks,
        lastLate: this.ticker.lastLate,
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

  /** Runs a command from a client (commands.ts). Throws CommandError with a reason; a refused command changes nothing. */
  command<K extends CommandName>(cmd: K, args: Commands[K][0], _origin = 'local'): Promise<Commands[K][1]> {
    return runCommand(this.ctx, cmd, args);
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
    for (const r of reports) this.events.emit('session-ended', r);
    return reports;
  }
}
