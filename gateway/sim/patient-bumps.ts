/**
 * Patient-movement artefacts of one simulated station (pneumatics reference §7: +5–15 mmHg over
 * 0.2–2 s on a random zone, at a seeded random rate): when the next bump starts and its shape.
 * The integrator (station-integrator.ts) starts them and applies them to the chambers.
 */
import type { StationState } from './station-state.js';

/** When the first bump after `from` starts (exponential waits at the configured rate), ms. */
export function scheduleNextBump(s: StationState, from: number): number {
  const rate = s.params.artefacts.ratePerMin;
  return rate > 0 ? from + s.artefactRng.exponential(60000 / rate) : Number.POSITIVE_INFINITY;
}

/**
 * Pressure displacement of the current bump at time t: a half sine. It is applied as pressure
 * increments, so an open exhaust vents part of it and the chamber ends slightly low (the volume
 * the patient pushed out comes back), as a real squeeze would.
 */
export function bumpShape(s: StationState, t: number): number {
  const u = (t - s.bumpStart) / s.bumpDur;
  if (u <= 0 || u >= 1) return 0;
  return s.bumpAmp * Math.sin(Math.PI * u);
}
