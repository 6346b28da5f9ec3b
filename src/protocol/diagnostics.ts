/**
 * Contract between the dataset language server (src/server) and its clients
 * (the extension host's tree views, file decorations and dashboard).
 * The custom messages are typed (RequestType / NotificationType from vscode-jsonrpc,
 * the base of vscode-languageserver and vscode-languageclient): both sides use these
 * objects, never bare method names, so parameter and result types are checked.
 */
import { NotificationType, RequestType, RequestType0 } from 'vscode-jsonrpc';

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
  linkNotFollowed: 'fewshot.link-not-followed',
  columnsGuessed: 'fewshot.columns-guessed',
  /** A table row with a text and an empty label: an unlabelled text (Information; Suggest What to Label Next ranks it). */
  emptyLabel: 'fewshot.empty-label',
  // Image datasets (the same codes as the core's ImageIssueCodes, which training's warnings carry)
  imageUnreadable: 'fewshot.image-unreadable',
  imageEmpty: 'fewshot.image-empty',
  imageTooLarge: 'fewshot.image-too-large',
  imageSmall: 'fewshot.image-small',
  imageUnsupportedFormat: 'fewshot.image-unsupported-format',
  imageNotImage: 'fewshot.image-not-image',
} as const;
export type DiagnosticCode = (typeof DiagnosticCodes)[keyof typeof DiagnosticCodes];

export interface FolderBadge {
  folder: string;
  severity: 'error' | 'warning';
  problems: string[];
}

export interface ClassSummary {
  label: string;
  train: number;
  test: number;
  /** Absolute path of the class folder (folder layouts) if any. */
  folder?: string;
  /** Every folder of the class (train/<class> and test/<class>). */
  folders?: string[];
  /** Explorer badges: each class folder with the warnings and errors that belong to it
   * (a train-size problem on train/<class>, a test-size problem on test/<class>). */
  badges?: FolderBadge[];
  /** Worst problem on this class, for badges/icons. */
  severity?: 'error' | 'warning' | 'info';
  problems: string[];
}

export interface DatasetSummary {
  /** Absolute path of the dataset root folder or file. */
  root: string;
  format: 'folders' | 'csv' | 'tsv' | 'jsonl';
  /** 'images' for a folder dataset of images (counts are images). */
  media?: 'images';
  classes: ClassSummary[];
  problemCount: number;
  analysedMs: number;
}

export interface DatasetSummariesParams {
  datasets: DatasetSummary[];
}
/** Server → client notification with all dataset summaries (sent after each analysis). */
export const DatasetSummariesNotification = new NotificationType<DatasetSummariesParams>('fewshot/datasetSummaries');

/** `source` of every diagnostic the dataset server publishes. */
export const DiagnosticSource = 'Few-Shot Lab';

/** `initializationOptions` the client passes to the server. */
export interface DiagnosticsInitializationOptions {
  /** vscode.env.language; 'zh-cn' (and other zh-Hans tags) selects Simplified Chinese messages. */
  locale?: string;
}

/** `data` attached to every diagnostic (used by the code actions). */
export interface DiagnosticData {
  /** Absolute dataset root (folder or train table file). */
  dataset: string;
  /** Key used in fewshot.diagnostics.ignore (workspace-relative posix path). */
  datasetKey: string;
  format: 'folders' | 'csv' | 'tsv' | 'jsonl';
  code: DiagnosticCode;
  label?: string;
  other?: { file: string; range: { start: { line: number; character: number }; end: { line: number; character: number } } };
  row?: { line: number; endLine: number };
}

/** Client-side commands the server's code actions invoke (registered by src/extension/diagnostics). */
export const DiagnosticCommands = {
  /** (datasetRoot: string, opts?: { confirmed?: boolean }) → moves files train/<c> → test/<c>; returns the moves. */
  createTestSplit: 'fewshot.diagnostics.createTestSplit',
  /** (datasetRoot?: string) → sets fewshot.train.classWeighting = true in the workspace settings. */
  useClassWeighting: 'fewshot.diagnostics.useClassWeighting',
  /** (uri: string, range) → opens the other file / row. */
  open: 'fewshot.diagnostics.open',
  /** (datasetKey: string, code: string) → adds code to fewshot.diagnostics.ignore[datasetKey]. */
  silence: 'fewshot.diagnostics.silence',
  /** () → undoes the last quick fix applied through one of the commands above. */
  undo: 'fewshot.diagnostics.undoFix',
  /** () → ServerInfo (test / troubleshooting hook). */
  serverInfo: 'fewshot.diagnostics.serverInfo',
} as const;

export interface ServerInfo {
  pid: number;
  datasets: number;
  busy: boolean;
  /** Number of completed analysis passes since start. */
  passes: number;
}
/** Client → server: process id and state (used to test crash recovery). */
export const ServerInfoRequest = new RequestType0<ServerInfo, void>('fewshot/serverInfo');

export interface PlanTestSplitParams {
  root: string;
  fraction?: number;
}
export interface PlanTestSplitResult {
  moves: { from: string; to: string }[];
}
/** Client → server: plan a stratified test split for a folder dataset. */
export const PlanTestSplitRequest = new RequestType<PlanTestSplitParams, PlanTestSplitResult, void>('fewshot/planTestSplit');

export interface ReanalyseResult {
  /** Datasets found by the new analysis. */
  datasets: number;
}
/** Client → server: rediscover and re-analyse everything; resolves when diagnostics are published. */
export const ReanalyseRequest = new RequestType0<ReanalyseResult, void>('fewshot/reanalyse');
