/**
 * Contract between the dataset language server (src/server) and its clients
 * (the extension host's tree views, file decorations and dashboard).
 */

/** Stable diagnostic codes (the `code` of every Diagnostic the server publishes). */
export const DiagnosticCodes = {
  classImbalance: 'fewshot.class-imbalance',
  classUnderrepresented: 'fewshot.class-underrepresented',
  tooFewTrain: 'fewshot.too-few-train',
  tooFewTest: 'fewshot.too-few-test',
  missingTestSplit: 'fewshot.missing-test-split',
  classMissingFromSplit: 'fewshot.class-missing-from-split',
  leakageExact: 'fewshot.leakage-exact',
  leakageNear: 'fewshot.leakage-near',
  duplicateInSplit: 'fewshot.duplicate-in-split',
  conflictingLabels: 'fewshot.conflicting-labels',
  emptyFile: 'fewshot.empty-file',
  undecodableFile: 'fewshot.undecodable-file',
  unexpectedEncoding: 'fewshot.unexpected-encoding',
  tooLong: 'fewshot.too-long',
  labelVariants: 'fewshot.label-variants',
} as const;
export type DiagnosticCode = (typeof DiagnosticCodes)[keyof typeof DiagnosticCodes];

export interface ClassSummary {
  label: string;
  train: number;
  test: number;
  /** Absolute path of the class folder (folder layouts) if any. */
  folder?: string;
  /** Worst problem on this class, for badges/icons. */
  severity?: 'error' | 'warning' | 'info';
  problems: string[];
}

export interface DatasetSummary {
  /** Absolute path of the dataset root folder or file. */
  root: string;
  format: 'folders' | 'csv' | 'tsv' | 'jsonl';
  classes: ClassSummary[];
  problemCount: number;
  analysedMs: number;
}

/** Server → client notification with all dataset summaries (sent after each analysis). */
export const DatasetSummariesNotification = 'fewshot/datasetSummaries';
export interface DatasetSummariesParams {
  datasets: DatasetSummary[];
}
