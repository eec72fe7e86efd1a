/**
 * Test support for the sequencer: a trivial stand-in for chamber regulation. A zone "reaches" its
 * target a fixed time after it was first commanded to that target (fill or hold), and never while
 * venting; `Infinity` models a zone that never gets there (a leak or a disconnected hose).
 */
import { parseProgram } from '../parse.js';
import type { Program } from '../schema.js';
import { targetsFor } from '../plan.js';
import { ProgramRunner, type RunnerOutput, type ZoneCommand } from '../runner.js';

export class FakeRegulator {
  private readonly since = new Map<number, { targetMmHg: number; fromMs: number }>();

  constructor(private readonly fillMs: (zone: number) => number) {}

  /** Feedback for `nowMs`, about the targets of the last output observed. */
  reached(zoneCount: number, nowMs: number): boolean[] {
    return Array.from({ length: zoneCount }, (_, i) => {
      const s = this.since.get(i + 1);
      return s !== undefined && nowMs - s.fromMs >= this.fillMs(i + 1);
    });
  }

  observe(out: RunnerOutput, nowMs: number): void {
    out.zones.forEach((z, i) => {
      const zone = i + 1;
      const prev = this.since.get(zone);
      if (z.command === 'vent') this.since.delete(zone);
      else if (prev === undefined || prev.targetMmHg !== z.targetMmHg) {
        this.since.set(zone, { targetMmHg: z.targetMmHg, fromMs: nowMs });
      }
    });
  }
}

export interface Sample {
  t: number;
  out: RunnerOutput;
}

export interface Rig {
  runner: ProgramRunner;
  regulator: FakeRegulator;
  zoneCount: number;
  /** Ticks from the last time run up to `toMs` inclusive, every `tickMs`; returns those samples. */
  runTo(toMs: number): Sample[];
  /** Every sample so far. */
  trace: Sample[];
}

export const TICK_MS = 100;

/** A valid test program: sequential, 40 mmHg, short timings; `over` changes what a test is about. */
export function testProgram(over: Partial<Program> = {}): Program {
  return parseProgram({
    id: 'test',
    name: 'Test',
    version: 1,
    garments: ['leg'],
    mode: 'sequential',
    pressureMmHg: 40,
    inflateMaxS: 10,
    holdS: 5,
    releaseS: 4,
    restS: 3,
    durationMin: 10,
    ...over,
  });
}

export function rig(
  program: Program,
  zoneCount: number,
  opts: { fillMs?: (zone: number) => number; skipZones?: number[]; startMs?: number } = {},
): Rig {
  const plan = targetsFor(program, zoneCount, { ceilingMmHg: 120, skipZones: opts.skipZones });
  if (plan.violations.length > 0) throw new Error(plan.violations.map((v) => v.reason).join('; '));
  const start = opts.startMs ?? 0;
  const runner = new ProgramRunner(program, zoneCount, plan.zones, start);
  const regulator = new FakeRegulator(opts.fillMs ?? (() => 1000));
  const trace: Sample[] = [];
  let next = start;
  return {
    runner,
    regulator,
    zoneCount,
    trace,
    runTo(toMs: number): Sample[] {
      const out: Sample[] = [];
      for (; next <= toMs; next += TICK_MS) {
        const sample = { t: next, out: runner.update(next, { reached: regulator.reached(zoneCount, next) }) };
        regulator.observe(sample.out, next);
        out.push(sample);
        trace.push(sample);
      }
      return out;
    },
  };
}

/** [zone, t] each time a zone's command turns to 'fill', in order. */
export function fillStarts(trace: readonly Sample[]): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  let prev: ZoneCommand[] = [];
  for (const { t, out: o } of trace) {
    o.zones.forEach((z, i) => {
      if (z.command === 'fill' && prev[i] !== 'fill') out.push([i + 1, t]);
    });
    prev = o.zones.map((z) => z.command);
  }
  return out;
}

/** The sample at time `t` (the rig ticks every TICK_MS). */
export function at(trace: readonly Sample[], t: number): RunnerOutput {
  const s = trace.find((x) => x.t === t);
  if (!s) throw new Error(`no sample at ${t} ms`);
  return s.out;
}

export function commands(out: RunnerOutput): string {
  return out.zones.map((z) => z.command[0]).join('');
}
