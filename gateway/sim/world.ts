/**
 * A set of simulated stations on one virtual timeline, plus the world-wide emergency stop, with
 * fault injection by name (the API and dashboard list SIM_FAULT_KINDS).
 *
 * The world holds no clock: whoever owns the Clock (gateway/clock.ts) calls advanceTo(clock.now())
 * before reading sensors or after writing actuators, so a VirtualClock runs sessions faster than
 * real time and a RealClock runs them live.
 */
import {
  isFaultKind,
  unknownFaultKind,
  parseFault,
  SimFaultError,
  type ActiveFault,
  type SimFault,
  type SimFaultKind,
  type SimFlagKind,
} from './faults.js';
import { resolveStationParams, type GarmentClass, type StationParamsOverride } from './params.js';
import { checkSeed, deriveSeed } from './random.js';
import { StationModel } from './station-model.js';

export interface SimStationSpec {
  id: string;
  garment: GarmentClass;
  zones: number;
  /** Garment class per zone (distal first) when a station mixes chamber types; default all `garment`. */
  zoneGarments?: readonly GarmentClass[];
  /** Deep-partial override of the class defaults (see params.ts). */
  params?: StationParamsOverride;
}

export interface SimWorldOptions {
  /** Any safe integer. Each station's randomness derives from it and the station id. */
  seed: number;
  stations: readonly SimStationSpec[];
  /** Model time the world starts at, ms (match the clock's start). */
  startMs?: number;
}

/** Station id that addresses the whole world in fault calls (for 'estop'). */
export const WORLD_ID = '*';

export class SimWorld {
  readonly seed: number;
  private readonly stations = new Map<string, StationModel>();
  private readonly stationList: StationModel[] = [];
  private t: number;
  private estop: ActiveFault | undefined;

  constructor(opts: SimWorldOptions) {
    this.seed = checkSeed(opts.seed);
    this.t = opts.startMs ?? 0;
    if (!Number.isFinite(this.t)) throw new RangeError('startMs must be finite');
    for (const [i, s] of opts.stations.entries()) {
      if (typeof s.id !== 'string' || s.id.length === 0 || s.id === WORLD_ID) {
        throw new RangeError(`stations[${i}].id: expected a non-empty id other than '${WORLD_ID}'`);
      }
      if (this.stations.has(s.id)) throw new RangeError(`stations[${i}].id: duplicate id '${s.id}'`);
      let params;
      try {
        params = resolveStationParams(s.garment, s.zones, s.params, s.zoneGarments);
      } catch (e) {
        throw new RangeError(`stations[${i}] ('${s.id}'): ${(e as Error).message}`, { cause: e });
      }
      // Seeds per station id, so adding or reordering stations leaves the others' traces unchanged.
      const model = new StationModel(params, deriveSeed(this.seed, 'station', s.id), this.t);
      this.stations.set(s.id, model);
      this.stationList.push(model);
    }
  }

  get stationIds(): string[] {
    return [...this.stations.keys()];
  }

  get timeMs(): number {
    return this.t;
  }

  /** The station with `id`; throws a RangeError naming the known ids otherwise. */
  station(id: string): StationModel {
    const s = this.stations.get(id);
    if (!s) throw new RangeError(`unknown station '${id}' (known: ${this.stationIds.join(', ') || 'none'})`);
    return s;
  }

  /** Integrates every station up to `tMs` (earlier times are ignored). */
  advanceTo(tMs: number): void {
    if (!Number.isFinite(tMs)) throw new RangeError(`advanceTo: time must be finite, got ${tMs}`);
    // Called several times per control tick (every simulated device's sample and flush): an
    // array walk, not a Map iterator, and nothing at all when every station is already there.
    if (tMs <= this.t && this.allAt(tMs)) return;
    for (const s of this.stationList) s.advanceTo(tMs);
    if (tMs > this.t) this.t = tMs;
  }

  private allAt(tMs: number): boolean {
    for (const s of this.stationList) if (s.timeMs < tMs) return false;
    return true;
  }

  /** Whether the emergency-stop button is pressed (the 'estop' fault). */
  get estopPressed(): boolean {
    return this.estop !== undefined;
  }

  /** Presses or releases the emergency stop (same as injecting / clearing 'estop'). */
  setEstop(pressed: boolean): void {
    if (pressed) this.injectFault(WORLD_ID, { kind: 'estop' });
    else this.clearFault(WORLD_ID, 'estop');
  }

  /**
   * Injects a fault on a station (zone faults need `zone`, 0-based). 'estop' is world-wide and
   * may be injected through any station id or WORLD_ID. Throws SimFaultError for a bad request,
   * RangeError for an unknown station.
   */
  injectFault(stationId: string, fault: SimFault): ActiveFault {
    const kind = (fault as { kind?: unknown } | null)?.kind;
    if (kind === 'estop') {
      if (stationId !== WORLD_ID) this.station(stationId);
      parseFault(fault, 1);
      this.estop ??= { kind: 'estop', sinceMs: this.t };
      return this.estop;
    }
    if (stationId === WORLD_ID) {
      throw new SimFaultError(`only 'estop' is world-wide; inject ${JSON.stringify(kind)} on a station`);
    }
    return this.station(stationId).injectFault(fault);
  }

  /**
   * Clears faults: of `kind` only (and on `zone` only) if given, else all of that station's
   * faults. 'estop' is cleared through any station id; clearing everything on a station leaves the
   * world-wide estop alone. WORLD_ID with no kind clears every fault everywhere. Returns the count.
   */
  clearFault(stationId: string, kind?: SimFaultKind, zone?: number): number {
    if (kind !== undefined && !isFaultKind(kind)) throw unknownFaultKind(kind);
    if (kind === 'estop') {
      if (stationId !== WORLD_ID) this.station(stationId);
      const had = this.estop !== undefined;
      this.estop = undefined;
      return had ? 1 : 0;
    }
    if (stationId === WORLD_ID) {
      let n = 0;
      if (kind === undefined && this.estop) {
        this.estop = undefined;
        n++;
      }
      for (const s of this.stations.values()) n += s.clearFault(kind, zone);
      return n;
    }
    return this.station(stationId).clearFault(kind, zone);
  }

  /** Faults in effect on a station, plus the world-wide estop when pressed. WORLD_ID lists only the latter. */
  faults(stationId: string): ActiveFault[] {
    const world = this.estop ? [this.estop] : [];
    if (stationId === WORLD_ID) return world;
    return [...this.station(stationId).faults(), ...world];
  }

  /** Whether a flag for the simulated I/O layer is raised ('estop' ignores the station). */
  flagActive(stationId: string, kind: SimFlagKind, zone?: number): boolean {
    if (kind === 'estop') return this.estopPressed;
    return this.station(stationId).flagActive(kind, zone);
  }
}
