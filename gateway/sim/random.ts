/**
 * Seeded pseudo-random numbers for the simulator. Same seed ⇒ same trace, on every machine: no
 * Math.random(), no time, no iteration-order dependence.
 *
 * Each consumer (valve timing jitter, patient artefacts, each zone's sensor noise, the per-unit
 * sensor calibration draw) gets its own stream derived from the seed and a label. That way a
 * control loop that reads sensors more or less often does not shift the valve jitter, and adding a
 * station to a world does not change the traces of the others.
 */

/** 32-bit FNV-1a over the UTF-16 code units of `text`. */
function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** murmur3 fmix32: spreads every input bit over the whole word, so nearby seeds diverge fully. */
function fmix32(x: number): number {
  let h = x >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Checks a user-facing seed: any safe integer (negative allowed). */
export function checkSeed(seed: number): number {
  if (!Number.isSafeInteger(seed)) throw new RangeError(`seed must be a safe integer, got ${String(seed)}`);
  return seed;
}

/**
 * A 32-bit stream seed from a seed and labels, e.g. `deriveSeed(42, 'station', 'A', 'noise', 3)`.
 * The whole safe-integer range of `seed` matters (it is hashed as text).
 */
export function deriveSeed(seed: number, ...labels: readonly (string | number)[]): number {
  return fmix32(fnv1a(`${checkSeed(seed)}|${labels.join('|')}`));
}

/** mulberry32 (Tommy Ettinger): tiny, fast, passes the usual statistical batteries for our needs. */
export class Rng {
  private state: number;
  private spare: number | undefined;

  constructor(seed32: number) {
    this.state = seed32 >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Uniform in [lo, hi). */
  uniform(lo: number, hi: number): number {
    return lo + (hi - lo) * this.next();
  }

  /** Standard normal (mean 0, σ 1) by Box–Muller; the second value of each pair is kept for the next call. */
  gaussian(): number {
    if (this.spare !== undefined) {
      const s = this.spare;
      this.spare = undefined;
      return s;
    }
    // 1 - next() is in (0, 1], so the log is finite.
    const r = Math.sqrt(-2 * Math.log(1 - this.next()));
    const phi = 2 * Math.PI * this.next();
    this.spare = r * Math.sin(phi);
    return r * Math.cos(phi);
  }

  /** Exponentially distributed waiting time with the given mean (a Poisson process's gaps). */
  exponential(mean: number): number {
    return -mean * Math.log(1 - this.next());
  }
}
