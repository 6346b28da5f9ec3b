/**
 * The pretrained offline image encoder: an ImageNet CNN converted to ONNX under models/<folder>/
 * (scripts/models/convert_image_encoder.py: graph.onnx + weights.hilo (weights.ts), preprocess.json, LICENSE, PROVENANCE.json, parity.json),
 * run by onnxruntime-node on the CPU. An image becomes the global-average-pooled activations of the network's last
 * convolution (1280 numbers for EfficientNet-Lite0), which the few-shot heads take like text embeddings.
 */
import * as path from 'node:path';
import { FewShotError, errorMessage } from '../errors';
import { expectedModelFolder, findModelFolder } from '../util/models';
import { ImageInput, ImagePreprocess, preprocessImage, readPreprocess } from './preprocess';
import { IMAGE_MODELS, imageModel, type ImageModel } from './models';
import { isPackedModel, materialiseModel } from './weights';

export { IMAGE_MODELS, imageModel } from './models';
export type { ImageModel } from './models';

/** The folder of an image model; throws a FewShotError naming where it looked when it is missing. */
export function imageModelFolder(m: ImageModel, start = __dirname): string {
  const folder = findModelFolder(m.folder, 'preprocess.json', start);
  if (folder) return folder;
  const expected = expectedModelFolder(m.folder, start);
  throw new FewShotError(`The image encoder "${m.spec}" is missing (${expected})`, {
    file: expected, code: 'image-model-missing',
    fix: `Rebuild it with "python scripts/models/convert_image_encoder.py ${m.folder}", or set FEWSHOT_MODELS_DIR to a folder that holds ${m.folder}/.`,
  });
}

export interface EmbedImagesOptions {
  /** Images per ONNX run (default: the encoder's, 16). */
  batchSize?: number;
  /** Called after each batch with the number of images embedded so far. */
  onProgress?: (done: number, total: number) => void;
}

export interface ImageEncoder {
  readonly id: string;
  readonly dim: number;
  readonly folder: string;
  readonly preprocess: ImagePreprocess;
  /** One feature vector per image, in order. Unreadable images throw a FewShotError naming the file. */
  embedImages(inputs: readonly ImageInput[], o?: EmbedImagesOptions): Promise<Float32Array[]>;
  /** Features of already preprocessed images (CHW float32, inputSize² × 3 each; see preprocess.ts). */
  embedTensors(chw: readonly Float32Array[]): Promise<Float32Array[]>;
  dispose(): void;
}

export interface CreateImageEncoderOptions {
  /** A model folder to use instead of models/<folder> (tests, development). */
  folder?: string;
  batchSize?: number;
  /** onnxruntime's intra-op threads (default: onnxruntime's, one per core). */
  threads?: number;
  /** Where a packed model (graph.onnx + weights.hilo) is rebuilt (default: FEWSHOT_MODEL_CACHE or the OS temp folder). */
  cacheDir?: string;
}

export async function createImageEncoder(spec = 'efficientnet-lite0', o: CreateImageEncoderOptions = {}): Promise<ImageEncoder> {
  const m = imageModel(spec);
  if (!m) {
    throw new FewShotError(`Unknown image encoder "${spec}"`, {
      code: 'encoder-unknown', fix: `Use one of: ${IMAGE_MODELS.map((x) => x.spec).join(', ')}.`,
    });
  }
  const folder = o.folder ?? imageModelFolder(m);
  const pre = readPreprocess(folder);
  // the shipped form is packed (scripts/models/pack_onnx_hilo.py); a plain model.onnx (development) is loaded as is
  const onnxFile = isPackedModel(folder) ? materialiseModel(folder, o.cacheDir) : path.join(folder, 'model.onnx');
  process.env.ORT_DISABLE_TELEMETRY = '1';
  // require (not import()): the bundles are CommonJS and keep onnxruntime-node external (scripts/build.mjs)
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const ort = require('onnxruntime-node') as typeof import('onnxruntime-node');
  let session: import('onnxruntime-node').InferenceSession;
  try {
    session = await ort.InferenceSession.create(onnxFile, {
      executionProviders: ['cpu'], graphOptimizationLevel: 'all', ...(o.threads ? { intraOpNumThreads: o.threads } : {}),
    });
  } catch (e) {
    throw new FewShotError(`Could not load the image encoder ${onnxFile}: ${errorMessage(e)}`, {
      file: onnxFile, code: 'model-invalid', fix: `Rebuild it with "python scripts/models/convert_image_encoder.py ${m.folder}".`,
    });
  }
  const [inName] = session.inputNames;
  const [outName] = session.outputNames;
  const size = pre.inputSize;
  const per = 3 * size * size;
  const defaultBatch = o.batchSize ?? 16;
  let disposed = false;

  async function run(chw: readonly Float32Array[]): Promise<Float32Array[]> {
    if (disposed) throw new Error('image encoder disposed');
    if (chw.length === 0) return [];
    const batch = new Float32Array(chw.length * per);
    chw.forEach((t, i) => {
      if (t.length !== per) throw new Error(`image tensor ${i} has ${t.length} values, expected 3×${size}×${size}`);
      batch.set(t, i * per);
    });
    const res = await session.run({ [inName]: new ort.Tensor('float32', batch, [chw.length, 3, size, size]) });
    const out = res[outName];
    const [rows, cols] = out.dims as number[];
    if (rows !== chw.length || cols !== m!.dim) {
      throw new FewShotError(`The image encoder ${onnxFile} returned ${rows}×${cols} features, expected ${chw.length}×${m!.dim}.`, {
        file: onnxFile, code: 'model-invalid', fix: `Rebuild it with "python scripts/models/convert_image_encoder.py ${m!.folder}".`,
      });
    }
    const data = out.data as Float32Array;
    const vecs = Array.from({ length: rows }, (_, i) => data.slice(i * cols, (i + 1) * cols));
    out.dispose?.();
    return vecs;
  }

  return {
    id: m.id,
    dim: m.dim,
    folder,
    preprocess: pre,
    embedTensors: run,
    async embedImages(inputs, eo = {}) {
      const bs = Math.max(1, eo.batchSize ?? defaultBatch);
      const out: Float32Array[] = [];
      for (let i = 0; i < inputs.length; i += bs) {
        const chunk = inputs.slice(i, i + bs);
        const tensors = await Promise.all(chunk.map((inp, j) => preprocessImage(inp, pre, i + j)));
        out.push(...(await run(tensors)));
        eo.onProgress?.(out.length, inputs.length);
      }
      return out;
    },
    dispose() {
      if (disposed) return;
      disposed = true;
      void session.release().catch(() => undefined);
    },
  };
}
