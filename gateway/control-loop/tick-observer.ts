/**
 * The seam for instruments that watch the control loop from outside (the bench's trip trace,
 * trip-trace.ts): an observer is handed to the Controller and the TickLoop at start-up and is
 * absent in normal use. It is called synchronously inside the tick, so it must be quick, must
 * not throw, and must keep nothing it is given beyond the call (the zones and the trip are
 * refilled next tick).
 */
import type { ZoneObservation } from './supervisor.js';
import type { Trip } from './trips.js';
import type { TickInfo } from './tick-loop.js';

export interface TickObserver {
  /** Every loop tick, before the controller's tick runs: how late it started. */
  loopTick?(info: TickInfo, nowMs: number): void;
  /** Every tick, for each station, after its zones are observed and before the supervisor judges them. */
  stationObserved?(stationId: string, zones: readonly ZoneObservation[], ceilingMmHg: number): void;
  /** A trip that vented a station, once its vent has been written to the outputs; once per raised alarm. */
  vented?(stationId: string, trip: Trip, atMs: number): void;
}
