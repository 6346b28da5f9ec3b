/**
 * Contract between the training dashboard webview (`webviews/dashboard`) and the
 * extension host (`src/extension/dashboard`). Types and constants only.
 *
 * Handshake (like GitLens' webviews): the webview script posts `ready` once its
 * DOM is up (also after a reload or after being hidden and shown again); the
 * host answers with `init` carrying the complete state. After that the host
 * sends incremental messages (`epoch`, `status`, `progress`, `gpu`, `done`).
 * Messages sent while the webview is hidden are lost, so the host always keeps
 * the full state and re-sends it on the next `ready`.
 */
import type { Algorithm, ClassificationReport, DataProblem, EpochMetrics, ProgressUnit, RunStatus } from './run';
import { PROGRESS_UNIT_LABELS } from './run';
import type { TrainPhase } from './trainer';

export type { Algorithm, ClassificationReport, DataProblem, EpochMetrics, ProgressUnit, RunStatus, TrainPhase };
export { PROGRESS_UNIT_LABELS };

export const DASHBOARD_VIEW_TYPE = 'fewshot.dashboard';
export const DASHBOARD_PROTOCOL_VERSION = 1;

/** What the header shows about a run. */
export interface DashboardRun {
  runId?: string;
  name: string;
  /** Absolute dataset path and its display name. */
  dataset: string;
  datasetName: string;
  /** Resolved encoder id when known, else the requested spec. */
  encoder: string;
  head: string;
  /** The algorithm that fits the head, when known (absent for runs made before it was recorded). */
  algorithm?: Algorithm;
  status: RunStatus;
  /** ms since the epoch (Date.now()) */
  startedAt: number;
  finishedAt?: number;
  /** Unit of the progress points ('epoch' for runs made before units existed). */
  unit: ProgressUnit;
  /** Points planned in `unit`: the maximum number of epochs (the run may stop early), or the candidate configurations. */
  totalEpochs: number;
  /** What "validation" means for this run's points (record.progress.validation, English as recorded). */
  validation?: string;
  /** Data problems found when the run loaded its dataset (banner). */
  dataProblems?: DataProblem[];
  /** Current phase of a live run (load, embed, train, evaluate, save). */
  phase?: { name: TrainPhase; done: number; total: number; message?: string };
  error?: string;
  /** Last lines of the trainer/worker log of a failed run (a crash, an out-of-memory error), shown under the error. */
  errorLog?: string[];
  /** Method 'finetune': the unfreezing stages (as recorded, else as seen in the live epochs) and the worker's device. */
  finetune?: DashboardFinetune;
  /** Test-set macro-F1 / accuracy of the finished run. */
  testMacroF1?: number;
  testAccuracy?: number;
  /** Whether the host can cancel this run (a live run of this window). */
  live: boolean;
}

/** One unfreezing stage of a fine-tuning run: epochs [firstEpoch, lastEpoch] (1-based, inclusive). */
export interface DashboardStage {
  stage: 1 | 2 | 3;
  /** e.g. "head only", "top 3 layers", "all layers" (the worker's name, English). */
  name?: string;
  /** Trainable parameters of the stage (known once the worker reported the stage). */
  trainableParameters?: number;
  firstEpoch: number;
  lastEpoch: number;
}

export interface DashboardFinetune {
  stages: DashboardStage[];
  /** The worker's device (record.finetune.device), once known. */
  device?: { kind: string; name: string; count: number; precision: string; reason: string };
  /** Samples per second of the last epoch (as the worker measured it). */
  samplesPerSecond?: number;
  /** Peak device memory of the last epoch in MiB (CUDA/MPS). */
  deviceMemoryMiB?: number;
}

/**
 * Stages from the epochs' `stage` field (live) — consecutive epochs of one stage form one entry. Recorded stages
 * (record.finetune.stages, with their trainable parameters) win where they exist.
 */
export function stagesOf(epochs: readonly EpochMetrics[], recorded?: readonly DashboardStage[]): DashboardStage[] {
  const out: DashboardStage[] = [];
  for (const e of epochs) {
    if (e.stage === undefined) continue;
    const last = out[out.length - 1];
    if (last && last.stage === e.stage) last.lastEpoch = Math.max(last.lastEpoch, e.epoch);
    else out.push({ stage: e.stage, firstEpoch: e.epoch, lastEpoch: e.epoch });
  }
  if (!recorded?.length) return out;
  const merged = recorded.map((r) => ({ ...r }));
  // Live epochs past the recorded ones (a stage the record has not caught up with yet).
  for (const o of out) if (!merged.some((m) => m.stage === o.stage)) merged.push(o);
  for (const m of merged) {
    const live = out.find((o) => o.stage === m.stage);
    if (live) m.lastEpoch = Math.max(m.lastEpoch, live.lastEpoch);
  }
  return merged.sort((a, b) => a.firstEpoch - b.firstEpoch);
}

export interface GpuSample {
  /** Percent 0..100 */
  utilization: number;
  /** MiB */
  memoryUsed: number;
  memoryTotal: number;
}

export interface DashboardCompute {
  /** tfjs backend recorded for the run ('wasm', 'tensorflow', 'webgpu', 'cpu'); undefined until known. */
  backend?: string;
  /** Whether that backend runs on a GPU. */
  gpu: boolean;
  /**
   * Whether TensorFlow.js fits the head (tfjs algorithms; for runs without a recorded algorithm, an explicit
   * logreg/mlp head). When false the head is fitted in plain JavaScript on the CPU, whatever `backend` says.
   */
  headOnTfjs: boolean;
  /** Method 'finetune': the PyTorch worker's device (kind 'cuda' | 'mps' | 'cpu', name, precision); replaces the tfjs backend. */
  device?: { kind: string; name: string; precision: string };
  /** Whether `nvidia-smi` was found (undefined: not probed yet). */
  nvidiaSmi?: boolean;
  /** GPU name from nvidia-smi, if any. */
  gpuName?: string;
  /** Latest nvidia-smi sample (null when there is none). */
  sample?: GpuSample | null;
  /** Hourly rate that applies to this run (GPU rate for GPU runs, else CPU rate) and its currency. */
  hourlyRate: number;
  currency: string;
}

export interface DashboardState {
  protocol: number;
  run: DashboardRun;
  epochs: EpochMetrics[];
  report: ClassificationReport | null;
  compute: DashboardCompute;
  /** Image runs that augment: the grid of training images and augmented copies (augment-preview/preview.json). */
  augmented?: DashboardAugmented;
  /** Image runs: the drill-down shows thumbnails (predictions name image files). */
  images?: boolean;
}

/** The augmented-sample grid as the webview gets it: AugmentedPreview with webview URIs instead of file paths. */
export interface DashboardAugmented {
  transform: { degrees: number; translate: [number, number]; scale: [number, number]; flip: boolean };
  seed: number;
  rows: {
    label: string;
    /** File name of the training image. */
    name: string;
    original: string;
    copies: { src: string; angle: number; tx: number; ty: number; scale: number; flipped: boolean }[];
  }[];
}

/** English strings → display strings (the host translates them). */
export type StringTable = Record<string, string>;

export type HostToDashboard =
  | { type: 'init'; state: DashboardState; strings: StringTable; locale: string }
  | { type: 'epoch'; metrics: EpochMetrics; totalEpochs: number; unit: ProgressUnit }
  | { type: 'status'; run: DashboardRun }
  | { type: 'compute'; compute: DashboardCompute }
  | { type: 'done'; run: DashboardRun; report: ClassificationReport | null; epochs: EpochMetrics[]; augmented?: DashboardAugmented; images?: boolean }
  | { type: 'samples'; requestId: number; trueLabel: string; predicted: string; samples: MisclassifiedSample[]; total: number }
  /** One page of the per-sample table, answering `querySamples` with the same requestId. */
  | { type: 'sampleTable'; requestId: number; page: SampleTablePage }
  /** After `exportSamples`: the file written and its row count, or why nothing was written (absent both: cancelled). */
  | { type: 'sampleExport'; file?: string; rows?: number; error?: string };

/**
 * The per-sample table (issue 15): one row per test prediction (predictions.jsonl) and per out-of-fold training
 * prediction (oof.jsonl). The host keeps every row, filters, sorts and pages them (up to 100,000 rows and more); the
 * webview shows one page.
 */
export type SampleSplit = 'test' | 'train';
export type SampleColumn = 'split' | 'text' | 'gold' | 'predicted' | 'probability' | 'margin' | 'suspect';
/** The table's columns, in order. */
export const SAMPLE_COLUMNS: readonly SampleColumn[] = ['split', 'text', 'gold', 'predicted', 'probability', 'margin', 'suspect'];
/** Rows per page. */
export const SAMPLE_PAGE_SIZE = 200;
/** Characters of a row's text sent to the webview (the cell shows the start, the tooltip all of these). */
export const SAMPLE_TEXT_CHARS = 2000;

export interface SampleQuery {
  /** Sort column (absent: test rows, then training rows, each in file order) and direction. */
  sort?: SampleColumn;
  descending?: boolean;
  /** Case-insensitive substring of the text, the gold label or the predicted label. */
  text?: string;
  errorsOnly?: boolean;
  suspectsOnly?: boolean;
  split?: 'all' | SampleSplit;
  /** First row of the page (0-based, within the filtered rows) and page size. */
  offset?: number;
  limit?: number;
}

/** One row as the webview gets it. */
export interface SampleRow {
  /** The row's id in the host's table (openRow names it). */
  id: number;
  split: SampleSplit;
  /** Index in the dataset's test samples (split 'test') or training samples (split 'train'). */
  index: number;
  /** The text, cut to SAMPLE_TEXT_CHARS (`truncated` says so). */
  text: string;
  truncated?: boolean;
  gold: string;
  predicted: string;
  /** Saved probability of the predicted class (out-of-fold for training rows); null when the file has none. */
  probability: number | null;
  /** Largest minus second-largest saved probability; null when the file has none. */
  margin: number | null;
  /** A training example that confident learning on this run's out-of-fold probabilities flags as likely mislabelled. */
  suspect: boolean;
  /** For a suspect: the likeliest other class and its out-of-fold probability. */
  suggested?: string;
  pSuggested?: number;
  /** "file.txt" or "notes.csv:12" (click opens it); absent when the row names no file. */
  where?: string;
}

export interface SampleTablePage {
  rows: SampleRow[];
  offset: number;
  /** Rows that pass the filter. */
  matched: number;
  /** Rows of each split in the run (before filtering). */
  test: number;
  train: number;
  /** Training rows flagged as suspects. */
  suspects: number;
  /** The run saved no out-of-fold predictions (oof.jsonl absent or empty): only test rows. */
  noOof: boolean;
  /** A file that could not be read (e.g. a corrupt line), with the reason; its rows are missing. */
  error?: string;
}

export interface MisclassifiedSample {
  index: number;
  text: string;
  file?: string;
  line?: number;
  /** Probability the model gave to the predicted label. */
  confidence?: number;
  /** Image runs: the image file as a webview URI (a thumbnail; the file itself, nothing copied). */
  image?: string;
}

export type DashboardToHost =
  | { type: 'ready' }
  | { type: 'requestSamples'; requestId: number; trueLabel: string; predicted: string }
  | { type: 'openSample'; file: string; line?: number }
  | { type: 'compare' }
  | { type: 'cancel' }
  | { type: 'showLog' }
  /** Open a file named by a data problem. */
  | { type: 'openFile'; file: string }
  /** Reveal the Problems panel (the diagnostics of the dataset). */
  | { type: 'showProblems' }
  /** Sent after each render: what is on screen (tests, diagnostics). */
  | { type: 'rendered'; summary: DashboardRenderSummary }
  /** The per-sample table: one page of rows for a filter, sort and offset (answered by `sampleTable`). */
  | { type: 'querySamples'; requestId: number; query: SampleQuery }
  /** Write every row that passes the query's filter (in its sort order) to a CSV file the user picks. */
  | { type: 'exportSamples'; query: SampleQuery }
  /** Open the file (or table row) of a per-sample table row. */
  | { type: 'openRow'; id: number };

export interface DashboardRenderSummary {
  /** Title of the x axis of the charts. */
  xTitle: string;
  /** Tick labels of the x axis (one per point). */
  xLabels: string[];
  /** Points drawn on the loss chart. */
  lossPoints: number;
  /** Text of the phase line, the summary rows (id → text) and the validation note. */
  phase: string;
  meta: Record<string, string>;
  validation: string;
  computeNote: string;
  /** Data problems shown in the banner (their codes). */
  banner: string[];
  /** Fine-tuning: epochs where a new unfreezing stage begins (the vertical markers drawn on the epoch axis). */
  stageMarkers?: number[];
  /** Fine-tuning: the text of the stage table (one line per stage) and of the error's log lines. */
  stages?: string[];
  errorLog?: string[];
  /** Recall targets: the text of each row of the report's target table (cells joined by " | "), and the abstain note. */
  recallTargets?: string[];
}

/** Human names of the algorithms (English; the dashboard and compare translate them). */
export const ALGORITHM_LABELS: Readonly<Record<Algorithm, string>> = {
  'fewshot-ensemble': 'Few-shot ensemble (CV-scored logistic regressions, L-BFGS)',
  'fewshot-lbfgs': 'Logistic regression (L-BFGS)',
  'tfjs-adam-logreg': 'Logistic regression (TensorFlow.js, Adam, epochs)',
  'tfjs-mlp': 'MLP, one hidden layer (TensorFlow.js, Adam, epochs)',
  centroid: 'Nearest centroid (no iterations)',
  'finetune-transformer': 'Fine-tuned transformer (PyTorch, AdamW, staged unfreezing, epochs)',
  'finetune-cnn': 'Fine-tuned CNN (PyTorch, AdamW, staged unfreezing, epochs)',
  'setfit-contrastive': 'SetFit (contrastive pair steps on the sentence-transformer body, then the head)',
};

/** Whether TensorFlow.js fits the head of a run (see DashboardCompute.headOnTfjs). */
export function headUsesTfjs(algorithm: Algorithm | undefined, head: string | undefined): boolean {
  if (algorithm) return algorithm === 'tfjs-adam-logreg' || algorithm === 'tfjs-mlp';
  return head === 'logreg' || head === 'mlp';
}

/** What the webview keeps with setState (and the serializer receives after a reload). */
export interface DashboardPersistedState {
  runId?: string;
  state?: DashboardState;
  strings?: StringTable;
}

/**
 * Every English string the dashboard shows. The host passes them through
 * vscode.l10n.t and sends the table in `init`. `{0}` placeholders are filled by the webview.
 */
export const DASHBOARD_STRINGS = [
  'Few-Shot Lab — Training Dashboard',
  'Dataset',
  'Encoder',
  'Head',
  'Compute',
  'Elapsed',
  'Time left',
  'Cost',
  'free',
  'Status',
  'running',
  'completed',
  'failed',
  'cancelled',
  'interrupted',
  'Epoch {0} of {1}',
  'Configuration {0} of {1} (CV-scored)',
  'Pair step {0} of {1}',
  'Waiting for the first pair step…',
  'Algorithm',
  'Validation: {0}',
  'about {0}',
  'The head is fitted in plain JavaScript on the CPU; TensorFlow.js ({0}) does not run it.',
  'CPU (JavaScript)',
  'Waiting for the first scored configuration…',
  'Data problems: read these results with care',
  '{0} test texts also occur in the training split',
  '{0} classes have fewer than 5 test samples',
  '{0} files were skipped',
  '{0} test classes have no training data',
  'Show in Problems',
  'Open {0}',
  'epoch',
  'candidate configuration (CV-scored)',
  'contrastive pair step',
  'Few-shot ensemble (CV-scored logistic regressions, L-BFGS)',
  'Logistic regression (L-BFGS)',
  'Logistic regression (TensorFlow.js, Adam, epochs)',
  'MLP, one hidden layer (TensorFlow.js, Adam, epochs)',
  'Nearest centroid (no iterations)',
  'Fine-tuned transformer (PyTorch, AdamW, staged unfreezing, epochs)',
  'Fine-tuned CNN (PyTorch, AdamW, staged unfreezing, epochs)',
  'SetFit (contrastive pair steps on the sentence-transformer body, then the head)',
  'Loss',
  'Training loss',
  'Validation loss',
  'Validation macro-F1 and accuracy',
  'Validation macro-F1',
  'Validation accuracy',
  'Per-class recall (validation)',
  'Lowest recall: {0} ({1})',
  'Waiting for the first epoch…',
  'Test-set classification report',
  'Class',
  'Precision',
  'Recall',
  'F1-score',
  'Support',
  'accuracy',
  'macro avg',
  'weighted avg',
  'Recall targets (recall and precision with the thresholds, and with the plain argmax: the difference is what a target cost)',
  'Target',
  'Threshold',
  'Argmax recall',
  'Argmax precision',
  'Uncertain (below the abstain threshold {0}): {1} of {2} texts; each counts as a miss in the recall of its class.',
  'Confusion matrix (rows: true label, columns: predicted)',
  'True {0}, predicted {1}: {2} samples',
  'Select a cell to list its test samples.',
  'Test samples with true label {0} predicted as {1} ({2})',
  'No samples in this cell.',
  'Probability the model gave to {0}: {1}',
  'Hover over the chart for every class.',
  'Open',
  'Compare with…',
  'Cancel Training',
  'Show Log',
  'No test split: no classification report for this run.',
  'GPU: {0}% busy, {1} / {2} MiB',
  'No NVIDIA GPU detected — running on CPU ({0})',
  'NVIDIA GPU present, but the head trains on {0}',
  'detecting…',
  'Phase: {0} {1}/{2}',
  'Test macro-F1 {0}, accuracy {1}',
  'and {0} more',
  'Score',
  'Stage {0}',
  'Stage {0}: {1}',
  'epochs {0}–{1}',
  '{0} trainable parameters',
  'Unfreezing stages',
  'Throughput',
  '{0} samples/s',
  '{0} MiB peak',
  'Last lines of the log:',
  'Loading dataset',
  'Embedding texts',
  'Training',
  'Evaluating',
  'Saving',
  'Per-sample predictions',
  'Test rows: the saved test predictions. Training rows: out-of-fold probabilities, each from a model that did not see the example. Suspect: a training label that confident learning on these probabilities flags as likely wrong.',
  'Only test rows: this run\'s head computed no out-of-fold predictions.',
  'Some rows could not be read: {0}',
  'Filter by text, gold or predicted',
  'Errors only',
  'Suspects only',
  'All splits',
  'Split',
  'test',
  'train (OOF)',
  'Export CSV',
  'Every row that passes the filter, with the full text, file and line',
  'Loading…',
  'Showing {0}–{1} of {2}',
  'No rows match the filter.',
  '{0} test rows, {1} training rows (out-of-fold), suspects: {2}',
  'Previous',
  'Next',
  'Text',
  'Gold',
  'Predicted',
  'Probability',
  'Margin',
  'Suspect',
  'test: a test prediction; train (OOF): a training example predicted by a model that did not see it',
  'The label the dataset gives',
  'The class the model predicted',
  'Saved probability of the predicted class (out-of-fold for training rows)',
  'Largest minus second-largest saved probability',
  'A training label that confident learning on this run\'s out-of-fold probabilities flags as likely wrong',
  'Probably {0} ({1}), not {2}',
  'Exported {0} rows to {1}',
  'What the model sees ({0}, seed {1})',
  'Training images (left) and augmented copies the model was trained on, drawn with the seed of the run.',
  'original',
  'rotated {0}°, shifted ({1}, {2}) px, scaled ×{3}',
  'flipped left–right',
  'Test images with true label {0} predicted as {1} ({2})',
] as const;

/** String-table key of each training phase. */
export const PHASE_STRINGS = {
  load: 'Loading dataset',
  embed: 'Embedding texts',
  train: 'Training',
  evaluate: 'Evaluating',
  save: 'Saving',
} as const;
