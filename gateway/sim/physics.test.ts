/**
 * The pure formulas against the pneumatics reference's worked numbers (§1.2–1.6).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  chamberCompliance,
  chamberComplianceSlope,
  chamberGasMl,
  leakConductance,
  orificeCoefficient,
  poiseuilleResistance,
  seriesConductance,
  seriesFlow,
} from './physics.js';
import { defaultStationParams } from './params.js';

const L_PER_MIN = 60 / 1000; // mL/s → L/min

function near(actual: number, expected: number, relTol: number, what: string): void {
  assert.ok(
    Math.abs(actual - expected) <= relTol * Math.abs(expected),
    `${what}: ${actual} is not within ${relTol * 100} % of ${expected}`,
  );
}

describe('orifice and tube', () => {
  it('matches the §1.4 orifice table (Cd 0.6, air at 1.2 kg/m³)', () => {
    // Table rows: Ø1.0 mm at 10/50/100 mmHg = 1.3/3.0/4.2 L/min; Ø1.6 mm = 3.4/7.6/10.8 L/min.
    const k10 = orificeCoefficient(1.0, 0.6);
    const k16 = orificeCoefficient(1.6, 0.6);
    near(k10 * Math.sqrt(10) * L_PER_MIN, 1.3, 0.05, 'Ø1.0 @ 10');
    near(k10 * Math.sqrt(50) * L_PER_MIN, 3.0, 0.05, 'Ø1.0 @ 50');
    near(k10 * Math.sqrt(100) * L_PER_MIN, 4.2, 0.05, 'Ø1.0 @ 100');
    near(k16 * Math.sqrt(10) * L_PER_MIN, 3.4, 0.05, 'Ø1.6 @ 10');
    near(k16 * Math.sqrt(100) * L_PER_MIN, 10.8, 0.05, 'Ø1.6 @ 100');
    // §1.4: "with a 1.2 mm inlet valve, 4 L/min needs ~44 mmHg across the valve".
    const q = 4000 / 60;
    near((q / orificeCoefficient(1.2, 0.6)) ** 2, 44, 0.05, 'Δp for 4 L/min through Ø1.2');
  });

  it('gives ≈ 0.1 mmHg per mL/s for 1.5 m of 3 mm hose (§1.5, §7)', () => {
    const r = poiseuilleResistance(1.5, 3);
    near(r, 0.1, 0.05, 'R');
    // §1.5: 3 L/min in that hose drops ≈ 5 mmHg.
    near(r * 50, 5, 0.05, 'drop at 3 L/min');
    // 4 mm ID: ≈ 1.6 mmHg at 3 L/min (r⁴ scaling).
    near(poiseuilleResistance(1.5, 4) * 50, 1.6, 0.05, 'drop in 4 mm hose');
  });

  it('series tube + orifice flow is the root of Δp = R·q + q|q|/k², odd, and finite-sloped at 0', () => {
    const r = 0.1;
    const k = 10;
    for (const dp of [-200, -50, -1, -1e-6, 1e-6, 0.3, 7, 50, 300]) {
      const q = seriesFlow(dp, r, k);
      near(r * q + (q * Math.abs(q)) / (k * k), dp, 1e-9, `balance at ${dp}`);
      assert.equal(seriesFlow(-dp, r, k), -q);
    }
    assert.equal(seriesFlow(0, r, k), 0);
    // Slope at zero is 1/R (laminar), not infinite.
    near(seriesFlow(1e-9, r, k) / 1e-9, 1 / r, 1e-6, 'slope at 0');
    near(seriesConductance(0, r, k), 1 / r, 1e-12, 'conductance at 0');
    // Numerical derivative agrees with the analytic conductance.
    const dp = 40;
    const num = (seriesFlow(dp + 1e-4, r, k) - seriesFlow(dp - 1e-4, r, k)) / 2e-4;
    near(seriesConductance(seriesFlow(dp, r, k), r, k), num, 1e-6, 'conductance at 40');
    // Without the tube it is the plain orifice; a shut orifice passes nothing.
    near(seriesFlow(50, 0, k), k * Math.sqrt(50), 1e-12, 'pure orifice');
    assert.equal(seriesFlow(50, r, 0), 0);
  });
});

describe('chamber P–V law', () => {
  const leg = defaultStationParams('leg', 1).chambers[0]!;
  const arm = defaultStationParams('arm', 1).chambers[0]!;
  const thigh = defaultStationParams('thigh', 1).chambers[0]!;
  const abdomen = defaultStationParams('abdomen', 1).chambers[0]!;

  it('has the §1.2/§1.6 effective compliances at working pressure', () => {
    // §1.6 table: leg 2.1–2.3 mL/mmHg at 50–100 mmHg; arm 0.8; large chamber 4.3 at 60.
    near(chamberCompliance(leg, 50), 2.13, 0.03, 'leg C_eff(50)');
    near(chamberCompliance(leg, 100), 2.3, 0.03, 'leg C_eff(100)');
    near(chamberCompliance(arm, 50), 0.8, 0.03, 'arm C_eff(50)');
    near(chamberCompliance(thigh, 60), 4.3, 0.03, 'thigh C_eff(60)');
    // The abdomen class is chosen larger than the thigh.
    assert.ok(chamberCompliance(abdomen, 50) > chamberCompliance(thigh, 50));
    assert.ok(abdomen.slackMl > thigh.slackMl && abdomen.wallMlPerMmHg > thigh.wallMlPerMmHg);
    // The gas term alone for a 400 mL chamber is ≈ 0.53 mL/mmHg (§1.2).
    near(400 / 760, 0.53, 0.01, 'gas term');
  });

  it('C_eff is dN/dP of the gas amount, and its slope is the derivative of C_eff', () => {
    for (const p of [0.5, 3, 5, 20, 50, 120]) {
      const e = 1e-4;
      const dN = (chamberGasMl(leg, p + e) - chamberGasMl(leg, p - e)) / (2 * e);
      near(chamberCompliance(leg, p), dN, 1e-6, `C_eff(${p})`);
      const dC = (chamberCompliance(leg, p + e) - chamberCompliance(leg, p - e)) / (2 * e);
      assert.ok(Math.abs(chamberComplianceSlope(leg, p) - dC) < 1e-5 * (1 + Math.abs(dC)), `slope at ${p}`);
    }
    // Collapsed below 0 mmHg: no blow-up through e^(+|P|/P_s).
    assert.equal(chamberCompliance(leg, -5), chamberCompliance(leg, 0));
  });

  it('a leak of 10 mmHg/min at 50 mmHg is G ≈ 0.007 mL/s/mmHg for a leg chamber (§1.6)', () => {
    near(leakConductance(leg, 10), 0.007, 0.05, 'G');
    // Per class the same decay rate means a conductance proportional to the compliance.
    near(
      leakConductance(thigh, 10) / leakConductance(leg, 10),
      chamberCompliance(thigh, 50) / chamberCompliance(leg, 50),
      1e-9,
      'scaling',
    );
  });
});
