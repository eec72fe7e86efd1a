import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkSeed, deriveSeed, Rng } from './random.js';

describe('seeded random streams', () => {
  it('same seed and label give the same stream; different ones differ', () => {
    const a = new Rng(deriveSeed(42, 'noise', 0));
    const b = new Rng(deriveSeed(42, 'noise', 0));
    const c = new Rng(deriveSeed(43, 'noise', 0));
    const d = new Rng(deriveSeed(42, 'noise', 1));
    const xa = Array.from({ length: 100 }, () => a.next());
    assert.deepEqual(
      xa,
      Array.from({ length: 100 }, () => b.next()),
    );
    assert.notDeepEqual(
      xa,
      Array.from({ length: 100 }, () => c.next()),
    );
    assert.notDeepEqual(
      xa,
      Array.from({ length: 100 }, () => d.next()),
    );
    for (const x of xa) assert.ok(x >= 0 && x < 1);
  });

  it('uses the whole safe-integer seed range and rejects non-integers', () => {
    assert.notEqual(deriveSeed(2 ** 40, 'x'), deriveSeed(2 ** 40 + 1, 'x'));
    assert.notEqual(deriveSeed(-1, 'x'), deriveSeed(1, 'x'));
    assert.throws(() => checkSeed(1.5), RangeError);
    assert.throws(() => checkSeed(Number.NaN), RangeError);
  });

  it('gaussian() is standard normal and exponential() has the asked mean', () => {
    const r = new Rng(deriveSeed(7, 'stats'));
    const n = 200_000;
    let s = 0;
    let s2 = 0;
    let within1 = 0;
    for (let i = 0; i < n; i++) {
      const g = r.gaussian();
      s += g;
      s2 += g * g;
      if (Math.abs(g) < 1) within1++;
    }
    const mean = s / n;
    const sd = Math.sqrt(s2 / n - mean * mean);
    assert.ok(Math.abs(mean) < 0.01, `mean ${mean}`);
    assert.ok(Math.abs(sd - 1) < 0.01, `σ ${sd}`);
    assert.ok(Math.abs(within1 / n - 0.6827) < 0.005, `P(|g|<1) ${within1 / n}`);
    let e = 0;
    for (let i = 0; i < n; i++) e += r.exponential(5);
    assert.ok(Math.abs(e / n - 5) < 0.05, `exponential mean ${e / n}`);
  });
});
