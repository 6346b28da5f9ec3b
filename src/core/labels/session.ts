/**
 * Label tools over a dataset (CLI `fewshot audit` / `fewshot suggest`, the extension's Check Labels and Suggest What to
 * Label Next): load → embed (through the embedding cache) → the few-shot head's out-of-fold probabilities → audit or
 * ranking. Also the audit of a finished run from its saved out-of-fold predictions (oof.jsonl).
 */
import * as path from 'node:path';
import { LABELS_FORMAT_VERSION, type AuditResult, type SuggestResult } from '../../protocol/labels';
import { loadDataset } from '../datasets';
import type { Dataset, LoadOptions, Sample } from '../datasets';
import { createEncoder, withEmbeddingCache, type EncoderOptions } from '../encoders';
import { FewShotError } from '../errors';
import { fitFewShot, type Row } from '../fewshot';
import { auditPredictions } from './runAudit';
import { LabelStore, textHash } from './reviewed';
import { rankUnlabelled } from './suggest';

export const SUGGEST_METHOD = 'k-means groups of the unlabelled texts (embeddings); per group the text with the highest (1 − margin) × typicality × distance to the labelled texts';

export interface LabelSessionOptions extends LoadOptions {
  /** The workspace store (`<workspace>/.fewshot`): embedding cache and label files. */
  storeDir: string;
  /** Encoder spec (default 'auto'). */
  encoder?: string;
  hf?: EncoderOptions['hf'];
  signal?: AbortSignal;
  onProgress?(message: string, done?: number, total?: number): void;
}

export interface LabelSession {
  dataset: Dataset;
  encoderId: string;
  xTrain: Row[];
  yTrain: number[];
  /** Rows of dataset.unlabeled (same order). */
  xUnlabeled: Row[];
  /** Out-of-fold probabilities of every training example (null: a class has fewer than 2 examples). */
  oof: number[][] | null;
  oofDescription: string | null;
  /** Probabilities of the unlabelled texts under the head fitted on all training texts. */
  unlabeledProba: number[][];
}

/**
 * Loads, embeds and fits: everything audit and suggest need. `check` refuses the loaded dataset before anything is
 * embedded (bad input fails at once, and the dataset is read once).
 */
export async function openLabelSession(datasetPath: string, o: LabelSessionOptions, check: (d: Dataset) => void = checkLabels): Promise<LabelSession> {
  const dataset = await loadDataset(datasetPath, o);
  check(dataset);
  o.onProgress?.(`Loaded ${dataset.root}: ${dataset.train.length} training and ${dataset.unlabeled?.length ?? 0} unlabelled texts`);
  const labels = dataset.labels;
  const unlabeled: Sample[] = dataset.unlabeled ?? [];
  const { encoder, info } = await createEncoder(o.encoder ?? 'auto', { hf: o.hf, language: dataset.language });
  const cached = withEmbeddingCache(encoder, path.join(o.storeDir, 'cache', 'embeddings'));
  try {
    const texts = [...dataset.train.map((s) => s.text), ...unlabeled.map((s) => s.text)];
    o.onProgress?.(`Embedding ${texts.length} texts with ${info.id}`, 0, texts.length);
    const rows: Row[] = await cached.embed(texts, (done, total) => {
      if (o.signal?.aborted) throw Object.assign(new Error('cancelled'), { name: 'AbortError' });
      o.onProgress?.(`Embedding ${texts.length} texts with ${info.id}`, done, total);
    });
    const xTrain = rows.slice(0, dataset.train.length);
    const xUnlabeled = rows.slice(dataset.train.length);
    const index = new Map(labels.map((l, i) => [l, i] as const));
    const yTrain = dataset.train.map((s) => index.get(s.label)!);
    o.onProgress?.('Fitting the few-shot head (out-of-fold probabilities)');
    const fit = await fitFewShot(xTrain, yTrain, { labels, encoderId: info.id, signal: o.signal });
    return {
      dataset, encoderId: info.id, xTrain, yTrain, xUnlabeled, oof: fit.oofProba, oofDescription: fit.oofDescription,
      unlabeledProba: xUnlabeled.length ? fit.predict(xUnlabeled) : [],
    };
  } finally {
    try { cached.dispose?.(); } catch { /* ignore */ }
  }
}

function probsRecord(p: ArrayLike<number>, labels: readonly string[]): Record<string, number> {
  const r: Record<string, number> = {};
  labels.forEach((l, i) => { r[l] = p[i]; });
  return r;
}

/** Refuses a dataset with fewer than 2 labels (every label tool needs a classifier). */
function checkLabels(dataset: Dataset): void {
  if (dataset.labels.length < 2) {
    throw new FewShotError(`The dataset ${dataset.root} has ${dataset.labels.length} label(s); checking labels needs at least 2.`, {
      file: dataset.root, code: 'too-few-labels', fix: 'Add examples of at least two labels (one folder per label, or a label column).',
    });
  }
}

/**
 * Refuses a dataset whose training split cannot give out-of-fold probabilities: fewer than 2 labels, or a class
 * with fewer than 2 training examples (named, with how many to add).
 */
export function checkAuditable(dataset: Dataset): void {
  checkLabels(dataset);
  const small = dataset.labels
    .map((label) => ({ label, n: dataset.train.filter((x) => x.label === label).length }))
    .filter((c) => c.n < 2);
  if (small.length) {
    const list = small.map((c) => `"${c.label}" has ${c.n}`).join(', ');
    throw new FewShotError(`${dataset.root}: ${list} training example${small.length === 1 && small[0].n === 1 ? '' : 's'}; checking labels needs out-of-fold probabilities, so at least 2 training examples per class.`, {
      file: dataset.root, code: 'too-few-per-class',
      fix: small.map((c) => `add ${2 - c.n} training example${2 - c.n === 1 ? '' : 's'} of "${c.label}"`).join('; ').replace(/^a/, 'A') + '.',
    });
  }
}

/** `fewshot audit`: likely label errors of a dataset's training split; saved as the dataset's last audit. */
export async function auditDataset(datasetPath: string, o: LabelSessionOptions): Promise<AuditResult> {
  const s = await openLabelSession(datasetPath, o, checkAuditable);
  if (!s.oof) {
    throw new FewShotError(`${s.dataset.root}: the few-shot head computed no out-of-fold probabilities for its ${s.dataset.train.length} training texts (it cross-validates up to 5000 texts, and above 1000 only with a sparse n-gram encoder).`, {
      file: s.dataset.root, code: 'no-oof', fix: 'Check the labels of a sample of at most 1000 texts, or use an encoder with n-gram hashing (e.g. --encoder combo:use+hashing).',
    });
  }
  const result = await auditPredictions(s.dataset.train.map((x, index) => ({ ...x, index })), s.oof, s.dataset.labels, {
    dataset: s.dataset.root, fingerprint: s.dataset.fingerprint, encoder: s.encoderId, probabilities: s.oofDescription ?? '', storeDir: o.storeDir,
  });
  await new LabelStore(o.storeDir).writeAudit(result);
  return result;
}

/** `fewshot suggest`: the unlabelled texts to label next. */
export async function suggestForDataset(datasetPath: string, n: number, o: LabelSessionOptions): Promise<SuggestResult> {
  if (!Number.isInteger(n) || n < 1) throw new FewShotError(`The number of suggestions must be a whole number of at least 1 (got ${n}).`, { code: 'bad-count', fix: 'Ask for 1 or more suggestions (e.g. --n 20).' });
  // no unlabelled texts: refused before anything is embedded or fitted
  const s = await openLabelSession(datasetPath, o, (d) => {
    checkLabels(d);
    if (d.unlabeled?.length) return;
    throw new FewShotError(`${d.root} has no unlabelled texts to suggest from.`, {
      file: d.root, code: 'no-unlabeled',
      fix: d.format === 'folders'
        ? `Put unlabelled texts (.txt or .md files) in ${path.join(d.root, 'unlabeled')}/ (next to the class folders, or next to train/ and test/).`
        : `Add rows with a text and an empty label cell to ${d.root}.`,
    });
  });
  const unlabeled = s.dataset.unlabeled ?? [];
  const ranked = rankUnlabelled(s.unlabeledProba, s.xUnlabeled, s.xTrain, n, { encoderId: s.encoderId });
  const labels = s.dataset.labels;
  return {
    formatVersion: LABELS_FORMAT_VERSION, dataset: s.dataset.root, fingerprint: s.dataset.fingerprint, createdAt: new Date().toISOString(),
    encoder: s.encoderId, unlabeled: unlabeled.length, method: SUGGEST_METHOD,
    suggestions: ranked.map((r) => {
      const u = unlabeled[r.index];
      const p = s.unlabeledProba[r.index];
      let top = 0;
      p.forEach((v, i) => { if (v > p[top]) top = i; });
      return {
        index: r.index, file: u.file, ...(u.line !== undefined ? { line: u.line } : {}), text: u.text, textHash: textHash(u.text),
        predicted: labels[top], probabilities: probsRecord(p, labels), margin: r.margin, rank: r.rank,
        reason: `uncertain (margin ${r.margin.toFixed(2)}), typical of a group of ${r.groupSize ?? 1} similar unlabelled texts (cosine distance ${r.distance.toFixed(2)} from its centre) and unlike the labelled ones`,
      };
    }),
  };
}
