import { ConfigError } from '../../config-error.js';
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseProgram, programProblems, type ParseProgramOptions } from './parse.js';

const base = {
  id: 'leg-test',
  name: 'Test',
  version: 1,
  garments: ['leg'],
  mode: 'sequential',
  pressureMmHg: 40,
  inflateMaxS: 20,
  holdS: 10,
  releaseS: 10,
  restS: 5,
  durationMin: 20,
};

function errorOf(raw: unknown, options?: ParseProgramOptions): ConfigError {
  try {
    parseProgram(raw, 'program', options);
  } catch (e) {
    if (e instanceof ConfigError) return e;
    throw e;
  }
  assert.fail('parseProgram accepted a bad program');
}

function without(key: keyof typeof base): Record<string, unknown> {
  const copy: Record<string, unknown> = { ...base };
  delete copy[key];
  return copy;
}

describe('parseProgram: shape errors name the field', () => {
  const cases: Array<[string, unknown, string | RegExp]> = [
    ['a hold over the bound', { ...base, holdS: 200 }, 'program.holdS: must be <= 120'],
    [
      'a duration over the session limit',
      { ...base, durationMin: 121 },
      'program.durationMin: must be <= 120',
    ],
    [
      'a gradient step outside 5–10',
      { ...base, mode: 'gradient', gradientStepMmHg: 12 },
      'program.gradientStepMmHg: must be <= 10',
    ],
    [
      'a pressure under the working floor',
      { ...base, pressureMmHg: 10 },
      'program.pressureMmHg: must be >= 20',
    ],
    ['a misspelt key', { ...base, hodlS: 10 }, /^program\.hodlS: unknown key/],
    ['a missing field', without('durationMin'), 'program.durationMin: is required'],
    [
      'an unknown mode',
      { ...base, mode: 'zigzag' },
      /^program\.mode: .*\(one of: sequential, gradient, wave, pulse, lymphatic\)$/,
    ],
    [
      'an unknown garment',
      { ...base, garments: ['foot'] },
      /^program\.garments\[0\]: .*\(one of: leg, arm, thigh, abdomen\)$/,
    ],
    ['an id that is not a slug', { ...base, id: 'Leg Test' }, /^program\.id: must match pattern/],
    ['version 0', { ...base, version: 0 }, 'program.version: must be >= 1'],
    ['a fractional zone', { ...base, skipZones: [1.5] }, 'program.skipZones[0]: must be integer'],
    [
      'a zone listed twice in skipZones',
      { ...base, skipZones: [2, 2] },
      'program.skipZones: must not have duplicate items',
    ],
    [
      'a pulse hold fraction that is effectively a release',
      { ...base, mode: 'pulse', pulse: { holdFraction: 0.1, peakS: 1 } },
      'program.pulse.holdFraction: must be >= 0.3',
    ],
    [
      'a boost over two gradient steps',
      { ...base, boostZones: [{ zone: 1, extraMmHg: 30 }] },
      'program.boostZones[0].extraMmHg: must be <= 20',
    ],
    ['not an object', 42, 'program: must be object'],
  ];
  for (const [what, raw, want] of cases) {
    test(what, () => {
      const e = errorOf(raw);
      if (typeof want === 'string') assert.equal(e.message, want);
      else assert.match(e.message, want);
    });
  }
});

describe('parseProgram: cross-field errors name the field to edit', () => {
  const cases: Array<[string, unknown, string | RegExp, ParseProgramOptions?]> = [
    [
      'gradient mode without a step',
      { ...base, mode: 'gradient' },
      "program.gradientStepMmHg: is required for mode 'gradient'",
    ],
    [
      'sequential mode with a step',
      { ...base, gradientStepMmHg: 5 },
      /^program\.gradientStepMmHg: is not used by mode 'sequential'/,
    ],
    ['wave without overlapS', { ...base, mode: 'wave' }, "program.overlapS: is required for mode 'wave'"],
    ['overlapS on another mode', { ...base, overlapS: 2 }, /^program\.overlapS: is only used by mode 'wave'/],
    [
      'pulse without its parameters',
      { ...base, mode: 'pulse' },
      "program.pulse: is required for mode 'pulse'",
    ],
    [
      'lymphatic without its parameters',
      { ...base, mode: 'lymphatic' },
      "program.lymphatic: is required for mode 'lymphatic'",
    ],
    [
      'pre-clearing on a non-lymphatic program',
      { ...base, lymphatic: { preClearZones: 2, preClearHoldS: 5 } },
      /^program\.lymphatic: is only used by mode 'lymphatic'/,
    ],
    [
      'a ramp start without ramp cycles',
      { ...base, rampStartFraction: 0.5 },
      'program.rampStartFraction: needs rampUpCycles of 1 or more',
    ],
    [
      'skipping every zone of the garment',
      { ...base, skipZones: [1, 2, 3, 4] },
      'program.skipZones: skips every zone of a 4-zone garment; at least one zone must run',
      { zoneCount: 4 },
    ],
    [
      'a skip beyond the garment',
      { ...base, skipZones: [6] },
      'program.skipZones[0]: zone 6 does not exist on a 4-zone garment',
      { zoneCount: 4 },
    ],
    [
      'a boost on a skipped zone',
      { ...base, skipZones: [2], boostZones: [{ zone: 2, extraMmHg: 5 }] },
      'program.boostZones[0].zone: zone 2 is also in skipZones; a skipped zone cannot be boosted',
    ],
    [
      'a zone boosted twice',
      {
        ...base,
        boostZones: [
          { zone: 3, extraMmHg: 5 },
          { zone: 3, extraMmHg: 5 },
        ],
      },
      'program.boostZones[1].zone: zone 3 is boosted twice; give it one entry',
    ],
    [
      'more offsets than the garment has zones',
      { ...base, zoneOffsetsMmHg: [0, 0, 0, 0, 5] },
      'program.zoneOffsetsMmHg: has 5 entries for a 4-zone garment',
      { zoneCount: 4 },
    ],
    [
      'an abdomen program above the abdomen ceiling',
      { ...base, garments: ['abdomen'], pressureMmHg: 90 },
      'program.pressureMmHg: zone 1 would be driven to 90 mmHg, above the abdomen ceiling of 80 mmHg',
    ],
    [
      'a boost that lifts a zone over the tightest garment ceiling',
      { ...base, garments: ['leg', 'abdomen'], pressureMmHg: 70, boostZones: [{ zone: 2, extraMmHg: 15 }] },
      /^program\.boostZones\[0\]\.extraMmHg: zone 2 would be driven to 85 mmHg, above the abdomen ceiling/,
    ],
    [
      'an offset that lifts a zone over the ceiling',
      { ...base, pressureMmHg: 100, zoneOffsetsMmHg: [0, 25] },
      /^program\.zoneOffsetsMmHg\[1\]: zone 2 would be driven to 125 mmHg, above the leg ceiling of 120/,
    ],
  ];
  for (const [what, raw, want, options] of cases) {
    test(what, () => {
      const e = errorOf(raw, options);
      if (typeof want === 'string') assert.equal(e.message, want);
      else assert.match(e.message, want);
    });
  }

  test('the error carries the field path for a UI to highlight', () => {
    const e = errorOf({ ...base, holdS: -1 });
    assert.equal(e.path, 'program.holdS');
    assert.equal(e.problem, 'must be >= 0');
  });

  test('programProblems lists every cross-field problem at once, for an editor', () => {
    const problems = programProblems({
      ...base,
      mode: 'wave',
      rampStartFraction: 0.5,
      skipZones: [1],
      boostZones: [{ zone: 1, extraMmHg: 5 }],
    });
    assert.deepEqual(
      problems.map((p) => p.path),
      ['program.overlapS', 'program.rampStartFraction', 'program.boostZones[0].zone'],
    );
  });

  test('a base path names where the program sits', () => {
    assert.throws(
      () => parseProgram({ ...base, holdS: 500 }, 'programs[3]'),
      /^ConfigError: programs\[3\]\.holdS: must be <= 120$/,
    );
  });
});

describe('parseProgram: valid programs', () => {
  test('returns a typed copy, not the caller’s object', () => {
    const raw = { ...base, skipZones: [2] };
    const p = parseProgram(raw);
    assert.deepEqual(p, raw);
    raw.skipZones.push(3);
    assert.deepEqual(p.skipZones, [2]);
  });

  test('every mode with its parameters parses', () => {
    for (const extra of [
      {},
      { mode: 'gradient', gradientStepMmHg: 10 },
      { mode: 'wave', overlapS: 0 },
      { mode: 'pulse', gradientStepMmHg: 5, pulse: { holdFraction: 0.5, peakS: 0 } },
      { mode: 'lymphatic', lymphatic: { preClearZones: 6, preClearHoldS: 0 } },
    ]) {
      assert.doesNotThrow(() => parseProgram({ ...base, ...extra }), JSON.stringify(extra));
    }
  });
});
