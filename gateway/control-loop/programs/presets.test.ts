import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { GARMENT_CEILING_MMHG } from '../../limits.js';
import { targetsFor } from './plan.js';
import { PRESETS, presetById, presetsFor } from './presets.js';
import { parseProgram } from './parse.js';
import { PROGRAM_MODES } from './schema.js';

describe('presets', () => {
  for (const preset of PRESETS) {
    test(`${preset.id} is a valid program`, () => {
      assert.deepEqual(parseProgram(preset, `presets.${preset.id}`), preset);
    });
  }

  test('there are at least 8, with unique ids, for legs, arms and abdomen, in every mode', () => {
    assert.ok(PRESETS.length >= 8);
    assert.equal(new Set(PRESETS.map((p) => p.id)).size, PRESETS.length);
    for (const garment of ['leg', 'arm', 'abdomen'] as const) {
      assert.ok(presetsFor(garment).length >= 2, `${garment}: ${presetsFor(garment).length}`);
    }
    assert.deepEqual(new Set(PRESETS.map((p) => p.mode)), new Set(PROGRAM_MODES));
  });

  test('every preset starts on each of its garments at 3 to 12 zones, under the class ceiling', () => {
    for (const preset of PRESETS) {
      for (const garment of preset.garments) {
        for (let zones = 3; zones <= 12; zones++) {
          const plan = targetsFor(preset, zones, { ceilingMmHg: GARMENT_CEILING_MMHG[garment], garment });
          assert.deepEqual(plan.violations, [], `${preset.id} on a ${zones}-zone ${garment} garment`);
        }
      }
    }
  });

  test('presetById finds a preset and nothing else', () => {
    assert.equal(presetById('leg-lymphatic-drainage')?.mode, 'lymphatic');
    assert.equal(presetById('no-such-preset'), undefined);
  });
});
