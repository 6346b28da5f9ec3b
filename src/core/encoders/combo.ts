/**
 * Concatenation of encoders: each part's vector is L2-normalised, scaled by its weight, and the
 * whole vector is divided by sqrt(sum of squared weights) so it is unit length again.
 */
import type { Encoder, SparseVec } from './types';

/** The non-zero entries of a dense vector. */
export function sparseOf(v: Float32Array): SparseVec {
  let nnz = 0;
  for (let i = 0; i < v.length; i++) if (v[i] !== 0) nnz++;
  const idx = new Int32Array(nnz);
  const val = new Float32Array(nnz);
  for (let i = 0, p = 0; i < v.length; i++) if (v[i] !== 0) { idx[p] = i; val[p++] = v[i]; }
  return { dim: v.length, idx, val };
}

export function createComboEncoder(parts: { encoder: Encoder; weight: number }[]): Encoder {
  if (parts.length < 2) throw new RangeError('combo needs at least two encoders');
  const dim = parts.reduce((s, p) => s + p.encoder.dim, 0);
  const norm = Math.sqrt(parts.reduce((s, p) => s + p.weight * p.weight, 0)) || 1;
  const id = 'combo:' + parts.map((p) => (p.weight === 1 ? p.encoder.id : `${p.encoder.id}*${p.weight}`)).join('+');
  return {
    id,
    dim,
    parts,
    maxChars: Math.max(...parts.map((p) => p.encoder.maxChars)),
    cacheable: parts.some((p) => p.encoder.cacheable !== false),
    async embed(texts, onProgress) {
      const results: Float32Array[][] = [];
      for (let k = 0; k < parts.length; k++) {
        results.push(await parts[k].encoder.embed(texts, (d, t) => onProgress?.(Math.round(((k + d / Math.max(1, t)) / parts.length) * texts.length), texts.length)));
      }
      const out = texts.map(() => new Float32Array(dim));
      for (let i = 0; i < texts.length; i++) {
        let off = 0;
        for (let k = 0; k < parts.length; k++) {
          const v = results[k][i];
          let s = 0;
          for (let j = 0; j < v.length; j++) s += v[j] * v[j];
          const scale = s > 0 ? parts[k].weight / Math.sqrt(s) / norm : 0;
          for (let j = 0; j < v.length; j++) out[i][off + j] = v[j] * scale;
          off += v.length;
        }
      }
      onProgress?.(texts.length, texts.length);
      return out;
    },
    // sparse rows when a part is sparse (feature hashing); dense parts are converted
    ...(parts.some((p) => p.encoder.embedSparse) ? {
      async embedSparse(texts: string[], onProgress?: (done: number, total: number) => void): Promise<SparseVec[]> {
        const results: SparseVec[][] = [];
        for (let k = 0; k < parts.length; k++) {
          const e = parts[k].encoder;
          const step = (d: number, t: number) => onProgress?.(Math.round(((k + d / Math.max(1, t)) / parts.length) * texts.length), texts.length);
          results.push(e.embedSparse ? await e.embedSparse(texts, step) : (await e.embed(texts, step)).map(sparseOf));
        }
        const out = texts.map((_, i) => {
          const nnz = results.reduce((s, r) => s + r[i].idx.length, 0);
          const idx = new Int32Array(nnz);
          const val = new Float32Array(nnz);
          let off = 0;
          let p = 0;
          for (let k = 0; k < parts.length; k++) {
            const v = results[k][i];
            let s = 0;
            for (let j = 0; j < v.val.length; j++) s += v.val[j] * v.val[j];
            const scale = s > 0 ? parts[k].weight / Math.sqrt(s) / norm : 0;
            for (let j = 0; j < v.val.length; j++) { idx[p] = off + v.idx[j]; val[p++] = v.val[j] * scale; }
            off += v.dim;
          }
          return { dim, idx, val };
        });
        onProgress?.(texts.length, texts.length);
        return out;
      },
    } : {}),
    async preload() {
      for (const p of parts) await p.encoder.preload?.();
    },
    dispose() {
      for (const p of parts) p.encoder.dispose?.();
    },
  };
}
