/**
 * Maintenance counters of one station: pump run time and starts, valve cycles per zone, trips.
 * Counted every tick from what was written; published every COUNTERS_INTERVAL_MS for the web
 * process to persist.
 */
import type { MaintenanceCounters } from '../protocol.js';
import type { Station } from './station.js';

/** Maintenance counters are published this often, for the web process to persist. */
export const COUNTERS_INTERVAL_MS = 10_000;

export class StationCounters {
  private pumpRunMs = 0;
  private pumpStarts = 0;
  private trips = 0;
  private readonly inletCycles: number[];
  private readonly exhaustCycles: number[];
  private lastPump = false;
  private readonly lastInlet: boolean[];
  private readonly lastExhaust: boolean[];

  constructor(zones: number) {
    this.inletCycles = new Array<number>(zones).fill(0);
    this.exhaustCycles = new Array<number>(zones).fill(0);
    this.lastInlet = new Array<boolean>(zones).fill(false);
    this.lastExhaust = new Array<boolean>(zones).fill(false);
  }

  /** A venting trip raised a latched alarm. */
  tripped(): void {
    this.trips++;
  }

  /** Counts what the station wrote this tick; `dtMs` is the time since the previous tick. */
  count(st: Station, dtMs: number): void {
    const pump = st.pumpDuty > 0;
    if (pump) this.pumpRunMs += dtMs;
    if (pump && !this.lastPump) this.pumpStarts++;
    this.lastPump = pump;
    const written = st.written;
    for (let z = 0; z < written.length; z++) {
      const d = written[z];
      if (!d) continue;
      if (d.inlet && !this.lastInlet[z]) this.inletCycles[z] = (this.inletCycles[z] ?? 0) + 1;
      if (d.exhaust && !this.lastExhaust[z]) this.exhaustCycles[z] = (this.exhaustCycles[z] ?? 0) + 1;
      this.lastInlet[z] = d.inlet;
      this.lastExhaust[z] = d.exhaust;
    }
  }

  report(st: Station): MaintenanceCounters {
    return {
      stationId: st.id,
      pumpRunMs: Math.round(this.pumpRunMs),
      pumpStarts: this.pumpStarts,
      inletCycles: [...this.inletCycles],
      exhaustCycles: [...this.exhaustCycles],
      trips: this.trips,
      leakDuty: st.regulators.map((r) => Math.round(r.topUpDuty * 1000) / 1000),
    };
  }
}
