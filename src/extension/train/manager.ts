/**
 * Runs trainings in trainer child processes (src/trainer/launch.ts) and shows
 * their progress: a cancellable notification, a status-bar item and the
 * output channel. Several trainings may run side by side; each has its own
 * session, notification, status-bar item and dashboard.
 */
import * as vscode from 'vscode';
import * as path from 'node:path';
import { HEAD_SETTINGS, type ClassificationReport, type EpochMetrics, type ProgressUnit, type RunRecord, type RunStatus, type TrainConfig } from '../../protocol/run';
import type { TrainPhase, TrainRequest, TrainerToParent } from '../../protocol/trainer';
import { launchTrainer, type TrainerHandle, type TrainerResult } from '../../trainer/launch';
import type { Host } from '../host';
import { configFromSettings, type TrainOverrides } from './config';
import { isFewShotError } from '../../core/errors';
import { settingPython } from '../finetune/python';
import { stageKey } from './stages';

export interface TrainResult {
  runId?: string;
  runDir?: string;
  status: RunStatus;
  error?: string;
  fix?: string;
  /** Epoch metrics received live. */
  epochs: number;
  /** Last lines of the trainer log. */
  lastLog: string[];
}

export interface StartOptions {
  /** Open the live dashboard (default true). */
  showDashboard?: boolean;
  /** Test hooks: another trainer script / extra environment for the child. */
  trainerScript?: string;
  env?: NodeJS.ProcessEnv;
  /**
   * Method 'finetune': the interpreter sources only VS Code knows (TrainRequest.python: the setting, the Python
   * extension's interpreter); absent: the setting alone. The trainer adds FEWSHOT_PYTHON, the set-up venv and PATH.
   */
  python?: TrainRequest['python'];
}

export type SessionEvent =
  | { kind: 'started' }
  | { kind: 'epoch'; metrics: EpochMetrics }
  | { kind: 'progress' }
  | { kind: 'record' }
  | { kind: 'done' };

let seq = 0;

export class TrainingSession implements vscode.Disposable {
  readonly key = `session-${Date.now().toString(36)}-${++seq}`;
  runId?: string;
  runDir?: string;
  status: RunStatus = 'running';
  readonly startedAt = Date.now();
  finishedAt?: number;
  /** Progress points received live (epochs or scored configurations, see `unit`). */
  epochs: EpochMetrics[] = [];
  /** Points planned in `unit` (until the trainer says, the configured epochs). */
  totalEpochs: number;
  /** Unit of the points: from the trainer's messages, else run.json's `progress`, else 'epoch'. */
  unit: ProgressUnit = 'epoch';
  phase?: { name: TrainPhase; done: number; total: number; message?: string };
  /** Test hook: every message the progress notification was given, in order. */
  readonly notificationMessages: string[] = [];
  record?: RunRecord;
  report: ClassificationReport | null = null;
  error?: string;
  fix?: string;
  /** Last lines of the trainer's log (set when it ended). */
  lastLog: string[] = [];
  handle?: TrainerHandle;
  readonly done: Promise<TrainResult>;
  private readonly emitter = new vscode.EventEmitter<SessionEvent>();
  readonly onDidChange = this.emitter.event;
  private resolveDone!: (r: TrainResult) => void;

  constructor(readonly config: TrainConfig) {
    this.totalEpochs = config.epochs;
    this.done = new Promise((r) => { this.resolveDone = r; });
  }

  get datasetName(): string {
    return path.basename(this.config.dataset);
  }

  get live(): boolean {
    return this.status === 'running';
  }

  cancel(): void {
    if (this.status !== 'running') return;
    this.handle?.cancel();
  }

  /** Apply one trainer message. */
  apply(m: TrainerToParent): void {
    switch (m.type) {
      case 'started':
        this.runId = m.runId;
        this.runDir = m.runDir;
        this.record = m.record;
        if (m.record.progress) { this.unit = m.record.progress.unit; this.totalEpochs = m.record.progress.total; }
        this.emitter.fire({ kind: 'started' });
        break;
      case 'progress':
        this.phase = { name: m.phase, done: m.done, total: m.total, message: m.message !== undefined ? localStage(m.message) : undefined };
        this.emitter.fire({ kind: 'progress' });
        break;
      case 'epoch':
        if (!this.runId) this.runId = m.runId;
        this.totalEpochs = m.totalEpochs;
        this.unit = m.unit ?? m.metrics.unit ?? this.unit;
        this.phase = { name: 'train', done: m.metrics.epoch, total: m.totalEpochs };
        // one point per (unit, number): a SetFit run counts pair steps, then its head's configurations
        if (!this.epochs.some((e) => e.epoch === m.metrics.epoch && e.unit === m.metrics.unit)) this.epochs.push(m.metrics);
        this.emitter.fire({ kind: 'epoch', metrics: m.metrics });
        break;
      case 'done':
        this.record = m.record;
        this.report = m.report;
        this.runDir = m.runDir;
        break;
      case 'error':
        this.error = m.message;
        this.fix = m.fix;
        if (m.runId) this.runId = m.runId;
        if (m.runDir) this.runDir = m.runDir;
        break;
      default:
        break;
    }
  }

  /** The highest point received in the current unit (points may arrive out of order or twice). */
  latestPoint(): EpochMetrics | undefined {
    let best: EpochMetrics | undefined;
    for (const e of this.epochs) if ((e.unit ?? 'epoch') === this.unit && (!best || e.epoch > best.epoch)) best = e;
    return best;
  }

  /** Record updates that arrive outside the message stream (e.g. run.json re-read). */
  setRecord(r: RunRecord): void {
    this.record = r;
    if (r.progress) this.unit = r.progress.unit;
    this.emitter.fire({ kind: 'record' });
  }

  finish(r: TrainerResult): void {
    this.status = r.status;
    this.finishedAt = Date.now();
    this.lastLog = r.lastLog;
    if (r.runId) this.runId = r.runId;
    if (r.runDir) this.runDir = r.runDir;
    if (r.status === 'failed') {
      this.error = r.error ?? this.error ?? vscode.l10n.t('The trainer process ended unexpectedly.');
      this.fix = r.fix ?? this.fix;
    }
    this.emitter.fire({ kind: 'done' });
    this.resolveDone({
      runId: this.runId, runDir: this.runDir, status: r.status, error: this.status === 'failed' ? this.error : undefined,
      fix: this.fix, epochs: this.epochs.length, lastLog: r.lastLog,
    });
  }

  dispose(): void {
    this.emitter.dispose();
  }
}

export class TrainingManager implements vscode.Disposable {
  private readonly sessions = new Map<string, TrainingSession>();
  private readonly startedEmitter = new vscode.EventEmitter<TrainingSession>();
  /** Fired right after a session was created (before the child sends anything). */
  readonly onDidStart = this.startedEmitter.event;
  private readonly changedEmitter = new vscode.EventEmitter<void>();
  /** Fired when the set of running sessions changes. */
  readonly onDidChangeSessions = this.changedEmitter.event;

  constructor(private readonly host: Host) {
    void vscode.commands.executeCommand('setContext', 'fewshot.training', false);
  }

  /** Running sessions, oldest first. */
  running(): TrainingSession[] {
    return [...this.sessions.values()].filter((s) => s.status === 'running');
  }

  /** Any session (running or finished in this window) for a run id or session key. */
  find(idOrKey: string): TrainingSession | undefined {
    return this.sessions.get(idOrKey) ?? [...this.sessions.values()].find((s) => s.runId === idOrKey);
  }

  /**
   * Start a training of `dataset` with the settings plus `overrides`. Shows
   * errors itself; resolves with the session or undefined when it could not start.
   */
  start(dataset: string, overrides: TrainOverrides = {}, opts: StartOptions = {}): TrainingSession | undefined {
    if (!vscode.workspace.isTrusted) {
      void showUntrusted();
      return undefined;
    }
    const storeDir = this.host.storeDir();
    if (!storeDir) {
      void vscode.window.showErrorMessage(vscode.l10n.t('Open a folder first: runs are saved in <folder>/.fewshot/runs.'));
      return undefined;
    }
    let config: TrainConfig;
    try {
      config = configFromSettings(dataset, overrides);
    } catch (e) {
      const msg = isFewShotError(e) ? e.toUserString() : e instanceof Error ? e.message : String(e);
      void vscode.window.showErrorMessage(msg, { modal: false });
      return undefined;
    }
    const session = new TrainingSession(config);
    this.sessions.set(session.key, session);
    const out = this.host.output;
    const tag = () => `[${session.runId ?? session.datasetName}]`;
    out.appendLine(`${tag()} ${config.method === 'finetune'
      ? vscode.l10n.t('Fine-tuning {0} on {1} (up to {2} epochs)…', config.finetune?.model ?? '?', config.dataset, config.epochs)
      : HEAD_SETTINGS[config.head].includes('epochs')
      ? vscode.l10n.t('Training {0} (encoder {1}, head {2}, {3} epochs)…', config.dataset, config.encoder, config.head, config.epochs)
      : vscode.l10n.t('Training {0} (encoder {1}, head {2})…', config.dataset, config.encoder, config.head)}`);

    const hfCache = vscode.workspace.getConfiguration('fewshot.huggingface').get<string>('cacheDir') || path.join(this.host.context.globalStorageUri.fsPath, 'hf');
    const req: TrainRequest = {
      config,
      storeDir,
      hf: { cacheDir: hfCache, allowRemote: vscode.workspace.getConfiguration('fewshot.huggingface').get<boolean>('allowRemoteModels', false) },
      ...(config.method === 'finetune' ? { python: opts.python ?? { settingPath: settingPython() } } : {}),
    };
    let handle: TrainerHandle;
    try {
      handle = launchTrainer(req, {
        trainerScript: opts.trainerScript ?? this.host.distPath('trainer.js'),
        env: opts.env,
        onMessage: (m) => {
          session.apply(m);
          if (m.type === 'log') out.appendLine(`${tag()} ${m.level}: ${m.message}`);
          else if (m.type === 'started') { out.appendLine(`${tag()} ${vscode.l10n.t('run folder: {0}', m.runDir)}`); this.host.runsChanged.fire(); }
          else if (m.type === 'error') out.appendLine(`${tag()} error: ${m.message}${m.fix ? `\n${tag()} fix: ${m.fix}` : ''}`);
          else if (m.type === 'epoch') {
            const e = m.metrics;
            out.appendLine(`${tag()} ${m.unit ?? e.unit ?? 'epoch'} ${e.epoch}/${m.totalEpochs}${e.label ? ` (${e.label})` : ''} loss ${e.loss.toFixed(4)}${e.valMacroF1 !== null ? ` val macro-F1 ${e.valMacroF1.toFixed(4)}` : ''}`);
          } else if (m.type === 'done' && m.report) out.appendLine(m.report.text);
        },
      });
    } catch (e) {
      handle = { cancel() { /* nothing */ }, done: Promise.resolve({ status: 'failed', error: e instanceof Error ? e.message : String(e), lastLog: [] }) };
    }
    session.handle = handle;
    void handle.done.then(
      (r) => this.finished(session, r),
      (e) => this.finished(session, { status: 'failed', error: e instanceof Error ? e.message : String(e), lastLog: [] }),
    );
    this.showProgress(session);
    this.showStatusBar(session);
    this.changedEmitter.fire();
    void vscode.commands.executeCommand('setContext', 'fewshot.training', true);
    if (opts.showDashboard !== false) this.startedEmitter.fire(session);
    return session;
  }

  private finished(session: TrainingSession, r: TrainerResult): void {
    session.finish(r);
    const out = this.host.output;
    const name = session.runId ?? session.datasetName;
    out.appendLine(`[${name}] ${vscode.l10n.t('finished: {0}', r.status)}`);
    if (r.status === 'failed' && r.lastLog.length) {
      out.appendLine(`[${name}] ${vscode.l10n.t('last lines of the trainer log:')}`);
      for (const l of r.lastLog.slice(-20)) out.appendLine(`    ${l}`);
    }
    this.host.runsChanged.fire();
    this.changedEmitter.fire();
    void vscode.commands.executeCommand('setContext', 'fewshot.training', this.running().length > 0);
    if (r.status === 'failed') {
      const showLog = vscode.l10n.t('Show Log');
      const msg = vscode.l10n.t('Training on {0} failed: {1}', session.datasetName, firstLine(session.error ?? '')) + (session.fix ? ` ${vscode.l10n.t('Fix: {0}', session.fix)}` : '');
      void vscode.window.showErrorMessage(msg, showLog).then((b) => { if (b === showLog) out.show(true); });
    } else if (r.status === 'completed') {
      const f1 = session.record?.testMacroF1 ?? session.report?.macro.f1;
      vscode.window.setStatusBarMessage(
        f1 !== undefined
          ? vscode.l10n.t('$(pass) Training of {0} finished: test macro-F1 {1}', session.datasetName, f1.toFixed(4))
          : vscode.l10n.t('$(pass) Training of {0} finished', session.datasetName),
        8000,
      );
    } else if (r.status === 'cancelled') {
      vscode.window.setStatusBarMessage(vscode.l10n.t('$(circle-slash) Training of {0} cancelled', session.datasetName), 5000);
    }
  }

  private showProgress(session: TrainingSession): void {
    void vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, cancellable: true, title: vscode.l10n.t('Training {0}', session.datasetName) },
      async (progress, token) => {
        token.onCancellationRequested(() => session.cancel());
        let reported = 0;
        // Every report is computed from the session's latest state (its highest point, the stage after it),
        // never from the event that triggered it, so a late or repeated event cannot put the text back.
        const report = () => {
          const step = notificationStep(session, reported);
          reported = step.percent ?? reported;
          session.notificationMessages.push(step.message);
          progress.report({ message: step.message, ...(step.increment ? { increment: step.increment } : {}) });
        };
        const sub = session.onDidChange((e) => { if (e.kind === 'epoch' || e.kind === 'progress') report(); });
        try {
          await session.done;
        } finally {
          sub.dispose();
        }
      },
    );
  }

  private showStatusBar(session: TrainingSession): void {
    const item = vscode.window.createStatusBarItem(`fewshot.training.${session.key}`, vscode.StatusBarAlignment.Left, 50);
    item.name = vscode.l10n.t('Few-Shot Lab training');
    const update = () => {
      const e = session.latestPoint();
      const p = session.phase;
      const what = p && p.name !== 'train' && !e ? phaseLabel(p.name) : e ? pointLabel(session.unit, e.epoch, session.totalEpochs) : '…';
      item.text = `$(sync~spin) ${session.datasetName} ${what}`;
      const eta = etaMs(session);
      item.tooltip = vscode.l10n.t('Training {0} — click to open the dashboard', session.datasetName) + (eta !== undefined ? `\n${vscode.l10n.t('about {0} left', formatMs(eta))}` : '');
      item.command = { title: vscode.l10n.t('Open Dashboard'), command: 'fewshot.openDashboard', arguments: [session.runId ?? session.key] };
    };
    update();
    item.show();
    const sub = session.onDidChange((e) => {
      if (e.kind === 'done') {
        sub.dispose();
        item.dispose();
      } else update();
    });
  }

  /** Cancel one running session (picked by id/key, or asked when several run). */
  async cancel(idOrKey?: string): Promise<boolean> {
    let s = idOrKey ? this.find(idOrKey) : undefined;
    const running = this.running();
    if (!s) {
      if (!running.length) {
        void vscode.window.showInformationMessage(vscode.l10n.t('No training is running.'));
        return false;
      }
      if (running.length === 1) s = running[0];
      else {
        const picked = await vscode.window.showQuickPick(running.map((r) => ({
          label: r.runId ?? r.datasetName, description: r.config.dataset, session: r,
        })), { placeHolder: vscode.l10n.t('Which training should stop?') });
        s = picked?.session;
      }
    }
    if (!s || s.status !== 'running') return false;
    s.cancel();
    return true;
  }

  dispose(): void {
    for (const s of this.running()) s.cancel();
    this.startedEmitter.dispose();
    this.changedEmitter.dispose();
  }
}

/**
 * What the training notification says now, and how far its bar moves: the latest point ("epoch 39/60",
 * "configuration 7/18", "pair step 12/40") with the time left, then the stage that runs after it, if any
 * ("Training 0/1 — Refitting on all 30 training examples"). `reported`: the percentage shown so far.
 */
export function notificationStep(s: Pick<TrainingSession, 'latestPoint' | 'phase' | 'unit' | 'totalEpochs' | 'epochs'>, reported: number): { message: string; percent?: number; increment?: number } {
  const last = s.latestPoint();
  const parts: string[] = [];
  let percent: number | undefined;
  if (last) {
    const eta = etaMs({ epochs: [last], totalEpochs: s.totalEpochs });
    parts.push(pointLabel(s.unit, last.epoch, s.totalEpochs) + (eta !== undefined ? ` — ${vscode.l10n.t('about {0} left', formatMs(eta))}` : ''));
    percent = Math.max(reported, Math.min(100, (last.epoch / Math.max(1, s.totalEpochs)) * 100));
  }
  // a stage reported after the points (the session sets a message-less phase for each point)
  const p = s.phase;
  if (p && (p.message || !last)) parts.push(`${phaseLabel(p.name)}${p.total ? ` ${p.done}/${p.total}` : ''}${p.message ? ` — ${p.message}` : ''}`);
  return { message: parts.join(' · '), percent, increment: percent !== undefined ? percent - reported : undefined };
}

/**
 * Time left, extrapolated from the points that really happened (mean time per point so far × points left);
 * none before the first point or after the last planned one (then only unmeasured stages remain).
 */
export function etaMs(s: Pick<TrainingSession, 'epochs' | 'totalEpochs'>): number | undefined {
  const last = s.epochs[s.epochs.length - 1];
  if (!last || last.epoch <= 0 || last.epoch >= s.totalEpochs || !Number.isFinite(last.elapsedMs)) return undefined;
  return Math.max(0, ((s.totalEpochs - last.epoch) * last.elapsedMs) / last.epoch);
}

/** "epoch 7/60" or "configuration 7/18" (translated). */
export function pointLabel(unit: ProgressUnit, n: number, total: number): string {
  return unit === 'configuration' ? vscode.l10n.t('configuration {0}/{1}', n, total)
    : unit === 'pair-step' ? vscode.l10n.t('pair step {0}/{1}', n, total) : vscode.l10n.t('epoch {0}/{1}', n, total);
}

export function formatMs(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h ${String(m % 60).padStart(2, '0')}m`;
}

function firstLine(s: string): string {
  return s.split('\n')[0];
}

function phaseLabel(p: TrainPhase): string {
  switch (p) {
    case 'load': return vscode.l10n.t('Loading dataset');
    case 'embed': return vscode.l10n.t('Embedding texts');
    case 'train': return vscode.l10n.t('Training');
    case 'evaluate': return vscode.l10n.t('Evaluating');
    case 'save': return vscode.l10n.t('Saving');
    default: return String(p);
  }
}

/** Training runs code from the workspace's data pipeline: explain Restricted Mode and offer to trust. */
export async function showUntrusted(): Promise<void> {
  const manage = vscode.l10n.t('Manage Workspace Trust');
  const b = await vscode.window.showWarningMessage(
    vscode.l10n.t('Training is disabled in Restricted Mode: it starts a process that reads the files of this workspace. Trust the workspace to train (Manage Workspace Trust → Trust).'),
    manage,
  );
  if (b === manage) await vscode.commands.executeCommand('workbench.trust.manage');
}

/** A trainer stage message in the UI language (./stages.ts); unknown ones as sent. */
function localStage(text: string): string {
  const m = stageKey(text);
  return m ? vscode.l10n.t(m.key, ...m.args) : text;
}
