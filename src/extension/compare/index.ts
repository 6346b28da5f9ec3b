/**
 * "Compare Runs": command `fewshot.compareRuns` (Runs view multi-select, view
 * title, command palette, dashboard "compare with…"), the comparison webview
 * panel and its serializer. Test hook: command `fewshot.compare._api` returns
 * the CompareApi below (not contributed to the palette).
 */
import * as vscode from 'vscode';
import * as path from 'node:path';
import type { Host } from '../host';
import { describeRun, listRuns } from '../../core/compare';
import { COMPARE_VIEW_TYPE, type CompareModel, type CompareToHost, type CompareUiState, type ExportFormat, type HostToCompare, type RenderSummary } from '../../protocol/compare';
import { parseCompareArgs, pickerFigures } from './args';
import { runStore } from '../train/store';
import { ComparePanel, type PanelDeps } from './panel';

const COMPARE_API_COMMAND = 'fewshot.compare._api';

/** What tests (and other features) may drive. */
export interface CompareApi {
  /** Opens the panel on these runs (no picker). */
  open(runIds: string[]): Promise<void>;
  /** The panel's current model (undefined without a panel). */
  model(): CompareModel | undefined;
  /** Resolves with the next model the panel builds (e.g. after a run changed on disk). */
  nextModel(timeoutMs?: number): Promise<CompareModel>;
  /** Resolves with the next render summary the webview reports (or the last one when `fresh` is false). */
  nextRender(timeoutMs?: number, fresh?: boolean): Promise<RenderSummary>;
  /** The last render summary the webview reported (undefined before the first render). */
  lastRender(): RenderSummary | undefined;
  /** Acts like the webview: sends a message to the host side. */
  send(message: CompareToHost): Promise<void>;
  /** Messages the host posted to the webview (newest last). */
  posted(): HostToCompare[];
  /** The metrics table as the export would write it (panel sort order). */
  tableText(format: ExportFormat): string;
  /** Writes the table to `file` (no dialog); returns the path. */
  exportTable(format: ExportFormat, file: string): Promise<string>;
  /** Writes a PNG data URL to `file` (no dialog). */
  exportPng(chart: string, dataUrl: string, file: string): Promise<string>;
  runIds(): string[];
  uiState(): CompareUiState | undefined;
  isOpen(): boolean;
  close(): void;
}

/** Multi-select quick pick of the workspace's runs, newest first. */
async function pickRuns(host: Host, opts: { preselect?: string[]; exclude?: string[]; title?: string } = {}): Promise<string[] | undefined> {
  const store = host.storeDir();
  if (!store) {
    void vscode.window.showWarningMessage(vscode.l10n.t('Open a folder first: runs are saved in its .fewshot/runs folder.'));
    return undefined;
  }
  const runs = (await listRuns(runStore(host) ?? path.join(store, 'runs'))).filter((r) => !opts.exclude?.includes(r.id));
  if (!runs.length) {
    void vscode.window.showInformationMessage(opts.exclude?.length ? vscode.l10n.t('No other runs to add.') : vscode.l10n.t('No saved runs yet. Train a model first.'));
    return undefined;
  }
  type Item = vscode.QuickPickItem & { id: string };
  const items: Item[] = runs.map((r) => {
    if (!r.record) {
      return { id: r.id, label: `$(warning) ${r.id}`, description: vscode.l10n.t('unreadable'), detail: r.error };
    }
    const d = describeRun(r.record);
    const name = r.record.name || r.id;
    return {
      id: r.id,
      label: `${r.record.starred ? '$(star-full) ' : ''}${name}`,
      description: pickerFigures(d, (m, ...a) => vscode.l10n.t(m, ...a)),
      detail: [d.encoder, d.head, d.date, r.record.status !== 'completed' ? r.record.status : '', name !== r.id ? r.id : ''].filter(Boolean).join(' · '),
      picked: opts.preselect?.includes(r.id),
    };
  });
  const qp = vscode.window.createQuickPick<Item>();
  qp.canSelectMany = true;
  qp.matchOnDescription = true;
  qp.matchOnDetail = true;
  qp.title = opts.title ?? vscode.l10n.t('Compare Runs');
  qp.placeholder = vscode.l10n.t('Select the runs to compare (Space to select, Enter to confirm)');
  qp.items = items;
  qp.selectedItems = items.filter((i) => i.picked);
  return new Promise((resolve) => {
    let done = false;
    qp.onDidAccept(() => { done = true; resolve(qp.selectedItems.map((i) => i.id)); qp.hide(); });
    qp.onDidHide(() => { if (!done) resolve(undefined); qp.dispose(); });
    qp.show();
  });
}

export function activateCompare(host: Host): CompareApi {
  const deps: PanelDeps = {
    host,
    pickRuns: (exclude) => pickRuns(host, { exclude, title: vscode.l10n.t('Add runs to the comparison') }),
  };

  const compareRuns = async (...args: unknown[]) => {
    const parsed = parseCompareArgs(args);
    let ids = parsed.ids;
    if (!parsed.complete) {
      const picked = await pickRuns(host, {
        preselect: ids,
        title: ids.length ? vscode.l10n.t('Compare {0} with…', ids.join(', ')) : vscode.l10n.t('Compare Runs'),
      });
      if (!picked?.length) return;
      ids = picked;
    }
    if (!ids.length) return;
    await ComparePanel.show(deps, ids);
  };

  const api: CompareApi = {
    async open(runIds) { await ComparePanel.show(deps, runIds); },
    model: () => ComparePanel.active?.currentModel,
    nextModel(timeoutMs = 15_000) {
      const p = ComparePanel.active;
      if (!p) return Promise.reject(new Error('no compare panel'));
      return waitFor((cb) => p.onModel(cb), timeoutMs, 'model');
    },
    nextRender(timeoutMs = 30_000, fresh = true) {
      const p = ComparePanel.active;
      if (!p) return Promise.reject(new Error('no compare panel'));
      if (!fresh && p.lastRender) return Promise.resolve(p.lastRender);
      return waitFor((cb) => p.onRender(cb), timeoutMs, 'render');
    },
    lastRender: () => ComparePanel.active?.lastRender,
    async send(m) { await ComparePanel.active?.handle(m); },
    posted: () => [...(ComparePanel.active?.posted ?? [])],
    tableText: (f) => ComparePanel.active?.tableText(f) ?? '',
    async exportTable(f, file) {
      const p = ComparePanel.active;
      if (!p) throw new Error('no compare panel');
      const uri = await p.exportTable(f, 'file', vscode.Uri.file(file));
      return uri?.fsPath ?? '';
    },
    async exportPng(chart, dataUrl, file) {
      const p = ComparePanel.active;
      if (!p) throw new Error('no compare panel');
      return (await p.exportPng(chart, dataUrl, vscode.Uri.file(file)))?.fsPath ?? '';
    },
    runIds: () => ComparePanel.active?.ids ?? [],
    uiState: () => ComparePanel.active?.uiState,
    isOpen: () => !!ComparePanel.active && !ComparePanel.active.isDisposed,
    close: () => ComparePanel.active?.dispose(),
  };

  host.context.subscriptions.push(
    vscode.commands.registerCommand('fewshot.compareRuns', compareRuns),
    vscode.commands.registerCommand(COMPARE_API_COMMAND, () => api),
    vscode.window.registerWebviewPanelSerializer(COMPARE_VIEW_TYPE, {
      async deserializeWebviewPanel(panel, state) {
        await ComparePanel.revive(deps, panel, state);
      },
    }),
    { dispose: () => ComparePanel.active?.dispose() },
  );
  return api;
}

function waitFor<T>(subscribe: (cb: (v: T) => void) => vscode.Disposable, timeoutMs: number, what: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { sub.dispose(); reject(new Error(`compare: no ${what} within ${timeoutMs} ms`)); }, timeoutMs);
    const sub = subscribe((v) => { clearTimeout(timer); sub.dispose(); resolve(v); });
  });
}
