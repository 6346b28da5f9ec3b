/**
 * Pure helpers for the issue-14 bench columns (scripts/bench/main.ts): the column names, the
 * character TF-IDF anchor's job for scripts/bench/sklearn_probe.py, the split handed to
 * python/bench/setfit_default.py, and the mean-gain lines of the report. No I/O here.
 */
import { mean } from './report';
import type { Item } from './corpora';

export const COL_DEFAULT = 'FSL default';
export const COL_SETFIT = 'FSL SetFit';
export const COL_SETFIT_LIB = 'setfit library default';
export const COL_TFIDF = 'LR char TF-IDF (anchor)';

/** Columns that are the product (any of them may be "the product's best method"). */
export const isProductColumn = (col: string) => col.startsWith('FSL ');

/** Report order: the product first, then the peer anchor, the trivial baseline, NC, LR, LR-CV. */
export function columnOrder(col: string): number {
  if (col === COL_DEFAULT) return 0;
  if (col.startsWith('FSL quick')) return 1;
  if (col.startsWith('FSL ')) return 2;
  if (col === COL_SETFIT_LIB) return 3;
  if (col === 'Majority') return 4;
  if (col.startsWith('NC')) return 5;
  if (col === COL_TFIDF) return 7;
  if (col.startsWith('LR-CV')) return 8;
  if (col.startsWith('LR')) return 6;
  return 9;
}

/**
 * Short column label of an encoder spec: 'combo:' dropped, the MiniLM spec (which may be a long
 * 'hf:<folder>' while the built-in 'minilm' spec is not there) shown as 'minilm'.
 */
export function encoderLabel(spec: string, minilmSpec?: string): string {
  let s = spec.replace(/^combo:/, '');
  if (minilmSpec && minilmSpec !== 'minilm') s = s.split('+').map((p) => (p === minilmSpec ? 'minilm' : p)).join('+');
  return s;
}

/** The anchor protocol of ../shared/ANCHORS.md: char_wb 1–3 TF-IDF fit on the training texts, then LR. */
export interface TfidfJob { id: string; kind: 'tfidf'; train_texts: string[]; test_texts: string[]; ytrain: number[]; ytest: number[]; nclasses: number }

/** The TF-IDF job of one split: texts as they are, labels as indices into the corpus's sorted labels. */
export function tfidfJob(id: string, train: Item[], test: Item[], labels: string[]): TfidfJob {
  const index = (it: Item) => {
    const y = labels.indexOf(it.label);
    if (y < 0) throw new Error(`label "${it.label}" is not one of the corpus labels`);
    return y;
  };
  return { id, kind: 'tfidf', train_texts: train.map((i) => i.text), test_texts: test.map((i) => i.text), ytrain: train.map(index), ytest: test.map(index), nclasses: labels.length };
}

/** The split python/bench/setfit_default.py reads. */
export function setfitSplit(model: string, train: Item[], test: Item[], labels: string[], maxSteps?: number) {
  const { train_texts, test_texts, ytrain, ytest, nclasses } = tfidfJob('setfit', train, test, labels);
  return { model, train: { texts: train_texts, labels: ytrain }, test: { texts: test_texts, labels: ytest }, nclasses, ...(maxSteps ? { maxSteps } : {}) };
}

/** One report row: its language and, per column, the scores over seeds. */
export interface RowScores { row: string; language: string; cols: Record<string, number[]> }

export interface Gain { mean: number; min: number; rows: number; below: number; perRow: { row: string; gain: number }[] }

/**
 * Mean over rows of a(row) − b(row), where each side is a column's mean over seeds (rows lacking
 * either side are skipped). `below` counts rows where the gain is under `threshold`.
 */
export function meanGain(rows: RowScores[], a: (r: RowScores) => number | undefined, b: (r: RowScores) => number | undefined, threshold = 0): Gain | undefined {
  const perRow: { row: string; gain: number }[] = [];
  for (const r of rows) {
    const x = a(r);
    const y = b(r);
    if (x !== undefined && y !== undefined) perRow.push({ row: r.row, gain: x - y });
  }
  if (!perRow.length) return undefined;
  const gains = perRow.map((p) => p.gain);
  return { mean: mean(gains), min: Math.min(...gains), rows: gains.length, below: gains.filter((g) => g < threshold).length, perRow };
}

/** A column's mean over seeds, undefined when absent or without scores. */
export const col = (name: string) => (r: RowScores) => (r.cols[name]?.length ? mean(r.cols[name]) : undefined);

/** The best product column of a row (highest mean), undefined when none has scores. */
export function productBest(r: RowScores): { col: string; mean: number } | undefined {
  let best: { col: string; mean: number } | undefined;
  for (const [c, s] of Object.entries(r.cols)) if (isProductColumn(c) && s.length && (!best || mean(s) > best.mean)) best = { col: c, mean: mean(s) };
  return best;
}

const pts = (x: number) => {
  const t = (x * 100).toFixed(1);
  return t === '-0.0' || !t.startsWith('-') ? `+${t.replace('-', '')}` : t;
};

function line(title: string, g: Gain | undefined, threshold: number, unit: string): string {
  if (!g) return `${title}: not measured in this run.`;
  return `${title}: ${pts(g.mean)} pts on average over ${g.rows} ${unit} (min ${pts(g.min)}; below ${pts(threshold)}: ${g.below} of ${g.rows}) — ${g.perRow.map((p) => `${p.row} ${pts(p.gain)}`).join(', ')}.`;
}

/**
 * The mean-gain lines issue 14 asks for:
 *  - English: the product's best column vs the setfit library's default (target ≥ +2 pts on average);
 *  - English: each quick column with the MiniLM encoder vs LR on the same embeddings (target > 0);
 *  - Chinese: the product default (and best) vs the character TF-IDF anchor (target: no row below).
 */
export function gainLines(rows: RowScores[], minilmLabels: string[] = ['minilm', 'minilm+hashing']): string[] {
  const en = rows.filter((r) => r.language === 'en');
  const zh = rows.filter((r) => r.language === 'zh');
  const out = [line('English, product best vs setfit library default (target ≥ +2.0)', meanGain(en, (r) => productBest(r)?.mean, col(COL_SETFIT_LIB), 0.02), 0.02, 'English rows')];
  for (const m of minilmLabels) out.push(line(`English, FSL quick ${m} vs LR ${m} (same embeddings; target > 0)`, meanGain(en, col(`FSL quick ${m}`), col(`LR ${m}`)), 0, 'English rows'));
  out.push(line('English, FSL default vs LR minilm', meanGain(en, col(COL_DEFAULT), col('LR minilm')), 0, 'English rows'));
  out.push(line('Chinese, FSL default vs LR char TF-IDF anchor (target: none below)', meanGain(zh, col(COL_DEFAULT), col(COL_TFIDF)), 0, 'Chinese rows'));
  out.push(line('Chinese, product best vs LR char TF-IDF anchor', meanGain(zh, (r) => productBest(r)?.mean, col(COL_TFIDF)), 0, 'Chinese rows'));
  return out;
}
