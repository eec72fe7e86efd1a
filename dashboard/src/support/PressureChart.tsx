import { useEffect, useRef } from 'preact/hooks';
import type uPlot from 'uplot';
import type { LiveFrame } from '../api.js';
import { loadUPlot } from '../components/uplot.js';
import { t } from '../i18n/index.js';
import type { Live } from '../live.js';

export const WINDOW_S = 120;
/** Redrawing 2 400 points per series at 20 Hz would load a Pi-side tablet for nothing. */
const REDRAW_MS = 250;
/** Distinguishable on white with ≥ 3:1 against the background (WCAG non-text contrast). */
const ZONE_COLOURS = ['#1f5fa8', '#b3261e', '#0b6e4f', '#7a4fb0', '#8a5a00', '#006d77', '#c2185b', '#4e5b31'];

interface Buffer {
  x: number[];
  pressure: (number | null)[][];
  target: number[][];
}

/**
 * Every zone's pressure (solid) and target (dashed) of one station over the last two minutes,
 * sampled from the live frames as they arrive (the station is followed at 20 Hz). A gap (null)
 * is drawn where the link or the sensor gave no value, so a dropout is not drawn as a flat line.
 */
export function PressureChart({ live, stationId }: { live: Live; stationId: string }) {
  const host = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const el = host.current;
    if (el === null) return;
    let UPlot: typeof uPlot | null = null;
    let plot: uPlot | null = null;
    let zones = 0;
    const buf: Buffer = { x: [], pressure: [], target: [] };
    let lastSample = 0;

    const build = (frame: LiveFrame) => {
      zones = frame.zones.length;
      buf.x = [];
      buf.pressure = frame.zones.map(() => []);
      buf.target = frame.zones.map(() => []);
      const series: uPlot.Series[] = [{}];
      for (const z of frame.zones) {
        const c = ZONE_COLOURS[(z.zone - 1) % ZONE_COLOURS.length];
        series.push({ label: `${t('board.zone', { n: z.zone })}`, stroke: c, width: 2, spanGaps: false });
      }
      for (const z of frame.zones) {
        const c = ZONE_COLOURS[(z.zone - 1) % ZONE_COLOURS.length];
        series.push({
          label: `${t('board.target', { p: '' }).trim()} ${z.zone}`,
          stroke: c,
          width: 1,
          dash: [6, 4],
        });
      }
      plot?.destroy();
      if (UPlot === null) return;
      plot = new UPlot(
        {
          width: Math.max(320, el.clientWidth),
          height: 300,
          series,
          scales: { x: { time: true }, y: { range: [0, Math.max(60, frame.ceilingMmHg)] } },
          axes: [{}, { label: t('unit.mmHg') }],
          legend: { live: false },
        },
        [[], ...series.slice(1).map(() => [])],
        el,
      );
    };

    const sample = () => {
      const f = live.frames.get(stationId);
      if (f === undefined || f.sampledAtEpochMs === lastSample) return;
      if (UPlot === null) return;
      if (plot === null || f.zones.length !== zones) build(f);
      lastSample = f.sampledAtEpochMs;
      const fresh = live.isLive(stationId);
      buf.x.push(Date.now() / 1000);
      f.zones.forEach((z, i) => {
        buf.pressure[i]?.push(fresh ? z.pressureMmHg : null);
        buf.target[i]?.push(z.targetMmHg);
      });
      const cutoff = Date.now() / 1000 - WINDOW_S;
      let drop = 0;
      while (drop < buf.x.length && (buf.x[drop] ?? 0) < cutoff) drop++;
      if (drop > 0) {
        buf.x.splice(0, drop);
        for (const s of [...buf.pressure, ...buf.target]) s.splice(0, drop);
      }
    };
    let gone = false;
    void loadUPlot().then((loaded) => {
      if (gone) return;
      UPlot = loaded;
      sample();
    });
    const off = live.onChange(sample);
    const redraw = window.setInterval(() => {
      plot?.setData([buf.x, ...buf.pressure, ...buf.target] as uPlot.AlignedData);
    }, REDRAW_MS);
    return () => {
      gone = true;
      off();
      window.clearInterval(redraw);
      plot?.destroy();
    };
  }, [live, stationId]);
  return <div class="pressure-chart" ref={host} data-testid="pressure-chart" />;
}
