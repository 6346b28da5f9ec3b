/**
 * Load a trained run (model/head.json + its encoder) and predict labels.
 * Used by the predictor child, the CLI and the model server (never by the
 * extension host directly: it loads ML code).
 */
import * as path from 'node:path';
import type { ModelFile, Prediction } from '../protocol/run';
import { FewShotError, errorMessage, isFewShotError } from './errors';
import { createEncoder, shortSpecFromId, type Encoder, type EncoderOptions } from './encoders';
import { compileHead, predictProba } from './heads';
import { readRunModelSync, runFile } from './runs';
import { loadTransformerClassifier } from './finetune/onnx';
import { decideLabel } from './labels/thresholds';
import type { DecisionRule } from '../protocol/labels';
import { createImageEncoder, imageModel } from './images/encoder';
import { inputName, type ImageInput } from './images/preprocess';
import { loadFinetunedImageClassifier } from './images/finetuned';
import { createHash } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import type { ImageOutcome } from '../protocol/trainer';

export interface Predictor {
  labels: string[];
  encoderId: string;
  runDir: string;
  model: ModelFile;
  /** What the model classifies: texts (predict) or images (predictImages). */
  modality: 'text' | 'image';
  predict(texts: string[]): Promise<Prediction[]>;
  /** Image models only: label image files (paths) or image bytes; a bad image throws a FewShotError naming it. */
  predictImages?(inputs: ImageInput[]): Promise<Prediction[]>;
  /** Image models only: the embedding cache (content SHA-256 → vector, in memory, LRU) — hits and misses so far. */
  imageCache?: { hits: number; misses: number; size: number };
  dispose(): void;
}

/**
 * The one rule of what can be labelled, shared by `fewshot predict` and the model server: a text
 * with at least one non-whitespace character. Returns why `texts` cannot be labelled, or undefined.
 */
export function emptyTextProblem(texts: readonly unknown[]): string | undefined {
  const i = texts.findIndex((t) => typeof t !== 'string' || !t.trim());
  if (i < 0) return undefined;
  return texts.length === 1 ? 'the text is empty (only whitespace): there is nothing to label' : `text ${i + 1} of ${texts.length} is empty (only whitespace): there is nothing to label`;
}

/** Read and check model/head.json of a run (the run store's reader). Throws FewShotError naming the file. */
export const readModelFile = readRunModelSync;

/**
 * The encoder id to load: a SetFit run's own body (ModelFile.body) is found under the run's current
 * folder, wherever the run was trained.
 */
export function encoderIdAt(m: ModelFile, runDir: string): string {
  if (!m.body) return m.encoder.id;
  return m.encoder.id.split(`hf:${m.body.ref}`).join(`hf:${path.resolve(runDir, m.body.path)}`);
}

/**
 * Recreate the encoder a model was trained with from its resolved id (createEncoder accepts
 * resolved ids, so 'auto' cannot silently pick a different one). Ids of other encoder versions
 * fall back to the nearest spec; the loaded encoder's id is then checked against the model's.
 * Model-backed encoders (USE-lite, Hugging Face) load on the first prediction.
 */
async function encoderFor(m: ModelFile, file: string, opts: EncoderOptions, runDir: string): Promise<Encoder> {
  let enc: Encoder;
  const id = encoderIdAt(m, runDir);
  // eager: a loaded predictor is ready to answer (model errors surface here, not on the first request)
  const encOpts = { eager: true, ...opts, maxChars: m.maxChars ?? opts.maxChars };
  try {
    try {
      enc = (await createEncoder(id, encOpts)).encoder;
    } catch (e) {
      if (!(isFewShotError(e) && e.opts.code === 'bad-encoder')) throw e;
      const { spec, dtype } = specFromEncoderId(id);
      enc = (await createEncoder(spec, { ...encOpts, hf: dtype ? { ...opts.hf, dtype } : opts.hf })).encoder;
    }
  } catch (e) {
    if (isFewShotError(e)) {
      throw new FewShotError(`The model in ${path.dirname(path.dirname(file))} needs the encoder "${m.encoder.id}", which cannot be loaded: ${e.message}`, {
        file: e.opts.file ?? file, fix: e.opts.fix ?? 'Make the encoder available again, or retrain the run with another encoder.', code: e.opts.code ?? 'encoder-unavailable',
      });
    }
    throw new FewShotError(`The model in ${path.dirname(path.dirname(file))} needs the encoder "${m.encoder.id}", which cannot be loaded: ${errorMessage(e)}`, {
      file, fix: 'Make the encoder\'s model files available again (see the Hugging Face settings), or retrain the run with another encoder.', code: 'encoder-unavailable',
    });
  }
  if (enc.id !== id || enc.dim !== m.encoder.dim) {
    enc.dispose?.();
    throw new FewShotError(`The model in ${path.dirname(path.dirname(file))} was trained with encoder "${m.encoder.id}" (${m.encoder.dim}-d), but "${enc.id}" (${enc.dim}-d) was loaded.`, {
      file, fix: 'Retrain the run: its encoder changed since it was trained.', code: 'encoder-mismatch',
    });
  }
  return enc;
}

/**
 * The short encoder spec for a resolved encoder id (EncoderInfo.id), as a user would write it:
 *   hashing-v1-…-<dim> → hashing:<dim>;  use-lite-en-512 → use;  hf:<ref>@<dtype> → hf:<ref> (+ dtype);
 *   combo:<a>*w+<b> → combo:<spec a>*w+<spec b>.  (The parsing lives in encoders/spec.ts.)
 */
export function specFromEncoderId(id: string): { spec: string; dtype?: 'fp32' | 'fp16' | 'q8' | 'int8' | 'uint8' | 'q4' } {
  return shortSpecFromId(id);
}

export async function loadPredictor(runDir: string, opts: EncoderOptions = {}): Promise<Predictor> {
  const dir = path.resolve(runDir);
  const model = readRunModelSync(dir);
  const file = runFile(dir, 'model');
  if (model.transformer) return loadTransformerPredictor(dir, model, file);
  if (model.imageCnn) return loadFinetunedImagePredictor(dir, model, file);
  let head: { dim: number; nClasses: number };
  try {
    head = compileHead(model);
  } catch (e) {
    throw new FewShotError(`The model file ${file} is invalid: ${errorMessage(e)}.`, { file, fix: 'Retrain the run with this version of Few-Shot Lab.', code: 'model-invalid' });
  }
  if (head.nClasses !== model.labels.length) {
    throw new FewShotError(`The model file ${file} is invalid: the head has ${head.nClasses} outputs for ${model.labels.length} labels.`, { file, fix: 'Retrain the run.', code: 'model-invalid' });
  }
  if (head.dim !== model.encoder.dim) {
    throw new FewShotError(`The model file ${file} is invalid: the head expects ${head.dim}-d vectors but names the ${model.encoder.dim}-d encoder "${model.encoder.id}".`, {
      file, fix: 'Retrain the run.', code: 'encoder-mismatch',
    });
  }
  if (imageModel(model.encoder.id)) return loadImagePredictor(dir, model, file);
  const encoder = await encoderFor(model, file, opts, dir);
  const labels = model.labels.slice();
  let disposed = false;
  return {
    labels,
    encoderId: encoder.id,
    runDir: dir,
    model,
    modality: 'text',
    async predict(texts: string[]): Promise<Prediction[]> {
      if (disposed) throw new Error('predictor disposed');
      if (!texts.length) return [];
      const x = await encoder.embed(texts.map((t) => String(t ?? '')));
      const proba = await predictProba(model, x);
      return proba.map((p) => toPrediction(p, labels, model.decision));
    },
    dispose() {
      if (disposed) return;
      disposed = true;
      try { encoder.dispose?.(); } catch { /* ignore */ }
    },
  };
}

/**
 * A fine-tuned transformer (method 'finetune'): its ONNX export and tokenizer in the run folder,
 * run in Node by onnxruntime-node (no Python).
 */
async function loadTransformerPredictor(dir: string, model: ModelFile, file: string): Promise<Predictor> {
  const t = model.transformer!;
  if (typeof t.path !== 'string' || typeof t.onnx !== 'string' || !Number.isInteger(t.maxLength) || t.maxLength < 1) {
    throw new FewShotError(`The model file ${file} is invalid: its transformer entry needs path, onnx and maxLength.`, { file, fix: 'Retrain the run with this version of Few-Shot Lab.', code: 'model-invalid' });
  }
  const labels = model.labels.slice();
  const clf = await loadTransformerClassifier(path.resolve(dir, t.path), t.onnx, t.maxLength, labels.length);
  return {
    labels,
    encoderId: model.encoder.id,
    runDir: dir,
    model,
    modality: 'text',
    async predict(texts: string[]): Promise<Prediction[]> {
      if (!texts.length) return [];
      const proba = await clf.predictProba(texts.map((x) => String(x ?? '')));
      return proba.map((p) => toPrediction(p, labels, model.decision));
    },
    dispose() { clf.dispose(); },
  };
}

/** A fine-tuned image CNN (method 'finetune' on images): its ONNX export in the run folder (src/core/images/finetuned.ts). */
async function loadFinetunedImagePredictor(dir: string, model: ModelFile, file: string): Promise<Predictor> {
  const c = model.imageCnn!;
  if (typeof c.path !== 'string' || typeof c.onnx !== 'string') {
    throw new FewShotError(`The model file ${file} is invalid: its imageCnn entry needs path and onnx.`, { file, fix: 'Retrain the run with this version of Few-Shot Lab.', code: 'model-invalid' });
  }
  const labels = model.labels.slice();
  const clf = await loadFinetunedImageClassifier(path.resolve(dir, c.path), c.onnx, labels.length);
  return {
    labels, encoderId: model.encoder.id, runDir: dir, model, modality: 'image',
    predict: () => Promise.reject(new FewShotError(`The model in ${dir} classifies images, not texts.`, {
      file, code: 'wrong-modality', fix: 'Give image files (PNG, JPEG, WebP, BMP or TIFF), e.g. fewshot predict --run <run> scan.png.',
    })),
    async predictImages(inputs: ImageInput[]): Promise<Prediction[]> {
      if (!inputs.length) return [];
      return (await clf.predictProba(inputs)).map((p) => toPrediction(p, labels, model.decision));
    },
    dispose() { clf.dispose(); },
  };
}

/**
 * An image model (ModelFile.encoder.id names an image encoder, e.g. EfficientNet-Lite0): the image encoder under
 * models/, then the head and the decision rule, as for texts. Texts are refused with a message that says so.
 */
async function loadImagePredictor(dir: string, model: ModelFile, file: string): Promise<Predictor> {
  const m = imageModel(model.encoder.id)!;
  if (m.id !== model.encoder.id || m.dim !== model.encoder.dim) {
    throw new FewShotError(`The model in ${dir} was trained with the image encoder "${model.encoder.id}" (${model.encoder.dim}-d), but this version has "${m.id}" (${m.dim}-d).`, {
      file, fix: 'Retrain the run: its encoder changed since it was trained.', code: 'encoder-mismatch',
    });
  }
  const encoder = await createImageEncoder(m.spec);
  const labels = model.labels.slice();
  const cache = new Map<string, Float32Array>(); // insertion order = LRU order
  const stats = { hits: 0, misses: 0, size: 0 };
  let disposed = false;
  /** Each input's bytes (a file read once) and content key; unreadable files throw a FewShotError naming them. */
  const keyed = (inputs: ImageInput[]) => Promise.all(inputs.map(async (input, i) => {
    let data: Buffer;
    if (typeof input === 'string') {
      try { data = await fsp.readFile(input); } catch (e) {
        throw new FewShotError(`Could not read the image ${input}: ${errorMessage(e)}`, { file: input, code: 'image-unreadable', fix: 'Check that the file exists and can be read.' });
      }
    } else data = Buffer.isBuffer(input) ? input : input.data;
    const key = createHash('sha256').update(data).digest('hex');
    return { key, input: { name: inputName(input, i), data } };
  }));
  return {
    labels,
    encoderId: encoder.id,
    runDir: dir,
    model,
    modality: 'image',
    imageCache: stats,
    predict(): Promise<Prediction[]> {
      return Promise.reject(new FewShotError(`The model in ${dir} classifies images, not texts.`, {
        file, code: 'wrong-modality', fix: 'Give image files (PNG, JPEG, WebP, BMP or TIFF), e.g. fewshot predict --run <run> scan.png.',
      }));
    },
    async predictImages(inputs: ImageInput[]): Promise<Prediction[]> {
      if (disposed) throw new Error('predictor disposed');
      if (!inputs.length) return [];
      const items = await keyed(inputs);
      const todo = items.filter((it, i) => !cache.has(it.key) && items.findIndex((o) => o.key === it.key) === i);
      const fresh = todo.length ? await encoder.embedImages(todo.map((it) => it.input)) : [];
      stats.misses += todo.length;
      stats.hits += items.length - todo.length;
      todo.forEach((it, i) => cache.set(it.key, fresh[i]));
      const x = items.map((it) => {
        const v = cache.get(it.key)!;
        cache.delete(it.key); // most recently used last
        cache.set(it.key, v);
        return v;
      });
      while (cache.size > IMAGE_CACHE_ENTRIES) cache.delete(cache.keys().next().value!);
      stats.size = cache.size;
      const proba = await predictProba(model, x);
      return proba.map((p) => toPrediction(p, labels, model.decision));
    },
    dispose() {
      if (disposed) return;
      disposed = true;
      cache.clear();
      try { encoder.dispose(); } catch { /* ignore */ }
    },
  };
}

/** Image embeddings kept by a loaded image predictor (1280 floats = 5 KiB each). */
export const IMAGE_CACHE_ENTRIES = 512;

/**
 * Label images one by one as far as needed: the whole batch at once, and when an image in it cannot be read (a
 * FewShotError), each image alone, so that one bad file costs only its own row. Other errors are thrown.
 */
export async function predictImagesEach(predictor: Predictor, inputs: ImageInput[]): Promise<ImageOutcome[]> {
  if (!predictor.predictImages) {
    throw new FewShotError(`The model in ${predictor.runDir} classifies texts, not images.`, {
      code: 'wrong-modality', fix: 'Pick a run trained on an image dataset, or give texts.',
    });
  }
  try {
    return (await predictor.predictImages(inputs)).map((prediction) => ({ prediction }));
  } catch (e) {
    if (!isFewShotError(e) || e.opts.code === 'wrong-modality' || inputs.length === 0) throw e;
  }
  const out: ImageOutcome[] = [];
  for (const input of inputs) {
    try {
      out.push({ prediction: (await predictor.predictImages([input]))[0] });
    } catch (e) {
      if (!isFewShotError(e)) throw e;
      out.push({ error: e.message, fix: e.opts.fix });
    }
  }
  return out;
}

/**
 * The label and the model's probabilities (sorted). With the model's decision rule (ModelFile.decision: recall
 * thresholds, abstain) the label is the decided one, possibly UNCERTAIN_LABEL; the probabilities stay the model's.
 */
export function toPrediction(p: ArrayLike<number>, labels: string[], rule?: DecisionRule): Prediction {
  const probabilities = labels.map((label, i) => ({ label, p: Number(p[i]) })).sort((a, b) => b.p - a.p); // stable: ties keep label order (like argmax)
  return { label: rule ? decideLabel(p, labels, rule) : probabilities[0].label, probabilities };
}
