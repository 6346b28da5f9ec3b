/**
 * Plain-JS inference for a ModelFile: no tfjs, so prediction starts instantly.
 * Layouts (row-major, as stored): dense W[in][out], b[out]; centroid C[class][dim] + scale[1].
 */
import type { ModelFile } from '../../protocol/run';
import { softmaxInPlace } from '../metrics';

type W = ModelFile['weights'][number];

function weight(model: { weights: W[]; head?: string }, name: string): W {
  const w = model.weights.find((x) => x.name === name);
  if (!w) throw new Error(`model file has no weight '${name}' (head ${model.head ?? 'logreg member'})`);
  return w;
}

/** Prepared, typed-array form of a model for repeated use. */
export interface CompiledHead {
  predict(x: Float32Array): Float64Array;
  nClasses: number;
  dim: number;
}

/** y[out] = act(x[in] · W[in][out] + b). Skips zero inputs (hashing vectors are sparse). */
function dense(x: Float64Array | Float32Array, Wv: Float32Array, b: Float32Array, nIn: number, nOut: number, relu: boolean): Float64Array {
  const y = new Float64Array(nOut);
  for (let j = 0; j < nOut; j++) y[j] = b[j];
  for (let i = 0; i < nIn; i++) {
    const xi = x[i];
    if (xi === 0) continue;
    const off = i * nOut;
    for (let j = 0; j < nOut; j++) y[j] += xi * Wv[off + j];
  }
  if (relu) for (let j = 0; j < nOut; j++) if (y[j] < 0) y[j] = 0;
  return y;
}

/** The input transform of a model part: normalisation, then per-block L2 rescaling. */
function preparer(norm: ModelFile['normalisation'], blocks: ModelFile['blockNorm']): (x: Float32Array) => Float32Array | Float64Array {
  const mean = norm ? Float32Array.from(norm.mean) : null;
  const invStd = norm ? Float32Array.from(norm.std, (s) => (s > 0 ? 1 / s : 1)) : null;
  return (x) => {
    if ((!mean || !invStd) && !blocks) return x;
    const o = new Float64Array(x.length);
    if (mean && invStd) for (let i = 0; i < x.length; i++) o[i] = (x[i] - mean[i]) * invStd[i];
    else o.set(x);
    // few-shot recipe: each block rescaled to L2 norm `weight` (src/core/fewshot)
    if (blocks) for (const b of blocks) {
      let s = 0;
      for (let i = b.start; i < b.end; i++) s += o[i] * o[i];
      const f = s > 0 ? b.weight / Math.sqrt(s) : 0;
      for (let i = b.start; i < b.end; i++) o[i] *= f;
    }
    return o;
  };
}

export function compileHead(model: ModelFile): CompiledHead {
  const prep = preparer(model.normalisation, model.blockNorm);
  if (model.head === 'centroid') {
    const C = weight(model, 'centroids');
    const scale = model.weights.find((w) => w.name === 'scale')?.values[0] ?? 20;
    const [k, d] = C.shape;
    const cv = Float32Array.from(C.values);
    return {
      nClasses: k, dim: d,
      predict(x) {
        const v = prep(x);
        let n = 0;
        for (let i = 0; i < d; i++) n += v[i] * v[i];
        const inv = n > 0 ? 1 / Math.sqrt(n) : 0;
        const z = new Float64Array(k);
        for (let c = 0; c < k; c++) {
          let s = 0;
          const off = c * d;
          for (let i = 0; i < d; i++) s += v[i] * cv[off + i];
          z[c] = scale * s * inv;
        }
        return softmaxInPlace(z);
      },
    };
  }
  const layers: { W: Float32Array; b: Float32Array; nIn: number; nOut: number }[] = [];
  const names = model.head === 'mlp' ? [['W1', 'b1'], ['W2', 'b2']] : [['W', 'b']];
  for (const [wn, bn] of names) {
    const w = weight(model, wn);
    layers.push({ W: Float32Array.from(w.values), b: Float32Array.from(weight(model, bn).values), nIn: w.shape[0], nOut: w.shape[1] });
  }
  if (model.head === 'logreg' && model.members?.length) {
    // configuration ensemble: the logits are the sum over the parts, each with its own transform
    const parts = [{ prep, W: layers[0].W, b: layers[0].b }, ...model.members.map((m) => {
      return { prep: preparer(m.normalisation, m.blockNorm), W: Float32Array.from(weight(m, 'W').values), b: Float32Array.from(weight(m, 'b').values) };
    })];
    const { nIn, nOut } = layers[0];
    for (const p of parts) if (p.W.length !== nIn * nOut || p.b.length !== nOut) throw new Error('model file: an ensemble member has weights of another shape');
    return {
      nClasses: nOut, dim: nIn,
      predict(x) {
        const z = new Float64Array(nOut);
        for (const p of parts) {
          const y = dense(p.prep(x), p.W, p.b, nIn, nOut, false);
          for (let j = 0; j < nOut; j++) z[j] += y[j];
        }
        return softmaxInPlace(z);
      },
    };
  }
  return {
    nClasses: layers[layers.length - 1].nOut, dim: layers[0].nIn,
    predict(x) {
      let h: Float32Array | Float64Array = prep(x);
      for (let l = 0; l < layers.length; l++) {
        const L = layers[l];
        h = dense(h, L.W, L.b, L.nIn, L.nOut, l < layers.length - 1);
      }
      return softmaxInPlace(h as Float64Array);
    },
  };
}

const compiledCache = new WeakMap<ModelFile, CompiledHead>();

/** Class probabilities (rows follow model.labels), computed in plain JS. */
export async function predictProba(model: ModelFile, x: Float32Array[]): Promise<number[][]> {
  return predictProbaSync(model, x);
}

export function predictProbaSync(model: ModelFile, x: Float32Array[]): number[][] {
  let c = compiledCache.get(model);
  if (!c) { c = compileHead(model); compiledCache.set(model, c); }
  const out: number[][] = [];
  for (const v of x) {
    if (v.length !== c.dim) throw new Error(`vector has ${v.length} dims but the head expects ${c.dim} (was the model trained with another encoder?)`);
    out.push(Array.from(c.predict(v)));
  }
  return out;
}
