/**
 * The image encoder's preprocessing in Node, done with sharp (libvips), as the model folder's preprocess.json says
 * (written by scripts/models/convert_image_encoder.py, which does the same with Pillow):
 *   decode → EXIF orientation → alpha composited on white → RGB → resize the shorter side to `resizeShorter`
 *   (bicubic) → centre crop `centerCrop`² → (x − mean) / std per channel on 0..255 values → CHW float32.
 * Alpha: composited on white (sharp's flatten). PIL's plain `convert('RGB')` drops alpha and keeps the stored colour
 * instead, which turns a black glyph on a transparent background into an all-black image; the conversion script and
 * the fine-tuning worker composite on white too, so Node and PyTorch see the same pixels.
 * Resizing: sharp's 'cubic' kernel and Pillow's BICUBIC are both Catmull-Rom, but their anti-aliasing differs when
 * shrinking, so features of resized images differ slightly between the two (measured by test/unit/imageEncoder.test.ts).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { FewShotError, errorMessage } from '../errors';

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

/** Images above this many pixels are refused (decompression bombs); sharp checks it from the header. */
export const MAX_IMAGE_PIXELS = 50_000_000;

type Sharp = typeof import('sharp');
let sharpModule: Sharp | undefined;
function sharp(): Sharp {
  // require (not import()): the bundles are CommonJS and keep sharp external (scripts/build.mjs)
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  sharpModule ??= require('sharp') as Sharp;
  return sharpModule;
}

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
    const { data, info } = await sharp()(bytes, { failOn: 'error', limitInputPixels: maxPixels })
      .rotate()
      .flatten({ background: { r: 255, g: 255, b: 255 } })
      .toColourspace('srgb')
      .removeAlpha()
      .raw()
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 3) throw new Error(`${info.channels} channels after conversion to RGB`);
    return { data, width: info.width, height: info.height };
  } catch (e) {
    const msg = errorMessage(e);
    if (/pixel limit/i.test(msg)) throw fail(`it has more than ${maxPixels.toLocaleString('en-US')} pixels`, 'image-too-large');
    throw fail(msg.replace(/^Input buffer /, 'the data '));
  }
}

/** Python's round() (half to even), as the conversion script uses for the crop offsets. */
function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** Resize the shorter side to `resizeShorter` then centre crop `centerCrop`², as torchvision's Resize + CenterCrop. */
export async function resizeCrop(img: RgbImage, p: ImagePreprocess): Promise<RgbImage> {
  const { width: w, height: h } = img;
  const s = p.resizeShorter;
  const [nw, nh] = w <= h ? [s, Math.floor((s * h) / w)] : [Math.floor((s * w) / h), s];
  const c = p.centerCrop;
  const left = roundHalfEven((nw - c) / 2);
  const top = roundHalfEven((nh - c) / 2);
  const { data, info } = await sharp()(img.data, { raw: { width: w, height: h, channels: 3 } })
    .resize(nw, nh, { fit: 'fill', kernel: p.interpolation === 'bicubic' ? 'cubic' : 'linear', fastShrinkOnLoad: false })
    .extract({ left, top, width: c, height: c })
    .raw()
    .toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height };
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
  return normalise(await resizeCrop(await decodeRgb(input, index, maxPixels), p), p);
}
