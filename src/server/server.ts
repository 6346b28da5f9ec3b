/**
 * Few-Shot Lab dataset language server. Analyses every dataset in the
 * workspace at startup, keeps the analysis current from file-watcher events
 * and open-document edits (re-analysing only the affected dataset), publishes
 * diagnostics with stable codes, a `fewshot/datasetSummaries` notification,
 * and code actions (quick fixes).
 */
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as path from 'node:path';
import {
  createConnection, ProposedFeatures, TextDocuments, TextDocumentSyncKind, CodeActionKind,
  DiagnosticSeverity, type Diagnostic, type CodeAction, type InitializeParams, type InitializeResult,
} from 'vscode-languageserver/node';
import { TextDocument } from 'vscode-languageserver-textdocument';
import {
  DatasetIndex, DEFAULT_SETTINGS, msg, planStratifiedSplit, rowDeletionRange,
  type Issue, type Settings, type ChangeReport,
} from './analysis';
import {
  DatasetSummariesNotification, DiagnosticCodes, DiagnosticCommands, DiagnosticSource,
  PlanTestSplitRequest, ReanalyseRequest, ServerInfoRequest,
  type DatasetSummariesParams, type DiagnosticData, type DiagnosticsInitializationOptions,
  type PlanTestSplitParams, type PlanTestSplitResult, type ReanalyseResult, type ServerInfo,
} from '../protocol/diagnostics';

const connection = createConnection(ProposedFeatures.all);
const documents = new TextDocuments(TextDocument);

let locale: string | undefined;
let hasConfiguration = false;
let index: DatasetIndex;
let passes = 0;
let busy = false;
/** root → URIs that currently carry diagnostics from that dataset */
const published = new Map<string, Set<string>>();
/** fs path → open document */
const openDocs = new Map<string, TextDocument>();

const toPath = (uri: string): string | undefined => {
  try {
    return uri.startsWith('file:') ? fileURLToPath(uri) : undefined;
  } catch {
    return undefined;
  }
};
const toUri = (file: string): string => pathToFileURL(file).toString();
const log = (m: string) => connection.console.log(`[fewshot-diagnostics] ${m}`);

// ---- serialised work queue: analyses never overlap, requests are answered between chunks
let queue: Promise<unknown> = Promise.resolve();
function enqueue<T>(job: () => Promise<T>): Promise<T> {
  const p = queue.then(async () => {
    busy = true;
    try {
      return await job();
    } finally {
      busy = false;
    }
  });
  queue = p.catch((e) => log(`analysis failed: ${e instanceof Error ? e.stack : String(e)}`));
  return p;
}

connection.onInitialize((params: InitializeParams): InitializeResult => {
  const init = (params.initializationOptions ?? {}) as DiagnosticsInitializationOptions;
  locale = init.locale ?? params.locale;
  const folders = (params.workspaceFolders ?? []).map((f) => toPath(f.uri)).filter((p): p is string => !!p);
  if (!folders.length && params.rootUri) { const p = toPath(params.rootUri); if (p) folders.push(p); }
  hasConfiguration = !!params.capabilities.workspace?.configuration;
  index = new DatasetIndex(folders, {
    locale,
    overlay: (file) => {
      const d = openDocs.get(file);
      return d ? { text: d.getText(), version: d.version } : undefined;
    },
  });
  return {
    capabilities: {
      textDocumentSync: TextDocumentSyncKind.Incremental,
      codeActionProvider: { codeActionKinds: [CodeActionKind.QuickFix] },
    },
    serverInfo: { name: 'fewshot-dataset-diagnostics' },
  };
});

async function readSettings(): Promise<Settings> {
  if (!hasConfiguration) return { ...DEFAULT_SETTINGS };
  const [diag, train, datasets] = await connection.workspace.getConfiguration([
    { section: 'fewshot.diagnostics' }, { section: 'fewshot.train' }, { section: 'fewshot.datasets' },
  ]);
  const num = (v: unknown, d: number) => (typeof v === 'number' && Number.isFinite(v) ? v : d);
  return {
    enabled: diag?.enabled !== false,
    imbalanceRatio: num(diag?.imbalanceRatio, DEFAULT_SETTINGS.imbalanceRatio),
    minTrainPerClass: num(diag?.minTrainPerClass, DEFAULT_SETTINGS.minTrainPerClass),
    minTestPerClass: num(diag?.minTestPerClass, DEFAULT_SETTINGS.minTestPerClass),
    nearDuplicateThreshold: num(diag?.nearDuplicateThreshold, DEFAULT_SETTINGS.nearDuplicateThreshold),
    maxChars: num(diag?.maxChars, DEFAULT_SETTINGS.maxChars),
    ignore: diag?.ignore && typeof diag.ignore === 'object' ? diag.ignore : {},
    classWeighting: train?.classWeighting !== false,
    extraPaths: Array.isArray(datasets?.paths) ? datasets.paths.filter((p: unknown) => typeof p === 'string') : [],
    textColumn: typeof train?.textColumn === 'string' && train.textColumn.trim() ? train.textColumn.trim() : undefined,
    labelColumn: typeof train?.labelColumn === 'string' && train.labelColumn.trim() ? train.labelColumn.trim() : undefined,
  };
}

const SEVERITY: Record<Issue['severity'], DiagnosticSeverity> = {
  error: DiagnosticSeverity.Error, warning: DiagnosticSeverity.Warning, info: DiagnosticSeverity.Information, hint: DiagnosticSeverity.Hint,
};

function toDiagnostic(i: Issue): Diagnostic {
  return {
    range: i.range, severity: SEVERITY[i.severity], code: i.code, source: DiagnosticSource, message: i.message,
    relatedInformation: i.related?.map((r) => ({ location: { uri: toUri(r.file), range: r.range }, message: r.message })),
    data: i.data satisfies DiagnosticData,
  };
}

function publish(report: ChangeReport): void {
  for (const root of report.removed) {
    for (const uri of published.get(root) ?? []) void connection.sendDiagnostics({ uri, diagnostics: [] });
    published.delete(root);
  }
  for (const root of report.analysed) {
    const r = index.results.get(root);
    const byFile = new Map<string, Diagnostic[]>();
    if (r && index.settings.enabled) {
      for (const i of r.issues) {
        const uri = toUri(i.file);
        const list = byFile.get(uri);
        if (list) list.push(toDiagnostic(i)); else byFile.set(uri, [toDiagnostic(i)]);
      }
    }
    const before = published.get(root) ?? new Set<string>();
    for (const uri of before) if (!byFile.has(uri)) void connection.sendDiagnostics({ uri, diagnostics: [] });
    for (const [uri, diagnostics] of byFile) {
      const d = documents.get(uri);
      void connection.sendDiagnostics({ uri, diagnostics, version: d?.version });
    }
    published.set(root, new Set(byFile.keys()));
  }
  const params: DatasetSummariesParams = {
    datasets: index.settings.enabled ? [...index.datasets.keys()].map((k) => index.results.get(k)?.summary).filter((s): s is NonNullable<typeof s> => !!s) : [],
  };
  void connection.sendNotification(DatasetSummariesNotification, params);
  passes++;
}

async function fullAnalysis(reason: string): Promise<void> {
  await enqueue(async () => {
    const t0 = Date.now();
    index.settings = await readSettings();
    const report = await index.analyseAll();
    publish(report);
    log(`${reason}: ${index.datasets.size} dataset(s), ${index.cache.size} file(s) in ${Date.now() - t0} ms`);
  });
}

async function settingsChanged(): Promise<void> {
  await enqueue(async () => {
    const prev = index.settings;
    index.settings = await readSettings();
    // other columns change what every table holds: read the tables again
    if (prev.textColumn !== index.settings.textColumn || prev.labelColumn !== index.settings.labelColumn) index.dropTables();
    const report = JSON.stringify(index.settings.extraPaths) !== JSON.stringify(prev.extraPaths) ? await index.analyseAll() : await index.reanalyseCached();
    publish(report);
  });
}

// ---- incremental changes (debounced)
const pending = new Set<string>();
let timer: NodeJS.Timeout | undefined;
function ignoredPath(p: string): boolean {
  // judge only the part inside the workspace folder (the folder itself may live under a hidden directory)
  const folder = index.folders.find((f) => p === f || p.startsWith(f + path.sep));
  const rel = folder ? path.relative(folder, p) : p;
  return rel.split(path.sep).some((seg) => seg === 'node_modules' || (seg.startsWith('.') && seg.length > 1));
}
function scheduleChange(p: string): void {
  if (ignoredPath(p)) return;
  pending.add(p);
  if (timer) clearTimeout(timer);
  timer = setTimeout(() => {
    timer = undefined;
    const paths = [...pending];
    pending.clear();
    void enqueue(async () => {
      const t0 = Date.now();
      const report = await index.applyChanges(paths);
      publish(report);
      log(`change (${paths.length} path(s)): re-analysed ${report.analysed.length} dataset(s) in ${Date.now() - t0} ms`);
    });
  }, 150);
}

connection.onInitialized(() => {
  if (hasConfiguration) connection.onDidChangeConfiguration(() => void settingsChanged());
  void fullAnalysis('startup');
});

connection.onDidChangeWatchedFiles((params) => {
  for (const c of params.changes) {
    const p = toPath(c.uri);
    if (p) scheduleChange(p);
  }
});

documents.onDidOpen((e) => {
  const p = toPath(e.document.uri);
  if (!p) return;
  openDocs.set(p, e.document);
  if (index?.datasetOf(p)) scheduleChange(p);
});
documents.onDidChangeContent((e) => {
  const p = toPath(e.document.uri);
  if (!p) return;
  openDocs.set(p, e.document);
  const cached = index?.cache.get(p);
  if (cached && cached.version === e.document.version) return;
  if (index?.datasetOf(p) || /\.(csv|tsv|jsonl)$/i.test(p)) scheduleChange(p);
});
documents.onDidClose((e) => {
  const p = toPath(e.document.uri);
  if (!p) return;
  openDocs.delete(p);
  if (index?.datasetOf(p)) scheduleChange(p);
});

// ---- code actions
connection.onCodeAction((params): CodeAction[] => {
  const file = toPath(params.textDocument.uri);
  if (!file) return [];
  const actions: CodeAction[] = [];
  for (const d of params.context.diagnostics) {
    if (d.source !== DiagnosticSource || !d.data) continue;
    const data = d.data as DiagnosticData;
    const code = data.code;
    const desc = index.datasets.get(data.dataset);
    // Remove the row (tables): duplicates, exact leakage, empty rows
    if (data.row && (code === DiagnosticCodes.duplicateInSplit || code === DiagnosticCodes.leakageExact || code === DiagnosticCodes.emptyFile)) {
      const doc = documents.get(params.textDocument.uri);
      const cached = index.cache.get(file);
      const upToDate = doc ? cached?.version === doc.version : !!cached;
      const text = doc ? doc.getText() : cached?.text;
      if (upToDate && text !== undefined) {
        actions.push({
          title: msg(locale, code === DiagnosticCodes.emptyFile ? 'actionRemoveEmptyRow' : 'actionRemoveRow'), kind: CodeActionKind.QuickFix,
          diagnostics: [d], isPreferred: code === DiagnosticCodes.duplicateInSplit,
          edit: { changes: { [params.textDocument.uri]: [{ range: rowDeletionRange(text, data.row), newText: '' }] } },
        });
      }
    }
    if (data.other) {
      actions.push({
        title: msg(locale, code === DiagnosticCodes.leakageExact || code === DiagnosticCodes.leakageNear
          ? (desc?.media === 'images' ? 'actionOpenTrainImage' : 'actionOpenTrain') : (desc?.media === 'images' ? 'actionOpenImage' : 'actionOpen')),
        kind: CodeActionKind.QuickFix, diagnostics: [d],
        command: { title: msg(locale, 'actionOpen'), command: DiagnosticCommands.open, arguments: [toUri(data.other.file), data.other.range] },
      });
    }
    const splitable = desc?.format === 'folders' && desc.members.some((m) => m.split === 'train');
    if (splitable && (code === DiagnosticCodes.missingTestSplit || code === DiagnosticCodes.tooFewTest || (code === DiagnosticCodes.classMissingFromSplit && d.severity === DiagnosticSeverity.Warning))) {
      actions.push({
        title: msg(locale, 'actionSplit'), kind: CodeActionKind.QuickFix, diagnostics: [d], isPreferred: code === DiagnosticCodes.missingTestSplit,
        command: { title: msg(locale, 'actionSplit'), command: DiagnosticCommands.createTestSplit, arguments: [data.dataset] },
      });
    }
    if ((code === DiagnosticCodes.classImbalance || code === DiagnosticCodes.classUnderrepresented) && !index.settings.classWeighting) {
      actions.push({
        title: msg(locale, 'actionWeighting'), kind: CodeActionKind.QuickFix, diagnostics: [d], isPreferred: true,
        command: { title: msg(locale, 'actionWeighting'), command: DiagnosticCommands.useClassWeighting, arguments: [data.dataset] },
      });
    }
    actions.push({
      title: msg(locale, 'actionSilence', code), kind: CodeActionKind.QuickFix, diagnostics: [d],
      command: { title: msg(locale, 'actionSilence', code), command: DiagnosticCommands.silence, arguments: [data.datasetKey, code] },
    });
  }
  return actions;
});

// ---- custom requests
connection.onRequest(ServerInfoRequest, (): ServerInfo => ({ pid: process.pid, datasets: index?.datasets.size ?? 0, busy, passes }));
connection.onRequest(PlanTestSplitRequest, async (p: PlanTestSplitParams): Promise<PlanTestSplitResult> => {
  await queue;
  const desc = index.datasets.get(p.root);
  if (!desc) return { moves: [] };
  // exact duplicates (same normalised text, same image bytes) stay on one side of the split; images training skips do not move
  const usable = desc.media === 'images' ? { ...desc, members: desc.members.filter((m) => index.cache.get(m.file)?.samples.length) } : desc;
  return { moves: planStratifiedSplit(usable, { fraction: p.fraction, minTest: index.settings.minTestPerClass, keyOf: index.duplicateKey }) };
});
connection.onRequest(ReanalyseRequest, async (): Promise<ReanalyseResult> => {
  await fullAnalysis('reanalyse');
  return { datasets: index.datasets.size };
});

documents.listen(connection);
connection.listen();
