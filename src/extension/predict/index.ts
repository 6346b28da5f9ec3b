/**
 * Predict on selected text / each line, the active model run (status bar +
 * "Select Model Run…") and the local model server. Predictions run in a warm
 * child process (dist/predictor.js); the server runs `dist/cli.js serve` in a
 * child process. Nothing here loads an ML library.
 */
import * as vscode from 'vscode';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Host } from '../host';
import type { Prediction } from '../../protocol/run';
import { launchPredictor } from '../../trainer/launch';
import { defaultModelRun, listModelRuns, runIdFromArg, runScore, ModelRun } from './runs';
import { WarmPredictor, WarmPredictorError } from './warm';
import { LINE_CHUNK, predictInChunks } from './chunks';
import { copyText, inlineDecorationText, inlinePlacement, inlineText, INLINE_MAX_COLUMN, linesToCsv, preview, topK, formatP, LineResult } from './format';
import { curlExample, startServeChild, ServeChild, ServeStartError } from './serveProcess';
import { isLoopbackHost } from '../../core/util/net';
import { RUN_FILES } from '../../core/runs';
import { registerImageCommands, type ImagePredictOutcome } from './images';

const ACTIVE_RUN_KEY = 'fewshot.predict.activeRunId';

interface PredictedItem {
  text: string;
  /** 0-based, as in vscode.Range. */
  range: { start: { line: number; character: number }; end: { line: number; character: number } };
  label: string;
  probabilities: { label: string; p: number }[];
  /** The text shown inline after the range. */
  inline: string;
}

export type PredictOutcome =
  | { ok: true; kind: 'selection' | 'lines'; runId: string; runName: string; uri: string; items: PredictedItem[]; ms: number; message: string; csvFile?: string }
  | { ok: false; reason: 'untrusted' | 'no-editor' | 'no-selection' | 'no-run' | 'empty' | 'error' | 'cancelled'; message: string };

export interface ServeOutcome {
  url: string;
  port: number;
  pid: number;
  runId: string;
  curl: string;
}

/** Test and integration surface (also reachable as `host.predict` from the extension's exports). */
export interface PredictApi {
  activeRun(): Promise<ModelRun | undefined>;
  listRuns(): Promise<ModelRun[]>;
  /** The last successful prediction result. */
  lastResult(): PredictOutcome | undefined;
  /** The last Predict Image / Predict Folder outcome. */
  lastImageResult(): ImagePredictOutcome | undefined;
  /** Inline decorations currently shown for a document (after document edits they are gone). */
  decorations(uri: vscode.Uri): { range: vscode.Range; text: string; at: 'after' | 'before'; position: vscode.Position }[];
  /** The warm predictor (launch count, running state). */
  predictor: WarmPredictor;
  server(): ServeOutcome | undefined;
  /** Tests: read runs from another store folder (undefined = the workspace's .fewshot). */
  setStoreDirOverride(dir: string | undefined): void;
  statusBarText(): string | undefined;
}

interface DocItem { range: vscode.Range; prediction: Prediction; inline: string; runName: string }
interface DocState {
  items: DocItem[];
}

export function activatePredict(host: Host): PredictApi {
  const { context, output } = host;
  const t = vscode.l10n.t;
  let storeOverride: string | undefined;
  const storeDir = () => storeOverride ?? host.storeDir();
  let last: PredictOutcome | undefined;
  const docStates = new Map<string, DocState>();
  let serving: { child: ServeChild; outcome: ServeOutcome; token?: string; runName: string } | undefined;
  let lastKnownActive: string | undefined;

  const log = (m: string) => output.appendLine(`[predict] ${m}`);

  // Same folder the trainer uses (src/extension/train): the setting, else the extension's global storage.
  const hfCacheDir = () => vscode.workspace.getConfiguration('fewshot.huggingface').get<string>('cacheDir') || path.join(context.globalStorageUri.fsPath, 'hf');
  const warm = new WarmPredictor({
    launch: (runDir, onExit) => {
      const cfg = vscode.workspace.getConfiguration('fewshot.huggingface');
      return launchPredictor(runDir, {
        predictorScript: host.distPath('predictor.js'),
        hf: {
          cacheDir: hfCacheDir(),
          allowRemote: cfg.get<boolean>('allowRemoteModels', false),
        },
        onExit: (i) => onExit(i.lastLog),
        onLog: (line) => output.appendLine(`[predictor] ${line}`),
      });
    },
    log,
  });
  context.subscriptions.push({ dispose: () => warm.dispose() });

  // ------------------------------------------------------------ active run

  const listRuns = async (): Promise<ModelRun[]> => {
    const dir = storeDir();
    return dir ? listModelRuns(dir) : [];
  };

  const activeRun = async (runs?: ModelRun[]): Promise<ModelRun | undefined> => {
    const all = runs ?? (await listRuns());
    const chosen = context.workspaceState.get<string>(ACTIVE_RUN_KEY);
    return (chosen && all.find((r) => r.id === chosen)) || defaultModelRun(all);
  };

  const status = vscode.window.createStatusBarItem('fewshot.predict.model', vscode.StatusBarAlignment.Right, 100);
  status.name = t('Few-Shot Lab: Model Run');
  status.command = 'fewshot.selectModelRun';
  let statusVisible = false;
  context.subscriptions.push(status);

  const scoreText = (r: ModelRun): string =>
    r.testMacroF1 !== undefined ? t('test macro-F1 {0}', r.testMacroF1.toFixed(4))
      : r.bestValMacroF1 !== undefined ? t('val macro-F1 {0}', r.bestValMacroF1.toFixed(4))
        : t('no score');

  let refreshing: Promise<void> | undefined;
  const refresh = (): Promise<void> => {
    const p = (async () => {
      const runs = await listRuns();
      const run = await activeRun(runs);
      if (run) {
        status.text = `$(package) ${run.name}`;
        status.tooltip = new vscode.MarkdownString(
          `**${t('Few-Shot Lab model')}**: ${run.name}\n\n${scoreText(run)}${run.encoder ? ` · ${run.encoder}` : ''}\n\n${t('Click to choose another run.')}`,
        );
        status.show();
        statusVisible = true;
      } else {
        status.hide();
        statusVisible = false;
      }
      // The active run changed (chosen, deleted, a better default): the warm child holds the old model.
      if (lastKnownActive !== run?.dir) {
        if (warm.activeRunDir && warm.activeRunDir !== run?.dir) {
          log(`active run is now ${run?.id ?? 'none'}: stopping the predictor of ${path.basename(warm.activeRunDir)}`);
          const wasRunning = warm.running;
          warm.reset();
          // The user has been predicting: have the new model loaded before the next request.
          if (wasRunning && run && vscode.workspace.isTrusted) void warm.warm(run.dir).catch((e) => log(`preloading ${run.id} failed: ${(e as Error).message}`));
        }
        lastKnownActive = run?.dir;
      }
    })().catch((e) => log(`refresh failed: ${(e as Error).message}`));
    refreshing = p;
    return p;
  };

  let debounce: NodeJS.Timeout | undefined;
  const scheduleRefresh = () => {
    if (debounce) clearTimeout(debounce);
    debounce = setTimeout(() => void refresh(), 300);
  };
  context.subscriptions.push(host.runsChanged.event(scheduleRefresh));
  const folder = vscode.workspace.workspaceFolders?.[0];
  if (folder) {
    const watcher = vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(folder, `.fewshot/runs/*/${RUN_FILES.record}`));
    watcher.onDidChange(scheduleRefresh);
    watcher.onDidCreate(scheduleRefresh);
    watcher.onDidDelete(scheduleRefresh);
    context.subscriptions.push(watcher);
  }
  context.subscriptions.push({ dispose: () => debounce && clearTimeout(debounce) });
  void refresh();

  // ------------------------------------------------------------ decorations + hover

  const decoration = vscode.window.createTextEditorDecorationType({
    after: {
      margin: '0 0 0 1.5em',
      color: new vscode.ThemeColor('editorCodeLens.foreground'),
      fontStyle: 'italic',
    },
    rangeBehavior: vscode.DecorationRangeBehavior.ClosedClosed,
  });
  // Long lines: the prediction goes before the text, where it is on screen (the hover has it too).
  const decorationBefore = vscode.window.createTextEditorDecorationType({
    before: {
      margin: '0 1em 0 0',
      color: new vscode.ThemeColor('editorCodeLens.foreground'),
      fontStyle: 'italic',
    },
    rangeBehavior: vscode.DecorationRangeBehavior.ClosedClosed,
  });
  context.subscriptions.push(decoration, decorationBefore);

  /** Where each inline prediction of a document is drawn (after its text, or before it on long lines). */
  const placed = (doc: vscode.TextDocument, items: readonly { range: vscode.Range; inline: string }[]) => {
    const wraps = vscode.workspace.getConfiguration('editor', doc).get<string>('wordWrap', 'off') !== 'off';
    return items.map((it) => {
      const p = inlinePlacement(it.range.start.character, it.range.end.character, wraps ? Infinity : INLINE_MAX_COLUMN);
      const pos = p.at === 'after' ? it.range.end : new vscode.Position(it.range.start.line, p.column);
      return { at: p.at, range: new vscode.Range(pos, pos), hoverRange: it.range, text: inlineDecorationText(it.inline, p.at) };
    });
  };

  const applyDecorations = (editor: vscode.TextEditor) => {
    const st = docStates.get(editor.document.uri.toString());
    const all = placed(editor.document, st?.items ?? []);
    editor.setDecorations(decoration, all.filter((d) => d.at === 'after').map((d) => ({ range: d.hoverRange, renderOptions: { after: { contentText: d.text } } })));
    editor.setDecorations(decorationBefore, all.filter((d) => d.at === 'before').map((d) => ({ range: d.range, renderOptions: { before: { contentText: d.text } } })));
  };
  const applyToDoc = (uri: vscode.Uri) => {
    for (const ed of vscode.window.visibleTextEditors) if (ed.document.uri.toString() === uri.toString()) applyDecorations(ed);
  };
  context.subscriptions.push(
    vscode.workspace.onDidChangeTextDocument((e) => {
      if (!e.contentChanges.length) return;
      const key = e.document.uri.toString();
      if (docStates.delete(key)) applyToDoc(e.document.uri);
    }),
    vscode.workspace.onDidCloseTextDocument((d) => { docStates.delete(d.uri.toString()); }),
    vscode.window.onDidChangeVisibleTextEditors((eds) => { for (const ed of eds) if (docStates.has(ed.document.uri.toString())) applyDecorations(ed); }),
    vscode.languages.registerHoverProvider([{ scheme: 'file' }, { scheme: 'untitled' }, { scheme: 'vscode-remote' }], {
      provideHover(doc, pos) {
        const st = docStates.get(doc.uri.toString());
        const hit = st?.items.find((it) => it.range.contains(pos));
        if (!st || !hit) return undefined;
        const md = new vscode.MarkdownString();
        md.appendMarkdown(`**${t('Few-Shot Lab prediction')}**: \`${hit.prediction.label}\`\n\n`);
        md.appendMarkdown(`| ${t('Label')} | ${t('Probability')} |\n|---|---:|\n`);
        for (const x of topK(hit.prediction, 10)) md.appendMarkdown(`| ${x.label.replace(/\|/g, '\\|')} | ${formatP(x.p)} |\n`);
        md.appendMarkdown(`\n${t('Model run: {0}', hit.runName)}`);
        return new vscode.Hover(md, hit.range);
      },
    }),
  );

  // ------------------------------------------------------------ common checks + errors

  const untrusted = (): PredictOutcome | undefined => {
    if (vscode.workspace.isTrusted) return undefined;
    const message = t('Few-Shot Lab cannot run a model in Restricted Mode: predicting and serving run code from this workspace. Trust the workspace (Manage Workspace Trust) to enable them.');
    const manage = t('Manage Workspace Trust');
    void vscode.window.showWarningMessage(message, manage).then((c) => {
      if (c === manage) void vscode.commands.executeCommand('workbench.trust.manage');
    });
    return { ok: false, reason: 'untrusted', message };
  };

  const noRun = (): PredictOutcome => {
    const message = t('No trained model in this workspace yet. Train a model on a dataset first, then predict with it.');
    const train = t('Train Few-Shot Model');
    void vscode.window.showInformationMessage(message, train).then((c) => {
      if (c === train) void vscode.commands.executeCommand('fewshot.train');
    });
    return { ok: false, reason: 'no-run', message };
  };

  const showPredictError = (e: unknown, run: ModelRun): PredictOutcome => {
    const showLog = t('Show Log');
    const choose = t('Select Model Run');
    let message: string;
    if (e instanceof WarmPredictorError) {
      if (e.lastLog.length) log(`predictor log:\n${e.lastLog.slice(-20).join('\n')}`);
      switch (e.kind) {
        case 'load':
          message = t('Could not load the model of run {0}: {1}', run.name, e.message) + (e.fix ? ` ${e.fix}` : '');
          break;
        case 'load-timeout':
          message = t('The model of run {0} did not load in time ({1}). Its encoder may be missing, e.g. a Hugging Face model that is not cached while offline. Check the log, or choose another run.', run.name, e.message);
          break;
        case 'predict-timeout':
          message = t('The model of run {0} did not answer in time ({1}). The predictor was stopped; the next prediction starts a new one.', run.name, e.message);
          break;
        case 'crash':
          message = e.failures >= 2
            ? t('The predictor keeps crashing with the model of run {0}: {1}. See the log; try another run or retrain.', run.name, e.message.split('\n')[0])
            : t('The predictor crashed: {0}. The next prediction restarts it.', e.message.split('\n')[0]);
          break;
        default:
          message = t('Prediction failed with run {0}: {1}', run.name, e.message) + (e.fix ? ` ${e.fix}` : '');
      }
    } else {
      message = t('Prediction failed with run {0}: {1}', run.name, (e as Error)?.message ?? String(e));
    }
    log(message);
    void vscode.window.showErrorMessage(message, showLog, choose).then((c) => {
      if (c === showLog) output.show(true);
      if (c === choose) void vscode.commands.executeCommand('fewshot.selectModelRun');
    });
    return { ok: false, reason: 'error', message };
  };

  const runPredict = async (run: ModelRun, texts: string[]) =>
    vscode.window.withProgress(
      { location: vscode.ProgressLocation.Window, title: t('Few-Shot Lab: predicting with {0}…', run.name) },
      () => warm.predict(run.dir, texts),
    );

  const toItem = (range: vscode.Range, p: Prediction, runName: string): DocItem => ({ range, prediction: p, inline: inlineText(p), runName });
  const toPublic = (it: DocItem, text: string): PredictedItem => ({
    text,
    range: { start: { line: it.range.start.line, character: it.range.start.character }, end: { line: it.range.end.line, character: it.range.end.character } },
    label: it.prediction.label,
    probabilities: it.prediction.probabilities,
    inline: it.inline,
  });

  // ------------------------------------------------------------ commands

  const predictSelection = async (): Promise<PredictOutcome> => {
    const blocked = untrusted();
    if (blocked) return blocked;
    const editor = vscode.window.activeTextEditor;
    if (!editor) {
      const message = t('Open a file and select the text to classify first.');
      void vscode.window.showInformationMessage(message);
      return { ok: false, reason: 'no-editor', message };
    }
    const sels = editor.selections.filter((s) => !s.isEmpty && editor.document.getText(s).trim());
    if (!sels.length) {
      const message = t('Select the text to classify first (several selections are predicted together).');
      void vscode.window.showInformationMessage(message);
      return { ok: false, reason: 'no-selection', message };
    }
    // Document order, so results read top to bottom.
    sels.sort((a, b) => a.start.compareTo(b.start));
    const run = await activeRun();
    if (!run) return (last = noRun());
    const texts = sels.map((s) => editor.document.getText(s));
    const version = editor.document.version;
    let res;
    try {
      res = await runPredict(run, texts);
    } catch (e) {
      return showPredictError(e, run);
    }
    const items = sels.map((s, i) => toItem(new vscode.Range(s.start, s.end), res.predictions[i], run.name));
    // The text changed while predicting: the results no longer match it, so show no stale decorations.
    if (editor.document.version === version) {
      // Earlier results elsewhere in the document stay; overlapping ones are replaced.
      const key = editor.document.uri.toString();
      const kept = (docStates.get(key)?.items ?? []).filter((old) => !items.some((it) => it.range.intersection(old.range) !== undefined || old.range.end.line === it.range.end.line));
      docStates.set(key, { items: [...kept, ...items].sort((a, b) => a.range.start.compareTo(b.range.start)) });
      applyToDoc(editor.document.uri);
    }
    const copy = items.map((it) => copyText(it.prediction)).join('\n');
    const message = items.length === 1
      ? t('"{0}" → {1} (model {2})', preview(texts[0]), items[0].inline, run.name)
      : t('{0} selections → {1} (model {2})', items.length, items.map((it) => copyText(it.prediction)).join(', '), run.name);
    const copyBtn = t('Copy');
    void vscode.window.showInformationMessage(message, copyBtn).then(async (c) => {
      if (c === copyBtn) await vscode.env.clipboard.writeText(copy);
    });
    last = { ok: true, kind: 'selection', runId: run.id, runName: run.name, uri: editor.document.uri.toString(), items: items.map((it, i) => toPublic(it, texts[i])), ms: res.ms, message };
    return last;
  };

  const predictEachLine = async (arg?: unknown): Promise<PredictOutcome> => {
    const blocked = untrusted();
    if (blocked) return blocked;
    const opts = arg && typeof arg === 'object' && !(arg instanceof vscode.Uri) ? (arg as { exportCsv?: string }) : {};
    const editor = vscode.window.activeTextEditor;
    if (!editor) {
      const message = t('Open a file to label its lines first.');
      void vscode.window.showInformationMessage(message);
      return { ok: false, reason: 'no-editor', message };
    }
    const doc = editor.document;
    const lines: { line: vscode.TextLine; text: string }[] = [];
    for (let i = 0; i < doc.lineCount; i++) {
      const line = doc.lineAt(i);
      if (!line.isEmptyOrWhitespace) lines.push({ line, text: line.text });
    }
    if (!lines.length) {
      const message = t('{0} has no non-empty lines to label.', path.basename(doc.uri.fsPath || doc.uri.path));
      void vscode.window.showInformationMessage(message);
      return { ok: false, reason: 'empty', message };
    }
    const run = await activeRun();
    if (!run) return (last = noRun());
    const version = doc.version;
    let res;
    try {
      const texts = lines.map((l) => l.text);
      // big files: chunks, with progress and cancel (one request for a few lines, as before)
      res = texts.length <= LINE_CHUNK ? await runPredict(run, texts) : await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: t('Few-Shot Lab: predicting with {0}…', run.name), cancellable: true },
        (progress, token) => {
          let before = 0;
          return predictInChunks(texts, (chunk) => warm.predict(run.dir, chunk), {
            cancelled: () => token.isCancellationRequested,
            onChunk: (done, total) => { progress.report({ increment: (100 * (done - before)) / total, message: t('{0} of {1} lines', done, total) }); before = done; },
          });
        },
      );
      if ('cancelled' in res && res.cancelled) {
        const message = t('Predict Each Line was cancelled after {0} of {1} lines; nothing was labelled.', res.predictions.length, texts.length);
        void vscode.window.showInformationMessage(message);
        return (last = { ok: false, reason: 'cancelled', message });
      }
    } catch (e) {
      return showPredictError(e, run);
    }
    const items = lines.map((l, i) => toItem(new vscode.Range(l.line.range.end, l.line.range.end), res.predictions[i], run.name));
    // Hover anywhere on the line: keep the line range for the hover, the decoration sits at its end.
    const hoverItems = items.map((it, i) => ({ ...it, range: lines[i].line.range }));
    if (doc.version === version) {
      docStates.set(doc.uri.toString(), { items: hoverItems });
      applyToDoc(doc.uri);
    }
    const rows: LineResult[] = lines.map((l, i) => ({ line: l.line.lineNumber + 1, text: l.text, prediction: res.predictions[i] }));
    const counts = new Map<string, number>();
    for (const r of rows) counts.set(r.prediction.label, (counts.get(r.prediction.label) ?? 0) + 1);
    const summary = [...counts.entries()].sort((a, b) => b[1] - a[1]).map(([l, n]) => `${l} ${n}`).join(', ');
    const message = t('Labelled {0} lines with model {1}: {2}', rows.length, run.name, summary);
    const outcome: PredictOutcome = { ok: true, kind: 'lines', runId: run.id, runName: run.name, uri: doc.uri.toString(), items: items.map((it, i) => toPublic(it, lines[i].text)), ms: res.ms, message };
    last = outcome;
    const writeCsv = async (target: vscode.Uri) => {
      await vscode.workspace.fs.writeFile(target, Buffer.from(linesToCsv(rows), 'utf8'));
      return target;
    };
    if (opts.exportCsv) {
      outcome.csvFile = (await writeCsv(vscode.Uri.file(opts.exportCsv))).fsPath;
      return outcome;
    }
    const exportBtn = t('Export CSV');
    void vscode.window.showInformationMessage(message, exportBtn).then(async (c) => {
      if (c !== exportBtn) return;
      const base = doc.uri.scheme === 'file' ? doc.uri.fsPath.replace(/\.[^./\\]*$/, '') : path.join(folder?.uri.fsPath ?? '', 'predictions');
      const target = await vscode.window.showSaveDialog({
        defaultUri: vscode.Uri.file(`${base}.predictions.csv`),
        filters: { CSV: ['csv'] },
        saveLabel: t('Export CSV'),
      });
      if (!target) return;
      try {
        await writeCsv(target);
        const open = t('Open');
        const c2 = await vscode.window.showInformationMessage(t('Saved {0} predictions to {1}.', rows.length, target.fsPath), open);
        if (c2 === open) await vscode.window.showTextDocument(target);
      } catch (e) {
        void vscode.window.showErrorMessage(t('Could not write {0}: {1}', target.fsPath, (e as Error).message));
      }
    });
    return outcome;
  };

  const selectModelRun = async (arg?: unknown): Promise<ModelRun | undefined> => {
    const runs = await listRuns();
    const wanted = runIdFromArg(arg);
    let picked: ModelRun | undefined;
    if (wanted) {
      picked = runs.find((r) => r.id === wanted);
      if (!picked) {
        void vscode.window.showWarningMessage(t('Run {0} cannot be used for predictions: it is not a completed run with a saved model.', wanted));
        return undefined;
      }
    } else {
      if (!runs.length) {
        noRun();
        return undefined;
      }
      const current = await activeRun(runs);
      const byScore = [...runs].sort((a, b) => (runScore(b) ?? -1) - (runScore(a) ?? -1));
      const items = byScore.map((r) => ({
        label: `${r.id === current?.id ? '$(check) ' : ''}${r.name}`,
        description: scoreText(r),
        detail: [path.basename(r.dataset), r.encoder, r.createdAt ? new Date(r.createdAt).toLocaleString() : ''].filter(Boolean).join(' · '),
        run: r,
      }));
      const choice = await vscode.window.showQuickPick(items, {
        title: t('Select Model Run'),
        placeHolder: t('Model used by Predict Selection, Predict Each Line and Serve Model'),
        matchOnDescription: true,
        matchOnDetail: true,
      });
      picked = choice?.run;
    }
    if (!picked) return undefined;
    await context.workspaceState.update(ACTIVE_RUN_KEY, picked.id);
    await refresh();
    return picked;
  };

  // ------------------------------------------------------------ server

  const serverStatus = vscode.window.createStatusBarItem('fewshot.predict.server', vscode.StatusBarAlignment.Right, 99);
  serverStatus.name = t('Few-Shot Lab: Model Server');
  serverStatus.command = 'fewshot.serveModel';
  context.subscriptions.push(serverStatus);

  const showServing = () => {
    if (!serving) return;
    const { outcome } = serving;
    const copyBtn = t('Copy curl example');
    const stopBtn = t('Stop Server');
    void vscode.window
      .showInformationMessage(t('Model server for {0} is running at {1} (POST /predict, GET /health, GET /model).', serving.runName, outcome.url), copyBtn, stopBtn)
      .then(async (c) => {
        if (c === copyBtn) await vscode.env.clipboard.writeText(outcome.curl);
        if (c === stopBtn) await vscode.commands.executeCommand('fewshot.stopServer');
      });
  };

  const stopServer = async (quiet = false): Promise<boolean> => {
    const s = serving;
    if (!s) {
      if (!quiet) void vscode.window.showInformationMessage(t('No model server is running.'));
      return false;
    }
    serving = undefined;
    serverStatus.hide();
    await s.child.stop();
    log(`server for ${s.outcome.runId} stopped`);
    if (!quiet) void vscode.window.showInformationMessage(t('Model server stopped.'));
    return true;
  };

  const serveModel = async (arg?: unknown): Promise<ServeOutcome | undefined> => {
    if (untrusted()) return undefined;
    const opts = arg && typeof arg === 'object' ? (arg as { port?: number; quiet?: boolean }) : {};
    const run = await activeRun();
    if (!run) {
      noRun();
      return undefined;
    }
    if (serving && serving.outcome.runId === run.id) {
      if (!opts.quiet) showServing();
      return serving.outcome;
    }
    if (serving) await stopServer(true);
    const cfg = vscode.workspace.getConfiguration('fewshot.serve');
    const hostName = cfg.get<string>('host', '127.0.0.1') || '127.0.0.1';
    let port = opts.port ?? cfg.get<number>('port', 5000);
    const token = isLoopbackHost(hostName) ? undefined : randomBytes(24).toString('base64url');
    const cliPath = host.distPath('cli.js');
    if (!fs.existsSync(cliPath)) {
      void vscode.window.showErrorMessage(t('Cannot start the model server: {0} is missing. Rebuild or reinstall the extension.', cliPath));
      return undefined;
    }
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        const child = await vscode.window.withProgress(
          { location: vscode.ProgressLocation.Notification, title: t('Starting the model server for {0}…', run.name) },
          () =>
            startServeChild({
              cliPath,
              runDir: run.dir,
              host: hostName,
              port,
              token,
              maxRequestChars: cfg.get<number>('maxRequestChars'),
              allowedOrigins: cfg.get<string[]>('allowedOrigins', []).filter((o) => typeof o === 'string' && o.trim()),
              env: { FEWSHOT_HF_CACHE: hfCacheDir() },
              onLog: (l) => output.appendLine(`[serve] ${l}`),
              onExit: ({ code, signal }) => {
                if (serving?.child !== child) return;
                serving = undefined;
                serverStatus.hide();
                const showLog = t('Show Log');
                void vscode.window
                  .showWarningMessage(t('The model server stopped unexpectedly ({0}).', signal ?? `exit code ${code}`), showLog)
                  .then((c) => c === showLog && output.show(true));
              },
            }),
        );
        const outcome: ServeOutcome = {
          url: child.url,
          port: child.port,
          pid: child.pid,
          runId: run.id,
          curl: run.images ? curlExample(child.url, 'scan.png', token, true) : curlExample(child.url, 'Text to classify', token),
        };
        serving = { child, outcome, token, runName: run.name };
        serverStatus.text = `$(radio-tower) ${child.url.replace(/^https?:\/\//, '')}`;
        serverStatus.tooltip = t('Few-Shot Lab model server for {0}. Click for the URL, the curl example or to stop it.', run.name);
        serverStatus.show();
        log(`serving ${run.id} at ${child.url} (pid ${child.pid})`);
        if (!opts.quiet) showServing();
        return outcome;
      } catch (e) {
        const err = e as ServeStartError;
        if (err.lastLog?.length) log(`server log:\n${err.lastLog.slice(-20).join('\n')}`);
        if (err.portInUse && attempt === 0 && port !== 0) {
          const anyPort = t('Use Any Free Port');
          const c = await vscode.window.showWarningMessage(t('Port {0} is already in use.', port), anyPort);
          if (c === anyPort) { port = 0; continue; }
          return undefined;
        }
        const showLog = t('Show Log');
        void vscode.window
          .showErrorMessage(t('Could not start the model server for {0}: {1}', run.name, err.message), showLog)
          .then((c) => c === showLog && output.show(true));
        return undefined;
      }
    }
    return undefined;
  };
  context.subscriptions.push({ dispose: () => { if (serving) void serving.child.stop(2000); serving = undefined; } });

  context.subscriptions.push(
    vscode.commands.registerCommand('fewshot.predictSelection', predictSelection),
    vscode.commands.registerCommand('fewshot.predictEachLine', predictEachLine),
    vscode.commands.registerCommand('fewshot.selectModelRun', selectModelRun),
    vscode.commands.registerCommand('fewshot.serveModel', serveModel),
    vscode.commands.registerCommand('fewshot.stopServer', () => stopServer(false)),
    vscode.workspace.onDidGrantWorkspaceTrust(() => void refresh()),
  );

  const images = registerImageCommands(context, {
    warm, listRuns, activeRun: async (runs) => { await refreshing; return activeRun(runs); }, log,
    untrusted: () => untrusted() as { ok: false; reason: 'untrusted'; message: string } | undefined,
    noRun, showPredictError,
  });

  const api: PredictApi = {
    activeRun: async () => { await refreshing; return activeRun(); },
    listRuns,
    lastResult: () => last,
    lastImageResult: () => images.lastResult(),
    decorations(uri) {
      const st = docStates.get(uri.toString());
      const doc = vscode.workspace.textDocuments.find((d) => d.uri.toString() === uri.toString());
      if (!st || !doc) return [];
      return placed(doc, st.items).map((d) => ({ range: d.hoverRange, text: d.text, at: d.at, position: d.range.start }));
    },
    predictor: warm,
    server: () => serving?.outcome,
    setStoreDirOverride(dir) {
      storeOverride = dir;
      void refresh();
    },
    statusBarText: () => (statusVisible ? status.text : undefined),
  };
  (host as Host & { predict?: PredictApi }).predict = api;
  return api;
}
