/**
 * Station self-tests, as pure sequencers the station runs under the supervisor like a program:
 *
 * - valve-click: each zone's inlet, then its exhaust, energised for a moment with the pump off,
 *   so a technician standing by hears every valve (nothing a sensor can confirm);
 * - sensor-zero: with every chamber vented, each sensor's average reading becomes its zero
 *   offset (an MPX5050 drifts by up to ±9 mmHg uncalibrated; zeroing brings it to ±2–3);
 * - leak: every zone inflated to 40 mmHg, left to settle (the gas cools after a fill), then
 *   sealed — inlet and exhaust shut, no top-ups — for 10 s; the decay is reported in mmHg/min
 *   against the 15 mmHg/min acceptance figure of inspection procedures.
 */
import { LIMITS } from '../limits.js';
import type { SelfTestResult } from '../protocol.js';
import type { ZoneCommandKind } from './regulator.js';

export type SelfTestKind = SelfTestResult['kind'];
export const SELF_TEST_KINDS: readonly SelfTestKind[] = ['valve-click', 'sensor-zero', 'leak'];

export const CLICK_MS = 300;
/** Vented this long before zeroing, so no chamber still holds air. */
export const ZERO_SETTLE_MS = 3000;
export const ZERO_AVERAGE_MS = 1000;
/** Larger offsets are not drift but a faulty sensor or a chamber that is not empty. */
export const ZERO_MAX_OFFSET_MMHG = LIMITS.zeroOffsetMaxMmHg.default;
export const LEAK_TEST_MMHG = 40;
/** Thermal settling after a fill takes 1–5 s (pneumatics reference §1.6). */
export const LEAK_SETTLE_MS = 5000;
export const LEAK_MEASURE_MS = 10_000;
export const LEAK_PASS_MMHG_PER_MIN = 15;
/** A zone that cannot be filled for the leak test in this time fails it. */
export const LEAK_FILL_LIMIT_MS = 60_000;

/** What the station does with one zone this tick. 'seal' = both valves shut, no regulation. */
export interface TestZoneCommand {
  command: ZoneCommandKind | 'seal' | 'click-inlet' | 'click-exhaust';
  targetMmHg: number;
}

export interface TestStep {
  zones: TestZoneCommand[];
  done: boolean;
  result?: Omit<SelfTestResult, 'stationId' | 'atEpochMs'>;
}

export class SelfTestRun {
  private phaseStart: number;
  private phase = 0;
  private readonly sums: number[];
  private readonly counts: number[];
  private readonly sealedFrom: number[];

  constructor(
    readonly kind: SelfTestKind,
    private readonly zones: number,
    startMs: number,
    private readonly zeroOffsets: readonly number[],
  ) {
    this.phaseStart = startMs;
    this.sums = new Array<number>(zones).fill(0);
    this.counts = new Array<number>(zones).fill(0);
    this.sealedFrom = new Array<number>(zones).fill(Number.NaN);
  }

  private all(command: TestZoneCommand['command'], targetMmHg = 0): TestZoneCommand[] {
    return Array.from({ length: this.zones }, () => ({ command, targetMmHg }));
  }

  update(nowMs: number, pressures: readonly number[], reached: readonly boolean[]): TestStep {
    const since = nowMs - this.phaseStart;
    const next = () => {
      this.phase++;
      this.phaseStart = nowMs;
    };
    switch (this.kind) {
      case 'valve-click': {
        // Phases 0..2n-1: zone k inlet, then zone k exhaust, one at a time.
        if (this.phase >= this.zones * 2) {
          return {
            zones: this.all('vent'),
            done: true,
            result: {
              kind: this.kind,
              ok: true,
              details: Array.from(
                { length: this.zones },
                (_, i) => `zone ${i + 1}: inlet and exhaust switched`,
              ),
              values: [],
            },
          };
        }
        if (since >= CLICK_MS) next();
        const zone = Math.floor(this.phase / 2);
        const zs = this.all('vent');
        if (zone < this.zones)
          zs[zone] = { command: this.phase % 2 === 0 ? 'click-inlet' : 'click-exhaust', targetMmHg: 0 };
        return { zones: zs, done: false };
      }
      case 'sensor-zero': {
        if (this.phase === 0) {
          if (since >= ZERO_SETTLE_MS) next();
          return { zones: this.all('vent'), done: false };
        }
        pressures.forEach((p, i) => {
          if (!Number.isFinite(p)) return;
          // Raw reading = shown reading + the offset currently subtracted.
          this.sums[i] = (this.sums[i] ?? 0) + p + (this.zeroOffsets[i] ?? 0);
          this.counts[i] = (this.counts[i] ?? 0) + 1;
        });
        if (since < ZERO_AVERAGE_MS) return { zones: this.all('vent'), done: false };
        const values = this.sums.map((s, i) =>
          (this.counts[i] ?? 0) > 0 ? s / (this.counts[i] as number) : Number.NaN,
        );
        const details = values.map((v, i) =>
          !Number.isFinite(v)
            ? `zone ${i + 1}: no reading`
            : Math.abs(v) > ZERO_MAX_OFFSET_MMHG
              ? `zone ${i + 1}: offset ${v.toFixed(1)} mmHg is too large — the sensor may be faulty or the chamber not empty`
              : `zone ${i + 1}: offset ${v.toFixed(1)} mmHg stored`,
        );
        const ok = values.every((v) => Number.isFinite(v) && Math.abs(v) <= ZERO_MAX_OFFSET_MMHG);
        return {
          zones: this.all('vent'),
          done: true,
          result: { kind: this.kind, ok, details, values: values.map((v) => Math.round(v * 100) / 100) },
        };
      }
      case 'leak': {
        if (this.phase === 0) {
          // Fill the zones one after the other, distal first, holding the filled ones: the pump
          // serves one inlet at a time, and a zone told to fill is expected to rise at once.
          const filling = reached.findIndex((r) => !r);
          if (filling < 0) next();
          else if (since > LEAK_FILL_LIMIT_MS) {
            return this.leakResult(
              pressures,
              reached.map((r, i) =>
                r ? '' : `zone ${i + 1}: could not be inflated to ${LEAK_TEST_MMHG} mmHg`,
              ),
            );
          }
          const zones = reached.map((r, i): TestZoneCommand => ({
            command: r ? 'hold' : i === filling ? 'fill' : 'vent',
            targetMmHg: r || i === filling ? LEAK_TEST_MMHG : 0,
          }));
          return { zones: filling < 0 ? this.all('hold', LEAK_TEST_MMHG) : zones, done: false };
        }
        if (this.phase === 1) {
          if (since >= LEAK_SETTLE_MS) {
            next();
            pressures.forEach((p, i) => (this.sealedFrom[i] = p));
            return { zones: this.all('seal', LEAK_TEST_MMHG), done: false };
          }
          return { zones: this.all('hold', LEAK_TEST_MMHG), done: false };
        }
        if (since < LEAK_MEASURE_MS) return { zones: this.all('seal', LEAK_TEST_MMHG), done: false };
        return this.leakResult(pressures, []);
      }
    }
  }

  private leakResult(pressures: readonly number[], failures: string[]): TestStep {
    const minutes = LEAK_MEASURE_MS / 60_000;
    const values = pressures.map((p, i) => {
      const from = this.sealedFrom[i] ?? Number.NaN;
      return Number.isFinite(from) && Number.isFinite(p)
        ? Math.round(((from - p) / minutes) * 10) / 10
        : Number.NaN;
    });
    const details = values.map((v, i) => {
      const f = failures[i];
      if (f) return f;
      if (!Number.isFinite(v)) return `zone ${i + 1}: no measurement`;
      return `zone ${i + 1}: ${v.toFixed(1)} mmHg/min ${v <= LEAK_PASS_MMHG_PER_MIN ? 'ok' : `— above ${LEAK_PASS_MMHG_PER_MIN} mmHg/min, check the chamber and its hose`}`;
    });
    const ok =
      values.every((v) => Number.isFinite(v) && v <= LEAK_PASS_MMHG_PER_MIN) && failures.every((f) => !f);
    return { zones: this.all('vent'), done: true, result: { kind: 'leak', ok, details, values } };
  }
}
