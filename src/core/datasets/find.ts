/** findDatasets: scan a workspace for folder layouts and table files that look like datasets. */
import { promises as fsp, Dirent } from 'node:fs';
import * as path from 'node:path';
import { compareCodePoints } from '../metrics';
import { mapLimit } from '../util/async';
import { detectEncoding } from './encoding';
import { isHiddenOrSystem, isUnlabeledFolderName, pairedTestFile, pairedTrainFile, SAMPLE_EXTENSIONS } from './load';
import { columnNameLists, detectColumns, normName, readTableRecords, tableFormatOf } from './table';
import { isImageFile } from './sniff';
import { DatasetFormat, DatasetRef } from './types';

export const SKIP_DIRS = new Set(['node_modules', '.git', '.fewshot', 'dist', 'out', '.hg', '.svn', '__pycache__', '.venv', 'venv', '.vscode-test', '.next', 'bower_components', 'test-results', '.cache', 'bench-results']);
const SNIFF_BYTES = 16 * 1024;
const MAX_DIRS = 20_000;

async function readDirSafe(dir: string): Promise<Dirent[]> {
  try { return await fsp.readdir(dir, { withFileTypes: true }); } catch { return []; }
}

/**
 * What a class folder holds: 'images' when most of its files are not .txt/.md and its first such files start like
 * images (so a stray notes.txt does not turn an image folder into a text one), else 'text' when it has .txt/.md files.
 */
async function classFolderKind(files: Dirent[], dir: string): Promise<'text' | 'images' | undefined> {
  const plain = files.filter((f) => f.isFile() && !isHiddenOrSystem(f.name));
  const isText = (f: Dirent) => SAMPLE_EXTENSIONS.has(path.extname(f.name).toLowerCase());
  const texts = plain.filter(isText).length;
  const others = plain.filter((f) => !isText(f));
  if (others.length > texts) {
    let images = 0;
    const first = others.slice(0, 3);
    for (const f of first) if (await isImageFile(path.join(dir, f.name))) images++;
    if (images * 2 > first.length) return 'images';
  }
  return texts ? 'text' : undefined;
}

/** A `train/` folder whose children are class folders holding at least one .txt/.md file, or images. */
async function splitFolderKind(dir: string): Promise<'text' | 'images' | undefined> {
  const ents = (await readDirSafe(dir)).filter((e) => e.isDirectory() && !isHiddenOrSystem(e.name));
  let images = false;
  for (const e of ents.slice(0, 50)) {
    const d = path.join(dir, e.name);
    const kind = await classFolderKind(await readDirSafe(d), d);
    if (kind === 'text') return 'text';
    images ||= kind === 'images';
  }
  return images ? 'images' : undefined;
}

/**
 * An unsplit layout `<root>/<class>/*` (the loader makes a stratified split): at least two class
 * folders, each a leaf holding sample files, at least half of them two or more, and at least one
 * .txt among them (so a folder of Markdown documentation or of one-file folders is not taken for a dataset) —
 * or, for images, every checked class folder starting with image files (told by their first bytes).
 */
async function unsplitRootKind(subdirs: string[]): Promise<'text' | 'images' | undefined> {
  if (subdirs.length < 2) return undefined;
  let txt = false, several = 0, imageFolders = 0;
  const checked = subdirs.slice(0, 50);
  for (const dir of checked) {
    const ents = (await readDirSafe(dir)).filter((e) => !isHiddenOrSystem(e.name));
    if (ents.some((e) => e.isDirectory())) return undefined;
    if (await classFolderKind(ents, dir) === 'images') { imageFolders++; continue; }
    const samples = ents.filter((e) => e.isFile() && SAMPLE_EXTENSIONS.has(path.extname(e.name).toLowerCase()));
    if (!samples.length) return undefined;
    txt ||= samples.some((e) => path.extname(e.name).toLowerCase() === '.txt');
    if (samples.length >= 2) several++;
  }
  if (imageFolders === checked.length) return 'images';
  return !imageFolders && txt && several * 2 >= checked.length ? 'text' : undefined;
}

function nameMatches(h: string, names: string[]): boolean {
  const n = normName(h);
  return names.includes(n) || n.split('_').some((t) => t.length > 2 && names.includes(t));
}

/** Whether the start of a table (`partial`: only a prefix of the file) has a text and a label column. */
export function sniffTableText(text: string, format: DatasetFormat, file: string, partial = false): boolean {
  try {
    const rec = readTableRecords(text, format, file, partial);
    if (!rec.rows.length) return false;
    const cols = detectColumns(rec.header, rec.rows, file);
    if (!cols) return false;
    // Heuristic picks alone are too eager for arbitrary tables: require one recognisable header name.
    return nameMatches(rec.header[cols.text], columnNameLists.TEXT_NAMES) || nameMatches(rec.header[cols.label], columnNameLists.LABEL_NAMES);
  } catch { return false; }
}

/** Read only the first few KB of a table file and check for a text and a label column. */
export async function sniffTableFile(file: string, format: DatasetFormat): Promise<boolean> {
  let buf: Buffer;
  let size: number;
  try {
    const fh = await fsp.open(file, 'r');
    try {
      size = (await fh.stat()).size;
      buf = Buffer.alloc(Math.min(SNIFF_BYTES, size));
      const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
      buf = buf.subarray(0, bytesRead);
    } finally { await fh.close(); }
  } catch { return false; }
  if (!buf.length) return false;
  const det = detectEncoding(buf, { truncated: size > buf.length });
  if (det.text === null) return false;
  return sniffTableText(det.text, format, file, size > buf.length);
}

function refName(p: string, format: DatasetFormat): string {
  const base = path.basename(p);
  return format === 'folders' ? base : base.replace(/\.[^.]+$/, '');
}

/**
 * Datasets in a workspace: folders with a train/ folder of class folders, folders of only
 * class folders (unsplit) — of texts, or of images (`media: 'images'`) — and
 * CSV/TSV/JSONL files with a detectable text and label column; plus `extraPaths`
 * (absolute or relative to the workspace), which are listed whenever they exist.
 */
export async function findDatasets(workspaceRoot: string, opts: { extraPaths?: string[]; maxDepth?: number } = {}): Promise<DatasetRef[]> {
  const root = path.resolve(workspaceRoot);
  const maxDepth = opts.maxDepth ?? 8;
  const found = new Map<string, DatasetRef>();
  for (const extra of opts.extraPaths ?? []) {
    const p = path.resolve(root, extra);
    try {
      const st = await fsp.stat(p);
      if (st.isDirectory()) {
        const subdirs = (await readDirSafe(p)).filter((e) => e.isDirectory() && !isHiddenOrSystem(e.name));
        const train = subdirs.find((e) => ['train', 'training'].includes(e.name.toLowerCase()));
        const kind = train ? await splitFolderKind(path.join(p, train.name))
          : await unsplitRootKind(subdirs.filter((e) => !isUnlabeledFolderName(e.name)).map((e) => path.join(p, e.name)));
        found.set(p, { root: p, format: 'folders', name: refName(p, 'folders'), ...(kind === 'images' ? { media: 'images' as const } : {}) });
      }
      else { const f = tableFormatOf(p); if (f) found.set(p, { root: p, format: f, name: refName(p, f) }); }
    } catch { /* missing configured path: the caller reports it when loading */ }
  }
  let level: string[] = [root];
  let visited = 0;
  for (let depth = 0; depth <= maxDepth && level.length && visited < MAX_DIRS; depth++) {
    const next: string[] = [];
    await mapLimit(level, 32, async (dir) => {
      if (visited++ >= MAX_DIRS) return;
      const ents = await readDirSafe(dir);
      const subdirs = ents.filter((e) => e.isDirectory() && !isHiddenOrSystem(e.name) && !SKIP_DIRS.has(e.name));
      const train = subdirs.find((e) => ['train', 'training'].includes(e.name.toLowerCase()));
      const folderRef = (kind: 'text' | 'images'): DatasetRef =>
        ({ root: dir, format: 'folders', name: refName(dir, 'folders'), ...(kind === 'images' ? { media: 'images' as const } : {}) });
      const splitKind = train && await splitFolderKind(path.join(dir, train.name));
      if (splitKind) {
        if (!found.has(dir)) found.set(dir, folderRef(splitKind));
        return; // do not look inside a dataset
      }
      const unsplitKind = await unsplitRootKind(subdirs.filter((e) => !isUnlabeledFolderName(e.name)).map((e) => path.join(dir, e.name)));
      if (unsplitKind) {
        if (!found.has(dir)) found.set(dir, folderRef(unsplitKind));
        return;
      }
      const tables = ents.filter((e) => e.isFile() && !isHiddenOrSystem(e.name) && tableFormatOf(e.name));
      await mapLimit(tables, 8, async (e) => {
        const f = tableFormatOf(e.name)!;
        const p = path.join(dir, e.name);
        if (!found.has(p) && await sniffTableFile(p, f)) found.set(p, { root: p, format: f, name: refName(p, f) });
      });
      for (const e of subdirs) next.push(path.join(dir, e.name));
    });
    level = next;
  }
  // The test file of a train/test pair belongs to the train file's dataset.
  for (const ref of [...found.values()]) {
    const train = ref.format !== 'folders' ? pairedTrainFile(ref.root) : undefined;
    if (train && found.get(train)?.format === ref.format && pairedTestFile(train) === ref.root) found.delete(ref.root);
  }
  return [...found.values()].sort((a, b) => compareCodePoints(a.root, b.root));
}
