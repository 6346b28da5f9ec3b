/**
 * Image datasets in the language server: reading one image file into the per-file cache (with the core's
 * readImageFile, so the server skips exactly what training skips, and a dHash for near duplicates), and the
 * image checks: unreadable and small images, exact and near duplicates (within a split and across train/test).
 */
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { IMAGE_DEFAULTS, ImageIssueCodes, readImageFile } from '../../core/images/dataset';
import { dHash, findDuplicates, NEAR_DUPLICATE_BITS, type DuplicatePair, type HashableImage } from '../../core/images/phash';
import { loadImageDecoders } from '../../core/images/decode';
import { DiagnosticCodes, type DiagnosticCode } from '../../protocol/diagnostics';
import { msg } from './messages';
import { yieldNow } from './text';
import { compareCodePoints } from '../../core/metrics';
import type { ImageFacts, LoadedFile, MemberFile, Range, Sample, Severity } from './types';

const ZERO: Range = { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } };

/** The code a skipped image's diagnostic carries, when the image decoders themselves are missing (no file is to blame). */
export const DECODERS_MISSING = 'image-decoders-missing';

function firstMatch(re: RegExp, s: string | undefined): string | undefined {
  return s ? re.exec(s)?.[1] : undefined;
}

/** Read one member of an image dataset the way training does (readImageFile), plus its dHash. Never throws. */
export async function loadImageMember(m: MemberFile): Promise<LoadedFile> {
  let mtimeMs = 0;
  try { mtimeMs = (await fsp.stat(m.file)).mtimeMs; } catch { /* readImageFile reports it */ }
  const lf: LoadedFile = { file: m.file, mtimeMs, size: 0, encoding: 'image', status: 'ok', text: '', samples: [], skipped: [], parseErrors: [], headRange: ZERO };
  try {
    loadImageDecoders();
  } catch (e) {
    lf.image = { skipped: { code: DECODERS_MISSING, detail: e instanceof Error ? e.message : String(e) } };
    return lf;
  }
  const side = m.split === 'test' ? 'test' : 'train';
  let read;
  try {
    read = await readImageFile(m.file, m.split, m.label);
  } catch (e) {
    // readImageFile does not throw for bad content; a vanished file or an I/O error can still land here.
    lf.image = { skipped: { code: ImageIssueCodes.unreadableImage, detail: e instanceof Error ? e.message.split('\n')[0] : String(e) } };
    return lf;
  }
  lf.size = read.info.bytes;
  if (!read.sample) {
    const code = read.issue?.code ?? ImageIssueCodes.unreadableImage;
    const text = read.issue?.message;
    const dims = /(\d+) × (\d+) px/.exec(text ?? '');
    lf.image = {
      format: read.info.format,
      skipped: {
        code,
        detail: firstMatch(/cannot be decoded \((.*)\); it is corrupt/, text) ?? firstMatch(/could not be read \((.*)\); it was skipped/, text),
        ...(dims ? { width: Number(dims[1]), height: Number(dims[2]) } : {}),
      },
    };
    return lf;
  }
  const s = read.sample;
  const facts: ImageFacts = { format: s.format, width: s.width, height: s.height, sha256: s.sha256 };
  try { facts.dhash = await dHash(await fsp.readFile(m.file)); } catch { /* left out of the near-duplicate check */ }
  lf.image = facts;
  const sample: Sample = {
    text: '', label: s.label, split: side, file: m.file, group: s.group, range: ZERO,
    chars: 0, hash: s.sha256, shingles: new Uint32Array(0), sig: null, bands: null,
  };
  lf.samples.push(sample);
  return lf;
}

function mb(bytes: number): string { return `${(bytes / 1024 / 1024).toFixed(1)} MB`; }
function megapixels(n: number): string { return (n / 1e6).toFixed(n >= 1e7 ? 0 : 2); }

/** The diagnostic for an image training skips: code, severity and the message (en or zh). */
export function skippedImageIssue(lf: LoadedFile, label: string | undefined, locale?: string): { code: DiagnosticCode; severity: Severity; message: string } | undefined {
  const sk = lf.image?.skipped;
  if (!sk || sk.code === DECODERS_MISSING) return undefined;
  const format = (lf.image?.format ?? 'image').toUpperCase();
  switch (sk.code) {
    case ImageIssueCodes.emptyImage:
      return { code: DiagnosticCodes.imageEmpty, severity: 'error', message: msg(locale, 'imageEmpty') };
    case ImageIssueCodes.notImage:
      return { code: DiagnosticCodes.imageNotImage, severity: 'warning', message: msg(locale, 'imageNotImage', label ?? path.basename(path.dirname(lf.file))) };
    case ImageIssueCodes.unsupportedImage:
      return { code: DiagnosticCodes.imageUnsupportedFormat, severity: 'warning', message: msg(locale, 'imageGif') };
    case ImageIssueCodes.imageTooLarge:
      return sk.width && sk.height
        ? { code: DiagnosticCodes.imageTooLarge, severity: 'warning', message: msg(locale, 'imageTooManyPixels', sk.width, sk.height, megapixels(sk.width * sk.height), megapixels(IMAGE_DEFAULTS.maxImagePixels)) }
        : { code: DiagnosticCodes.imageTooLarge, severity: 'warning', message: msg(locale, 'imageTooManyBytes', mb(lf.size), mb(IMAGE_DEFAULTS.maxImageBytes)) };
    default:
      return lf.image?.format
        ? { code: DiagnosticCodes.imageUnreadable, severity: 'error', message: msg(locale, 'imageCorrupt', format, sk.detail ?? '?') }
        : { code: DiagnosticCodes.imageUnreadable, severity: 'error', message: msg(locale, 'imageUnreadable', sk.detail ?? '?') };
  }
}

/** A small image (under IMAGE_DEFAULTS.minImageSide px a side): Information naming its size. */
export function smallImageMessage(lf: LoadedFile, locale?: string): string | undefined {
  const im = lf.image;
  if (!im?.width || !im.height || Math.min(im.width, im.height) >= IMAGE_DEFAULTS.minImageSide) return undefined;
  return msg(locale, 'imageSmall', im.width, im.height, IMAGE_DEFAULTS.minImageSide);
}

export interface ImagePairIssue {
  code: DiagnosticCode;
  severity: Severity;
  message: string;
  /** The image the diagnostic is on, and the one it names (related information). */
  sample: Sample;
  other: Sample;
  relatedMessage: string;
}

/** Images compared per findDuplicates call: the all-pairs comparison yields between chunks (1,000 images: ~1 M pairs). */
const COMPARE_CHUNK = 64;

/** findDuplicates over `test` in chunks, yielding in between, so the server answers requests during a big comparison. */
async function compareInChunks(train: HashableImage[], test: HashableImage[]): Promise<{ exact: DuplicatePair[]; near: DuplicatePair[] }> {
  const exact: DuplicatePair[] = [], near: DuplicatePair[] = [];
  for (let i = 0; i < test.length; i += COMPARE_CHUNK) {
    const d = await findDuplicates({ train, test: test.slice(i, i + COMPARE_CHUNK) });
    exact.push(...d.exact); near.push(...d.near);
    await yieldNow();
  }
  const order = (a: DuplicatePair, b: DuplicatePair) => a.distance - b.distance || compareCodePoints(a.test, b.test) || compareCodePoints(a.train, b.train);
  return { exact: exact.sort(order), near: near.sort(order) };
}

/**
 * Exact (same SHA-256) and near (dHash within NEAR_DUPLICATE_BITS bits) duplicates with findDuplicates: a test image
 * that copies a training image (leakage, on the test image), and copies within one split (on the later file, naming
 * the first; the same image under two labels is a conflict). One diagnostic per image, for its closest match.
 */
export async function imageDuplicateIssues(samples: Sample[], files: Map<string, LoadedFile>, where: (file: string) => string, locale?: string): Promise<ImagePairIssue[]> {
  const bySplit = { train: [] as Array<HashableImage & { s: Sample }>, test: [] as Array<HashableImage & { s: Sample }> };
  for (const s of samples) {
    const im = files.get(s.file)?.image;
    if (im?.sha256) bySplit[s.split].push({ file: s.file, sha256: im.sha256, dhash: im.dhash, s });
  }
  const sampleOf = new Map<string, Sample>();
  for (const x of [...bySplit.train, ...bySplit.test]) sampleOf.set(x.file, x.s);
  const out: ImagePairIssue[] = [];
  const done = new Set<string>();
  const add = (p: DuplicatePair, exact: boolean, across: boolean) => {
    if (done.has(p.test)) return;
    const s = sampleOf.get(p.test)!, o = sampleOf.get(p.train)!;
    done.add(p.test);
    if (across) {
      out.push(exact
        ? { code: DiagnosticCodes.leakageExact, severity: 'warning', message: msg(locale, 'imageLeakageExact', where(o.file)), sample: s, other: o, relatedMessage: msg(locale, 'relatedTrain') }
        : { code: DiagnosticCodes.leakageNear, severity: 'warning', message: msg(locale, 'imageLeakageNear', where(o.file), p.distance, NEAR_DUPLICATE_BITS), sample: s, other: o, relatedMessage: msg(locale, 'relatedTrain') });
    } else if (exact && s.label !== o.label) {
      out.push({ code: DiagnosticCodes.conflictingLabels, severity: 'error', message: msg(locale, 'imageConflicting', s.label, o.label, where(o.file)), sample: s, other: o, relatedMessage: msg(locale, 'relatedOther', o.label) });
    } else {
      out.push(exact
        ? { code: DiagnosticCodes.duplicateInSplit, severity: 'warning', message: msg(locale, 'imageDuplicate', where(o.file)), sample: s, other: o, relatedMessage: msg(locale, 'relatedFirst') }
        : { code: DiagnosticCodes.duplicateInSplit, severity: 'info', message: msg(locale, 'imageNearDuplicate', where(o.file), p.distance), sample: s, other: o, relatedMessage: msg(locale, 'relatedFirst') });
    }
  };
  // across the split: on the test image (exact first, then the closest near one)
  if (bySplit.train.length) {
    const d = await compareInChunks(bySplit.train, bySplit.test);
    for (const p of d.exact) add(p, true, true);
    for (const p of d.near) add(p, false, true);
  }
  // within each split: each unordered pair once, on the later file (by path), naming the earlier one
  for (const list of [bySplit.train, bySplit.test]) {
    if (list.length < 2) continue;
    const d = await compareInChunks(list, list);
    const later = (p: DuplicatePair) => p.test > p.train;
    for (const p of d.exact) if (later(p)) add(p, true, false);
    for (const p of d.near) if (later(p)) add(p, false, false);
  }
  return out;
}
