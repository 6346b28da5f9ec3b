/** Text shapes of prediction results (inline decoration, copy text, CSV). No 'vscode'. */
import type { Prediction } from '../../protocol/run';
import { csvField } from '../../core/util/imageFolder';

/** 0.9134 → "0.91" (two decimals; values that round to 0/1 keep a hint they are not exact). */
export function formatP(p: number): string {
  if (!Number.isFinite(p)) return '?';
  if (p >= 0.995 && p < 1) return '>0.99';
  if (p > 0 && p < 0.005) return '<0.01';
  return p.toFixed(2);
}

/** Top-k "label p" pairs, highest first. */
export function topK(pred: Prediction, k = 3): { label: string; p: number }[] {
  return [...pred.probabilities].sort((a, b) => b.p - a.p).slice(0, k);
}

/**
 * Inline text after a selection: "sports 0.91 · cooking 0.06 · weather 0.03". The predicted label comes first even
 * when a recall threshold chose a class that is not the most probable ("cardiology 0.21 · respiratory 0.72 · …"),
 * and "uncertain" (abstained, no probability of its own) leads the top k.
 */
export function inlineText(pred: Prediction, k = 3): string {
  const own = pred.probabilities.find((x) => x.label === pred.label);
  const rest = topK({ ...pred, probabilities: pred.probabilities.filter((x) => x !== own) }, own ? k - 1 : k);
  return [own ? `${own.label} ${formatP(own.p)}` : pred.label, ...rest.map((x) => `${x.label} ${formatP(x.p)}`)].join(' · ');
}

/** The probability of the predicted label. */
function labelProbability(pred: Prediction): number {
  return pred.probabilities.find((x) => x.label === pred.label)?.p ?? topK(pred, 1)[0]?.p ?? NaN;
}

/** "label (p)", what the Copy button puts on the clipboard. */
export function copyText(pred: Prediction): string {
  return `${pred.label} (${formatP(labelProbability(pred))})`;
}

export { csvField };

export interface LineResult {
  /** 1-based line number. */
  line: number;
  text: string;
  prediction: Prediction;
}

/** CSV with header line,text,label,probability (probability of the predicted label). */
export function linesToCsv(rows: readonly LineResult[]): string {
  const out = ['line,text,label,probability'];
  for (const r of rows) out.push([r.line, r.text, r.prediction.label, labelProbability(r.prediction)].map(csvField).join(','));
  return out.join('\r\n') + '\r\n';
}

/** Shorten a text for messages: first line, at most `max` characters. */
export function preview(text: string, max = 40): string {
  const one = text.replace(/\s+/g, ' ').trim();
  return one.length > max ? one.slice(0, max - 1) + '…' : one;
}

/**
 * Past this column an inline prediction after the text would sit off screen in an editor of usual width
 * (lines do not wrap by default).
 */
export const INLINE_MAX_COLUMN = 100;

/** Where an inline prediction goes: after the text, or before it when the text ends off screen. */
export type InlinePlacement = { at: 'after' | 'before'; column: number };

/**
 * After the predicted text when it ends within `maxColumn` (or lines wrap); else before its start, or at the
 * line's start when even that is off screen. `start`/`end` are the text's start and end columns.
 */
export function inlinePlacement(start: number, end: number, maxColumn: number = INLINE_MAX_COLUMN): InlinePlacement {
  if (end <= maxColumn) return { at: 'after', column: end };
  return { at: 'before', column: start <= maxColumn ? start : 0 };
}

/** The decoration's text: "» sports 0.91 · …" after the text, "sports 0.91 · … »" before it. */
export function inlineDecorationText(inline: string, at: InlinePlacement['at']): string {
  return at === 'after' ? `» ${inline}` : `${inline} »`;
}
