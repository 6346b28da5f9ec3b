/** Shared shapes of the dataset analysis (LSP-compatible ranges, no vscode import). */
import type { DiagnosticCode } from '../../protocol/diagnostics';
import type { SkippedLink } from '../../core/datasets';

export interface Position { line: number; character: number }
export interface Range { start: Position; end: Position }
export type Severity = 'error' | 'warning' | 'info' | 'hint';
export type Split = 'train' | 'test';
export type Format = 'folders' | 'csv' | 'tsv' | 'jsonl';

export interface Settings {
  enabled: boolean;
  imbalanceRatio: number;
  minTrainPerClass: number;
  minTestPerClass: number;
  nearDuplicateThreshold: number;
  maxChars: number;
  /** dataset key (workspace-relative posix path, absolute path, or '*') → silenced codes */
  ignore: Record<string, string[]>;
  /** fewshot.train.classWeighting (the "use class weighting" quick fix is offered when false) */
  classWeighting: boolean;
  /** fewshot.datasets.paths */
  extraPaths: string[];
  /** fewshot.train.textColumn / labelColumn: the table columns training reads (unset: detected). */
  textColumn?: string;
  labelColumn?: string;
}

export const DEFAULT_SETTINGS: Settings = {
  enabled: true,
  imbalanceRatio: 3,
  minTrainPerClass: 8,
  minTestPerClass: 3,
  nearDuplicateThreshold: 0.9,
  maxChars: 2000,
  ignore: {},
  classWeighting: true,
  extraPaths: [],
};

/** One member file of a dataset, as discovered (before reading). */
export interface MemberFile {
  file: string;
  /** 'unsplit' = a table file without split information or an unsplit folder layout. */
  split: Split | 'unsplit';
  /** Class (folder layouts). */
  label?: string;
}

export interface DatasetDesc {
  root: string;
  name: string;
  format: Format;
  /** Key used in fewshot.diagnostics.ignore (workspace-relative posix path). */
  key: string;
  members: MemberFile[];
  /** Folder layouts: label → class folders (train first). */
  classFolders: Record<string, string[]>;
  /** Folder layouts: whether a test/ folder exists. */
  hasTestFolder?: boolean;
  /** Folder layouts: symbolic links the listing did not follow (shown in Problems on the link). */
  skippedLinks?: SkippedLink[];
  /** 'images': class folders of images (findDatasets' DatasetRef.media); the members are every file of the class folders. */
  media?: 'images';
}

export interface Sample {
  text: string;
  label: string;
  split: Split;
  file: string;
  /** Table rows: 1-based line of the record (the core Sample's `line`). */
  line?: number;
  /** Document group (the core Sample's `group`). */
  group?: string;
  /** Where to put a diagnostic about this sample (whole first line for .txt, text field for rows). */
  range: Range;
  /** Table rows: lines of the record (endLine exclusive). */
  row?: { line: number; endLine: number };
  chars: number;
  hash: string;
  shingles: Uint32Array;
  sig: Uint32Array | null;
  /** LSH band keys of `sig` (computed once per sample and cached with the file). */
  bands: number[] | null;
}

export interface LoadedFile {
  file: string;
  mtimeMs: number;
  size: number;
  /** Version of the open document this was read from, if any. */
  version?: number;
  /** As detected by the core: 'utf-8' | 'utf-8-bom' | 'utf-16le' | 'utf-16be' | 'gb18030' | 'binary'. */
  encoding: string;
  status: 'ok' | 'empty' | 'binary' | 'error';
  error?: string;
  /** Decoded text (kept for positions of long samples and row edits). */
  text: string;
  samples: Sample[];
  /** Table rows that training skips (empty text or label). */
  skipped: { why: 'empty-text' | 'empty-label'; row: { line: number; endLine: number }; range: Range }[];
  parseErrors: { line: number; message: string; range: Range }[];
  /** Range of the header line (tables) or first line (.txt). */
  headRange: Range;
  columns?: { text: string; label: string; split?: string } | null;
  /** Tables: no column is named like a text or a label, so training guesses them from the content. */
  columnsGuessed?: boolean;
  /** Image datasets: what reading the file as an image found (see images.ts). */
  image?: ImageFacts;
}

/** One image file as the image checks see it: its size and hashes, or why training skips it. */
export interface ImageFacts {
  format?: string;
  width?: number;
  height?: number;
  /** SHA-256 of the bytes (exact duplicates). */
  sha256?: string;
  /** Double dHash, 32 hex digits (core/images/phash.ts; near duplicates); absent when it could not be computed. */
  dhash?: string;
  /** Why training skips the file: an image issue code (ImageIssueCodes) and the details its message shows. */
  skipped?: { code: string; detail?: string; width?: number; height?: number };
}

export interface IssueData {
  dataset: string;
  datasetKey: string;
  format: Format;
  code: DiagnosticCode;
  label?: string;
  /** The other sample for duplicate / leakage / conflict issues. */
  other?: { file: string; range: Range };
  /** Table rows: the record lines, for "Remove the duplicate row". */
  row?: { line: number; endLine: number };
}

export interface Issue {
  code: DiagnosticCode;
  severity: Severity;
  message: string;
  file: string;
  range: Range;
  related?: { file: string; range: Range; message: string }[];
  data: IssueData;
}
