/**
 * The on-disk run format and the metric shapes shared by engine, CLI, trainer,
 * extension host, webviews and benchmarks. Types only: no runtime imports.
 *
 * A run lives in `<workspace>/.fewshot/runs/<id>/`:
 *   run.json          RunRecord (written atomically: tmp file + rename)
 *   metrics.jsonl     one EpochMetrics per line, appended per epoch
 *   report.json       ClassificationReport on the test split (when there is one)
 *   report.txt        the same as scikit-learn's text table (4 digits)
 *   confusion.json    { labels, matrix } (also inside report.json)
 *   predictions.jsonl one TestPrediction per line
 *   model/head.json   ModelFile (head weights + label map + encoder reference)
 *   augment-preview/  image runs with augmentation: a few small PNGs of training images and their augmented copies,
 *                     and preview.json (AugmentedPreview) naming them
 */

import type { FinetuneSettings } from './finetune';
import type { DecisionRule, RecallTargetRow } from './labels';

export const RUN_FORMAT_VERSION = 1;

/**
 * 'interrupted' is never written by a trainer: the run store reports it for a run whose
 * run.json still says 'running' but whose process is gone (see src/core/runs.ts).
 */
export type RunStatus = 'running' | 'completed' | 'failed' | 'cancelled' | 'interrupted';

export type HeadKind = 'logreg' | 'mlp' | 'centroid';

/**
 * How a run trains: 'quick' = frozen encoder + head (TypeScript); 'finetune' = a transformer fine-tuned in the
 * PyTorch worker; 'setfit' = the sentence-transformer body fine-tuned contrastively on pairs in the PyTorch worker
 * (the `setfit` library), exported to ONNX, then the quick head fitted on its embeddings in TypeScript.
 */
export type TrainMethod = 'quick' | 'finetune' | 'setfit';

/**
 * The method that actually fitted the head (the `head` setting names a choice, this the algorithm):
 *  - 'fewshot-ensemble': head 'auto', the CV-scored ensemble of convex L2 logistic regressions (L-BFGS);
 *  - 'fewshot-lbfgs':    head 'auto' above the ensemble's row limit: one convex L2 logistic regression (L-BFGS);
 *  - 'tfjs-adam-logreg': head 'logreg', softmax regression trained by Adam in TensorFlow.js, in epochs;
 *  - 'tfjs-mlp':         head 'mlp', one hidden layer, Adam in TensorFlow.js, in epochs;
 *  - 'centroid':         nearest centroid (no iterations);
 *  - 'finetune-transformer': method 'finetune', AdamW in PyTorch with staged unfreezing, in epochs;
 *  - 'finetune-cnn':     method 'finetune' on an image dataset: a CNN (e.g. EfficientNet-Lite0) likewise;
 *  - 'setfit-contrastive': method 'setfit', contrastive pair steps on the body (setfit library), then the head.
 */
export type Algorithm = 'fewshot-ensemble' | 'fewshot-lbfgs' | 'tfjs-adam-logreg' | 'tfjs-mlp' | 'centroid' | 'finetune-transformer' | 'finetune-cnn' | 'setfit-contrastive';

/**
 * Unit of a progress point (one line of metrics.jsonl, one point on a curve):
 *  - 'epoch':         a training epoch (tfjs heads, fine-tuning);
 *  - 'configuration': one candidate configuration of the few-shot recipe, scored by k-fold
 *                     cross-validation on the training split when its last fold was fitted;
 *  - 'pair-step':     one optimiser step of contrastive training on a batch of text pairs (SetFit body).
 */
export type ProgressUnit = 'epoch' | 'configuration' | 'pair-step';

/** Axis titles per unit (English; the views translate them). */
export const PROGRESS_UNIT_LABELS: Readonly<Record<ProgressUnit, string>> = {
  epoch: 'epoch',
  configuration: 'candidate configuration (CV-scored)',
  'pair-step': 'contrastive pair step',
};

/**
 * Settings each `head` choice actually uses (besides dataset, encoder, seed and text/label
 * columns, which every head uses). Train with Options asks only for these, the CLI refuses the
 * others, and Compare shows "n/a" for the rest.
 */
export const HEAD_SETTINGS: Readonly<Record<HeadKind | 'auto', readonly (keyof TrainConfig)[]>> = {
  auto: ['augment', 'augmentFlip', 'passages', 'classNames', 'classWeighting', 'maxChars', 'minRecall', 'abstain'],
  logreg: ['epochs', 'learningRate', 'batchSize', 'patience', 'validationFraction', 'refit', 'classWeighting', 'augment', 'augmentFlip', 'backend', 'maxChars', 'abstain'],
  mlp: ['epochs', 'learningRate', 'batchSize', 'patience', 'validationFraction', 'refit', 'classWeighting', 'augment', 'augmentFlip', 'backend', 'maxChars', 'abstain'],
  centroid: ['augment', 'augmentFlip', 'maxChars', 'abstain'],
};

/** Settings of an algorithm (what Compare shows, per run, as used / "n/a"). */
export const ALGORITHM_SETTINGS: Readonly<Record<Algorithm, readonly (keyof TrainConfig)[]>> = {
  'fewshot-ensemble': HEAD_SETTINGS.auto,
  'fewshot-lbfgs': HEAD_SETTINGS.auto,
  'tfjs-adam-logreg': HEAD_SETTINGS.logreg,
  'tfjs-mlp': HEAD_SETTINGS.mlp,
  centroid: HEAD_SETTINGS.centroid,
  'finetune-transformer': ['epochs', 'learningRate', 'batchSize', 'patience', 'validationFraction', 'classWeighting', 'finetune', 'abstain'],
  'finetune-cnn': ['epochs', 'learningRate', 'batchSize', 'patience', 'validationFraction', 'classWeighting', 'finetune', 'abstain'],
  'setfit-contrastive': ['classWeighting', 'maxChars', 'setfit', 'abstain'],
};

/** Everything that decides the result of a run. Stored verbatim in run.json. */
export interface TrainConfig {
  /** Absolute path of the dataset root folder or file. */
  dataset: string;
  /** Encoder spec: 'auto' | 'hashing' | 'use' | 'hf:<model id or folder>' | 'combo:<a>+<b>' */
  encoder: string;
  head: HeadKind | 'auto';
  epochs: number;
  learningRate: number;
  batchSize: number;
  seed: number;
  /** Number of augmented variants per training text (0 = off). */
  augment: number;
  /**
   * Images: the augmented copies are also flipped left–right with probability 0.5 (RandomHorizontalFlip before the
   * RandomAffine; default false). Texts ignore it.
   */
  augmentFlip?: boolean;
  /**
   * Few-shot recipe (head 'auto'): also train on 2–3 sentence-aligned passages of each training
   * text of 800+ characters (default true; absent in runs made before it existed = off).
   */
  passages?: boolean;
  /** Few-shot recipe (head 'auto'): use each class name written in the dataset's script as a prior example (default true). */
  classNames?: boolean;
  /** Weight the loss by inverse class frequency. */
  classWeighting: boolean;
  /** Early-stopping patience in epochs (0 = off). */
  patience: number;
  /** Share of the training split held out for validation (stratified). */
  validationFraction: number;
  /** Compute backend preference: 'auto' or a tfjs backend name. */
  backend: string;
  /** Override column detection for CSV/TSV/JSONL. */
  textColumn?: string;
  labelColumn?: string;
  /** Max characters per text fed to the encoder (longer texts are truncated). */
  maxChars?: number;
  /** 'quick' (default; absent in older runs) or 'finetune' (PyTorch worker; see `finetune`). */
  method?: TrainMethod;
  /**
   * Fine-tuning settings (method 'finetune'); epochs, learningRate, batchSize, patience,
   * validationFraction, classWeighting and seed come from the fields above.
   */
  finetune?: Pick<FinetuneSettings, 'model' | 'unfreezeTop' | 'fullFinetuneAbove' | 'headEpochs' | 'precision' | 'device' | 'weightDecay' | 'warmupRatio' | 'maxLength'>;
  /** SetFit settings (method 'setfit'); seed comes from the field above. */
  setfit?: SetFitSettings;
  /**
   * After choosing the best epoch on the validation hold-out, retrain on the whole
   * training split for that many epochs (default true; false keeps the hold-out model).
   */
  refit?: boolean;
  /**
   * Recall targets (method quick, head auto): minimum recall per class, 0 < r ≤ 1, e.g. { cardiology: 0.95 }. Met
   * by per-class decision thresholds chosen on the out-of-fold probabilities of the training split
   * (src/core/labels/thresholds.ts), saved with the model (ModelFile.decision) and used by every predict path. Needs
   * honest out-of-fold probabilities: refused with the tfjs heads, centroid, finetune and setfit (its body saw every
   * training text).
   */
  minRecall?: Record<string, number>;
  /**
   * Abstain threshold (every head and method; absent = off): a text whose top probability is below it gets the
   * label UNCERTAIN_LABEL ("uncertain") instead of a class. 0 < a < 1.
   */
  abstain?: number;
}

/** Method 'setfit': contrastive fine-tuning of a sentence-transformer body, then a head on its embeddings. */
export interface SetFitSettings {
  /** Sentence-transformer folder (PyTorch weights + tokenizer), e.g. the one bundled in models/, or a hub id with allowRemote. */
  model: string;
  /** Pairs generated per training text (setfit's num_iterations); absent = chosen from the dataset size. */
  iterations?: number;
  /** Passes over the generated pairs (default 1). */
  epochs?: number;
  batchSize?: number;     // default 16
  learningRate?: number;  // body learning rate, default 2e-5
  maxLength?: number;     // tokens, default 64 (src/core/finetune/setfit.ts SETFIT_DEFAULTS)
  device?: 'auto' | 'cuda' | 'mps' | 'cpu';
  /** Also put the n-gram block next to the fine-tuned body in the head (default: decided by the benchmark). */
  ngrams?: boolean;
}

export interface ClassMetrics {
  precision: number;
  recall: number;
  f1: number;
  support: number;
}

export interface ClassificationReport {
  /** Label order used for rows/columns of `confusion`. */
  labels: string[];
  perClass: Record<string, ClassMetrics>;
  accuracy: number;
  macro: ClassMetrics;
  weighted: ClassMetrics;
  /** confusion[i][j] = count of true labels[i] predicted as labels[j] (scikit-learn order). */
  confusion: number[][];
  /** scikit-learn style text table, 4 digits. */
  text: string;
  /** Which split produced it, e.g. 'test' or 'cross-validation'. */
  split: string;
  /**
   * With a decision rule (ModelFile.decision): per class, the recall target, its threshold, recall and precision on
   * this split with the rule and with the plain argmax (what the target cost). The table above is the plain metric
   * of the decided labels.
   */
  recallTargets?: RecallTargetRow[];
  /**
   * With an abstain threshold: the threshold and how many texts got "uncertain". They count as misses in their
   * class's recall (and in accuracy), and in no class's precision.
   */
  abstained?: { threshold: number; uncertain: number };
}

/**
 * One progress point, computed at the moment it is emitted (never resampled or interpolated).
 * The name is historical: `epoch` is the 1-based index of the point in its `unit`.
 */
export interface EpochMetrics {
  /** 1-based index in `unit` (the epoch number for epochs, the candidate number for configurations). */
  epoch: number;
  /** Absent in runs written before units existed: 'epoch'. */
  unit?: ProgressUnit;
  /** What the point is, e.g. "IDF on · block weights 0.50/0.50 · C=10" for a configuration. */
  label?: string;
  /**
   * Training loss at this point (for a configuration: the mean training log-loss of its fold fits).
   */
  loss: number;
  valLoss: number | null;
  valMacroF1: number | null;
  valAccuracy: number | null;
  perClassRecall: Record<string, number>;
  /** Milliseconds since training (the head phase) started, measured when the point was computed. */
  elapsedMs: number;
  /** Training-set metrics, set when there was no validation data (valMacroF1 is then null). */
  trainMacroF1?: number;
  trainAccuracy?: number;
  /** Method 'finetune': the unfreezing stage of the epoch (1 head, 2 top layers, 3 all). */
  stage?: 1 | 2 | 3;
  /** Method 'finetune': training throughput of the epoch. */
  samplesPerSecond?: number;
  /** Method 'finetune': peak device memory of the epoch (CUDA/MPS), MiB. */
  deviceMemoryMiB?: number;
  /** Method 'finetune': the device, e.g. "cuda · NVIDIA H200" or "cpu". */
  device?: string;
}

export interface TestPrediction {
  /** Index into the dataset's test samples. */
  index: number;
  text: string;
  label: string;
  predicted: string;
  probabilities: Record<string, number>;
  /** Source file (absolute) and 1-based line for table formats. */
  file?: string;
  line?: number;
}

export interface BackendInfo {
  /** tfjs backend that ran the head, e.g. 'tensorflow' | 'webgpu' | 'wasm' | 'cpu'. */
  name: string;
  gpu: boolean;
  /** Backends tried before and why they were skipped. */
  skipped: { name: string; reason: string }[];
}

export interface EncoderInfo {
  /** Resolved encoder id, e.g. 'hashing-char-1-4-2048' or 'hf:Xenova/all-MiniLM-L6-v2'. */
  id: string;
  /** The spec the user asked for, e.g. 'auto'. */
  requested: string;
  dim: number;
  /** Human readable reason for the choice ("auto: English dataset, no HF model cached → USE-lite"). */
  reason: string;
}

export interface DatasetInfo {
  path: string;
  /** 'images': class folders of images (src/core/images); the others hold texts. */
  format: 'folders' | 'csv' | 'tsv' | 'jsonl' | 'images';
  /** Stable hash over (split, label, text) of every sample (images: over their content hashes). */
  fingerprint: string;
  labels: string[];
  counts: { train: Record<string, number>; test: Record<string, number> };
  /** How the test split was obtained: 'given' | 'stratified-split' | 'cross-validation' | 'none'. */
  testSource: string;
  language: string;
}

/**
 * A problem with the data that changes how the results should be read, shown as a banner next to
 * them (dashboard, report.txt). `count`: how many examples / files / classes it concerns.
 */
export interface DataProblem {
  code: 'test-train-overlap' | 'small-test-class' | 'files-skipped' | 'test-class-not-in-train';
  count: number;
  /** One sentence, English, with the numbers (e.g. "3 test texts also occur in the training split"). */
  message: string;
  /** Files concerned (absolute; at most a few), for links. */
  files?: string[];
}

/**
 * augment-preview/preview.json: what the model sees, for image runs that augment. A few training images (one per class, up
 * to three) with their first augmented copies, as the trainer drew them, each a PNG of at most 128 px in augment-preview/.
 */
export interface AugmentedPreview {
  /** The RandomAffine range and the flip setting of the run. */
  transform: { degrees: number; translate: [number, number]; scale: [number, number]; flip: boolean };
  /** The run's seed (each image's copies come from a seed derived from it and the image's index). */
  seed: number;
  rows: AugmentedRow[];
}

export interface AugmentedRow {
  /** The training image (absolute path) and its class. */
  source: string;
  label: string;
  /** File name in augment-preview/ of the (shrunk) original. */
  original: string;
  /** File names in augment-preview/ of the copies, with the parameters drawn for each (angle in degrees, clockwise; shift in px of the full-size image). */
  copies: { file: string; angle: number; tx: number; ty: number; scale: number; flipped: boolean }[];
}

export interface RunRecord {
  formatVersion: number;
  id: string;
  /** User-facing name (rename), defaults to id. */
  name?: string;
  status: RunStatus;
  createdAt: string;
  finishedAt?: string;
  config: TrainConfig;
  dataset?: DatasetInfo;
  encoder?: EncoderInfo;
  backend?: BackendInfo;
  versions: Record<string, string>;
  timings: {
    loadMs?: number;
    embedMs?: number;
    trainMs?: number;
    evalMs?: number;
    totalMs?: number;
    /** ms from start to the first epoch metrics. */
    firstEpochMs?: number;
    cachedEmbeddings?: number;
    computedEmbeddings?: number;
  };
  /** The head actually trained (config.head may be 'auto'). */
  head?: HeadKind;
  /** The algorithm that fitted it (absent in runs made before it was recorded). */
  algorithm?: Algorithm;
  /**
   * What the progress points of this run are: their unit, how many were planned, and what
   * "validation" means for them, e.g. "4-fold out-of-fold predictions on the training split".
   */
  progress?: { unit: ProgressUnit; total: number; validation: string };
  /** Only for algorithms with epochs (tfjs heads, fine-tuning). */
  bestEpoch?: number;
  epochsRun?: number;
  /** Best validation macro-F1 over the progress points (see `progress.validation` for what validation is). */
  bestValMacroF1?: number;
  /** Macro-F1 on the test split of the final (best-epoch) model. */
  testMacroF1?: number;
  testAccuracy?: number;
  error?: { message: string; detail?: string; /** File the error is about (FewShotError). */ file?: string; /** What to do about it (FewShotError). */ fix?: string };
  /**
   * The process training this run (RunStore.claim), which also rewrites `<run>/heartbeat` every
   * 2 s while it runs: readers report a 'running' run whose owner is gone as 'interrupted'.
   */
  owner?: { pid: number; host: string; startedAt: string };
  /** Compare-panel annotations. */
  starred?: boolean;
  note?: string;
  warnings?: string[];
  /** Method 'finetune': the worker's device, its stages (epochs where each began and ended, trainable parameters) and the ONNX check. */
  finetune?: {
    device: { kind: string; name: string; count: number; precision: string; reason: string };
    python: Record<string, string>;
    stages: { stage: 1 | 2 | 3; name: string; trainableParameters: number; firstEpoch: number; lastEpoch: number }[];
    onnxMaxAbsDiff?: number;
    /**
     * Max |probability difference| on the test texts between the worker's PyTorch model and the ONNX
     * model as served in Node (the predict code the user runs); above 1e-3 the run has a warning.
     */
    servedMaxAbsProbDiff?: number;
  };
  /**
   * Method 'setfit': the worker's device and versions, the pairs it trained the body on, and the ONNX
   * check of the exported body (max |Δ| of pooled, normalised embeddings vs PyTorch).
   */
  setfit?: {
    device: { kind: string; name: string; reason: string };
    python: Record<string, string>;
    body: string;
    iterations: number;
    pairs: number;
    pairSteps: number;
    onnxMaxAbsDiff: number;
    /** Time of the pair steps in the worker. */
    bodyTrainMs: number;
  };
  /** Data problems found when the run loaded its dataset (absent: none, or a run made before they were recorded). */
  dataProblems?: DataProblem[];
}

/** model/head.json: everything needed to predict, besides the encoder itself. */
export interface ModelFile {
  formatVersion: number;
  labels: string[];
  encoder: EncoderInfo;
  head: HeadKind;
  /**
   * Method 'finetune': the model is a whole fine-tuned transformer, exported to ONNX; `weights` is
   * empty and predict runs `<run>/<transformer.path>/onnx/model.onnx` with its tokenizer (no Python).
   */
  transformer?: { path: string; onnx: string; maxLength: number };
  /**
   * Method 'finetune' on images: a whole fine-tuned CNN, exported to ONNX (input pixel_values, output logits); `weights`
   * is empty and predict runs `<run>/<imageCnn.path>/<onnx>` on images preprocessed as `<path>/preprocess.json` says.
   */
  imageCnn?: { path: string; onnx: string };
  /**
   * Method 'setfit': the encoder (or a part of a combo encoder) is the run's own fine-tuned body. `path` is
   * its folder relative to the run folder; `ref` the absolute folder the encoder id names (where it was
   * trained). Predict replaces `hf:<ref>` in the id by the folder under the run's current location, so a
   * moved or copied run still predicts.
   */
  body?: { path: string; ref: string };
  /** Layers as plain arrays: dense layers W[in][out], b[out]; centroid: centroids[class][dim]. */
  weights: { name: string; shape: number[]; values: number[] }[];
  activation?: string;
  /** Feature normalisation applied before the head (e.g. mean/std per dim). */
  normalisation?: { mean: number[]; std: number[] };
  /**
   * Applied after `normalisation` (few-shot recipe, src/core/fewshot): each block of dims
   * [start, end) is rescaled to L2 norm `weight` (an all-zero block stays zero). Dims outside
   * every block pass unchanged.
   */
  blockNorm?: { start: number; end: number; weight: number }[];
  /**
   * Further linear parts (few-shot configuration ensemble; head 'logreg' only): each has its own
   * W/b, normalisation and blockNorm, and the model's logits are the sum of the top-level part's
   * logits and every member's.
   */
  members?: ModelPart[];
  maxChars?: number;
  /**
   * Recall targets and abstain threshold (TrainConfig.minRecall / abstain): applied by every predict path to
   * decide the label; the probabilities stay the model's. Absent = the argmax.
   */
  decision?: DecisionRule;
}

/** One linear part of a 'logreg' ModelFile (see ModelFile.members). */
export interface ModelPart {
  weights: ModelFile['weights'];
  normalisation?: ModelFile['normalisation'];
  blockNorm?: ModelFile['blockNorm'];
}

export interface Prediction {
  label: string;
  /** Sorted by probability, descending. */
  probabilities: { label: string; p: number }[];
}
