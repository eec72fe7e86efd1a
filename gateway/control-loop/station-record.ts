/**
 * A station as the controller holds it: its state machine, its supervisor, its maintenance
 * counters, and the supervisor's input, refilled in place every tick.
 */
import type { StationIo } from '../board/open.js';
import { CommandError } from '../protocol.js';
import { StationCounters } from './counters.js';
import { Station } from './station.js';
import { StationSupervisor, type StationObservation } from './supervisor.js';
import type { Trip } from './trips.js';

export interface StationRecord {
  readonly station: Station;
  readonly supervisor: StationSupervisor;
  readonly counters: StationCounters;
  /** What the supervisor is shown this tick (the same object every tick). */
  readonly obs: StationObservation;
  /** The trip that vented the station this tick and raised its alarm, for the tick observer. */
  ventedNow: Trip | null;
}

export function stationRecord(io: StationIo, epochNow: () => number, nowMs: number): StationRecord {
  const station = new Station(io, epochNow);
  const zones = io.zones.length;
  return {
    station,
    supervisor: new StationSupervisor(station.id, zones, nowMs),
    counters: new StationCounters(zones),
    obs: {
      nowMs,
      sampledFromMs: nowMs,
      zones: [],
      pumpOn: false,
      ceilingMmHg: station.ceilingMmHg,
      sessionElapsedMs: null,
      sessionMaxMs: station.sessionMaxMs(),
      linkDown: null,
      fillLimitMs: 0,
    },
    ventedNow: null,
  };
}

/** The record of station `id`, or CommandError('not-found') listing the stations there are. */
export function findRecord(records: readonly StationRecord[], id: unknown): StationRecord {
  for (const r of records) if (r.station.id === id) return r;
  throw new CommandError(
    'not-found',
    `no station "${String(id)}" (stations: ${records.map((r) => r.station.id).join(', ')})`,
  );
}

/** The station with `id` (see findRecord). */
export function findStation(records: readonly StationRecord[], id: unknown): Station {
  return findRecord(records, id).station;
}
