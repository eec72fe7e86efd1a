import type { LiveZone } from '../api.js';
import { mmHg } from '../format.js';
import { t } from '../i18n/index.js';

/**
 * One vertical bar per zone (distal → proximal, left to right) against the station ceiling, with
 * the target as a line. data-pressure carries the shown value for tests and screen readers.
 */
export function ZoneBars({
  zones,
  scaleMmHg,
  live,
}: {
  zones: LiveZone[];
  scaleMmHg: number;
  live: boolean;
}) {
  const pct = (v: number) => `${Math.max(0, Math.min(100, (v / scaleMmHg) * 100))}%`;
  return (
    <div class="zone-bars" role="group" aria-label={t('board.zonesLabel')}>
      {zones.map((z) => {
        const p = live ? z.pressureMmHg : null;
        return (
          <div
            class={`zone ${z.sensor !== 'ok' ? 'zone-sensor-bad' : ''}`}
            key={z.zone}
            data-zone={z.zone}
            data-pressure={p === null ? '' : p.toFixed(1)}
            data-target={z.targetMmHg}
            aria-label={`${t('board.zone', { n: z.zone })}: ${mmHg(p)} ${t('unit.mmHg')}, ${t('board.target', { p: z.targetMmHg })}`}
          >
            <div class="zone-track">
              <div class="zone-fill" style={{ height: p === null ? '0%' : pct(p) }} />
              {z.targetMmHg > 0 && <div class="zone-target" style={{ bottom: pct(z.targetMmHg) }} />}
            </div>
            {/* Sensor noise around zero reads as -1 or -2; a chamber holds no negative pressure. */}
            <div class="zone-value">{p === null ? '—' : Math.max(0, Math.round(p))}</div>
            <div class="zone-label">{z.zone}</div>
          </div>
        );
      })}
    </div>
  );
}
