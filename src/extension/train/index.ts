/**
 * Feature "Train from the editor": commands, the Datasets and Runs views, the
 * training manager (trainer child processes) and the live dashboard.
 *
 * Concurrency: trainings run side by side, each in its own child process, with
 * its own progress notification, status-bar item and dashboard.
 */
import * as vscode from 'vscode';
import * as path from 'node:path';
import { promises as fsp } from 'node:fs';
import type { Host } from '../host';
import { TrainingManager, showUntrusted, type StartOptions, type TrainResult, type TrainingSession } from './manager';
import { askTrainOptions, imageOverrides, isImageDatasetFolder, type TrainOverrides } from './config';
import { DatasetsTreeProvider, type DatasetNode } from '../views/datasetsTree';
import { RunsTreeProvider, type RunNode } from '../views/runsTree';
import { registerRunCommands } from '../views/runCommands';
import { DashboardManager } from '../dashboard/panel';
import { pythonExtensionInterpreter, settingPython } from '../finetune/python';

export type { TrainOverrides, StartOptions, TrainResult, TrainingSession };

export interface TrainApi {
  /** Train and wait for the end. Rejects when the training could not start (bad settings, untrusted workspace). */
  train(dataset: string, overrides?: TrainOverrides, opts?: StartOptions): Promise<TrainResult>;
  /** Start a training and return its live session (cancel(), done, onDidChange). */
  startTraining(dataset: string, overrides?: TrainOverrides, opts?: StartOptions): TrainingSession | undefined;
  cancelTraining(idOrKey?: string): Promise<boolean>;
  manager: TrainingManager;
  dashboards: DashboardManager;
  datasetsProvider: DatasetsTreeProvider;
  runsProvider: RunsTreeProvider;
  datasetsView: vscode.TreeView<DatasetNode>;
  runsView: vscode.TreeView<RunNode>;
}

export function activateTrain(host: Host): TrainApi {
  const ctx = host.context;
  const manager = new TrainingManager(host);
  const dashboards = new DashboardManager(host, manager);
  const datasetsProvider = new DatasetsTreeProvider(host);
  const runsProvider = new RunsTreeProvider(host, manager);
  const datasetsView = vscode.window.createTreeView('fewshot.datasets', { treeDataProvider: datasetsProvider, showCollapseAll: true });
  const runsView = vscode.window.createTreeView('fewshot.runs', { treeDataProvider: runsProvider, canSelectMany: true });
  ctx.subscriptions.push(manager, dashboards, datasetsProvider, runsProvider, datasetsView, runsView);

  const start = async (arg: unknown, withOptions: boolean): Promise<TrainingSession | undefined> => {
    if (!vscode.workspace.isTrusted) {
      await showUntrusted();
      return undefined;
    }
    const dataset = await resolveDataset(arg, datasetsProvider);
    if (!dataset) return undefined;
    let overrides: TrainOverrides = {};
    if (withOptions) {
      const o = await askTrainOptions(ctx.workspaceState, dataset, host);
      if (!o) return undefined;
      overrides = o;
    }
    if (await isImageFolder(dataset, datasetsProvider)) {
      const adjusted = imageOverrides(dataset, overrides);
      for (const n of adjusted.notes) host.output.appendLine(n);
      overrides = adjusted.overrides;
    }
    // Fine-tuning: the interpreter sources only VS Code knows (the setting, the Python extension's) go to the trainer.
    const python = overrides.method === 'finetune'
      ? { settingPath: settingPython(), extensionPath: await pythonExtensionInterpreter(vscode.workspace.workspaceFolders?.[0]?.uri) }
      : undefined;
    return manager.start(dataset, overrides, python ? { python } : {});
  };

  ctx.subscriptions.push(
    vscode.commands.registerCommand('fewshot.train', (arg?: unknown) => start(arg, false).then(() => undefined)),
    vscode.commands.registerCommand('fewshot.trainWithOptions', (arg?: unknown) => start(arg, true).then(() => undefined)),
    vscode.commands.registerCommand('fewshot.cancelTraining', async (arg?: unknown) => {
      const id = typeof arg === 'string' ? arg : (arg as RunNode | undefined)?.id;
      await manager.cancel(id);
    }),
    vscode.commands.registerCommand('fewshot.showLog', () => host.output.show(true)),
    vscode.commands.registerCommand('fewshot.refreshDatasets', () => datasetsProvider.refresh()),
    vscode.commands.registerCommand('fewshot.refreshRuns', () => runsProvider.refresh()),
    vscode.commands.registerCommand('fewshot.openDashboard', async (arg?: unknown) => {
      let id = typeof arg === 'string' ? arg : (arg as RunNode | undefined)?.id;
      if (!id) id = await pickRun(runsProvider, vscode.l10n.t('Open the dashboard of which run?'));
      if (id) await dashboards.open(id);
    }),
    ...registerRunCommands(host, manager, dashboards, () => runsView.selection.map((n) => n.id)),
  );

  return {
    train: async (dataset, overrides, opts) => {
      const s = manager.start(dataset, overrides, opts);
      if (!s) throw new Error(vscode.l10n.t('Training of {0} could not start (see the error message).', dataset));
      return s.done;
    },
    startTraining: (dataset, overrides, opts) => manager.start(dataset, overrides, opts),
    cancelTraining: (id) => manager.cancel(id),
    manager, dashboards, datasetsProvider, runsProvider, datasetsView, runsView,
  };
}

/**
 * Dataset path named by a command argument: an Explorer Uri, a path (relative to the first workspace folder), a
 * Datasets view node, or a Label Review node; undefined when the argument names none (then the command asks).
 */
export function datasetOfArg(arg: unknown): string | undefined {
  if (arg instanceof vscode.Uri) return arg.fsPath;
  if (typeof arg === 'string' && arg) {
    const ws = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
    return ws ? path.resolve(ws, arg) : path.resolve(arg);
  }
  const node = arg as { ref?: { root?: string }; dataset?: unknown } | undefined;
  if (node?.ref?.root) return node.ref.root;
  if (typeof node?.dataset === 'string' && node.dataset) return node.dataset;
  return undefined;
}

/** Whether a dataset is an image folder dataset (as the Datasets view and findDatasets tell it: by its files' first bytes). */
async function isImageFolder(dataset: string, provider: DatasetsTreeProvider): Promise<boolean> {
  const listed = (await provider.listDatasets()).find((r) => r.root === dataset);
  return listed ? listed.media === 'images' : isImageDatasetFolder(dataset);
}

/** Dataset path from a command argument (datasetOfArg) or a quick pick. */
async function resolveDataset(arg: unknown, provider: DatasetsTreeProvider): Promise<string | undefined> {
  const named = datasetOfArg(arg);
  if (named) return named;

  const list = await provider.listDatasets();
  const activeFile = vscode.window.activeTextEditor?.document.uri;
  const activePath = activeFile?.scheme === 'file' ? activeFile.fsPath : undefined;
  type Item = vscode.QuickPickItem & { root?: string; browse?: boolean };
  const items: Item[] = list.map((r) => ({
    label: `$(${r.media === 'images' ? 'file-media' : r.format === 'folders' ? 'folder-library' : 'table'}) ${r.name}`,
    description: vscode.workspace.asRelativePath(r.root, false),
    detail: r.media === 'images' ? vscode.l10n.t('Image folders') : r.format === 'folders' ? vscode.l10n.t('Folder layout') : r.format.toUpperCase(),
    root: r.root,
  }));
  // The dataset of the active editor first.
  const activeIdx = activePath ? items.findIndex((i) => i.root && (activePath === i.root || activePath.startsWith(i.root + path.sep))) : -1;
  if (activeIdx > 0) items.unshift(...items.splice(activeIdx, 1));
  items.push({ label: `$(folder-opened) ${vscode.l10n.t('Browse…')}`, browse: true, alwaysShow: true });
  const picked = await vscode.window.showQuickPick(items, {
    title: vscode.l10n.t('Train Few-Shot Model'),
    placeHolder: list.length ? vscode.l10n.t('Pick a dataset to train on') : vscode.l10n.t('No datasets found in this workspace: browse for a folder or a CSV/TSV/JSONL file'),
    matchOnDescription: true,
  });
  if (!picked) return undefined;
  if (picked.root) return picked.root;
  const uris = await vscode.window.showOpenDialog({
    canSelectFiles: true, canSelectFolders: true, canSelectMany: false,
    defaultUri: vscode.workspace.workspaceFolders?.[0]?.uri,
    filters: { [vscode.l10n.t('Datasets')]: ['csv', 'tsv', 'jsonl'] },
    openLabel: vscode.l10n.t('Train on this dataset'),
  });
  const p = uris?.[0]?.fsPath;
  if (!p) return undefined;
  try {
    await fsp.stat(p);
  } catch {
    void vscode.window.showErrorMessage(vscode.l10n.t('{0} does not exist.', p));
    return undefined;
  }
  return p;
}

export async function pickRun(provider: RunsTreeProvider, placeHolder: string): Promise<string | undefined> {
  const runs = await provider.list();
  if (!runs.length) {
    void vscode.window.showInformationMessage(vscode.l10n.t('No runs yet: train a model first.'));
    return undefined;
  }
  const picked = await vscode.window.showQuickPick(runs.map((r) => ({
    label: r.record?.name ?? r.id,
    description: r.record ? `${r.record.status} · ${path.basename(r.record.config.dataset)}` : r.error,
    id: r.id,
  })), { placeHolder });
  return picked?.id;
}
