/**
 * "Datasets" view: dataset → split → class (count, warnings) → files/samples.
 * Everything is computed lazily when a node is expanded, asynchronously, and
 * long lists are capped with a "… N more" item, so big folders never freeze the UI.
 */
import * as vscode from 'vscode';
import type { ReviewNode } from '../labels/tree';
import * as path from 'node:path';
import { promises as fsp } from 'node:fs';
import type { DatasetFormat, DatasetRef } from '../../core/datasets';
import type { ClassSummary, DatasetSummary } from '../../protocol/diagnostics';
import type { Host } from '../host';

/** Files/samples listed under a class before the "… N more" item. */
export const MAX_LISTED = 100;
const TRAIN_DIRS = ['train', 'training'];
const TEST_DIRS = ['test', 'testing'];

export type SplitName = 'train' | 'test' | 'unsplit';

export interface ClassEntry {
  label: string;
  count: number;
  /** Folder of the class (folder layouts). */
  folder?: string;
  /** First MAX_LISTED items: a file (folders) or a record at a line (tables); images carry their size and format. */
  items: { file: string; line?: number; text?: string; image?: ImageItem }[];
  /** Image datasets: the class's files that were skipped or warned about (file + the loader's message). */
  problems?: { file: string; message: string; skipped: boolean }[];
}

export interface ImageItem { format: string; bytes: number }

export interface SplitEntry {
  split: SplitName;
  /** How the split came about (tables without a split column get a stratified hold-out). */
  source?: string;
  classes: ClassEntry[];
}

export interface DatasetScan {
  splits: SplitEntry[];
  error?: string;
}

export type DatasetNode =
  | { kind: 'dataset'; ref: DatasetRef }
  | { kind: 'split'; ref: DatasetRef; split: SplitEntry; all: SplitEntry[] }
  | { kind: 'class'; ref: DatasetRef; split: SplitEntry; entry: ClassEntry; warning?: string; summary?: ClassSummary }
  | { kind: 'file'; ref: DatasetRef; file: string; line?: number; text?: string; image?: ImageItem }
  | { kind: 'more'; count: number; folder?: string }
  | { kind: 'message'; text: string; error?: boolean }
  // the label tools' lists under a dataset (Check Labels, Suggest What to Label Next): nodes of src/extension/labels/tree.ts
  | Extract<ReviewNode, { kind: 'group' | 'suspect' | 'suggestion' }>;

/** The label tools' lists, shown under each dataset (set by the labels feature: LabelReviewProvider). */
export interface DatasetReviewLists {
  getChildren(node: ReviewNode): ReviewNode[];
  getTreeItem(node: ReviewNode): vscode.TreeItem;
  readonly onDidChangeTreeData: vscode.Event<unknown>;
}

function isHidden(name: string): boolean {
  return name.startsWith('.') || name.startsWith('~$') || name.endsWith('~') || /^(thumbs\.db|desktop\.ini|__macosx)$/i.test(name);
}

async function listDir(dir: string): Promise<import('node:fs').Dirent[]> {
  try {
    return await fsp.readdir(dir, { withFileTypes: true });
  } catch {
    return [];
  }
}

/**
 * The files of an image class folder, told by their first bytes (no image is decoded: the extension host loads no
 * image library). Empty, oversized and non-image files are the class's problems; corrupt or truncated images are
 * found when the images are decoded (training, the dataset diagnostics).
 */
async function scanImageClass(folder: string, files: string[]): Promise<Pick<ClassEntry, 'count' | 'items' | 'problems'>> {
  const { IMAGE_DEFAULTS, readHead, sniffImageFormat } = await import('../../core/datasets/sniff');
  const maxBytes = IMAGE_DEFAULTS.maxImageBytes;
  const { mapLimit } = await import('../../core/util/async');
  const read = await mapLimit(files, 16, async (name) => {
    const file = path.join(folder, name);
    try {
      const st = await fsp.stat(file);
      if (st.size === 0) return { file, problem: vscode.l10n.t('{0} is empty (0 bytes): skipped.', file) };
      if (st.size > maxBytes) return { file, problem: vscode.l10n.t('{0} is larger than {1} MB: skipped.', file, maxBytes / 1024 / 1024) };
      const format = sniffImageFormat(await readHead(file));
      if (!format || format === 'gif') return { file, problem: vscode.l10n.t('{0} is not a PNG, JPEG, WebP, BMP or TIFF image: skipped.', file) };
      return { file, image: { format, bytes: st.size } };
    } catch (e) {
      return { file, problem: vscode.l10n.t('{0} cannot be read: {1}', file, e instanceof Error ? e.message : String(e)) };
    }
  });
  const images = read.filter((r) => r.image);
  const problems = read.flatMap((r) => (r.problem ? [{ file: r.file, message: r.problem, skipped: true }] : []));
  return { count: images.length, items: images.slice(0, MAX_LISTED).map((r) => ({ file: r.file, image: r.image })), ...(problems.length ? { problems } : {}) };
}

/** Class folders of one split folder: counts via readdir only (no file is read; images: their first bytes). */
async function scanClassFolders(splitDir: string, images = false): Promise<ClassEntry[]> {
  const { isUnlabeledFolderName } = await import('../../core/datasets/load');
  const dirs = (await listDir(splitDir)).filter((e) => e.isDirectory() && !isHidden(e.name) && !isUnlabeledFolderName(e.name)); // unlabeled/: never a class
  const out = await Promise.all(dirs.map(async (d): Promise<ClassEntry> => {
    const folder = path.join(splitDir, d.name);
    const files = (await listDir(folder)).filter((e) => e.isFile() && !isHidden(e.name)).map((e) => e.name).sort();
    if (images) return { label: d.name.normalize('NFC'), folder, ...(await scanImageClass(folder, files)) };
    return { label: d.name.normalize('NFC'), count: files.length, folder, items: files.slice(0, MAX_LISTED).map((f) => ({ file: path.join(folder, f) })) };
  }));
  return out.sort((a, b) => (a.label < b.label ? -1 : a.label > b.label ? 1 : 0));
}

export async function scanDataset(ref: DatasetRef): Promise<DatasetScan> {
  try {
    if (ref.format === 'folders') {
      const ents = (await listDir(ref.root)).filter((e) => e.isDirectory());
      const train = ents.find((e) => TRAIN_DIRS.includes(e.name.toLowerCase()));
      const test = ents.find((e) => TEST_DIRS.includes(e.name.toLowerCase()));
      const images = ref.media === 'images';
      if (!train) return { splits: [{ split: 'unsplit', classes: await scanClassFolders(ref.root, images) }] };
      const splits: SplitEntry[] = [{ split: 'train', classes: await scanClassFolders(path.join(ref.root, train.name), images) }];
      if (test) splits.push({ split: 'test', classes: await scanClassFolders(path.join(ref.root, test.name), images) });
      return { splits };
    }
    // Table formats: the loader parses the file (async) and knows the columns and split.
    const { loadDataset } = await import('../../core/datasets');
    const ds = await loadDataset(ref.root);
    const group = (samples: typeof ds.train): ClassEntry[] => {
      const by = new Map<string, ClassEntry>();
      for (const l of ds.labels) by.set(l, { label: l, count: 0, items: [] });
      for (const s of samples) {
        let e = by.get(s.label);
        if (!e) by.set(s.label, (e = { label: s.label, count: 0, items: [] }));
        e.count++;
        if (e.items.length < MAX_LISTED) e.items.push({ file: s.file, line: s.line, text: s.text });
      }
      return [...by.values()];
    };
    const splits: SplitEntry[] = [{ split: 'train', classes: group(ds.train) }];
    if (ds.test.length || ds.testSource === 'given') {
      splits.push({ split: 'test', source: ds.testSource === 'given' ? undefined : ds.testSource, classes: group(ds.test) });
    }
    return { splits };
  } catch (e) {
    return { splits: [], error: e instanceof Error ? e.message : String(e) };
  }
}

/** Warning for a class, from counts and thresholds (small class, imbalance). */
export function classWarning(entry: ClassEntry, split: SplitEntry, minPerClass: number, ratio: number): string | undefined {
  if (split.split === 'test') return undefined;
  const problems: string[] = [];
  if (entry.count < minPerClass) problems.push(vscode.l10n.t('Only {0} training samples (fewer than {1}).', entry.count, minPerClass));
  const max = Math.max(...split.classes.map((c) => c.count));
  if (entry.count > 0 && max / entry.count > ratio) {
    problems.push(vscode.l10n.t('Imbalanced: the largest class has {0}× as many samples (threshold {1}).', (max / entry.count).toFixed(1), ratio));
  } else if (entry.count === 0 && max > 0) {
    problems.push(vscode.l10n.t('No samples in this split.'));
  }
  return problems.length ? problems.join(' ') : undefined;
}

export class DatasetsTreeProvider implements vscode.TreeDataProvider<DatasetNode>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<DatasetNode | undefined | void>();
  readonly onDidChangeTreeData = this.changed.event;
  private datasets: Promise<DatasetRef[]> | undefined;
  private readonly scans = new Map<string, Promise<DatasetScan>>();
  private summaries = new Map<string, DatasetSummary>();
  private readonly disposables: vscode.Disposable[] = [];
  private debounce: NodeJS.Timeout | undefined;
  private pendingPaths = new Set<string>();
  private fullRefresh = false;
  private review: DatasetReviewLists | undefined;

  constructor(private readonly host: Host) {
    const watcher = vscode.workspace.createFileSystemWatcher('**/*');
    const onFs = (uri: vscode.Uri) => this.onFileChange(uri.fsPath);
    this.disposables.push(
      this.changed, watcher,
      watcher.onDidCreate(onFs), watcher.onDidDelete(onFs), watcher.onDidChange(onFs),
      vscode.workspace.onDidChangeWorkspaceFolders(() => this.refresh()),
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration('fewshot.datasets.paths')) this.refresh();
        else if (e.affectsConfiguration('fewshot.diagnostics')) this.changed.fire();
      }),
      host.datasetSummaries.event((s) => this.setSummaries(s)),
    );
    const latest = host.latestDatasetSummaries();
    if (latest) this.setSummaries(latest);
  }

  /** Shows the label tools' lists (likely label errors, what to label next) under each dataset. */
  setReviewLists(lists: DatasetReviewLists): vscode.Disposable {
    this.review = lists;
    const sub = lists.onDidChangeTreeData(() => this.changed.fire());
    this.changed.fire();
    return new vscode.Disposable(() => { sub.dispose(); if (this.review === lists) this.review = undefined; this.changed.fire(); });
  }

  /** Push the language server's summaries (warning icons + tooltips). */
  setSummaries(list: DatasetSummary[]): void {
    this.summaries = new Map(list.map((s) => [path.resolve(s.root), s]));
    this.changed.fire();
  }

  refresh(): void {
    this.datasets = undefined;
    this.scans.clear();
    this.changed.fire();
  }

  private onFileChange(p: string): void {
    const rel = vscode.workspace.asRelativePath(p, false);
    if (/(^|[\\/])(\.fewshot|node_modules|\.git)([\\/]|$)/.test(rel)) return;
    this.pendingPaths.add(p);
    if (this.debounce) clearTimeout(this.debounce);
    this.debounce = setTimeout(() => this.flushChanges(), 400);
  }

  private flushChanges(): void {
    this.debounce = undefined;
    const paths = [...this.pendingPaths];
    this.pendingPaths.clear();
    // A change inside a known dataset rescans that dataset; anything else may add or remove datasets.
    const roots = [...this.scans.keys()];
    let outside = false;
    for (const p of paths) {
      const hit = roots.filter((r) => p === r || p.startsWith(r + path.sep));
      if (hit.length) for (const r of hit) this.scans.delete(r);
      else outside = true;
    }
    if (outside || this.fullRefresh) this.datasets = undefined;
    this.changed.fire();
  }

  /** Every dataset in the workspace folders plus `fewshot.datasets.paths`. */
  listDatasets(): Promise<DatasetRef[]> {
    this.datasets ??= (async () => {
      const { findDatasets } = await import('../../core/datasets');
      const folders = vscode.workspace.workspaceFolders ?? [];
      const seen = new Map<string, DatasetRef>();
      for (const f of folders) {
        const extra = vscode.workspace.getConfiguration('fewshot.datasets', f.uri).get<string[]>('paths', []);
        try {
          for (const r of await findDatasets(f.uri.fsPath, { extraPaths: extra })) if (!seen.has(r.root)) seen.set(r.root, r);
        } catch (e) {
          this.host.output.appendLine(`datasets: ${f.uri.fsPath}: ${e instanceof Error ? e.message : String(e)}`);
        }
      }
      return [...seen.values()];
    })();
    return this.datasets;
  }

  scan(ref: DatasetRef): Promise<DatasetScan> {
    let p = this.scans.get(ref.root);
    if (!p) {
      p = scanDataset(ref);
      this.scans.set(ref.root, p);
    }
    return p;
  }

  getParent(): undefined {
    return undefined;
  }

  async getChildren(node?: DatasetNode): Promise<DatasetNode[]> {
    if (!node) {
      const list = await this.listDatasets();
      return list.map((ref) => ({ kind: 'dataset', ref }));
    }
    switch (node.kind) {
      case 'dataset': {
        const scan = await this.scan(node.ref);
        if (scan.error) return [{ kind: 'message', text: scan.error, error: true }];
        if (!scan.splits.length) return [{ kind: 'message', text: vscode.l10n.t('No classes found.') }];
        // the label lists only when they hold something (every run is audited; an empty list under each dataset is noise)
        const lists = this.reviewChildren({ kind: 'dataset', dataset: node.ref.root })
          .filter((g) => g.kind === 'group' && this.reviewChildren(g).some((c) => c.kind === 'suspect' || c.kind === 'suggestion'));
        return [...scan.splits.map((split): DatasetNode => ({ kind: 'split', ref: node.ref, split, all: scan.splits })), ...lists];
      }
      case 'group':
        return this.reviewChildren(node);
      case 'split': {
        const cfg = vscode.workspace.getConfiguration('fewshot.diagnostics', vscode.Uri.file(node.ref.root));
        const min = cfg.get<number>('minTrainPerClass', 8);
        const ratio = cfg.get<number>('imbalanceRatio', 3);
        const summary = this.summaries.get(path.resolve(node.ref.root));
        return node.split.classes.map((entry) => ({
          kind: 'class', ref: node.ref, split: node.split, entry,
          warning: classWarning(entry, node.split, min, ratio),
          summary: summary?.classes.find((c) => c.label === entry.label),
        }));
      }
      case 'class': {
        const items: DatasetNode[] = node.entry.items.map((it) => ({ kind: 'file', ref: node.ref, file: it.file, line: it.line, text: it.text, image: it.image }));
        if (node.entry.count > node.entry.items.length) items.push({ kind: 'more', count: node.entry.count - node.entry.items.length, folder: node.entry.folder });
        return items;
      }
      default:
        return [];
    }
  }

  getTreeItem(node: DatasetNode): vscode.TreeItem {
    const C = vscode.TreeItemCollapsibleState;
    switch (node.kind) {
      case 'dataset': {
        const it = new vscode.TreeItem(node.ref.name, C.Collapsed);
        it.id = `dataset:${node.ref.root}`;
        it.contextValue = 'dataset';
        it.iconPath = new vscode.ThemeIcon(node.ref.media === 'images' ? 'file-media' : formatIcon(node.ref.format));
        it.description = `${node.ref.media === 'images' ? vscode.l10n.t('images') : formatLabel(node.ref.format)} · ${vscode.workspace.asRelativePath(node.ref.root, false)}`;
        const s = this.summaries.get(path.resolve(node.ref.root));
        it.tooltip = new vscode.MarkdownString(`**${node.ref.name}**  \n${node.ref.root}` + (s?.problemCount ? `  \n$(warning) ${vscode.l10n.t('{0} problems found by the dataset checks', s.problemCount)}` : ''), true);
        it.resourceUri = vscode.Uri.file(node.ref.root);
        return it;
      }
      case 'split': {
        const total = node.split.classes.reduce((n, c) => n + c.count, 0);
        const it = new vscode.TreeItem(splitLabel(node.split.split), C.Collapsed);
        it.id = `split:${node.ref.root}:${node.split.split}`;
        it.contextValue = 'datasetSplit';
        it.iconPath = new vscode.ThemeIcon(node.split.split === 'test' ? 'beaker' : 'library');
        it.description = (node.ref.media === 'images'
          ? vscode.l10n.t('{0} images, {1} classes', total, node.split.classes.length)
          : vscode.l10n.t('{0} samples, {1} classes', total, node.split.classes.length)) + (node.split.source ? ` · ${sourceLabel(node.split.source)}` : '');
        return it;
      }
      case 'class': {
        const hasChildren = node.entry.items.length > 0;
        const it = new vscode.TreeItem(node.entry.label, hasChildren ? C.Collapsed : C.None);
        it.id = `class:${node.ref.root}:${node.split.split}:${node.entry.label}`;
        it.contextValue = 'datasetClass';
        const skipped = node.entry.problems?.filter((p) => p.skipped).length ?? 0;
        it.description = skipped ? vscode.l10n.t('{0} · {1} skipped', node.entry.count, skipped) : String(node.entry.count);
        const serverProblems = node.summary && node.summary.severity && node.summary.severity !== 'info' ? node.summary.problems : [];
        const warn = node.warning || serverProblems.length || node.entry.problems?.length;
        it.iconPath = warn
          ? new vscode.ThemeIcon('warning', new vscode.ThemeColor(node.summary?.severity === 'error' ? 'list.errorForeground' : 'list.warningForeground'))
          : new vscode.ThemeIcon('symbol-enum-member');
        const md = new vscode.MarkdownString(`**${node.entry.label}** — ${node.ref.media === 'images'
          ? vscode.l10n.t('{0} images ({1})', node.entry.count, splitLabel(node.split.split))
          : vscode.l10n.t('{0} samples ({1})', node.entry.count, splitLabel(node.split.split))}`, true);
        if (node.warning) md.appendMarkdown(`\n\n$(warning) ${node.warning}`);
        for (const p of serverProblems) md.appendMarkdown(`\n\n$(warning) ${p}`);
        const problems = node.entry.problems ?? [];
        if (problems.length) {
          md.appendMarkdown(`\n\n$(warning) ${vscode.l10n.t('{0} images skipped, {1} with warnings:', skipped, problems.length - skipped)}`);
          for (const p of problems.slice(0, 10)) md.appendMarkdown(`\n- ${escapeMd(p.message)}`);
          if (problems.length > 10) md.appendMarkdown(`\n- ${vscode.l10n.t('… {0} more', problems.length - 10)}`);
        }
        const first = node.entry.items[0];
        if (first?.image) md.appendMarkdown(`\n\n${thumbnailMd(first.file, 96)}`);
        it.tooltip = md;
        if (node.entry.folder) it.resourceUri = vscode.Uri.file(node.entry.folder);
        return it;
      }
      case 'file': {
        const uri = vscode.Uri.file(node.file);
        const it = new vscode.TreeItem(node.text !== undefined ? preview(node.text) : path.basename(node.file), C.None);
        it.id = `file:${node.file}:${node.line ?? ''}`;
        it.contextValue = 'datasetFile';
        if (node.image) {
          const { format, bytes } = node.image;
          it.resourceUri = uri;
          it.description = `${format.toUpperCase()} · ${formatBytes(bytes)}`;
          it.tooltip = new vscode.MarkdownString(`**${escapeMd(path.basename(node.file))}** — ${format.toUpperCase()}, ${formatBytes(bytes)}\n\n${thumbnailMd(node.file, 160)}`);
        } else if (node.line !== undefined) {
          it.description = `${path.basename(node.file)}:${node.line}`;
          it.iconPath = new vscode.ThemeIcon('symbol-string');
          it.tooltip = node.text;
        } else {
          it.resourceUri = uri;
        }
        const pos = node.line ? new vscode.Position(node.line - 1, 0) : undefined;
        it.command = { title: vscode.l10n.t('Open'), command: 'vscode.open', arguments: [uri, pos ? { selection: new vscode.Range(pos, pos), preview: true } : { preview: true }] };
        return it;
      }
      case 'more': {
        const it = new vscode.TreeItem(vscode.l10n.t('… {0} more', node.count), C.None);
        it.contextValue = 'datasetMore';
        it.iconPath = new vscode.ThemeIcon('ellipsis');
        if (node.folder) {
          it.tooltip = vscode.l10n.t('Reveal the folder in the Explorer');
          it.command = { title: vscode.l10n.t('Reveal in Explorer'), command: 'revealInExplorer', arguments: [vscode.Uri.file(node.folder)] };
        }
        return it;
      }
      case 'message': {
        const it = new vscode.TreeItem(node.text, C.None);
        it.iconPath = new vscode.ThemeIcon(node.error ? 'error' : 'info');
        it.tooltip = node.text;
        return it;
      }
      case 'group': case 'suspect': case 'suggestion': {
        const it = this.review?.getTreeItem(node) ?? new vscode.TreeItem('', C.None);
        if (it.id) it.id = `datasets:${it.id}`; // ids are per view, but keep them apart from the dataset nodes'
        return it;
      }
    }
  }

  /** The label tools' nodes under a dataset or group (none before a check or suggestion). */
  private reviewChildren(node: ReviewNode): DatasetNode[] {
    return (this.review?.getChildren(node) ?? []).filter((n): n is Extract<DatasetNode, { kind: 'group' | 'suspect' | 'suggestion' | 'message' }> => n.kind !== 'dataset');
  }

  dispose(): void {
    if (this.debounce) clearTimeout(this.debounce);
    for (const d of this.disposables.splice(0)) d.dispose();
  }
}

/**
 * A thumbnail in a markdown tooltip: the image file itself, scaled to `width` px by VS Code's `|width=` suffix (its
 * markdown renderer maps file URIs to resource URLs, also in the browser and remote).
 */
export function thumbnailMd(file: string, width: number): string {
  return `![${escapeMd(path.basename(file))}](${vscode.Uri.file(file).toString().replace(/\(/g, '%28').replace(/\)/g, '%29')}|width=${width})`;
}

function escapeMd(s: string): string {
  return s.replace(/[\\`*_{}[\]()#+!<>|]/g, '\\$&');
}

function formatBytes(n: number): string {
  return n < 1024 ? `${n} B` : n < 1024 * 1024 ? `${(n / 1024).toFixed(1)} KB` : `${(n / 1024 / 1024).toFixed(1)} MB`;
}

function preview(t: string): string {
  const s = t.replace(/\s+/g, ' ').trim();
  return s.length > 70 ? s.slice(0, 70) + '…' : s;
}

function formatIcon(f: DatasetFormat): string {
  return f === 'folders' ? 'folder-library' : f === 'jsonl' ? 'json' : 'table';
}

function formatLabel(f: DatasetFormat): string {
  return f === 'folders' ? vscode.l10n.t('folders') : f.toUpperCase();
}

function splitLabel(s: SplitName): string {
  return s === 'train' ? vscode.l10n.t('train') : s === 'test' ? vscode.l10n.t('test') : vscode.l10n.t('all (no split)');
}

function sourceLabel(s: string): string {
  return s === 'stratified-split' ? vscode.l10n.t('held out by a stratified split') : s === 'cross-validation' ? vscode.l10n.t('cross-validation') : s;
}
