/**
 * Hugging Face sentence encoders through @huggingface/transformers (ONNX Runtime,
 * CPU): mean pooling over non-padded tokens + L2 normalisation.
 * Privacy default: no network (env.allowRemoteModels only when allowRemote is true).
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { FewShotError } from '../errors';
import type { Encoder, HfOptions } from './types';
import { DEFAULT_MAX_CHARS } from './types';
import { l2normalize, truncate, yieldToLoop } from './util';

export const HF_REQUIRED_FILES = ['config.json', 'tokenizer.json', 'tokenizer_config.json'] as const;

/** True when `ref` names a folder on disk (absolute, ./relative, or an existing path). */
function isLocalModelRef(ref: string): boolean {
  return isAbsolute(ref) || ref.startsWith('./') || ref.startsWith('../') || ref.startsWith('~') || (existsSync(ref) && statSync(ref).isDirectory());
}

function onnxFile(dtype: string | undefined): string {
  if (!dtype || dtype === 'fp32') return 'onnx/model.onnx';
  if (dtype === 'q8') return 'onnx/model_quantized.onnx';
  return `onnx/model_${dtype}.onnx`;
}

/**
 * Checks that a model folder holds what transformers.js needs; throws a FewShotError naming the
 * first missing file. Returns the dtype to load ('fp32' or 'q8' when only the quantized file exists).
 */
export function checkModelFolder(dir: string, dtype?: HfOptions['dtype']): 'fp32' | NonNullable<HfOptions['dtype']> {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new FewShotError(`Model folder not found: ${dir}`, {
      file: dir, code: 'hf-missing-folder',
      fix: 'Check the path in the encoder setting ("hf:<folder>"), or download the model (config.json, tokenizer.json, tokenizer_config.json, onnx/model.onnx) into that folder.',
    });
  }
  for (const f of HF_REQUIRED_FILES) {
    const p = join(dir, f);
    if (!existsSync(p)) {
      throw new FewShotError(`Model folder ${dir} is missing ${f}`, {
        file: p, code: 'hf-missing-file',
        fix: f === 'tokenizer_config.json'
          ? `Add ${f} from the model's hub page (transformers.js needs it to pick the tokenizer), e.g. {"tokenizer_class": "BertTokenizer"}.`
          : `Copy ${f} from the model's hub page into ${dir}.`,
      });
    }
  }
  let chosen = dtype;
  if (!chosen) chosen = existsSync(join(dir, onnxFile('fp32'))) || !existsSync(join(dir, onnxFile('q8'))) ? 'fp32' : 'q8';
  const model = join(dir, onnxFile(chosen));
  if (!existsSync(model)) {
    throw new FewShotError(`Model folder ${dir} is missing ${onnxFile(chosen)}`, {
      file: model, code: 'hf-missing-file',
      fix: chosen === 'q8'
        ? `Put the quantized ONNX export at ${onnxFile('q8')}, or use the full-precision model (dtype fp32, ${onnxFile('fp32')}).`
        : `Put the ONNX export of the model at ${onnxFile('fp32')} (for example from the model's "onnx" folder on the hub, or export it with optimum), or use ${onnxFile('q8')} with dtype q8.`,
    });
  }
  return chosen;
}

/** Where a hub id would be cached by transformers.js (FileCache: `<cacheDir>/<id>/<file>`). */
export function hubCacheFolder(id: string, cacheDir: string): string {
  return join(cacheDir, ...id.split('/'));
}

/** Whether a hub model id (or local folder) can be loaded without the network. */
export function hfModelAvailable(ref: string, hf: HfOptions = {}): boolean {
  try {
    if (isLocalModelRef(ref)) checkModelFolder(resolve(ref), hf.dtype);
    else if (hf.cacheDir) checkModelFolder(hubCacheFolder(ref, hf.cacheDir), hf.dtype);
    else return false;
    return true;
  } catch {
    return false;
  }
}

type Extractor = ((texts: string[], o: { pooling: 'mean'; normalize: boolean }) => Promise<{ data: Float32Array; dims: number[] }>) & { dispose?(): Promise<void> };

/** The embedding size a model folder declares in config.json (hidden_size and its aliases), or null. */
function declaredHiddenSize(dir: string): number | null {
  try {
    const c = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as Record<string, unknown>;
    for (const k of ['hidden_size', 'd_model', 'dim', 'n_embd', 'embed_dim']) {
      const v = c[k];
      if (typeof v === 'number' && Number.isInteger(v) && v > 0) return v;
    }
  } catch { /* unreadable: the loader reports it */ }
  return null;
}

/**
 * Creates a transformers.js encoder. The files are checked now (missing ones → FewShotError naming
 * them); the model itself is loaded by the first embed() with texts, unless its size cannot be read
 * from config.json (or it must be downloaded first): then it is loaded now.
 */
export async function createHfEncoder(ref: string, o: { hf?: HfOptions; maxChars?: number; log?: (m: string) => void; eager?: boolean; /** Encoder id to report instead of `hf:<ref>` (bundled models). */ id?: string } = {}): Promise<Encoder & { readonly loaded: boolean; preload(): Promise<void> }> {
  const hf = o.hf ?? {};
  const local = isLocalModelRef(ref);
  let modelRef = ref;
  let dtype: string | undefined = hf.dtype;
  let folder: string | undefined;
  if (local) {
    modelRef = resolve(ref.startsWith('~') ? ref.replace(/^~/, process.env.HOME ?? '~') : ref);
    dtype = checkModelFolder(modelRef, hf.dtype);
    folder = modelRef;
  } else {
    const cached = hf.cacheDir ? hubCacheFolder(ref, hf.cacheDir) : undefined;
    if (cached && existsSync(join(cached, 'config.json'))) {
      try {
        dtype = checkModelFolder(cached, hf.dtype);
        folder = cached;
      } catch (e) {
        if (!hf.allowRemote) throw e; // with downloads on, transformers.js fetches the missing files
      }
    } else if (!hf.allowRemote) {
      throw new FewShotError(`The Hugging Face model "${ref}" is not in the local cache${cached ? ` (${cached})` : ''} and downloads are off`, {
        file: cached, code: 'hf-not-cached',
        fix: 'Enable "fewshot.huggingface.allowRemoteModels" once to download it, set "fewshot.huggingface.cacheDir" to a folder that holds it, or use "hf:<local folder>".',
      });
    }
  }
  const maxChars = o.maxChars ?? DEFAULT_MAX_CHARS;
  const batchSize = hf.batchSize ?? 16;
  const id = o.id ?? `hf:${local ? modelRef : ref}${dtype && dtype !== 'fp32' ? `@${dtype}` : ''}`;
  const declared = folder ? declaredHiddenSize(folder) : null;

  let loading: Promise<{ extractor: Extractor; dim: number }> | null = null;
  const load = () => {
    if (!loading) {
      loading = loadExtractor(ref, modelRef, local, dtype, hf, o.log);
      loading.catch(() => { loading = null; });
    }
    return loading;
  };
  let dim = declared ?? 0;
  if (!declared || o.eager) {
    const r = await load();
    if (declared && r.dim !== declared) throw dimMismatch(ref, folder, declared, r.dim);
    dim = r.dim;
  }
  return {
    id,
    dim,
    maxChars,
    get loaded() { return loading !== null; },
    async preload() { await load(); },
    async embed(texts, onProgress) {
      const out: Float32Array[] = [];
      if (texts.length === 0) {
        onProgress?.(0, 0);
        return out;
      }
      const { extractor, dim: got } = await load();
      if (got !== dim) throw dimMismatch(ref, folder, dim, got);
      for (let i = 0; i < texts.length; i += batchSize) {
        const batch = texts.slice(i, i + batchSize).map((s) => truncate(s ?? '', maxChars));
        const r = await extractor(batch, { pooling: 'mean', normalize: true });
        for (let k = 0; k < batch.length; k++) out.push(l2normalize(r.data.slice(k * dim, (k + 1) * dim)));
        onProgress?.(out.length, texts.length);
        await yieldToLoop();
      }
      return out;
    },
    dispose() {
      const l = loading;
      loading = null;
      void l?.then((r) => r.extractor.dispose?.(), () => undefined);
    },
  };
}

function dimMismatch(ref: string, folder: string | undefined, declared: number, got: number): FewShotError {
  return new FewShotError(`The Hugging Face model "${ref}" declares ${declared}-d vectors in config.json but produces ${got}-d ones`, {
    file: folder ? join(folder, 'config.json') : undefined, code: 'hf-dim-mismatch',
    fix: 'Check that config.json belongs to the ONNX model in the same folder (hidden_size must match its output size).',
  });
}

async function loadExtractor(ref: string, modelRef: string, local: boolean, dtype: string | undefined, hf: HfOptions, log?: (m: string) => void): Promise<{ extractor: Extractor; dim: number }> {
  process.env.ORT_DISABLE_TELEMETRY = '1';
  // require (not import()): the bundles are CommonJS and find this package through NODE_PATH too
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const t = require('@huggingface/transformers') as typeof import('@huggingface/transformers');
  const env = t.env;
  env.allowRemoteModels = !!hf.allowRemote;
  env.allowLocalModels = true;
  if (hf.cacheDir) {
    env.cacheDir = hf.cacheDir;
    env.localModelPath = hf.cacheDir;
  }
  let extractor: Extractor;
  try {
    extractor = (await t.pipeline('feature-extraction', modelRef, {
      device: 'cpu',
      ...(dtype ? { dtype: dtype as 'fp32' } : {}),
      ...(hf.cacheDir ? { cache_dir: hf.cacheDir } : {}),
    })) as unknown as Extractor;
  } catch (e) {
    const msg = (e as Error).message ?? String(e);
    throw new FewShotError(`Could not load the Hugging Face model "${ref}": ${msg}`, {
      file: local ? modelRef : hf.cacheDir, code: 'hf-load',
      fix: hf.allowRemote
        ? 'Check the model id and your network connection, or download the model folder and use "hf:<folder>".'
        : 'Downloads are off: use "hf:<local folder>" with config.json, tokenizer.json, tokenizer_config.json and onnx/model.onnx, or enable "fewshot.huggingface.allowRemoteModels".',
    });
  }
  // Probe the output size once.
  const probe = await extractor(['a'], { pooling: 'mean', normalize: true });
  const dim = probe.dims[probe.dims.length - 1];
  log?.(`hf: loaded ${modelRef} (dtype ${dtype ?? 'default'}, ${dim}-d)`);
  return { extractor, dim };
}
