/**
 * Station frames for tests that need what the controller sends without running one: the socket
 * (ipc/server.ts), the CLI's printing, the live hub's views. One factory, so a new field of
 * StationFrame is added here once and every fake controller sends it.
 */
import type { StationFrame, ZoneFrame } from '../../gateway/protocol.js';

type SessionInfo = NonNullable<StationFrame['session']>;

/** Vented zones (0 mmHg, exhaust open), or one zone per pressure given. */
export function zoneFrames(pressures: number[] = [0, 0, 0, 0], patch: Partial<ZoneFrame> = {}): ZoneFrame[] {
  return pressures.map((p, i) => ({
    zone: i + 1,
    pressureMmHg: p,
    targetMmHg: 0,
    sensor: 'ok',
    inlet: false,
    exhaust: true,
    ...patch,
  }));
}

/** An idle station with four vented zones, the link up and no alarm; `patch` overrides any field. */
export function stationFrame(id: string, patch: Partial<StationFrame> = {}): StationFrame {
  return {
    id,
    selfTest: null,
    name: `Station ${id}`,
    garment: 'leg',
    state: 'idle',
    phase: null,
    session: null,
    zones: zoneFrames(),
    pumpDuty: 0,
    ceilingMmHg: 100,
    link: 'ok',
    alarms: [],
    sampledAtMs: 0,
    sampledAtEpochMs: 0,
    ...patch,
  };
}

/** Bay 1 inflating zone 1 of its first cycle, the pump at half duty; `patch` overrides any field. */
export function runningFrame(patch: Partial<StationFrame> = {}): StationFrame {
  return stationFrame('bay-1', {
    name: 'Bay 1',
    state: 'running',
    phase: { kind: 'inflating', zone: 1 },
    pumpDuty: 0.5,
    ceilingMmHg: 120,
    ...patch,
  });
}

/** A session ten seconds into a ten-minute run at 40 mmHg; `patch` overrides any field. */
export function sessionInfo(patch: Partial<SessionInfo> = {}): SessionInfo {
  return {
    id: 's1',
    ceilingMmHg: 100,
    programId: 'p',
    programName: 'P',
    programVersion: 1,
    cycle: 1,
    elapsedS: 10,
    remainingS: 590,
    pressureMmHg: 40,
    durationMin: 10,
    adjustPending: false,
    ...patch,
  };
}
