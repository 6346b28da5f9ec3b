/**
 * Perceptual hash (a double dHash, 2 × 64 bits) and the duplicate-image diagnostic.
 *
 * dHash: the image in grayscale, resized to 9 × 9 px (ignoring its aspect ratio), one bit per pair of horizontal
 * neighbours (left brighter than right) over 8 rows, and one per pair of vertical neighbours (top brighter than
 * bottom) over 8 columns. Re-encoding (JPEG), resizing, small colour or brightness changes keep most bits; a different
 * picture flips about half of them. Two images are near duplicates when BOTH their horizontal and their vertical
 * hashes differ in at most NEAR_DUPLICATE_BITS = 10 of 64 bits (the usual dHash cut-off). The horizontal hash alone
 * called smooth, low-detail pictures (gradients, plane waves) near copies of each other far too often: their
 * left-right brightness order is the same everywhere; the vertical hash tells them apart.
 */
import { promises as fsp } from 'node:fs';
import { decodeImage, toRgbOnWhite } from './decode';
import { resizeRgb } from './preprocess';
import { compareCodePoints } from '../metrics';
import { mapLimit } from '../util/async';

export const NEAR_DUPLICATE_BITS = 10;

/** dHash of an image (file contents) as 32 hex digits: 16 of the horizontal hash, then 16 of the vertical one. Throws when it cannot be decoded. */
export async function dHash(image: Buffer): Promise<string> {
  // RGB on white, resized to 9 × 9 with Pillow's Lanczos filter, then luma (ITU-R 601, as Pillow's "L")
  const small = resizeRgb(toRgbOnWhite(decodeImage(image)), 9, 9, 'lanczos').data;
  const px = new Uint8Array(81);
  for (let i = 0; i < 81; i++) px[i] = (small[3 * i] * 299 + small[3 * i + 1] * 587 + small[3 * i + 2] * 114 + 500) / 1000 | 0;
  const bits = (at: (i: number, j: number) => [number, number]) => {
    let hex = '';
    for (let i = 0; i < 8; i++) {
      let byte = 0;
      for (let j = 0; j < 8; j++) { const [p, q] = at(i, j); byte = (byte << 1) | (px[p] > px[q] ? 1 : 0); }
      hex += byte.toString(16).padStart(2, '0');
    }
    return hex;
  };
  return bits((row, col) => [row * 9 + col, row * 9 + col + 1]) + bits((col, row) => [row * 9 + col, (row + 1) * 9 + col]);
}

function popcount32(x: number): number {
  x -= (x >>> 1) & 0x55555555;
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  return (((x + (x >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24;
}

function bits64(a: string, b: string): number {
  return popcount32(parseInt(a.slice(0, 8), 16) ^ parseInt(b.slice(0, 8), 16)) + popcount32(parseInt(a.slice(8, 16), 16) ^ parseInt(b.slice(8, 16), 16));
}

/**
 * Distance between two hashes: for 64-bit ones (16 hex digits) the number of differing bits; for double dHashes
 * (32 hex digits) the larger of the horizontal and the vertical distance (so "near" needs both to be near).
 */
export function hammingDistance(a: string, b: string): number {
  if (a.length !== b.length || (a.length !== 16 && a.length !== 32)) throw new Error(`hammingDistance: expected two hashes of 16 or 32 hex digits, got "${a}" and "${b}"`);
  if (a.length === 16) return bits64(a, b);
  return Math.max(bits64(a.slice(0, 16), b.slice(0, 16)), bits64(a.slice(16), b.slice(16)));
}

/** What findDuplicates reads of an image sample (ImageSample fits; `dhash` is computed when missing). */
export interface HashableImage { file: string; sha256: string; dhash?: string }

export interface DuplicatePair {
  /** The training image and the test image. */
  train: string;
  test: string;
  /** Hamming distance of their dHashes (0 for exact duplicates). */
  distance: number;
}

export interface Duplicates {
  /** Byte-identical images in both train and test. */
  exact: DuplicatePair[];
  /** Different files whose dHashes differ in at most `threshold` bits. */
  near: DuplicatePair[];
  threshold: number;
  /** Files that could not be hashed (unreadable); left out of the comparison. */
  unreadable: string[];
}

/**
 * Exact (same SHA-256) and near (dHash within `threshold` bits, default NEAR_DUPLICATE_BITS) duplicates across the
 * train and test split: a test image that is a copy of a training image makes test scores optimistic. Each test image
 * is paired with every training image it duplicates; pairs are sorted by distance, then by file. Computes and stores
 * `dhash` on samples that lack it.
 */
export async function findDuplicates(samples: { train: HashableImage[]; test: HashableImage[] }, opts: { threshold?: number } = {}): Promise<Duplicates> {
  const threshold = opts.threshold ?? NEAR_DUPLICATE_BITS;
  const unreadable: string[] = [];
  await mapLimit([...samples.train, ...samples.test], 4, async (s) => {
    if (s.dhash) return;
    try { s.dhash = await dHash(await fsp.readFile(s.file)); } catch { unreadable.push(s.file); }
  });
  const exact: DuplicatePair[] = [];
  const near: DuplicatePair[] = [];
  for (const t of samples.test) {
    for (const r of samples.train) {
      if (t.file === r.file) continue;
      if (t.sha256 === r.sha256) { exact.push({ train: r.file, test: t.file, distance: 0 }); continue; }
      if (!t.dhash || !r.dhash) continue;
      const d = hammingDistance(t.dhash, r.dhash);
      if (d <= threshold) near.push({ train: r.file, test: t.file, distance: d });
    }
  }
  const order = (a: DuplicatePair, b: DuplicatePair) => a.distance - b.distance || compareCodePoints(a.test, b.test) || compareCodePoints(a.train, b.train);
  return { exact: exact.sort(order), near: near.sort(order), threshold, unreadable: unreadable.sort(compareCodePoints) };
}
