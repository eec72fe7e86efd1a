/**
 * The program editor's preview: the start-up plan and the sequencer's targets over the first
 * cycles, from the same code a session runs.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LIMITS } from '../../limits.js';
import { presetById } from './presets.js';
import { ASSUMED_FILL_S, previewProgram } from './preview.js';

const circulation = presetById('leg-circulation')!;
const ceilingMmHg = 100 - LIMITS.regulationHeadroomMmHg.default;

describe('program preview', () => {
  it('traces two cycles: zones fill distal to proximal, the first cycle ramped, then all vent', () => {
    const p = previewProgram(circulation, 5, { ceilingMmHg, garment: 'leg' });
    assert.deepEqual(p.plan.violations, []);
    assert.equal(p.cycles, 2);
    assert.equal(p.assumedFillS, ASSUMED_FILL_S);
    // Fill order: the first sample with a target is earlier for each more distal zone.
    const firstOn = p.zones.map((z) => z.findIndex((v) => v > 0));
    assert.deepEqual(
      [...firstOn].sort((a, b) => a - b),
      firstOn,
      `fill order ${firstOn.join(', ')}`,
    );
    const cycle2 = p.tS.findIndex((s) => s >= (p.cycleS ?? Infinity));
    assert.ok(cycle2 > 0, 'a second cycle');
    const peak = (zone: number, from: number, to?: number) => Math.max(...p.zones[zone]!.slice(from, to));
    assert.ok(peak(0, 0, cycle2) < 45, 'the ramp-up cycle is softer');
    assert.equal(peak(0, cycle2), 45);
    assert.equal(peak(4, cycle2), 25, 'gradient: 5 mmHg less per zone');
    // Between the cycles every zone vents.
    assert.ok(p.zones.every((z) => z[cycle2 - 1] === 0));
  });

  it('says what the controller would refuse, and still draws the clamped plan', () => {
    const p = previewProgram(circulation, 5, { ceilingMmHg, garment: 'leg', pressureMmHg: 110 });
    assert.match(p.plan.violations[0]?.reason ?? '', /zone 1 would need 110 mmHg, above the 95 mmHg ceiling/);
    assert.ok(Math.max(...p.zones[0]!) <= ceilingMmHg, 'never drawn above the ceiling');
    const arm = previewProgram(circulation, 5, { ceilingMmHg, garment: 'arm' });
    assert.ok(arm.plan.violations.some((v) => v.field === 'garment'));
  });

  it('a program that skips every zone has a plan with its refusal and no trace', () => {
    const p = previewProgram({ ...circulation, skipZones: [1, 2, 3] }, 3, { ceilingMmHg });
    assert.ok(p.plan.violations.some((v) => /every zone is skipped/.test(v.reason)));
    assert.equal(p.tS.length, 0);
  });
});
