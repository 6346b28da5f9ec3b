/**
 * Image decoding in JavaScript/WebAssembly, without libvips (the .vsix has a 60 MB budget; sharp's libvips is 8 MB):
 * PNG by pngjs, JPEG by @jsquash/jpeg (MozJPEG, libjpeg-turbo's decoder in WASM: the same pixels as Pillow, 5–9× faster
 * than jpeg-js on a 12-megapixel photo; jpeg-js only for 4-channel CMYK/YCCK JPEGs, which libjpeg does not turn into RGB),
 * WebP by @cwasm/webp (libwebp in WASM), TIFF by utif2, BMP here. Each decoder is
 * loaded on first use. The format is told by content (datasets/sniff.ts), never by the file's name.
 *
 * decodeImage gives 8-bit pixels, upright (the JPEG/TIFF EXIF orientation applied, as Pillow's exif_transpose),
 * with 3 (RGB, also for RGBA that is opaque everywhere) or 4 (RGBA) channels; truncated and corrupt data throw, and the pixel limit is checked from the header
 * before anything is decoded (decompression bombs). toRgbOnWhite composites alpha on white exactly as Pillow's
 * Image.alpha_composite does (what the conversion script and the fine-tuning worker do).
 */
import { FewShotError, errorMessage } from '../errors';
import { sniffImageFormat, type ImageFormat } from '../datasets/sniff';

/** 8-bit interleaved pixels. */
export interface RawImage {
  data: Uint8Array;
  width: number;
  height: number;
  channels: 3 | 4;
}

export interface ImageHeader {
  format: ImageFormat;
  width: number;
  height: number;
}

/* eslint-disable @typescript-eslint/no-require-imports -- decoders load on first use (the bundles keep them external) */
const lazy = <T>(load: () => T): (() => T) => { let v: T | undefined; return () => (v ??= load()); };
interface PngData { width: number; height: number; data: Buffer }
const pngjs = lazy(() => require('pngjs') as { PNG: { sync: {
  read(b: Buffer): PngData;
  write(p: PngData, o: { colorType: number; inputColorType: number; inputHasAlpha: boolean }): Buffer;
} } });
const jpegjs = lazy(() => require('jpeg-js') as typeof import('jpeg-js'));
const webp = lazy(() => require('@cwasm/webp') as { decode(b: Uint8Array): { data: Uint8ClampedArray; width: number; height: number } });
interface Ifd { [tag: string]: unknown; width?: number; height?: number; data?: Uint8Array }
const utif = lazy(() => require('utif2') as { decode(b: Uint8Array): Ifd[]; decodeImage(b: Uint8Array, ifd: Ifd): void; toRGBA8(ifd: Ifd): Uint8Array });

/**
 * MozJPEG's decoder (an Emscripten module, bundled into dist/) on its .wasm, read from node_modules and instantiated
 * synchronously, so decodeImage stays synchronous. libjpeg's warnings and errors come through `printErr`; an error
 * ends its "program" (ExitStatus), which leaks what it had allocated, so the module is made anew after an error, and
 * after an image that grew its memory over 256 MB (wasm memory never shrinks).
 */
interface MozJpeg { decode(b: Uint8Array, preserveOrientation: boolean): { data: Uint8ClampedArray; width: number; height: number } | null; HEAPU8: Uint8Array }
const mozjpegWasm = lazy(() => {
  const factory = require('@jsquash/jpeg/codec/dec/mozjpeg_dec.js') as { default: (arg: object) => Promise<unknown> };
  const { readFileSync } = require('node:fs') as typeof import('node:fs');
  return { factory: factory.default, module: new WebAssembly.Module(readFileSync(require.resolve('@jsquash/jpeg/codec/dec/mozjpeg_dec.wasm'))) };
});
/* eslint-enable @typescript-eslint/no-require-imports */
let mozjpegModule: MozJpeg | undefined;
const jpegMessages: string[] = [];
function mozjpeg(): MozJpeg {
  if (mozjpegModule) return mozjpegModule;
  const { factory, module } = mozjpegWasm();
  const arg = {
    noInitialRun: true,
    print: (m: string) => jpegMessages.push(m),
    printErr: (m: string) => jpegMessages.push(m),
    instantiateWasm(imports: WebAssembly.Imports, done: (i: WebAssembly.Instance) => void) {
      const instance = new WebAssembly.Instance(module, imports);
      done(instance);
      return instance.exports;
    },
  };
  void factory(arg).catch(() => undefined); // the module is ready once instantiateWasm returns (the promise only repeats it)
  if (typeof (arg as Partial<MozJpeg>).decode !== 'function') throw new Error('the MozJPEG decoder did not start');
  return (mozjpegModule = arg as unknown as MozJpeg);
}

/** libjpeg's warnings that mean lost data (truncated or corrupt entropy-coded data); extraneous bytes before a marker do not. */
const JPEG_DATA_LOST = /premature end|corrupt jpeg data(?!: \d+ extraneous bytes)/i;

/** A JPEG with 1 or 3 components decoded by libjpeg (MozJPEG in WASM) to RGB: ISLOW IDCT, fancy upsampling, as Pillow. */
function decodeJpegWasm(b: Uint8Array): { data: Uint8Array; width: number; height: number } {
  const m = mozjpeg();
  jpegMessages.length = 0;
  let r: ReturnType<MozJpeg['decode']>;
  try { r = m.decode(b, false); } catch (e) {
    mozjpegModule = undefined;
    const msg = jpegMessages.map((x) => x.trim()).filter(Boolean).pop();
    throw new Error(msg ?? (e instanceof Error && e.name !== 'ExitStatus' ? e.message : 'corrupt JPEG data'));
  }
  if (m.HEAPU8.length > 256 * 1024 * 1024) mozjpegModule = undefined;
  const lost = jpegMessages.find((x) => JPEG_DATA_LOST.test(x));
  if (!r) throw new Error(jpegMessages.pop()?.trim() || 'corrupt JPEG data');
  if (lost) throw new Error(lost.trim());
  const n = r.width * r.height, rgba = r.data, rgb = new Uint8Array(n * 3);
  for (let i = 0, o = 0; i < n; i++, o += 3) { rgb[o] = rgba[4 * i]; rgb[o + 1] = rgba[4 * i + 1]; rgb[o + 2] = rgba[4 * i + 2]; }
  return { data: rgb, width: r.width, height: r.height };
}

/**
 * Loads every decoder now (they load lazily otherwise); a build or install without them gets one clear error,
 * code 'image-decoders-missing' (what loadSharp's 'sharp-missing' was for sharp).
 */
export function loadImageDecoders(): void {
  try {
    pngjs(); jpegjs(); utif(); webp(); mozjpeg();
  } catch (e) {
    throw new FewShotError(`The image decoders could not be loaded (${errorMessage(e).split('\n')[0]}).`, {
      code: 'image-decoders-missing', fix: 'Reinstall the extension, or run `npm ci` in the Few-Shot Lab folder.' });
  }
}

/** The format and size from an image's header, without decoding pixels. Throws with a reason for bad headers. */
export function imageHeader(buf: Uint8Array): ImageHeader {
  const format = sniffImageFormat(buf);
  if (!format || format === 'gif') throw new Error(format === 'gif' ? 'GIF is not supported' : 'not a PNG, JPEG, WebP, BMP or TIFF image');
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  const need = (n: number) => { if (b.length < n) throw new Error('truncated header'); };
  let width = 0, height = 0;
  if (format === 'png') {
    need(24);
    if (b.toString('latin1', 12, 16) !== 'IHDR') throw new Error('no IHDR chunk');
    width = b.readUInt32BE(16); height = b.readUInt32BE(20);
  } else if (format === 'jpeg') {
    ({ width, height } = jpegSize(b));
  } else if (format === 'webp') {
    need(30);
    const chunk = b.toString('latin1', 12, 16);
    if (chunk === 'VP8 ') { width = b.readUInt16LE(26) & 0x3fff; height = b.readUInt16LE(28) & 0x3fff; }
    else if (chunk === 'VP8L') { const v = b.readUInt32LE(21); width = (v & 0x3fff) + 1; height = ((v >> 14) & 0x3fff) + 1; }
    else if (chunk === 'VP8X') { width = b.readUIntLE(24, 3) + 1; height = b.readUIntLE(27, 3) + 1; }
    else throw new Error(`unknown WebP chunk "${chunk}"`);
  } else if (format === 'bmp') {
    need(26);
    width = b.readInt32LE(18); height = Math.abs(b.readInt32LE(22));
  } else {
    const ifd = utif().decode(b)[0];
    width = Number((ifd?.t256 as number[] | undefined)?.[0] ?? 0); height = Number((ifd?.t257 as number[] | undefined)?.[0] ?? 0);
  }
  if (!(width > 0 && height > 0)) throw new Error('no image size in its header');
  return { format, width, height };
}

interface JpegInfo { width: number; height: number; components: number }

/** A JPEG's frame header: its size and number of colour components. */
function jpegInfo(b: Buffer): JpegInfo {
  let i = 2;
  while (i + 9 < b.length) {
    if (b[i] !== 0xff) throw new Error(`bad JPEG marker at byte ${i}`);
    const m = b[i + 1];
    if (m === 0xff) { i++; continue; }
    // SOF0..SOF15 except DHT (C4), JPG (C8), DAC (CC)
    if (m >= 0xc0 && m <= 0xcf && m !== 0xc4 && m !== 0xc8 && m !== 0xcc) {
      return { height: b.readUInt16BE(i + 5), width: b.readUInt16BE(i + 7), components: b[i + 9] ?? 0 };
    }
    i += 2 + b.readUInt16BE(i + 2);
  }
  throw new Error('no JPEG frame header');
}

function jpegSize(b: Buffer): { width: number; height: number } {
  const { width, height } = jpegInfo(b);
  return { width, height };
}

/** EXIF orientation (1–8) of a JPEG's APP1 segment; 1 when there is none. */
export function jpegOrientation(b: Buffer): number {
  let i = 2;
  while (i + 4 < b.length && b[i] === 0xff) {
    const m = b[i + 1], len = b.readUInt16BE(i + 2);
    if (m === 0xda) break;
    if (m === 0xe1 && b.toString('latin1', i + 4, i + 10) === 'Exif\0\0') return tiffOrientation(b.subarray(i + 10, i + 2 + len));
    i += 2 + len;
  }
  return 1;
}

function tiffOrientation(t: Buffer): number {
  if (t.length < 8) return 1;
  const le = t.toString('latin1', 0, 2) === 'II';
  const u16 = (o: number) => (le ? t.readUInt16LE(o) : t.readUInt16BE(o));
  const u32 = (o: number) => (le ? t.readUInt32LE(o) : t.readUInt32BE(o));
  const ifd = u32(4);
  if (ifd + 2 > t.length) return 1;
  const n = u16(ifd);
  for (let k = 0; k < n && ifd + 2 + 12 * k + 12 <= t.length; k++) {
    const e = ifd + 2 + 12 * k;
    if (u16(e) === 0x0112) { const v = u16(e + 8); return v >= 1 && v <= 8 ? v : 1; }
  }
  return 1;
}

/** Pixels turned upright for an EXIF orientation (1–8), as Pillow's ImageOps.exif_transpose. */
export function applyOrientation(img: RawImage, orientation: number): RawImage {
  if (orientation <= 1 || orientation > 8) return img;
  const { width: W, height: H, channels: C, data } = img;
  const swap = orientation >= 5;
  const w = swap ? H : W, h = swap ? W : H;
  const out = new Uint8Array(data.length);
  const src: Record<number, (x: number, y: number) => [number, number]> = {
    2: (x, y) => [W - 1 - x, y], 3: (x, y) => [W - 1 - x, H - 1 - y], 4: (x, y) => [x, H - 1 - y],
    5: (x, y) => [y, x], 6: (x, y) => [y, H - 1 - x], 7: (x, y) => [W - 1 - y, H - 1 - x], 8: (x, y) => [W - 1 - y, x],
  };
  const f = src[orientation];
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const [sx, sy] = f(x, y);
      const o = (y * w + x) * C, i = (sy * W + sx) * C;
      for (let c = 0; c < C; c++) out[o + c] = data[i + c];
    }
  }
  return { data: out, width: w, height: h, channels: C };
}

/** How many images decodeImage has decoded in this process (all formats), and how many JPEGs of them by MozJPEG (tests, benchmarks). */
export const decodeStats = { decodes: 0, jpegWasm: 0 };

/**
 * Decodes an image fully: 8-bit RGB or RGBA, upright. Throws (with a reason) on truncated or corrupt data, and on
 * images over `maxPixels` before decoding them.
 */
export function decodeImage(buf: Uint8Array, maxPixels = Infinity): RawImage {
  const head = imageHeader(buf);
  if (head.width * head.height > maxPixels) throw new Error(`pixel limit exceeded: ${head.width} × ${head.height} px`);
  decodeStats.decodes++;
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  switch (head.format) {
    case 'png': {
      const png = pngjs().PNG.sync.read(b);
      return dropOpaqueAlpha({ data: png.data, width: png.width, height: png.height, channels: 4 });
    }
    case 'jpeg': {
      const eoi = b.lastIndexOf(Buffer.from([0xff, 0xd9]));
      if (eoi < 0 || eoi < b.lastIndexOf(Buffer.from([0xff, 0xda]))) throw new Error('truncated JPEG data (no end-of-image marker after the scan)');
      const { components } = jpegInfo(b);
      let img: { data: Uint8Array; width: number; height: number };
      if (components === 1 || components === 3) { img = decodeJpegWasm(b); decodeStats.jpegWasm++; } else {
        // CMYK / YCCK (4 components): libjpeg gives no RGB for them; jpeg-js converts them
        img = jpegjs().decode(b, { useTArray: true, formatAsRGBA: false, tolerantDecoding: false,
          maxResolutionInMP: Math.max(1, maxPixels / 1e6), maxMemoryUsageInMB: 2048 });
      }
      return applyOrientation({ data: img.data, width: img.width, height: img.height, channels: 3 }, jpegOrientation(b));
    }
    case 'webp': {
      const w = webp().decode(b);
      return dropOpaqueAlpha({ data: new Uint8Array(w.data.buffer, w.data.byteOffset, w.data.byteLength), width: w.width, height: w.height, channels: 4 });
    }
    case 'bmp': {
      const { data, width, height, channels } = decodeBmp(b);
      return { data, width, height, channels };
    }
    case 'tiff': {
      const u = utif();
      const ifd = u.decode(b)[0];
      if (!ifd) throw new Error('no image in the TIFF file');
      const offsets = (ifd.t273 ?? ifd.t324) as number[] | undefined, counts = (ifd.t279 ?? ifd.t325) as number[] | undefined;
      if (!offsets || !counts) throw new Error('no image data in the TIFF file');
      offsets.forEach((o, k) => { if (o + (counts[k] ?? 0) > b.length) throw new Error(`truncated TIFF data: ${b.length} bytes, ${o + counts[k]} expected`); });
      u.decodeImage(b, ifd);
      const rgba = u.toRGBA8(ifd);
      const width = ifd.width ?? head.width, height = ifd.height ?? head.height;
      if (rgba.length !== width * height * 4) throw new Error('TIFF image data does not match its size');
      const orientation = Number((ifd.t274 as number[] | undefined)?.[0] ?? 1);
      return applyOrientation(dropOpaqueAlpha({ data: rgba, width, height, channels: 4 }), orientation);
    }
  }
}

/** RGBA whose alpha is 255 everywhere becomes RGB (the decoders give RGBA for every PNG, WebP and TIFF). */
function dropOpaqueAlpha(img: RawImage): RawImage {
  const d = img.data, n = img.width * img.height;
  for (let i = 0; i < n; i++) if (d[4 * i + 3] !== 255) return img;
  const out = new Uint8Array(n * 3);
  for (let i = 0; i < n; i++) { out[3 * i] = d[4 * i]; out[3 * i + 1] = d[4 * i + 1]; out[3 * i + 2] = d[4 * i + 2]; }
  return { data: out, width: img.width, height: img.height, channels: 3 };
}

/** 8-bit RGB, alpha composited on white with Pillow's Image.alpha_composite arithmetic. */
export function toRgbOnWhite(img: RawImage): { data: Buffer; width: number; height: number } {
  const n = img.width * img.height;
  const out = Buffer.alloc(n * 3);
  const d = img.data;
  if (img.channels === 3) { out.set(d.subarray(0, n * 3)); return { data: out, width: img.width, height: img.height }; }
  for (let i = 0; i < n; i++) {
    const a = d[4 * i + 3];
    for (let c = 0; c < 3; c++) {
      let v = 255;
      if (a === 255) v = d[4 * i + c];
      else if (a > 0) {
        // AlphaComposite.c with an opaque white destination: coef1 = a·128, coef2 = (255 − a)·128
        const t = d[4 * i + c] * a * 128 + 255 * (255 - a) * 128 + (0x80 << 7);
        v = (((t >> 8) + t) >> 8) >> 7;
      }
      out[3 * i + c] = v;
    }
  }
  return { data: out, width: img.width, height: img.height };
}

/** PNG file bytes of 8-bit RGB or RGBA pixels (pngjs). */
export function pngFromRaw(img: RawImage): Buffer {
  const { PNG } = pngjs();
  return PNG.sync.write({ width: img.width, height: img.height, data: Buffer.from(img.data.buffer, img.data.byteOffset, img.data.byteLength) },
    { colorType: img.channels === 4 ? 6 : 2, inputColorType: img.channels === 4 ? 6 : 2, inputHasAlpha: img.channels === 4 });
}

/** Uncompressed BMP decoded to raw pixels; throws with a reason otherwise. */
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
