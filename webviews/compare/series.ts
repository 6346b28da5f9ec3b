/** Pure helpers of the compare webview (no DOM): smoothing, formatting, sorting. Unit-tested. */
import type { CurvePoint, TableColumn, TableRow } from '../../src/protocol/compare';

/**
 * Exponential moving average with weight `w` in [0, 1): s_i = w·s_{i-1} + (1−w)·y_i,
 * debiased like TensorBoard (so the first points are not pulled towards 0).
 * w = 0 returns the series unchanged.
 */
export function ema(points: CurvePoint[], w: number): CurvePoint[] {
  if (!(w > 0)) return points.slice();
  const weight = Math.min(w, 0.999);
  let s = 0;
  let k = 0;
  return points.map((p) => {
    k++;
    s = weight * s + (1 - weight) * p.y;
    return { x: p.x, y: s / (1 - Math.pow(weight, k)) };
  });
}

export function fmtNum(x: number | null | undefined, digits = 4): string {
  return x === null || x === undefined || !Number.isFinite(x) ? '—' : x.toFixed(digits);
}

export function fmtSeconds(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '—';
  return ms < 60_000 ? `${(ms / 1000).toFixed(2)} s` : `${Math.floor(ms / 60000)} min ${Math.round((ms % 60000) / 1000)} s`;
}

/** Sort for the on-screen table (same rule as the export: missing values last). */
export function sortTable(rows: TableRow[], column: TableColumn, descending: boolean): TableRow[] {
  const key = (r: TableRow): number | string | null => {
    const v = r[column as keyof TableRow];
    return v === null || v === undefined || v === '' ? null : (v as number | string);
  };
  return rows.map((r, i) => ({ r, i })).sort((a, b) => {
    const ka = key(a.r), kb = key(b.r);
    if (ka === null && kb === null) return a.i - b.i;
    if (ka === null) return 1;
    if (kb === null) return -1;
    const c = typeof ka === 'number' && typeof kb === 'number' ? ka - kb : String(ka).localeCompare(String(kb));
    return (descending ? -c : c) || a.i - b.i;
  }).map((x) => x.r);
}

/** Row-normalised confusion matrix (each row sums to 1; empty rows stay 0). */
export function normaliseRows(m: number[][]): number[][] {
  return m.map((row) => {
    const s = row.reduce((a, b) => a + b, 0);
    return row.map((v) => (s > 0 ? v / s : 0));
  });
}
