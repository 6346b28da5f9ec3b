/**
 * Dataset discovery, per-file cache and incremental re-analysis. No vscode and
 * no LSP imports: the language server drives it, the unit tests and the bench
 * script use it directly.
 */
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import {
  DATASET_DEFAULTS, detectEncoding, findDatasets, finishDataset, folderSample, listFolderDataset, pairedTestFile, readTable,
  sampleText, sniffTableFile, sniffTableText, tableFormatOf, type Dataset, type FolderListing, type Sample as CoreSample, type SplitListing, type TableRead,
} from '../../core/datasets';
import { analyseDataset, type AnalysisResult } from './checks';
import { loadImageMember, DECODERS_MISSING } from './images';
import { isImageFile } from '../../core/datasets/sniff';
import { mapLimit } from '../../core/util/async';
import { compareCodePoints } from '../../core/metrics';
import { bandKeys, minhash, normaliseText, shingles, textHash, yieldNow } from './text';
import type { DatasetDesc, LoadedFile, MemberFile, Range, Sample, Settings, Split } from './types';
import { DEFAULT_SETTINGS } from './types';

const READ_BATCH = 64;
/** Images decoded at once, and per batch between yields. */
const IMAGE_CONCURRENCY = 2;
const IMAGE_BATCH = 16;

export interface Overlay { text: string; version: number }

export interface IndexOptions {
  locale?: string;
  /** Open-document contents that override the disk (unsaved edits). */
  overlay?: (file: string) => Overlay | undefined;
  log?: (m: string) => void;
}

function posix(p: string): string {
  return p.split(path.sep).join('/');
}

function isUnder(file: string, dir: string): boolean {
  if (file === dir) return true;
  const d = dir.endsWith(path.sep) ? dir : dir + path.sep;
  return file.startsWith(d);
}

async function isDir(p: string): Promise<boolean> {
  try {
    return (await fsp.stat(p)).isDirectory();
  } catch {
    return false;
  }
}

async function isFile(p: string): Promise<boolean> {
  try {
    return (await fsp.stat(p)).isFile();
  } catch {
    return false;
  }
}

/** Whether a table file (or its unsaved overlay) has a text and a label column, by the core's rules. */
async function looksLikeTable(file: string, overlay?: Overlay): Promise<boolean> {
  const fmt = tableFormatOf(file);
  if (!fmt) return false;
  return overlay ? sniffTableText(overlay.text, fmt, file) : sniffTableFile(file, fmt);
}

function lineRange(text: string, line = 0): Range {
  let start = 0;
  for (let l = 0; l < line; l++) {
    const nl = text.indexOf('\n', start);
    if (nl < 0) break;
    start = nl + 1;
  }
  let end = text.indexOf('\n', start);
  if (end < 0) end = text.length;
  let len = end - start;
  if (len > 0 && text.charCodeAt(start + len - 1) === 13) len--;
  return { start: { line, character: 0 }, end: { line, character: Math.min(len, 400) } };
}

function countCodePoints(s: string): number {
  let n = s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) n--;
  }
  return n;
}

/** A server sample: the core's sample (what training reads) plus what the checks need. */
export function makeSample(core: CoreSample, split: Split, range: Range, row?: { line: number; endLine: number }): Sample {
  const norm = normaliseText(core.text);
  const sh = shingles(norm);
  const sig = sh.length >= 3 ? minhash(sh) : null;
  return {
    text: core.text, label: core.label, split, file: core.file, line: core.line, group: core.group, range, row,
    chars: countCodePoints(core.text), hash: textHash(norm), shingles: sh, sig, bands: sig ? bandKeys(sig) : null,
  };
}

function emptyFile(file: string, size: number, status: LoadedFile['status'], encoding: string, error?: string): LoadedFile {
  return { file, mtimeMs: 0, size, encoding, status, error, text: '', samples: [], skipped: [], parseErrors: [], headRange: lineRange('') };
}

/**
 * Read and parse one member file (from an overlay if the document is open) with the
 * core's decoder and table reader, so its samples are exactly the ones training reads.
 */
export async function loadMember(m: MemberFile, format: DatasetDesc['format'], overlay?: Overlay, columns: Pick<Settings, 'textColumn' | 'labelColumn'> = {}): Promise<LoadedFile> {
  let text: string | null;
  let encoding: string;
  let size: number;
  if (overlay) {
    text = overlay.text;
    encoding = 'utf-8';
    size = Buffer.byteLength(text);
  } else {
    let buf: Buffer;
    try {
      buf = await fsp.readFile(m.file);
    } catch (e) {
      return emptyFile(m.file, 0, 'error', 'binary', String(e));
    }
    size = buf.length;
    // Training reads only the first maxFileBytes of a sample file.
    const cut = format === 'folders' && size > DATASET_DEFAULTS.maxFileBytes;
    const d = detectEncoding(cut ? buf.subarray(0, DATASET_DEFAULTS.maxFileBytes) : buf, { truncated: cut });
    text = d.text;
    encoding = d.encoding;
  }
  if (text === null) return emptyFile(m.file, size, 'binary', encoding);
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const lf: LoadedFile = { file: m.file, mtimeMs: 0, size, version: overlay?.version, encoding, status: text.trim() ? 'ok' : 'empty', text, samples: [], skipped: [], parseErrors: [], headRange: lineRange(text) };
  const side: Split = m.split === 'test' ? 'test' : 'train';
  if (format === 'folders') {
    const body = sampleText(text);
    if (body) lf.samples.push(makeSample(folderSample(body, m.label ?? '', m.file), side, lf.headRange));
    return lf;
  }
  let read: TableRead;
  try {
    read = readTable(text, format, m.file, { textColumn: columns.textColumn, labelColumn: columns.labelColumn }, side);
  } catch (e) {
    lf.parseErrors.push({ line: 0, message: e instanceof Error ? e.message : String(e), range: lineRange(text) });
    return lf;
  }
  lf.columns = read.columns;
  if (read.columnsFound === 'heuristic') lf.columnsGuessed = true;
  if (read.headerLine) lf.headRange = lineRange(text, read.headerLine - 1);
  lf.parseErrors = read.rowProblems.map((p) => ({ line: p.line - 1, message: p.reason, range: lineRange(text!, p.line - 1) }));
  for (const r of read.rows) {
    const row = { line: r.sample.line! - 1, endLine: r.lastLine };
    lf.samples.push(makeSample(r.sample, r.split, r.textSpan ?? lineRange(text, row.line), row));
  }
  for (const k of read.skipped) {
    const row = { line: k.line - 1, endLine: k.lastLine };
    lf.skipped.push({ why: k.why, row, range: { start: { line: row.line, character: 0 }, end: k.textSpan?.end ?? lineRange(text, row.line).end } });
  }
  return lf;
}

/**
 * A folder layout `<root>/train/<class>/*` (+ optional `<root>/test/<class>/*`), or an unsplit
 * `<root>/<class>/*`, listed with the core's rules (train/training, test/testing, .txt/.md files).
 */
export async function describeFolderDataset(root: string, workspaceFolders: string[], allowUnsplit = false, media?: 'images'): Promise<DatasetDesc | null> {
  const members: MemberFile[] = [];
  const classFolders: Record<string, string[]> = {};
  const addSplit = (listing: SplitListing | undefined, split: MemberFile['split']) => {
    for (const c of listing?.classes ?? []) {
      (classFolders[c.label] ??= []).push(c.dir);
      // image datasets: every file of a class folder is a member (told by content: a non-image gets a diagnostic)
      const files = media === 'images' ? [...c.files, ...c.ignored].sort(compareCodePoints) : c.files;
      for (const file of files) members.push({ file, split, label: c.label });
    }
    return !!listing?.classes.length;
  };
  let listing: FolderListing;
  try { listing = await listFolderDataset(root, allowUnsplit); } catch { return null; }
  if (listing.train) {
    if (!addSplit(listing.train, 'train')) return null;
    addSplit(listing.test, 'test');
  } else if (!addSplit(listing.unsplit, 'unsplit')) {
    return null;
  }
  return {
    root, name: path.basename(root), format: 'folders', key: datasetKey(root, workspaceFolders), members, classFolders, hasTestFolder: !!listing.test,
    skippedLinks: listing.skippedLinks, ...(media ? { media } : {}),
  };
}

export function datasetKey(root: string, workspaceFolders: string[]): string {
  for (const f of workspaceFolders) if (isUnder(root, f)) return posix(path.relative(f, root)) || '.';
  return posix(root);
}

/** A table dataset: the file, plus its test file when it is the train file of a train/test pair. */
async function describeTableDataset(file: string, workspaceFolders: string[]): Promise<DatasetDesc | null> {
  const format = tableFormatOf(file);
  if (!format) return null;
  const test = pairedTestFile(file);
  const members: MemberFile[] = test && tableFormatOf(test) === format && await isFile(test)
    ? [{ file, split: 'train' }, { file: test, split: 'test' }]
    : [{ file, split: 'unsplit' }];
  return { root: file, name: path.basename(file, path.extname(file)), format, key: datasetKey(file, workspaceFolders), members, classFolders: {} };
}

/** Find every dataset under the workspace folders (plus fewshot.datasets.paths) with the core's walker. */
export async function discoverDatasets(workspaceFolders: string[], extraPaths: string[] = []): Promise<DatasetDesc[]> {
  const out = new Map<string, DatasetDesc>();
  for (const folder of workspaceFolders) {
    for (const ref of await findDatasets(folder, { extraPaths })) {
      if (out.has(ref.root)) continue;
      const desc = ref.format === 'folders'
        ? await describeFolderDataset(ref.root, workspaceFolders, true, ref.media)
        : await describeTableDataset(ref.root, workspaceFolders);
      if (desc) out.set(ref.root, desc);
    }
  }
  return [...out.values()].sort((a, b) => (a.root < b.root ? -1 : 1));
}

/**
 * The dataset as training sees it (labels, splits, hold-out), built from the analysed
 * files with the core's own finishing step. Throws FewShotError like loadDataset.
 */
export function trainingView(desc: DatasetDesc, files: Map<string, LoadedFile>): Dataset {
  const train: CoreSample[] = [];
  const test: CoreSample[] = [];
  let given = desc.format === 'folders' ? !!desc.hasTestFolder : false;
  let columns: Dataset['columns'];
  for (const m of desc.members) {
    const lf = files.get(m.file);
    if (!lf) continue;
    if (desc.format !== 'folders') {
      if (!lf.columns) continue;
      if (m.split === 'train' || m.split === 'unsplit') columns = lf.columns;
      if (m.split === 'test' || lf.columns.split !== undefined) given = true;
    }
    for (const s of lf.samples) {
      const core: CoreSample = { text: s.text, label: s.label, file: s.file, ...(s.line !== undefined ? { line: s.line } : {}), ...(s.group !== undefined ? { group: s.group } : {}) };
      (s.split === 'test' ? test : train).push(core);
    }
  }
  return finishDataset(desc.root, desc.format, { files: [], issues: [], train, test: given && test.length ? test : null, columns });
}

export interface ChangeReport {
  /** Roots that were (re-)analysed. */
  analysed: string[];
  /** Roots that no longer exist as datasets. */
  removed: string[];
}

/** Holds discovered datasets, the per-file cache and the latest analysis results. */
export class DatasetIndex {
  datasets = new Map<string, DatasetDesc>();
  cache = new Map<string, LoadedFile>();
  results = new Map<string, AnalysisResult>();
  settings: Settings = { ...DEFAULT_SETTINGS };
  /** Number of files read from disk (or overlays) since creation — lets tests prove incrementality. */
  reads = 0;

  /** Key of a read file's normalised text(s): equal for exact duplicates (the split fix keeps them together). */
  duplicateKey = (file: string): string | undefined => this.cache.get(file)?.samples.map((s) => s.hash).join(',') || undefined;

  /** Image files read before, by path with their mtime and size: a file event or a rediscovery does not decode them again. */
  private imageMemo = new Map<string, LoadedFile>();

  constructor(public folders: string[], public opts: IndexOptions = {}) {}

  private async loadMissing(desc: DatasetDesc): Promise<void> {
    const todo = desc.members.filter((m) => !this.cache.has(m.file));
    if (desc.media === 'images') return this.loadImages(todo);
    for (let i = 0; i < todo.length; i += READ_BATCH) {
      const batch = todo.slice(i, i + READ_BATCH);
      const loaded = await Promise.all(batch.map((m) => loadMember(m, desc.format, this.opts.overlay?.(m.file), this.settings)));
      for (const lf of loaded) this.cache.set(lf.file, lf);
      this.reads += loaded.length;
      await yieldNow();
    }
  }

  private async loadImages(todo: MemberFile[]): Promise<void> {
    for (let i = 0; i < todo.length; i += IMAGE_BATCH) {
      const loaded = await mapLimit(todo.slice(i, i + IMAGE_BATCH), IMAGE_CONCURRENCY, async (m) => {
        const st = await fsp.stat(m.file).catch(() => undefined);
        const memo = this.imageMemo.get(m.file);
        // the path fixes the label and the split, so (path, mtime, size) identifies what the file gives
        if (st && memo && memo.mtimeMs === st.mtimeMs && memo.size === st.size) return memo;
        this.reads++;
        const lf = await loadImageMember(m);
        if (st && lf.image?.skipped?.code !== DECODERS_MISSING && lf.mtimeMs === st.mtimeMs && lf.size === st.size) this.imageMemo.set(m.file, lf);
        else this.imageMemo.delete(m.file);
        return lf;
      });
      for (const lf of loaded) this.cache.set(lf.file, lf);
      await yieldNow();
    }
  }

  /** Forget image facts of files that are no longer members of any dataset. */
  private pruneImageMemo(live: Set<string>): void {
    for (const f of [...this.imageMemo.keys()]) if (!live.has(f)) this.imageMemo.delete(f);
  }

  private async analyse(desc: DatasetDesc): Promise<AnalysisResult> {
    const t0 = Date.now();
    await this.loadMissing(desc);
    const r = await analyseDataset(desc, this.cache, this.settings, this.opts.locale);
    r.summary.analysedMs = Date.now() - t0;
    this.results.set(desc.root, r);
    return r;
  }

  /** Full (re)discovery; re-reads only files that are not cached. */
  async analyseAll(): Promise<ChangeReport> {
    const before = new Set(this.datasets.keys());
    const found = await discoverDatasets(this.folders, this.settings.extraPaths);
    this.datasets = new Map(found.map((d) => [d.root, d]));
    const live = new Set<string>();
    for (const d of found) for (const m of d.members) live.add(m.file);
    for (const f of [...this.cache.keys()]) if (!live.has(f)) this.cache.delete(f);
    this.pruneImageMemo(live);
    const analysed: string[] = [];
    for (const d of found) {
      await this.analyse(d);
      analysed.push(d.root);
      await yieldNow();
    }
    const removed = [...before].filter((r) => !this.datasets.has(r));
    for (const r of removed) this.results.delete(r);
    return { analysed, removed };
  }

  /** Forget the cached table files (the column settings changed); the next analysis reads them again. */
  dropTables(): void {
    for (const d of this.datasets.values()) if (d.format !== 'folders') for (const m of d.members) this.cache.delete(m.file);
  }

  /** Re-run the checks on cached data only (settings or locale changed). */
  async reanalyseCached(): Promise<ChangeReport> {
    const analysed: string[] = [];
    for (const d of this.datasets.values()) { await this.analyse(d); analysed.push(d.root); }
    return { analysed, removed: [] };
  }

  /**
   * Files changed / created / deleted (or open documents edited): drop their
   * cache entries, re-list the affected datasets and re-analyse only those.
   */
  async applyChanges(changed: string[]): Promise<ChangeReport> {
    if (!changed.length) return { analysed: [], removed: [] };
    for (const c of changed) {
      this.cache.delete(c);
      for (const f of [...this.cache.keys()]) if (isUnder(f, c)) this.cache.delete(f);
    }
    const affected = new Set<string>();
    let structural = false;
    for (const c of changed) {
      let hit = false;
      for (const d of this.datasets.values()) {
        if (d.format === 'folders' ? isUnder(c, d.root) || isUnder(d.root, c) : d.members.some((m) => m.file === c)) { affected.add(d.root); hit = true; }
      }
      if (!hit && !structural) {
        // Only what can create a dataset triggers a (cheap, directory-only) rediscovery:
        // a table file with text/label columns, a new folder, a file under a train/ or test/ folder, or an image.
        if (tableFormatOf(c)) {
          if (await looksLikeTable(c, this.opts.overlay?.(c))) structural = true;
        } else if (await isDir(c)) {
          structural = true;
        } else if (c.split(path.sep).some((seg) => /^(train|training|test|testing)$/i.test(seg))) {
          structural = true;
        } else if (await isImageFile(c)) {
          // an image in a <class>/ folder can make its parent an (unsplit) image dataset
          structural = true;
        }
      }
    }
    const before = new Map(this.datasets);
    if (structural) {
      const found = await discoverDatasets(this.folders, this.settings.extraPaths);
      this.datasets = new Map(found.map((d) => [d.root, d]));
      for (const d of found) {
        const old = before.get(d.root);
        if (!old || old.members.length !== d.members.length) affected.add(d.root);
      }
    } else {
      for (const root of affected) {
        const old = this.datasets.get(root)!;
        let fresh: DatasetDesc | null;
        if (old.format === 'folders') {
          fresh = await describeFolderDataset(root, this.folders, this.settings.extraPaths.some((p) => path.resolve(this.folders[0] ?? '.', p) === root), old.media);
        } else {
          fresh = await this.stillTable(old);
        }
        if (fresh) this.datasets.set(root, fresh);
        else this.datasets.delete(root);
      }
    }
    const removed = [...before.keys()].filter((r) => !this.datasets.has(r));
    for (const r of removed) this.results.delete(r);
    const live = new Set<string>();
    for (const d of this.datasets.values()) for (const m of d.members) live.add(m.file);
    for (const f of [...this.cache.keys()]) if (!live.has(f)) this.cache.delete(f);
    this.pruneImageMemo(live);
    const analysed: string[] = [];
    for (const root of affected) {
      const d = this.datasets.get(root);
      if (!d) continue;
      await this.analyse(d);
      analysed.push(root);
    }
    return { analysed, removed };
  }

  private async stillTable(old: DatasetDesc): Promise<DatasetDesc | null> {
    const members: MemberFile[] = [];
    for (const m of old.members) {
      const ov = this.opts.overlay?.(m.file);
      if (ov || await looksLikeTable(m.file)) members.push(m);
    }
    if (!members.length) return null;
    if (members.length === 1 && old.members.length === 2) members[0] = { ...members[0], split: members[0].split === 'train' ? 'unsplit' : members[0].split };
    return { ...old, members };
  }

  /** The dataset under `root` as training sees it (see trainingView). */
  trainingView(root: string): Dataset {
    const desc = this.datasets.get(root);
    if (!desc) throw new Error(`${root} is not a discovered dataset`);
    return trainingView(desc, this.cache);
  }

  /** Which dataset a file belongs to. */
  datasetOf(file: string): DatasetDesc | undefined {
    for (const d of this.datasets.values()) {
      if (d.members.some((m) => m.file === file)) return d;
    }
    return undefined;
  }
}
