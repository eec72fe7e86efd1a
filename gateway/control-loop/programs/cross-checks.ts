/**
 * Rules that span several program fields, each reported against the field a person would edit to
 * fix it. Run only on a program whose shape already matches the schema.
 */
import { GARMENT_CEILING_MMHG, MAX_ZONES, type GarmentClass } from '../../limits.js';
import { zoneProfileMmHg } from './profile.js';
import type { Program, ProgramMode } from './schema.js';

export interface ProgramProblem {
  path: string;
  problem: string;
}

/** Parameter blocks that only one mode reads: set under another mode they would be silently ignored. */
const MODE_ONLY_FIELDS = {
  overlapS: 'wave',
  pulse: 'pulse',
  lymphatic: 'lymphatic',
} as const satisfies Record<string, ProgramMode>;

function modeProblems(p: Program, path: string): ProgramProblem[] {
  const out: ProgramProblem[] = [];
  for (const [field, mode] of Object.entries(MODE_ONLY_FIELDS)) {
    const present = p[field as keyof typeof MODE_ONLY_FIELDS] !== undefined;
    if (p.mode === mode && !present) {
      out.push({ path: `${path}.${field}`, problem: `is required for mode '${mode}'` });
    }
    if (p.mode !== mode && present) {
      out.push({
        path: `${path}.${field}`,
        problem: `is only used by mode '${mode}' (this program is '${p.mode}')`,
      });
    }
  }
  // A gradient may shape wave, pulse and lymphatic programs (Normatec: "downstream compression always
  // slightly higher", devices reference §a); 'sequential' with a gradient is what 'gradient' means.
  if (p.mode === 'gradient' && p.gradientStepMmHg === undefined) {
    out.push({ path: `${path}.gradientStepMmHg`, problem: "is required for mode 'gradient'" });
  }
  if (p.mode === 'sequential' && p.gradientStepMmHg !== undefined) {
    out.push({
      path: `${path}.gradientStepMmHg`,
      problem: "is not used by mode 'sequential' (use mode 'gradient')",
    });
  }
  return out;
}

function rampProblems(p: Program, path: string): ProgramProblem[] {
  if (p.rampStartFraction !== undefined && (p.rampUpCycles ?? 0) === 0) {
    return [{ path: `${path}.rampStartFraction`, problem: 'needs rampUpCycles of 1 or more' }];
  }
  return [];
}

function zoneReferenceProblems(p: Program, path: string, zoneCount: number | undefined): ProgramProblem[] {
  const out: ProgramProblem[] = [];
  const zones = zoneCount ?? MAX_ZONES;
  const garment =
    zoneCount === undefined ? `the largest (${MAX_ZONES}-zone) garment` : `a ${zones}-zone garment`;
  const skip = new Set(p.skipZones ?? []);
  (p.skipZones ?? []).forEach((z, i) => {
    if (z > zones) {
      out.push({ path: `${path}.skipZones[${i}]`, problem: `zone ${z} does not exist on ${garment}` });
    }
  });
  const skippedHere = [...skip].filter((z) => z <= zones).length;
  if (skippedHere >= zones) {
    out.push({
      path: `${path}.skipZones`,
      problem: `skips every zone of ${garment}; at least one zone must run`,
    });
  }
  const boosted = new Set<number>();
  (p.boostZones ?? []).forEach((b, i) => {
    const at = `${path}.boostZones[${i}].zone`;
    if (b.zone > zones) out.push({ path: at, problem: `zone ${b.zone} does not exist on ${garment}` });
    if (skip.has(b.zone)) {
      out.push({
        path: at,
        problem: `zone ${b.zone} is also in skipZones; a skipped zone cannot be boosted`,
      });
    }
    if (boosted.has(b.zone)) {
      out.push({ path: at, problem: `zone ${b.zone} is boosted twice; give it one entry` });
    }
    boosted.add(b.zone);
  });
  const offsets = p.zoneOffsetsMmHg?.length ?? 0;
  if (zoneCount !== undefined && offsets > zoneCount) {
    out.push({ path: `${path}.zoneOffsetsMmHg`, problem: `has ${offsets} entries for ${garment}` });
  }
  return out;
}

/** The field to blame for a zone's peak: its boost, else a raising offset, else the base pressure. */
function peakField(p: Program, path: string, zone: number): string {
  const boost = (p.boostZones ?? []).findIndex((b) => b.zone === zone);
  if (boost >= 0) return `${path}.boostZones[${boost}].extraMmHg`;
  if ((p.zoneOffsetsMmHg?.[zone - 1] ?? 0) > 0) return `${path}.zoneOffsetsMmHg[${zone - 1}]`;
  return `${path}.pressureMmHg`;
}

/**
 * Every garment a program claims to suit must take its highest zone target: the garment-class
 * ceilings in gateway/limits.ts (abdomen 80 mmHg, devices reference §b) bind the program itself,
 * so a staff member learns it when saving, not when a client is already strapped in.
 */
function ceilingProblems(p: Program, path: string, zoneCount: number | undefined): ProgramProblem[] {
  const skip = new Set(p.skipZones ?? []);
  let peak = { zone: 0, mmHg: 0 };
  for (let zone = 1; zone <= (zoneCount ?? MAX_ZONES); zone++) {
    if (skip.has(zone)) continue;
    const mmHg = zoneProfileMmHg(p, zone, p.pressureMmHg);
    if (mmHg > peak.mmHg) peak = { zone, mmHg };
  }
  const byCeiling = [...p.garments].sort((a, b) => GARMENT_CEILING_MMHG[a] - GARMENT_CEILING_MMHG[b]);
  const tightest: GarmentClass | undefined = byCeiling[0];
  if (tightest === undefined || peak.mmHg <= GARMENT_CEILING_MMHG[tightest]) return [];
  return [
    {
      path: peakField(p, path, peak.zone),
      problem:
        `zone ${peak.zone} would be driven to ${peak.mmHg} mmHg, above the ${tightest} ceiling of ` +
        `${GARMENT_CEILING_MMHG[tightest]} mmHg`,
    },
  ];
}

/** All cross-field problems of a schema-valid program; `zoneCount` narrows zone checks to one garment. */
export function crossFieldProblems(p: Program, path: string, zoneCount?: number): ProgramProblem[] {
  return [
    ...modeProblems(p, path),
    ...rampProblems(p, path),
    ...zoneReferenceProblems(p, path, zoneCount),
    ...ceilingProblems(p, path, zoneCount),
  ];
}
