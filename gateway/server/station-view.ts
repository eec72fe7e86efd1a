/**
 * What the station routes answer with, built from the controller's frames: a station as the
 * dashboard shows it, and its ceilings. Not a route file: the station routes (routes/stations.ts,
 * station-start.ts, station-commands.ts) and the centre link (plugins/centre.ts) use it.
 */
import { effectiveCeiling, highestTargetMmHg, type CeilingSources } from '../limits.js';
import type { StationFrame } from '../protocol.js';
import type { StationSettings } from '../store/types.js';
import { HttpError } from './errors.js';
import type { ControllerLink } from './plugins/controller-link.js';
import type { StationView } from './responses.js';

/** A ceiling as the dashboard shows it: the number, the highest target under it, and where it comes from. */
function ceilingView(sources: CeilingSources) {
  const e = effectiveCeiling(sources);
  return {
    ceilingMmHg: e.ceilingMmHg,
    highestTargetMmHg: highestTargetMmHg(e.ceilingMmHg),
    source: e.source,
  };
}

/** What limits a new session on this station: the board and the staff setting (and the walk-up maximum). */
export function startCeilingSources(
  frame: StationFrame,
  settings: StationSettings | undefined,
  walkUp: boolean,
) {
  return {
    boardMmHg: frame.ceilingMmHg,
    stationSettingMmHg: settings?.ceilingMmHg,
    ...(walkUp ? { walkUpMaxTargetMmHg: settings?.walkUpMaxPressureMmHg } : {}),
  };
}

/** What a dashboard shows of a station: the controller's frame, trimmed to what people read. */
export function stationView(frame: StationFrame, settings: StationSettings | undefined): StationView {
  return {
    id: frame.id,
    name: frame.name,
    garment: frame.garment,
    state: frame.state,
    phase: frame.phase,
    program: frame.session
      ? {
          id: frame.session.programId,
          name: frame.session.programName,
          version: frame.session.programVersion,
        }
      : null,
    session: frame.session
      ? {
          id: frame.session.id,
          cycle: frame.session.cycle,
          elapsedS: frame.session.elapsedS,
          remainingS: frame.session.remainingS,
          pressureMmHg: frame.session.pressureMmHg,
          durationMin: frame.session.durationMin,
          adjustPending: frame.session.adjustPending,
        }
      : null,
    remainingS: frame.session?.remainingS ?? null,
    zones: frame.zones.map((z) => ({ zone: z.zone, pressureMmHg: z.pressureMmHg, targetMmHg: z.targetMmHg })),
    ceilingMmHg: frame.ceilingMmHg,
    /** The effective ceiling a staff start gets now (board and station setting). */
    startCeiling: ceilingView(startCeilingSources(frame, settings, false)),
    /** The running session's effective ceiling, which its over-pressure trip enforces. */
    sessionCeilingMmHg: frame.session?.ceilingMmHg ?? null,
    link: frame.link,
    alarms: frame.alarms.filter((a) => a.active || a.latched),
    walkUp: settings?.walkUpEnabled
      ? {
          programs: settings.walkUpPrograms,
          maxPressureMmHg: settings.walkUpMaxPressureMmHg,
          maxDurationMin: settings.walkUpMaxDurationMin,
          ceiling: ceilingView(startCeilingSources(frame, settings, true)),
        }
      : null,
  };
}

/** One station's latest frame (REST reads go through link.state()), or a 404 naming the id. */
export async function stationFrame(link: ControllerLink, id: string): Promise<StationFrame> {
  const [frame] = await link.state(id);
  if (frame === undefined) throw new HttpError(404, 'not-found', `no station "${id}"`, 'params.id');
  return frame;
}
