/**
 * Image augmentation: torchvision's RandomAffine (and an optional RandomHorizontalFlip), seeded.
 *
 * The default is the seed POC's RandomAffine(degrees=15, translate=(0.1, 0.1), scale=(0.9, 1.1)). Parameters are drawn
 * as torchvision's RandomAffine.get_params draws them (angle ~ U(-15, 15); tx = round(U(-0.1·W, 0.1·W)) px, ty likewise
 * with H; scale ~ U(0.9, 1.1)), from the project's seeded PRNG (util/rng), so a seed gives the same images everywhere.
 * The warp follows torchvision.transforms.functional.affine: about the image centre, a positive angle turns the
 * picture clockwise, translation after rotation and scale, nearest-neighbour sampling (torchvision's default) and
 * fill 0 outside the source. decode.ts decodes (upright, after EXIF orientation) and encodes PNG; the flip and the
 * affine warp are small loops here (vips' affine sized its output to the turned image's bounding box and centred
 * pixels differently).
 */
import { decodeImage, pngFromRaw, toRgbOnWhite } from './decode';
import { resizeRgb } from './preprocess';
import { seededRandom } from '../util/rng';

export interface AffineOptions {
  /** Rotation range ±degrees (default 15). */
  degrees?: number;
  /** Largest shift as a fraction of width and height (default [0.1, 0.1]). */
  translate?: [number, number];
  /** Scale range (default [0.9, 1.1]). */
  scale?: [number, number];
  /** Also flip horizontally with probability 0.5 (default false). */
  flip?: boolean;
}

export const DEFAULT_AFFINE: Required<Omit<AffineOptions, 'flip'>> = { degrees: 15, translate: [0.1, 0.1], scale: [0.9, 1.1] };

/** The parameters of one augmented image. */
export interface AffineParams {
  /** Degrees, clockwise. */
  angle: number;
  /** Shift in whole pixels (right, down). */
  tx: number;
  ty: number;
  scale: number;
  /** Mirrored left–right before the affine warp. */
  flipped: boolean;
}

/** Draw one set of parameters for a width × height image (torchvision's order: angle, translation, scale; flip first). */
export function drawAffineParams(rand: () => number, width: number, height: number, opts: AffineOptions = {}): AffineParams {
  const { degrees, translate, scale } = { ...DEFAULT_AFFINE, ...opts };
  const uniform = (a: number, b: number) => a + (b - a) * rand();
  const flipped = opts.flip ? rand() < 0.5 : false;
  const angle = uniform(-degrees, degrees);
  const maxDx = translate[0] * width, maxDy = translate[1] * height;
  const tx = Math.round(uniform(-maxDx, maxDx));
  const ty = Math.round(uniform(-maxDy, maxDy));
  return { angle, tx, ty, scale: uniform(scale[0], scale[1]), flipped };
}

/**
 * Warp raw interleaved pixels (width × height × channels) by the affine part of `p` (angle, translation, scale; not
 * the flip): out(x) = in(c + R(−angle)(x − c − t) / scale), c the image centre, nearest neighbour, 0 outside.
 */
export function affineWarp(src: Uint8Array, width: number, height: number, channels: number, p: Pick<AffineParams, 'angle' | 'tx' | 'ty' | 'scale'>): Buffer {
  const out = Buffer.alloc(width * height * channels);
  const a = (p.angle * Math.PI) / 180;
  const cos = Math.cos(a) / p.scale, sin = Math.sin(a) / p.scale;
  const cx = (width - 1) / 2, cy = (height - 1) / 2;
  for (let y = 0; y < height; y++) {
    const dy = y - cy - p.ty;
    for (let x = 0; x < width; x++) {
      const dx = x - cx - p.tx;
      // Inverse rotation: R(−a) = [[cos, sin], [−sin, cos]] (y points down, so R(a) turns clockwise).
      const sx = Math.round(cx + cos * dx + sin * dy);
      const sy = Math.round(cy - sin * dx + cos * dy);
      if (sx < 0 || sy < 0 || sx >= width || sy >= height) continue;
      const o = (y * width + x) * channels, i = (sy * width + sx) * channels;
      for (let c = 0; c < channels; c++) out[o + c] = src[i + c];
    }
  }
  return out;
}

export interface AugmentedImage { png: Buffer; params: AffineParams; width: number; height: number }

/**
 * `n` augmented copies of an image (file contents: PNG, JPEG, WebP, BMP or TIFF) as PNG, each the input's size.
 * Deterministic for a seed (default 42): the same seed, options and image give the same bytes.
 */
export async function augmentImage(image: Buffer, n: number, opts: AffineOptions & { seed?: number } = {}): Promise<AugmentedImage[]> {
  const { data, width, height, channels } = decodeImage(image);
  const mirrored = opts.flip ? flop(data, width, height, channels) : undefined;
  const rand = seededRandom(opts.seed ?? 42);
  const out: AugmentedImage[] = [];
  for (let k = 0; k < n; k++) {
    const params = drawAffineParams(rand, width, height, opts);
    const warped = affineWarp(params.flipped ? mirrored! : data, width, height, channels, params);
    out.push({ png: pngFromRaw({ data: warped, width, height, channels }), params, width, height });
  }
  return out;
}

/** Mirror raw interleaved pixels left–right. */
function flop(src: Uint8Array, width: number, height: number, channels: number): Uint8Array {
  const out = new Uint8Array(src.length);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const o = (y * width + x) * channels, i = (y * width + width - 1 - x) * channels;
      for (let c = 0; c < channels; c++) out[o + c] = src[i + c];
    }
  }
  return out;
}

/** Raw interleaved 8-bit pixels. */
export interface RawImage { data: Uint8Array; width: number; height: number; channels: number }

/** PNG bytes of raw 8-bit pixels (1–4 channels; grey is expanded to RGB), encoded by decode.ts (pngjs). */
export async function encodePng(raw: RawImage): Promise<Buffer> {
  const { width, height, channels } = raw;
  if (channels === 3 || channels === 4) return pngFromRaw({ data: Buffer.from(raw.data.buffer, raw.data.byteOffset, raw.data.byteLength), width, height, channels });
  const alpha = channels === 2;
  const out = Buffer.alloc(width * height * (alpha ? 4 : 3));
  for (let i = 0; i < width * height; i++) {
    const g = raw.data[i * channels];
    out.fill(g, i * (alpha ? 4 : 3), i * (alpha ? 4 : 3) + 3);
    if (alpha) out[i * 4 + 3] = raw.data[i * 2 + 1];
  }
  return pngFromRaw({ data: out, width, height, channels: alpha ? 4 : 3 });
}

/**
 * A PNG at most `maxSide` px on its longer side (never enlarged), of an image in any format the loader reads:
 * decoded upright (EXIF orientation), transparency on white, resized with Pillow's bicubic filter (resizeRgb).
 */
export async function thumbnailPng(image: Buffer, maxSide = 128): Promise<Buffer> {
  const rgb = toRgbOnWhite(decodeImage(image));
  const f = Math.min(1, maxSide / Math.max(rgb.width, rgb.height));
  const w = Math.max(1, Math.round(rgb.width * f)), h = Math.max(1, Math.round(rgb.height * f));
  const small = f < 1 ? resizeRgb(rgb, w, h, 'bicubic') : rgb;
  return encodePng({ data: small.data, width: small.width, height: small.height, channels: 3 });
}
