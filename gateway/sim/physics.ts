/**
 * Pure lumped-pneumatics formulas shared by the station model (no state, no I/O).
 *
 * Units used throughout the simulator:
 * - pressure: gauge mmHg (0 = atmosphere);
 * - gas amount: free-air mL ("atmospheric mL"), i.e. the volume the gas would take at P_atm. An
 *   isothermal gas balance is then a plain sum of flows (pneumatics reference §1.2, §7);
 * - flow: free-air mL/s;
 * - time: ms at the API, s inside flow formulas.
 */

/** Atmospheric pressure, the reference state of "free-air" gas amounts (pneumatics reference, unit helpers). */
export const P_ATM_MMHG = 760;
/** 1 mmHg in Pa. */
export const PA_PER_MMHG = 133.322;
/** Air at ~20 °C and 1 atm (pneumatics reference §1.4 uses ρ = 1.2 kg/m³ for the orifice table). */
export const AIR_DENSITY_KG_PER_M3 = 1.2;
/** Dynamic viscosity of air at ~20 °C, for the Poiseuille tube resistance (§1.5). */
export const AIR_VISCOSITY_PA_S = 1.81e-5;
const ML_PER_M3 = 1e6;
/** Above this many P/P_s the slack term's exp() is below 1e-17 of its scale: skip it. */
const SLACK_EXP_CUTOFF = 40;

/**
 * Turbulent orifice coefficient k in free-air mL/s per √mmHg, for q = k·√Δp at atmospheric
 * density: q = Cd·A·√(2Δp/ρ) (pneumatics reference §1.4; subsonic because the pressure ratio is
 * ≥ 0.88 at IPC pressures). Example: Ø1.2 mm, Cd 0.6 ⇒ k ≈ 10.1, so 4 L/min needs ≈ 44 mmHg across
 * the valve, as §1.4 says.
 */
export function orificeCoefficient(diameterMm: number, dischargeCoefficient: number): number {
  const r = diameterMm / 2000;
  const area = Math.PI * r * r;
  return dischargeCoefficient * area * Math.sqrt((2 * PA_PER_MMHG) / AIR_DENSITY_KG_PER_M3) * ML_PER_M3;
}

/**
 * Laminar (Poiseuille) resistance of a round tube in mmHg per (mL/s): R = 8μL/(πr⁴). 1.5 m of
 * 3 mm ID gives ≈ 0.10, the §7 default ("≈ 0.1 mmHg per mL/s"; 3 L/min ⇒ ≈ 5 mmHg, §1.5).
 */
export function poiseuilleResistance(lengthM: number, innerDiameterMm: number): number {
  const r = innerDiameterMm / 2000;
  const paPerM3PerS = (8 * AIR_VISCOSITY_PA_S * lengthM) / (Math.PI * r * r * r * r);
  return paPerM3PerS / ML_PER_M3 / PA_PER_MMHG;
}

/**
 * Gas density at gauge pressure `p` relative to atmosphere (isothermal ideal gas). Flow formulas
 * written for atmospheric density are converted to free-air mL with it: mass flow through an
 * orifice ∝ √(ρ_up), through a laminar tube ∝ ρ.
 */
export function densityRatio(pMmHg: number): number {
  return (P_ATM_MMHG + (pMmHg > 0 ? pMmHg : 0)) / P_ATM_MMHG;
}

/**
 * Flow through a laminar resistance R in series with a turbulent orifice k, driven by Δp:
 * Δp = R·q + q·|q|/k². Solving the quadratic gives q = 2Δp / (R + √(R² + 4|Δp|/k²)), sign-preserving
 * and finite-sloped at Δp = 0 (slope 1/R), which removes the √Δp singularity that §1.4 warns
 * about without the empirical blend. Returns 0 for a closed orifice (k ≤ 0).
 */
export function seriesFlow(dpMmHg: number, rMmHgPerMlS: number, k: number): number {
  if (k <= 0 || dpMmHg === 0) return 0;
  const abs = dpMmHg < 0 ? -dpMmHg : dpMmHg;
  if (rMmHgPerMlS <= 0) {
    const q = k * Math.sqrt(abs);
    return dpMmHg < 0 ? -q : q;
  }
  return (2 * dpMmHg) / (rMmHgPerMlS + Math.sqrt(rMmHgPerMlS * rMmHgPerMlS + (4 * abs) / (k * k)));
}

/** dq/dΔp of {@link seriesFlow} at flow q: from dΔp/dq = R + 2|q|/k². */
export function seriesConductance(qMlPerS: number, rMmHgPerMlS: number, k: number): number {
  if (k <= 0) return 0;
  const denom = rMmHgPerMlS + (2 * (qMlPerS < 0 ? -qMlPerS : qMlPerS)) / (k * k);
  return denom > 0 ? 1 / denom : Number.POSITIVE_INFINITY;
}

/** The pressure–volume law of one chamber (pneumatics reference §1.2). */
export interface ChamberShape {
  /** V_res: flat bladder plus its share of tubing, mL. */
  readonly residualMl: number;
  /** V_slack: volume that fills at near-zero pressure as the bladder unfolds, mL. */
  readonly slackMl: number;
  /** P_s: pressure scale of the unfolding, mmHg (3–8 per §1.2). */
  readonly slackMmHg: number;
  /** C_w: stiff-region wall + tissue compliance, mL/mmHg. */
  readonly wallMlPerMmHg: number;
}

/**
 * V(P) = V_res + V_slack·(1 − e^(−P/P_s)) + C_w·P, in mL. Below 0 mmHg the bladder is collapsed:
 * the curve is evaluated at 0 (the tiny negative excursions vent noise and coupling can cause
 * would otherwise blow up through e^(+|P|/P_s)).
 */
export function chamberVolumeMl(c: ChamberShape, pMmHg: number): number {
  const p = pMmHg > 0 ? pMmHg : 0;
  const x = p / c.slackMmHg;
  const slack = x > SLACK_EXP_CUTOFF ? c.slackMl : c.slackMl * (1 - Math.exp(-x));
  return c.residualMl + slack + c.wallMlPerMmHg * p;
}

/** Gas amount N = V(P)·(P_atm + P)/P_atm in free-air mL (isothermal, §1.2). */
export function chamberGasMl(c: ChamberShape, pMmHg: number): number {
  return (chamberVolumeMl(c, pMmHg) * (P_ATM_MMHG + pMmHg)) / P_ATM_MMHG;
}

/**
 * Effective compliance C_eff = dN/dP = V/P_atm + (1 + P/P_atm)·dV/dP in free-air mL per mmHg
 * (§1.2: gas term + wall/tissue term). Leg defaults give ≈ 2.1 mL/mmHg at 50 mmHg, matching the
 * §1.6 table.
 */
export function chamberCompliance(c: ChamberShape, pMmHg: number): number {
  const p = pMmHg > 0 ? pMmHg : 0;
  const x = p / c.slackMmHg;
  const e = x > SLACK_EXP_CUTOFF ? 0 : Math.exp(-x);
  const v = c.residualMl + c.slackMl * (1 - e) + c.wallMlPerMmHg * p;
  const dVdP = (c.slackMl / c.slackMmHg) * e + c.wallMlPerMmHg;
  return v / P_ATM_MMHG + (1 + p / P_ATM_MMHG) * dVdP;
}

/**
 * dC_eff/dP, mmHg⁻¹·mL/mmHg: with V' = (V_slack/P_s)e^(−P/P_s) + C_w and V'' = −(V_slack/P_s²)e^(−P/P_s),
 * C_eff' = 2V'/P_atm + (1 + P/P_atm)·V''. 0 below 0 mmHg, where C_eff is held at its 0 value.
 */
export function chamberComplianceSlope(c: ChamberShape, pMmHg: number): number {
  if (pMmHg < 0) return 0;
  const x = pMmHg / c.slackMmHg;
  const e = x > SLACK_EXP_CUTOFF ? 0 : Math.exp(-x);
  const dV = (c.slackMl / c.slackMmHg) * e + c.wallMlPerMmHg;
  const d2V = -(c.slackMl / (c.slackMmHg * c.slackMmHg)) * e;
  return (2 * dV) / P_ATM_MMHG + (1 + pMmHg / P_ATM_MMHG) * d2V;
}

/** Reference pressure at which leak rates are specified ("10 mmHg/min at 50 mmHg", §1.6/§7). */
export const LEAK_REFERENCE_MMHG = 50;

/**
 * Leak conductance G (mL/s per mmHg) so that q = G·P drops the chamber `mmHgPerMin` at 50 mmHg:
 * dP/dt = −G·P/C_eff ⇒ G = rate·C_eff(50)/50 (§1.6). Specifying leaks as a pressure-decay rate
 * scales G with the chamber's size, so every garment class meets the same acceptance figure.
 */
export function leakConductance(c: ChamberShape, mmHgPerMin: number): number {
  return ((mmHgPerMin / 60) * chamberCompliance(c, LEAK_REFERENCE_MMHG)) / LEAK_REFERENCE_MMHG;
}
