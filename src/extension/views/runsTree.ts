/**
 * "Runs" view: saved runs of `<workspace>/.fewshot/runs`, newest first.
 */
import * as vscode from 'vscode';
import * as path from 'node:path';
import type { RunRecord } from '../../protocol/run';
import type { Host } from '../host';
import { runStore } from '../train/store';
import type { TrainingManager } from '../train/manager';
import { RUN_FILES } from '../../core/runs';

/** How often the Runs view re-reads the store while a run reads 'running' (see watchLiveness). */
const LIVENESS_POLL_MS = 3_000;

export interface RunNode {
  id: string;
  dir: string;
  record?: RunRecord;
  error?: string;
}

export function formatDuration(ms: number | undefined): string | undefined {
  if (ms === undefined || !Number.isFinite(ms) || ms < 0) return undefined;
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h ${String(m % 60).padStart(2, '0')}m`;
}

export function runDurationMs(r: RunRecord): number | undefined {
  if (r.timings?.totalMs !== undefined) return r.timings.totalMs;
  if (r.finishedAt) return Date.parse(r.finishedAt) - Date.parse(r.createdAt);
  return undefined;
}

/** "dataset · encoder · F1 0.8123 · 12s" */
export function runDescription(r: RunRecord): string {
  const parts = [path.basename(r.config.dataset), r.encoder?.id ?? r.config.encoder];
  const f1 = r.testMacroF1 ?? r.bestValMacroF1;
  if (f1 !== undefined) parts.push(`F1 ${f1.toFixed(4)}`);
  const d = formatDuration(runDurationMs(r));
  if (d) parts.push(d);
  return parts.join(' · ');
}

export class RunsTreeProvider implements vscode.TreeDataProvider<RunNode>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<RunNode | undefined | void>();
  readonly onDidChangeTreeData = this.changed.event;
  private readonly disposables: vscode.Disposable[] = [];
  private watcher: vscode.FileSystemWatcher | undefined;
  private debounce: NodeJS.Timeout | undefined;
  private cache: Promise<RunNode[]> | undefined;
  private livenessTimer: NodeJS.Timeout | undefined;

  constructor(private readonly host: Host, private readonly manager: TrainingManager) {
    this.disposables.push(
      this.changed,
      host.runsChanged.event(() => this.refreshSoon(50)),
      manager.onDidChangeSessions(() => this.refreshSoon(50)),
      vscode.workspace.onDidChangeWorkspaceFolders(() => { this.watch(); this.refresh(); }),
    );
    this.watch();
  }

  private watch(): void {
    this.watcher?.dispose();
    const folder = vscode.workspace.workspaceFolders?.[0];
    if (!folder) return;
    this.watcher = vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(folder, '.fewshot/runs/**'));
    // The heartbeat of a running run is rewritten every 2 s: not a change worth a refresh.
    const on = (uri: vscode.Uri) => { if (path.basename(uri.fsPath) !== RUN_FILES.heartbeat) this.refreshSoon(300); };
    this.watcher.onDidCreate(on);
    this.watcher.onDidDelete(on);
    this.watcher.onDidChange(on);
  }

  refresh(): void {
    this.cache = undefined;
    this.changed.fire();
  }

  private refreshSoon(ms: number): void {
    if (this.debounce) clearTimeout(this.debounce);
    this.debounce = setTimeout(() => { this.debounce = undefined; this.refresh(); }, ms);
  }

  /** Runs, newest first (RunStore.list order). */
  list(): Promise<RunNode[]> {
    this.cache ??= (async () => {
      const store = runStore(this.host);
      if (!store) return [];
      try {
        const runs = await store.list();
        this.watchLiveness(runs);
        return runs;
      } catch (e) {
        this.host.output.appendLine(`runs: ${e instanceof Error ? e.message : String(e)}`);
        return [];
      }
    })();
    return this.cache;
  }

  /**
   * A process that dies writes nothing, so no file event tells: while any run reads 'running',
   * read the store again every LIVENESS_POLL_MS, so a dead one turns 'interrupted' on its own.
   */
  private watchLiveness(runs: RunNode[]): void {
    if (this.livenessTimer || !runs.some((r) => r.record?.status === 'running')) return;
    this.livenessTimer = setTimeout(() => { this.livenessTimer = undefined; this.refresh(); }, LIVENESS_POLL_MS);
  }

  getChildren(node?: RunNode): Promise<RunNode[]> | RunNode[] {
    return node ? [] : this.list();
  }

  getParent(): undefined {
    return undefined;
  }

  getTreeItem(n: RunNode): vscode.TreeItem {
    const r = n.record;
    const it = new vscode.TreeItem(r?.name ?? n.id, vscode.TreeItemCollapsibleState.None);
    it.id = `run:${n.id}`;
    it.contextValue = 'run';
    it.resourceUri = undefined;
    if (!r) {
      it.iconPath = new vscode.ThemeIcon('warning', new vscode.ThemeColor('list.warningForeground'));
      it.description = vscode.l10n.t('unreadable');
      it.tooltip = n.error ?? n.dir;
      return it;
    }
    const live = this.manager.find(n.id)?.status === 'running';
    // The store reads a run whose process is gone as 'interrupted'; a trainer of this window is alive by definition.
    const status = live ? 'running' : r.status;
    // A running run trained elsewhere: another window or the command line.
    const elsewhere = status === 'running' && !live;
    switch (status) {
      case 'running':
        it.iconPath = new vscode.ThemeIcon('sync~spin');
        break;
      case 'interrupted':
        it.iconPath = new vscode.ThemeIcon('debug-disconnect', new vscode.ThemeColor('list.warningForeground'));
        break;
      case 'completed':
        it.iconPath = new vscode.ThemeIcon('pass', new vscode.ThemeColor('testing.iconPassed'));
        break;
      case 'failed':
        it.iconPath = new vscode.ThemeIcon('error', new vscode.ThemeColor('testing.iconFailed'));
        break;
      case 'cancelled':
        it.iconPath = new vscode.ThemeIcon('circle-slash', new vscode.ThemeColor('disabledForeground'));
        break;
      default:
        it.iconPath = new vscode.ThemeIcon('question');
    }
    it.description = status === 'interrupted' ? `${statusLabel(status)} · ${runDescription(r)}` : runDescription(r);
    const md = new vscode.MarkdownString('', true);
    md.appendMarkdown(`**${escapeMd(r.name ?? n.id)}** — ${statusLabel(status)}${elsewhere ? ` (${vscode.l10n.t('not running in this window')})` : ''}\n\n`);
    md.appendMarkdown(`${vscode.l10n.t('Dataset')}: ${escapeMd(r.config.dataset)}  \n`);
    md.appendMarkdown(`${vscode.l10n.t('Encoder')}: ${escapeMd(r.encoder?.id ?? r.config.encoder)} · ${vscode.l10n.t('Head')}: ${escapeMd(r.config.head)}  \n`);
    if (r.backend) md.appendMarkdown(`${vscode.l10n.t('Backend')}: ${escapeMd(r.backend.name)}${r.backend.gpu ? ' (GPU)' : ''}  \n`);
    if (r.bestValMacroF1 !== undefined) md.appendMarkdown(`${vscode.l10n.t('Best validation macro-F1')}: ${r.bestValMacroF1.toFixed(4)}  \n`);
    if (r.testMacroF1 !== undefined) md.appendMarkdown(`${vscode.l10n.t('Test macro-F1')}: ${r.testMacroF1.toFixed(4)}${r.testAccuracy !== undefined ? ` · ${vscode.l10n.t('accuracy')} ${r.testAccuracy.toFixed(4)}` : ''}  \n`);
    const d = formatDuration(runDurationMs(r));
    if (d) md.appendMarkdown(`${vscode.l10n.t('Duration')}: ${d}  \n`);
    md.appendMarkdown(`${vscode.l10n.t('Created')}: ${new Date(r.createdAt).toLocaleString()}  \n`);
    if (status === 'interrupted') md.appendMarkdown(`\n$(debug-disconnect) ${vscode.l10n.t('The training process ended without finishing this run (killed, crashed or its machine stopped).')}\n`);
    else if (r.error) md.appendMarkdown(`\n$(error) ${escapeMd(r.error.message.split('\n')[0])}\n`);
    md.appendMarkdown(`\n\`${escapeMd(n.dir)}\``);
    it.tooltip = md;
    it.command = { title: vscode.l10n.t('Open Dashboard'), command: 'fewshot.openDashboard', arguments: [n.id] };
    return it;
  }

  dispose(): void {
    if (this.debounce) clearTimeout(this.debounce);
    if (this.livenessTimer) clearTimeout(this.livenessTimer);
    this.watcher?.dispose();
    for (const d of this.disposables.splice(0)) d.dispose();
  }
}

function escapeMd(s: string): string {
  return s.replace(/[\\`*_{}[\]()#+\-.!|<>]/g, '\\$&');
}

export function statusLabel(s: string): string {
  switch (s) {
    case 'running': return vscode.l10n.t('running');
    case 'completed': return vscode.l10n.t('completed');
    case 'failed': return vscode.l10n.t('failed');
    case 'cancelled': return vscode.l10n.t('cancelled');
    case 'interrupted': return vscode.l10n.t('interrupted');
    default: return s;
  }
}
