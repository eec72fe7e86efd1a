/**
 * What a program will do on a station, before it runs: the controller's own start-up plan
 * (`plan.ts`: per-zone targets and every refusal) and its own sequencer (`runner.ts`) stepped over
 * the first cycles. The program editor draws this, so what staff see is what the controller would
 * run, not a second implementation of the modes.
 *
 * The only thing assumed is the physics: each fill is taken to reach its target `ASSUMED_FILL_S`
 * after it starts (a leg chamber fills in 3.4–8.8 s, pneumatics reference §1.6; the real time
 * depends on the garment and the pump), capped by the program's inflateMaxS as on the station.
 */
import { ProgramRunner } from './runner.js';
import { targetsFor, type PlanOptions, type TargetPlan } from './plan.js';
import type { Program } from './schema.js';

export const ASSUMED_FILL_S = 5;
/** Half a second is finer than any program timing a person sets, and keeps a preview small. */
const STEP_MS = 500;
/** A preview never runs longer than this, whatever the program (two slow lymphatic cycles fit). */
const MAX_PREVIEW_MS = 20 * 60_000;

export interface ProgramPreview {
  plan: TargetPlan;
  /** Seconds from the start, one per sample. */
  tS: number[];
  /** Per zone (index 0 = zone 1), the target the sequencer asks at each sample (0 = venting). */
  zones: number[][];
  /** How many cycles the trace covers (fewer than asked when the session ends first). */
  cycles: number;
  /** Length of the first cycle in seconds, with the assumed fill time. */
  cycleS: number | null;
  /** The fill time assumed for every zone (s). */
  assumedFillS: number;
}

/** Plans `program` for a `zoneCount`-zone garment and traces the first `cycles` cycles. */
export function previewProgram(
  program: Program,
  zoneCount: number,
  options: PlanOptions,
  cycles = 2,
): ProgramPreview {
  const plan = targetsFor(program, zoneCount, options);
  const out: ProgramPreview = {
    plan,
    tS: [],
    zones: plan.zones.map(() => []),
    cycles: 0,
    cycleS: null,
    assumedFillS: ASSUMED_FILL_S,
  };
  if (plan.zones.every((z) => z.skipped)) return out;
  const runner = new ProgramRunner(program, zoneCount, plan.zones, 0);
  const fillSince = new Map<number, number>();
  const reached = new Array<boolean>(zoneCount).fill(false);
  for (let now = 0; now <= MAX_PREVIEW_MS; now += STEP_MS) {
    const o = runner.update(now, { reached });
    if (o.cycle > cycles || o.done) break;
    if (o.cycle === 2 && out.cycleS === null) out.cycleS = now / 1000;
    out.cycles = o.cycle;
    out.tS.push(now / 1000);
    o.zones.forEach((z, i) => {
      out.zones[i]?.push(Math.round(z.targetMmHg * 10) / 10);
      if (z.command === 'fill') {
        const since = fillSince.get(i) ?? now;
        fillSince.set(i, since);
        reached[i] = now - since >= ASSUMED_FILL_S * 1000;
      } else {
        fillSince.delete(i);
        reached[i] = z.command === 'hold';
      }
    });
  }
  return out;
}
