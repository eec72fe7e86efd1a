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
 * each zone whose inlet is shut and whose valves have settled ("sleeping" zones, see step()).
 *
 * Zones are 0-based here, 0 = most distal.
 */
import {
  chamberCompliance,
  chamberComplianceSlope,
  chamberGasMl,
  densityRatio,
  leakConductance,
  orificeCoefficient,
  poiseuilleResistance,
  seriesConductance,
  seriesFlow,
  type ChamberShape,
} from './physics.js';
import { validateStationParams, type GarmentClass, type StationParams } from './params.js';
import { deriveSeed, checkSeed, Rng } from './random.js';
import { ManifoldSolver } from './manifold.js';
import { PortWatch, SensorBank, type SensorReading } from './sensor-model.js';
import { Valve } from './valve.js';
import { StationFaults } from './station-faults.js';
import {
  parseFault,
  SimFaultError,
  type ActiveFault,
  type SimFault,
  type SimFaultKind,
  type SimFlagKind,
} from './faults.js';

/** L/min → mL/s. */
const ML_PER_S_PER_L_PER_MIN = 1000 / 60;
/** Below this relative speed a coasting pump motor counts as stopped (its flow is < 1e-4 mL/s). */
const PUMP_STOPPED_SPEED = 1e-6;
/**
 * Long steps (a quiet station, a sleeping zone) are at most this fraction of the chamber time
 * constant. They use Heun's method, whose global relative error is about fraction²/6 per time
 * constant elapsed: vent, leak and hold curves stay within ~0.1 % of 1 ms stepping (tested).
 */
const QUIET_STEP_TAU_FRACTION = 0.03;
/**
 * A long step may move a chamber's pressure at most this much, mmHg. It keeps the linear
 * extrapolation of a sleeping zone's readings between its updates within ~0.01 mmHg.
 */
const LONG_STEP_MAX_CHANGE_MMHG = 0.1;
/** Steps longer than this many fine steps use Heun's method for the chambers. */
const SECOND_ORDER_ABOVE_FINE_STEPS = 1.5;
/** Fine steps are at most this fraction of the fastest chamber time constant (stability only). */
const FINE_STEP_TAU_FRACTION = 0.5;
/** A zone only sleeps when its own step would be at least this many fine steps (else no gain). */
const SLEEP_MIN_STEP_FACTOR = 4;
/**
 * The hose's garment-end port, which vents a chamber whose hose came off: a stub of the hose's
 * own bore this long in series with an orifice of that bore (§1.6: "disconnected hose" leaks are
 * 600 mmHg/min and more; a 3 mm port gives far more than that).
 */
const GARMENT_PORT_LENGTH_M = 0.05;
/**
 * C_eff(P) is re-evaluated (one exp) only when P has moved this fraction of the chamber's slack
 * pressure P_s since the last evaluation; in between it is extrapolated with its slope. The
 * second-order error is below 0.03 % of C_eff for every class.
 */
const COMPLIANCE_REUSE_FRACTION_OF_PS = 0.02;
/** Times closer than this are the same instant (ms); guards float round-off in step bookkeeping. */
const TIME_EPSILON_MS = 1e-9;

/**
 * A pressure change from outside a chamber (limb coupling, a patient bump): tissue pushes on the
 * bladder or gives way. Giving way cannot pull a bladder below atmospheric pressure: a collapsed
 * bladder just goes slacker (below 0 mmHg its volume, not its pressure, gives).
 */
function squeezed(p: number, dp: number): number {
  return dp >= 0 ? p + dp : Math.max(p + dp, Math.min(p, 0));
}

/** Freezes an object graph (params are plain data: objects, arrays, numbers, strings). */
function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

/** Cumulative free-air gas through each boundary of the station since construction, mL. */
export interface GasLedger {
  pumpedMl: number;
  reliefMl: number;
  /** Through exhaust valves, open garment ports and inlets blowing into a disconnected hose. */
  ventedMl: number;
  leakedMl: number;
  /** Isothermal-equivalent gas "lost" as compression heat dissipates (thermal settling). */
  thermalMl: number;
}

export interface StationStats {
  /** Model time with the pump commanded above its dead zone, ms. */
  pumpRunMs: number;
  /** Pump commands that went from off (or dead zone) to running. */
  pumpStarts: number;
  /** Model time with the relief valve flowing, ms (dead-head events). */
  reliefOpenMs: number;
  /** Coil state changes per zone (a maintenance counter, §5). */
  inletActuations: number[];
  exhaustActuations: number[];
}

/** One simulated station: pump, manifold, valves, hoses, chambers and pressure sensors. */
export class StationModel {
  readonly params: StationParams;
  readonly zones: number;
  readonly garment: GarmentClass;

  private t: number;

  // Pump: duty as commanded, relative motor speed ω (0..1, lags the effective duty by τ_p).
  private duty = 0;
  /** The duty the motor acts on: 0 inside the PWM dead zone. */
  private effDuty = 0;
  private speed = 0;
  private pumpQ = 0;
  private pumpFactor = 1;
  private readonly pumpFreeFlowMlS: number;

  // Manifold.
  private pm = 0;
  private reliefQ = 0;
  private readonly manifoldC: number;
  private readonly manifold: ManifoldSolver;

  // Valves and paths.
  private readonly inlets: Valve[];
  private readonly exhausts: Valve[];
  private valvesSettleAt: number;
  private readonly kInletFull: number;
  private readonly kExhaustFull: number;
  private readonly kPort: number;
  private readonly rTube: number;
  private readonly rPort: number;

  // Chambers.
  private readonly shapes: ChamberShape[];
  private readonly p: Float64Array;
  private readonly heat: Float64Array;
  private readonly leakG: Float64Array;
  private readonly qIn: Float64Array;
  private readonly qOut: Float64Array;
  private readonly dOwn: Float64Array;
  private readonly aIn: Float64Array;
  private readonly aEx: Float64Array;
  private readonly kInEff: Float64Array;
  private readonly rInEff: Float64Array;
  private readonly downIn: Float64Array;
  /** Linearisation anchors of C_eff per zone: pressure, value and slope there. */
  private readonly cAnchorP: Float64Array;
  private readonly cAnchorC: Float64Array;
  private readonly cAnchorSlope: Float64Array;
  /** Each zone's time constant C_eff/Σconductance at its last update, ms. */
  private readonly tau: Float64Array;
  private minTauMs = Number.POSITIVE_INFINITY;
  /** The smallest zoneStepMs() of the awake zones after the last step. */
  private minLongStepMs = Number.POSITIVE_INFINITY;
  // Multi-rate bookkeeping (see step()): sleeping zones, the time each zone is integrated to, and
  // the own rate of change of a sleeping zone's pressure (mmHg/ms) for read-only extrapolation.
  private readonly asleep: Uint8Array;
  private readonly awake: Int32Array;
  private nAwake: number;
  private nextCatchUpAt = Number.POSITIVE_INFINITY;
  private readonly zoneT: Float64Array;
  /** When each sleeping zone's next own step falls due, ms. */
  private readonly dueAt: Float64Array;
  private readonly rate: Float64Array;

  // Faults, as per-zone flags derived from the fault table (the arrays are the StationFaults' own).
  private readonly faultFlags: StationFaults;
  private readonly faultLeakG: Float64Array;
  private readonly blocked: Uint8Array;
  private readonly disconnected: Uint8Array;
  /** -1: no fault; 0: stuck closed; 1: stuck open. */
  private readonly inletStuck: Int8Array;
  private readonly exhaustStuck: Int8Array;
  private readonly sensorDisconnected: Uint8Array;
  private readonly sensorStuckAt: Float64Array;
  private readonly driftRate: Float64Array;
  private readonly driftSince: Float64Array;

  // Sensors.
  private readonly tapAtValveBlock: boolean;
  private readonly sensors: SensorBank;
  /** The sensors' tap pressures and lagged values (the SensorBank's arrays), updated every step. */
  private readonly port: Float64Array;
  private readonly lag: Float64Array;
  /** Bench trip trace (trip-trace.ts): off until watchPort() is first called. */
  private watch: PortWatch | undefined;

  // Random streams that shape the physics (independent of how often sensors are read).
  private readonly valveRng: Rng;
  private readonly artefactRng: Rng;
  private nextBumpAt: number;
  private bumpZone = -1;
  private bumpStart = 0;
  private bumpDur = 0;
  private bumpAmp = 0;

  // Cached step exponentials for the fixed step.
  private cachedH = -1;
  private decayPump = 0;

  // Values of the current step, kept in fields rather than passed as arguments: V8 boxes every
  // double passed to or returned from a call it does not inline, which cost several heap
  // allocations per 1 ms step.
  private stepS = 0;
  private stepHeatLoss = 0;
  private stepSensorKeep = 0;
  private stepPmOld = 0;
  private stepQ0 = 0;
  private stepLoDown = 0;
  private stepHiDown = 0;
  /** Length of the step being taken, ms, and its start, end and middle. */
  private stepH = 0;
  private stepT0 = 0;
  private stepT1 = 0;
  private stepTMid = 0;
  /** Chamber pressure ownFlows() evaluates at. */
  private fP = 0;
  /** Use Heun's method for chambers this step (a long step), else explicit Euler. */
  private stepSecondOrder = false;
  // Outputs of ownFlows().
  private fC = 0;
  private fChamberIn = 0;
  private fOut = 0;
  private fLeak = 0;
  private fTau = 0;
  // Open inlet zones this step (the array is the manifold solver's).
  private readonly openInlets: Int32Array;
  private nOpenInlets = 0;

  private readonly ledgerData: GasLedger = {
    pumpedMl: 0,
    reliefMl: 0,
    ventedMl: 0,
    leakedMl: 0,
    thermalMl: 0,
  };
  private pumpRunMs = 0;
  private pumpStarts = 0;
  private reliefOpenMs = 0;

  constructor(params: StationParams, seed: number, startMs = 0) {
    validateStationParams(params);
    checkSeed(seed);
    if (!Number.isFinite(startMs)) throw new RangeError(`startMs must be finite, got ${startMs}`);
    // A frozen private copy: derived constants below are computed once from it.
    this.params = deepFreeze(structuredClone(params));
    this.zones = params.zones;
    this.garment = params.garment;
    this.t = startMs;
    const n = params.zones;

    this.pumpFreeFlowMlS = params.pump.freeFlowLPerMin * ML_PER_S_PER_L_PER_MIN;
    this.manifold = new ManifoldSolver(params);
    this.manifoldC = this.manifold.complianceMlPerMmHg;
    const cd = params.valves.dischargeCoefficient;
    this.kInletFull = orificeCoefficient(params.valves.inletOrificeMm, cd);
    this.kExhaustFull = orificeCoefficient(params.valves.exhaustOrificeMm, cd);
    this.kPort = orificeCoefficient(params.tube.innerDiameterMm, cd);
    this.rTube = poiseuilleResistance(params.tube.lengthM, params.tube.innerDiameterMm);
    this.rPort = poiseuilleResistance(GARMENT_PORT_LENGTH_M, params.tube.innerDiameterMm);

    this.inlets = Array.from({ length: n }, () => new Valve(true, startMs));
    this.exhausts = Array.from({ length: n }, () => new Valve(false, startMs));
    this.valvesSettleAt = startMs;

    this.shapes = params.chambers.map((c) => ({ ...c }));
    this.p = new Float64Array(n);
    this.heat = new Float64Array(n);
    this.leakG = Float64Array.from(params.chambers, (c) => leakConductance(c, c.leakMmHgPerMinAt50));
    this.qIn = new Float64Array(n);
    this.qOut = new Float64Array(n);
    this.dOwn = new Float64Array(n);
    this.aIn = new Float64Array(n);
    this.aEx = new Float64Array(n).fill(1);
    this.kInEff = this.manifold.kInEff;
    this.rInEff = this.manifold.rInEff;
    this.downIn = this.manifold.downIn;
    this.tau = new Float64Array(n).fill(Number.POSITIVE_INFINITY);
    this.cAnchorP = new Float64Array(n).fill(Number.NaN);
    this.cAnchorC = new Float64Array(n);
    this.cAnchorSlope = new Float64Array(n);
    this.openInlets = this.manifold.openInlets;
    this.asleep = new Uint8Array(n);
    this.awake = Int32Array.from({ length: n }, (_, z) => z);
    this.nAwake = n;
    this.zoneT = new Float64Array(n).fill(startMs);
    this.dueAt = new Float64Array(n);
    this.rate = new Float64Array(n);

    this.faultFlags = new StationFaults(n, this.shapes);
    this.faultLeakG = this.faultFlags.leakG;
    this.blocked = this.faultFlags.blocked;
    this.disconnected = this.faultFlags.disconnected;
    this.inletStuck = this.faultFlags.inletStuck;
    this.exhaustStuck = this.faultFlags.exhaustStuck;
    this.sensorDisconnected = this.faultFlags.sensorDisconnected;
    this.sensorStuckAt = this.faultFlags.sensorStuckAt;
    this.driftRate = this.faultFlags.driftRate;
    this.driftSince = this.faultFlags.driftSince;

    this.tapAtValveBlock = params.sensor.location === 'valve-block';
    this.sensors = new SensorBank(params.sensor, n, seed);
    this.port = this.sensors.port;
    this.lag = this.sensors.lag;

    this.valveRng = new Rng(deriveSeed(seed, 'valve-timing'));
    this.artefactRng = new Rng(deriveSeed(seed, 'artefacts'));
    this.nextBumpAt = this.scheduleNextBump(startMs);
  }

  // ---------------------------------------------------------------------------------------------
  // Commands and state

  /** Model time, ms. */
  get timeMs(): number {
    return this.t;
  }

  /**
   * Bench instrumentation: watch zone's sensor-port pressure against `levelMmHg`, and remember
   * the model time of its last upward crossing (interpolated within the integration step). Off,
   * and costing one check per step, until first called.
   */
  watchPort(zone: number, levelMmHg: number): void {
    this.checkZone(zone);
    this.watch ??= new PortWatch(this.zones);
    this.watch.set(zone, levelMmHg);
  }

  /** Model time the watched zone's port last rose above its level and stayed above; NaN if it is below. */
  portCrossedAtMs(zone: number): number {
    this.checkZone(zone);
    return this.watch?.crossedAt[zone] ?? Number.NaN;
  }

  watchedLevelMmHg(zone: number): number | null {
    this.checkZone(zone);
    return this.watch?.levelMmHg(zone) ?? null;
  }

  /** Sets the pump PWM duty (0..1; the enable line is folded in: disabled = 0). Takes effect now. */
  setPump(duty: number): void {
    const d = !Number.isFinite(duty) || duty <= 0 ? 0 : duty >= 1 ? 1 : duty;
    const wasRunning = this.effDuty > 0;
    this.duty = d;
    // §7 pump row: no rotation below the PWM dead zone (breakaway torque), q ∝ d above it.
    this.effDuty = d >= this.params.pump.deadZoneDuty && d > 0 ? d : 0;
    if (!wasRunning && this.effDuty > 0) this.pumpStarts++;
  }

  get pumpDuty(): number {
    return this.duty;
  }

  /** Energises (opens) or releases (closes) zone's normally-closed inlet valve, from now. */
  setInlet(zone: number, energised: boolean): void {
    this.checkZone(zone);
    this.actuate(zone, this.inlets[zone], energised);
  }

  /** Energises (closes) or releases (opens, venting) zone's normally-open exhaust valve, from now. */
  setExhaust(zone: number, energised: boolean): void {
    this.checkZone(zone);
    this.actuate(zone, this.exhausts[zone], energised);
  }

  inletEnergised(zone: number): boolean {
    this.checkZone(zone);
    return this.inlets[zone]?.energised ?? false;
  }

  exhaustEnergised(zone: number): boolean {
    this.checkZone(zone);
    return this.exhausts[zone]?.energised ?? false;
  }

  /** Effective opening fraction of zone's inlet valve now (0..1), stuck-valve faults included. */
  inletOpenFraction(zone: number): number {
    this.checkZone(zone);
    return this.inletFraction(zone, this.t);
  }

  /** Effective opening fraction of zone's exhaust valve now (0..1), stuck-valve faults included. */
  exhaustOpenFraction(zone: number): number {
    this.checkZone(zone);
    return this.exhaustFraction(zone, this.t);
  }

  /** True chamber gauge pressure, mmHg. */
  chamberMmHg(zone: number): number {
    this.checkZone(zone);
    return this.extrapolated(zone, this.p[zone] ?? 0);
  }

  /** True manifold gauge pressure, mmHg. */
  manifoldMmHg(): number {
    return this.pm;
  }

  /** Air the pump delivers into the manifold now, free-air mL/s. */
  pumpFlowMlPerS(): number {
    return this.pumpQ;
  }

  /** Air the manifold relief valve blows off now, free-air mL/s (> 0 means the pump is dead-headed). */
  reliefFlowMlPerS(): number {
    return this.reliefQ;
  }

  /** Net air flowing into zone's chamber now (inlet minus exhaust/port), free-air mL/s; leak excluded. */
  chamberInflowMlPerS(zone: number): number {
    this.checkZone(zone);
    return (this.disconnected[zone] ? 0 : (this.qIn[zone] ?? 0)) - (this.qOut[zone] ?? 0);
  }

  /** The true pressure at the sensor's tap (chamber, or valve block incl. hose drop), before sensor errors. */
  sensorPortMmHg(zone: number): number {
    this.checkZone(zone);
    return this.extrapolated(zone, this.port[zone] ?? 0);
  }

  /** Gas in zone's chamber, free-air mL (for balance checks). */
  chamberGasMl(zone: number): number {
    this.checkZone(zone);
    return chamberGasMl(this.shapes[zone] as ChamberShape, this.chamberMmHg(zone));
  }

  /** Gas in the manifold above atmospheric, free-air mL. */
  manifoldGasMl(): number {
    return this.manifoldC * this.pm;
  }

  /** The seeded per-unit sensor errors of zone (what a zero/span calibration would find). */
  sensorCalibration(zone: number): { offsetMmHg: number; gainError: number } {
    this.checkZone(zone);
    return this.sensors.calibration(zone);
  }

  ledger(): GasLedger {
    const l = { ...this.ledgerData };
    // Sleeping zones are integrated up to their own last update; their outflows since then are
    // extrapolated like their pressures, so the ledger matches chamberGasMl() at any time.
    for (let z = 0; z < this.zones; z++) {
      const dtS = (this.t - (this.zoneT[z] ?? this.t)) / 1000;
      if (!this.asleep[z] || dtS <= 0) continue;
      l.ventedMl += (this.qOut[z] ?? 0) * dtS;
      l.leakedMl += ((this.leakG[z] ?? 0) + (this.faultLeakG[z] ?? 0)) * (this.p[z] ?? 0) * dtS;
    }
    return l;
  }

  stats(): StationStats {
    return {
      pumpRunMs: this.pumpRunMs,
      pumpStarts: this.pumpStarts,
      reliefOpenMs: this.reliefOpenMs,
      inletActuations: this.inlets.map((v) => v.actuations),
      exhaustActuations: this.exhausts.map((v) => v.actuations),
    };
  }

  /**
   * One reading of zone's sensor at the current model time: y = (1 + gain)·P_lagged + offset +
   * drift + N(0, σ²), per §7's sensor row. Not quantised unless `sensor.quantumMmHg` > 0: the ADC
   * model that reads it quantises. Each call draws fresh noise from the zone's own stream.
   */
  sense(zone: number): SensorReading {
    this.checkZone(zone);
    if (this.sensorDisconnected[zone]) return { mmHg: Number.NaN, connected: false };
    const stuck = this.sensorStuckAt[zone] ?? Number.NaN;
    if (!Number.isNaN(stuck)) return { mmHg: stuck, connected: true };
    return { mmHg: this.sensors.read(zone, this.noiseFreeReading(zone)), connected: true };
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
    this.wakeAll();
    if (f.kind === 'sensor-stuck') {
      // Holds the last value the sensor gave, or what it would give now if never read.
      const last = this.sensors.lastSensed[f.zone] ?? Number.NaN;
      this.sensorStuckAt[f.zone] = Number.isNaN(last) ? this.noiseFreeReading(f.zone) : last;
    }
    if (f.kind === 'sensor-drift') this.driftSince[f.zone] = this.t;
    const active: ActiveFault = { ...f, sinceMs: this.t };
    this.faultFlags.set(active);
    this.faultsChanged();
    return active;
  }

  /** Clears faults of `kind` (on `zone` only, if given), or every fault. Returns how many were cleared. */
  clearFault(kind?: SimFaultKind, zone?: number): number {
    const n = this.faultFlags.clear(kind, zone);
    if (n > 0) {
      this.wakeAll();
      this.faultsChanged();
    }
    return n;
  }

  faults(): ActiveFault[] {
    return this.faultFlags.list();
  }

  /** See StationFaults.flagActive. */
  flagActive(kind: Exclude<SimFlagKind, 'estop'>, zone?: number): boolean {
    return this.faultFlags.flagActive(kind, zone);
  }

  private faultsChanged(): void {
    this.pumpFactor = this.faultFlags.pumpFactor;
    // A fault can make any zone fast (a hose pops off a full chamber): restart from a fine step.
    this.minLongStepMs = 0;
  }

  // ---------------------------------------------------------------------------------------------
  // Integration

  /** Integrates up to model time `tMs`. Earlier times are ignored (model time never goes back). */
  advanceTo(tMs: number): void {
    if (!Number.isFinite(tMs)) throw new RangeError(`advanceTo: time must be finite, got ${tMs}`);
    const integ = this.params.integration;
    while (tMs - this.t > TIME_EPSILON_MS) {
      // One bump at a time: a bump that falls due during another starts when that one ends.
      if (this.nextBumpAt <= this.t + TIME_EPSILON_MS && this.bumpZone < 0) this.startBump();
      let h: number;
      if (integ.adaptive && this.isQuiet()) {
        h = Math.min(integ.maxQuietStepMs, this.minLongStepMs);
        // Never run a long step past the start of the next patient bump, nor past a sleeping
        // zone's own next step (it would then catch up in one step longer than it allows).
        if (this.nextBumpAt > this.t) h = Math.min(h, this.nextBumpAt - this.t);
        if (this.nextCatchUpAt > this.t) h = Math.min(h, this.nextCatchUpAt - this.t);
        h = Math.max(h, integ.stepMs);
      } else {
        h = Math.min(integ.stepMs, FINE_STEP_TAU_FRACTION * this.minTauMs);
      }
      const remaining = tMs - this.t;
      // Take the remainder when it is less than a step away, so no sliver step is left over.
      if (h >= remaining || remaining - h < TIME_EPSILON_MS) h = remaining;
      this.stepH = h;
      this.step();
    }
  }

  /** Pump stopped, every inlet shut, every valve settled, no relief flow, no bump: nothing fast can happen. */
  private isQuiet(): boolean {
    if (this.t < this.valvesSettleAt) return false;
    if (this.bumpZone >= 0) return false;
    if (this.pumpFactor > 0 && (this.speed > 0 || this.effDuty > 0)) return false;
    const relief = this.params.manifold.reliefMmHg;
    if (relief !== null && this.pm > relief) return false;
    for (let z = 0; z < this.zones; z++) {
      if (this.inletFraction(z, this.t) > 0) return false;
    }
    return true;
  }

  private inletFraction(z: number, t: number): number {
    const stuck = this.inletStuck[z] ?? -1;
    return stuck >= 0 ? stuck : (this.inlets[z] as Valve).fractionAt(t);
  }

  private exhaustFraction(z: number, t: number): number {
    const stuck = this.exhaustStuck[z] ?? -1;
    return stuck >= 0 ? stuck : (this.exhausts[z] as Valve).fractionAt(t);
  }

  /**
   * Whether zone z must follow the fine steps: its inlet is open at t (so it exchanges air with
   * the stiff manifold), a valve of it has been moving since t0, or a bump acts on it. Sleeping
   * zones are woken by the events that can make this true (a valve command, a fault change, a
   * bump), so it is only evaluated for awake zones.
   */
  private zoneIsFast(z: number, t0: number, t: number): boolean {
    return (
      this.inletFraction(z, t) > 0 ||
      (this.inlets[z] as Valve).settleAt > t0 ||
      (this.exhausts[z] as Valve).settleAt > t0 ||
      z === this.bumpZone
    );
  }

  /**
   * Longest step zone z can take now: a small fraction of its time constant, and short enough
   * that its pressure moves at most LONG_STEP_MAX_CHANGE_MMHG (a chamber venting at hundreds of
   * mmHg/s is "flowing fast" and keeps 1 ms steps until the flow has slowed).
   */
  private zoneStepMs(z: number): number {
    const rate = Math.abs(this.rate[z] ?? 0);
    const byRate = rate > 0 ? LONG_STEP_MAX_CHANGE_MMHG / rate : Number.POSITIVE_INFINITY;
    return Math.min(
      this.params.integration.maxQuietStepMs,
      QUIET_STEP_TAU_FRACTION * (this.tau[z] ?? 0),
      byRate,
    );
  }

  private updateStepConstants(): void {
    const h = this.stepH;
    // catchUp() swaps its own values in and restores these, so an unchanged h needs nothing.
    if (h === this.cachedH) return;
    const p = this.params;
    this.stepS = h / 1000;
    this.stepSecondOrder = h > p.integration.stepMs * SECOND_ORDER_ABOVE_FINE_STEPS;
    this.cachedH = h;
    this.decayPump = Math.exp(-h / p.pump.spinUpTauMs);
    this.stepSensorKeep = p.sensor.lagMs > 0 ? Math.exp(-h / p.sensor.lagMs) : 0;
    this.stepHeatLoss = 1 - Math.exp(-h / p.thermal.tauMs);
  }

  /**
   * Advances the model by `stepH` ms.
   *
   * Multi-rate: zones that exchange air with the manifold (inlet open) or have a valve in motion
   * take every step. A zone whose inlet is shut and whose valves have settled only leaks, vents or
   * cools, with time constants of seconds; it "sleeps" and catches up in long steps of its own
   * (zoneStepMs()). In a sequential cycle only one zone of eight is filling at a time, so this
   * makes an 8-zone station several times cheaper at the same accuracy (a test compares it with
   * `adaptive: false`).
   */
  private step(): void {
    // Split into phases that each get their own optimiser inlining budget (one huge function
    // stops inlining its small helpers, and then every double crossing a call is boxed).
    this.stepT0 = this.t;
    this.stepT1 = this.t + this.stepH;
    this.stepTMid = this.t + this.stepH / 2;
    this.updateStepConstants();
    this.spinPump();
    this.openInletPaths();
    this.flowManifold();
    this.changeChambers();
    this.applyChanges();
    this.tapAndSleep();
    this.t = this.stepT1;
    if (this.stepT1 >= this.nextCatchUpAt - TIME_EPSILON_MS) this.catchUpSleepers();
  }

  /** Pump motor speed: exact first-order response to the effective duty over the step (§7 τ_p). */
  private spinPump(): void {
    // A dead motor does not turn; revived, it spins up from where it has coasted down to.
    const target = this.pumpFactor > 0 ? this.effDuty : 0;
    this.speed = target + (this.speed - target) * this.decayPump;
    if (target === 0 && this.speed < PUMP_STOPPED_SPEED) this.speed = 0;
    if (this.effDuty > 0) this.pumpRunMs += this.stepH;
    this.stepQ0 = this.pumpFreeFlowMlS * this.pumpFactor * this.speed;
  }

  /**
   * Valve openings of the awake zones at mid-step, and the inlet path of each (sleeping zones have
   * their inlet shut). Density factors use the pressures at the start of the step (they change by
   * far less than 1 % per step).
   */
  private openInletPaths(): void {
    const tMid = this.stepTMid;
    const pmOld = this.pm;
    let nOpen = 0;
    let hiDown = 0;
    let loDown = 0;
    for (let i = 0; i < this.nAwake; i++) {
      const z = this.awake[i] ?? 0;
      const aIn = this.inletFraction(z, tMid);
      this.aIn[z] = aIn;
      this.aEx[z] = this.exhaustFraction(z, tMid);
      if (aIn > 0 && !this.blocked[z]) {
        // A disconnected hose blows the inlet's air straight out of its open end.
        const down = this.disconnected[z] ? 0 : (this.p[z] ?? 0);
        const ratio = densityRatio(pmOld > down ? pmOld : down);
        this.kInEff[z] = this.kInletFull * aIn * Math.sqrt(ratio);
        this.rInEff[z] = this.rTube / ratio;
        this.downIn[z] = down;
        if (down > hiDown) hiDown = down;
        if (down < loDown) loDown = down;
        this.openInlets[nOpen++] = z;
      } else {
        this.kInEff[z] = 0;
      }
    }
    this.nOpenInlets = nOpen;
    this.stepPmOld = pmOld;
    this.stepLoDown = loDown;
    this.stepHiDown = hiDown;
  }

  /**
   * Manifold: backward Euler, C_m·(P − P_old)/h = q_pump(P) − Σ q_inlet(P) − q_relief(P); then the
   * pump's delivery and the relief's blow-off at the solved pressure.
   */
  private flowManifold(): void {
    const pmOld = this.stepPmOld;
    const q0 = this.stepQ0;
    const relief = this.params.manifold.reliefMmHg;
    const m = this.manifold;
    if (this.nOpenInlets > 0 || q0 > 0 || (relief !== null && pmOld > relief)) {
      m.pmOld = pmOld;
      m.q0 = q0;
      m.stepS = this.stepS;
      m.loDown = this.stepLoDown;
      m.hiDown = this.stepHiDown;
      m.nOpenInlets = this.nOpenInlets;
      m.solve();
      this.pm = m.pm;
    }
    const pm = this.pm;
    m.trend = pm - pmOld;
    this.pumpQ = m.pumpCurve(q0, pm);
    this.reliefQ = m.reliefFlow(pm);
    if (this.reliefQ > 0) this.reliefOpenMs += this.stepH;
    this.ledgerData.pumpedMl += this.pumpQ * this.stepS;
    this.ledgerData.reliefMl += this.reliefQ * this.stepS;
  }

  /** Own changes of the awake chambers with the flows of the solved manifold. */
  private changeChambers(): void {
    let minTau = Number.POSITIVE_INFINITY;
    for (let i = 0; i < this.nAwake; i++) {
      const z = this.awake[i] ?? 0;
      this.ownChange(z);
      const tau = this.tau[z] ?? 0;
      if (tau < minTau) minTau = tau;
    }
    this.minTauMs = minTau;
  }

  /**
   * Applies own changes plus limb coupling: a neighbour's pressure change passes κ of itself on
   * through the shared tissue/shell (§7 "limb coupling"), whether the neighbour is awake or not.
   * Patient bumps add on top.
   */
  private applyChanges(): void {
    for (let i = 0; i < this.nAwake; i++) this.applyOwnChange(this.awake[i] ?? 0);
    if (this.bumpZone >= 0) {
      const bz = this.bumpZone;
      const t0 = this.stepT0;
      const t1 = this.stepT1;
      this.p[bz] = squeezed(this.p[bz] ?? 0, this.bumpShape(t1) - this.bumpShape(t0));
      if (t1 >= this.bumpStart + this.bumpDur) this.bumpZone = -1;
    }
  }

  /**
   * Sensor taps of the awake zones; zones that turned slow fall asleep. The own rate of change is
   * kept: it limits long steps and extrapolates a sleeper's readings between its updates.
   */
  private tapAndSleep(): void {
    const t0 = this.stepT0;
    const t1 = this.stepT1;
    const h = this.stepH;
    const integ = this.params.integration;
    const sleepFrom = SLEEP_MIN_STEP_FACTOR * integ.stepMs;
    let fellAsleep = false;
    let minLong = Number.POSITIVE_INFINITY;
    for (let i = 0; i < this.nAwake; i++) {
      const z = this.awake[i] ?? 0;
      this.updateTap(z);
      this.zoneT[z] = t1;
      this.rate[z] = (this.dOwn[z] ?? 0) / h;
      // A zone with an open inlet neither sleeps nor lets the station be quiet: skip the rest.
      if ((this.aIn[z] ?? 0) > 0) {
        minLong = 0;
        continue;
      }
      const long = this.zoneStepMs(z);
      if (long < minLong) minLong = long;
      // The valves must have rested for the whole step, so the rate is not a leftover of a moving
      // valve's last flow.
      if (integ.adaptive && long >= sleepFrom && !this.zoneIsFast(z, t0, t1)) {
        this.asleep[z] = 1;
        this.dueAt[z] = t1 + long;
        fellAsleep = true;
      }
    }
    this.minLongStepMs = minLong;
    if (fellAsleep) this.rebuildAwakeList();
  }

  /** Sleeping zones whose own step is due catch up to the end of this step. */
  private catchUpSleepers(): void {
    const t1 = this.stepT1;
    for (let z = 0; z < this.zones; z++) {
      if (this.asleep[z] && t1 >= (this.dueAt[z] ?? 0) - TIME_EPSILON_MS) this.catchUp(z, t1);
    }
    this.scheduleCatchUps();
  }

  /** Adds zone z's own change to it and κ of it to each neighbour. */
  private applyOwnChange(z: number): void {
    const d = this.dOwn[z] ?? 0;
    this.p[z] = (this.p[z] ?? 0) + d;
    const kappa = this.params.couplingKappa;
    if (kappa > 0) {
      if (z > 0) this.p[z - 1] = squeezed(this.p[z - 1] ?? 0, kappa * d);
      if (z < this.zones - 1) this.p[z + 1] = squeezed(this.p[z + 1] ?? 0, kappa * d);
    }
  }

  /** Lists the awake zones in zone order (the order of summation stays fixed: same seed, same trace). */
  private rebuildAwakeList(): void {
    let k = 0;
    for (let z = 0; z < this.zones; z++) if (!this.asleep[z]) this.awake[k++] = z;
    this.nAwake = k;
    this.scheduleCatchUps();
  }

  /** Earliest time a sleeping zone's own step falls due. */
  private scheduleCatchUps(): void {
    let next = Number.POSITIVE_INFINITY;
    for (let z = 0; z < this.zones; z++) {
      if (!this.asleep[z]) continue;
      const due = this.dueAt[z] ?? 0;
      if (due < next) next = due;
    }
    this.nextCatchUpAt = next;
  }

  /**
   * Own pressure change of chamber z over the step (dP/dt = Σq / C_eff(P), §7): inlet inflow at
   * the solved manifold pressure, outflow through the exhaust (or the open garment port), leak,
   * and thermal settling. Leaves it in dOwn[z] and updates the zone's flows, heat, time constant
   * and the gas ledger.
   *
   * Fine steps use explicit Euler (h/τ ≤ 1/100 with τ ≥ ~0.1 s). Long steps (sleeping zones,
   * a quiet station) use Heun's second-order method: a vent through the slack region, where
   * C_eff changes several-fold, would otherwise drift ~1 % from the 1 ms reference.
   */
  private ownChange(z: number): void {
    const hs = this.stepS;
    const pz = this.p[z] ?? 0;
    this.fP = pz;
    this.ownFlows(z);
    const c = this.fC;
    let qChamberIn = this.fChamberIn;
    let qOut = this.fOut;
    let qLeak = this.fLeak;
    let d = ((qChamberIn - qOut - qLeak) * hs) / c;
    let tau = this.fTau;
    if (this.stepSecondOrder) {
      this.fP = pz + d;
      this.ownFlows(z);
      const d2 = ((this.fChamberIn - this.fOut - this.fLeak) * hs) / this.fC;
      d = 0.5 * (d + d2);
      qChamberIn = 0.5 * (qChamberIn + this.fChamberIn);
      qOut = 0.5 * (qOut + this.fOut);
      qLeak = 0.5 * (qLeak + this.fLeak);
      if (this.fTau < tau) tau = this.fTau;
    }
    this.qOut[z] = qOut;
    this.tau[z] = tau;

    // Thermal settling (§1.6, §7): ε of each inflow's pressure rise is compression heat, which
    // decays with τ_th and takes that pressure with it. Gas leaving takes its share of the heat.
    let x = this.heat[z] ?? 0;
    if (x !== 0) {
      const cooled = x * this.stepHeatLoss;
      d -= cooled;
      x -= cooled;
      this.ledgerData.thermalMl += cooled * c;
      const out = ((qOut + qLeak) * hs) / c;
      if (out > 0 && pz > 0) x *= Math.max(0, 1 - out / pz);
    }
    const eps = this.params.thermal.epsilon;
    if (eps > 0 && qChamberIn > 0) x += (eps * qChamberIn * hs) / c;
    this.heat[z] = x;

    this.ledgerData.ventedMl += (qOut + (this.disconnected[z] ? (this.qIn[z] ?? 0) : 0)) * hs;
    this.ledgerData.leakedMl += qLeak * hs;
    this.dOwn[z] = d;
  }

  /**
   * Flows of chamber z at pressure pz with the current manifold pressure and valve openings, into
   * the f* scratch fields: C_eff, inflow from the inlet, outflow to atmosphere, leak, and the
   * zone's time constant C_eff/Σconductance. Also records the inlet flow in qIn[z].
   */
  private ownFlows(z: number): void {
    const pz = this.fP;
    // C_eff from the per-zone linearisation while pz stays close to its anchor.
    const shape = this.shapes[z] as ChamberShape;
    const dpc = pz - (this.cAnchorP[z] ?? Number.NaN);
    let c: number;
    if (Math.abs(dpc) <= COMPLIANCE_REUSE_FRACTION_OF_PS * shape.slackMmHg) {
      c = (this.cAnchorC[z] ?? 0) + (this.cAnchorSlope[z] ?? 0) * dpc;
    } else {
      c = chamberCompliance(shape, pz);
      this.cAnchorP[z] = pz;
      this.cAnchorC[z] = c;
      this.cAnchorSlope[z] = chamberComplianceSlope(shape, pz);
    }
    const kIn = this.kInEff[z] ?? 0;
    let qIn = 0;
    let gIn = 0;
    if (kIn > 0) {
      const rIn = this.rInEff[z] ?? 0;
      qIn = seriesFlow(this.pm - (this.downIn[z] ?? 0), rIn, kIn);
      gIn = seriesConductance(qIn, rIn, kIn);
    }
    this.qIn[z] = qIn;
    const disconnected = this.disconnected[z] === 1;

    // Outflow to atmosphere: through the garment port if the hose is off, else back through the
    // hose and the exhaust valve; nothing if the hose is blocked.
    let qOut = 0;
    let gOut = 0;
    if (disconnected) {
      const ratioC = densityRatio(pz);
      const k = this.kPort * Math.sqrt(ratioC);
      const r = this.rPort / ratioC;
      qOut = seriesFlow(pz, r, k);
      gOut = seriesConductance(qOut, r, k);
    } else if (!this.blocked[z]) {
      const aEx = this.aEx[z] ?? 0;
      if (aEx > 0) {
        const ratioC = densityRatio(pz);
        const k = this.kExhaustFull * aEx * Math.sqrt(ratioC);
        const r = this.rTube / ratioC;
        qOut = seriesFlow(pz, r, k);
        gOut = seriesConductance(qOut, r, k);
      }
    }

    // Leak q = G·P (§7 leak row); symmetric below 0, where air seeps back in.
    const g = (this.leakG[z] ?? 0) + (this.faultLeakG[z] ?? 0);
    this.fC = c;
    this.fChamberIn = disconnected ? 0 : qIn;
    this.fOut = qOut;
    this.fLeak = g * pz;
    const gTotal = g + (disconnected ? 0 : gIn) + gOut;
    this.fTau = gTotal > 0 ? (1000 * c) / gTotal : Number.POSITIVE_INFINITY;
  }

  /** Brings sleeping zone z up to time tTo in one step of its own (its inlet is shut, valves settled). */
  private catchUp(z: number, tTo: number): void {
    const dt = tTo - (this.zoneT[z] ?? tTo);
    if (dt <= TIME_EPSILON_MS) return;
    const tMid = (this.zoneT[z] ?? tTo) + dt / 2;
    this.aIn[z] = 0;
    this.kInEff[z] = 0;
    this.aEx[z] = this.exhaustFraction(z, tMid);
    // A sleeper's step differs from the fine step: swap in its own step constants.
    const hs = this.stepS;
    const heatLoss = this.stepHeatLoss;
    const keep = this.stepSensorKeep;
    const secondOrder = this.stepSecondOrder;
    const lagMs = this.params.sensor.lagMs;
    this.stepS = dt / 1000;
    this.stepSecondOrder = dt > this.params.integration.stepMs * SECOND_ORDER_ABOVE_FINE_STEPS;
    this.stepHeatLoss = 1 - Math.exp(-dt / this.params.thermal.tauMs);
    this.stepSensorKeep = lagMs > 0 ? Math.exp(-dt / lagMs) : 0;
    this.ownChange(z);
    this.applyOwnChange(z);
    this.updateTap(z, tTo);
    this.stepS = hs;
    this.stepHeatLoss = heatLoss;
    this.stepSensorKeep = keep;
    this.stepSecondOrder = secondOrder;
    this.rate[z] = (this.dOwn[z] ?? 0) / dt;
    this.zoneT[z] = tTo;
    this.dueAt[z] = tTo + this.zoneStepMs(z);
  }

  /** Brings a sleeping zone up to the current time and makes it follow the fine steps again. */
  private wake(z: number): void {
    if (!this.asleep[z]) return;
    this.catchUp(z, this.t);
    this.asleep[z] = 0;
    this.rate[z] = 0;
    // Its next step must be a fine one: what woke it may have made it fast.
    this.minLongStepMs = 0;
    this.rebuildAwakeList();
  }

  /** Wakes every zone (before a fault changes the physics under it). */
  private wakeAll(): void {
    for (let z = 0; z < this.zones; z++) this.wake(z);
  }

  /**
   * Recomputes zone z's sensor tap and advances its first-order lag over the step (exact for a
   * constant input). At the valve block the tap is the chamber plus the laminar hose drop of the
   * net flow (§1.5: "a sensor at the manifold end reads high during inflation").
   */
  private updateTap(z: number, t1: number = this.stepT1): void {
    const pz = this.p[z] ?? 0;
    let tap = pz;
    if (this.tapAtValveBlock) {
      if (this.disconnected[z]) {
        // Hose open at the far end: the tap sees only the hose drop of the air blowing through.
        tap = (this.rInEff[z] ?? 0) * (this.qIn[z] ?? 0);
      } else if (this.blocked[z]) {
        // The valve-block node is cut off from the chamber: it settles where the two orifices'
        // flows balance, k_in²(P_m − P) = k_ex²·P, or holds its last value when both are shut.
        const ki = this.kInletFull * (this.aIn[z] ?? 0);
        const ke = this.kExhaustFull * (this.aEx[z] ?? 0);
        const den = ki * ki + ke * ke;
        tap = den > 0 ? (this.pm * ki * ki) / den : (this.port[z] ?? 0);
      } else {
        tap = pz + (this.rTube / densityRatio(pz)) * ((this.qIn[z] ?? 0) - (this.qOut[z] ?? 0));
      }
    }
    if (this.watch !== undefined) this.watch.crossing(z, this.port[z] ?? 0, tap, this.zoneT[z] ?? t1, t1);
    this.port[z] = tap;
    const l = this.lag[z] ?? 0;
    this.lag[z] = tap + (l - tap) * this.stepSensorKeep;
  }

  /** A value of zone z extrapolated from its last own update to the current time (sleeping zones lag by < 50 ms). */
  private extrapolated(z: number, value: number): number {
    return value + (this.rate[z] ?? 0) * (this.t - (this.zoneT[z] ?? this.t));
  }

  // ---------------------------------------------------------------------------------------------
  // Helpers

  private actuate(zone: number, valve: Valve | undefined, energised: boolean): void {
    if (!valve || valve.energised === (energised === true)) return;
    this.wake(zone);
    const v = this.params.valves;
    const jitter = v.timingJitter > 0 ? this.valveRng.uniform(1 - v.timingJitter, 1 + v.timingJitter) : 1;
    if (valve.command(energised === true, this.t, v.openDelayMs, v.closeDelayMs, v.rampMs, jitter)) {
      if (valve.settleAt > this.valvesSettleAt) this.valvesSettleAt = valve.settleAt;
    }
  }

  private noiseFreeReading(zone: number): number {
    const drift = ((this.driftRate[zone] ?? 0) * (this.t - (this.driftSince[zone] ?? 0))) / 1000;
    return this.sensors.reading(zone, this.extrapolated(zone, this.lag[zone] ?? 0), drift);
  }

  private scheduleNextBump(from: number): number {
    const rate = this.params.artefacts.ratePerMin;
    return rate > 0 ? from + this.artefactRng.exponential(60000 / rate) : Number.POSITIVE_INFINITY;
  }

  /** Starts a patient-movement bump (§7: +5–15 mmHg over 0.2–2 s) on a random zone. */
  private startBump(): void {
    const a = this.params.artefacts;
    const rng = this.artefactRng;
    this.bumpZone = Math.min(this.zones - 1, Math.floor(rng.next() * this.zones));
    this.wake(this.bumpZone);
    this.bumpStart = this.t;
    this.bumpAmp = rng.uniform(a.minMmHg, a.maxMmHg);
    this.bumpDur = rng.uniform(a.minMs, a.maxMs);
    this.nextBumpAt = this.scheduleNextBump(this.t);
  }

  /**
   * Pressure displacement of the current bump at time t: a half sine. It is applied as pressure
   * increments, so an open exhaust vents part of it and the chamber ends slightly low (the volume
   * the patient pushed out comes back), as a real squeeze would.
   */
  private bumpShape(t: number): number {
    const u = (t - this.bumpStart) / this.bumpDur;
    if (u <= 0 || u >= 1) return 0;
    return this.bumpAmp * Math.sin(Math.PI * u);
  }

  private checkZone(zone: number): void {
    if (!Number.isInteger(zone) || zone < 0 || zone >= this.zones) {
      throw new RangeError(`zone ${String(zone)} out of range 0..${this.zones - 1}`);
    }
  }
}
