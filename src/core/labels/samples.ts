/**
 * The per-sample table of a run (the dashboard's table and `fewshot report --samples`), pure logic (no vscode, no DOM;
 * unit-tested in test/unit/dashboard-samples.test.ts):
 * rows from a run's test predictions and out-of-fold training predictions, the suspect flag (confident learning on the
 * run's own out-of-fold probabilities, so the table needs nothing but the run folder), filtering, sorting, paging and
 * CSV. Every number is a saved one: probability = the saved probability of the predicted class, margin = the largest
 * minus the second-largest saved probability.
 */
import * as path from 'node:path';
import { findLabelIssues } from './audit';
import type { TrainPrediction } from '../../protocol/labels';
import type { TestPrediction } from '../../protocol/run';
import {
  SAMPLE_PAGE_SIZE, SAMPLE_TEXT_CHARS,
  type SampleColumn, type SampleQuery, type SampleRow, type SampleSplit, type SampleTablePage,
} from '../../protocol/webview';

/** One row with everything the export needs: the protocol's row with the full text, file and line. */
export interface SampleRecord extends Omit<SampleRow, 'text' | 'truncated' | 'where'> {
  text: string;
  file?: string;
  line?: number;
}

/** Probability of the predicted class and margin (top − second) of a saved probability map. */
export function confidenceOf(probabilities: Record<string, number> | undefined, predicted: string): { probability: number | null; margin: number | null } {
  const values = Object.values(probabilities ?? {}).filter((v) => typeof v === 'number' && Number.isFinite(v)).sort((a, b) => b - a);
  const p = probabilities?.[predicted];
  return {
    probability: typeof p === 'number' && Number.isFinite(p) ? p : null,
    margin: values.length === 0 ? null : values.length === 1 ? values[0] : values[0] - values[1],
  };
}

/**
 * Training examples flagged by confident learning (findLabelIssues) on the out-of-fold probabilities, keyed by
 * their position in `oof`. `labels`: the run's classes in order (else the classes the rows name, sorted).
 */
export function suspectsOf(oof: readonly TrainPrediction[], labels?: readonly string[]): Map<number, { suggested: string; pSuggested: number }> {
  const classes = labels?.length ? [...labels] : [...new Set(oof.flatMap((r) => [r.label, ...Object.keys(r.probabilities ?? {})]))].sort();
  const at = new Map(classes.map((l, i) => [l, i] as const));
  const keep = oof.map((r, i) => (at.has(r.label) && r.probabilities ? i : -1)).filter((i) => i >= 0);
  const probs = keep.map((i) => classes.map((l) => oof[i].probabilities[l] ?? 0));
  const out = new Map<number, { suggested: string; pSuggested: number }>();
  for (const f of findLabelIssues(probs, keep.map((i) => at.get(oof[i].label)!), classes.length)) {
    out.set(keep[f.index], { suggested: classes[f.suggested], pSuggested: f.pSuggested });
  }
  return out;
}

/** Test rows first, then training rows, each in file order (the ids follow this order). */
export function buildRows(test: readonly TestPrediction[], oof: readonly TrainPrediction[], labels?: readonly string[]): SampleRecord[] {
  const suspects = suspectsOf(oof, labels);
  const rows: SampleRecord[] = [];
  const add = (split: SampleSplit, p: TestPrediction | TrainPrediction, suspect?: { suggested: string; pSuggested: number }) => {
    rows.push({
      id: rows.length, split, index: p.index, text: p.text ?? '', gold: p.label, predicted: p.predicted,
      ...confidenceOf(p.probabilities, p.predicted),
      suspect: !!suspect, ...(suspect ? { suggested: suspect.suggested, pSuggested: suspect.pSuggested } : {}),
      ...(p.file ? { file: p.file } : {}), ...(p.line !== undefined ? { line: p.line } : {}),
    });
  };
  for (const p of test) add('test', p);
  oof.forEach((p, i) => add('train', p, suspects.get(i)));
  return rows;
}

const collator = new Intl.Collator(undefined, { sensitivity: 'base', numeric: true });

function compareBy(column: SampleColumn): (a: SampleRecord, b: SampleRecord) => number {
  switch (column) {
    case 'split': return (a, b) => (a.split === b.split ? 0 : a.split === 'test' ? -1 : 1);
    case 'text': return (a, b) => (a.text < b.text ? -1 : a.text > b.text ? 1 : 0);
    case 'gold': return (a, b) => collator.compare(a.gold, b.gold);
    case 'predicted': return (a, b) => collator.compare(a.predicted, b.predicted);
    case 'suspect': return (a, b) => Number(a.suspect) - Number(b.suspect);
    case 'probability': case 'margin': return (a, b) => (a[column] as number) - (b[column] as number);
  }
}

/** Sorted copy; ties keep file order (id) in both directions; rows without a number sort last in both directions. */
export function sortRows(rows: readonly SampleRecord[], column: SampleColumn | undefined, descending = false): SampleRecord[] {
  if (!column) return rows.slice().sort((a, b) => a.id - b.id);
  if (column === 'text') {
    // Long texts: one lower-cased key per row and a code-point comparison (a collator takes seconds on 100,000 notes).
    const keyed = rows.map((r) => ({ r, k: r.text.toLowerCase() }));
    const d = descending ? -1 : 1;
    return keyed.sort((a, b) => d * (a.k < b.k ? -1 : a.k > b.k ? 1 : 0) || a.r.id - b.r.id).map((x) => x.r);
  }
  const cmp = compareBy(column);
  const numeric = column === 'probability' || column === 'margin';
  const dir = descending ? -1 : 1;
  return rows.slice().sort((a, b) => {
    if (numeric) {
      const na = a[column] === null, nb = b[column] === null;
      if (na || nb) return na && nb ? a.id - b.id : na ? 1 : -1;
    }
    return dir * cmp(a, b) || a.id - b.id;
  });
}

/** Whether a row passes the query's filter (text box over text, gold and predicted; errors, suspects, split). */
export function matches(r: SampleRecord, q: SampleQuery, needle = (q.text ?? '').trim().toLowerCase()): boolean {
  if (q.split && q.split !== 'all' && r.split !== q.split) return false;
  if (q.errorsOnly && r.gold === r.predicted) return false;
  if (q.suspectsOnly && !r.suspect) return false;
  return !needle || r.text.toLowerCase().includes(needle) || r.gold.toLowerCase().includes(needle) || r.predicted.toLowerCase().includes(needle);
}

/** "notes.txt" or "notes.csv:12". */
export function whereOf(r: Pick<SampleRecord, 'file' | 'line'>): string | undefined {
  return r.file ? `${path.basename(r.file)}${r.line !== undefined ? `:${r.line}` : ''}` : undefined;
}

export function toSampleRow(r: SampleRecord): SampleRow {
  const truncated = r.text.length > SAMPLE_TEXT_CHARS;
  const where = whereOf(r);
  return {
    id: r.id, split: r.split, index: r.index, text: truncated ? r.text.slice(0, SAMPLE_TEXT_CHARS) : r.text, ...(truncated ? { truncated } : {}),
    gold: r.gold, predicted: r.predicted, probability: r.probability, margin: r.margin, suspect: r.suspect,
    ...(r.suggested !== undefined ? { suggested: r.suggested, pSuggested: r.pSuggested } : {}), ...(where ? { where } : {}),
  };
}

/** A run's rows with the sorted orders it has been asked for (sorting 100,000 rows once per column and direction). */
export class SampleTable {
  readonly rows: SampleRecord[];
  readonly test: number;
  readonly train: number;
  readonly suspects: number;
  private readonly sorted = new Map<string, SampleRecord[]>();
  private readonly lower: string[];

  constructor(test: readonly TestPrediction[], oof: readonly TrainPrediction[], labels?: readonly string[], readonly error?: string) {
    this.rows = buildRows(test, oof, labels);
    this.test = test.length;
    this.train = oof.length;
    this.suspects = this.rows.filter((r) => r.suspect).length;
    this.lower = this.rows.map((r) => `${r.text}\n${r.gold}\n${r.predicted}`.toLowerCase());
  }

  /** Every row that passes the filter, in the query's order. */
  filtered(q: SampleQuery): SampleRecord[] {
    const key = `${q.sort ?? ''}:${q.descending ? 'd' : 'a'}`;
    let order = this.sorted.get(key);
    if (!order) this.sorted.set(key, (order = sortRows(this.rows, q.sort, q.descending)));
    const needle = (q.text ?? '').trim().toLowerCase();
    const plain: SampleQuery = { ...q, text: '' };
    return order.filter((r) => matches(r, plain) && (!needle || this.lower[r.id].includes(needle)));
  }

  /** One page (offset clamped to the filtered rows). */
  page(q: SampleQuery): SampleTablePage {
    const all = this.filtered(q);
    const limit = Math.max(1, Math.min(1000, Math.floor(q.limit ?? SAMPLE_PAGE_SIZE)));
    const last = all.length ? Math.floor((all.length - 1) / limit) * limit : 0;
    const offset = Math.max(0, Math.min(last, Math.floor(q.offset ?? 0)));
    return {
      rows: all.slice(offset, offset + limit).map(toSampleRow), offset, matched: all.length,
      test: this.test, train: this.train, suspects: this.suspects, noOof: this.train === 0, ...(this.error ? { error: this.error } : {}),
    };
  }

  byId(id: number): SampleRecord | undefined {
    return Number.isInteger(id) ? this.rows[id] : undefined;
  }
}

/** One CSV field (RFC 4180): quoted when it holds a comma, quote, line break or edge whitespace; quotes doubled. */
export function csvField(v: string | number | boolean | null | undefined): string {
  const s = v === null || v === undefined ? '' : String(v);
  return /[",\r\n]|^\s|\s$/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export const CSV_COLUMNS = ['split', 'index', 'text', 'gold', 'predicted', 'probability', 'margin', 'suspect', 'suggested', 'file', 'line'] as const;

/**
 * The rows as CSV (CRLF line ends): the table's columns with the full text, the suspect's suggested class and the
 * file and line. Split 'train' = an out-of-fold training prediction. Numbers as saved (full precision).
 */
export function samplesToCsv(rows: readonly SampleRecord[]): string {
  const lines = [CSV_COLUMNS.join(',')];
  for (const r of rows) {
    lines.push([r.split, r.index, r.text, r.gold, r.predicted, r.probability, r.margin, r.suspect ? 'yes' : 'no', r.suggested, r.file, r.line].map(csvField).join(','));
  }
  return lines.join('\r\n') + '\r\n';
}
