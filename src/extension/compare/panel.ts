/**
 * The "Compare Runs" webview panel (view type `fewshot.compare`): owns the list
 * of compared runs, builds the model with src/core/compare.ts, keeps it fresh
 * when runs change on disk, and handles the webview's messages (annotations,
 * exports, add/remove runs).
 */
import * as vscode from 'vscode';
import * as path from 'node:path';
import type { Host } from '../host';
import {
  annotateRun, buildCompareModel, sortRows, tableToCsv, tableToMarkdown, type LoadedRun,
} from '../../core/compare';
import { isFewShotError, errorMessage } from '../../core/errors';
import {
  COMPARE_PROTOCOL_VERSION, COMPARE_VIEW_TYPE,
  type CompareModel, type CompareToHost, type CompareUiState, type ExportFormat, type ExportTarget, type HostToCompare, type RenderSummary,
} from '../../protocol/compare';
import { exportHeaders, webviewStrings } from './strings';
import { runStore } from '../train/store';
import { RUN_FILES } from '../../core/runs';
import { COMPARE_PAGE, escapeHtml, webviewHtml, webviewOptions } from '../webview/html';
import { writeJsonAtomic } from '../../core/util/fs';
import { promises as fsp } from 'node:fs';
import { validationKey } from '../dashboard/validation';

export interface PanelDeps {
  host: Host;
  /** Multi-select picker for "Add runs…" (excludes the given ids). */
  pickRuns(exclude: string[]): Promise<string[] | undefined>;
}

const MAX_PNG_BYTES = 32 * 1024 * 1024;
const POLL_MS = 2000;

export class ComparePanel {
  private static current: ComparePanel | undefined;
  static get active(): ComparePanel | undefined { return ComparePanel.current; }

  readonly panel: vscode.WebviewPanel;
  private runIds: string[];
  private colourSlots: Record<string, number>;
  private ui: CompareUiState;
  private model: CompareModel | undefined;
  private loaded: LoadedRun[] = [];
  private webviewReady = false;
  private pollTimer: NodeJS.Timeout | undefined;
  private polling = false;
  /** Stat signature of the compared runs at the last reload (see `signature`). */
  private lastSignature = '';
  private wasVisible = true;
  private disposed = false;
  private refreshTimer: NodeJS.Timeout | undefined;
  private refreshing: Promise<void> = Promise.resolve();
  private readonly disposables: vscode.Disposable[] = [];
  private readonly modelListeners = new Set<(m: CompareModel) => void>();
  private readonly renderListeners = new Set<(s: RenderSummary) => void>();
  /** Last messages posted to the webview (newest last, bounded): for tests and diagnostics. */
  readonly posted: HostToCompare[] = [];
  lastRender: RenderSummary | undefined;

  /** Opens (or reveals and re-targets) the single compare panel. */
  static async show(deps: PanelDeps, runIds: string[]): Promise<ComparePanel> {
    if (ComparePanel.current && !ComparePanel.current.disposed) {
      const p = ComparePanel.current;
      p.panel.reveal(undefined, false);
      await p.setRuns(runIds);
      return p;
    }
    const panel = vscode.window.createWebviewPanel(COMPARE_VIEW_TYPE, vscode.l10n.t('Compare Runs'), { viewColumn: vscode.ViewColumn.Active, preserveFocus: false }, ComparePanel.options(deps.host));
    const p = new ComparePanel(deps, panel, { runIds });
    ComparePanel.current = p;
    await p.refreshNow();
    return p;
  }

  /** Restores a panel after a window reload (WebviewPanelSerializer). */
  static async revive(deps: PanelDeps, panel: vscode.WebviewPanel, state: unknown): Promise<ComparePanel> {
    const s = (state && typeof state === 'object' ? state : {}) as Partial<CompareUiState>;
    let ui: CompareUiState = { ...s, runIds: Array.isArray(s.runIds) ? s.runIds.filter((x): x is string => typeof x === 'string') : [] };
    // The workbench persists webview state when the window unloads, which can lose the last change
    // (a sort made just before a reload); the host's own copy, written at each change, is newer.
    const saved = await ComparePanel.readSavedState(deps.host);
    if (saved && sameIds(saved.runIds, ui.runIds)) ui = { ...ui, ...saved, runIds: ui.runIds };
    panel.webview.options = webviewOptions(deps.host.context.extensionUri, COMPARE_PAGE);
    ComparePanel.current?.panel.dispose();
    const p = new ComparePanel(deps, panel, ui);
    ComparePanel.current = p;
    await p.refreshNow();
    return p;
  }

  /** Where the host keeps the panel's UI state (sort, toggles): the extension's workspace storage. */
  private static stateFile(host: Host): string | undefined {
    const dir = host.context.storageUri ?? host.context.globalStorageUri;
    return dir ? path.join(dir.fsPath, 'compare-ui-state.json') : undefined;
  }

  private static async readSavedState(host: Host): Promise<CompareUiState | undefined> {
    const file = ComparePanel.stateFile(host);
    if (!file) return undefined;
    try {
      const v = JSON.parse(await fsp.readFile(file, 'utf8')) as Partial<CompareUiState>;
      if (!v || typeof v !== 'object' || !Array.isArray(v.runIds)) return undefined;
      return v as CompareUiState;
    } catch { return undefined; }
  }

  private saveState(): void {
    const file = ComparePanel.stateFile(this.deps.host);
    if (file) void writeJsonAtomic(file, this.uiState).catch(() => { /* best effort: the workbench keeps its own copy */ });
  }

  private static options(host: Host): vscode.WebviewPanelOptions & vscode.WebviewOptions {
    return {
      ...webviewOptions(host.context.extensionUri, COMPARE_PAGE),
      // State lives in getState/setState + the host model, so the webview may be torn down when hidden.
      retainContextWhenHidden: false,
      enableFindWidget: true,
    };
  }

  private constructor(private readonly deps: PanelDeps, panel: vscode.WebviewPanel, ui: CompareUiState) {
    this.panel = panel;
    this.ui = ui;
    this.runIds = [...new Set(ui.runIds)];
    this.colourSlots = { ...(ui.colours ?? {}) };
    panel.iconPath = { light: vscode.Uri.file(path.join(deps.host.context.extensionPath, 'media', 'fewshot.svg')), dark: vscode.Uri.file(path.join(deps.host.context.extensionPath, 'media', 'fewshot.svg')) };
    panel.webview.html = this.html();
    this.disposables.push(
      panel.onDidDispose(() => this.dispose()),
      panel.webview.onDidReceiveMessage((m: CompareToHost) => { void this.handle(m); }),
      panel.onDidChangeViewState((e) => {
        // Re-read only when the panel comes back into view (runs may have changed meanwhile).
        const visible = e.webviewPanel.visible;
        if (visible && !this.wasVisible) this.scheduleRefresh();
        this.wasVisible = visible;
      }),
      deps.host.runsChanged.event(() => this.scheduleRefresh()),
    );
    // File watchers can be late or miss events (busy machines, network drives): a cheap stat-based poll backs them up.
    this.pollTimer = setInterval(() => { void this.poll(); }, POLL_MS);
    const store = deps.host.storeDir();
    if (store) {
      const w = vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(vscode.Uri.file(path.join(store, 'runs')), '**'));
      const onFs = (uri: vscode.Uri) => {
        const rel = path.relative(path.join(store, 'runs'), uri.fsPath);
        const id = rel.split(path.sep)[0];
        if (path.basename(rel) === RUN_FILES.heartbeat) return; // rewritten every 2 s while a run trains
        if (!rel.startsWith('..') && (this.runIds.includes(id) || rel === '')) this.scheduleRefresh(600);
      };
      this.disposables.push(w, w.onDidChange(onFs), w.onDidCreate(onFs), w.onDidDelete(onFs));
    }
  }

  get ids(): string[] { return [...this.runIds]; }
  get currentModel(): CompareModel | undefined { return this.model; }
  get isDisposed(): boolean { return this.disposed; }
  get uiState(): CompareUiState {
    const colours = Object.fromEntries(this.runIds.filter((id) => id in this.colourSlots).map((id) => [id, this.colourSlots[id]]));
    return { ...this.ui, runIds: [...this.runIds], colours };
  }

  onModel(cb: (m: CompareModel) => void): vscode.Disposable {
    this.modelListeners.add(cb);
    return new vscode.Disposable(() => this.modelListeners.delete(cb));
  }
  onRender(cb: (s: RenderSummary) => void): vscode.Disposable {
    this.renderListeners.add(cb);
    return new vscode.Disposable(() => this.renderListeners.delete(cb));
  }

  async setRuns(ids: string[]): Promise<void> {
    this.runIds = [...new Set(ids)];
    await this.refreshNow();
  }
  async addRuns(ids: string[]): Promise<void> {
    this.runIds = [...new Set([...this.runIds, ...ids])];
    await this.refreshNow();
  }
  async removeRun(id: string): Promise<void> {
    this.runIds = this.runIds.filter((x) => x !== id);
    await this.refreshNow();
  }

  /** The run store's change signature of each compared run (RunStore.signature: run files, not the heartbeat). */
  private async signature(): Promise<string> {
    const store = runStore(this.deps.host);
    if (!store) return '';
    const parts = await Promise.all(this.runIds.map(async (id) => `${id}:${await store.signature(id)}`));
    return parts.join('|');
  }

  private async poll(): Promise<void> {
    if (this.disposed || this.polling || !this.panel.visible || this.refreshTimer) return;
    this.polling = true;
    try {
      // A running run's process may die without touching its files: re-read while any run is running.
      const running = this.model?.runs.some((r) => r.status === 'running');
      if (running || (await this.signature()) !== this.lastSignature) this.scheduleRefresh(0);
    } finally {
      this.polling = false;
    }
  }

  private runsDir(): string | undefined {
    const s = this.deps.host.storeDir();
    return s ? path.join(s, 'runs') : undefined;
  }

  /** Debounced reload: file events come in bursts (an epoch appends metrics, run.json is renamed into place…). */
  private scheduleRefresh(delayMs = 250): void {
    if (this.disposed) return;
    if (this.refreshTimer) clearTimeout(this.refreshTimer);
    this.refreshTimer = setTimeout(() => { this.refreshTimer = undefined; void this.refreshNow(); }, delayMs);
  }

  /** Re-reads the compared runs and posts the new model. Serialised: one reload at a time. */
  refreshNow(): Promise<void> {
    const next = this.refreshing.then(() => this.reload()).catch((e) => {
      this.deps.host.output.appendLine(`compare: ${errorMessage(e)}`);
    });
    this.refreshing = next;
    return next;
  }

  private async reload(): Promise<void> {
    if (this.disposed) return;
    const runsDir = this.runsDir();
    if (!runsDir) {
      this.model = emptyModel(vscode.l10n.t('Open a folder to compare its runs (.fewshot/runs).'));
      this.post({ type: 'model', model: this.model });
      return;
    }
    const signature = await this.signature();
    const { model, loaded, colourSlots } = await buildCompareModel(runStore(this.deps.host) ?? runsDir, this.runIds, this.colourSlots);
    // what validation was, in the UI language (recorded in English in run.json)
    for (const r of [...model.rows, ...model.runs]) if (r.validation) r.validation = localValidation(r.validation);
    // Runs whose folder is gone (deleted) leave the comparison; damaged ones stay, with a notice.
    const gone = loaded.filter((r) => !r.record && /no longer exists/.test(r.error ?? '')).map((r) => r.id);
    if (gone.length) {
      this.runIds = this.runIds.filter((id) => !gone.includes(id));
      model.runIds = model.runIds.filter((id) => !gone.includes(id));
      model.missing = model.missing.filter((id) => !gone.includes(id));
      model.notices = model.notices.filter((n) => !(n.runId && gone.includes(n.runId)));
      model.notices.push({ severity: 'info', message: vscode.l10n.t('Deleted runs were removed from the comparison: {0}', gone.join(', ')) });
    }
    this.lastSignature = gone.length ? await this.signature() : signature;
    this.colourSlots = colourSlots;
    this.loaded = loaded;
    this.model = model;
    this.panel.title = this.runIds.length ? vscode.l10n.t('Compare Runs ({0})', this.runIds.length) : vscode.l10n.t('Compare Runs');
    if (this.webviewReady) this.post({ type: 'model', model });
    for (const cb of this.modelListeners) cb(model);
  }

  private post(m: HostToCompare): void {
    this.posted.push(m);
    if (this.posted.length > 50) this.posted.splice(0, this.posted.length - 50);
    void this.panel.webview.postMessage(m);
  }

  /** Handles one message from the webview (also the entry point tests use to act like the webview). */
  async handle(m: CompareToHost): Promise<void> {
    if (!m || typeof m !== 'object') return;
    try {
      switch (m.type) {
        case 'ready':
          this.webviewReady = true;
          await this.refreshing;
          if (!this.model) await this.refreshNow();
          this.post({
            type: 'init', protocol: COMPARE_PROTOCOL_VERSION, model: this.model ?? emptyModel(vscode.l10n.t('The runs could not be read; see the Few-Shot Lab output.')), strings: webviewStrings(),
            locale: vscode.env.language, state: this.uiState,
          });
          return;
        case 'state':
          if (m.state && typeof m.state === 'object') {
            const { runIds: _ignored, colours: _c, ...rest } = m.state;
            void _ignored; void _c;
            this.ui = { ...this.ui, ...rest };
            this.saveState();
          }
          return;
        case 'addRuns': {
          const picked = await this.deps.pickRuns(this.runIds);
          if (picked?.length) await this.addRuns(picked);
          return;
        }
        case 'removeRun':
          await this.removeRun(m.id);
          return;
        case 'setStar':
          await this.annotate(m.id, { starred: !!m.starred });
          return;
        case 'rename':
          await this.annotate(m.id, { name: String(m.name ?? '') });
          return;
        case 'setNote':
          await this.annotate(m.id, { note: String(m.note ?? '') });
          return;
        case 'exportTable':
          if (m.sort) this.ui.sort = m.sort;
          await this.exportTable(m.format, m.target);
          return;
        case 'exportPng':
          await this.exportPng(m.chart, m.dataUrl);
          return;
        case 'openRun':
          if (this.runIds.includes(m.id)) await vscode.commands.executeCommand('fewshot.openDashboard', m.id);
          return;
        case 'rendered':
          this.lastRender = m.summary;
          for (const cb of this.renderListeners) cb(m.summary);
          return;
        case 'log':
          this.deps.host.output.appendLine(`compare webview ${m.level}: ${m.message}`);
          return;
      }
    } catch (e) {
      const msg = isFewShotError(e) ? e.toUserString() : errorMessage(e);
      this.post({ type: 'error', message: msg });
      void vscode.window.showErrorMessage(msg);
    }
  }

  private async annotate(id: string, patch: { starred?: boolean; name?: string; note?: string }): Promise<void> {
    const store = runStore(this.deps.host);
    if (!store || !this.runIds.includes(id)) return;
    // Through the run store: the same per-run write lock as the Runs view's "Rename Run…" and the trainer.
    await annotateRun(store, id, patch);
    this.deps.host.runsChanged.fire();
    await this.refreshNow();
  }

  /** The table as CSV or Markdown, rows in the panel's sort order. */
  tableText(format: ExportFormat): string {
    const model = this.model;
    if (!model) return '';
    const rows = this.ui.sort ? sortRows(model.rows, this.ui.sort.column, this.ui.sort.descending) : model.rows;
    return format === 'csv' ? tableToCsv(rows, exportHeaders()) : tableToMarkdown(rows, exportHeaders());
  }

  /** Exports the table to the clipboard or a file (`file` skips the save dialog). Returns the file written, if any. */
  async exportTable(format: ExportFormat, target: ExportTarget, file?: vscode.Uri): Promise<vscode.Uri | undefined> {
    const text = this.tableText(format);
    const what = format === 'csv' ? 'CSV' : 'Markdown';
    if (target === 'clipboard') {
      await vscode.env.clipboard.writeText(text);
      this.post({ type: 'exported', what, clipboard: true });
      return undefined;
    }
    const ext = format === 'csv' ? 'csv' : 'md';
    const uri = file ?? await vscode.window.showSaveDialog({
      defaultUri: this.defaultExportUri(`fewshot-compare.${ext}`),
      filters: format === 'csv' ? { CSV: ['csv'] } : { Markdown: ['md'] },
      saveLabel: vscode.l10n.t('Export'),
      title: vscode.l10n.t('Export the comparison table'),
    });
    if (!uri) return undefined;
    // CSV gets a UTF-8 BOM so that spreadsheet programs read non-ASCII names (e.g. Chinese) correctly.
    const bytes = Buffer.from(format === 'csv' ? '\ufeff' + text : text, 'utf8');
    await vscode.workspace.fs.writeFile(uri, bytes);
    this.post({ type: 'exported', what, file: uri.fsPath });
    return uri;
  }

  async exportPng(chart: string, dataUrl: string, file?: vscode.Uri): Promise<vscode.Uri | undefined> {
    const m = /^data:image\/png;base64,([A-Za-z0-9+/=]+)$/.exec(dataUrl ?? '');
    if (!m) throw new Error(vscode.l10n.t('The chart image is not a PNG.'));
    const bytes = Buffer.from(m[1], 'base64');
    if (bytes.length > MAX_PNG_BYTES) throw new Error(vscode.l10n.t('The chart image is too large to save.'));
    const safe = String(chart).replace(/[^A-Za-z0-9._-]+/g, '-').slice(0, 60) || 'chart';
    const uri = file ?? await vscode.window.showSaveDialog({
      defaultUri: this.defaultExportUri(`fewshot-compare-${safe}.png`),
      filters: { PNG: ['png'] },
      saveLabel: vscode.l10n.t('Save'),
      title: vscode.l10n.t('Save the chart as PNG'),
    });
    if (!uri) return undefined;
    await vscode.workspace.fs.writeFile(uri, bytes);
    this.post({ type: 'exported', what: 'PNG', file: uri.fsPath });
    return uri;
  }

  private defaultExportUri(name: string): vscode.Uri | undefined {
    const folder = vscode.workspace.workspaceFolders?.[0];
    return folder ? vscode.Uri.joinPath(folder.uri, name) : undefined;
  }

  private html(): string {
    const lang = vscode.env.language.toLowerCase().startsWith('zh') ? 'zh-CN' : 'en';
    return webviewHtml(this.panel.webview, this.deps.host.context.extensionUri, {
      ...COMPARE_PAGE, lang, title: vscode.l10n.t('Compare Runs'),
      body: `<main id="app" aria-busy="true"><p class="loading">${escapeHtml(vscode.l10n.t('Loading runs…'))}</p></main>`,
    });
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    if (this.refreshTimer) clearTimeout(this.refreshTimer);
    if (this.pollTimer) clearInterval(this.pollTimer);
    if (ComparePanel.current === this) ComparePanel.current = undefined;
    for (const d of this.disposables.splice(0)) d.dispose();
    this.panel.dispose();
  }
}

function emptyModel(message: string): CompareModel {
  return { runIds: [], runs: [], rows: [], best: {}, settings: [], classes: [], datasetMismatch: false, datasetGroups: [], notices: [{ severity: 'info', message }], missing: [] };
}

function sameIds(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && [...a].sort().join('\n') === [...b].sort().join('\n');
}

/** A run's recorded validation description in the UI language (../dashboard/validation.ts). */
function localValidation(text: string): string {
  const m = validationKey(text);
  return m ? vscode.l10n.t(m.key, ...m.args) : text;
}
