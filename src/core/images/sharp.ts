/** sharp (libvips), loaded on first use: code that never touches images does not load it, and a build without it gets a clear error. */
import type SharpType from 'sharp';
import { FewShotError } from '../errors';

let cached: Promise<typeof SharpType> | undefined;

export function loadSharp(): Promise<typeof SharpType> {
  // require (not import()): the bundles are CommonJS and keep sharp external; a real import() ignores NODE_PATH
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  cached ??= Promise.resolve().then(() => require('sharp') as typeof SharpType).then((m) => m, (e: unknown) => {
    cached = undefined;
    throw new FewShotError(`The image library sharp could not be loaded (${String((e as Error)?.message ?? e).split('\n')[0]}).`, {
      code: 'sharp-missing', fix: 'Reinstall the extension or run `npm ci` in the Few-Shot Lab folder; image datasets need sharp.' });
  });
  return cached;
}

/** Uncompressed BMP (what sharp's libvips cannot read) decoded to raw pixels; throws with a reason otherwise. */
export function decodeBmp(buf: Buffer): { data: Buffer; width: number; height: number; channels: 3 | 4 } {
  if (buf.length < 54 || buf.toString('latin1', 0, 2) !== 'BM') throw new Error('not a BMP file');
  const offset = buf.readUInt32LE(10), headerSize = buf.readUInt32LE(14);
  if (headerSize < 40) throw new Error(`BMP header of ${headerSize} bytes (OS/2 bitmaps are not supported)`);
  const width = buf.readInt32LE(18), rawHeight = buf.readInt32LE(22);
  const bpp = buf.readUInt16LE(28), compression = buf.readUInt32LE(30);
  const height = Math.abs(rawHeight), topDown = rawHeight < 0;
  if (width <= 0 || height === 0) throw new Error(`BMP size ${width} × ${rawHeight}`);
  // BI_RGB (0); BI_BITFIELDS (3) only with 32 bits and the usual BGRA masks.
  const bitfields = compression === 3 && bpp === 32 && (headerSize < 52 || (buf.readUInt32LE(54) === 0xff0000 && buf.readUInt32LE(58) === 0xff00 && buf.readUInt32LE(62) === 0xff));
  if (!(compression === 0 || bitfields) || ![8, 24, 32].includes(bpp)) {
    throw new Error(`a ${bpp}-bit BMP with compression ${compression} (only uncompressed 8-, 24- and 32-bit BMPs are read)`);
  }
  const row = Math.ceil((width * bpp) / 32) * 4;
  if (offset + row * height > buf.length) throw new Error(`truncated: ${buf.length} bytes, ${offset + row * height} expected`);
  const alpha = bpp === 32 && headerSize >= 56 && compression === 3 ? buf.readUInt32LE(66) === 0xff000000 : false;
  const channels = alpha ? 4 : 3;
  const paletteAt = 14 + headerSize;
  const colours = bpp === 8 ? (buf.readUInt32LE(46) || 256) : 0;
  if (paletteAt + colours * 4 > offset) throw new Error('BMP palette overlaps the pixels');
  const data = Buffer.alloc(width * height * channels);
  for (let y = 0; y < height; y++) {
    const src = offset + (topDown ? y : height - 1 - y) * row;
    for (let x = 0; x < width; x++) {
      const o = (y * width + x) * channels;
      let p: number;
      if (bpp === 8) {
        const idx = buf[src + x];
        if (idx >= colours) throw new Error(`palette index ${idx} out of ${colours}`);
        p = paletteAt + idx * 4;
      } else p = src + x * (bpp / 8);
      data[o] = buf[p + 2]; data[o + 1] = buf[p + 1]; data[o + 2] = buf[p];
      if (alpha) data[o + 3] = buf[p + 3];
    }
  }
  return { data, width, height, channels };
}

/** A sharp pipeline for image file contents: PNG, JPEG, WebP, TIFF by libvips; BMP decoded here first. */
export async function openImage(buf: Buffer, opts: { failOn?: 'none' | 'truncated' | 'error' | 'warning'; limitInputPixels?: number | boolean } = {}): Promise<import('sharp').Sharp> {
  const sharp = await loadSharp();
  if (buf.length >= 2 && buf[0] === 0x42 && buf[1] === 0x4d) {
    const { data, width, height, channels } = decodeBmp(buf);
    return sharp(data, { raw: { width, height, channels }, limitInputPixels: opts.limitInputPixels });
  }
  return sharp(buf, opts);
}
