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
import type { ImageInput } from './images/preprocess';
import { loadFinetunedImageClassifier } from './images/finetuned';

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
  let disposed = false;
  return {
    labels,
    encoderId: encoder.id,
    runDir: dir,
    model,
    modality: 'image',
    predict(): Promise<Prediction[]> {
      return Promise.reject(new FewShotError(`The model in ${dir} classifies images, not texts.`, {
        file, code: 'wrong-modality', fix: 'Give image files (PNG, JPEG, WebP, BMP or TIFF), e.g. fewshot predict --run <run> scan.png.',
      }));
    },
    async predictImages(inputs: ImageInput[]): Promise<Prediction[]> {
      if (disposed) throw new Error('predictor disposed');
      if (!inputs.length) return [];
      const x = await encoder.embedImages(inputs);
      const proba = await predictProba(model, x);
      return proba.map((p) => toPrediction(p, labels, model.decision));
    },
    dispose() {
      if (disposed) return;
      disposed = true;
      try { encoder.dispose(); } catch { /* ignore */ }
    },
  };
}

/**
 * The label and the model's probabilities (sorted). With the model's decision rule (ModelFile.decision: recall
 * thresholds, abstain) the label is the decided one, possibly UNCERTAIN_LABEL; the probabilities stay the model's.
 */
export function toPrediction(p: ArrayLike<number>, labels: string[], rule?: DecisionRule): Prediction {
  const probabilities = labels.map((label, i) => ({ label, p: Number(p[i]) })).sort((a, b) => b.p - a.p); // stable: ties keep label order (like argmax)
  return { label: rule ? decideLabel(p, labels, rule) : probabilities[0].label, probabilities };
}
