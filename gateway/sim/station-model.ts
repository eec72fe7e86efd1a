/**
 * Lumped pneumatic model of one IPC station (pure logic, no I/O, no wall-clock time).
 *
 * Plumbing (pneumatics reference §5 fail-safe suggestion, §7 parameter set):
 *
 *   pump (PWM duty × enable) → manifold (gas compliance V_m/760, mechanical relief valve)
 *     → per zone: normally-CLOSED inlet valve (energised = open) → hose → chamber
 *     ← per zone: normally-OPEN exhaust valve at the valve block (energised = closed) vents the
 *       chamber back through the same hose to atmosphere.
 *
 * So every actuator is safe when de-energised: pump off, inlets shut, chambers venting.
 *
 * Numerics. The manifold is stiff (10 mL of gas ⇒ 0.013 mL/mmHg, millisecond time constants, a
 * dead-headed pump raises it at ~5000 mmHg/s, §1.3), so its pressure is solved implicitly every
 * step (backward Euler; the flow balance is monotonic in P_m, solved by Newton inside a bisection
 * bracket). Chambers have C_eff ≥ ~0.8 mL/mmHg and path conductances ≤ ~10 mL/s/mmHg, so their time
 * constants are ≥ ~0.1 s and they are integrated explicitly with the flows of the implicit
 * manifold solution. Steps are 1 ms while anything moves fast. Slow parts take long steps (Heun's
 * method, ≤ 3 % of their time constant, ≤ 0.1 mmHg of change, ≤ `integration.maxQuietStepMs`):
 * the whole station when it is quiet (pump stopped, inlets shut, valves settled), and otherwise
 * each zone whose inlet is shut and whose valves have settled ("sleeping" zones, see step() in station-integrator.ts).
 *
 * Zones are 0-based here, 0 = most distal.
 */
import { chamberGasMl, type ChamberShape } from './physics.js';
import { validateStationParams, type GarmentClass, type StationParams } from './params.js';
import { checkSeed } from './random.js';
import { PortWatch, type SensorReading } from './sensor-model.js';
import type { Valve } from './valve.js';
import {
  parseFault,
  SimFaultError,
  type ActiveFault,
  type SimFault,
  type SimFaultKind,
  type SimFlagKind,
} from './faults.js';
import { StationState, type GasLedger, type StationStats } from './station-state.js';
import {
  advanceTo,
  exhaustFraction,
  extrapolated,
  inletFraction,
  wake,
  wakeAll,
} from './station-integrator.js';
import { scheduleNextBump } from './patient-bumps.js';

export type { GasLedger, StationStats };

/** Freezes an object graph (params are plain data: objects, arrays, numbers, strings). */
function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

/**
 * One simulated station: pump, manifold, valves, hoses, chambers and pressure sensors. What the
 * drivers and the world see (commands, readings, faults, bench hooks); the physics lives in
 * station-integrator.ts and chamber-model.ts, on the state record of station-state.ts.
 */
export class StationModel {
  readonly params: StationParams;
  readonly zones: number;
  readonly garment: GarmentClass;
  private readonly s: StationState;

  constructor(params: StationParams, seed: number, startMs = 0) {
    validateStationParams(params);
    checkSeed(seed);
    if (!Number.isFinite(startMs)) throw new RangeError(`startMs must be finite, got ${startMs}`);
    // A frozen private copy: the state's derived constants are computed once from it.
    this.params = deepFreeze(structuredClone(params));
    this.zones = params.zones;
    this.garment = params.garment;
    this.s = new StationState(this.params, seed, startMs);
    this.s.nextBumpAt = scheduleNextBump(this.s, startMs);
  }

  // ---------------------------------------------------------------------------------------------
  // Commands and state

  /** Model time, ms. */
  get timeMs(): number {
    return this.s.t;
  }

  /**
   * Bench instrumentation: watch zone's sensor-port pressure against `levelMmHg`, and remember
   * the model time of its last upward crossing (interpolated within the integration step). Off,
   * and costing one check per step, until first called.
   */
  watchPort(zone: number, levelMmHg: number): void {
    this.checkZone(zone);
    this.s.watch ??= new PortWatch(this.zones);
    this.s.watch.set(zone, levelMmHg);
  }

  /** Model time the watched zone's port last rose above its level and stayed above; NaN if it is below. */
  portCrossedAtMs(zone: number): number {
    this.checkZone(zone);
    return this.s.watch?.crossedAt[zone] ?? Number.NaN;
  }

  watchedLevelMmHg(zone: number): number | null {
    this.checkZone(zone);
    return this.s.watch?.levelMmHg(zone) ?? null;
  }

  /** Sets the pump PWM duty (0..1; the enable line is folded in: disabled = 0). Takes effect now. */
  setPump(duty: number): void {
    const d = !Number.isFinite(duty) || duty <= 0 ? 0 : duty >= 1 ? 1 : duty;
    const wasRunning = this.s.effDuty > 0;
    this.s.duty = d;
    // §7 pump row: no rotation below the PWM dead zone (breakaway torque), q ∝ d above it.
    this.s.effDuty = d >= this.params.pump.deadZoneDuty && d > 0 ? d : 0;
    if (!wasRunning && this.s.effDuty > 0) this.s.pumpStarts++;
  }

  get pumpDuty(): number {
    return this.s.duty;
  }

  /** Energises (opens) or releases (closes) zone's normally-closed inlet valve, from now. */
  setInlet(zone: number, energised: boolean): void {
    this.checkZone(zone);
    this.actuate(zone, this.s.inlets[zone], energised);
  }

  /** Energises (closes) or releases (opens, venting) zone's normally-open exhaust valve, from now. */
  setExhaust(zone: number, energised: boolean): void {
    this.checkZone(zone);
    this.actuate(zone, this.s.exhausts[zone], energised);
  }

  inletEnergised(zone: number): boolean {
    this.checkZone(zone);
    return this.s.inlets[zone]?.energised ?? false;
  }

  exhaustEnergised(zone: number): boolean {
    this.checkZone(zone);
    return this.s.exhausts[zone]?.energised ?? false;
  }

  /** Effective opening fraction of zone's inlet valve now (0..1), stuck-valve faults included. */
  inletOpenFraction(zone: number): number {
    this.checkZone(zone);
    return inletFraction(this.s, zone, this.s.t);
  }

  /** Effective opening fraction of zone's exhaust valve now (0..1), stuck-valve faults included. */
  exhaustOpenFraction(zone: number): number {
    this.checkZone(zone);
    return exhaustFraction(this.s, zone, this.s.t);
  }

  /** True chamber gauge pressure, mmHg. */
  chamberMmHg(zone: number): number {
    this.checkZone(zone);
    return extrapolated(this.s, zone, this.s.p[zone] ?? 0);
  }

  /** True manifold gauge pressure, mmHg. */
  manifoldMmHg(): number {
    return this.s.pm;
  }

  /** Air the pump delivers into the manifold now, free-air mL/s. */
  pumpFlowMlPerS(): number {
    return this.s.pumpQ;
  }

  /** Air the manifold relief valve blows off now, free-air mL/s (> 0 means the pump is dead-headed). */
  reliefFlowMlPerS(): number {
    return this.s.reliefQ;
  }

  /** Net air flowing into zone's chamber now (inlet minus exhaust/port), free-air mL/s; leak excluded. */
  chamberInflowMlPerS(zone: number): number {
    this.checkZone(zone);
    return (this.s.faultFlags.disconnected[zone] ? 0 : (this.s.qIn[zone] ?? 0)) - (this.s.qOut[zone] ?? 0);
  }

  /** The true pressure at the sensor's tap (chamber, or valve block incl. hose drop), before sensor errors. */
  sensorPortMmHg(zone: number): number {
    this.checkZone(zone);
    return extrapolated(this.s, zone, this.s.port[zone] ?? 0);
  }

  /** Gas in zone's chamber, free-air mL (for balance checks). */
  chamberGasMl(zone: number): number {
    this.checkZone(zone);
    return chamberGasMl(this.s.shapes[zone] as ChamberShape, this.chamberMmHg(zone));
  }

  /** Gas in the manifold above atmospheric, free-air mL. */
  manifoldGasMl(): number {
    return this.s.manifoldC * this.s.pm;
  }

  /** The seeded per-unit sensor errors of zone (what a zero/span calibration would find). */
  sensorCalibration(zone: number): { offsetMmHg: number; gainError: number } {
    this.checkZone(zone);
    return this.s.sensors.calibration(zone);
  }

  ledger(): GasLedger {
    const l = { ...this.s.ledgerData };
    // Sleeping zones are integrated up to their own last update; their outflows since then are
    // extrapolated like their pressures, so the ledger matches chamberGasMl() at any time.
    for (let z = 0; z < this.zones; z++) {
      const dtS = (this.s.t - (this.s.zoneT[z] ?? this.s.t)) / 1000;
      if (!this.s.asleep[z] || dtS <= 0) continue;
      l.ventedMl += (this.s.qOut[z] ?? 0) * dtS;
      l.leakedMl += ((this.s.leakG[z] ?? 0) + (this.s.faultFlags.leakG[z] ?? 0)) * (this.s.p[z] ?? 0) * dtS;
    }
    return l;
  }

  stats(): StationStats {
    return {
      pumpRunMs: this.s.pumpRunMs,
      pumpStarts: this.s.pumpStarts,
      reliefOpenMs: this.s.reliefOpenMs,
      inletActuations: this.s.inlets.map((v) => v.actuations),
      exhaustActuations: this.s.exhausts.map((v) => v.actuations),
    };
  }

  /**
   * One reading of zone's sensor at the current model time: y = (1 + gain)·P_lagged + offset +
   * drift + N(0, σ²), per §7's sensor row. Not quantised unless `sensor.quantumMmHg` > 0: the ADC
   * model that reads it quantises. Each call draws fresh noise from the zone's own stream.
   */
  sense(zone: number): SensorReading {
    this.checkZone(zone);
    if (this.s.faultFlags.sensorDisconnected[zone]) return { mmHg: Number.NaN, connected: false };
    const stuck = this.s.faultFlags.sensorStuckAt[zone] ?? Number.NaN;
    if (!Number.isNaN(stuck)) return { mmHg: stuck, connected: true };
    return { mmHg: this.s.sensors.read(zone, this.noiseFreeReading(zone)), connected: true };
  }

  // ---------------------------------------------------------------------------------------------
  // Faults

  /**
   * Applies a fault (validated; defaults filled in). Re-injecting a kind on the same target
   * replaces it. 'estop' is world-wide: inject it on the SimWorld.
   */
  injectFault(fault: SimFault): ActiveFault {
    const f = parseFault(fault, this.zones);
    if (f.kind === 'estop') throw new SimFaultError('estop is world-wide: inject it on the SimWorld');
    wakeAll(this.s);
    if (f.kind === 'sensor-stuck') {
      // Holds the last value the sensor gave, or what it would give now if never read.
      const last = this.s.sensors.lastSensed[f.zone] ?? Number.NaN;
      this.s.faultFlags.sensorStuckAt[f.zone] = Number.isNaN(last) ? this.noiseFreeReading(f.zone) : last;
    }
    if (f.kind === 'sensor-drift') this.s.faultFlags.driftSince[f.zone] = this.s.t;
    const active: ActiveFault = { ...f, sinceMs: this.s.t };
    this.s.faultFlags.set(active);
    this.faultsChanged();
    return active;
  }

  /** Clears faults of `kind` (on `zone` only, if given), or every fault. Returns how many were cleared. */
  clearFault(kind?: SimFaultKind, zone?: number): number {
    const n = this.s.faultFlags.clear(kind, zone);
    if (n > 0) {
      wakeAll(this.s);
      this.faultsChanged();
    }
    return n;
  }

  faults(): ActiveFault[] {
    return this.s.faultFlags.list();
  }

  /** See StationFaults.flagActive. */
  flagActive(kind: Exclude<SimFlagKind, 'estop'>, zone?: number): boolean {
    return this.s.faultFlags.flagActive(kind, zone);
  }

  private faultsChanged(): void {
    this.s.pumpFactor = this.s.faultFlags.pumpFactor;
    // A fault can make any zone fast (a hose pops off a full chamber): restart from a fine step.
    this.s.minLongStepMs = 0;
  }

  // ---------------------------------------------------------------------------------------------
  // Integration (station-integrator.ts)

  /** Integrates up to model time `tMs`. Earlier times are ignored (model time never goes back). */
  advanceTo(tMs: number): void {
    advanceTo(this.s, tMs);
  }

  // ---------------------------------------------------------------------------------------------
  // Helpers

  private actuate(zone: number, valve: Valve | undefined, energised: boolean): void {
    if (!valve || valve.energised === (energised === true)) return;
    wake(this.s, zone);
    const v = this.params.valves;
    const jitter = v.timingJitter > 0 ? this.s.valveRng.uniform(1 - v.timingJitter, 1 + v.timingJitter) : 1;
    if (valve.command(energised === true, this.s.t, v.openDelayMs, v.closeDelayMs, v.rampMs, jitter)) {
      if (valve.settleAt > this.s.valvesSettleAt) this.s.valvesSettleAt = valve.settleAt;
    }
  }

  private noiseFreeReading(zone: number): number {
    const drift =
      ((this.s.faultFlags.driftRate[zone] ?? 0) * (this.s.t - (this.s.faultFlags.driftSince[zone] ?? 0))) /
      1000;
    return this.s.sensors.reading(zone, extrapolated(this.s, zone, this.s.lag[zone] ?? 0), drift);
  }

  private checkZone(zone: number): void {
    if (!Number.isInteger(zone) || zone < 0 || zone >= this.zones) {
      throw new RangeError(`zone ${String(zone)} out of range 0..${this.zones - 1}`);
    }
  }
}
