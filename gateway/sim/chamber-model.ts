/**
 * The chambers of one simulated station (station-model.ts) and what couples them: each chamber's
 * own pressure change over a step (dP/dt = Σq / C_eff(P), pneumatics reference §7) from its inlet,
 * exhaust or open garment port, leak and thermal settling; limb coupling to its neighbours; and the
 * pressure at its sensor's tap. The integrator (station-integrator.ts) decides when each runs.
 */
import {
  chamberCompliance,
  chamberComplianceSlope,
  densityRatio,
  seriesConductance,
  seriesFlow,
  type ChamberShape,
} from './physics.js';
import type { StationState } from './station-state.js';

/**
 * C_eff(P) is re-evaluated (one exp) only when P has moved this fraction of the chamber's slack
 * pressure P_s since the last evaluation; in between it is extrapolated with its slope. The
 * second-order error is below 0.03 % of C_eff for every class.
 */
const COMPLIANCE_REUSE_FRACTION_OF_PS = 0.02;

/**
 * A pressure change from outside a chamber (limb coupling, a patient bump): tissue pushes on the
 * bladder or gives way. Giving way cannot pull a bladder below atmospheric pressure: a collapsed
 * bladder just goes slacker (below 0 mmHg its volume, not its pressure, gives).
 */
export function squeezed(p: number, dp: number): number {
  return dp >= 0 ? p + dp : Math.max(p + dp, Math.min(p, 0));
}

/** Adds zone z's own change to it and κ of it to each neighbour. */
export function applyOwnChange(s: StationState, z: number): void {
  const d = s.dOwn[z] ?? 0;
  s.p[z] = (s.p[z] ?? 0) + d;
  const kappa = s.params.couplingKappa;
  if (kappa > 0) {
    if (z > 0) s.p[z - 1] = squeezed(s.p[z - 1] ?? 0, kappa * d);
    if (z < s.zones - 1) s.p[z + 1] = squeezed(s.p[z + 1] ?? 0, kappa * d);
  }
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
export function ownChange(s: StationState, z: number): void {
  const hs = s.stepS;
  const pz = s.p[z] ?? 0;
  s.fP = pz;
  ownFlows(s, z);
  const c = s.fC;
  let qChamberIn = s.fChamberIn;
  let qOut = s.fOut;
  let qLeak = s.fLeak;
  let d = ((qChamberIn - qOut - qLeak) * hs) / c;
  let tau = s.fTau;
  if (s.stepSecondOrder) {
    s.fP = pz + d;
    ownFlows(s, z);
    const d2 = ((s.fChamberIn - s.fOut - s.fLeak) * hs) / s.fC;
    d = 0.5 * (d + d2);
    qChamberIn = 0.5 * (qChamberIn + s.fChamberIn);
    qOut = 0.5 * (qOut + s.fOut);
    qLeak = 0.5 * (qLeak + s.fLeak);
    if (s.fTau < tau) tau = s.fTau;
  }
  s.qOut[z] = qOut;
  s.tau[z] = tau;

  // Thermal settling (§1.6, §7): ε of each inflow's pressure rise is compression heat, which
  // decays with τ_th and takes that pressure with it. Gas leaving takes its share of the heat.
  let x = s.heat[z] ?? 0;
  if (x !== 0) {
    const cooled = x * s.stepHeatLoss;
    d -= cooled;
    x -= cooled;
    s.ledgerData.thermalMl += cooled * c;
    const out = ((qOut + qLeak) * hs) / c;
    if (out > 0 && pz > 0) x *= Math.max(0, 1 - out / pz);
  }
  const eps = s.params.thermal.epsilon;
  if (eps > 0 && qChamberIn > 0) x += (eps * qChamberIn * hs) / c;
  s.heat[z] = x;

  s.ledgerData.ventedMl += (qOut + (s.faultFlags.disconnected[z] ? (s.qIn[z] ?? 0) : 0)) * hs;
  s.ledgerData.leakedMl += qLeak * hs;
  s.dOwn[z] = d;
}

/**
 * Flows of chamber z at pressure pz with the current manifold pressure and valve openings, into
 * the f* scratch fields: C_eff, inflow from the inlet, outflow to atmosphere, leak, and the
 * zone's time constant C_eff/Σconductance. Also records the inlet flow in qIn[z].
 */
function ownFlows(s: StationState, z: number): void {
  const pz = s.fP;
  // C_eff from the per-zone linearisation while pz stays close to its anchor.
  const shape = s.shapes[z] as ChamberShape;
  const dpc = pz - (s.cAnchorP[z] ?? Number.NaN);
  let c: number;
  if (Math.abs(dpc) <= COMPLIANCE_REUSE_FRACTION_OF_PS * shape.slackMmHg) {
    c = (s.cAnchorC[z] ?? 0) + (s.cAnchorSlope[z] ?? 0) * dpc;
  } else {
    c = chamberCompliance(shape, pz);
    s.cAnchorP[z] = pz;
    s.cAnchorC[z] = c;
    s.cAnchorSlope[z] = chamberComplianceSlope(shape, pz);
  }
  const kIn = s.kInEff[z] ?? 0;
  let qIn = 0;
  let gIn = 0;
  if (kIn > 0) {
    const rIn = s.rInEff[z] ?? 0;
    qIn = seriesFlow(s.pm - (s.downIn[z] ?? 0), rIn, kIn);
    gIn = seriesConductance(qIn, rIn, kIn);
  }
  s.qIn[z] = qIn;
  const disconnected = s.faultFlags.disconnected[z] === 1;

  // Outflow to atmosphere: through the garment port if the hose is off, else back through the
  // hose and the exhaust valve; nothing if the hose is blocked.
  let qOut = 0;
  let gOut = 0;
  if (disconnected) {
    const ratioC = densityRatio(pz);
    const k = s.kPort * Math.sqrt(ratioC);
    const r = s.rPort / ratioC;
    qOut = seriesFlow(pz, r, k);
    gOut = seriesConductance(qOut, r, k);
  } else if (!s.faultFlags.blocked[z]) {
    const aEx = s.aEx[z] ?? 0;
    if (aEx > 0) {
      const ratioC = densityRatio(pz);
      const k = s.kExhaustFull * aEx * Math.sqrt(ratioC);
      const r = s.rTube / ratioC;
      qOut = seriesFlow(pz, r, k);
      gOut = seriesConductance(qOut, r, k);
    }
  }

  // Leak q = G·P (§7 leak row); symmetric below 0, where air seeps back in.
  const g = (s.leakG[z] ?? 0) + (s.faultFlags.leakG[z] ?? 0);
  s.fC = c;
  s.fChamberIn = disconnected ? 0 : qIn;
  s.fOut = qOut;
  s.fLeak = g * pz;
  const gTotal = g + (disconnected ? 0 : gIn) + gOut;
  s.fTau = gTotal > 0 ? (1000 * c) / gTotal : Number.POSITIVE_INFINITY;
}

/**
 * Recomputes zone z's sensor tap and advances its first-order lag over the step (exact for a
 * constant input). At the valve block the tap is the chamber plus the laminar hose drop of the
 * net flow (§1.5: "a sensor at the manifold end reads high during inflation").
 */
export function updateTap(s: StationState, z: number, t1: number = s.stepT1): void {
  const pz = s.p[z] ?? 0;
  let tap = pz;
  if (s.tapAtValveBlock) {
    if (s.faultFlags.disconnected[z]) {
      // Hose open at the far end: the tap sees only the hose drop of the air blowing through.
      tap = (s.rInEff[z] ?? 0) * (s.qIn[z] ?? 0);
    } else if (s.faultFlags.blocked[z]) {
      // The valve-block node is cut off from the chamber: it settles where the two orifices'
      // flows balance, k_in²(P_m − P) = k_ex²·P, or holds its last value when both are shut.
      const ki = s.kInletFull * (s.aIn[z] ?? 0);
      const ke = s.kExhaustFull * (s.aEx[z] ?? 0);
      const den = ki * ki + ke * ke;
      tap = den > 0 ? (s.pm * ki * ki) / den : (s.port[z] ?? 0);
    } else {
      tap = pz + (s.rTube / densityRatio(pz)) * ((s.qIn[z] ?? 0) - (s.qOut[z] ?? 0));
    }
  }
  if (s.watch !== undefined) s.watch.crossing(z, s.port[z] ?? 0, tap, s.zoneT[z] ?? t1, t1);
  s.port[z] = tap;
  const l = s.lag[z] ?? 0;
  s.lag[z] = tap + (l - tap) * s.stepSensorKeep;
}
