/**
 * The order in which a cycle visits zones. Zones are numbered distal → proximal (DESIGN.md), and
 * compression moves fluid towards the heart, so the drainage pass always runs in ascending order.
 * Skipped zones are left out of every pass: they stay vented.
 */
import type { Program } from './schema.js';

/** Zones that run this session, distal → proximal. */
export function activeZones(skipped: readonly boolean[]): number[] {
  const out: number[] = [];
  skipped.forEach((s, i) => {
    if (!s) out.push(i + 1);
  });
  return out;
}

/**
 * Lymphatic pre-clearing: the top N active zones, most proximal first. Lymph drainage clears the
 * root of the limb before it moves fluid from further out (devices reference §a: Flexitouch
 * "preparation" before drainage; §d: manual node unblocking proximal first, then more distal), so
 * fluid pushed later has somewhere to go. Capped at the active zones the garment has.
 */
export function preClearOrder(program: Pick<Program, 'lymphatic'>, active: readonly number[]): number[] {
  const n = Math.min(program.lymphatic?.preClearZones ?? 0, active.length);
  return active.slice(active.length - n).reverse();
}
