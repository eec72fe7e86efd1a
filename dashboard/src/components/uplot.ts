/// <reference types="vite/client" />
/**
 * uPlot (51 kB of the 166 kB the support page used to load at once) is fetched when the first
 * chart mounts, after the page has drawn: the page's own code stays within the dashboard's budget
 * and the chart fills in a moment later. One download, shared by every chart.
 */
import type uPlot from 'uplot';

let loading: Promise<typeof uPlot> | null = null;

export function loadUPlot(): Promise<typeof uPlot> {
  loading ??= Promise.all([import('uplot'), import('uplot/dist/uPlot.min.css')]).then(([m]) => m.default);
  return loading;
}
