/**
 * A small uPlot line chart for the admin pages (a program preview, a session's record): built
 * from the data it is given, and rebuilt when that changes. Not for live data (PressureChart is).
 */
import { useEffect, useRef } from 'preact/hooks';
import type uPlot from 'uplot';
import { loadUPlot } from '../components/uplot.js';

/** The zone colours of the support page's chart: ≥ 3:1 against white. */
export const ZONE_COLOURS = [
  '#1f5fa8',
  '#b3261e',
  '#0b6e4f',
  '#7a4fb0',
  '#8a5a00',
  '#006d77',
  '#c2185b',
  '#4e5b31',
];
export const zoneColour = (zone: number) => ZONE_COLOURS[(zone - 1) % ZONE_COLOURS.length] as string;

export interface LineSeries {
  label: string;
  values: (number | null)[];
  colour: string;
  dash?: number[];
  width?: number;
  /** Draw as points only (one value per cycle, not a course between them). */
  points?: boolean;
}

export function LineChart({
  x,
  series,
  xLabel,
  yLabel,
  yMax,
  testId,
  height = 280,
  integerX = false,
}: {
  x: number[];
  series: LineSeries[];
  xLabel: string;
  yLabel: string;
  yMax: number;
  testId: string;
  height?: number;
  /** The x values are counts (cycles): ticks on whole numbers only. */
  integerX?: boolean;
}) {
  const host = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const el = host.current;
    if (el === null) return;
    let plot: uPlot | null = null;
    let gone = false;
    void loadUPlot().then((UPlot) => {
      if (gone) return;
      plot = new UPlot(
        {
          width: Math.max(320, el.clientWidth),
          height,
          scales: { x: { time: false }, y: { range: [0, yMax] } },
          axes: [
            { label: xLabel, ...(integerX ? { incrs: [1, 2, 5, 10, 20, 50, 100] } : {}) },
            { label: yLabel },
          ],
          // Labels only: a static chart has no cursor value worth a row of dashes.
          legend: { live: false },
          series: [
            {},
            ...series.map((s) => ({
              label: s.label,
              stroke: s.colour,
              // A per-cycle measurement is dots only; a planned or set course is a line.
              width: s.points ? 0 : (s.width ?? 2),
              ...(s.dash ? { dash: s.dash } : {}),
              points: s.points ? { show: true, size: 7 } : { show: false },
            })),
          ],
        },
        [x, ...series.map((s) => s.values)] as uPlot.AlignedData,
        el,
      );
    });
    return () => {
      gone = true;
      plot?.destroy();
    };
  }, [x, series, yMax]);
  return <div class="line-chart" ref={host} data-testid={testId} />;
}
