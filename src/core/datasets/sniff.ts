/**
 * What a file holds, told by its first bytes (never by its name): the image formats that image datasets read.
 * Owned here so that dataset discovery (find.ts) and the image loader (core/images) use one rule.
 */
import { promises as fsp } from 'node:fs';

/** The image loader's limits (core/images/dataset.ts); here so that code without decoders (the Datasets view) shares them. */
export const IMAGE_DEFAULTS = {
  /** Files larger than this are skipped with a warning (bytes). */
  maxImageBytes: 50 * 1024 * 1024,
  /** Images with more pixels than this are skipped with a warning (decoding them would take seconds and GBs). */
  maxImagePixels: 100_000_000,
  /** Images narrower or lower than this (px) are kept, with a warning: an ImageNet encoder sees little in them. */
  minImageSide: 32,
};

export type ImageFormat = 'png' | 'jpeg' | 'webp' | 'bmp' | 'tiff';
export const IMAGE_FORMATS: readonly ImageFormat[] = ['png', 'jpeg', 'webp', 'bmp', 'tiff'];

/** The image format of a file's first bytes (at least 12), or undefined. GIF is reported separately (unsupported). */
export function sniffImageFormat(head: Uint8Array): ImageFormat | 'gif' | undefined {
  const b = head;
  const ascii = (from: number, s: string) => b.length >= from + s.length && [...s].every((c, i) => b[from + i] === c.charCodeAt(0));
  if (b.length >= 8 && b[0] === 0x89 && ascii(1, 'PNG\r\n\x1a\n')) return 'png';
  if (b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return 'jpeg';
  if (ascii(0, 'RIFF') && ascii(8, 'WEBP')) return 'webp';
  if (ascii(0, 'II') && b[2] === 42 && b[3] === 0) return 'tiff';
  if (ascii(0, 'MM') && b[2] === 0 && b[3] === 42) return 'tiff';
  // BMP: "BM", then the file size (4 bytes), two reserved 16-bit zeros would be too strict (some writers fill them).
  if (ascii(0, 'BM') && b.length >= 14) return 'bmp';
  if (ascii(0, 'GIF87a') || ascii(0, 'GIF89a')) return 'gif';
  return undefined;
}

/** The first `n` bytes of a file. */
export async function readHead(file: string, n = 32): Promise<Buffer> {
  const fh = await fsp.open(file, 'r');
  try {
    const buf = Buffer.alloc(n);
    const { bytesRead } = await fh.read(buf, 0, n, 0);
    return buf.subarray(0, bytesRead);
  } finally { await fh.close(); }
}

/** Whether a file starts like an image the image loader reads (GIF is not one). Unreadable files are not. */
export async function isImageFile(file: string): Promise<boolean> {
  try { const k = sniffImageFormat(await readHead(file)); return !!k && k !== 'gif'; } catch { return false; }
}
