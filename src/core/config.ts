/**
 * Training configuration: defaults, merging and validation.
 *
 * Pure and synchronous; no ML imports (the extension host and the CLI use it to
 * validate settings before a trainer child is started).
 */
import * as path from 'node:path';
import { FewShotError } from './errors';
import * as fs from 'node:fs';
import { ALGORITHM_SETTINGS, HEAD_SETTINGS, type HeadKind, type TrainConfig } from '../protocol/run';
import { encoderSpecProblem } from './encoders/spec';
import { imageModel } from './images/models';

export type { TrainConfig };

export const HEAD_KINDS: readonly HeadKind[] = ['logreg', 'mlp', 'centroid'];
export const BACKENDS: readonly string[] = ['auto', 'tensorflow', 'webgpu', 'wasm', 'cpu'];

/** Defaults for every field but `dataset`. */
/** Whether an encoder spec names one of the image encoders under models/ (specs only: nothing is loaded). */
export function isImageEncoderSpec(spec: string): boolean {
  return !!imageModel(spec);
}

export const DEFAULT_CONFIG: Readonly<Omit<TrainConfig, 'dataset'>> = Object.freeze({
  encoder: 'auto',
  head: 'auto',
  epochs: 60,
  learningRate: 0.01,
  batchSize: 32,
  seed: 42,
  augment: 0,
  passages: true,
  classNames: true,
  classWeighting: true,
  patience: 10,
  validationFraction: 0.2,
  backend: 'auto',
});

export type FinetuneConfig = NonNullable<TrainConfig['finetune']>;

/** Defaults of method 'finetune' (the seed's Trainer script): used where the user gave no value. */
export const FINETUNE_DEFAULTS: Readonly<Pick<TrainConfig, 'epochs' | 'learningRate' | 'batchSize' | 'patience'> & Omit<FinetuneConfig, 'model'>> = Object.freeze({
  epochs: 20,
  learningRate: 2e-5,
  batchSize: 8,
  patience: 5,
  unfreezeTop: 3,
  fullFinetuneAbove: 500,
  headEpochs: 3,
  precision: 'auto',
  device: 'auto',
  weightDecay: 0.01,
  warmupRatio: 0.1,
  maxLength: 128,
});

export const PRECISIONS: readonly FinetuneConfig['precision'][] = ['auto', 'fp16', 'bf16', 'off'];
export const DEVICES: readonly FinetuneConfig['device'][] = ['auto', 'cuda', 'mps', 'cpu'];

/** A model reference that names a folder (not a hub id like "bert-base-chinese" or "org/name"). */
export function isModelFolderRef(ref: string, cwd = process.cwd()): boolean {
  if (/^(\.{1,2}[\\/]|[\\/]|~[\\/]?|[A-Za-z]:[\\/])/.test(ref)) return true;
  return fs.existsSync(path.resolve(cwd, ref));
}

/**
 * With `head: 'auto'`, datasets whose smallest class has fewer training
 * examples than this get a nearest-centroid head (nothing to fit reliably);
 * everything else gets logistic regression.
 */
export const AUTO_CENTROID_BELOW = 4;

/** Resolve `head: 'auto'` from the per-class training counts. */
export function resolveHead(head: TrainConfig['head'], trainCounts: Record<string, number> | number[]): { head: HeadKind; reason: string } {
  if (head !== 'auto') return { head, reason: `head ${head} (requested)` };
  const counts = Array.isArray(trainCounts) ? trainCounts : Object.values(trainCounts);
  const min = counts.length ? Math.min(...counts) : 0;
  if (min < AUTO_CENTROID_BELOW) {
    return { head: 'centroid', reason: `auto: smallest class has ${min} training example(s) (< ${AUTO_CENTROID_BELOW}) → centroid` };
  }
  return { head: 'logreg', reason: `auto: smallest class has ${min} training examples → logistic regression` };
}


/** Settings every head uses (HEAD_SETTINGS lists the rest per head). */
const SHARED_SETTINGS: readonly (keyof TrainConfig)[] = ['dataset', 'encoder', 'head', 'seed', 'textColumn', 'labelColumn', 'method'];
/** Settings every method 'finetune' run uses besides ALGORITHM_SETTINGS['finetune-transformer']. */
const FINETUNE_SHARED: readonly (keyof TrainConfig)[] = ['dataset', 'seed', 'textColumn', 'labelColumn', 'method'];

/**
 * The settings in `given` (set explicitly, not undefined) that `head` does not use, in TrainConfig
 * order: e.g. `epochs` for head auto, whose few-shot recipe has no epochs. Empty for an unknown head.
 * With method 'finetune' (given.method) the fine-tuning settings are the used ones (`head`,
 * `encoder`, `augment`… are not); with method 'quick', `finetune` is unused.
 */
export function unusedSettings(head: TrainConfig['head'], given: Partial<TrainConfig>): (keyof TrainConfig)[] {
  const keys = (Object.keys(given) as (keyof TrainConfig)[]).filter((k) => given[k] !== undefined);
  if (given.method === 'finetune' || given.method === 'setfit') {
    const used = ALGORITHM_SETTINGS[given.method === 'setfit' ? 'setfit-contrastive' : 'finetune-transformer'];
    return keys.filter((k) => !FINETUNE_SHARED.includes(k) && !used.includes(k));
  }
  const used = HEAD_SETTINGS[head];
  if (!used) return keys.filter((k) => k === 'finetune');
  return keys.filter((k) => !SHARED_SETTINGS.includes(k) && !used.includes(k));
}

/**
 * Merge `partial` over DEFAULT_CONFIG and validate. `dataset` is made absolute
 * (relative to `cwd`). Throws FewShotError naming the bad field and the fix.
 * `source` names where the settings came from (a settings file, 'command line').
 */
export function resolveConfig(partial: Partial<TrainConfig> & { dataset: string }, opts: { cwd?: string; source?: string } = {}): TrainConfig {
  const given = dropUndefined(partial);
  const finetune = given.method === 'finetune';
  const merged: TrainConfig = {
    ...DEFAULT_CONFIG,
    ...(finetune ? { epochs: FINETUNE_DEFAULTS.epochs, learningRate: FINETUNE_DEFAULTS.learningRate, batchSize: FINETUNE_DEFAULTS.batchSize, patience: FINETUNE_DEFAULTS.patience } : {}),
    ...given,
  } as TrainConfig;
  if (typeof merged.dataset === 'string' && merged.dataset && !path.isAbsolute(merged.dataset)) {
    merged.dataset = path.resolve(opts.cwd ?? process.cwd(), merged.dataset);
  }
  if (finetune) {
    const { epochs: _e, learningRate: _l, batchSize: _b, patience: _p, ...ftDefaults } = FINETUNE_DEFAULTS;
    const ft = { ...ftDefaults, ...dropUndefined(given.finetune ?? {}) } as FinetuneConfig;
    if (typeof ft.model === 'string' && ft.model && isModelFolderRef(ft.model, opts.cwd)) {
      ft.model = path.resolve(opts.cwd ?? process.cwd(), ft.model.replace(/^~(?=$|[\\/])/, process.env.HOME ?? '~'));
    }
    merged.finetune = ft;
  }
  if (given.method === 'setfit') {
    // no model = the default body (resolved by the fit stage: src/core/finetune/setfit.ts resolveSetFitBody)
    const sf = { ...dropUndefined(given.setfit ?? {}) } as NonNullable<TrainConfig['setfit']>;
    if (typeof sf.model === 'string' && sf.model && isModelFolderRef(sf.model, opts.cwd)) {
      sf.model = path.resolve(opts.cwd ?? process.cwd(), sf.model.replace(/^~(?=$|[\\/])/, process.env.HOME ?? '~'));
    }
    merged.setfit = sf;
  }
  validateConfig(merged, opts.source);
  return merged;
}

function dropUndefined<T extends object>(o: T): Partial<T> {
  const out: Partial<T> = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined) (out as Record<string, unknown>)[k] = v;
  return out;
}

/** Every problem with a config, as messages (empty = valid). */
export function configProblems(c: Partial<TrainConfig>): { field: string; message: string; fix: string }[] {
  const p: { field: string; message: string; fix: string }[] = [];
  const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v);
  const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
  if (typeof c.dataset !== 'string' || !c.dataset.trim()) {
    p.push({ field: 'dataset', message: 'no dataset given', fix: 'Pass the dataset folder or CSV/TSV/JSONL file to train on.' });
  }
  // The same parser createEncoder uses (specs and resolved ids); it loads nothing.
  const encoderProblem = typeof c.encoder === 'string' && imageModel(c.encoder) ? null : encoderSpecProblem(c.encoder);
  if (encoderProblem) {
    p.push({ field: 'encoder', message: encoderProblem.message, fix: encoderProblem.fix });
  }
  if (c.head !== 'auto' && !HEAD_KINDS.includes(c.head as HeadKind)) {
    p.push({ field: 'head', message: `head "${String(c.head)}" is not a known head`, fix: "Use 'auto', 'logreg', 'mlp' or 'centroid'." });
  }
  if (!isInt(c.epochs) || c.epochs < 1 || c.epochs > 1000) {
    p.push({ field: 'epochs', message: `epochs must be a whole number from 1 to 1000 (got ${String(c.epochs)})`, fix: 'Set epochs to e.g. 60.' });
  }
  if (!isNum(c.learningRate) || c.learningRate <= 0 || c.learningRate > 10) {
    p.push({ field: 'learningRate', message: `learning rate must be a number above 0 and at most 10 (got ${String(c.learningRate)})`, fix: 'Set the learning rate to e.g. 0.01.' });
  }
  if (!isInt(c.batchSize) || c.batchSize < 1 || c.batchSize > 65536) {
    p.push({ field: 'batchSize', message: `batch size must be a whole number from 1 to 65536 (got ${String(c.batchSize)})`, fix: 'Set the batch size to e.g. 32.' });
  }
  if (!isInt(c.seed) || c.seed < 0 || c.seed > 0xffffffff) {
    p.push({ field: 'seed', message: `seed must be a whole number from 0 to 4294967295 (got ${String(c.seed)})`, fix: 'Set the seed to e.g. 42.' });
  }
  if (!isInt(c.augment) || c.augment < 0 || c.augment > 10) {
    p.push({ field: 'augment', message: `augment must be a whole number from 0 to 10 (got ${String(c.augment)})`, fix: 'Set augment to 0 (off) or the number of variants per training text.' });
  }
  for (const f of ['passages', 'classNames'] as const) {
    if (c[f] !== undefined && typeof c[f] !== 'boolean') {
      p.push({ field: f, message: `${f} must be true or false (got ${String(c[f])})`, fix: `Set ${f} to true (default) or false.` });
    }
  }
  if (c.augmentFlip !== undefined && typeof c.augmentFlip !== 'boolean') {
    p.push({ field: 'augmentFlip', message: `augmentFlip must be true or false (got ${String(c.augmentFlip)})`, fix: 'Set augmentFlip to false (default) or true.' });
  }
  if (typeof c.classWeighting !== 'boolean') {
    p.push({ field: 'classWeighting', message: `classWeighting must be true or false (got ${String(c.classWeighting)})`, fix: 'Set classWeighting to true or false.' });
  }
  if (!isInt(c.patience) || c.patience < 0) {
    p.push({ field: 'patience', message: `patience must be a whole number ≥ 0 (got ${String(c.patience)})`, fix: 'Set patience to e.g. 10, or 0 to turn early stopping off.' });
  }
  if (!isNum(c.validationFraction) || c.validationFraction < 0 || c.validationFraction >= 0.9) {
    p.push({ field: 'validationFraction', message: `validationFraction must be from 0 to below 0.9 (got ${String(c.validationFraction)})`, fix: 'Set validationFraction to e.g. 0.2 (0 = no validation hold-out).' });
  }
  if (typeof c.backend !== 'string' || !BACKENDS.includes(c.backend)) {
    p.push({ field: 'backend', message: `backend "${String(c.backend)}" is not known`, fix: `Use one of: ${BACKENDS.join(', ')}.` });
  }
  if (c.maxChars !== undefined && (!isInt(c.maxChars) || c.maxChars < 16)) {
    p.push({ field: 'maxChars', message: `maxChars must be a whole number ≥ 16 (got ${String(c.maxChars)})`, fix: 'Remove maxChars or set it to e.g. 2000.' });
  }
  if (c.refit !== undefined && typeof c.refit !== 'boolean') {
    p.push({ field: 'refit', message: `refit must be true or false (got ${String(c.refit)})`, fix: 'Set refit to true (default) or false.' });
  }
  for (const f of ['textColumn', 'labelColumn'] as const) {
    if (c[f] !== undefined && (typeof c[f] !== 'string' || !c[f]!.trim())) {
      p.push({ field: f, message: `${f} must be a non-empty column name`, fix: `Remove ${f} to detect the column, or give its name.` });
    }
  }
  if (c.method !== undefined && c.method !== 'quick' && c.method !== 'finetune' && c.method !== 'setfit') {
    p.push({ field: 'method', message: `method "${String(c.method)}" is not known`, fix: "Use 'quick' (frozen encoder + head), 'finetune' (fine-tune a transformer) or 'setfit' (contrastive fine-tuning of a sentence-transformer body + the quick head)." });
  }
  if (c.method === 'finetune') p.push(...finetuneProblems(c));
  if (c.method === 'setfit') p.push(...setfitProblems(c));
  p.push(...recallProblems(c));
  return p;
}

/**
 * Why recall targets cannot be met with this head or method (they need honest out-of-fold probabilities of the
 * training split, which only the few-shot head of the quick method computes: head auto), or undefined.
 */
export function minRecallHeadProblem(c: Partial<TrainConfig>): string | undefined {
  if (!c.minRecall || !Object.keys(c.minRecall).length) return undefined;
  if (c.method === 'finetune') return 'minimum recall targets need out-of-fold probabilities of the training split, which fine-tuning does not compute (it selects epochs on a hold-out)';
  if (c.method === 'setfit') return 'minimum recall targets need out-of-fold probabilities of the training split that no model saw, and after SetFit the body has seen every training text (thresholds chosen on them would be too high and miss the targets on new texts)';
  if (c.head !== undefined && c.head !== 'auto') {
    return `minimum recall targets need out-of-fold probabilities of the training split, which head ${String(c.head)} does not compute (only head auto, the few-shot recipe, cross-validates every training text)`;
  }
  return undefined;
}

function recallProblems(c: Partial<TrainConfig>): { field: string; message: string; fix: string }[] {
  const p: { field: string; message: string; fix: string }[] = [];
  const value = minRecallValueProblem(c.minRecall);
  if (value) p.push({ field: 'minRecall', message: value, fix: 'Give each class a recall above 0 and at most 1, e.g. cardiology=0.95.' });
  const head = value ? undefined : minRecallHeadProblem(c);
  if (head) p.push({ field: 'minRecall', message: head, fix: 'Use the quick method with head auto, or remove the minimum recall targets.' });
  if (c.abstain !== undefined && c.abstain !== null && !(typeof c.abstain === 'number' && c.abstain > 0 && c.abstain < 1)) {
    p.push({ field: 'abstain', message: `the abstain threshold must be above 0 and below 1 (got ${String(c.abstain)})`, fix: 'Set it to e.g. 0.5, or remove it (off).' });
  }
  return p;
}

function finetuneProblems(c: Partial<TrainConfig>): { field: string; message: string; fix: string }[] {
  const p: { field: string; message: string; fix: string }[] = [];
  const f = c.finetune;
  const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v);
  const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
  if (!f || typeof f.model !== 'string' || !f.model.trim()) {
    p.push({ field: 'finetune.model', message: 'fine-tuning needs a model', fix: 'Give a local model folder (config.json, weights, tokenizer) or a hub id with --model.' });
    return p;
  }
  if (isModelFolderRef(f.model) && !fs.existsSync(path.join(f.model, 'config.json'))) {
    p.push({ field: 'finetune.model', message: `the model folder ${f.model} has no config.json`, fix: 'Pass a Hugging Face model folder (config.json, model.safetensors or pytorch_model.bin, tokenizer files).' });
  }
  if (!isInt(f.unfreezeTop) || f.unfreezeTop < 0) p.push({ field: 'finetune.unfreezeTop', message: `unfreezeTop must be a whole number ≥ 0 (got ${String(f.unfreezeTop)})`, fix: 'Set --unfreeze-top to e.g. 3 (0 = head only until stage 3).' });
  if (!isInt(f.fullFinetuneAbove) || f.fullFinetuneAbove < 0) p.push({ field: 'finetune.fullFinetuneAbove', message: `fullFinetuneAbove must be a whole number ≥ 0 (got ${String(f.fullFinetuneAbove)})`, fix: 'Set --full-finetune-above to e.g. 500.' });
  if (!isInt(f.headEpochs) || f.headEpochs < 0) p.push({ field: 'finetune.headEpochs', message: `headEpochs must be a whole number ≥ 0 (got ${String(f.headEpochs)})`, fix: 'Set --head-epochs to e.g. 3.' });
  if (!PRECISIONS.includes(f.precision)) p.push({ field: 'finetune.precision', message: `precision "${String(f.precision)}" is not known`, fix: `Use one of: ${PRECISIONS.join(', ')}.` });
  if (!DEVICES.includes(f.device)) p.push({ field: 'finetune.device', message: `device "${String(f.device)}" is not known`, fix: `Use one of: ${DEVICES.join(', ')}.` });
  if (!isNum(f.weightDecay) || f.weightDecay < 0 || f.weightDecay > 1) p.push({ field: 'finetune.weightDecay', message: `weightDecay must be from 0 to 1 (got ${String(f.weightDecay)})`, fix: 'Set weightDecay to e.g. 0.01.' });
  if (!isNum(f.warmupRatio) || f.warmupRatio < 0 || f.warmupRatio >= 1) p.push({ field: 'finetune.warmupRatio', message: `warmupRatio must be from 0 to below 1 (got ${String(f.warmupRatio)})`, fix: 'Set warmupRatio to e.g. 0.1.' });
  if (!isInt(f.maxLength) || f.maxLength < 8 || f.maxLength > 8192) p.push({ field: 'finetune.maxLength', message: `maxLength must be a whole number from 8 to 8192 (got ${String(f.maxLength)})`, fix: 'Set --max-length to e.g. 128.' });
  return p;
}

function setfitProblems(c: Partial<TrainConfig>): { field: string; message: string; fix: string }[] {
  const p: { field: string; message: string; fix: string }[] = [];
  const f = c.setfit ?? ({} as Partial<NonNullable<TrainConfig['setfit']>>);
  const int = (v: unknown, lo: number, hi: number): boolean => v === undefined || (typeof v === 'number' && Number.isInteger(v) && v >= lo && v <= hi);
  if (f.model !== undefined && (typeof f.model !== 'string' || !f.model.trim())) {
    p.push({ field: 'setfit.model', message: 'the SetFit body must be a folder or hub id', fix: 'Give a sentence-transformers folder with --model, or leave it out to use the default body.' });
  } else if (f.model && isModelFolderRef(f.model) && !fs.existsSync(path.join(f.model, 'config.json'))) {
    p.push({ field: 'setfit.model', message: `the SetFit body ${f.model} has no config.json`, fix: 'Pass a sentence-transformers folder (config.json, model.safetensors, tokenizer files, modules.json).' });
  }
  if (!int(f.iterations, 1, 1000)) p.push({ field: 'setfit.iterations', message: `iterations must be a whole number from 1 to 1000 (got ${String(f.iterations)})`, fix: 'Set --iterations to e.g. 2, or leave it out to choose it from the dataset size.' });
  if (!int(f.epochs, 1, 100)) p.push({ field: 'setfit.epochs', message: `epochs must be a whole number from 1 to 100 (got ${String(f.epochs)})`, fix: 'Set --epochs to e.g. 1.' });
  if (!int(f.batchSize, 2, 4096)) p.push({ field: 'setfit.batchSize', message: `batchSize must be a whole number from 2 to 4096 (got ${String(f.batchSize)})`, fix: 'Set --batch-size to e.g. 16.' });
  if (!int(f.maxLength, 8, 8192)) p.push({ field: 'setfit.maxLength', message: `maxLength must be a whole number from 8 to 8192 (got ${String(f.maxLength)})`, fix: 'Set --max-length to e.g. 64.' });
  if (f.learningRate !== undefined && !(typeof f.learningRate === 'number' && f.learningRate > 0 && f.learningRate <= 1)) {
    p.push({ field: 'setfit.learningRate', message: `learningRate must be above 0 and at most 1 (got ${String(f.learningRate)})`, fix: 'Set --lr to e.g. 2e-5.' });
  }
  if (f.device !== undefined && !DEVICES.includes(f.device)) p.push({ field: 'setfit.device', message: `device "${String(f.device)}" is not known`, fix: `Use one of: ${DEVICES.join(', ')}.` });
  if (f.ngrams !== undefined && typeof f.ngrams !== 'boolean') p.push({ field: 'setfit.ngrams', message: `ngrams must be true or false (got ${String(f.ngrams)})`, fix: 'Set ngrams to true or false.' });
  return p;
}

/** Throws a FewShotError for the first problem (the message lists all of them). */
export function validateConfig(c: Partial<TrainConfig>, source?: string): asserts c is TrainConfig {
  const problems = configProblems(c);
  if (!problems.length) return;
  const where = source ? ` in ${source}` : '';
  const message = problems.length === 1
    ? `Invalid training setting${where}: ${problems[0].message}`
    : `Invalid training settings${where}: ${problems.map((x) => x.message).join('; ')}`;
  throw new FewShotError(message, {
    file: source && path.isAbsolute(source) ? source : undefined,
    fix: problems.map((x) => x.fix).join(' '),
    code: 'config-invalid',
  });
}

// ---------------------------------------------------------------- recall targets (TrainConfig.minRecall)

/**
 * `cardiology=0.95, gastro=0.9` → { cardiology: 0.95, gastro: 0.9 }. Class names may contain spaces; the last
 * `=` of each item separates the value. Returns the problem as a sentence instead when the text is malformed.
 */
export function parseMinRecall(text: string): { value: Record<string, number> } | { error: string } {
  const value: Record<string, number> = {};
  const items = text.split(',').map((s) => s.trim()).filter(Boolean);
  for (const item of items) {
    const eq = item.lastIndexOf('=');
    const label = eq > 0 ? item.slice(0, eq).trim() : '';
    const raw = eq > 0 ? item.slice(eq + 1).trim() : '';
    if (!label || !raw) return { error: `"${item}" is not class=recall (e.g. cardiology=0.95)` };
    const r = Number(raw);
    if (!Number.isFinite(r)) return { error: `the recall of "${label}" must be a number (got "${raw}")` };
    if (label in value) return { error: `"${label}" is given twice` };
    value[label] = r;
  }
  return { value };
}

/** The problem with the values of minRecall (each in (0, 1]), or undefined. Classes are checked by recallTargetClassProblem. */
export function minRecallValueProblem(minRecall: unknown): string | undefined {
  if (minRecall === undefined) return undefined;
  if (!minRecall || typeof minRecall !== 'object' || Array.isArray(minRecall)) return 'minimum recall must map class names to numbers, e.g. {"cardiology": 0.95}';
  for (const [label, r] of Object.entries(minRecall as Record<string, unknown>)) {
    if (!label.trim()) return 'a minimum recall target has an empty class name';
    if (typeof r !== 'number' || !Number.isFinite(r) || r <= 0 || r > 1) return `the minimum recall of "${label}" must be above 0 and at most 1 (got ${String(r)})`;
  }
  return undefined;
}

/** Targets naming classes the dataset does not have: one sentence naming them and listing the classes, or undefined. */
export function recallTargetClassProblem(minRecall: Record<string, number> | undefined, labels: readonly string[], dataset: string): string | undefined {
  const unknown = Object.keys(minRecall ?? {}).filter((l) => !labels.includes(l));
  if (!unknown.length) return undefined;
  const names = unknown.map((l) => `"${l}"`).join(', ');
  return `minimum recall target for ${names}: ${unknown.length > 1 ? 'no such classes' : 'no such class'} in ${dataset}. Its classes are: ${labels.join(', ')}.`;
}
