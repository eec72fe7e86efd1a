/**
 * The faults injected on one simulated station (station-model.ts), kept as a table of active
 * faults and, derived from it, per-zone flags the integrator reads on every step without looking
 * at the table. The arrays are allocated once and shared with the model: rebuild() rewrites them
 * in place.
 */
import { leakConductance, type ChamberShape } from './physics.js';
import { faultKey, type ActiveFault, type SimFaultKind, type SimFlagKind } from './faults.js';

export class StationFaults {
  private readonly table = new Map<string, ActiveFault>();
  /** Extra leak conductance per zone from 'leak' faults. */
  readonly leakG: Float64Array;
  readonly blocked: Uint8Array;
  readonly disconnected: Uint8Array;
  /** -1: no fault; 0: stuck closed; 1: stuck open. */
  readonly inletStuck: Int8Array;
  readonly exhaustStuck: Int8Array;
  readonly sensorDisconnected: Uint8Array;
  /** The value a stuck sensor holds; NaN when it is not stuck (set by the model on injection). */
  readonly sensorStuckAt: Float64Array;
  readonly driftRate: Float64Array;
  readonly driftSince: Float64Array;
  /** The pump's delivery factor the faults leave (1 healthy, 0 dead). */
  pumpFactor = 1;

  constructor(
    private readonly zones: number,
    private readonly shapes: readonly ChamberShape[],
  ) {
    this.leakG = new Float64Array(zones);
    this.blocked = new Uint8Array(zones);
    this.disconnected = new Uint8Array(zones);
    this.inletStuck = new Int8Array(zones).fill(-1);
    this.exhaustStuck = new Int8Array(zones).fill(-1);
    this.sensorDisconnected = new Uint8Array(zones);
    this.sensorStuckAt = new Float64Array(zones).fill(Number.NaN);
    this.driftRate = new Float64Array(zones);
    this.driftSince = new Float64Array(zones);
  }

  /** Adds (or, for the same kind on the same target, replaces) a fault and rebuilds the flags. */
  set(active: ActiveFault): void {
    this.table.set(faultKey(active), active);
    this.rebuild();
  }

  /** Clears faults of `kind` (on `zone` only, if given), or every fault. Returns how many were cleared. */
  clear(kind?: SimFaultKind, zone?: number): number {
    let n = 0;
    for (const [key, f] of this.table) {
      if (kind !== undefined && f.kind !== kind) continue;
      if (zone !== undefined && (!('zone' in f) || f.zone !== zone)) continue;
      this.table.delete(key);
      n++;
    }
    if (n > 0) this.rebuild();
    return n;
  }

  list(): ActiveFault[] {
    return [...this.table.values()];
  }

  /**
   * Whether a non-physical flag is raised for the I/O layer. Without `zone`: a station-wide fault
   * of that kind. With `zone`: a station-wide fault or one on that zone (an 'i2c-nack' on zone 2
   * fails zone 2's chips only; one without a zone fails all of the station's chips).
   */
  flagActive(kind: Exclude<SimFlagKind, 'estop'>, zone?: number): boolean {
    // Asked for every sensor on every tick; almost always with no fault at all.
    if (this.table.size === 0) return false;
    for (const f of this.table.values()) {
      if (f.kind !== kind) continue;
      const fz = 'zone' in f ? f.zone : undefined;
      if (fz === undefined || fz === zone) return true;
    }
    return false;
  }

  private rebuild(): void {
    this.leakG.fill(0);
    this.blocked.fill(0);
    this.disconnected.fill(0);
    this.inletStuck.fill(-1);
    this.exhaustStuck.fill(-1);
    this.sensorDisconnected.fill(0);
    this.driftRate.fill(0);
    const stuckSensors = new Set<number>();
    this.pumpFactor = 1;
    let dead = false;
    for (const f of this.table.values()) {
      switch (f.kind) {
        case 'leak':
          this.leakG[f.zone] = leakConductance(this.shapes[f.zone] as ChamberShape, f.mmHgPerMin);
          break;
        case 'hose-disconnected':
          this.disconnected[f.zone] = 1;
          break;
        case 'blocked-hose':
          this.blocked[f.zone] = 1;
          break;
        case 'valve-stuck-open':
        case 'valve-stuck-closed':
          (f.valve === 'inlet' ? this.inletStuck : this.exhaustStuck)[f.zone] =
            f.kind === 'valve-stuck-open' ? 1 : 0;
          break;
        case 'pump-dead':
          dead = true;
          break;
        case 'pump-weak':
          this.pumpFactor = Math.min(this.pumpFactor, f.flowFactor);
          break;
        case 'sensor-stuck':
          stuckSensors.add(f.zone);
          break;
        case 'sensor-drift':
          this.driftRate[f.zone] = f.mmHgPerS;
          break;
        case 'sensor-disconnected':
          this.sensorDisconnected[f.zone] = 1;
          break;
        case 'i2c-nack':
        case 'modbus-link-drop':
        case 'estop':
          break;
      }
    }
    if (dead) this.pumpFactor = 0;
    for (let z = 0; z < this.zones; z++) if (!stuckSensors.has(z)) this.sensorStuckAt[z] = Number.NaN;
  }
}
