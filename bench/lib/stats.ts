/** Percentiles and small summaries for the bench's samples. */

/** Nearest-rank percentiles of unsorted samples (zeros for none). */
export function summary(samples: readonly number[]): { p50: number; p99: number; max: number; n: number } {
  if (samples.length === 0) return { p50: 0, p99: 0, max: 0, n: 0 };
  const sorted = Float64Array.from(samples).sort();
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
  return { p50: at(0.5), p99: at(0.99), max: sorted[sorted.length - 1] ?? 0, n: sorted.length };
}

/** Rounds for the report: figures are measured to ~0.01 ms at best. */
export function round(x: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
