/**
 * Image datasets: a folder whose class folders hold images (PNG, JPEG, WebP, BMP, TIFF, told apart by their first
 * bytes, never by the file name), with the text datasets' layouts and splits: `train/<class>/` and `test/<class>/`,
 * or `<class>/` folders only (a seeded stratified split: settleSplits, shared with text datasets).
 *
 * Every image is decoded once (decode.ts) while loading, so a corrupt, truncated, empty or over-limit file is found
 * here, named in a warning and skipped; it never reaches the encoder. With a verified-image cache (`verifyCacheDir`,
 * training uses `<store>/cache/images`), an image whose exact bytes (SHA-256) decoded before is not decoded again. Limits (IMAGE_DEFAULTS): 50 MB per file and
 * 100 megapixels per image (a 10,000 × 10,000 scan); images under 32 px a side are kept with a warning.
 */
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { decodeImage, imageHeader } from './decode';
import { IMAGE_DEFAULTS } from '../datasets/sniff';
export { IMAGE_DEFAULTS } from '../datasets/sniff';
import { FewShotError } from '../errors';
import { compareCodePoints } from '../metrics';
import { mapLimit } from '../util/async';
import { writeFileAtomic } from '../util/fs';
import { sha256Hex } from '../util/hash';
import {
  listFolderDataset, settleSplits, skippedLinkIssue, splitFolders,
  type ClassFolder, type DatasetIssue, type FolderListing, type LoadOptions, type SplitListing,
} from '../datasets';
import { groupOfFileName } from '../datasets/split';

import { readHead, sniffImageFormat, type ImageFormat } from '../datasets/sniff';
export { IMAGE_FORMATS, sniffImageFormat, type ImageFormat } from '../datasets/sniff';


export const ImageIssueCodes = {
  unreadableImage: 'fewshot.image-unreadable',
  emptyImage: 'fewshot.image-empty',
  imageTooLarge: 'fewshot.image-too-large',
  smallImage: 'fewshot.image-small',
  unsupportedImage: 'fewshot.image-unsupported-format',
  notImage: 'fewshot.image-not-image',
} as const;

export interface ImageSample {
  /** Absolute path of the image file. */
  file: string;
  /** '' for an image of an unlabeled/ folder. */
  label: string;
  bytes: number;
  width: number;
  height: number;
  format: ImageFormat;
  /** SHA-256 of the file's bytes (exact duplicates, the fingerprint, the embedding cache). */
  sha256: string;
  /** Files named `<name>_part1.png`, `<name>_p2.png`… share a group and stay on one side of a split. */
  group?: string;
}

export interface ImageFileInfo {
  file: string;
  split: 'train' | 'test' | 'unsplit';
  label?: string;
  bytes: number;
  format?: ImageFormat;
  width?: number;
  height?: number;
  /** Why the file was not used. */
  skipped?: string;
}

export interface ImageDataset {
  root: string;
  kind: 'images';
  train: ImageSample[];
  test: ImageSample[];
  /** Images of unlabeled/ folders (label ''); never trained or tested on. */
  unlabeled?: ImageSample[];
  /** Sorted. */
  labels: string[];
  testSource: 'given' | 'stratified-split' | 'cross-validation' | 'none';
  files: ImageFileInfo[];
  issues: DatasetIssue[];
  /** SHA-256 over the sorted (split, label, content hash) of every sample: equal for the same images under other names. */
  fingerprint: string;
}

export interface ImageLoadOptions extends Pick<LoadOptions, 'seed' | 'testFraction' | 'minSamplesToSplit'> {
  maxImageBytes?: number;
  maxImagePixels?: number;
  minImageSide?: number;
  /**
   * A folder of verified images (`<store>/cache/images`): one small JSON file per image content (SHA-256) that decoded
   * fully once, with its format and size. An image found there is not decoded again; a missing, damaged or
   * mismatching entry means decoding it again.
   */
  verifyCacheDir?: string;
}

/** Bump when the decoders change what they accept: older entries are then decoded again. */
const VERIFIED_VERSION = 1;
interface VerifiedImage { v: number; sha256: string; format: ImageFormat; width: number; height: number }
const verifiedFile = (dir: string, sha256: string): string => path.join(dir, sha256.slice(0, 2), `${sha256}.json`);

/** Whether the image with these bytes (its SHA-256, format and header size) decoded fully before. */
async function isVerified(dir: string, e: Omit<VerifiedImage, 'v'>): Promise<boolean> {
  try {
    const v = JSON.parse(await fsp.readFile(verifiedFile(dir, e.sha256), 'utf8')) as Partial<VerifiedImage>;
    return v.v === VERIFIED_VERSION && v.sha256 === e.sha256 && v.format === e.format && v.width === e.width && v.height === e.height;
  } catch { return false; }
}

/** Records a fully decoded image; best effort (a read-only or full disk only costs a decode next time). */
async function markVerified(dir: string, e: Omit<VerifiedImage, 'v'>): Promise<void> {
  const entry: VerifiedImage = { v: VERIFIED_VERSION, ...e };
  try { await writeFileAtomic(verifiedFile(dir, e.sha256), JSON.stringify(entry) + '\n'); } catch { /* decoded again next time */ }
}

/** Every file of a class folder, sorted (the text walk lists images among its `ignored` files). */
function classFiles(c: ClassFolder): string[] {
  return [...c.files, ...c.ignored].sort(compareCodePoints);
}

/** The result of reading one file as an image: a sample, or why it was skipped (with the warning). */
export type ImageRead = { sample: ImageSample; info: ImageFileInfo; issue?: DatasetIssue } | { sample: null; info: ImageFileInfo; issue?: DatasetIssue };

function mb(bytes: number): string { return `${(bytes / 1024 / 1024).toFixed(1)} MB`; }
function megapixels(n: number): string { return (n / 1e6).toFixed(n >= 1e7 ? 0 : 2); }

/**
 * Read and fully decode one image file (not decoded again when `opts.verifyCacheDir` knows its bytes). Never throws for bad content: a zero-byte, non-image, unsupported (GIF),
 * over-limit, corrupt or truncated file comes back as `sample: null` with a warning that names it and says what to do.
 */
export async function readImageFile(file: string, split: ImageFileInfo['split'], label: string | undefined, opts: ImageLoadOptions = {}): Promise<ImageRead> {
  const maxBytes = opts.maxImageBytes ?? IMAGE_DEFAULTS.maxImageBytes;
  const maxPixels = opts.maxImagePixels ?? IMAGE_DEFAULTS.maxImagePixels;
  const skip = (bytes: number, why: string, issue: Omit<DatasetIssue, 'file' | 'severity'>, format?: ImageFormat): ImageRead =>
    ({ sample: null, info: { file, split, label, bytes, format, skipped: why }, issue: { ...issue, severity: 'warning', file } });
  let bytes: number;
  try { bytes = (await fsp.stat(file)).size; } catch (e) {
    return skip(0, 'unreadable', { code: ImageIssueCodes.unreadableImage, message: `${file} could not be read (${(e as Error).message}); it was skipped.`,
      fix: 'Check the file permissions, or remove the file.' });
  }
  if (!bytes) {
    return skip(0, 'empty', { code: ImageIssueCodes.emptyImage, message: `${file} is empty (0 bytes); it was skipped.`,
      fix: 'Copy the image again from its source, or delete the file.' });
  }
  const head = await readHead(file);
  const sniffed = sniffImageFormat(head);
  if (!sniffed) {
    return skip(bytes, 'not an image', { code: ImageIssueCodes.notImage,
      message: `${file} is not a PNG, JPEG, WebP, BMP or TIFF image (its first bytes say so, whatever its name); it was skipped.`,
      fix: 'Save the image as PNG or JPEG, or move the file out of the class folder.' });
  }
  if (sniffed === 'gif') {
    return skip(bytes, 'GIF is not supported', { code: ImageIssueCodes.unsupportedImage, message: `${file} is a GIF image, which is not supported; it was skipped.`,
      fix: 'Convert it to PNG (e.g. `convert in.gif out.png`), or remove it.' });
  }
  if (bytes > maxBytes) {
    return skip(bytes, 'too large', { code: ImageIssueCodes.imageTooLarge,
      message: `${file} is ${mb(bytes)}, over the ${mb(maxBytes)} limit for an image file; it was skipped.`,
      fix: 'Resize or recompress the image (e.g. to 1024 px on the long side as JPEG), or raise the limit.' }, sniffed);
  }
  const buf = await fsp.readFile(file);
  const unreadable = (detail: string): ImageRead => skip(bytes, 'corrupt or truncated', { code: ImageIssueCodes.unreadableImage,
    message: `${file} looks like a ${sniffed.toUpperCase()} image but cannot be decoded (${detail}); it is corrupt or truncated and was skipped.`,
    fix: 'Copy or export the image again from its source (an interrupted download or copy truncates files), or delete it.' }, sniffed);
  let width: number, height: number;
  try {
    ({ width, height } = imageHeader(buf));
  } catch (e) { return unreadable(firstLine(e)); }
  if (width * height > maxPixels) {
    return skip(bytes, 'too large', { code: ImageIssueCodes.imageTooLarge,
      message: `${file} is ${width} × ${height} px (${megapixels(width * height)} megapixels), over the ${megapixels(maxPixels)}-megapixel limit; it was skipped.`,
      fix: 'Resize the image (the encoder sees 224 × 224 px anyway), or raise the limit.' }, sniffed);
  }
  // Decode every pixel (truncated and corrupt data fail here), unless these exact bytes decoded before.
  const sha256 = sha256Hex(buf);
  const verified = { sha256, format: sniffed, width, height };
  if (!opts.verifyCacheDir || !(await isVerified(opts.verifyCacheDir, verified))) {
    try {
      decodeImage(buf, maxPixels);
    } catch (e) { return unreadable(firstLine(e)); }
    if (opts.verifyCacheDir) await markVerified(opts.verifyCacheDir, verified);
  }
  const group = groupOfFileName(path.basename(file));
  const sample: ImageSample = { file, label: label ?? '', bytes, width, height, format: sniffed, sha256, ...(group ? { group } : {}) };
  return { sample, info: { file, split, label, bytes, format: sniffed, width, height } };
}

function firstLine(e: unknown): string {
  return String((e as Error)?.message ?? e).split('\n')[0].replace(/^Input buffer (has|contains) /, '').trim() || 'unknown error';
}

interface SplitImages { samples: ImageSample[] }

async function loadImageSplit({ dir, classes, loose }: SplitListing, split: ImageFileInfo['split'], files: ImageFileInfo[], issues: DatasetIssue[], opts: ImageLoadOptions): Promise<SplitImages> {
  if (loose.length) {
    issues.push({ code: 'fewshot.unsupported-file', severity: 'info', file: loose[0],
      message: `${loose.length} file(s) directly in ${dir} were ignored (${loose.slice(0, 3).map((f) => path.basename(f)).join(', ')}${loose.length > 3 ? ', …' : ''}): images must be inside a class folder.`,
      fix: `Move each image into ${path.join(dir, '<class>')}/.` });
  }
  const samples: ImageSample[] = [];
  for (const c of classes) {
    const list = classFiles(c);
    const read = await mapLimit(list, 4, (f) => readImageFile(f, split, c.label, opts));
    let used = 0;
    for (const r of read) {
      files.push(r.info);
      if (r.issue) issues.push(r.issue);
      if (r.sample) { used++; samples.push(r.sample); }
    }
    if (!used) {
      issues.push({ code: 'fewshot.empty-class', severity: 'warning', file: c.dir,
        message: `The class folder ${c.dir} has no usable images; the class "${c.label}" was left out${split === 'test' ? ' of the test split' : ''}.`,
        fix: `Add PNG or JPEG images to ${c.dir}, or delete the folder.` });
    }
  }
  return { samples };
}

function smallImagesIssue(samples: ImageSample[], minSide: number): DatasetIssue | undefined {
  const small = samples.filter((s) => Math.min(s.width, s.height) < minSide);
  if (!small.length) return undefined;
  const names = small.slice(0, 3).map((s) => `${s.file} (${s.width} × ${s.height})`).join(', ');
  return { code: ImageIssueCodes.smallImage, severity: 'warning', file: small[0].file,
    message: `${small.length} image(s) are smaller than ${minSide} px on a side (${names}${small.length > 3 ? ', …' : ''}); they are used, but the encoder upscales them and sees little detail.`,
    fix: 'Use the original, larger images if you have them.' };
}

/** SHA-256 over the sorted (split, label, content hash) lines: names and folders order do not change it. */
export function imageFingerprint(train: ImageSample[], test: ImageSample[]): string {
  const lines = [
    ...train.map((s) => JSON.stringify(['train', s.label, s.sha256])),
    ...test.map((s) => JSON.stringify(['test', s.label, s.sha256])),
  ].sort(compareCodePoints);
  return sha256Hex(lines.join('\n'));
}

const IMAGE_EXAMPLES = 'images (PNG, JPEG, WebP, BMP or TIFF)';

/**
 * Load an image folder dataset. Bad images are skipped with a warning each (never thrown); a folder that cannot be a
 * dataset (missing, no class folders, fewer than two usable classes) throws FewShotError with a fix.
 */
export async function loadImageDataset(p: string, opts: ImageLoadOptions = {}): Promise<ImageDataset> {
  const root = path.resolve(p);
  try {
    if (!(await fsp.stat(root)).isDirectory()) throw new Error('not a folder');
  } catch {
    throw new FewShotError(`${root} is not a folder.`, { file: root, code: 'dataset-missing',
      fix: `Point to a folder with train/<class>/ (and test/<class>/) folders of images, or with <class>/ folders of images.` });
  }
  const listing: FolderListing = await listFolderDataset(root);
  const issues: DatasetIssue[] = listing.skippedLinks.map((l) => skippedLinkIssue(root, l));
  const files: ImageFileInfo[] = [];
  if (!listing.train && !listing.unsplit) {
    const { test } = await splitFolders(root);
    throw new FewShotError(`${root} has a ${test}/ folder but no train/ folder.`, {
      file: root, code: 'no-train-folder', fix: `Create ${path.join(root, 'train', '<class>')}/ folders with example images.` });
  }
  let train: ImageSample[];
  let test: ImageSample[] | null = null;
  if (listing.train) {
    if (listing.others.length) {
      issues.push({ code: 'fewshot.unsupported-file', severity: 'info', file: path.join(root, listing.others[0]),
        message: `Folder(s) ${listing.others.map((d) => `${d}/`).join(', ')} in ${root} were ignored: only train/ and test/ are read.`,
        fix: 'Move validation images into train/ (a validation share is held out automatically) or into test/.' });
    }
    train = (await loadImageSplit(listing.train, 'train', files, issues, opts)).samples;
    if (listing.test) test = (await loadImageSplit(listing.test, 'test', files, issues, opts)).samples;
  } else {
    if (!listing.unsplit!.classes.length) {
      throw new FewShotError(`${root} contains no class folders.`, { file: root, code: 'dataset-empty',
        fix: `Put images in ${path.join(root, 'train', '<class>')}/ (and optionally ${path.join(root, 'test', '<class>')}/), or in ${path.join(root, '<class>')}/ folders.` });
    }
    train = (await loadImageSplit(listing.unsplit!, 'unsplit', files, issues, opts)).samples;
  }
  const unlabeled: ImageSample[] = [];
  for (const u of listing.unlabeled) {
    for (const r of await mapLimit(classFiles(u), 4, (f) => readImageFile(f, 'unsplit', undefined, opts))) {
      files.push(r.info);
      if (r.issue) issues.push(r.issue);
      if (r.sample) unlabeled.push(r.sample);
    }
  }
  const small = smallImagesIssue([...train, ...(test ?? []), ...unlabeled], opts.minImageSide ?? IMAGE_DEFAULTS.minImageSide);
  if (small) issues.push(small);
  const settled = settleSplits(root, 'folders', { fileCount: files.length, issues, train, test }, opts, IMAGE_EXAMPLES);
  const ds: ImageDataset = {
    root, kind: 'images', train: settled.train, test: settled.test, labels: settled.labels, testSource: settled.testSource,
    files, issues: settled.issues, fingerprint: imageFingerprint(settled.train, settled.test),
  };
  if (unlabeled.length) ds.unlabeled = unlabeled;
  return ds;
}

/**
 * Whether a folder is an image dataset: it has the folder layout (train/<class>/ or <class>/ folders) and most of the
 * files in its class folders (up to `sample` of them, read by their first bytes) are images. A text dataset, a
 * missing folder or a folder without class folders gives false.
 */
export async function isImageDataset(root: string, sample = 40): Promise<boolean> {
  let listing: FolderListing;
  try { listing = await listFolderDataset(path.resolve(root)); } catch { return false; }
  const split = listing.train ?? listing.unsplit;
  if (!split?.classes.length) return false;
  // Take files round-robin over the classes, so one big class does not decide alone.
  const lists = split.classes.map(classFiles);
  const picked: string[] = [];
  for (let i = 0; picked.length < sample && lists.some((l) => i < l.length); i++) for (const l of lists) if (i < l.length && picked.length < sample) picked.push(l[i]);
  if (!picked.length) return false;
  let images = 0;
  for (const f of picked) {
    try { const k = sniffImageFormat(await readHead(f)); if (k && k !== 'gif') images++; } catch { /* unreadable: not an image */ }
  }
  return images * 2 > picked.length;
}
