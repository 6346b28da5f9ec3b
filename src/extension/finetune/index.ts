/**
 * Feature "Fine-tune a transformer": the command "Few-Shot Lab: Set Up Fine-Tuning", the check that the
 * interpreter can fine-tune (with a one-click set-up when it cannot), and the model picker of Train with
 * Options. The extension host only starts child processes (the CLI, python); no ML code runs here.
 */
import * as vscode from 'vscode';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Host } from '../host';
import { choosePython, probeEnv, runSetup, sourceLabel, type ChosenPython, type EnvReport, type SetupOptions, type SetupResult } from './python';

export { choosePython, probeEnv, type ChosenPython, type EnvReport };

const RECENT_KEY = 'fewshot.finetune.recentModels';

/** Test hook: the quick picks Train with Options showed (title, placeholder, item labels and values), newest last. */
export const shownPicks: { title: string; placeholder: string; items: { label: string; value: unknown }[] }[] = [];

export interface FinetuneApi {
  /** Run the set-up with its progress notification; resolves when it ended. */
  setup(opts?: SetupOptions): Promise<SetupResult>;
  /** Test hook: the last "what is missing" message shown (text and its buttons). */
  lastMissingMessage?: { text: string; actions: string[] };
  /** Test hook: the lines the last set-up reported in its progress notification. */
  lastSetupLines: string[];
  /** Test hook: the quick picks Train with Options showed. */
  shownPicks: typeof shownPicks;
}

let api: FinetuneApi | undefined;

export function activateFinetune(host: Host): FinetuneApi {
  const a: FinetuneApi = {
    lastSetupLines: [],
    shownPicks,
    setup: (opts) => setupWithProgress(host, a, opts),
  };
  api = a;
  host.context.subscriptions.push(
    vscode.commands.registerCommand('fewshot.setupFinetuning', () => a.setup().then(() => undefined)),
  );
  return a;
}

async function setupWithProgress(host: Host, a: FinetuneApi, opts: SetupOptions = {}): Promise<SetupResult> {
  const out = host.output;
  a.lastSetupLines = [];
  out.appendLine(`[setup] ${vscode.l10n.t('Setting up fine-tuning: a virtual environment with the pinned PyTorch requirements…')}`);
  const result = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, cancellable: true, title: vscode.l10n.t('Setting up fine-tuning') },
    (progress, token) => runSetup(host, token, {
      ...opts,
      onLine: (l) => {
        a.lastSetupLines.push(l);
        out.appendLine(`[setup] ${l}`);
        progress.report({ message: l.length > 120 ? `${l.slice(0, 117)}…` : l });
        opts.onLine?.(l);
      },
    }),
  );
  out.appendLine(`[setup] ${vscode.l10n.t('finished: {0}', result.status)}`);
  if (result.status === 'completed') {
    const train = vscode.l10n.t('Train with Options');
    void vscode.window.showInformationMessage(vscode.l10n.t('Fine-tuning is set up. Train a transformer with Train with Options → Fine-tune transformer.'), train)
      .then((b) => { if (b === train) void vscode.commands.executeCommand('fewshot.trainWithOptions'); });
  } else if (result.status === 'failed') {
    const showLog = vscode.l10n.t('Show Log');
    const tail = result.lastLines.slice(-3).join(' · ');
    void vscode.window.showErrorMessage(vscode.l10n.t('Setting up fine-tuning failed (exit code {0}): {1}', String(result.exitCode), tail), showLog)
      .then((b) => { if (b === showLog) out.show(true); });
  } else {
    vscode.window.setStatusBarMessage(vscode.l10n.t('$(circle-slash) Fine-tuning set-up cancelled'), 5000);
  }
  return result;
}

/**
 * The interpreter for a fine-tuning run, when it can fine-tune. Otherwise a message says what is missing
 * and offers "Set Up Fine-Tuning" in one click (and choosing another interpreter); returns undefined.
 */
export async function ensureFinetuneReady(host: Host, opts: { cliScript?: string } = {}): Promise<ChosenPython | undefined> {
  const python = await choosePython();
  const report = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Window, title: vscode.l10n.t('Checking the Python interpreter for fine-tuning…') },
    () => probeEnv(host, python, opts),
  );
  host.output.appendLine(`[finetune] python ${python.path} (${python.source}): ${report.ready ? 'ready' : `missing ${report.missing.join(', ')}${report.unusable ? ` (${report.unusable})` : ''}`}`);
  if (report.ready) return python;
  const text = missingText(report);
  const setup = vscode.l10n.t('Set Up Fine-Tuning');
  const choose = vscode.l10n.t('Choose Interpreter…');
  if (api) api.lastMissingMessage = { text, actions: [setup, choose] };
  void vscode.window.showWarningMessage(text, setup, choose).then((b) => {
    if (b === setup) void vscode.commands.executeCommand('fewshot.setupFinetuning');
    else if (b === choose) void vscode.commands.executeCommand('workbench.action.openSettings', 'fewshot.python.path');
  });
  return undefined;
}

export function missingText(r: EnvReport): string {
  const where = vscode.l10n.t('{0} (from {1})', r.python.path, sourceLabel(r.python.source));
  if (r.unusable) return vscode.l10n.t('Fine-tuning needs Python with PyTorch, but the interpreter {0} cannot run: {1}. Set up fine-tuning to create a virtual environment with the pinned requirements.', where, r.unusable);
  return vscode.l10n.t('Fine-tuning needs PyTorch and transformers: the Python interpreter {0} is missing {1}. Set up fine-tuning to create a virtual environment with the pinned requirements.', where, r.missing.join(', '));
}

// ------------------------------------------------------------------ models

const TOKENIZER_FILES = ['tokenizer.json', 'vocab.txt', 'tokenizer_config.json', 'spiece.model', 'sentencepiece.bpe.model', 'vocab.json'];

/** Whether `dir` looks like a local transformers model: config.json and a tokenizer file. */
export function isModelFolder(dir: string): boolean {
  return fs.existsSync(path.join(dir, 'config.json')) && TOKENIZER_FILES.some((f) => fs.existsSync(path.join(dir, f)));
}

/** Local model folders in the workspace (not inside .fewshot, node_modules or .git), sorted by path. */
export async function findModelFolders(max = 50): Promise<string[]> {
  const uris = await vscode.workspace.findFiles('**/config.json', '{**/node_modules/**,**/.fewshot/**,**/.git/**,**/.venv/**}', 500);
  const dirs = [...new Set(uris.filter((u) => u.scheme === 'file').map((u) => path.dirname(u.fsPath)))].filter(isModelFolder);
  return dirs.sort().slice(0, max);
}

export function recentModels(memento: vscode.Memento): string[] {
  return memento.get<string[]>(RECENT_KEY, []);
}

export async function rememberModel(memento: vscode.Memento, model: string): Promise<void> {
  const list = [model, ...recentModels(memento).filter((m) => m !== model)].slice(0, 8);
  await memento.update(RECENT_KEY, list);
}
