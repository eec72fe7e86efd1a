/**
 * One log line per station with every zone's latest pressure sample, and the reason when a zone
 * or a device is not healthy. Until the dashboard exists, this is how a newcomer sees the board.
 */
import type { BoardIo } from '../board/open.js';

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
