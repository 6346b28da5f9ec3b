/**
 * Dataset discovery, per-file cache and incremental re-analysis. No vscode and
 * no LSP imports: the language server drives it, the unit tests and the bench
 * script use it directly.
 */
import { promises as fsp, type Dirent } from 'node:fs';
import * as path from 'node:path';
import { analyseDataset, type AnalysisResult } from './checks';
import { detectEncoding } from './encoding';
import { parseTable, sniffColumns } from './table';
import { bandKeys, minhash, normaliseText, shingles, textHash, yieldNow } from './text';
import type { DatasetDesc, LoadedFile, MemberFile, Range, Sample, Settings, Split } from './types';
import { DEFAULT_SETTINGS } from './types';

const SKIP_DIRS = new Set(['node_modules', 'out', 'dist', '__pycache__', 'venv', 'test-results']);
const TABLE_EXT: Record<string, 'csv' | 'tsv' | 'jsonl'> = { '.csv': 'csv', '.tsv': 'tsv', '.jsonl': 'jsonl' };
const MAX_DEPTH = 8;
const READ_BATCH = 64;

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

async function readdirSafe(dir: string): Promise<Dirent[]> {
  try {
    return await fsp.readdir(dir, { withFileTypes: true });
  } catch {
    return [];
  }
}

async function isDir(p: string): Promise<boolean> {
  try {
    return (await fsp.stat(p)).isDirectory();
  } catch {
    return false;
  }
}

async function readHead(file: string, bytes = 65536): Promise<string> {
  const fh = await fsp.open(file, 'r');
  try {
    const buf = Buffer.alloc(bytes);
    const { bytesRead } = await fh.read(buf, 0, bytes, 0);
    const d = detectEncoding(buf.subarray(0, bytesRead));
    return d.text ?? '';
  } finally {
    await fh.close();
  }
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

export function makeSample(text: string, label: string, split: Split, file: string, range: Range, row?: { line: number; endLine: number }): Sample {
  const norm = normaliseText(text);
  const sh = shingles(norm);
  const sig = sh.length >= 3 ? minhash(sh) : null;
  return { text, label, split, file, range, row, chars: countCodePoints(text), hash: textHash(norm), shingles: sh, sig, bands: sig ? bandKeys(sig) : null };
}

/** Read and parse one member file (from an overlay if the document is open). */
export async function loadMember(m: MemberFile, format: DatasetDesc['format'], overlay?: Overlay): Promise<LoadedFile> {
  let text: string | null;
  let encoding: LoadedFile['encoding'];
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
      return { file: m.file, mtimeMs: 0, size: 0, encoding: 'binary', status: 'error', error: String(e), text: '', samples: [], parseErrors: [], headRange: lineRange('') };
    }
    size = buf.length;
    const d = detectEncoding(buf);
    text = d.text;
    encoding = d.encoding;
  }
  if (text === null) return { file: m.file, mtimeMs: 0, size, encoding, status: 'binary', text: '', samples: [], parseErrors: [], headRange: lineRange('') };
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const lf: LoadedFile = { file: m.file, mtimeMs: 0, size, version: overlay?.version, encoding, status: text.trim() ? 'ok' : 'empty', text, samples: [], parseErrors: [], headRange: lineRange(text) };
  const defaultSplit: Split = m.split === 'test' ? 'test' : 'train';
  if (format === 'folders') {
    if (lf.status === 'ok') lf.samples.push(makeSample(text, m.label ?? '', defaultSplit, m.file, lf.headRange));
    return lf;
  }
  const parsed = parseTable(text, format);
  lf.columns = parsed.columns;
  lf.headRange = parsed.headerRange;
  lf.parseErrors = parsed.errors;
  for (const r of parsed.records) {
    lf.samples.push(makeSample(r.text, r.label, r.split ?? defaultSplit, m.file, r.range, { line: r.line, endLine: r.endLine }));
  }
  return lf;
}

/** A folder layout `<root>/train/<class>/*` (+ optional `<root>/test/<class>/*`), or an unsplit `<root>/<class>/*`. */
export async function describeFolderDataset(root: string, workspaceFolders: string[], allowUnsplit = false): Promise<DatasetDesc | null> {
  const members: MemberFile[] = [];
  const classFolders: Record<string, string[]> = {};
  const addSplit = async (dir: string, split: MemberFile['split']) => {
    let any = false;
    for (const cls of await readdirSafe(dir)) {
      if (!cls.isDirectory() || cls.name.startsWith('.')) continue;
      any = true;
      const cdir = path.join(dir, cls.name);
      (classFolders[cls.name] ??= []).push(cdir);
      for (const f of await readdirSafe(cdir)) {
        if (f.isFile() && !f.name.startsWith('.')) members.push({ file: path.join(cdir, f.name), split, label: cls.name });
      }
    }
    return any;
  };
  const trainDir = path.join(root, 'train');
  let hasTestFolder = false;
  if (await isDir(trainDir)) {
    if (!(await addSplit(trainDir, 'train'))) return null;
    const testDir = path.join(root, 'test');
    if (await isDir(testDir)) { hasTestFolder = true; await addSplit(testDir, 'test'); }
  } else if (allowUnsplit) {
    if (!(await addSplit(root, 'unsplit'))) return null;
  } else {
    return null;
  }
  return { root, name: path.basename(root), format: 'folders', key: datasetKey(root, workspaceFolders), members, classFolders, hasTestFolder };
}

export function datasetKey(root: string, workspaceFolders: string[]): string {
  for (const f of workspaceFolders) if (isUnder(root, f)) return posix(path.relative(f, root)) || '.';
  return posix(root);
}

/** Find every dataset under the workspace folders (plus fewshot.datasets.paths). */
export async function discoverDatasets(workspaceFolders: string[], extraPaths: string[] = []): Promise<DatasetDesc[]> {
  const out: DatasetDesc[] = [];
  const tables: string[] = [];
  const seenRoots = new Set<string>();
  const walk = async (dir: string, depth: number): Promise<void> => {
    const ds = await describeFolderDataset(dir, workspaceFolders);
    if (ds) { if (!seenRoots.has(dir)) { seenRoots.add(dir); out.push(ds); } return; }
    if (depth >= MAX_DEPTH) return;
    for (const e of await readdirSafe(dir)) {
      if (e.name.startsWith('.')) continue;
      const p = path.join(dir, e.name);
      if (e.isDirectory()) {
        if (!SKIP_DIRS.has(e.name)) await walk(p, depth + 1);
      } else if (e.isFile() && TABLE_EXT[path.extname(e.name).toLowerCase()]) {
        tables.push(p);
      }
    }
  };
  for (const f of workspaceFolders) await walk(f, 0);
  for (const x of extraPaths) {
    const abs = path.isAbsolute(x) ? x : path.resolve(workspaceFolders[0] ?? '.', x);
    if (seenRoots.has(abs)) continue;
    if (await isDir(abs)) {
      const ds = (await describeFolderDataset(abs, workspaceFolders, true));
      if (ds) { seenRoots.add(abs); out.push(ds); }
    } else if (TABLE_EXT[path.extname(abs).toLowerCase()] && !tables.includes(abs)) {
      tables.push(abs);
    }
  }
  // table files: sniff columns, pair train/test siblings
  const ok = new Map<string, 'csv' | 'tsv' | 'jsonl'>();
  for (const t of tables) {
    const fmt = TABLE_EXT[path.extname(t).toLowerCase()];
    try {
      if (sniffColumns(await readHead(t), fmt)) ok.set(t, fmt);
    } catch { /* unreadable: not a dataset */ }
  }
  const used = new Set<string>();
  const trainRe = /(^|[._\- ])train(?=[._\- ]|$)/i;
  for (const [t, fmt] of ok) {
    const base = path.basename(t);
    if (!trainRe.test(base)) continue;
    const testFile = path.join(path.dirname(t), base.replace(trainRe, (_m, p1: string) => `${p1}test`));
    if (testFile !== t && ok.get(testFile) === fmt) {
      used.add(t); used.add(testFile);
      out.push({ root: t, name: path.basename(t, path.extname(t)), format: fmt, key: datasetKey(t, workspaceFolders), members: [{ file: t, split: 'train' }, { file: testFile, split: 'test' }], classFolders: {} });
    }
  }
  for (const [t, fmt] of ok) {
    if (used.has(t)) continue;
    out.push({ root: t, name: path.basename(t, path.extname(t)), format: fmt, key: datasetKey(t, workspaceFolders), members: [{ file: t, split: 'unsplit' }], classFolders: {} });
  }
  out.sort((a, b) => (a.root < b.root ? -1 : 1));
  return out;
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

  constructor(public folders: string[], public opts: IndexOptions = {}) {}

  private async loadMissing(desc: DatasetDesc): Promise<void> {
    const todo = desc.members.filter((m) => !this.cache.has(m.file));
    for (let i = 0; i < todo.length; i += READ_BATCH) {
      const batch = todo.slice(i, i + READ_BATCH);
      const loaded = await Promise.all(batch.map((m) => loadMember(m, desc.format, this.opts.overlay?.(m.file))));
      for (const lf of loaded) this.cache.set(lf.file, lf);
      this.reads += loaded.length;
      await yieldNow();
    }
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
        // a table file with text/label columns, a new folder, or a file under a train/ or test/ folder.
        const fmt = TABLE_EXT[path.extname(c).toLowerCase()];
        if (fmt) {
          const ov = this.opts.overlay?.(c);
          try {
            if (sniffColumns(ov ? ov.text.slice(0, 65536) : await readHead(c), fmt)) structural = true;
          } catch { /* deleted or unreadable: nothing to discover */ }
        } else if (await isDir(c)) {
          structural = true;
        } else if (c.split(path.sep).some((seg) => seg === 'train' || seg === 'test')) {
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
          fresh = await describeFolderDataset(root, this.folders, this.settings.extraPaths.some((p) => path.resolve(this.folders[0] ?? '.', p) === root));
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
      try {
        const ov = this.opts.overlay?.(m.file);
        const head = ov ? ov.text.slice(0, 65536) : await readHead(m.file);
        if (sniffColumns(head, old.format as 'csv' | 'tsv' | 'jsonl') || ov) members.push(m);
      } catch { /* deleted */ }
    }
    if (!members.length) return null;
    if (members.length === 1 && old.members.length === 2) members[0] = { ...members[0], split: members[0].split === 'train' ? 'unsplit' : members[0].split };
    return { ...old, members };
  }

  /** Which dataset a file belongs to. */
  datasetOf(file: string): DatasetDesc | undefined {
    for (const d of this.datasets.values()) {
      if (d.members.some((m) => m.file === file)) return d;
    }
    return undefined;
  }
}
