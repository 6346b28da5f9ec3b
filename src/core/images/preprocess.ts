/**
 * The image encoder's preprocessing in Node (decode.ts decodes, in JS/WASM), as the model folder's preprocess.json says
 * (written by scripts/models/convert_image_encoder.py, which does the same with Pillow):
 *   decode → EXIF orientation → alpha composited on white → RGB → resize the shorter side to `resizeShorter`
 *   (bicubic) → centre crop `centerCrop`² → (x − mean) / std per channel on 0..255 values → CHW float32.
 * Alpha: composited on white (Pillow's alpha_composite arithmetic, decode.ts). PIL's plain `convert('RGB')` drops alpha and keeps the stored colour
 * instead, which turns a black glyph on a transparent background into an all-black image; the conversion script and
 * the fine-tuning worker composite on white too, so Node and PyTorch see the same pixels.
 * Resizing is done here in JavaScript, exactly as Pillow does it (resizeRgb): libvips' cubic resize put different
 * pixels (features differed from PyTorch's by up to 0.6, cosine 0.986, on the parity images), Pillow's are what
 * torchvision gives the PyTorch model.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { FewShotError, errorMessage } from '../errors';
import { decodeImage, toRgbOnWhite } from './decode';

export interface ImagePreprocess {
  inputSize: number;
  resizeShorter: number;
  centerCrop: number;
  interpolation: 'bicubic' | 'bilinear';
  mean: [number, number, number];
  std: [number, number, number];
}

/** A file path, the bytes of an image, or bytes with a name for messages. */
export type ImageInput = string | Buffer | { name: string; data: Buffer };

/** 8-bit RGB pixels, row-major, 3 bytes a pixel. */
export interface RgbImage {
  data: Buffer;
  width: number;
  height: number;
}

/** Images above this many pixels are refused (decompression bombs), checked from the header before decoding. */
export const MAX_IMAGE_PIXELS = 50_000_000;

/** Reads and checks <folder>/preprocess.json. */
export function readPreprocess(folder: string): ImagePreprocess {
  const file = path.join(folder, 'preprocess.json');
  const bad = (why: string): FewShotError => new FewShotError(`The image encoder's ${file} is invalid: ${why}`, {
    file, code: 'model-invalid', fix: 'Rebuild the model folder with scripts/models/convert_image_encoder.py.',
  });
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
  } catch (e) {
    throw bad(errorMessage(e));
  }
  const int = (k: string): number => {
    const v = raw[k];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > 4096) throw bad(`"${k}" must be a whole number of pixels`);
    return v;
  };
  const triple = (k: string): [number, number, number] => {
    const v = raw[k];
    if (!Array.isArray(v) || v.length !== 3 || !v.every((x) => typeof x === 'number' && Number.isFinite(x))) throw bad(`"${k}" must be 3 numbers`);
    return v as [number, number, number];
  };
  const interpolation = raw.interpolation;
  if (interpolation !== 'bicubic' && interpolation !== 'bilinear') throw bad('"interpolation" must be "bicubic" or "bilinear"');
  const p: ImagePreprocess = {
    inputSize: int('inputSize'), resizeShorter: int('resizeShorter'), centerCrop: int('centerCrop'),
    interpolation, mean: triple('mean'), std: triple('std'),
  };
  if (p.centerCrop !== p.inputSize || p.resizeShorter < p.centerCrop) throw bad('"centerCrop" must equal "inputSize" and be at most "resizeShorter"');
  if (p.std.some((s) => s <= 0)) throw bad('"std" must be positive');
  return p;
}

export function inputName(input: ImageInput, index = 0): string {
  if (typeof input === 'string') return input;
  return Buffer.isBuffer(input) ? `image #${index + 1}` : input.name;
}

/**
 * Decodes an image (format detected from its bytes) to 8-bit sRGB: EXIF orientation applied, alpha composited on
 * white, greyscale expanded to RGB. Throws a FewShotError naming the file for unreadable, empty or huge images.
 */
export async function decodeRgb(input: ImageInput, index = 0, maxPixels = MAX_IMAGE_PIXELS): Promise<RgbImage> {
  const name = inputName(input, index);
  const file = typeof input === 'string' ? input : Buffer.isBuffer(input) ? undefined : input.name;
  const fail = (why: string, code = 'image-unreadable'): FewShotError => new FewShotError(`Could not read the image ${name}: ${why}`, {
    file, code, fix: code === 'image-too-large'
      ? `Downscale the image below ${maxPixels.toLocaleString('en-US')} pixels, or remove it.`
      : 'Check that the file is a complete PNG, JPEG, WebP, BMP or TIFF image (re-export it), or remove it.',
  });
  let bytes: Buffer;
  try {
    bytes = typeof input === 'string' ? await fs.promises.readFile(input) : Buffer.isBuffer(input) ? input : input.data;
  } catch (e) {
    throw fail(errorMessage(e));
  }
  if (bytes.length === 0) throw fail('the file is empty (0 bytes)');
  try {
    return toRgbOnWhite(decodeImage(bytes, maxPixels));
  } catch (e) {
    const msg = errorMessage(e);
    if (/pixel limit/i.test(msg)) throw fail(`it has more than ${maxPixels.toLocaleString('en-US')} pixels`, 'image-too-large');
    throw fail(msg);
  }
}

/** Python's round() (half to even), as the conversion script uses for the crop offsets. */
function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** Pillow's resampling filters (libImaging/Resample.c): support and kernel. */
const FILTERS = {
  // Catmull-Rom (a = -0.5), Pillow's BICUBIC
  bicubic: { support: 2, f: (x: number): number => {
    const a = -0.5;
    x = Math.abs(x);
    if (x < 1) return ((a + 2) * x - (a + 3)) * x * x + 1;
    if (x < 2) return (((x - 5) * x + 8) * x - 4) * a;
    return 0;
  } },
  bilinear: { support: 1, f: (x: number): number => { x = Math.abs(x); return x < 1 ? 1 - x : 0; } },
  // Pillow's LANCZOS: sinc(x)·sinc(x/3) on [-3, 3)
  lanczos: { support: 3, f: (x: number): number => (x >= -3 && x < 3 ? sinc(x) * sinc(x / 3) : 0) },
} as const;
function sinc(x: number): number { if (x === 0) return 1; x *= Math.PI; return Math.sin(x) / x; }
export type ResizeFilter = keyof typeof FILTERS;
const PRECISION_BITS = 22;

/** Pillow's precompute_coeffs + normalize_coeffs_8bpc: per output pixel, the first input index and fixed-point weights. */
function coefficients(inSize: number, outSize: number, filter: (typeof FILTERS)[keyof typeof FILTERS]): { start: Int32Array; weights: Int32Array[] } {
  const scale = inSize / outSize;
  const filterScale = Math.max(scale, 1);
  const support = filter.support * filterScale;
  const start = new Int32Array(outSize);
  const weights: Int32Array[] = [];
  for (let xx = 0; xx < outSize; xx++) {
    const center = (xx + 0.5) * scale;
    const xmin = Math.max(0, Math.trunc(center - support + 0.5));
    const xmax = Math.min(inSize, Math.trunc(center + support + 0.5)) - xmin;
    const k = new Float64Array(Math.max(0, xmax));
    let ww = 0;
    for (let x = 0; x < xmax; x++) {
      k[x] = filter.f((x + xmin - center + 0.5) / filterScale);
      ww += k[x];
    }
    const fixed = new Int32Array(k.length);
    for (let x = 0; x < k.length; x++) {
      const v = (ww !== 0 ? k[x] / ww : k[x]) * (1 << PRECISION_BITS);
      fixed[x] = Math.trunc(v < 0 ? v - 0.5 : v + 0.5);
    }
    start[xx] = xmin;
    weights.push(fixed);
  }
  return { start, weights };
}

const clip8 = (ss: number): number => Math.min(255, Math.max(0, Math.floor(ss / (1 << PRECISION_BITS))));

export interface CropBox {
  left: number;
  top: number;
  width: number;
  height: number;
}

/**
 * Resizes 8-bit RGB exactly as Pillow's Image.resize (horizontal pass, then vertical, each rounded to 8 bits with
 * Pillow's fixed-point weights), so that Node sees the pixels that torchvision/Pillow give the PyTorch model.
 * With `crop`, returns only that box of the resized image (the same pixels, computed for the box alone).
 */
export function resizeRgb(img: RgbImage, width: number, height: number, interpolation: ResizeFilter,
  crop: CropBox = { left: 0, top: 0, width, height }): RgbImage {
  const filter = FILTERS[interpolation];
  const { data: src, width: w, height: h } = img;
  const { left, top, width: cw, height: ch } = crop;
  if (left < 0 || top < 0 || cw < 1 || ch < 1 || left + cw > width || top + ch > height) throw new Error(`crop box outside ${width}×${height}`);
  const vert = height !== h ? coefficients(h, height, filter) : undefined;
  // the source rows the output rows need
  let rowStart = top;
  let rowEnd = top + ch;
  if (vert) {
    rowStart = vert.start[top];
    rowEnd = 0;
    for (let yy = top; yy < top + ch; yy++) rowEnd = Math.max(rowEnd, vert.start[yy] + vert.weights[yy].length);
  }
  // horizontal pass over those rows, for the box's columns
  const rows = rowEnd - rowStart;
  let mid: Buffer;
  if (width !== w) {
    const hor = coefficients(w, width, filter);
    mid = Buffer.alloc(cw * rows * 3);
    for (let y = 0; y < rows; y++) {
      const row = (rowStart + y) * w * 3;
      for (let xx = 0; xx < cw; xx++) {
        const k = hor.weights[left + xx];
        const base = row + hor.start[left + xx] * 3;
        for (let c = 0; c < 3; c++) {
          let ss = 1 << (PRECISION_BITS - 1);
          for (let x = 0; x < k.length; x++) ss += src[base + x * 3 + c] * k[x];
          mid[(y * cw + xx) * 3 + c] = clip8(ss);
        }
      }
    }
  } else {
    mid = Buffer.alloc(cw * rows * 3);
    for (let y = 0; y < rows; y++) src.copy(mid, y * cw * 3, ((rowStart + y) * w + left) * 3, ((rowStart + y) * w + left + cw) * 3);
  }
  // vertical pass, for the box's rows
  const stride = cw * 3;
  const out = Buffer.alloc(ch * stride);
  for (let yy = 0; yy < ch; yy++) {
    if (!vert) {
      mid.copy(out, yy * stride, (top + yy - rowStart) * stride, (top + yy - rowStart + 1) * stride);
      continue;
    }
    const k = vert.weights[top + yy];
    const y0 = vert.start[top + yy] - rowStart;
    for (let i = 0; i < stride; i++) {
      let ss = 1 << (PRECISION_BITS - 1);
      for (let y = 0; y < k.length; y++) ss += mid[(y0 + y) * stride + i] * k[y];
      out[yy * stride + i] = clip8(ss);
    }
  }
  return { data: out, width: cw, height: ch };
}

/** Resize the shorter side to `resizeShorter`, then centre crop `centerCrop`², as torchvision's Resize + CenterCrop. */
export function resizeCrop(img: RgbImage, p: ImagePreprocess): RgbImage {
  const { width: w, height: h } = img;
  const s = p.resizeShorter;
  const [nw, nh] = w <= h ? [s, Math.floor((s * h) / w)] : [Math.floor((s * w) / h), s];
  const c = p.centerCrop;
  return resizeRgb(img, nw, nh, p.interpolation, { left: roundHalfEven((nw - c) / 2), top: roundHalfEven((nh - c) / 2), width: c, height: c });
}

/** (x − mean) / std per channel, HWC bytes → CHW float32 (the model's input layout). */
export function normalise(img: RgbImage, p: ImagePreprocess): Float32Array {
  const n = img.width * img.height;
  const out = new Float32Array(3 * n);
  for (let c = 0; c < 3; c++) {
    const m = p.mean[c];
    const inv = 1 / p.std[c];
    for (let i = 0; i < n; i++) out[c * n + i] = (img.data[3 * i + c] - m) * inv;
  }
  return out;
}

/** The whole preprocessing of one image: decodeRgb → resizeCrop → normalise. */
export async function preprocessImage(input: ImageInput, p: ImagePreprocess, index = 0, maxPixels?: number): Promise<Float32Array> {
  return normalise(resizeCrop(await decodeRgb(input, index, maxPixels), p), p);
}
