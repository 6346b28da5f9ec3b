/**
 * sharp (libvips), for development and tests only (fixtures, the image benchmark): the product decodes with decode.ts
 * and the .vsix does not carry sharp. Loaded on first use; without it, a clear error.
 */
import type SharpType from 'sharp';
import { FewShotError } from '../errors';
import { decodeBmp } from './decode';

export { decodeBmp } from './decode';

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

/** A sharp pipeline for image file contents: PNG, JPEG, WebP, TIFF by libvips; BMP decoded here first. */
export async function openImage(buf: Buffer, opts: { failOn?: 'none' | 'truncated' | 'error' | 'warning'; limitInputPixels?: number | boolean } = {}): Promise<import('sharp').Sharp> {
  const sharp = await loadSharp();
  if (buf.length >= 2 && buf[0] === 0x42 && buf[1] === 0x4d) {
    const { data, width, height, channels } = decodeBmp(buf);
    return sharp(data, { raw: { width, height, channels }, limitInputPixels: opts.limitInputPixels });
  }
  return sharp(buf, opts);
}
