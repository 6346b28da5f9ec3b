/**
 * A fine-tuned image CNN (method 'finetune' on an image dataset) served in Node: `<folder>/<onnx>` (input
 * pixel_values N×3×S×S, output logits N×labels, written by the PyTorch worker) run by onnxruntime-node on images
 * preprocessed by preprocess.ts exactly as the worker did (`<folder>/preprocess.json`), then softmax.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { FewShotError, errorMessage } from '../errors';
import { preprocessImage, readPreprocess, type ImageInput, type ImagePreprocess } from './preprocess';

export interface FinetunedImageClassifier {
  preprocess: ImagePreprocess;
  /** Probabilities in label order, one row per input; a bad image throws a FewShotError naming it. */
  predictProba(inputs: readonly ImageInput[]): Promise<number[][]>;
  dispose(): void;
}

/** Images per ONNX run. */
const BATCH = 16;

export function softmax(row: ArrayLike<number>): number[] {
  let max = -Infinity;
  for (let i = 0; i < row.length; i++) max = Math.max(max, row[i]);
  const e = Array.from(row, (v) => Math.exp(v - max));
  const sum = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / sum);
}

export async function loadFinetunedImageClassifier(folder: string, onnx: string, nLabels: number): Promise<FinetunedImageClassifier> {
  const file = path.resolve(folder, onnx);
  const retrain = 'Retrain the run (method finetune): its fine-tuned model folder is incomplete.';
  if (!fs.existsSync(file)) {
    throw new FewShotError(`The fine-tuned image model ${file} is missing.`, { file, code: 'model-missing', fix: retrain });
  }
  const pre = readPreprocess(folder);
  process.env.ORT_DISABLE_TELEMETRY = '1';
  // require (not import()): the bundles are CommonJS and keep onnxruntime-node external (scripts/build.mjs)
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const ort = require('onnxruntime-node') as typeof import('onnxruntime-node');
  let session: import('onnxruntime-node').InferenceSession;
  try {
    session = await ort.InferenceSession.create(file, { executionProviders: ['cpu'], graphOptimizationLevel: 'all' });
  } catch (e) {
    throw new FewShotError(`Could not load the fine-tuned image model ${file}: ${errorMessage(e)}`, { file, code: 'model-invalid', fix: retrain });
  }
  const size = pre.centerCrop;
  const per = 3 * size * size;
  let disposed = false;
  return {
    preprocess: pre,
    async predictProba(inputs) {
      if (disposed) throw new Error('image classifier disposed');
      const out: number[][] = [];
      for (let i = 0; i < inputs.length; i += BATCH) {
        const chunk = inputs.slice(i, i + BATCH);
        const tensors = await Promise.all(chunk.map((inp, j) => preprocessImage(inp, pre, i + j)));
        const batch = new Float32Array(chunk.length * per);
        tensors.forEach((t, j) => batch.set(t, j * per));
        const res = await session.run({ [session.inputNames[0]]: new ort.Tensor('float32', batch, [chunk.length, 3, size, size]) });
        const logits = res[session.outputNames[0]];
        const [rows, cols] = logits.dims as number[];
        if (rows !== chunk.length || cols !== nLabels) {
          throw new FewShotError(`The fine-tuned image model ${file} returned ${rows}×${cols} logits, expected ${chunk.length}×${nLabels}.`, { file, code: 'model-invalid', fix: retrain });
        }
        const data = logits.data as Float32Array;
        for (let r = 0; r < rows; r++) out.push(softmax(data.subarray(r * cols, (r + 1) * cols)));
        logits.dispose?.();
      }
      return out;
    },
    dispose() {
      if (disposed) return;
      disposed = true;
      void session.release?.().catch(() => { /* ignore */ });
    },
  };
}
