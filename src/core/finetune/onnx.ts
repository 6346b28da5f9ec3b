/**
 * Predict with a fine-tuned transformer exported to ONNX, in Node (no Python): the tokenizer of
 * the model folder (transformers.js AutoTokenizer, tokenizer.json) and onnxruntime-node on
 * `<folder>/<onnx>`; logits → softmax in label order.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { FewShotError, errorMessage } from '../errors';

export interface TransformerClassifier {
  /** Probabilities per text, in the model's label order. */
  predictProba(texts: string[]): Promise<number[][]>;
  dispose(): void;
}

interface TokenizerOutput { [name: string]: { data: ArrayLike<number | bigint>; dims: number[] } }
type Tokenizer = (texts: string[], o: { padding: boolean; truncation: boolean; max_length: number }) => TokenizerOutput;

export function softmaxRows(logits: ArrayLike<number>, rows: number, cols: number): number[][] {
  const out: number[][] = [];
  for (let r = 0; r < rows; r++) {
    let max = -Infinity;
    for (let c = 0; c < cols; c++) max = Math.max(max, Number(logits[r * cols + c]));
    const e: number[] = [];
    let sum = 0;
    for (let c = 0; c < cols; c++) { const v = Math.exp(Number(logits[r * cols + c]) - max); e.push(v); sum += v; }
    out.push(e.map((v) => v / sum));
  }
  return out;
}

/**
 * Load `<folder>` (tokenizer files) and `<folder>/<onnx>`. `nLabels` is checked against the
 * model's output size on the first batch. Throws FewShotError naming the missing file.
 */
export async function loadTransformerClassifier(folder: string, onnx: string, maxLength: number, nLabels: number, o: { batchSize?: number } = {}): Promise<TransformerClassifier> {
  const onnxFile = path.join(folder, onnx);
  for (const f of [onnxFile, path.join(folder, 'tokenizer.json')]) {
    if (!fs.existsSync(f)) {
      throw new FewShotError(`The fine-tuned model is incomplete: ${f} is missing.`, {
        file: f, code: 'model-missing', fix: 'Retrain the run: the fine-tuning worker writes the tokenizer and onnx/model.onnx into the run folder.',
      });
    }
  }
  process.env.ORT_DISABLE_TELEMETRY = '1';
  // require (not import()): the bundles are CommonJS and find these packages through NODE_PATH too
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const ort = require('onnxruntime-node') as typeof import('onnxruntime-node');
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const t = require('@huggingface/transformers') as typeof import('@huggingface/transformers');
  t.env.allowRemoteModels = false;
  t.env.allowLocalModels = true;
  let tokenizer: Tokenizer;
  let session: import('onnxruntime-node').InferenceSession;
  try {
    tokenizer = (await t.AutoTokenizer.from_pretrained(folder, { local_files_only: true })) as unknown as Tokenizer;
  } catch (e) {
    throw new FewShotError(`Could not load the tokenizer of the fine-tuned model in ${folder}: ${errorMessage(e)}`, {
      file: path.join(folder, 'tokenizer.json'), code: 'model-invalid', fix: 'Retrain the run; its tokenizer files are damaged.',
    });
  }
  try {
    session = await ort.InferenceSession.create(onnxFile, { executionProviders: ['cpu'], graphOptimizationLevel: 'all' });
  } catch (e) {
    throw new FewShotError(`Could not load the ONNX model ${onnxFile}: ${errorMessage(e)}`, { file: onnxFile, code: 'model-invalid', fix: 'Retrain the run; the ONNX file is damaged.' });
  }
  const inputs = session.inputNames;
  const batchSize = o.batchSize ?? 16;
  let disposed = false;
  return {
    async predictProba(texts: string[]): Promise<number[][]> {
      if (disposed) throw new Error('predictor disposed');
      const out: number[][] = [];
      for (let i = 0; i < texts.length; i += batchSize) {
        const chunk = texts.slice(i, i + batchSize);
        const enc = tokenizer(chunk, { padding: true, truncation: true, max_length: maxLength });
        const feeds: Record<string, import('onnxruntime-node').Tensor> = {};
        for (const name of inputs) {
          let src = enc[name];
          if (!src && name === 'token_type_ids') {
            const ids = enc.input_ids;
            src = { data: new BigInt64Array(ids.data.length), dims: ids.dims };
          }
          if (!src) throw new FewShotError(`The ONNX model ${onnxFile} needs the input "${name}", which its tokenizer does not produce.`, { file: onnxFile, code: 'model-invalid', fix: 'Retrain the run.' });
          const data = src.data instanceof BigInt64Array ? src.data : BigInt64Array.from(Array.from(src.data as ArrayLike<number>, (v) => BigInt(v)));
          feeds[name] = new ort.Tensor('int64', data, src.dims);
        }
        const res = await session.run(feeds);
        const logits = res.logits ?? res[session.outputNames[0]];
        const [rows, cols] = logits.dims as number[];
        if (cols !== nLabels) {
          throw new FewShotError(`The ONNX model ${onnxFile} has ${cols} outputs for ${nLabels} labels.`, { file: onnxFile, code: 'model-invalid', fix: 'Retrain the run.' });
        }
        out.push(...softmaxRows(logits.data as Float32Array, rows, cols));
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
