/**
 * Contract between the "Compare Runs" webview panel (webviews/compare) and the
 * extension host (src/extension/compare). Types and constants only: the
 * webview bundle imports this file too, so it must not import Node modules.
 *
 * Flow: the webview posts `ready`; the host answers `init` (model + strings +
 * saved UI state); later the host sends `model` whenever a compared run changes
 * on disk (finished, renamed, deleted…) and `exported`/`error` after actions.
 */
import type { Algorithm, ClassificationReport, ProgressUnit, RunStatus } from './run';

export const COMPARE_VIEW_TYPE = 'fewshot.compare';
export const COMPARE_PROTOCOL_VERSION = 1;

/** One point of a curve (x: the point's index in its run's unit, an epoch or a candidate configuration). */
export interface CurvePoint { x: number; y: number }

/** Curves of one run, already decimated by the host (at most MAX_CURVE_POINTS points each). */
export interface RunCurves {
  loss: CurvePoint[];
  valLoss: CurvePoint[];
  valMacroF1: CurvePoint[];
  /** Per-class validation recall, keyed by class label. */
  recall: Record<string, CurvePoint[]>;
}

/** Points per curve per run (halved when more than 10 runs are compared). */
export const MAX_CURVE_POINTS = 400;

/** How sure we are of a run's data. */
export type RunHealth = 'ok' | 'partial' | 'older-format' | 'newer-format';

/** A readable run, as shown in the panel. */
export interface CompareRun {
  id: string;
  /** Display name (`name` from run.json, else the id). */
  name: string;
  /** True when run.json has a user-given `name`. */
  renamed: boolean;
  starred: boolean;
  note: string;
  status: RunStatus | 'unknown';
  createdAt: string;
  finishedAt?: string;
  formatVersion: number;
  health: RunHealth;
  /** CSS colour for this run in every chart (stable while the panel lives, persisted in state). */
  colour: string;
  /** Index of the colour slot (persisted so that colours survive reloads). */
  colourSlot: number;
  encoder: string;
  head: string;
  backend: string;
  datasetPath: string;
  datasetFingerprint: string | null;
  labels: string[];
  /** Unit of the curves' x values ('epoch' for runs made before units existed). */
  unit: ProgressUnit;
  /** The algorithm that fitted the head, when recorded. */
  algorithm?: Algorithm;
  /** What "validation" means for this run (record.progress.validation), when recorded. */
  validation?: string;
  curves: RunCurves;
  report: ClassificationReport | null;
  /** Absolute folder of the run. */
  dir: string;
}

/** Columns of the metrics table, in display order. */
export const TABLE_COLUMNS = [
  'name', 'testMacroF1', 'testWeightedF1', 'testAccuracy', 'minRecall',
  'bestEpoch', 'bestValMacroF1', 'lastEpoch', 'lastValMacroF1', 'trainMs', 'backend',
] as const;
export type TableColumn = (typeof TABLE_COLUMNS)[number];

/** Numeric columns and whether a higher value is better (used for highlighting). */
export const NUMERIC_COLUMNS: Partial<Record<TableColumn, 'max' | 'min'>> = {
  testMacroF1: 'max',
  testWeightedF1: 'max',
  testAccuracy: 'max',
  minRecall: 'max',
  bestValMacroF1: 'max',
  lastValMacroF1: 'max',
  trainMs: 'min',
};

/** One row of the metrics table. `null` = not available for that run. */
export interface TableRow {
  id: string;
  name: string;
  testMacroF1: number | null;
  testWeightedF1: number | null;
  testAccuracy: number | null;
  minRecall: number | null;
  /** Class with the lowest test recall (ties: first in label order). */
  minRecallClass: string | null;
  bestEpoch: number | null;
  bestValMacroF1: number | null;
  lastEpoch: number | null;
  lastValMacroF1: number | null;
  /** Head training time in ms (timings.trainMs, else the last epoch's elapsedMs). */
  trainMs: number | null;
  backend: string;
  /** Unit of bestEpoch/lastEpoch ('epoch' for runs made before units existed). */
  unit?: ProgressUnit;
  /** What the validation figures were computed on (record.progress.validation), when recorded. */
  validation?: string;
}

/** Shown in the settings diff for a setting that a run's algorithm does not use. */
export const SETTING_NOT_USED = 'n/a';

export interface SettingsDiffRow {
  /** Setting key, e.g. 'config.learningRate', 'encoder', 'dataset.fingerprint'. */
  key: string;
  /**
   * Value per run (same order as `CompareModel.runs`), formatted for display; '' when missing,
   * SETTING_NOT_USED ('n/a') when the run's algorithm does not use the setting.
   */
  values: string[];
  differs: boolean;
}

export interface CompareNotice {
  severity: 'error' | 'warning' | 'info';
  /** Run id (folder name) the notice is about, if any. */
  runId?: string;
  /** File the notice is about (absolute), if any. */
  file?: string;
  message: string;
  fix?: string;
}

export interface CompareModel {
  /** Run ids in the comparison, in the order they were added (includes unreadable ones). */
  runIds: string[];
  runs: CompareRun[];
  rows: TableRow[];
  /** Best value per numeric column (after `NUMERIC_COLUMNS` direction); missing when no run has it. */
  best: Partial<Record<TableColumn, number>>;
  settings: SettingsDiffRow[];
  /** Union of class labels over the compared runs (sorted). */
  classes: string[];
  /** Runs were trained or evaluated on different data (fingerprints differ or are missing). */
  datasetMismatch: boolean;
  /** Groups of run ids per dataset fingerprint ('' = unknown fingerprint). */
  datasetGroups: { fingerprint: string; runIds: string[] }[];
  notices: CompareNotice[];
  /** Ids asked for that could not be shown (unreadable or deleted). */
  missing: string[];
}

/** UI state the webview saves with setState (and the serializer hands back). */
export interface CompareUiState {
  runIds: string[];
  /** Colour slot per run id. */
  colours?: Record<string, number>;
  curve?: 'loss' | 'valMacroF1' | 'recall';
  recallClass?: string;
  smoothing?: number;
  sort?: { column: TableColumn; descending: boolean };
  barMetric?: 'recall' | 'f1';
  onlyDiffering?: boolean;
}

export type ExportFormat = 'csv' | 'markdown';
export type ExportTarget = 'file' | 'clipboard';

// --------------------------------------------------------------- messages

export type HostToCompare =
  | { type: 'init'; protocol: number; model: CompareModel; strings: Record<string, string>; locale: string; state: CompareUiState }
  | { type: 'model'; model: CompareModel }
  | { type: 'exported'; what: string; file?: string; clipboard?: boolean }
  | { type: 'busy'; busy: boolean }
  | { type: 'error'; message: string };

export type CompareToHost =
  | { type: 'ready'; protocol: number }
  | { type: 'addRuns' }
  | { type: 'removeRun'; id: string }
  | { type: 'setStar'; id: string; starred: boolean }
  | { type: 'rename'; id: string; name: string }
  | { type: 'setNote'; id: string; note: string }
  | { type: 'exportTable'; format: ExportFormat; target: ExportTarget; sort?: CompareUiState['sort'] }
  | { type: 'exportPng'; chart: string; dataUrl: string }
  | { type: 'state'; state: CompareUiState }
  | { type: 'openRun'; id: string }
  /** Sent after each render: what is on screen (used by tests and for diagnostics). */
  | { type: 'rendered'; summary: RenderSummary }
  | { type: 'log'; level: 'info' | 'error'; message: string };

export interface RenderSummary {
  runs: number;
  tableRows: number;
  curveDatasets: number;
  curvePoints: number;
  barDatasets: number;
  /** Confusion matrices drawn so far (they render lazily when scrolled into view). */
  matricesDrawn: number;
  matricesTotal: number;
  settingsRows: number;
  /** Titles of the curves' x axes drawn (one per unit present). */
  curveAxes: string[];
  notices: number;
  theme: string;
  /** Time of the last full render in the webview (ms). */
  renderMs: number;
}
