/**
 * The training dashboard: one webview panel per run. A panel either follows a
 * live TrainingSession (epoch by epoch) or shows a saved run read from disk
 * (metrics.jsonl + report.json). The webview talks the typed protocol of
 * src/protocol/webview.ts: 'ready' → 'init' (full state) → incremental messages.
 */
import * as vscode from 'vscode';
import * as path from 'node:path';
import * as fs from 'node:fs';
import {
  DASHBOARD_PROTOCOL_VERSION, DASHBOARD_STRINGS, DASHBOARD_VIEW_TYPE,
  headUsesTfjs, stagesOf,
  type DashboardAugmented, type DashboardCompute, type DashboardFinetune, type DashboardPersistedState, type DashboardRenderSummary, type DashboardRun, type DashboardState, type DashboardToHost,
  type HostToDashboard, type MisclassifiedSample, type SampleQuery, type StringTable,
} from '../../protocol/webview';
import type { ClassificationReport, EpochMetrics, ProgressUnit, RunRecord, TestPrediction } from '../../protocol/run';
import type { Host } from '../host';
import type { TrainingManager, TrainingSession } from '../train/manager';
import { runStore } from '../train/store';
import { RUN_FILES } from '../../core/runs';
import { validationKey } from './validation';
import { GpuMonitor } from './gpu';
import { runTag } from './title';
import { DASHBOARD_PAGE, webviewHtml, webviewOptions } from '../webview/html';
import { resolveHead } from '../../core/config';
import { SampleTable, samplesToCsv } from '../../core/labels/samples';

/** Unit of a run's points: recorded in run.json, else carried by its points, else epochs (runs made before units). */
function unitOf(rec: RunRecord | undefined, epochs: readonly EpochMetrics[]): ProgressUnit {
  return rec?.progress?.unit ?? epochs.find((e) => e.unit)?.unit ?? 'epoch';
}

/** 'auto → logreg' once the class counts are known (runs without a recorded algorithm). */
function headLabel(head: string, rec: RunRecord | undefined): string {
  const counts = rec?.dataset?.counts?.train;
  if (head !== 'auto' || rec?.algorithm || !counts || !Object.keys(counts).length) return head;
  try {
    return `auto → ${resolveHead('auto', counts).head}`;
  } catch {
    return head;
  }
}

const MAX_SAMPLES = 200;

/** Method 'finetune': stages (recorded ones with their trainable parameters, else from the live epochs), device, last epoch's throughput. */
function finetuneOf(rec: RunRecord | undefined, method: string | undefined, epochs: readonly EpochMetrics[]): DashboardFinetune | undefined {
  if (method !== 'finetune' && rec?.algorithm !== 'finetune-transformer' && !rec?.finetune) return undefined;
  const last = [...epochs].reverse().find((e) => e.samplesPerSecond !== undefined || e.deviceMemoryMiB !== undefined);
  return {
    stages: stagesOf(epochs, rec?.finetune?.stages),
    device: rec?.finetune?.device,
    samplesPerSecond: last?.samplesPerSecond,
    deviceMemoryMiB: last?.deviceMemoryMiB,
  };
}

/** The last log lines worth showing under a failed run's error (at most 12). */
function errorLog(lines: readonly string[] | undefined, detail: string | undefined): string[] | undefined {
  const src = lines?.length ? lines : detail ? detail.split(/\r?\n/) : [];
  const out = src.filter((l) => l.trim()).slice(-12);
  return out.length ? out : undefined;
}

export function dashboardStrings(): StringTable {
  const t: StringTable = {};
  for (const s of DASHBOARD_STRINGS) t[s] = vscode.l10n.t(s);
  return t;
}

/** "Training: fortunes-en (20261130-082123-ab12)": the run tells two tabs of one dataset apart. */
function liveTitle(s: TrainingSession): string {
  const tag = runTag(s.runId, s.record?.name, s.config.dataset);
  return tag ? vscode.l10n.t('Training: {0} ({1})', s.datasetName, tag) : vscode.l10n.t('Training: {0}', s.datasetName);
}

function dashboardHtml(webview: vscode.Webview, extensionUri: vscode.Uri, title: string): string {
  return webviewHtml(webview, extensionUri, { ...DASHBOARD_PAGE, lang: vscode.env.language, title, body: '<main id="fewshot-dashboard" data-view="dashboard"></main>' });
}

interface Services {
  host: Host;
  manager: TrainingManager;
  gpu: GpuMonitor;
}

/** One dashboard panel. */
export class DashboardPanel implements vscode.Disposable {
  private session?: TrainingSession;
  private runId?: string;
  private disk?: { record: RunRecord; epochs: EpochMetrics[]; report: ClassificationReport | null };
  /** Image runs that augment: the grid (augment-preview/preview.json), with webview URIs. */
  private augmented?: DashboardAugmented;
  private predictions?: Promise<TestPrediction[]>;
  /** The per-sample table of the run shown (test + out-of-fold rows), loaded on the webview's first query. */
  private table?: Promise<SampleTable | undefined>;
  private readonly disposables: vscode.Disposable[] = [];
  private sessionSub?: vscode.Disposable;
  private gpuLease?: vscode.Disposable;
  private ready = false;
  private liveRecordFromDisk?: RunRecord;
  private backendProbe = false;
  private readonly closedEmitter = new vscode.EventEmitter<void>();
  readonly onDidClose = this.closedEmitter.event;
  /** Test hook: every message posted to the webview. */
  readonly posted: HostToDashboard[] = [];
  private readonly receivedEmitter = new vscode.EventEmitter<DashboardToHost>();
  /** Test hook: every message received from the webview. */
  readonly onDidReceive = this.receivedEmitter.event;
  /** Test hook: what the webview last reported on screen. */
  lastRender?: DashboardRenderSummary;

  constructor(readonly panel: vscode.WebviewPanel, private readonly svc: Services) {
    const ext = svc.host.context.extensionUri;
    panel.iconPath = vscode.Uri.joinPath(ext, 'media', 'fewshot.svg');
    panel.webview.options = this.options();
    panel.webview.html = dashboardHtml(panel.webview, ext, panel.title);
    this.disposables.push(
      panel.webview.onDidReceiveMessage((m: DashboardToHost) => void this.onMessage(m)),
      panel.onDidDispose(() => this.dispose()),
      panel.onDidChangeViewState(() => this.updateGpuLease()),
      svc.gpu.onSample(() => { if (this.ready) this.post({ type: 'compute', compute: this.compute() }); }),
      svc.host.runsChanged.event(() => void this.onRunsChanged()),
      this.closedEmitter, this.receivedEmitter,
    );
  }

  /** The run id shown (known once the trainer started), else the session key. */
  get id(): string | undefined {
    return this.runId ?? this.session?.runId ?? this.session?.key;
  }

  matches(idOrKey: string): boolean {
    return idOrKey === this.runId || idOrKey === this.session?.runId || idOrKey === this.session?.key;
  }

  followSession(session: TrainingSession): void {
    this.sessionSub?.dispose();
    this.session = session;
    this.runId = session.runId;
    this.disk = undefined;
    this.table = undefined;
    this.augmented = undefined;
    this.allowResources(session.config.dataset);
    this.panel.title = liveTitle(session);
    this.sessionSub = session.onDidChange((e) => {
      this.runId = session.runId ?? this.runId;
      const title = liveTitle(session);
      if (this.panel.title !== title) this.panel.title = title;
      if (!this.ready) return;
      switch (e.kind) {
        case 'epoch':
          this.post({ type: 'epoch', metrics: e.metrics, totalEpochs: session.totalEpochs, unit: session.unit });
          this.post({ type: 'status', run: this.run() });
          if (session.config.method === 'finetune') this.post({ type: 'compute', compute: this.compute() });
          // Fine-tuning: run.json gains the device and the stages' trainable parameters while it runs; re-read it per epoch.
          if ((!this.backend() || session.config.method === 'finetune') && !this.backendProbe) void this.probeBackend();
          break;
        case 'started':
        case 'progress':
        case 'record':
          this.post({ type: 'status', run: this.run() });
          break;
        case 'done':
          void this.sendDone();
          break;
      }
    });
    this.updateGpuLease();
    if (this.ready) void this.sendInit();
  }

  async showRun(runId: string): Promise<void> {
    this.sessionSub?.dispose();
    this.session = undefined;
    this.runId = runId;
    this.predictions = undefined;
    this.table = undefined;
    await this.loadDisk();
    this.panel.title = vscode.l10n.t('Run: {0}', this.disk?.record.name ?? runId);
    this.updateGpuLease();
    if (this.ready) await this.sendInit();
  }

  private async loadDisk(): Promise<void> {
    const store = runStore(this.svc.host);
    if (!store || !this.runId) return;
    try {
      const [record, epochs, report] = await Promise.all([
        store.read(this.runId), store.readMetrics(this.runId).catch(() => []), store.readReport(this.runId).catch(() => null),
      ]);
      this.disk = { record, epochs, report };
      this.allowResources(record.config.dataset);
      this.augmented = await this.readAugmented(this.runId);
    } catch (e) {
      this.disk = undefined;
      void vscode.window.showErrorMessage(vscode.l10n.t('Cannot read run {0}: {1}', this.runId, e instanceof Error ? e.message : String(e)));
    }
  }

  /**
   * The webview may load the extension's page files, the run store (the augmented-sample grid) and the workspace
   * folders and the run's dataset (drill-down thumbnails of image files): nothing else.
   */
  private options(dataset?: string): vscode.WebviewOptions {
    const base = webviewOptions(this.svc.host.context.extensionUri, DASHBOARD_PAGE);
    const store = this.svc.host.storeDir();
    const roots = [...(base.localResourceRoots ?? []), ...(vscode.workspace.workspaceFolders ?? []).map((f) => f.uri)];
    if (store) roots.push(vscode.Uri.file(store));
    if (dataset && !roots.some((r) => r.scheme === 'file' && isInside(dataset, r.fsPath))) roots.push(vscode.Uri.file(path.dirname(dataset)), vscode.Uri.file(dataset));
    return { ...base, localResourceRoots: roots };
  }

  /** Adds the dataset's folder to the webview's roots when it lies outside the workspace (fewshot.datasets.paths). */
  private allowResources(dataset: string): void {
    const next = this.options(dataset);
    if ((next.localResourceRoots?.length ?? 0) !== (this.panel.webview.options.localResourceRoots?.length ?? 0)) this.panel.webview.options = next;
  }

  /** The run's augmented-sample grid with webview URIs (undefined without one). */
  private async readAugmented(runId: string | undefined): Promise<DashboardAugmented | undefined> {
    const store = runStore(this.svc.host);
    const g = store && runId ? await store.readAugmented(runId).catch(() => undefined) : undefined;
    if (!g?.rows.length) return undefined;
    const uri = (f: string) => this.panel.webview.asWebviewUri(vscode.Uri.file(f)).toString();
    return {
      transform: g.transform, seed: g.seed,
      rows: g.rows.map((r) => ({ label: r.label, name: path.basename(r.source), original: uri(r.original), copies: r.copies.map(({ file, ...p }) => ({ src: uri(file), ...p })) })),
    };
  }

  /** Whether the run shown trained on images (its predictions name image files). */
  private isImageRun(): boolean {
    return (this.session?.record ?? this.liveRecordFromDisk ?? this.disk?.record)?.dataset?.format === 'images';
  }

  private async onRunsChanged(): Promise<void> {
    // A saved run shown from disk may have been renamed or finished by another window/CLI.
    if (this.session || !this.runId) return;
    const before = this.disk?.record;
    await this.loadDisk();
    if (this.ready && this.disk && JSON.stringify(before) !== JSON.stringify(this.disk.record)) await this.sendInit();
  }

  private backend(): RunRecord['backend'] | undefined {
    return this.session?.record?.backend ?? this.liveRecordFromDisk?.backend ?? this.disk?.record.backend;
  }

  /** The trainer writes the chosen backend into run.json before the first epoch; read it once. */
  private async probeBackend(): Promise<void> {
    const store = runStore(this.svc.host);
    const id = this.session?.runId;
    if (!store || !id) return;
    this.backendProbe = true;
    try {
      const rec = await store.read(id);
      this.liveRecordFromDisk = rec;
      if (rec.finetune) {
        this.backendProbe = false;
        this.post({ type: 'compute', compute: this.compute() });
        this.post({ type: 'status', run: this.run() });
        return;
      }
      if (rec.backend) {
        this.post({ type: 'compute', compute: this.compute() });
        return;
      }
    } catch { /* not yet */ }
    this.backendProbe = false;
  }

  private run(): DashboardRun {
    const s = this.session;
    if (s) {
      const rec = s.record;
      const known = rec?.algorithm || rec?.progress ? rec : this.liveRecordFromDisk ?? rec;
      return {
        runId: s.runId,
        name: rec?.name ?? s.runId ?? s.datasetName,
        dataset: s.config.dataset,
        datasetName: s.datasetName,
        encoder: rec?.encoder?.id ?? s.config.encoder,
        head: headLabel(s.config.head, rec?.dataset ? rec : this.liveRecordFromDisk),
        algorithm: known?.algorithm,
        status: s.status,
        startedAt: s.startedAt,
        finishedAt: s.finishedAt,
        unit: s.unit,
        totalEpochs: s.totalEpochs,
        validation: localValidation(known?.progress?.validation),
        dataProblems: known?.dataProblems,
        phase: s.phase,
        error: s.error ? s.error + (s.fix ? `\n${vscode.l10n.t('Fix: {0}', s.fix)}` : '') : undefined,
        errorLog: s.status === 'failed' ? errorLog(s.lastLog, (known ?? rec)?.error?.detail) : undefined,
        finetune: finetuneOf(rec?.finetune ? rec : this.liveRecordFromDisk ?? rec, s.config.method, s.epochs),
        testMacroF1: rec?.testMacroF1 ?? s.report?.macro.f1,
        testAccuracy: rec?.testAccuracy ?? s.report?.accuracy,
        live: s.status === 'running',
      };
    }
    const r = this.disk?.record;
    const startedAt = r ? Date.parse(r.createdAt) : Date.now();
    const finishedAt = r?.finishedAt ? Date.parse(r.finishedAt) : r?.timings.totalMs ? startedAt + r.timings.totalMs : undefined;
    return {
      runId: this.runId,
      name: r?.name ?? this.runId ?? '?',
      dataset: r?.config.dataset ?? '',
      datasetName: r ? path.basename(r.config.dataset) : '',
      encoder: r?.encoder?.id ?? r?.config.encoder ?? '',
      head: r ? headLabel(r.config.head, r) : '',
      algorithm: r?.algorithm,
      status: r?.status ?? 'failed',
      startedAt,
      finishedAt: finishedAt ?? (r?.status === 'running' ? undefined : startedAt),
      unit: unitOf(r, this.disk?.epochs ?? []),
      totalEpochs: r?.progress?.total ?? r?.config.epochs ?? 0,
      validation: localValidation(r?.progress?.validation),
      dataProblems: r?.dataProblems,
      error: r?.error ? r.error.message + (r.error.fix ? `\n${vscode.l10n.t('Fix: {0}', r.error.fix)}` : '') : undefined,
      errorLog: r?.status === 'failed' ? errorLog(undefined, r.error?.detail) : undefined,
      finetune: finetuneOf(r, r?.config.method, this.disk?.epochs ?? []),
      testMacroF1: r?.testMacroF1,
      testAccuracy: r?.testAccuracy,
      live: false,
    };
  }

  private compute(): DashboardCompute {
    const b = this.backend();
    const cost = vscode.workspace.getConfiguration('fewshot.cost');
    const rec = this.session?.record ?? this.liveRecordFromDisk ?? this.disk?.record;
    const ftRec = rec?.finetune ? rec : this.liveRecordFromDisk;
    const headOnTfjs = headUsesTfjs(rec?.algorithm, this.session?.config.head ?? rec?.config.head);
    const d = ftRec?.finetune?.device;
    // Live, before run.json has it: the device each fine-tuning epoch names ("cuda · NVIDIA H200").
    const live = [...(this.session?.epochs ?? [])].reverse().find((e) => e.device)?.device;
    const [kind, ...name] = (live ?? '').split(' · ');
    const device = d ? { kind: d.kind, name: d.name, precision: d.precision } : live ? { kind, name: name.join(' · ') || kind, precision: '' } : undefined;
    // A GPU backend that does not fit the head does not make the run a GPU run (nor bill it as one); the worker's CUDA device does.
    const gpu = device ? device.kind === 'cuda' : headOnTfjs && (b?.gpu ?? false);
    return {
      device,
      backend: b?.name,
      gpu,
      headOnTfjs,
      nvidiaSmi: this.svc.gpu.available,
      gpuName: this.svc.gpu.name,
      sample: this.svc.gpu.latest,
      hourlyRate: gpu ? cost.get<number>('gpuHourlyRate', 0) : cost.get<number>('cpuHourlyRate', 0),
      currency: cost.get<string>('currency', 'USD'),
    };
  }

  state(): DashboardState {
    return {
      protocol: DASHBOARD_PROTOCOL_VERSION,
      run: this.run(),
      epochs: (this.session?.epochs ?? this.disk?.epochs ?? []).slice(),
      report: this.session?.report ?? this.disk?.report ?? null,
      compute: this.compute(),
      ...(this.augmented ? { augmented: this.augmented } : {}),
      ...(this.isImageRun() ? { images: true } : {}),
    };
  }

  private async sendInit(): Promise<void> {
    if (this.session?.runId && !this.backend()) await this.probeBackend();
    this.post({ type: 'init', state: this.state(), strings: dashboardStrings(), locale: vscode.env.language });
  }

  private async sendDone(): Promise<void> {
    const s = this.session;
    if (!s) return;
    if (s.runId) {
      // run.json has the final record (backend, timings) and report.json the report when the child wrote it.
      const store = runStore(this.svc.host);
      if (store) {
        try { s.setRecord(await store.read(s.runId)); } catch { /* keep the last one */ }
        if (!s.report && s.status === 'completed') s.report = await store.readReport(s.runId).catch(() => null);
      }
    }
    this.updateGpuLease();
    this.predictions = undefined;
    this.table = undefined;
    this.augmented = await this.readAugmented(s.runId);
    this.post({ type: 'done', run: this.run(), report: s.report, epochs: s.epochs.slice(), ...(this.augmented ? { augmented: this.augmented } : {}), ...(this.isImageRun() ? { images: true } : {}) });
    this.post({ type: 'compute', compute: this.compute() });
  }

  private post(m: HostToDashboard): void {
    this.posted.push(m);
    if (this.posted.length > 500) this.posted.splice(0, this.posted.length - 500);
    void this.panel.webview.postMessage(m);
  }

  private updateGpuLease(): void {
    const want = this.panel.visible && (this.session?.status === 'running' || this.svc.gpu.available === undefined);
    if (want && !this.gpuLease) this.gpuLease = this.svc.gpu.acquire();
    else if (!want && this.gpuLease) { this.gpuLease.dispose(); this.gpuLease = undefined; }
  }

  private async onMessage(m: DashboardToHost): Promise<void> {
    this.receivedEmitter.fire(m);
    switch (m.type) {
      case 'ready':
        this.ready = true;
        await this.sendInit();
        // A training that finished before the webview was ready still gets its 'done' (final record + report).
        if (this.session && !this.session.live) await this.sendDone();
        break;
      case 'cancel':
        this.session?.cancel();
        break;
      case 'compare': {
        const id = this.session?.runId ?? this.runId;
        if (id) await vscode.commands.executeCommand('fewshot.compareRuns', id);
        break;
      }
      case 'showLog':
        this.svc.host.output.show(true);
        break;
      case 'showProblems':
        await vscode.commands.executeCommand('workbench.actions.view.problems');
        break;
      case 'openFile': {
        // Only files that a data problem of this run names.
        const named = (this.run().dataProblems ?? []).some((p) => p.files?.includes(m.file));
        if (named) await openSample(m.file);
        break;
      }
      case 'rendered':
        this.lastRender = m.summary;
        break;
      case 'openSample':
        // an image run's drill-down opens the image in VS Code's image preview
        if (this.isImageRun()) await openImage(m.file);
        else await openSample(m.file, m.line);
        break;
      case 'querySamples': {
        const table = await this.sampleTable();
        if (table) this.post({ type: 'sampleTable', requestId: m.requestId, page: table.page(m.query) });
        break;
      }
      case 'exportSamples':
        await this.exportSamples(m.query);
        break;
      case 'openRow': {
        // Only the files of this run's rows.
        const row = (await this.sampleTable())?.byId(m.id);
        if (row?.file) await openSample(row.file, row.line);
        break;
      }
      case 'requestSamples': {
        const { samples, total } = await this.samples(m.trueLabel, m.predicted);
        this.post({ type: 'samples', requestId: m.requestId, trueLabel: m.trueLabel, predicted: m.predicted, samples, total });
        break;
      }
    }
  }

  private async samples(trueLabel: string, predicted: string): Promise<{ samples: MisclassifiedSample[]; total: number }> {
    const store = runStore(this.svc.host);
    const id = this.session?.runId ?? this.runId;
    if (!store || !id) return { samples: [], total: 0 };
    this.predictions ??= store.readPredictions(id).catch(() => []);
    const all = (await this.predictions).filter((p) => p.label === trueLabel && p.predicted === predicted);
    const images = this.isImageRun();
    const thumb = (f: string | undefined) => (images && f ? { image: this.panel.webview.asWebviewUri(vscode.Uri.file(f)).toString() } : {});
    return {
      total: all.length,
      samples: all.slice(0, MAX_SAMPLES).map((p) => ({ index: p.index, text: p.text, file: p.file, line: p.line, confidence: p.probabilities?.[p.predicted], ...thumb(p.file) })),
    };
  }

  /**
   * The run's per-sample table: predictions.jsonl (test) and oof.jsonl (out-of-fold training predictions; absent when
   * the run's head computed none). A file that cannot be read leaves its rows out and says why.
   */
  private sampleTable(): Promise<SampleTable | undefined> {
    const store = runStore(this.svc.host);
    const id = this.session?.runId ?? this.runId;
    if (!store || !id) return Promise.resolve(undefined);
    this.table ??= (async () => {
      const errors: string[] = [];
      const read = <T>(what: string, p: Promise<T[]>) => p.catch((e: unknown) => {
        errors.push(`${what}: ${e instanceof Error ? e.message : String(e)}`);
        return [] as T[];
      });
      const [test, oof] = await Promise.all([read(RUN_FILES.predictions, store.readPredictions(id)), read(RUN_FILES.oof, store.readOof(id))]);
      const rec = this.session?.record ?? this.disk?.record;
      return new SampleTable(test, oof, rec?.dataset?.labels, errors.join('; ') || undefined);
    })();
    return this.table;
  }

  /** Writes every row that passes the filter (sorted as shown) to a CSV the user picks; default: samples.csv in the run folder. */
  async exportSamples(query: SampleQuery, file?: vscode.Uri): Promise<vscode.Uri | undefined> {
    const table = await this.sampleTable();
    const store = runStore(this.svc.host);
    const id = this.session?.runId ?? this.runId;
    if (!table || !store || !id) return undefined;
    const rows = table.filtered(query);
    const uri = file ?? await vscode.window.showSaveDialog({
      defaultUri: vscode.Uri.file(path.join(store.dirOf(id), 'samples.csv')),
      filters: { CSV: ['csv'] },
      saveLabel: vscode.l10n.t('Export'),
      title: vscode.l10n.t('Export the per-sample table ({0} rows)', rows.length),
    });
    if (!uri) {
      this.post({ type: 'sampleExport' });
      return undefined;
    }
    try {
      // A UTF-8 BOM so that spreadsheet programs read non-ASCII text (e.g. Chinese) correctly, as the compare export.
      await vscode.workspace.fs.writeFile(uri, Buffer.from('\ufeff' + samplesToCsv(rows), 'utf8'));
      this.post({ type: 'sampleExport', file: uri.fsPath, rows: rows.length });
      return uri;
    } catch (e) {
      const error = vscode.l10n.t('Could not write {0}: {1}', uri.fsPath, e instanceof Error ? e.message : String(e));
      this.post({ type: 'sampleExport', error });
      void vscode.window.showErrorMessage(error);
      return undefined;
    }
  }

  /** For the serializer: the state the webview persisted. */
  static persistedRunId(state: unknown): string | undefined {
    const s = state as DashboardPersistedState | undefined;
    return typeof s?.runId === 'string' ? s.runId : typeof s?.state?.run.runId === 'string' ? s.state.run.runId : undefined;
  }

  dispose(): void {
    this.sessionSub?.dispose();
    this.gpuLease?.dispose();
    this.closedEmitter.fire();
    for (const d of this.disposables.splice(0)) d.dispose();
  }
}

async function openSample(file: string, line?: number): Promise<void> {
  if (!path.isAbsolute(file) || !fs.existsSync(file)) {
    void vscode.window.showWarningMessage(vscode.l10n.t('The sample file {0} no longer exists.', file));
    return;
  }
  const pos = line && line > 0 ? new vscode.Position(line - 1, 0) : undefined;
  await vscode.window.showTextDocument(vscode.Uri.file(file), {
    viewColumn: vscode.ViewColumn.Beside,
    preview: true,
    selection: pos ? new vscode.Range(pos, pos) : undefined,
  });
}

/** An image of an image run's drill-down, in VS Code's image preview beside the dashboard. */
async function openImage(file: string): Promise<void> {
  if (!path.isAbsolute(file) || !fs.existsSync(file)) {
    void vscode.window.showWarningMessage(vscode.l10n.t('The sample file {0} no longer exists.', file));
    return;
  }
  await vscode.commands.executeCommand('vscode.open', vscode.Uri.file(file), { viewColumn: vscode.ViewColumn.Beside, preview: true });
}

function isInside(p: string, dir: string): boolean {
  const rel = path.relative(dir, p);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

/** Opens, finds and restores dashboard panels. */
export class DashboardManager implements vscode.Disposable {
  private readonly panels = new Set<DashboardPanel>();
  private readonly disposables: vscode.Disposable[] = [];
  private readonly openedEmitter = new vscode.EventEmitter<DashboardPanel>();
  readonly onDidOpen = this.openedEmitter.event;
  readonly gpu = new GpuMonitor();

  constructor(private readonly host: Host, private readonly manager: TrainingManager) {
    this.disposables.push(
      this.gpu, this.openedEmitter,
      manager.onDidStart((s) => this.openSession(s)),
      vscode.window.registerWebviewPanelSerializer(DASHBOARD_VIEW_TYPE, {
        deserializeWebviewPanel: async (panel, state) => {
          const id = DashboardPanel.persistedRunId(state);
          const store = runStore(this.host);
          // Nothing to show: the run never started, or it was deleted since.
          if (!id || (!this.manager.find(id) && !(await store?.exists(id)))) {
            panel.dispose();
            return;
          }
          const p = this.adopt(panel);
          const live = this.manager.find(id);
          if (live) p.followSession(live);
          else await p.showRun(id);
        },
      }),
    );
  }

  all(): DashboardPanel[] {
    return [...this.panels];
  }

  find(idOrKey: string): DashboardPanel | undefined {
    return this.all().find((p) => p.matches(idOrKey));
  }

  private adopt(panel: vscode.WebviewPanel): DashboardPanel {
    const p = new DashboardPanel(panel, { host: this.host, manager: this.manager, gpu: this.gpu });
    this.panels.add(p);
    p.onDidClose(() => this.panels.delete(p));
    this.openedEmitter.fire(p);
    return p;
  }

  private create(title: string): DashboardPanel {
    const panel = vscode.window.createWebviewPanel(DASHBOARD_VIEW_TYPE, title, { viewColumn: vscode.ViewColumn.Active, preserveFocus: false }, webviewOptions(this.host.context.extensionUri, DASHBOARD_PAGE));
    return this.adopt(panel);
  }

  openSession(s: TrainingSession): DashboardPanel {
    const existing = this.find(s.key) ?? (s.runId ? this.find(s.runId) : undefined);
    if (existing) {
      existing.panel.reveal();
      return existing;
    }
    const p = this.create(liveTitle(s));
    p.followSession(s);
    return p;
  }

  /** Open (or reveal) the dashboard of a run id or live session key. */
  async open(idOrKey: string): Promise<DashboardPanel> {
    const existing = this.find(idOrKey);
    if (existing) {
      existing.panel.reveal();
      return existing;
    }
    const live = this.manager.find(idOrKey);
    if (live) return this.openSession(live);
    const p = this.create(vscode.l10n.t('Run: {0}', idOrKey));
    await p.showRun(idOrKey);
    return p;
  }

  dispose(): void {
    for (const p of this.all()) p.panel.dispose();
    for (const d of this.disposables.splice(0)) d.dispose();
  }
}

/** The run's recorded validation description in the UI language (src/extension/dashboard/validation.ts). */
function localValidation(text: string | undefined): string | undefined {
  const m = text ? validationKey(text) : undefined;
  return m ? vscode.l10n.t(m.key, ...m.args) : text;
}
