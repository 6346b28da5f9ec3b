/**
 * Chart.js helpers shared by the dashboard and compare webviews. chart.js is
 * loaded by a separate <script> (dist/webviews/chart.umd.js, via
 * asWebviewUri) that defines `window.Chart`; it is never bundled and never
 * fetched from a CDN. Chart.js 4 needs no eval, so a strict CSP works.
 */
import type { Chart as ChartType, ChartConfiguration, ChartType as Kind } from 'chart.js';
import type { ThemeColors } from './theme';
import { withAlpha } from './theme';

export type ChartCtor = typeof ChartType;

export function getChartJs(): ChartCtor {
  const c = (window as unknown as { Chart?: ChartCtor }).Chart;
  if (!c) throw new Error('chart.js did not load (dist/webviews/chart.umd.js)');
  return c;
}

/** Apply theme-aware global defaults. Call again after a theme change, then redraw charts. */
export function applyChartDefaults(theme: ThemeColors): void {
  const C = getChartJs();
  C.defaults.color = theme.foreground;
  C.defaults.borderColor = withAlpha(theme.grid, 0.6);
  C.defaults.font.family = theme.fontFamily;
  C.defaults.font.size = Math.max(11, theme.fontSize - 1);
  C.defaults.animation = false;
  C.defaults.responsive = true;
  C.defaults.maintainAspectRatio = false;
  C.defaults.plugins.legend.labels.boxWidth = 12;
  C.defaults.plugins.tooltip.backgroundColor = withAlpha(theme.background, 0.95);
  C.defaults.plugins.tooltip.titleColor = theme.foreground;
  C.defaults.plugins.tooltip.bodyColor = theme.foreground;
  C.defaults.plugins.tooltip.borderColor = theme.grid;
  C.defaults.plugins.tooltip.borderWidth = 1;
}

/** Re-colour an existing chart's scales after a theme change. */
export function restyleChart(chart: ChartType, theme: ThemeColors): void {
  const scales = chart.options.scales ?? {};
  for (const s of Object.values(scales)) {
    if (!s) continue;
    const sc = s as { ticks?: { color?: unknown }; grid?: { color?: unknown }; title?: { color?: unknown } };
    if (sc.ticks) sc.ticks.color = theme.foreground;
    if (sc.grid) sc.grid.color = withAlpha(theme.grid, 0.6);
    if (sc.title) sc.title.color = theme.foreground;
  }
  const legend = chart.options.plugins?.legend;
  if (legend?.labels) legend.labels.color = theme.foreground;
  chart.update('none');
}

export function createChart<T extends Kind>(canvas: HTMLCanvasElement, config: ChartConfiguration<T>): ChartType<T> {
  const C = getChartJs();
  return new C(canvas, config as never) as unknown as ChartType<T>;
}

/** Number of drawn data points across datasets (for tests and the DOM `data-points` attribute). */
export function pointCount(chart: ChartType): number {
  return chart.data.datasets.reduce((n, d) => n + (d.data as unknown[]).filter((v) => v !== null && v !== undefined).length, 0);
}

/** Colour for a cell of a heatmap: 0 → transparent, 1 → full `color`. */
export function heat(color: string, value: number): string {
  const a = Math.max(0, Math.min(1, value));
  return withAlpha(color, a === 0 ? 0 : 0.12 + 0.78 * a);
}
