/**
 * What the controller's parts share: the options it was started with, one record per station,
 * the alarm book and the event hub. The Controller (controller.ts) builds it once; the tick
 * (tick.ts), the frame builder (frames.ts) and the commands (commands.ts) read and change the
 * stations through it.
 */
import type { BoardIo } from '../board/open.js';
import type { Clock } from '../clock.js';
import type { Simulation } from '../sim/from-board.js';
import type { AlarmBook } from './alarms.js';
import type { ControllerEvents } from './controller-events.js';
import type { LatenessCause } from './lateness-cause.js';
import type { Station } from './station.js';
import type { StationRecord } from './station-record.js';
import type { LatenessStats } from './tick-loop.js';
import type { TickObserver } from './tick-observer.js';

export interface ControllerOptions {
  clock: Clock;
  io: BoardIo;
  sim?: Simulation;
  version: string;
  epochNow?: () => number;
  /** Loop timing, from the tick loop that drives this controller. */
  loopStats?: () => LatenessStats;
  /** Bench instrumentation (tick-observer.ts, trip-trace.ts); absent in normal use. */
  observer?: TickObserver;
  /**
   * What the process did during a late tick's gap (lateness-cause.ts): mark() at every tick
   * start, explain() on a late one. Absent in virtual time.
   */
  latenessCause?: { mark(): void; explain(): LatenessCause };
  /** How the process is scheduled, in words, for `hello` (scheduling.ts). */
  scheduling?: string;
}

export interface ControllerContext {
  readonly opts: ControllerOptions;
  readonly epochNow: () => number;
  /** One record per station, in board order. */
  readonly records: readonly StationRecord[];
  /** The same stations, in the same order. */
  readonly stations: readonly Station[];
  readonly alarms: AlarmBook;
  readonly events: ControllerEvents;
}
