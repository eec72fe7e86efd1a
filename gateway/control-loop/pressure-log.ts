/**
 * One log line per station with every zone's latest pressure sample, and the reason when a zone
 * or a device is not healthy. Until the dashboard exists, this is how a newcomer sees the board.
 */
import type { BoardIo } from '../board/open.js';

/**
 * Seconds between pressure log lines when PRESSO_LOG_PRESSURES is unset. On the simulator a
 * line every 5 s is how a newcomer watches the board; on a Pi the same lines would be most of what
 * the gateway writes to its SD card (docs/deploy.md, "What the gateway writes"), so real hardware
 * logs once a minute: the alarms, the safe-state reports and the sessions carry the incidents.
 */
export const PRESSURE_LOG_DEFAULT_S = { simulated: 5, hardware: 60 } as const;

/** PRESSO_LOG_PRESSURES in milliseconds (0 = off), or the default for the kind of board. */
export function pressureLogIntervalMs(raw: string | undefined, simulated: boolean): number {
  if (raw === undefined || raw.trim() === '') {
    return (simulated ? PRESSURE_LOG_DEFAULT_S.simulated : PRESSURE_LOG_DEFAULT_S.hardware) * 1000;
  }
  const s = Number(raw);
  if (!Number.isFinite(s) || s < 0 || s > 86_400) {
    throw new Error(`PRESSO_LOG_PRESSURES: must be seconds from 0 (off) to 86400, got "${raw}"`);
  }
  return s * 1000;
}

export function formatPressures(io: BoardIo): string[] {
  const health = io.health();
  return io.stations.map((st) => {
    const zones = st.zones
      .map((z, i) => {
        const s = z.sensor.read();
        const v = s.health === 'error' ? 'ERR' : `${s.mmHg.toFixed(1)}${s.health === 'stale' ? '?' : ''}`;
        return `z${i + 1} ${v}`;
      })
      .join('  ');
    const problems = st.devices
      .map((d) => ({ id: d.id, h: health[d.id] }))
      .filter((x) => x.h && x.h.state !== 'ok')
      .map((x) => `${x.id} ${x.h?.state}: ${x.h?.message ?? ''}`);
    const errors = st.zones
      .map((z, i) => ({ i, s: z.sensor.read() }))
      .filter((x) => x.s.health !== 'ok' && x.s.detail)
      .map((x) => `z${x.i + 1}: ${x.s.detail}`);
    const tail = [...problems, ...errors];
    return `${st.spec.id.padEnd(10)} mmHg  ${zones}${tail.length ? `  [${tail.join('; ')}]` : ''}`;
  });
}
