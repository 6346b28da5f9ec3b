/**
 * Pure helpers of the dashboard webview (no DOM; unit-tested): how the confusion matrix and the
 * per-class recall legend fit many classes, and how a misclassified sample's probability reads.
 */

/** Up to this many classes the recall chart lists every class in its legend; beyond, only the lowest one. */
export const LEGEND_MAX_CLASSES = 8;

/** Which recall series the legend names: all of them for a few classes, else only the lowest (the tooltip lists all). */
export function recallLegendLabels(classes: readonly string[], lowest: string | undefined): string[] {
  if (classes.length <= LEGEND_MAX_CLASSES) return classes.slice();
  return lowest !== undefined && classes.includes(lowest) ? [lowest] : [];
}

export interface ConfusionLayout {
  /** Width and height of one cell, px. */
  cell: number;
  cellHeight: number;
  /** Widest row header (true label), px: longer labels are cut with an ellipsis (full text in the tooltip). */
  rowHeader: number;
  /** Column headers (predicted labels) written vertically, so their length does not widen the columns. */
  rotate: boolean;
  /** The matrix takes a whole row of the report grid. */
  wide: boolean;
  /** Smaller digits in small cells. */
  compact: boolean;
}

const MAX_CELL = 44;
const MIN_CELL = 22;

/**
 * Cell sizes so that the row headers and `n` columns fit `width` px without scrolling sideways
 * (down to 22 px cells; only beyond that, with dozens of classes, does the matrix scroll).
 */
export function confusionLayout(n: number, width: number): ConfusionLayout {
  const wide = n > 6;
  const rowHeader = Math.max(60, Math.min(120, Math.floor(width * 0.2)));
  const spare = Math.max(0, width - rowHeader - 24);
  const cell = Math.max(MIN_CELL, Math.min(MAX_CELL, Math.floor(spare / Math.max(1, n)) - 2));
  return { cell, cellHeight: Math.min(34, Math.max(MIN_CELL, cell)), rowHeader, rotate: n > 4, wide, compact: cell < 32 };
}

/** The number beside a misclassified sample, labelled: the probability the model gave the class it predicted. */
export function probabilityText(p: number | undefined): string | undefined {
  return p === undefined || !Number.isFinite(p) ? undefined : `p = ${p.toFixed(2)}`;
}

/** "Showing 1–200 of 4,812": the first and last row of a page (1-based) and the filtered total, or undefined for none. */
export function pageRange(offset: number, shown: number, matched: number): { from: number; to: number; of: number } | undefined {
  return matched > 0 && shown > 0 ? { from: offset + 1, to: offset + shown, of: matched } : undefined;
}

/** Header click: a new column sorts ascending, the same column flips its direction. */
export function nextSort<C extends string>(current: { sort?: C; descending?: boolean }, column: C): { sort: C; descending: boolean } {
  return current.sort === column ? { sort: column, descending: !current.descending } : { sort: column, descending: false };
}

/** A saved probability or margin as shown (4 decimals), '—' when the run saved none. */
export function numberText(v: number | null | undefined): string {
  return v === null || v === undefined || !Number.isFinite(v) ? '—' : v.toFixed(4);
}
