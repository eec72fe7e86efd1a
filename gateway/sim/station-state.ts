/**
 * The state of one simulated station's pneumatics (station-model.ts), as one record that the
 * integrator (station-integrator.ts), the chamber model (chamber-model.ts) and the station's
 * commands and readings all work on. Plain fields rather than closures or getters: the integrator
 * reads and writes them every 1 ms step.
 */
import { leakConductance, orificeCoefficient, poiseuilleResistance, type ChamberShape } from './physics.js';
import type { StationParams } from './params.js';
import { deriveSeed, Rng } from './random.js';
import { ManifoldSolver } from './manifold.js';
import { SensorBank, type PortWatch } from './sensor-model.js';
import { Valve } from './valve.js';
import { StationFaults } from './station-faults.js';

/** L/min → mL/s. */
const ML_PER_S_PER_L_PER_MIN = 1000 / 60;
/**
 * The hose's garment-end port, which vents a chamber whose hose came off: a stub of the hose's
 * own bore this long in series with an orifice of that bore (§1.6: "disconnected hose" leaks are
 * 600 mmHg/min and more; a 3 mm port gives far more than that).
 */
const GARMENT_PORT_LENGTH_M = 0.05;

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

/** Everything that changes or is derived as one station integrates; see station-model.ts for the plumbing. */
export class StationState {
  readonly params: StationParams;
  readonly zones: number;

  /** Model time, ms. */
  t: number;

  // Pump: duty as commanded, relative motor speed ω (0..1, lags the effective duty by τ_p).
  duty = 0;
  /** The duty the motor acts on: 0 inside the PWM dead zone. */
  effDuty = 0;
  speed = 0;
  pumpQ = 0;
  pumpFactor = 1;
  readonly pumpFreeFlowMlS: number;

  // Manifold.
  pm = 0;
  reliefQ = 0;
  readonly manifoldC: number;
  readonly manifold: ManifoldSolver;

  // Valves and paths.
  readonly inlets: Valve[];
  readonly exhausts: Valve[];
  valvesSettleAt: number;
  readonly kInletFull: number;
  readonly kExhaustFull: number;
  readonly kPort: number;
  readonly rTube: number;
  readonly rPort: number;

  // Chambers.
  readonly shapes: ChamberShape[];
  readonly p: Float64Array;
  readonly heat: Float64Array;
  readonly leakG: Float64Array;
  readonly qIn: Float64Array;
  readonly qOut: Float64Array;
  readonly dOwn: Float64Array;
  readonly aIn: Float64Array;
  readonly aEx: Float64Array;
  readonly kInEff: Float64Array;
  readonly rInEff: Float64Array;
  readonly downIn: Float64Array;
  /** Linearisation anchors of C_eff per zone: pressure, value and slope there. */
  readonly cAnchorP: Float64Array;
  readonly cAnchorC: Float64Array;
  readonly cAnchorSlope: Float64Array;
  /** Each zone's time constant C_eff/Σconductance at its last update, ms. */
  readonly tau: Float64Array;
  minTauMs = Number.POSITIVE_INFINITY;
  /** The smallest zoneStepMs() of the awake zones after the last step. */
  minLongStepMs = Number.POSITIVE_INFINITY;
  // Multi-rate bookkeeping (see step()): sleeping zones, the time each zone is integrated to, and
  // the own rate of change of a sleeping zone's pressure (mmHg/ms) for read-only extrapolation.
  readonly asleep: Uint8Array;
  readonly awake: Int32Array;
  nAwake: number;
  nextCatchUpAt = Number.POSITIVE_INFINITY;
  readonly zoneT: Float64Array;
  /** When each sleeping zone's next own step falls due, ms. */
  readonly dueAt: Float64Array;
  readonly rate: Float64Array;

  /** Faults, as per-zone flags derived from the fault table. */
  readonly faultFlags: StationFaults;

  // Sensors.
  readonly tapAtValveBlock: boolean;
  readonly sensors: SensorBank;
  /** The sensors' tap pressures and lagged values (the SensorBank's arrays), updated every step. */
  readonly port: Float64Array;
  readonly lag: Float64Array;
  /** Bench trip trace (trip-trace.ts): off until watchPort() is first called. */
  watch: PortWatch | undefined;

  // Random streams that shape the physics (independent of how often sensors are read).
  readonly valveRng: Rng;
  readonly artefactRng: Rng;
  /** When the next patient bump starts (the station schedules the first, patient-bumps.ts). */
  nextBumpAt = Number.POSITIVE_INFINITY;
  bumpZone = -1;
  bumpStart = 0;
  bumpDur = 0;
  bumpAmp = 0;

  // Cached step exponentials for the fixed step.
  cachedH = -1;
  decayPump = 0;

  // Values of the current step, kept in fields rather than passed as arguments: V8 boxes every
  // double passed to or returned from a call it does not inline, which cost several heap
  // allocations per 1 ms step.
  stepS = 0;
  stepHeatLoss = 0;
  stepSensorKeep = 0;
  stepPmOld = 0;
  stepQ0 = 0;
  stepLoDown = 0;
  stepHiDown = 0;
  /** Length of the step being taken, ms, and its start, end and middle. */
  stepH = 0;
  stepT0 = 0;
  stepT1 = 0;
  stepTMid = 0;
  /** Chamber pressure ownFlows() evaluates at. */
  fP = 0;
  /** Use Heun's method for chambers this step (a long step), else explicit Euler. */
  stepSecondOrder = false;
  // Outputs of ownFlows().
  fC = 0;
  fChamberIn = 0;
  fOut = 0;
  fLeak = 0;
  fTau = 0;
  // Open inlet zones this step (the array is the manifold solver's).
  readonly openInlets: Int32Array;
  nOpenInlets = 0;

  readonly ledgerData: GasLedger = {
    pumpedMl: 0,
    reliefMl: 0,
    ventedMl: 0,
    leakedMl: 0,
    thermalMl: 0,
  };
  pumpRunMs = 0;
  pumpStarts = 0;
  reliefOpenMs = 0;

  /** `params` is the station's frozen, validated copy. */
  constructor(params: StationParams, seed: number, startMs: number) {
    this.params = params;
    this.zones = params.zones;
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

    this.tapAtValveBlock = params.sensor.location === 'valve-block';
    this.sensors = new SensorBank(params.sensor, n, seed);
    this.port = this.sensors.port;
    this.lag = this.sensors.lag;

    this.valveRng = new Rng(deriveSeed(seed, 'valve-timing'));
    this.artefactRng = new Rng(deriveSeed(seed, 'artefacts'));
  }
}
