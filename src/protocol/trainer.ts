/**
 * Typed, versioned message protocol between a parent (extension host or CLI)
 * and the child processes that run ML code: the trainer (`dist/trainer.js`) and
 * the warm predictor (`dist/predictor.js`). Messages go over Node's IPC channel
 * (`child_process.fork`, `process.send`).
 */
import type { ClassificationReport, EpochMetrics, Prediction, ProgressUnit, RunRecord, TrainConfig } from './run';

export const TRAINER_PROTOCOL_VERSION = 2;

// ---------------------------------------------------------------- trainer

export interface TrainRequest {
  config: TrainConfig;
  /** Folder that holds `runs/` and `cache/` (usually `<workspace>/.fewshot`). */
  storeDir: string;
  /** Optional run id (else generated). */
  runId?: string;
  /** Hugging Face settings. */
  hf?: { cacheDir?: string; allowRemote?: boolean; localModelPath?: string };
  /**
   * Method 'finetune': where the worker's Python comes from besides FEWSHOT_PYTHON / the setup venv /
   * PATH (src/core/finetune/python.ts): the setting `fewshot.python.path` and the Python extension's
   * active interpreter.
   */
  python?: { settingPath?: string; extensionPath?: string };
}

export type ParentToTrainer =
  | { type: 'train'; protocol: number; request: TrainRequest }
  | { type: 'cancel' };

export type TrainPhase = 'load' | 'embed' | 'train' | 'evaluate' | 'save';

export type TrainerToParent =
  | { type: 'ready'; protocol: number; pid: number }
  | { type: 'started'; runId: string; runDir: string; record: RunRecord }
  | { type: 'progress'; phase: TrainPhase; done: number; total: number; message?: string }
  /** A progress point, sent the moment it was computed. `totalEpochs` = points planned in `unit`. */
  | { type: 'epoch'; runId: string; metrics: EpochMetrics; totalEpochs: number; unit: ProgressUnit }
  | { type: 'log'; level: 'info' | 'warn' | 'error'; message: string }
  | { type: 'done'; runId: string; runDir: string; record: RunRecord; report: ClassificationReport | null }
  | { type: 'cancelled'; runId: string; runDir: string }
  | { type: 'error'; message: string; detail?: string; runId?: string; runDir?: string; file?: string; fix?: string };

// ---------------------------------------------------------------- predictor

export type ParentToPredictor =
  | { type: 'load'; protocol: number; runDir: string; hf?: TrainRequest['hf'] }
  | { type: 'predict'; id: number; texts: string[] }
  /** Image runs: label image files (absolute paths); one outcome per file, a bad image gives an error outcome. */
  | { type: 'predictImages'; id: number; files: string[] };

/** One image's prediction, or why it could not be labelled (the message names the file). */
export type ImageOutcome = { prediction: Prediction; error?: undefined } | { prediction?: undefined; error: string; fix?: string };

export type PredictorToParent =
  | { type: 'ready'; protocol: number; pid: number }
  | { type: 'loaded'; runDir: string; labels: string[]; encoder: string; loadMs: number; modality?: 'text' | 'image' }
  | { type: 'result'; id: number; predictions: Prediction[]; ms: number }
  | { type: 'imageResult'; id: number; outcomes: ImageOutcome[]; ms: number; cacheHits: number }
  | { type: 'error'; id?: number; message: string; fix?: string };
