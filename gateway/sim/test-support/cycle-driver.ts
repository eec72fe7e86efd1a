/**
 * A gradient sequential cycle as a control loop drives it, for the simulator's tests (one copy:
 * station-model.test.ts and world.test.ts both use it).
 */
import type { StationModel } from '../station-model.js';

/** A gradient sequential cycle: each zone inflates 5 s in turn, all hold 10 s, all vent 5 s. */
export function cycleDriver(
  m: StationModel,
  inflateMs = 5000,
  holdMs = 10_000,
  ventMs = 5000,
): (t: number) => void {
  const zones = m.zones;
  const cycle = zones * inflateMs + holdMs + ventMs;
  let phase = -1;
  return (t) => {
    const tc = t % cycle;
    const ph =
      tc < zones * inflateMs
        ? Math.floor(tc / inflateMs)
        : tc < zones * inflateMs + holdMs
          ? zones
          : zones + 1;
    if (ph === phase) return;
    phase = ph;
    for (let z = 0; z < zones; z++) m.setInlet(z, z === ph);
    if (ph < zones) {
      m.setPump(1);
      for (let z = 0; z < zones; z++) m.setExhaust(z, true);
    } else if (ph === zones) m.setPump(0);
    else for (let z = 0; z < zones; z++) m.setExhaust(z, false);
  };
}
