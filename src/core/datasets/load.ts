/** loadDataset: folder layouts and table files → Dataset. */
import { promises as fsp, Dirent } from 'node:fs';
import * as path from 'node:path';
import { FewShotError } from '../errors';
import { sha256Hex } from '../util/hash';
import { mapLimit } from '../util/async';
import { compareCodePoints } from '../metrics';
import { detectEncoding, guessLanguage } from './encoding';
import { groupOfFileName, stratifiedSplit } from './split';
import type { TextSpan } from './csv';
import { detectColumns, parseSplitValue, type ColumnChoice, readTableRecords, tableFormatOf, valueSpan } from './table';
import { Dataset, DatasetFormat, DatasetIssue, FileInfo, IssueCodes, LoadOptions, Sample } from './types';

export const DEFAULTS = {
  seed: 42,
  testFraction: 0.25,
  maxFileBytes: 1_000_000,
  maxTableBytes: 512 * 1024 * 1024,
  minSamplesToSplit: 4,
};

export const SAMPLE_EXTENSIONS = new Set(['.txt', '.md']);
const TRAIN_DIRS = new Set(['train', 'training']);
const TEST_DIRS = new Set(['test', 'testing']);
const SYSTEM_FILES = new Set(['thumbs.db', 'desktop.ini', 'ehthumbs.db', 'icon\r', '__macosx']);
const UNLABELED_DIRS = new Set(['unlabeled', 'unlabelled']);

/** `unlabeled/` or `unlabelled/` (any case): a folder of unlabelled texts, never a class. */
export function isUnlabeledFolderName(name: string): boolean { return UNLABELED_DIRS.has(name.toLowerCase()); }

/** Dotfiles, .DS_Store, Thumbs.db, desktop.ini, __MACOSX, editor backups: skipped silently. */
export function isHiddenOrSystem(name: string): boolean {
  return name.startsWith('.') || name.startsWith('~$') || name.endsWith('~') || SYSTEM_FILES.has(name.toLowerCase());
}

function nfc(s: string): string { return s.normalize('NFC'); }

/** The text a sample holds: line ends normalised to \n, outer whitespace trimmed. */
export function sampleText(raw: string): string { return raw.replace(/\r\n?/g, '\n').trim(); }


/** Read one sample file: size limit, encoding, empty check. */
export async function readSampleFile(file: string, split: FileInfo['split'], label: string | undefined, maxBytes: number):
  Promise<{ info: FileInfo; text: string | null; issue?: DatasetIssue }> {
  const st = await fsp.stat(file);
  const bytes = st.size;
  let buf: Buffer;
  const truncated = bytes > maxBytes;
  if (truncated) {
    const fh = await fsp.open(file, 'r');
    try {
      buf = Buffer.alloc(maxBytes);
      const { bytesRead } = await fh.read(buf, 0, maxBytes, 0);
      buf = buf.subarray(0, bytesRead);
    } finally { await fh.close(); }
  } else {
    buf = await fsp.readFile(file);
  }
  const det = detectEncoding(buf, { truncated });
  if (det.text === null) {
    return {
      info: { file, split, label, encoding: 'binary', bytes, chars: 0, skipped: 'binary or undecodable' }, text: null,
      issue: { code: IssueCodes.undecodableFile, severity: 'warning', file,
        message: `${file} is binary or not in a supported text encoding (UTF-8, UTF-16 with BOM, GB18030); it was skipped.`,
        fix: 'Save the file as UTF-8 text, or remove it from the dataset folder.' },
    };
  }
  const text = sampleText(det.text);
  if (!text) {
    return {
      info: { file, split, label, encoding: det.encoding, bytes, chars: 0, skipped: 'empty' }, text: null,
      issue: { code: IssueCodes.emptyFile, severity: 'warning', file, message: `${file} is empty; it was skipped.`,
        fix: 'Write the example text into the file, or delete it.' },
    };
  }
  const info: FileInfo = { file, split, label, encoding: det.encoding, bytes, chars: text.length };
  if (truncated) {
    info.truncated = true;
    return {
      info, text,
      issue: { code: IssueCodes.tooLong, severity: 'warning', file,
        message: `${file} is ${bytes} bytes, over the ${maxBytes}-byte limit; only its first ${maxBytes} bytes were used.`,
        fix: 'Split the document into several files (e.g. name_part1.txt, name_part2.txt) or raise the size limit.' },
    };
  }
  return { info, text };
}

async function listDir(dir: string): Promise<Dirent[]> {
  const ents = await fsp.readdir(dir, { withFileTypes: true });
  return ents.filter((e) => !isHiddenOrSystem(e.name)).sort((a, b) => compareCodePoints(a.name, b.name));
}

/** One class folder of a folder layout: its sample files (sorted, recursive) and the files it ignores. */
export interface ClassFolder { label: string; dir: string; files: string[]; ignored: string[] }

/** The class folders of one split folder (sorted) and the loose files next to them. */
export interface SplitListing { dir: string; classes: ClassFolder[]; loose: string[] }

/** An `unlabeled/` folder (label ''): its texts go to dataset.unlabeled. */
export type UnlabeledFolder = ClassFolder;

/**
 * The files of a folder dataset, as training and the language server read them: `train` and
 * `test` (train/ and test/ folders, names matched case-insensitively) or `unsplit` (class folders
 * directly under the root), the other folders next to train/, and the symbolic links not followed.
 */
export interface FolderListing {
  root: string;
  train?: SplitListing;
  test?: SplitListing;
  unsplit?: SplitListing;
  /** Folder names next to train/ and test/ (not read; an unlabeled/ folder is not among them). */
  others: string[];
  /**
   * `unlabeled/` (or `unlabelled/`) folders: at the root (next to the class folders, or next to train/ and test/)
   * and inside train/ (or test/). Never classes; their texts are dataset.unlabeled.
   */
  unlabeled: UnlabeledFolder[];
  /** Symbolic links that were not followed, and why. */
  skippedLinks: SkippedLink[];
}

/** A link a folder walk did not follow: its target is missing, outside the root, a folder that contains the link, or already read. */
export interface SkippedLink { link: string; why: 'broken' | 'outside' | 'loop' | 'seen'; target?: string }

/** The loader's warning for a link not followed. */
export function skippedLinkIssue(root: string, l: SkippedLink): DatasetIssue {
  const why = { broken: 'its target does not exist', outside: `it points outside the dataset folder, to ${l.target}`,
    loop: `it points back to ${l.target}, a folder that contains it (a loop)`, seen: `${l.target} is already read` }[l.why];
  return { code: IssueCodes.linkNotFollowed, severity: 'warning', file: l.link, message: `The link ${l.link} was not followed: ${why}.`,
    fix: `Replace the link with a copy of the files it should add, or delete it (links are read only when they point inside ${root} to files not read otherwise).` };
}

function isInside(file: string, dir: string): boolean {
  const rel = path.relative(dir, file);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

/** A link met by a walk: its path, its own real location (a link in a real folder) and where what it adds goes. */
interface Link { link: string; real: string; into: ClassFolder | SplitListing }

/**
 * Walks a folder dataset once. Real folders and files are read first; symbolic links after that,
 * and only when they point inside the dataset root to something not read yet: a link out of the
 * root, a link back to a folder already read (a loop such as `up -> ..`) or a second way to a file
 * already read is not followed, with a warning that names the link. So no link can multiply or
 * relabel examples, and loops cannot recurse.
 */
class FolderWalk {
  readonly skipped: SkippedLink[] = [];
  /** Real paths of the folders and files read. */
  private readonly seen = new Set<string>();
  private readonly links: Link[] = [];
  /** unlabeled/ folders met in split folders (see FolderListing.unlabeled). */
  readonly unlabeled: UnlabeledFolder[] = [];
  constructor(private readonly rootReal: string) { this.seen.add(rootReal); }

  /** An unlabeled/ folder (not a split folder's class). */
  async unlabeledFolder(dir: string, real: string): Promise<void> {
    this.unlabeled.push(await this.classFolder('', dir, real));
  }

  /** The class folders of a split folder (`real`: its real path). */
  async split(dir: string, real: string): Promise<SplitListing> {
    this.seen.add(real);
    const out: SplitListing = { dir, classes: [], loose: [] };
    for (const e of await listDir(dir)) {
      const p = path.join(dir, e.name);
      if (e.isSymbolicLink()) this.links.push({ link: p, real: path.join(real, e.name), into: out });
      else if (e.isDirectory() && isUnlabeledFolderName(e.name)) await this.unlabeledFolder(p, path.join(real, e.name));
      else if (e.isDirectory()) out.classes.push(await this.classFolder(nfc(e.name), p, path.join(real, e.name)));
      else out.loose.push(p);
    }
    return out;
  }

  private async classFolder(label: string, dir: string, real: string): Promise<ClassFolder> {
    const c: ClassFolder = { label, dir, files: [], ignored: [] };
    await this.classFiles(c, dir, real);
    return c;
  }

  /** Sample files under a class folder (recursively) into `c`. */
  private async classFiles(c: ClassFolder, dir: string, real: string): Promise<void> {
    this.seen.add(real);
    for (const e of await listDir(dir)) {
      const p = path.join(dir, e.name);
      if (e.isSymbolicLink()) this.links.push({ link: p, real: path.join(real, e.name), into: c });
      else if (e.isDirectory()) await this.classFiles(c, p, path.join(real, e.name));
      else this.file(c, p, path.join(real, e.name));
    }
  }

  private file(c: ClassFolder, p: string, real: string): void {
    if (!SAMPLE_EXTENSIONS.has(path.extname(p).toLowerCase())) { c.ignored.push(p); return; }
    this.seen.add(real);
    c.files.push(p);
  }

  /** Follow the links met so far (and the ones inside what they add), each at most once. */
  async followLinks(): Promise<void> {
    for (let k = 0; k < this.links.length; k++) {
      const { link, real, into } = this.links[k];
      let target: string;
      let isDirTarget: boolean;
      try {
        target = await fsp.realpath(link);
        isDirTarget = (await fsp.stat(target)).isDirectory();
      } catch { this.skipped.push({ link, why: 'broken' }); continue; }
      if (!isInside(target, this.rootReal)) { this.skipped.push({ link, why: 'outside', target }); continue; }
      if (this.seen.has(target)) {
        const loop = isDirTarget && isInside(real, target);
        this.skipped.push({ link, why: loop ? 'loop' : 'seen', target });
        continue;
      }
      if ('classes' in into) {
        if (isDirTarget && isUnlabeledFolderName(path.basename(link))) this.unlabeled.push(await this.classFolder('', link, target));
        else if (isDirTarget) { into.classes.push(await this.classFolder(nfc(path.basename(link)), link, target)); into.classes.sort((a, b) => compareCodePoints(a.label, b.label)); }
        else into.loose.push(link);
      } else if (isDirTarget) await this.classFiles(into, link, target);
      else this.file(into, link, target);
    }
  }
}

/** Whether `e` in `dir` is a folder: a real one, or a link to a folder inside `rootReal`. */
async function isDirIn(dir: string, e: Dirent, rootReal: string): Promise<boolean> {
  if (e.isDirectory()) return true;
  if (!e.isSymbolicLink()) return false;
  try {
    const t = await fsp.realpath(path.join(dir, e.name));
    return isInside(t, rootReal) && (await fsp.stat(t)).isDirectory();
  } catch { return false; }
}

/** The train/ and test/ folders of a folder dataset (names matched case-insensitively), and the other folders. */
export async function splitFolders(root: string): Promise<{ train?: string; test?: string; others: string[] }> {
  const rootReal = await fsp.realpath(root);
  const dirs: string[] = [];
  for (const e of await listDir(root)) if (await isDirIn(root, e, rootReal)) dirs.push(e.name);
  const train = dirs.find((d) => TRAIN_DIRS.has(d.toLowerCase()));
  const test = dirs.find((d) => TEST_DIRS.has(d.toLowerCase()));
  return { train, test, others: dirs.filter((d) => d !== train && d !== test) };
}

/**
 * List a folder dataset (see FolderListing): train/ and test/ when there is a train/ folder, else
 * (`allowUnsplit`, and no test/ folder) the class folders under the root.
 */
export async function listFolderDataset(root: string, allowUnsplit = true): Promise<FolderListing> {
  const rootReal = await fsp.realpath(root);
  const { train, test, others } = await splitFolders(root);
  const walk = new FolderWalk(rootReal);
  const out: FolderListing = { root, others: others.filter((d) => !(train && isUnlabeledFolderName(d))), skippedLinks: walk.skipped, unlabeled: walk.unlabeled };
  const real = async (name: string) => fsp.realpath(path.join(root, name));
  if (train) {
    out.train = await walk.split(path.join(root, train), await real(train));
    if (test) out.test = await walk.split(path.join(root, test), await real(test));
    for (const d of others) if (isUnlabeledFolderName(d)) await walk.unlabeledFolder(path.join(root, d), await real(d));
  } else if (allowUnsplit && !test) {
    out.unsplit = await walk.split(root, rootReal);
  }
  await walk.followLinks();
  return out;
}

interface SplitLoad { samples: Sample[]; labels: string[] }

async function loadSplitFolder({ dir, classes, loose }: SplitListing, split: FileInfo['split'], files: FileInfo[], issues: DatasetIssue[], maxBytes: number): Promise<SplitLoad> {
  if (loose.length) {
    issues.push({ code: IssueCodes.unsupportedFile, severity: 'info', file: loose[0],
      message: `${loose.length} file(s) directly in ${dir} were ignored (${loose.slice(0, 3).map((f) => path.basename(f)).join(', ')}${loose.length > 3 ? ', …' : ''}): examples must be inside a class folder.`,
      fix: `Move each file into ${path.join(dir, '<class>')}/.` });
  }
  const samples: Sample[] = [];
  const labels: string[] = [];
  for (const { label, dir: classDir, files: list, ignored } of classes) {
    if (ignored.length) {
      issues.push({ code: IssueCodes.unsupportedFile, severity: 'info', file: ignored[0],
        message: `${ignored.length} file(s) in ${classDir} were ignored because they are not .txt or .md (${ignored.slice(0, 3).map((f) => path.basename(f)).join(', ')}${ignored.length > 3 ? ', …' : ''}).`,
        fix: 'Save examples as .txt or .md files.' });
    }
    const read = await mapLimit(list, 16, (f) => readSampleFile(f, split, label, maxBytes));
    let used = 0;
    read.forEach((r, i) => {
      files.push(r.info);
      if (r.issue) issues.push(r.issue);
      if (r.text === null) return;
      used++;
      samples.push(folderSample(r.text, label, list[i]));
    });
    if (!used) {
      issues.push({ code: IssueCodes.emptyClass, severity: 'warning', file: classDir,
        message: `The class folder ${classDir} has no usable .txt or .md files; the class "${label}" was left out${split === 'test' ? ' of the test split' : ''}.`,
        fix: `Add example files to ${classDir}, or delete the folder.` });
    } else labels.push(label);
  }
  return { samples, labels };
}

/** The texts of the unlabeled/ folders (label ''); their files are listed with split 'unsplit' and no label. */
async function loadUnlabeledFolders(folders: UnlabeledFolder[], files: FileInfo[], issues: DatasetIssue[], maxBytes: number): Promise<Sample[]> {
  const out: Sample[] = [];
  for (const { dir, files: list, ignored } of folders) {
    if (ignored.length) {
      issues.push({ code: IssueCodes.unsupportedFile, severity: 'info', file: ignored[0],
        message: `${ignored.length} file(s) in ${dir} were ignored because they are not .txt or .md (${ignored.slice(0, 3).map((f) => path.basename(f)).join(', ')}${ignored.length > 3 ? ', …' : ''}).`,
        fix: 'Save unlabelled texts as .txt or .md files.' });
    }
    const read = await mapLimit(list, 16, (f) => readSampleFile(f, 'unsplit', undefined, maxBytes));
    read.forEach((r, i) => {
      files.push(r.info);
      if (r.issue) issues.push(r.issue);
      if (r.text !== null) out.push(folderSample(r.text, '', list[i]));
    });
  }
  return out;
}

/** The sample of one file of a folder layout (its group comes from a part marker in the file name). */
export function folderSample(text: string, label: string, file: string): Sample {
  const group = groupOfFileName(path.basename(file));
  return { text, label, file, ...(group ? { group } : {}) };
}

async function loadFolders(root: string, opts: LoadOptions) {
  const files: FileInfo[] = [];
  const maxBytes = opts.maxFileBytes ?? DEFAULTS.maxFileBytes;
  const listing = await listFolderDataset(root);
  const issues: DatasetIssue[] = listing.skippedLinks.map((l) => skippedLinkIssue(root, l));
  const { train: trainList, test: testList, others } = listing;
  if (!trainList && !listing.unsplit) {
    const { test: testName } = await splitFolders(root);
    throw new FewShotError(`${root} has a ${testName}/ folder but no train/ folder.`, {
      file: root, code: 'no-train-folder', fix: `Create ${path.join(root, 'train', '<class>')}/ folders with example .txt files.` });
  }
  if (trainList) {
    if (others.length) {
      issues.push({ code: IssueCodes.unsupportedFile, severity: 'info', file: path.join(root, others[0]),
        message: `Folder(s) ${others.map((d) => `${d}/`).join(', ')} in ${root} were ignored: only train/ and test/ are read.`,
        fix: 'Move validation examples into train/ (a validation share is held out automatically) or into test/.' });
    }
    const train = await loadSplitFolder(trainList, 'train', files, issues, maxBytes);
    const test = testList ? await loadSplitFolder(testList, 'test', files, issues, maxBytes) : null;
    if (!testList) {
      issues.push({ code: IssueCodes.missingTestSplit, severity: 'info', file: root,
        message: `${root} has no test/ folder; a test split is held out from train/ instead.`,
        fix: `Add ${path.join(root, 'test', '<class>')}/ folders to evaluate on examples you choose.` });
    }
    const unlabeled = await loadUnlabeledFolders(listing.unlabeled, files, issues, maxBytes);
    return { files, issues, train: train.samples, test: test ? test.samples : null, unlabeled };
  }
  const unsplit = listing.unsplit!;
  if (!unsplit.classes.length) {
    throw new FewShotError(`${root} contains no class folders.`, {
      file: root, code: 'dataset-empty',
      fix: `Put examples in ${path.join(root, 'train', '<class>', '*.txt')} (and optionally ${path.join(root, 'test', '<class>', '*.txt')}), or point to a CSV/TSV/JSONL file.` });
  }
  const all = await loadSplitFolder(unsplit, 'unsplit', files, issues, maxBytes);
  const unlabeled = await loadUnlabeledFolders(listing.unlabeled, files, issues, maxBytes);
  return { files, issues, train: all.samples, test: null, unlabeled };
}

/** A usable table row: its sample, the side it belongs to and where it lies. */
export interface TableRow { sample: Sample; split: 'train' | 'test'; lastLine: number; textSpan?: TextSpan }

/** What one table file holds, as both training and the language server see it. */
export interface TableRead {
  header: string[];
  /** Null when no text/label column could be found. */
  columns: NonNullable<Dataset['columns']> | null;
  /** How the text and label columns were found: set by an option, by their names, or guessed from their content. */
  columnsFound?: ColumnChoice['how'];
  hasSplitColumn: boolean;
  rows: TableRow[];
  /** Rows with a text and an empty label cell (label ''): the unlabelled texts (also listed in `skipped` as 'empty-label'). */
  unlabeled: Sample[];
  /** Rows left out of training because their text or label cell is empty. */
  skipped: { line: number; lastLine: number; why: 'empty-text' | 'empty-label'; textSpan?: TextSpan }[];
  /** Records that could not be read (bad JSON, wrong field count, unclosed quote). */
  rowProblems: { line: number; reason: string }[];
  /** 1-based line of the header / first object (0 = none). */
  headerLine: number;
  /** Data records read (usable or not). */
  recordCount: number;
  issues: DatasetIssue[];
}

/**
 * Read the rows of a decoded table file: columns, text/label/split/group of each row,
 * rows skipped and why. `side` is the split of rows without a split value ('test' for
 * the test file of a train/test pair). Throws FewShotError only for bad column overrides.
 */
export function readTable(text: string, format: DatasetFormat, file: string, opts: LoadOptions = {}, side: 'train' | 'test' = 'train'): TableRead {
  const rec = readTableRecords(text, format, file);
  const out: TableRead = { header: rec.header, columns: null, hasSplitColumn: false, rows: [], unlabeled: [], skipped: [], rowProblems: rec.rowProblems, headerLine: rec.headerLine, recordCount: rec.rows.length, issues: [...rec.issues] };
  if (!rec.rows.length) return out;
  const cols = detectColumns(rec.header, rec.rows, file, opts);
  if (!cols) return out;
  if (cols.ambiguousLabel) {
    const names = cols.ambiguousLabel.map((k) => `"${rec.header[k]}"`).join(', ');
    throw new FewShotError(`${file}: no column is named like a label (label, class, category, …) and ${cols.ambiguousLabel.length} columns could hold the labels: ${names}. Training on the wrong one would learn the wrong classes, so none was guessed.`, {
      file, line: rec.headerLine || undefined, code: 'label-column-ambiguous',
      fix: `Name the label column "label", or choose it: ${cols.ambiguousLabel.map((k) => `--label-column ${rec.header[k]}`).join(' or ')} (in VS Code: the fewshot.train.labelColumn setting).` });
  }
  const issues = out.issues;
  let emptyText = 0, emptyLabel = 0, firstEmptyText = 0, firstEmptyLabel = 0;
  const unknownSplit = new Map<string, number>();
  let firstUnknownLine = 0;
  for (const r of rec.rows) {
    const text = sampleText(r.values[cols.text]);
    const label = nfc(r.values[cols.label].trim());
    const textSpan = valueSpan(r, rec.header, cols.text);
    const s: Sample = { text, label, file, line: r.line };
    if (cols.group !== undefined) { const g = r.values[cols.group].trim(); if (g) s.group = g; }
    if (!text || !label) {
      const why = !text ? 'empty-text' : 'empty-label';
      out.skipped.push({ line: r.line, lastLine: r.lastLine, why, textSpan });
      if (!text) { if (!emptyText++) firstEmptyText = r.line; } else {
        if (!emptyLabel++) firstEmptyLabel = r.line;
        out.unlabeled.push(s);
      }
      continue;
    }
    let split = side;
    if (cols.split !== undefined) {
      const raw = r.values[cols.split];
      const v = parseSplitValue(raw);
      if (v === 'test') split = 'test';
      else if (v === 'train') split = 'train';
      else if (v === null) { unknownSplit.set(raw.trim(), (unknownSplit.get(raw.trim()) ?? 0) + 1); if (!firstUnknownLine) firstUnknownLine = r.line; }
    }
    out.rows.push({ sample: s, split, lastLine: r.lastLine, textSpan });
  }
  if (emptyText) issues.push({ code: IssueCodes.emptyText, severity: 'warning', file, line: firstEmptyText,
    message: `${file}: ${emptyText} row(s) have an empty "${rec.header[cols.text]}" cell (first on line ${firstEmptyText}); they were skipped.`, fix: 'Fill in the text or delete those rows.' });
  if (emptyLabel) issues.push({ code: IssueCodes.emptyLabel, severity: 'info', file, line: firstEmptyLabel,
    message: `${file}: ${emptyLabel} row(s) have an empty "${rec.header[cols.label]}" cell (first on line ${firstEmptyLabel}): they are unlabelled texts, not trained on; "Suggest What to Label Next" (fewshot suggest) ranks which of them to label first.`,
    fix: `Fill in the "${rec.header[cols.label]}" cell of the rows Suggest What to Label Next lists first.` });
  if (unknownSplit.size) {
    const vals = [...unknownSplit.keys()].map((v) => JSON.stringify(v)).join(', ');
    issues.push({ code: IssueCodes.unknownSplit, severity: 'warning', file, line: firstUnknownLine,
      message: `${file}: split values ${vals} are neither train nor test (first on line ${firstUnknownLine}); those rows were used for ${side === 'test' ? 'testing' : 'training'}.`,
      fix: `Use "train" or "test" in the "${rec.header[cols.split!]}" column.` });
  }
  out.hasSplitColumn = cols.split !== undefined;
  out.columns = { text: rec.header[cols.text], label: rec.header[cols.label] };
  out.columnsFound = cols.how;
  if (cols.group !== undefined) out.columns.group = rec.header[cols.group];
  if (cols.split !== undefined) out.columns.split = rec.header[cols.split];
  return out;
}

/** The warning for columns guessed from their content (training also names the columns it reads every time, in its load step). */
export function guessedColumnsIssue(file: string, c: NonNullable<Dataset['columns']>, line?: number): DatasetIssue {
  return { code: IssueCodes.columnsGuessed, severity: 'warning', file, line: line || undefined,
    message: `${file}: no column is named like a text or a label; guessed from the content: text column "${c.text}", label column "${c.label}".`,
    fix: 'If a column is wrong, name the columns "text" and "label", or set them (--text-column, --label-column; in VS Code the fewshot.train.textColumn and fewshot.train.labelColumn settings).' };
}

const TRAIN_TOKEN = /(^|[._\- ])train(?=[._\- ]|$)/i;

/** `tickets-train.tsv` → `tickets-test.tsv` (the test file of a train/test pair), or undefined. */
export function pairedTestFile(file: string): string | undefined {
  const base = path.basename(file);
  if (!TRAIN_TOKEN.test(base)) return undefined;
  const test = path.join(path.dirname(file), base.replace(TRAIN_TOKEN, (_m, p1: string) => `${p1}test`));
  return test === file ? undefined : test;
}

/** `tickets-test.tsv` → `tickets-train.tsv`, or undefined. */
export function pairedTrainFile(file: string): string | undefined {
  const base = path.basename(file);
  const re = /(^|[._\- ])test(?=[._\- ]|$)/i;
  if (!re.test(base)) return undefined;
  return path.join(path.dirname(file), base.replace(re, (_m, p1: string) => `${p1}train`));
}

async function decodeTableFile(file: string, opts: LoadOptions): Promise<{ text: string; encoding: string; bytes: number }> {
  const st = await fsp.stat(file);
  const maxTable = opts.maxTableBytes ?? DEFAULTS.maxTableBytes;
  if (st.size > maxTable) {
    throw new FewShotError(`${file} is ${st.size} bytes, over the ${maxTable}-byte limit for table files.`, {
      file, code: 'file-too-large', fix: 'Split the table into smaller files or sample fewer rows.' });
  }
  const det = detectEncoding(await fsp.readFile(file));
  if (det.text === null) {
    throw new FewShotError(`${file} is binary or not in a supported text encoding (UTF-8, UTF-16 with BOM, GB18030).`, {
      file, code: 'undecodable-file', fix: 'Save the file as UTF-8 text (CSV, TSV or JSON Lines).' });
  }
  return { text: det.text, encoding: det.encoding, bytes: st.size };
}

/** The test file paired with a train table, when it exists and has a text and a label column. */
async function readPairedTest(file: string, format: DatasetFormat, opts: LoadOptions): Promise<{ info: FileInfo; read: TableRead } | null> {
  const testFile = pairedTestFile(file);
  if (!testFile || tableFormatOf(testFile) !== format) return null;
  try { if (!(await fsp.stat(testFile)).isFile()) return null; } catch { return null; }
  const d = await decodeTableFile(testFile, opts);
  const read = readTable(d.text, format, testFile, opts, 'test');
  if (!read.columns) return null;
  return { info: { file: testFile, split: 'test', encoding: d.encoding, bytes: d.bytes, chars: d.text.length }, read };
}

async function loadTable(file: string, format: DatasetFormat, opts: LoadOptions) {
  const d = await decodeTableFile(file, opts);
  if (!d.text.trim()) {
    throw new FewShotError(`${file} is empty.`, { file, code: 'dataset-empty', fix: 'Add a header row (e.g. text,label) and one row per example.' });
  }
  const read = readTable(d.text, format, file, opts);
  if (!read.recordCount) {
    throw new FewShotError(`${file} has no data rows.`, { file, code: 'dataset-empty',
      fix: format === 'jsonl' ? 'Add one JSON object per line, e.g. {"text": "...", "label": "..."}.' : 'Add a header row (e.g. text,label) and one row per example.' });
  }
  if (!read.columns) {
    throw new FewShotError(`${file}: could not tell which column holds the text and which the label (columns: ${read.header.join(', ')}).`, {
      file, code: 'columns-not-found',
      fix: 'Name the columns "text" and "label", or set the text and label columns explicitly (textColumn/labelColumn, CLI --text-column/--label-column).' });
  }
  const pair = await readPairedTest(file, format, opts);
  const files: FileInfo[] = [{ file, split: pair ? 'train' : 'unsplit', encoding: d.encoding, bytes: d.bytes, chars: d.text.length }];
  const rows = [...read.rows];
  const issues = [...(read.columnsFound === 'heuristic' ? [guessedColumnsIssue(file, read.columns, read.headerLine)] : []), ...read.issues];
  const unlabeled = [...read.unlabeled];
  if (pair) { files.push(pair.info); rows.push(...pair.read.rows); issues.push(...pair.read.issues); unlabeled.push(...pair.read.unlabeled); }
  const train = rows.filter((r) => r.split === 'train').map((r) => r.sample);
  const test = rows.filter((r) => r.split === 'test').map((r) => r.sample);
  const given = pair !== null || read.hasSplitColumn;
  return { files, issues, train, test: given && test.length ? test : null, columns: read.columns, unlabeled };
}

function fingerprintOf(train: Sample[], test: Sample[]): string {
  const lines = [
    ...train.map((s) => JSON.stringify(['train', s.label, s.text])),
    ...test.map((s) => JSON.stringify(['test', s.label, s.text])),
  ].sort(compareCodePoints);
  return sha256Hex(lines.join('\n'));
}

/** Load a dataset folder or table file. Throws FewShotError for unusable input. */
export async function loadDataset(p: string, opts: LoadOptions = {}): Promise<Dataset> {
  const root = path.resolve(p);
  let st;
  try { st = await fsp.stat(root); } catch {
    throw new FewShotError(`Dataset path ${root} does not exist.`, { file: root, code: 'dataset-missing',
      fix: 'Check the path: point to a folder with train/<class>/*.txt (or <class>/*.txt), or to a .csv, .tsv or .jsonl file.' });
  }
  let format: DatasetFormat;
  let loaded: DatasetParts;
  if (st.isDirectory()) {
    format = 'folders';
    loaded = await loadFolders(root, opts);
  } else {
    const f = tableFormatOf(root);
    if (!f) {
      throw new FewShotError(`${root} is not a supported dataset file.`, { file: root, code: 'unsupported-format',
        fix: 'Use a .csv, .tsv or .jsonl file with text and label columns, or a folder with train/<class>/*.txt.' });
    }
    format = f;
    loaded = await loadTable(root, f, opts);
  }
  return finishDataset(root, format, loaded, opts);
}

/** What a reader found in a dataset, before the test split is settled. `test: null` = no test split given. */
export interface DatasetParts {
  files: FileInfo[]; issues: DatasetIssue[]; train: Sample[]; test: Sample[] | null; columns?: Dataset['columns'];
  /** Texts without a label (dataset.unlabeled). */
  unlabeled?: Sample[];
}

/** What settleSplits reads of a sample (text samples and image samples alike). */
export interface SettleSample { label: string; file: string; line?: number; group?: string }

/** Labels and splits as training uses them (see settleSplits). */
export interface SettledSplits<T> { train: T[]; test: T[]; labels: string[]; testSource: Dataset['testSource']; issues: DatasetIssue[] }

/**
 * Settle labels and splits the way training uses them: test classes without training
 * data are left out, and a dataset without a test split gets a stratified hold-out (or
 * cross-validation when classes are too small). Throws FewShotError for unusable data.
 * Shared by text datasets (finishDataset) and image datasets; `examples` names what a class folder should hold.
 */
export function settleSplits<T extends SettleSample>(root: string, format: DatasetFormat,
  loaded: { fileCount: number; issues: DatasetIssue[]; train: T[]; test: T[] | null }, opts: LoadOptions = {}, examples = '.txt or .md files'): SettledSplits<T> {
  const { fileCount } = loaded;
  const issues = [...loaded.issues];
  let train = loaded.train;
  let test = loaded.test ?? [];
  if (!train.length && !test.length) {
    throw new FewShotError(`${root} has no usable examples${fileCount ? ` (${fileCount} file(s) were all skipped)` : ''}.`, {
      file: root, code: 'dataset-empty',
      fix: format === 'folders' ? `Add ${examples} to the class folders in ${root}.` : `Add rows with a text and a label to ${root}.` });
  }
  const trainLabels = new Set(train.map((s) => s.label));
  // Test classes that never occur in training cannot be predicted: leave them out of evaluation.
  if (test.length) {
    const missing = new Map<string, T[]>();
    for (const s of test) if (!trainLabels.has(s.label)) { let l = missing.get(s.label); if (!l) missing.set(s.label, (l = [])); l.push(s); }
    for (const [label, ss] of [...missing.entries()].sort((a, b) => compareCodePoints(a[0], b[0]))) {
      const where = format === 'folders' ? path.dirname(ss[0].file) : root;
      issues.push({ code: IssueCodes.testClassNotInTrain, severity: 'error', file: where, line: format === 'folders' ? undefined : ss[0].line,
        message: `The test class "${label}" (${ss.length} example(s) in ${where}) has no training examples, so it cannot be predicted; those examples were left out of the evaluation.`,
        fix: format === 'folders' ? `Add training examples in ${path.join(root, 'train', label)}/, or remove ${where}.` : `Add rows labelled "${label}" with split "train", or fix the label spelling.` });
    }
    if (missing.size) test = test.filter((s) => trainLabels.has(s.label));
  }
  const labels = [...trainLabels].sort(compareCodePoints);
  if (labels.length < 2) {
    const what = labels.length ? `only one class ("${labels[0]}")` : 'no training examples';
    throw new FewShotError(`${root} has ${what}; a classifier needs at least two classes.`, {
      file: root, code: labels.length ? 'single-class' : 'dataset-empty',
      fix: format === 'folders' ? `Add a second class folder with examples next to ${labels.length ? labels[0] : 'the class folders'}.` : `Add rows with at least two different labels to ${root}.` });
  }
  let testSource: Dataset['testSource'];
  const seed = opts.seed ?? DEFAULTS.seed;
  if (loaded.test && test.length) {
    testSource = 'given';
    const testLabels = new Set(test.map((s) => s.label));
    for (const l of labels) {
      if (!testLabels.has(l)) {
        issues.push({ code: IssueCodes.classMissingFromSplit, severity: 'warning', file: format === 'folders' ? path.join(root, 'test') : root,
          message: `The class "${l}" has no test examples; its scores cannot be measured.`,
          fix: format === 'folders' ? `Add examples to ${path.join(root, 'test', l)}/.` : `Mark some "${l}" rows as split "test".` });
      }
    }
    const trainGroups = new Set(train.filter((s) => s.group).map((s) => s.group));
    const spanning = [...new Set(test.filter((s) => s.group && trainGroups.has(s.group)).map((s) => s.group!))];
    if (spanning.length) {
      issues.push({ code: IssueCodes.groupSpansSplits, severity: 'warning', file: root,
        message: `${spanning.length} document group(s) have parts in both train and test (${spanning.slice(0, 3).join(', ')}${spanning.length > 3 ? ', …' : ''}); test scores may be optimistic.`,
        fix: 'Keep all parts of a document on the same side of the split.' });
    }
  } else {
    const all = [...train, ...test];
    const counts = new Map<string, number>();
    for (const s of all) counts.set(s.label, (counts.get(s.label) ?? 0) + 1);
    const minNeeded = opts.minSamplesToSplit ?? DEFAULTS.minSamplesToSplit;
    const small = labels.filter((l) => (counts.get(l) ?? 0) < minNeeded);
    if (small.length) {
      testSource = 'cross-validation';
      train = all; test = [];
      issues.push({ code: IssueCodes.crossValidation, severity: 'info', file: root,
        message: `No test split, and class(es) ${small.map((l) => `"${l}" (${counts.get(l)})`).join(', ')} have fewer than ${minNeeded} examples to hold out; results will use cross-validation.`,
        fix: format === 'folders' ? `Add more examples or a ${path.join(root, 'test', '<class>')}/ folder.` : 'Add more examples or a split column with train/test.' });
    } else {
      const r = stratifiedSplit(all, opts.testFraction ?? DEFAULTS.testFraction, seed);
      train = r.train; test = r.test;
      testSource = 'stratified-split';
      issues.push({ code: IssueCodes.stratifiedSplit, severity: 'info', file: root,
        message: `No test split given: ${test.length} of ${all.length} examples were held out (stratified by class, seed ${seed}).`,
        fix: format === 'folders' ? `Add ${path.join(root, 'test', '<class>')}/ folders to choose the test examples yourself.` : 'Add a split column with train/test to choose the test examples yourself.' });
      for (const l of r.classesWithoutTest) {
        issues.push({ code: IssueCodes.classMissingFromSplit, severity: 'warning', file: root,
          message: `The class "${l}" could not be held out (all its examples belong to one document group); it has no test examples.`,
          fix: 'Add examples from other documents to this class.' });
      }
    }
  }
  return { train, test, labels, testSource, issues };
}

/**
 * Settle labels and splits (settleSplits), then the language and the fingerprint of a text dataset.
 * Throws FewShotError for unusable data.
 */
export function finishDataset(root: string, format: DatasetFormat, loaded: DatasetParts, opts: LoadOptions = {}): Dataset {
  const { files } = loaded;
  const { train, test, labels, testSource, issues } = settleSplits(root, format, { ...loaded, fileCount: files.length }, opts);
  const language = guessLanguage([...train, ...test].map((s) => s.text));
  const ds: Dataset = {
    root, format, train, test, labels, testSource, files, issues, language,
    fingerprint: fingerprintOf(train, test),
  };
  if (loaded.columns) ds.columns = loaded.columns;
  // Unlabelled texts are never trained or tested on, so they leave the fingerprint (and cached runs) alone.
  if (loaded.unlabeled?.length) ds.unlabeled = loaded.unlabeled;
  return ds;
}
