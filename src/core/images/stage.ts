/**
 * The embedding stage of image training: the image encoder for a run's encoder setting, the embedding cache (keyed by
 * the image CONTENT, never by its path), optional RandomAffine augmentation of the training images, and the feature
 * rows the few-shot head takes. runTraining's fit stage (src/core/train.ts) does the rest, as for texts.
 */
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import type { EncoderInfo } from '../../protocol/run';
import { FewShotError } from '../errors';
import { withEmbeddingCache } from '../encoders/cache';
import type { Encoder } from '../encoders/types';
import { abortError } from '../util/async';
import { sha256Hex } from '../util/hash';
import { augmentImage } from './augment';
import type { ImageDataset } from './dataset';
import { IMAGE_MODELS, createImageEncoder, imageModel, type ImageEncoder, type ImageModel } from './encoder';
import type { ImageInput } from './preprocess';

/** The image model for a run's encoder setting: 'auto' → the default (EfficientNet-Lite0); a text encoder → a clear error. */
export function resolveImageModel(spec: string, root: string): { model: ImageModel; reason: string } {
  if (spec === 'auto') return { model: IMAGE_MODELS[0], reason: `auto: an image dataset → ${IMAGE_MODELS[0].description}` };
  const m = imageModel(spec);
  if (m) return { model: m, reason: `${spec}: ${m.description}` };
  throw new FewShotError(`The dataset ${root} holds images, but the encoder "${spec}" is a text encoder.`, {
    file: root, code: 'config-invalid',
    fix: `Use the encoder "auto" or one of the image encoders (${IMAGE_MODELS.map((x) => x.spec).join(', ')}) for image datasets.`,
  });
}

/**
 * The image encoder as a text-style Encoder whose "texts" are SHA-256 hex digests of image contents, so that
 * withEmbeddingCache caches it like the text encoders: the cache key is the content (and the encoder id), never a path.
 * `inputs` maps each digest to the image (a file path or bytes).
 */
export function contentKeyedEncoder(enc: ImageEncoder, inputs: ReadonlyMap<string, ImageInput>): Encoder {
  return {
    id: enc.id,
    dim: enc.dim,
    maxChars: 64, // a SHA-256 hex digest
    embed(keys, onProgress) {
      const list = keys.map((k) => {
        const input = inputs.get(k);
        if (input === undefined) throw new Error(`no image for content hash ${k}`);
        return input;
      });
      return enc.embedImages(list, { onProgress });
    },
    dispose: () => enc.dispose(),
  };
}

export interface ImageStageOptions {
  /** The run's encoder setting ('auto' or an image encoder spec). */
  encoder: string;
  /** The embedding cache folder (`<store>/cache/embeddings`). */
  cacheDir: string;
  /** Augmented copies per training image (0: none). */
  augment: number;
  /** Also flip the copies left–right with probability 0.5 (RandomHorizontalFlip; default false). */
  flip?: boolean;
  seed: number;
  signal?: AbortSignal;
  log(m: string): void;
  /** 'embed' progress: images embedded so far (after each batch). */
  progress(done: number, total: number, message?: string): void;
  /** A model folder to use instead of models/<folder> (tests). */
  modelFolder?: string;
}

export interface ImageStage {
  info: EncoderInfo;
  xTrain: Float32Array[];
  /** Per training image, its augmented copies' rows (empty without augmentation). */
  xAug: Float32Array[][];
  xTest: Float32Array[];
  cached: number;
  computed: number;
}

/** Seed of the augmented copies of training image `i`: distinct per image, fixed by the run's seed. */
export const augmentSeed = (seed: number, i: number): number => (seed * 1_000_003 + (i + 1) * 7919) >>> 0;

/** Embed the training (and augmented) and test images of a dataset, through the content-keyed embedding cache. */
export async function embedImageDataset(dataset: ImageDataset, o: ImageStageOptions): Promise<ImageStage> {
  const { model, reason } = resolveImageModel(o.encoder, dataset.root);
  const inputs = new Map<string, ImageInput>();
  const keyOf = (sha: string, input: ImageInput): string => { if (!inputs.has(sha)) inputs.set(sha, input); return sha; };
  const trainKeys = dataset.train.map((s) => keyOf(s.sha256, s.file));
  const testKeys = dataset.test.map((s) => keyOf(s.sha256, s.file));

  // augmentation: training images only (never test), seeded; each copy keyed by its own PNG bytes
  const augKeys: string[][] = dataset.train.map(() => []);
  if (o.augment > 0) {
    o.progress(0, 1, `Augmenting training images (RandomAffine, ${o.augment} per image)`);
    for (let i = 0; i < dataset.train.length; i++) {
      if (o.signal?.aborted) throw abortError();
      const s = dataset.train[i];
      const copies = await augmentImage(await fsp.readFile(s.file), o.augment, { seed: augmentSeed(o.seed, i), flip: o.flip === true });
      augKeys[i] = copies.map((c, k) => keyOf(sha256Hex(c.png), { name: `${s.file} (augmented copy ${k + 1})`, data: c.png }));
    }
    o.log(`Augmentation: ${augKeys.reduce((a, v) => a + v.length, 0)} extra training images (RandomAffine degrees 15, translate 0.1, scale 0.9–1.1${o.flip ? ', horizontal flip p = 0.5' : ''})`);
  }

  const enc = await createImageEncoder(model.spec, { cacheDir: path.join(path.dirname(o.cacheDir), 'models'), ...(o.modelFolder ? { folder: o.modelFolder } : {}) });
  const cached = withEmbeddingCache(contentKeyedEncoder(enc, inputs), o.cacheDir);
  try {
    const keys = [...inputs.keys()];
    o.log(`Encoder ${enc.id} (${enc.dim}-d): ${reason}`);
    o.progress(0, keys.length, `Embedding ${keys.length} images with ${enc.id}`);
    const vectors = await cached.embed(keys, (done, total) => {
      if (o.signal?.aborted) throw abortError();
      o.progress(done, total);
    });
    if (o.signal?.aborted) throw abortError();
    const byKey = new Map(keys.map((k, i) => [k, vectors[i]] as const));
    const row = (k: string): Float32Array => byKey.get(k)!;
    o.progress(keys.length, keys.length, `${cached.stats.hits} cached, ${cached.stats.misses} computed`);
    return {
      info: { id: enc.id, requested: o.encoder, dim: enc.dim, reason },
      xTrain: trainKeys.map(row), xAug: augKeys.map((ks) => ks.map(row)), xTest: testKeys.map(row),
      cached: cached.stats.hits, computed: cached.stats.misses,
    };
  } finally {
    cached.dispose?.();
  }
}
