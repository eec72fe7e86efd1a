/**
 * The frame builder: a station's state as clients see it (protocol.ts StationFrame) — its state
 * and phase, its session, every zone's pressure, target and valves, its link and its alarms.
 */
import type { BoardIo } from '../board/open.js';
import type { AlarmInfo, StationFrame } from '../protocol.js';
import type { ControllerContext } from './controller-context.js';
import type { Station } from './station.js';

type Health = ReturnType<BoardIo['health']>;

/** Every station's frame, in board order. */
export function allFrames(c: ControllerContext): StationFrame[] {
  const now = c.opts.clock.now();
  const epoch = c.epochNow();
  const health = c.opts.io.health();
  return c.stations.map((st) => stationFrame(st, now, epoch, health, c.alarms.forStation(st.id)));
}

/** One station's frame now. */
export function frameOf(c: ControllerContext, st: Station): StationFrame {
  return stationFrame(st, c.opts.clock.now(), c.epochNow(), c.opts.io.health(), c.alarms.forStation(st.id));
}

/**
 * One station's frame. The frame itself is new each time (it is handed to the socket, which keeps
 * it); nothing else is allocated on the way.
 */
export function stationFrame(
  st: Station,
  now: number,
  epoch: number,
  health: Health,
  alarms: AlarmInfo[],
): StationFrame {
  const s = st.sessionInfo;
  let link: StationFrame['link'] = 'ok';
  for (const d of st.io.devices) {
    const state = health[d.id]?.state ?? 'offline';
    if (state === 'offline') link = 'offline';
    else if (state === 'degraded' && link === 'ok') link = 'degraded';
  }
  let newest = Number.NEGATIVE_INFINITY;
  for (const z of st.io.zones) newest = Math.max(newest, z.sensor.read().sampledAtMs);
  const sampledAt = Number.isFinite(newest) ? newest : now;
  return {
    id: st.id,
    name: st.io.spec.name,
    garment: st.io.spec.garment,
    state: st.state,
    phase: st.phase(),
    selfTest: st.selfTestKind,
    session: s
      ? {
          id: s.id,
          ceilingMmHg: s.ceilingMmHg,
          programId: s.program.id,
          programName: s.program.name,
          programVersion: s.program.version,
          cycle: s.last?.cycle ?? 1,
          elapsedS: Math.round(st.elapsedMs(now) / 1000),
          remainingS: Math.round(st.remainingMs(now) / 1000),
          pressureMmHg: s.basis.pressureMmHg,
          durationMin: s.program.durationMin,
          adjustPending: s.runner.retargetPending,
        }
      : null,
    zones: st.io.zones.map((z, i) => {
      const r = z.sensor.read();
      return {
        zone: i + 1,
        pressureMmHg: r.health === 'error' || !Number.isFinite(r.mmHg) ? null : Math.round(r.mmHg * 10) / 10,
        targetMmHg: st.targetNow(i),
        sensor: r.health,
        inlet: st.written[i]?.inlet ?? false,
        exhaust: st.written[i]?.exhaust ?? false,
      };
    }),
    pumpDuty: Math.round(st.pumpDuty * 100) / 100,
    ceilingMmHg: st.io.spec.ceilingMmHg,
    link,
    alarms,
    sampledAtMs: sampledAt,
    sampledAtEpochMs: Math.round(epoch - (now - sampledAt)),
  };
}
