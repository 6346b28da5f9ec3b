/** Dataset types (the contract in docs/ARCHITECTURE.md, section "Datasets"). */
export type DatasetFormat = 'folders' | 'csv' | 'tsv' | 'jsonl';

export interface Sample {
  text: string;
  label: string;
  /** Absolute path of the file the sample came from. */
  file: string;
  /** 1-based line of the record (table formats). */
  line?: number;
  /** Samples of one group (document) always stay on the same side of a split. */
  group?: string;
}

export interface FileInfo {
  file: string;
  split: 'train' | 'test' | 'unsplit';
  label?: string;
  /** 'utf-8' | 'utf-8-bom' | 'utf-16le' | 'utf-16be' | 'gb18030' | 'binary' */
  encoding: string;
  bytes: number;
  chars: number;
  /** Why the file was not used (binary, empty, …). */
  skipped?: string;
  truncated?: boolean;
}

export interface DatasetIssue {
  code: string;
  severity: 'error' | 'warning' | 'info';
  message: string;
  file?: string;
  line?: number;
  fix?: string;
}

export interface Dataset {
  root: string;
  format: DatasetFormat;
  train: Sample[];
  /** May be [] (then testSource tells what to do). */
  test: Sample[];
  /**
   * Texts without a label (label ''): an `unlabeled/` folder of a folder dataset, or rows with an empty label cell
   * in CSV/TSV/JSONL. Never trained on as labelled examples; "Suggest What to Label Next" ranks them.
   */
  unlabeled?: Sample[];
  /** Sorted. */
  labels: string[];
  testSource: 'given' | 'stratified-split' | 'cross-validation' | 'none';
  files: FileInfo[];
  issues: DatasetIssue[];
  language: 'en' | 'zh' | 'other';
  fingerprint: string;
  columns?: { text: string; label: string; group?: string; split?: string };
}

export interface LoadOptions {
  textColumn?: string;
  labelColumn?: string;
  /** Seed of the stratified split (default 42). */
  seed?: number;
  /** Share of each class held out when the dataset has no test split (default 0.25). */
  testFraction?: number;
  /** Sample files (folder layout) larger than this are truncated (default 1 MB). */
  maxFileBytes?: number;
  /** Optional extra: table files larger than this are refused (default 512 MB). */
  maxTableBytes?: number;
  /** Optional extra: override group-column detection for tables. */
  groupColumn?: string;
  /** Optional extra: override split-column detection for tables ('' disables it). */
  splitColumn?: string;
  /** Optional extra: a class with fewer samples than this cannot be held out → 'cross-validation' (default 4). */
  minSamplesToSplit?: number;
}

export interface DatasetRef {
  root: string;
  format: DatasetFormat;
  name: string;
  /** 'images': a folder dataset whose class folders hold images (loaded by core/images, trained on their pixels). */
  media?: 'images';
}

/** Issue codes used by the loader (the ones shared with the language server reuse its DiagnosticCodes). */
export const IssueCodes = {
  emptyFile: 'fewshot.empty-file',
  undecodableFile: 'fewshot.undecodable-file',
  tooLong: 'fewshot.too-long',
  classMissingFromSplit: 'fewshot.class-missing-from-split',
  missingTestSplit: 'fewshot.missing-test-split',
  emptyClass: 'fewshot.empty-class',
  testClassNotInTrain: 'fewshot.test-class-not-in-train',
  badRow: 'fewshot.bad-row',
  emptyText: 'fewshot.empty-text',
  emptyLabel: 'fewshot.empty-label',
  unknownSplit: 'fewshot.unknown-split',
  unsupportedFile: 'fewshot.unsupported-file',
  groupSpansSplits: 'fewshot.group-spans-splits',
  crossValidation: 'fewshot.cross-validation',
  stratifiedSplit: 'fewshot.stratified-split',
  linkNotFollowed: 'fewshot.link-not-followed',
  columnsGuessed: 'fewshot.columns-guessed',
} as const;
