/**
 * Feature "Label tools" (issue 15): Check Labels (likely label errors as Information diagnostics, quick fixes
 * Relabel / Mark as reviewed), the audit after every run that saved out-of-fold predictions, Suggest What to Label
 * Next, "Label as…" (then a retrain from the embedding cache) and the Label Review view.
 *
 * Check Labels and Suggest run in a child process (dist/labels.js): the extension host only shows the results.
 * Every file change goes through the dataset fixes' undo stack (Few-Shot Lab: Undo Dataset Fix, and the Undo button
 * of the notification); "Mark as reviewed" is undone by the Undo button of its notification.
 */
import * as vscode from 'vscode';
import * as path from 'node:path';
import { promises as fsp } from 'node:fs';
import type { Host } from '../host';
import { datasetOfArg, type TrainApi } from '../train';
import type { AuditResult, LabelSuspect, SuggestResult } from '../../protocol/labels';
import type { LabelsRequest } from '../../protocol/labelsWorker';
import { runLabels, LabelsError } from '../../trainer/labelsClient';
import { showUntrusted } from '../train/manager';
import { diagnosticsApi } from '../diagnostics';
import { LabelStore } from '../../core/labels/reviewed';
import { auditOfRun } from '../../core/labels/runAudit';
import { applyMoves, FixUndoStack } from '../diagnostics/fixes';
import { labelCellEdit } from './cells';
import { columnOptions, formatOfDataset, LabelsState, SUSPECT_CODE, SOURCE } from './state';
import { LabelReviewProvider, type ReviewNode } from './tree';

export const LabelCommands = {
  check: 'fewshot.checkLabels',
  suggest: 'fewshot.suggestLabels',
  relabel: 'fewshot.labels.relabel',
  markReviewed: 'fewshot.labels.markReviewed',
  undoMarkReviewed: 'fewshot.labels.undoMarkReviewed',
  labelAs: 'fewshot.labels.labelAs',
} as const;

export interface LabelsApi {
  state: LabelsState;
  provider: LabelReviewProvider;
  view: vscode.TreeView<ReviewNode>;
  /** Audit of a finished run from its oof.jsonl (no-op without one); called after every completed training. */
  auditRun(runId: string): Promise<AuditResult | undefined>;
}

type SuspectRef = { dataset: string; suspect: LabelSuspect };

export function activateLabels(host: Host, train: TrainApi): LabelsApi {
  const ctx = host.context;
  const state = new LabelsState();
  const provider = new LabelReviewProvider(state);
  const view = vscode.window.createTreeView('fewshot.labelReview', { treeDataProvider: provider });
  const localUndo = new FixUndoStack();
  const undoStack = () => diagnosticsApi()?.undo ?? localUndo;
  ctx.subscriptions.push(state, provider, view);
  // the same lists under each dataset of the Datasets view
  ctx.subscriptions.push(train.datasetsProvider.setReviewLists(provider));

  const offerUndo = (message: string, undo: () => Thenable<unknown>) => {
    const label = vscode.l10n.t('Undo');
    void vscode.window.showInformationMessage(message, label).then(async (b) => {
      if (b !== label) return;
      try { await undo(); } catch (e) { void vscode.window.showErrorMessage(e instanceof Error ? e.message : String(e)); }
    });
  };
  const undoFix = () => undoStack().undo();

  // ------------------------------------------------------------ Check Labels / Suggest (child process)
  const runInChild = async <K extends LabelsRequest['kind']>(kind: K, arg: unknown): Promise<(K extends 'audit' ? AuditResult : SuggestResult) | undefined> => {
    if (!vscode.workspace.isTrusted) { await showUntrusted(); return undefined; }
    const storeDir = host.storeDir();
    if (!storeDir) { void vscode.window.showErrorMessage(vscode.l10n.t('Open a folder first: label checks are saved in <folder>/.fewshot/labels.')); return undefined; }
    const dataset = await pickDataset(arg, train, kind === 'audit' ? vscode.l10n.t('Check the labels of which dataset?') : vscode.l10n.t('Suggest texts to label in which dataset?'));
    if (!dataset) return undefined;
    const cfg = vscode.workspace.getConfiguration('fewshot');
    const req: LabelsRequest = {
      kind, dataset, storeDir, encoder: cfg.get<string>('train.encoder', 'auto'), ...columnOptions(dataset),
      hf: { cacheDir: cfg.get<string>('huggingface.cacheDir') || path.join(ctx.globalStorageUri.fsPath, 'hf'), allowRemote: cfg.get<boolean>('huggingface.allowRemoteModels', false) },
      ...(kind === 'suggest' ? { n: Math.max(1, Math.round(cfg.get<number>('suggestCount', 20))) } : {}),
    };
    const name = path.basename(dataset);
    const title = kind === 'audit' ? vscode.l10n.t('Checking the labels of {0}', name) : vscode.l10n.t('Ranking the unlabelled texts of {0}', name);
    try {
      return await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title, cancellable: true }, async (progress, token) => {
        const ac = new AbortController();
        token.onCancellationRequested(() => ac.abort());
        let reported = 0;
        const r = await runLabels(req as LabelsRequest & { kind: 'audit' }, {
          signal: ac.signal, script: host.distPath('labels.js'),
          onProgress: (message, done, total) => {
            const pct = total ? Math.floor((100 * (done ?? 0)) / total) : reported;
            progress.report({ message: progressText(message, done, total), increment: Math.max(0, pct - reported) });
            reported = Math.max(reported, pct);
          },
        });
        return r as K extends 'audit' ? AuditResult : SuggestResult;
      });
    } catch (e) {
      if (e instanceof LabelsError && e.cancelled) {
        vscode.window.setStatusBarMessage(vscode.l10n.t('$(circle-slash) Cancelled'), 4000);
        return undefined;
      }
      const fix = e instanceof LabelsError && e.fix ? ` ${vscode.l10n.t('Fix: {0}', e.fix)}` : '';
      const msg = (e instanceof Error ? e.message : String(e)) + fix;
      host.output.appendLine(`[labels] ${msg}`);
      void vscode.window.showErrorMessage(msg);
      return undefined;
    }
  };

  const check = async (arg?: unknown): Promise<AuditResult | undefined> => {
    const a = await runInChild('audit', arg);
    if (!a) return undefined;
    await state.setAudit(a);
    const shown = state.shownOf(a.dataset).length;
    void vscode.window.showInformationMessage(shown
      ? vscode.l10n.t('{0}: {1} likely label errors among {2} training examples (see Problems and Label Review).', path.basename(a.dataset), shown, a.examples)
      : vscode.l10n.t('{0}: no likely label errors among {1} training examples.', path.basename(a.dataset), a.examples));
    return a;
  };

  const suggest = async (arg?: unknown): Promise<SuggestResult | undefined> => {
    const r = await runInChild('suggest', arg);
    if (!r) return undefined;
    state.setSuggestions(r);
    await vscode.commands.executeCommand('fewshot.labelReview.focus');
    return r;
  };

  // ------------------------------------------------------------ fixes
  /** Sets the label of a file (move into the class folder `toDir`) or a table row (edit the cell); undoable. */
  const setLabel = async (dataset: string, file: string, line: number | undefined, label: string, toDir: string | undefined, title: string): Promise<boolean> => {
    if (formatOfDataset(dataset, file) === 'folders') {
      const to = path.join(toDir ?? path.join(path.dirname(path.dirname(file)), label), path.basename(file));
      if (await exists(to)) {
        void vscode.window.showErrorMessage(vscode.l10n.t('{0} already exists: rename one of the two files first.', to));
        return false;
      }
      if (!(await applyMoves(undoStack(), title, [{ from: file, to }]))) {
        void vscode.window.showErrorMessage(vscode.l10n.t('Could not move {0} to {1}.', file, to));
        return false;
      }
      return true;
    }
    if (!line) return false;
    const doc = await vscode.workspace.openTextDocument(vscode.Uri.file(file));
    let ce;
    try { ce = labelCellEdit(doc.getText(), formatOfDataset(dataset, file), file, line, label, columnOptions(dataset)); } catch (e) {
      void vscode.window.showErrorMessage(e instanceof Error ? e.message : String(e));
      return false;
    }
    const range = new vscode.Range(ce.range.start.line, ce.range.start.character, ce.range.end.line, ce.range.end.character);
    const edit = new vscode.WorkspaceEdit();
    edit.replace(doc.uri, range, ce.newText);
    if (!(await vscode.workspace.applyEdit(edit))) return false;
    await doc.save();
    const after = new vscode.Range(range.start, doc.positionAt(doc.offsetAt(range.start) + ce.newText.length));
    undoStack().push({ kind: 'text', title, file, undo: [{ range: after, newText: ce.oldText }] });
    return true;
  };

  const suspectFrom = (arg: unknown): SuspectRef | undefined => {
    const n = arg as (ReviewNode & { kind: 'suspect' }) | SuspectRef | undefined;
    if (!n) return undefined;
    if ('shown' in n && n.kind === 'suspect') return { dataset: n.dataset, suspect: n.shown.suspect };
    if ('suspect' in n) return n;
    return undefined;
  };

  const relabel = async (arg?: unknown, label?: string): Promise<boolean> => {
    const ref = suspectFrom(arg);
    if (!ref) return false;
    const to = label ?? ref.suspect.suggested;
    const title = vscode.l10n.t('Relabel as {0}', to);
    if (!(await setLabel(ref.dataset, ref.suspect.file, ref.suspect.line, to, undefined, title))) return false;
    await state.validate();
    offerUndo(vscode.l10n.t("Relabelled as '{0}': {1}", to, preview(ref.suspect.text)), undoFix);
    return true;
  };

  const reviewed = new Map<string, SuspectRef>();
  const markReviewed = async (arg?: unknown): Promise<boolean> => {
    const ref = suspectFrom(arg);
    const storeDir = host.storeDir();
    if (!ref || !storeDir) return false;
    await new LabelStore(storeDir).setReviewed(ref.suspect.text, ref.suspect.given, true, ref.suspect.file);
    reviewed.set(`${ref.suspect.textHash}:${ref.suspect.given}`, ref);
    await state.setSuspect(ref.dataset, ref.suspect, false);
    offerUndo(vscode.l10n.t("Marked as reviewed: '{0}' stays '{1}' (flagged again only if the text changes).", preview(ref.suspect.text), ref.suspect.given),
      () => vscode.commands.executeCommand(LabelCommands.undoMarkReviewed, ref));
    return true;
  };

  const undoMarkReviewed = async (arg?: unknown): Promise<boolean> => {
    const ref = suspectFrom(arg) ?? [...reviewed.values()].pop();
    const storeDir = host.storeDir();
    if (!ref || !storeDir) return false;
    await new LabelStore(storeDir).setReviewed(ref.suspect.text, ref.suspect.given, false);
    reviewed.delete(`${ref.suspect.textHash}:${ref.suspect.given}`);
    await state.setSuspect(ref.dataset, ref.suspect, true);
    return true;
  };

  const labelAs = async (arg?: unknown, chosen?: string): Promise<string | undefined> => {
    const n = arg as (ReviewNode & { kind: 'suggestion' }) | undefined;
    if (n?.kind !== 'suggestion') return undefined;
    const s = n.suggestion;
    let label = chosen;
    if (!label) {
      const items = Object.entries(s.probabilities).sort((a, b) => b[1] - a[1]).map(([l, p]) => ({ label: l, description: vscode.l10n.t('model: {0}', p.toFixed(2)) }));
      label = (await vscode.window.showQuickPick(items, { title: vscode.l10n.t('Label as…'), placeHolder: preview(s.text) }))?.label;
    }
    if (!label) return undefined;
    const toDir = formatOfDataset(n.dataset, s.file) === 'folders' ? path.join(await trainDir(n.dataset), label) : undefined;
    if (!(await setLabel(n.dataset, s.file, s.line, label, toDir, vscode.l10n.t('Label as {0}', label)))) return undefined;
    state.removeSuggestion(n.dataset, s);
    offerUndo(vscode.l10n.t("Labelled as '{0}': {1}. Retraining…", label, preview(s.text)), undoFix);
    retrain(n.dataset);
    return label;
  };

  /** A quick retrain after labelling (the embedding cache makes it fast); the new test macro-F1 shows when it ends. */
  const retrain = (dataset: string) => {
    const session = train.startTraining(dataset, {}, { showDashboard: false });
    void session?.done.then((r) => {
      const f1 = session.record?.testMacroF1 ?? session.report?.macro.f1;
      if (r.status === 'completed' && f1 !== undefined) {
        void vscode.window.showInformationMessage(vscode.l10n.t('Retrained {0}: test macro-F1 {1}.', path.basename(dataset), f1.toFixed(4)));
      }
    });
  };

  // ------------------------------------------------------------ after each run
  const auditRun = async (runId: string): Promise<AuditResult | undefined> => {
    const storeDir = host.storeDir();
    if (!storeDir) return undefined;
    // arithmetic on the run's saved out-of-fold probabilities: no child process needed (null: the run saved none)
    const a = await auditOfRun(storeDir, runId);
    if (a) await state.setAudit(a);
    return a ?? undefined;
  };
  const followed = new WeakSet<object>();
  ctx.subscriptions.push(train.manager.onDidChangeSessions(() => {
    for (const s of train.manager.running()) {
      if (followed.has(s)) continue;
      followed.add(s);
      void s.done.then((r) => (r.status === 'completed' && r.runId ? auditRun(r.runId) : undefined))
        .catch((e) => host.output.appendLine(`[labels] audit after run: ${e instanceof Error ? e.message : String(e)}`));
    }
  }));

  // The last audit of each dataset (saved in <store>/labels/audit.json) shows again after a reload.
  void (async () => {
    const storeDir = host.storeDir();
    if (!storeDir) return;
    const store = new LabelStore(storeDir);
    const [audits, marks] = await Promise.all([store.readAudits(), store.readReviewed()]);
    for (const a of Object.values(audits)) {
      if (state.audit(a.dataset)) continue;
      await state.setAudit({ ...a, suspects: a.suspects.filter((s) => !LabelStore.isReviewed(marks, s.text, s.given)) });
    }
  })().catch((e) => host.output.appendLine(`[labels] ${e instanceof Error ? e.message : String(e)}`));

  // ------------------------------------------------------------ quick fixes on the diagnostics
  ctx.subscriptions.push(vscode.languages.registerCodeActionsProvider({ scheme: 'file' }, {
    provideCodeActions(doc, _range, cx) {
      const out: vscode.CodeAction[] = [];
      for (const d of cx.diagnostics) {
        if (d.source !== SOURCE || d.code !== SUSPECT_CODE) continue;
        const shown = state.suspectAt(doc.uri.fsPath, d.range.start.line);
        if (!shown) continue;
        const ref: SuspectRef = { dataset: shown.dataset, suspect: shown.suspect };
        const re = new vscode.CodeAction(vscode.l10n.t('Relabel as {0}', shown.suspect.suggested), vscode.CodeActionKind.QuickFix);
        re.diagnostics = [d];
        re.isPreferred = true;
        re.command = { title: re.title, command: LabelCommands.relabel, arguments: [ref] };
        const rv = new vscode.CodeAction(vscode.l10n.t('Mark as reviewed'), vscode.CodeActionKind.QuickFix);
        rv.diagnostics = [d];
        rv.command = { title: rv.title, command: LabelCommands.markReviewed, arguments: [ref] };
        out.push(re, rv);
      }
      return out;
    },
  }, { providedCodeActionKinds: [vscode.CodeActionKind.QuickFix] }));

  ctx.subscriptions.push(
    vscode.commands.registerCommand(LabelCommands.check, check),
    vscode.commands.registerCommand(LabelCommands.suggest, suggest),
    vscode.commands.registerCommand(LabelCommands.relabel, relabel),
    vscode.commands.registerCommand(LabelCommands.markReviewed, markReviewed),
    vscode.commands.registerCommand(LabelCommands.undoMarkReviewed, undoMarkReviewed),
    vscode.commands.registerCommand(LabelCommands.labelAs, labelAs),
  );
  return { state, provider, view, auditRun };
}

function preview(t: string): string {
  const s = t.replace(/\s+/g, ' ').trim();
  return s.length > 50 ? s.slice(0, 50) + '…' : s;
}

async function exists(p: string): Promise<boolean> {
  try { await fsp.stat(p); return true; } catch { return false; }
}

/** The folder that holds a folder dataset's training class folders (train/ or training/, else the root). */
async function trainDir(root: string): Promise<string> {
  const { splitFolders } = await import('../../core/datasets');
  const { train } = await splitFolders(root);
  return train ? path.join(root, train) : root;
}

/** The child's progress (English, from the core) in the user's language. */
function progressText(message: string, done?: number, total?: number): string {
  if (message.startsWith('Embedding') && total) return vscode.l10n.t('Embedding the texts: {0}/{1}', done ?? 0, total);
  if (message.startsWith('Fitting')) return vscode.l10n.t('Computing out-of-fold probabilities…');
  if (message.startsWith('Loaded')) return vscode.l10n.t('Loading the dataset…');
  return message;
}

/** Dataset path from a command argument (datasetOfArg: Datasets view node, Explorer Uri, path) or a quick pick. */
async function pickDataset(arg: unknown, train: TrainApi, placeHolder: string): Promise<string | undefined> {
  const named = datasetOfArg(arg);
  if (named) return named;
  const list = await train.datasetsProvider.listDatasets();
  if (!list.length) {
    void vscode.window.showInformationMessage(vscode.l10n.t('No datasets found in this workspace.'));
    return undefined;
  }
  const picked = await vscode.window.showQuickPick(list.map((r) => ({ label: r.name, description: vscode.workspace.asRelativePath(r.root, false), root: r.root })), { placeHolder });
  return picked?.root;
}
