/**
 * The station's manifold (station-model.ts): the pump's delivery curve, the relief valve, and the
 * backward-Euler solution of the manifold pressure over one step. The integrator fills in the
 * step's inputs (the inlet path arrays are shared with it) and reads `pm` back.
 */
import { densityRatio, orificeCoefficient, P_ATM_MMHG, seriesConductance, seriesFlow } from './physics.js';
import type { StationParams } from './params.js';

/**
 * A Newton iterate is accepted once its correction is below this, mmHg. Convergence is quadratic,
 * so the accepted value's error is of order curvature × correction² (< 1e-8 mmHg): one residual
 * evaluation per step in a steady fill, starting from the last step's trend.
 */
const MANIFOLD_NEWTON_ACCEPT_MMHG = 1e-5;
/** Bisection stops when the bracket is this narrow, mmHg. */
const MANIFOLD_PRESSURE_TOLERANCE_MMHG = 1e-7;
const MANIFOLD_MAX_ITERATIONS = 80;

export class ManifoldSolver {
  /** Isothermal rigid volume: N = V_m(P_atm + P)/P_atm ⇒ dN/dP = V_m/P_atm exactly (§7 "Manifold"). */
  readonly complianceMlPerMmHg: number;
  readonly reliefK: number;
  private readonly pMax: number;
  private readonly crack: number | null;
  private readonly band: number;

  // Inputs of the step, set by the integrator before solve().
  pmOld = 0;
  /** The pump's flow at zero back-pressure this step, free-air mL/s. */
  q0 = 0;
  /** Step length, s. */
  stepS = 0;
  /** Last step's pressure change: the first Newton guess. */
  trend = 0;
  /** Lowest and highest downstream pressure of the open inlets. */
  loDown = 0;
  hiDown = 0;
  /** The open inlet zones (the first nOpenInlets entries) and each zone's inlet path. */
  nOpenInlets = 0;
  readonly openInlets: Int32Array;
  readonly kInEff: Float64Array;
  readonly rInEff: Float64Array;
  readonly downIn: Float64Array;
  /** The solved manifold gauge pressure, mmHg. */
  pm = 0;

  constructor(params: StationParams) {
    const n = params.zones;
    this.complianceMlPerMmHg = params.manifold.volumeMl / P_ATM_MMHG;
    this.reliefK = orificeCoefficient(params.manifold.reliefOrificeMm, params.valves.dischargeCoefficient);
    this.pMax = params.pump.maxPressureMmHg;
    this.crack = params.manifold.reliefMmHg;
    this.band = params.manifold.reliefBandMmHg;
    this.openInlets = new Int32Array(n);
    this.kInEff = new Float64Array(n);
    this.rInEff = new Float64Array(n);
    this.downIn = new Float64Array(n);
  }

  /** Linear pump curve q = Q0·d·(1 − P_m/P_max), clipped ≥ 0: a diaphragm pump's check valves stop backflow (§1.3, §7). */
  pumpCurve(q0: number, pm: number): number {
    if (q0 <= 0) return 0;
    const f = 1 - pm / this.pMax;
    return f > 0 ? q0 * f : 0;
  }

  /**
   * Relief valve: a spring valve whose flow area grows linearly over `reliefBandMmHg` above the
   * cracking pressure, venting the manifold to atmosphere through its orifice (§7: 300 mmHg, 1.5 mm).
   */
  reliefFlow(pm: number): number {
    const crack = this.crack;
    if (crack === null || pm <= crack) return 0;
    const band = this.band;
    const lift = Math.min(1, (pm - crack) / band);
    return lift * this.reliefK * Math.sqrt(densityRatio(pm) * pm);
  }

  /**
   * Backward-Euler manifold pressure for this step: the root of
   *   f(P) = C_m·(P − P_old)/h − q_pump(P) + Σ q_inlet(P) + q_relief(P),
   * which is strictly increasing in P (every flow out of the manifold rises with P, the pump's
   * delivery falls). Newton's method from the last step's trend, safeguarded by a bisection
   * bracket that is only set up when the first Newton step is not already converged.
   */
  solve(): void {
    const pmOld = this.pmOld;
    const q0 = this.q0;
    const cOverH = this.complianceMlPerMmHg / this.stepS;
    const pMax = this.pMax;
    const crack = this.crack;
    const band = this.band;
    let lo = Number.NEGATIVE_INFINITY;
    let hi = Number.POSITIVE_INFINITY;
    let x = pmOld + this.trend;
    let next = x;
    for (let i = 0; i < MANIFOLD_MAX_ITERATIONS; i++) {
      // Residual and its derivative at x.
      let f = cOverH * (x - pmOld);
      let df = cOverH;
      if (q0 > 0 && x < pMax) {
        f -= q0 * (1 - x / pMax);
        df += q0 / pMax;
      }
      for (let j = 0; j < this.nOpenInlets; j++) {
        const z = this.openInlets[j] ?? 0;
        const k = this.kInEff[z] ?? 0;
        const r = this.rInEff[z] ?? 0;
        const q = seriesFlow(x - (this.downIn[z] ?? 0), r, k);
        f += q;
        df += seriesConductance(q, r, k);
      }
      if (crack !== null && x > crack) {
        const kr = this.reliefK * Math.sqrt(densityRatio(x));
        const sq = Math.sqrt(x);
        const over = x - crack;
        if (over < band) {
          f += (over / band) * kr * sq;
          df += kr * (sq / band + over / band / (2 * sq));
        } else {
          f += kr * sq;
          df += kr / (2 * sq);
        }
      }
      next = x - f / df;
      if (Math.abs(next - x) <= MANIFOLD_NEWTON_ACCEPT_MMHG) break;
      if (i === 0) {
        // Below every connected pressure nothing flows out and the storage term is negative, so
        // f < 0; above P_max, the relief and every chamber nothing flows in, so f > 0.
        lo = Math.min(pmOld, this.loDown, 0) - 1;
        hi = Math.max(pmOld, this.hiDown, q0 > 0 ? pMax : 0, crack ?? 0) + 1;
      }
      if (x > lo && x < hi) {
        if (f > 0) hi = x;
        else lo = x;
      }
      if (!(next > lo && next < hi)) next = 0.5 * (lo + hi);
      if (hi - lo <= MANIFOLD_PRESSURE_TOLERANCE_MMHG) break;
      x = next;
    }
    this.pm = next;
  }
}
