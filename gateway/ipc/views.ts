/**
 * What the live hub sends each kind of Socket.IO client, and how the dashboard turns it back into
 * a station. Two views of the controller's StationFrame:
 *
 * - `overview` (the wall board's tiles, every station): state, program, time left, alarms, and
 *   zone pressures rounded to 1 mmHg — a tile shows whole mmHg — at OVERVIEW_RATE_HZ;
 * - `station` (a followed station: walk-up page, support trace): the same with 0.1 mmHg and the
 *   elapsed time and pump duty, at FRAME_RATE_HZ.
 *
 * Zones travel column-wise: `zones` is the measured pressure of each zone in zone order
 * (`[12.3, 40.1, …]`, null without a valid value), `targets` and `sensors` the same for the
 * target and the sensor's health; a message where only pressures moved carries one short array,
 * not an object per zone. The session's fixed
 * part (`session`) is apart from its clock (`remainingS`, `elapsedS`). Every other top-level field
 * of the frame is carried as it is, so a field added to StationFrameSchema reaches the dashboard
 * without a change here. The sample time rides in every message as a header, `t` (gateway/ipc/frame-diff.ts),
 * never as a change. Valve states and the controller's own clock stay in the web process.
 *
 * A third view, `centre`, is another gateway's station as it came from the centre's broker
 * (gateway/centre/schemas.ts StatePayload: the REST station view, whole mmHg): reshaped into the
 * overview's fields, so the board's tiles read it the same way, plus its `gatewayId` and
 * `stationId`, under the id `<gatewayId>/<stationId>`.
 */
import type { StatePayload } from '../centre/schemas.js';
import type { StationFrame, ZoneFrame } from '../protocol.js';

export type ViewKind = 'overview' | 'station' | 'centre';

/** Fields of the frame no browser view carries as they are (zones and session are reshaped, the
 * sample time rides as the header `t`, the controller's own clock means nothing to a browser). */
const NOT_IN_VIEWS = new Set(['zones', 'session', 'sampledAtMs', 'sampledAtEpochMs']);
/** Fields a tile does not show, left out of the overview. */
const NOT_IN_OVERVIEW = new Set(['pumpDuty', 'elapsedS', 'phase']);
/** The header: the sample time (epoch ms), in every message and never counted as a change. Its
 * short name saves 15 bytes in each of the 40–60 messages a second a client gets. */
export const VIEW_HEADER_KEYS = ['t'] as const;

export type LiveZone = Pick<ZoneFrame, 'zone' | 'pressureMmHg' | 'targetMmHg' | 'sensor'>;
type FrameSession = NonNullable<StationFrame['session']>;
/** A station as the dashboard holds it: StationFrame as far as the view carries it. */
export type LiveFrame = Omit<StationFrame, 'zones' | 'session' | 'sampledAtMs' | 'pumpDuty'> & {
  zones: LiveZone[];
  session: (Omit<FrameSession, 'elapsedS'> & { elapsedS?: number }) | null;
  pumpDuty?: number;
  /** Set on another gateway's station (the `centre` view); its own id is `stationId`. */
  gatewayId?: string;
  stationId?: string;
};

/** The wire form of a view (before the diff): flat fields, zones column-wise. */
export type ViewFields = Record<string, unknown> & { id: string };

/** A tile shows whole mmHg, and no negative ones (sensor noise around zero). */
const tileMmHg = (v: number | null) => (v === null ? null : Math.max(0, Math.round(v)));

export function viewOf(frame: StationFrame, kind: Exclude<ViewKind, 'centre'>): ViewFields {
  const out: ViewFields = { id: frame.id, t: frame.sampledAtEpochMs };
  const skip = kind === 'overview' ? NOT_IN_OVERVIEW : undefined;
  for (const key in frame) {
    if (NOT_IN_VIEWS.has(key) || skip?.has(key)) continue;
    out[key] = frame[key as keyof StationFrame];
  }
  const s = frame.session;
  if (s === null) out.session = null;
  else {
    // Every field of the session but its clock, so a field added to the schema comes along.
    const { elapsedS: _elapsed, remainingS: _remaining, ...fixed } = s;
    out.session = fixed;
  }
  out.remainingS = s?.remainingS ?? null;
  if (kind === 'station') out.elapsedS = s?.elapsedS ?? null;
  // The controller rounds to 0.1 mmHg already; a tile shows whole mmHg, so the overview sends no
  // change a tile could not show.
  out.zones = frame.zones.map((z) => (kind === 'overview' ? tileMmHg(z.pressureMmHg) : z.pressureMmHg));
  out.targets = frame.zones.map((z) => z.targetMmHg);
  out.sensors = frame.zones.map((z) => z.sensor);
  return out;
}

/** The `centre` view of another gateway's station, as the overview carries a local one. */
export function centreViewOf(s: StatePayload): ViewFields {
  return {
    id: `${s.gatewayId}/${s.id}`,
    t: s.atEpochMs,
    gatewayId: s.gatewayId,
    stationId: s.id,
    name: s.name,
    garment: s.garment,
    state: s.state,
    phase: s.phase,
    selfTest: null,
    session:
      s.session === null || s.program === null
        ? null
        : {
            id: s.session.id,
            ceilingMmHg: s.sessionCeilingMmHg ?? s.ceilingMmHg,
            programId: s.program.id,
            programName: s.program.name,
            programVersion: s.program.version,
            cycle: s.session.cycle,
            pressureMmHg: s.session.pressureMmHg,
            durationMin: s.session.durationMin,
            adjustPending: s.session.adjustPending,
          },
    remainingS: s.session?.remainingS ?? null,
    ceilingMmHg: s.ceilingMmHg,
    link: s.link,
    alarms: s.alarms,
    zones: s.zones.map((z) => tileMmHg(z.pressureMmHg)),
    targets: s.zones.map((z) => z.targetMmHg),
    // The REST view does not carry a sensor's health; a missing value is what a tile can show.
    sensors: s.zones.map((z) => (z.pressureMmHg === null ? 'stale' : 'ok')),
  };
}

/** The dashboard's side: a merged view back into the shape its components read. */
export function liveFrameOf(view: Readonly<Record<string, unknown>>): LiveFrame {
  const { t, zones, targets, sensors, session, remainingS, elapsedS, ...rest } = view as Record<
    string,
    unknown
  > & {
    t?: number;
    zones?: (number | null)[];
    targets?: number[];
    sensors?: ZoneFrame['sensor'][];
    session?: Omit<FrameSession, 'elapsedS' | 'remainingS'> | null;
    remainingS?: number | null;
    elapsedS?: number | null;
  };
  return {
    ...(rest as Omit<LiveFrame, 'zones' | 'session' | 'sampledAtEpochMs'>),
    sampledAtEpochMs: t ?? 0,
    zones: (zones ?? []).map((p, i) => ({
      zone: i + 1,
      pressureMmHg: p,
      targetMmHg: targets?.[i] ?? 0,
      sensor: sensors?.[i] ?? 'ok',
    })),
    session:
      session === undefined || session === null
        ? null
        : {
            ...session,
            remainingS: remainingS ?? 0,
            ...(typeof elapsedS === 'number' ? { elapsedS } : {}),
          },
  };
}
