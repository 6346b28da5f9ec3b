/**
 * Pretrained encoders that ship with Few-Shot Lab (models/<folder>/, converted by
 * scripts/models/convert_sentence_encoder.py, with LICENSE, PROVENANCE.json and parity.json).
 * They run through the Hugging Face encoder (./hf.ts: transformers.js + onnxruntime-node, CPU),
 * but under a stable id that does not depend on where the extension is installed, so saved
 * models and the embedding cache stay valid when the folder moves.
 */
import * as path from 'node:path';
import { FewShotError } from '../errors';
import { expectedModelFolder, findModelFolder } from '../util/models';

export interface BundledModel {
  /** What users write: `minilm`. */
  spec: string;
  /** Resolved encoder id (EncoderInfo.id): name, quantisation and size; a new conversion gets a new id. */
  id: string;
  /** Folder under models/. */
  folder: string;
  dim: number;
  dtype: 'q8';
  description: string;
}

export const BUNDLED_MODELS: readonly BundledModel[] = [
  {
    spec: 'minilm',
    id: 'minilm-l6-v2-int8-384',
    folder: 'all-MiniLM-L6-v2',
    dim: 384,
    dtype: 'q8',
    description: 'all-MiniLM-L6-v2 sentence encoder (English, 384-d, int8 ONNX, Apache-2.0), bundled',
  },
];

export function bundledModel(specOrId: string): BundledModel | undefined {
  return BUNDLED_MODELS.find((m) => m.spec === specOrId || m.id === specOrId);
}

/** The models/ folder that holds the bundled models (see ../util/models.ts), or undefined. */
export function findModelsDir(start = __dirname): string | undefined {
  for (const m of BUNDLED_MODELS) {
    const folder = findModelFolder(m.folder, 'PROVENANCE.json', start);
    if (folder) return path.dirname(folder);
  }
  return undefined;
}

/** The folder of a bundled model; throws a FewShotError naming where it looked when it is missing. */
export function bundledModelFolder(m: BundledModel, start = __dirname): string {
  const folder = findModelFolder(m.folder, path.join('onnx', 'model_quantized.onnx'), start);
  if (folder) return folder;
  const expected = expectedModelFolder(m.folder, start);
  throw new FewShotError(`The bundled encoder "${m.spec}" is missing (${expected})`, {
    file: expected, code: 'bundled-model-missing',
    fix: `Reinstall Few-Shot Lab, or rebuild it with "python scripts/models/convert_sentence_encoder.py ${m.folder}", or set FEWSHOT_MODELS_DIR to a folder that holds ${m.folder}/.`,
  });
}

/** Whether a bundled model's files are present (used by 'auto' to fall back quietly when they are not). */
export function bundledModelAvailable(m: BundledModel, start?: string): boolean {
  try {
    bundledModelFolder(m, start);
    return true;
  } catch {
    return false;
  }
}
