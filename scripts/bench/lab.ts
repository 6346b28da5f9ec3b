/**
 * Recipe lab (development tool, not part of `npm run bench`): evaluates few-shot recipes on
 * the benchmark splits from cached embeddings, in kernel form (fast), next to scikit-learn-
 * equivalent LogisticRegression(C=1) baselines on the same features.
 *
 *   node out/bench/lab.js --data f.jsonl ... [--npm] [--k 8] [--seeds 5] [--variants a,b]
 */
import * as path from 'node:path';
import { brownGenres, chinesePoetry, Corpus, fixedTestSplit, jsonlCorpus, sampleK, spamAssassin } from './corpora';
import { createEncoder, createComboEncoder, withEmbeddingCache } from '../../src/core/encoders';
import { selectBackend } from '../../src/core/heads';
import { macroF1 } from '../../src/core/metrics';
import { fitIdf, transformRow, type BlockTransform } from '../../src/core/fewshot/features';
import { gram, type SparseRow } from '../../src/core/fewshot/linalg';
import { createCharGramEncoder } from '../../src/core/fewshot/chargram';
import { argmaxRows, fitFewShot, stratifiedFolds, type FewShotOptions } from '../../src/core/fewshot';
import { fitWithSelection } from '../../src/core/train';
import { DEFAULT_CONFIG } from '../../src/core/config';
import { predictProba } from '../../src/core/heads';
import type { TrainConfig } from '../../src/protocol/run';
import { fitKernelLogReg, kernelLogits, subKernel } from '../../src/core/fewshot/kernel';

/** scikit-learn TfidfVectorizer(analyzer='char_wb', ngram_range=(lo,hi), sublinear_tf=True) term counts, before IDF/L2. */
function charWb(text: string, lo = 1, hi = 3): Map<string, number> {
  const tf = new Map<string, number>();
  for (const w of text.toLowerCase().split(/\s+/).filter(Boolean)) {
    const s = ' ' + w + ' ';
    for (let n = lo; n <= hi; n++) {
      for (let i = 0; i + n <= s.length; i++) { const g = s.slice(i, i + n); tf.set(g, (tf.get(g) ?? 0) + 1); }
      if (s.length < n) break;
    }
  }
  return tf;
}

function tfidfRows(train: string[], test: string[], useIdf: boolean, lo = 1, hi = 3): { a: SparseRow[]; b: SparseRow[]; dim: number } {
  const vocab = new Map<string, number>();
  const trTf = train.map((t) => charWb(t, lo, hi));
  for (const m of trTf) for (const g of m.keys()) if (!vocab.has(g)) vocab.set(g, vocab.size);
  const df = new Float64Array(vocab.size);
  for (const m of trTf) for (const g of m.keys()) df[vocab.get(g)!]++;
  const idf = Array.from(df, (d) => (useIdf ? Math.log((1 + train.length) / (1 + d)) + 1 : 1));
  const row = (m: Map<string, number>): SparseRow => {
    const e = [...m].filter(([g]) => vocab.has(g)).map(([g, c]) => [vocab.get(g)!, (1 + Math.log(c)) * idf[vocab.get(g)!]] as const).sort((x, y) => x[0] - y[0]);
    const nrm = Math.hypot(...e.map((x) => x[1])) || 1;
    return { idx: Int32Array.from(e.map((x) => x[0])), val: Float64Array.from(e.map((x) => x[1] / nrm)) };
  };
  return { a: trTf.map(row), b: test.map((t) => row(charWb(t, lo, hi))), dim: vocab.size };
}

const BENCH_CACHE = path.join(process.cwd(), '.cache', 'bench', 'embeddings');

type KType = 'raw' | 'idf' | 'idfs' | 'idfv' | 'rawv' | 'idfh'; // raw; idf+renorm; idf without renorm (scaled back to mean unit norm)
interface Variant { name: string; parts: { block: number; type: KType; w: number }[]; C: number | 'cv'; grid?: number[]; nc?: number; cvBy?: 'f1' | 'loss' }

function ncScores(Kx: Float64Array, m: number, K: Float64Array, n: number, y: number[], k: number): Float64Array {
  const norms = new Float64Array(k);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) if (y[i] === y[j]) norms[y[i]] += K[i * n + j];
  const Z = new Float64Array(m * k);
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) Z[i * k + y[j]] += Kx[i * n + j];
  for (let i = 0; i < m; i++) for (let c = 0; c < k; c++) Z[i * k + c] /= Math.sqrt(norms[c]) || 1;
  return Z;
}

function softmax(Z: Float64Array, m: number, k: number, t = 1): Float64Array {
  const P = new Float64Array(m * k);
  for (let i = 0; i < m; i++) {
    let mx = -Infinity;
    for (let c = 0; c < k; c++) mx = Math.max(mx, t * Z[i * k + c]);
    let s = 0;
    for (let c = 0; c < k; c++) { P[i * k + c] = Math.exp(t * Z[i * k + c] - mx); s += P[i * k + c]; }
    for (let c = 0; c < k; c++) P[i * k + c] /= s;
  }
  return P;
}

function predictVariant(v: Variant, K: Float64Array, n: number, Kx: Float64Array, m: number, y: number[], k: number): { pred: number[]; C: number } {
  let C = typeof v.C === 'number' ? v.C : 1;
  if (v.C === 'cv') {
    const grid = v.grid ?? [0.1, 1, 10, 100];
    const minCount = Math.min(...Array.from({ length: k }, (_, c) => y.filter((t) => t === c).length));
    const nf = Math.min(4, minCount);
    const folds = stratifiedFolds(y, k, nf);
    let best = -Infinity;
    for (const c of grid) {
      let score = 0;
      for (const val of folds) {
        const tr = y.map((_, i) => i).filter((i) => !val.includes(i));
        const f = fitKernelLogReg(subKernel(K, n, tr, tr), tr.length, tr.map((i) => y[i]), k, { C: c });
        const Z = kernelLogits(subKernel(K, n, val, tr), val.length, tr.length, f.A, f.b, k);
        if (v.cvBy === 'loss') {
          const P = softmax(Z, val.length, k);
          val.forEach((i, j) => { score += Math.log(Math.max(1e-12, P[j * k + y[i]])); });
        } else score += macroF1(val.map((i) => y[i]), argmaxRows(Z, val.length, k), k);
      }
      if (score > best + 1e-9) { best = score; C = c; }
    }
  }
  const counts = Array.from({ length: k }, (_, c) => y.filter((t) => t === c).length);
  const sw = v.name.startsWith('skLR') ? undefined : y.map((c) => n / (k * counts[c]));
  const f = fitKernelLogReg(K, n, y, k, { C, sampleWeights: sw });
  let Z = kernelLogits(Kx, m, n, f.A, f.b, k);
  if (v.nc) {
    const P1 = softmax(Z, m, k);
    const P2 = softmax(ncScores(Kx, m, K, n, y, k), m, k, 20);
    Z = new Float64Array(m * k);
    for (let i = 0; i < Z.length; i++) Z[i] = (1 - v.nc) * P1[i] + v.nc * P2[i];
  }
  return { pred: argmaxRows(Z, m, k), C };
}

async function main() {
  const argv = process.argv.slice(2);
  const data: string[] = [];
  let k8 = 8, seeds = 5, npm = false, only: string[] | null = null;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--data') data.push(argv[++i]);
    else if (argv[i] === '--k') k8 = Number(argv[++i]);
    else if (argv[i] === '--seeds') seeds = Number(argv[++i]);
    else if (argv[i] === '--npm') npm = true;
    else if (argv[i] === '--variants') only = argv[++i].split(',');
  }
  await selectBackend('auto');
  const corpora: Corpus[] = [];
  if (npm) for (const c of (process.env.QUICK ? [spamAssassin(120), brownGenres(60), chinesePoetry(80)] : [spamAssassin(300), brownGenres(120), chinesePoetry(200)])) if (c) corpora.push({ ...c, name: c.name + '(pkg)' });
  for (const f of data) corpora.push(jsonlCorpus(f));
  const { encoder: hashing } = await createEncoder(process.env.HD ? 'hashing:' + process.env.HD : 'hashing', {});
  const cgOpt = (process.env.CG ?? '1,3,16384').split(',').map(Number);
  const cg = createCharGramEncoder({ minN: cgOpt[0], maxN: cgOpt[1], dim: cgOpt[2] });
  let combo: ReturnType<typeof withEmbeddingCache> | null = null;
  const s2 = Math.SQRT1_2;
  const variants: Variant[] = [
    { name: 'skLR-use', parts: [{ block: 0, type: 'raw', w: 1 }], C: 1 },
    { name: 'skLR-hash', parts: [{ block: 1, type: 'raw', w: 1 }], C: 1 },
    { name: 'skLR-combo', parts: [{ block: 0, type: 'raw', w: s2 }, { block: 1, type: 'raw', w: s2 }], C: 1 },
    { name: 'combo-C10', parts: [{ block: 0, type: 'raw', w: s2 }, { block: 1, type: 'raw', w: s2 }], C: 10 },
    { name: 'combo-cv', parts: [{ block: 0, type: 'raw', w: s2 }, { block: 1, type: 'raw', w: s2 }], C: 'cv' },
    { name: 'hashidf-C1', parts: [{ block: 1, type: 'idf', w: 1 }], C: 1 },
    { name: 'hashidf-C10', parts: [{ block: 1, type: 'idf', w: 1 }], C: 10 },
    { name: 'hashidf-C100', parts: [{ block: 1, type: 'idf', w: 1 }], C: 100 },
    { name: 'hashidfs-C10', parts: [{ block: 1, type: 'idfs', w: 1 }], C: 10 },
    { name: 'skLR-tfidf', parts: [{ block: 2, type: 'idf', w: 1 }], C: 1 },
    { name: 'tfidf-C10', parts: [{ block: 2, type: 'idf', w: 1 }], C: 10 },
    { name: 'tfidf+hashidf-C10', parts: [{ block: 2, type: 'idf', w: s2 }, { block: 1, type: 'idf', w: s2 }], C: 10 },
    { name: 'use+tfidf-C10', parts: [{ block: 0, type: 'raw', w: s2 }, { block: 2, type: 'idf', w: s2 }], C: 10 },
    { name: 'use+tfidf+hash-C10', parts: [{ block: 0, type: 'raw', w: 0.6 }, { block: 2, type: 'idf', w: 0.566 }, { block: 1, type: 'idf', w: 0.566 }], C: 10 },
    { name: 'cg-raw-C1', parts: [{ block: 3, type: 'raw', w: 1 }], C: 1 },
    { name: 'cgidf-C1', parts: [{ block: 3, type: 'idf', w: 1 }], C: 1 },
    { name: 'cgidf-C10', parts: [{ block: 3, type: 'idf', w: 1 }], C: 10 },
    { name: 'cgidf-C100', parts: [{ block: 3, type: 'idf', w: 1 }], C: 100 },
    { name: 'cgidf-cv', parts: [{ block: 3, type: 'idf', w: 1 }], C: 'cv' },
    { name: 'cgidf+hashidf-C10', parts: [{ block: 3, type: 'idf', w: s2 }, { block: 1, type: 'idf', w: s2 }], C: 10 },
    { name: 'use+cgidf-C10', parts: [{ block: 0, type: 'raw', w: s2 }, { block: 3, type: 'idf', w: s2 }], C: 10 },
    { name: 'use+cgidf-cv', parts: [{ block: 0, type: 'raw', w: s2 }, { block: 3, type: 'idf', w: s2 }], C: 'cv' },
    { name: 'use+cgidf+hashidf-C10', parts: [{ block: 0, type: 'raw', w: 0.6 }, { block: 3, type: 'idf', w: 0.566 }, { block: 1, type: 'idf', w: 0.566 }], C: 10 },
    { name: 'cgrawv-C1', parts: [{ block: 3, type: 'rawv', w: 1 }], C: 1 },
    { name: 'cgidfv-C1', parts: [{ block: 3, type: 'idfv', w: 1 }], C: 1 },
    { name: 'cgidfv-C10', parts: [{ block: 3, type: 'idfv', w: 1 }], C: 10 },
    { name: 'hashidfv-C1', parts: [{ block: 1, type: 'idfv', w: 1 }], C: 1 },
    { name: 'hashidfv-C10', parts: [{ block: 1, type: 'idfv', w: 1 }], C: 10 },
    { name: 'comboidfv-C10', parts: [{ block: 0, type: 'raw', w: s2 }, { block: 1, type: 'idfv', w: s2 }], C: 10 },
    { name: 'comboidfv-C1', parts: [{ block: 0, type: 'raw', w: s2 }, { block: 1, type: 'idfv', w: s2 }], C: 1 },
    { name: 'use+cgidfv-C10', parts: [{ block: 0, type: 'raw', w: s2 }, { block: 3, type: 'idfv', w: s2 }], C: 10 },
    { name: 'comboidfs-C10', parts: [{ block: 0, type: 'raw', w: s2 }, { block: 1, type: 'idfs', w: s2 }], C: 10 },
    { name: 'comboidfv-cv', parts: [{ block: 0, type: 'raw', w: s2 }, { block: 1, type: 'idfv', w: s2 }], C: 'cv' },
    { name: 'use+cgidfv-C1', parts: [{ block: 0, type: 'raw', w: s2 }, { block: 3, type: 'idfv', w: s2 }], C: 1 },
    { name: 'use+cgidfv-C100', parts: [{ block: 0, type: 'raw', w: s2 }, { block: 3, type: 'idfv', w: s2 }], C: 100 },
    { name: 'use+cgidfv-cv', parts: [{ block: 0, type: 'raw', w: s2 }, { block: 3, type: 'idfv', w: s2 }], C: 'cv' },
    { name: 'use+cgidfv+hashidfv-C10', parts: [{ block: 0, type: 'raw', w: 0.6 }, { block: 3, type: 'idfv', w: 0.566 }, { block: 1, type: 'idfv', w: 0.566 }], C: 10 },
    { name: 'use.5+cgidfv-C10', parts: [{ block: 0, type: 'raw', w: 0.5 }, { block: 3, type: 'idfv', w: 0.866 }], C: 10 },
    { name: 'use.8+cgidfv-C10', parts: [{ block: 0, type: 'raw', w: 0.8 }, { block: 3, type: 'idfv', w: 0.6 }], C: 10 },
    { name: 'hash-C10', parts: [{ block: 1, type: 'raw', w: 1 }], C: 10 },
    { name: 'hash-C100', parts: [{ block: 1, type: 'raw', w: 1 }], C: 100 },
    { name: 'hashrawv-C10', parts: [{ block: 1, type: 'rawv', w: 1 }], C: 10 },
    { name: 'hashidfv-C10-nc.5', parts: [{ block: 1, type: 'idfv', w: 1 }], C: 10, nc: 0.5 },
    { name: 'hashidfv-C100', parts: [{ block: 1, type: 'idfv', w: 1 }], C: 100 },
    { name: 'comboidfv-C10-nc.5', parts: [{ block: 0, type: 'raw', w: s2 }, { block: 1, type: 'idfv', w: s2 }], C: 10, nc: 0.5 },
    { name: 'comboidfv-C100', parts: [{ block: 0, type: 'raw', w: s2 }, { block: 1, type: 'idfv', w: s2 }], C: 100 },
    { name: 'comborawv-C10', parts: [{ block: 0, type: 'raw', w: s2 }, { block: 1, type: 'rawv', w: s2 }], C: 10 },
    { name: 'combo-C10', parts: [{ block: 0, type: 'raw', w: s2 }, { block: 1, type: 'raw', w: s2 }], C: 10 },
    { name: 'cg-raw-C10', parts: [{ block: 3, type: 'raw', w: 1 }], C: 10 },
    { name: 'use+cgraw-C10', parts: [{ block: 0, type: 'raw', w: s2 }, { block: 3, type: 'raw', w: s2 }], C: 10 },
    { name: 'use+cgraw-C1', parts: [{ block: 0, type: 'raw', w: s2 }, { block: 3, type: 'raw', w: s2 }], C: 1 },
    { name: 'cgidfh-C10', parts: [{ block: 3, type: 'idfh', w: 1 }], C: 10 },
    { name: 'cgidfh-C1', parts: [{ block: 3, type: 'idfh', w: 1 }], C: 1 },
    { name: 'cgrawv-C10', parts: [{ block: 3, type: 'rawv', w: 1 }], C: 10 },
    { name: 'comboidfh-C10', parts: [{ block: 0, type: 'raw', w: s2 }, { block: 1, type: 'idfh', w: s2 }], C: 10 },
    { name: 'comboidf-C1', parts: [{ block: 0, type: 'raw', w: s2 }, { block: 1, type: 'idf', w: s2 }], C: 1 },
    { name: 'comboidf-C10', parts: [{ block: 0, type: 'raw', w: s2 }, { block: 1, type: 'idf', w: s2 }], C: 10 },
    { name: 'comboidf-C100', parts: [{ block: 0, type: 'raw', w: s2 }, { block: 1, type: 'idf', w: s2 }], C: 100 },
    { name: 'comboidf-cv', parts: [{ block: 0, type: 'raw', w: s2 }, { block: 1, type: 'idf', w: s2 }], C: 'cv' },
    { name: 'comboidf-cvloss', parts: [{ block: 0, type: 'raw', w: s2 }, { block: 1, type: 'idf', w: s2 }], C: 'cv', cvBy: 'loss' },
    { name: 'comboidf.5-C10', parts: [{ block: 0, type: 'raw', w: 0.5 }, { block: 1, type: 'idf', w: Math.sqrt(0.75) }], C: 10 },
    { name: 'comboidf.8-C10', parts: [{ block: 0, type: 'raw', w: 0.8 }, { block: 1, type: 'idf', w: 0.6 }], C: 10 },
    { name: 'comboidf-C10-nc.5', parts: [{ block: 0, type: 'raw', w: s2 }, { block: 1, type: 'idf', w: s2 }], C: 10, nc: 0.5 },
  ].filter((v) => !only || only.includes(v.name)) as Variant[];

  const summary: Record<string, Record<string, number[]>> = {};
  for (const corpus of corpora) {
    if (process.env.ONLY && !corpus.name.includes(process.env.ONLY)) continue;
    const t0 = Date.now();
    const split = fixedTestSplit(corpus, 20, 0);
    const labels = [...new Set(corpus.items.map((i) => i.label))].sort();
    const k = labels.length;
    const en = corpus.language === 'en';
    if (en && !combo) {
      const { encoder: use } = await createEncoder('use', { language: 'en' });
      combo = withEmbeddingCache(createComboEncoder([{ encoder: withEmbeddingCache(use, BENCH_CACHE), weight: 1 }, { encoder: hashing, weight: 1 }]), BENCH_CACHE);
    }
    const embed = async (texts: string[]): Promise<Float32Array[][]> => {
      const c = await cg.embed(texts);
      if (en) {
        const v = await combo!.embed(texts);
        return v.map((x, i) => [x.slice(0, 512).map((a) => a / s2), x.slice(512).map((a) => a / s2), new Float32Array(0), c[i]]);
      }
      const h = await hashing.embed(texts);
      return h.map((x, i) => [new Float32Array(512), x, new Float32Array(0), c[i]]);
    };
    const testV = await embed(split.test.map((i) => i.text));
    const yTest = split.test.map((i) => labels.indexOf(i.label));
    const res: Record<string, number[]> = {};
    const Cs: Record<string, number[]> = {};
    for (let seed = 0; seed < seeds; seed++) {
      const train = sampleK(split.pool, k8, seed);
      const y = train.map((i) => labels.indexOf(i.label));
      const trV = await embed(train.map((i) => i.text));
      const n = train.length, m = split.test.length;
      // kernels per block & type
      const kern = new Map<string, [Float64Array, Float64Array]>();
      const getK = (block: number, type: KType): [Float64Array, Float64Array] => {
        const key = `${block}:${type}`;
        if (kern.has(key)) return kern.get(key)!;
        if (block === 2) {
          const r = tfidfRows(train.map((i) => i.text), split.test.map((i) => i.text), type !== 'raw');
          const out: [Float64Array, Float64Array] = [gram(r.a, r.a, r.dim), gram(r.b, r.a, r.dim)];
          kern.set(key, out);
          return out;
        }
        const dim = trV[0][block].length;
        const blk = { start: 0, end: dim };
        const tr32 = trV.map((r) => r[block]);
        const te32 = testV.map((r) => r[block]);
        let idf = type === 'raw' ? null : fitIdf(tr32, blk);
        if (type === 'idfv' || type === 'rawv' || type === 'idfh') {
          const mx = Math.log(1 + tr32.length) + 1;
          idf = idf!.map((v) => (v >= mx - 1e-9 ? 0 : type === 'rawv' ? 1 : type === 'idfh' ? Math.sqrt(v) : v));
        }
        const t: BlockTransform = { ...blk, idf, weight: 1, renorm: type === 'idf' || type === 'idfv' || type === 'rawv' || type === 'idfh' };
        const a: SparseRow[] = tr32.map((v) => transformRow(v, [t])[0]);
        const b: SparseRow[] = te32.map((v) => transformRow(v, [t])[0]);
        if (type === 'idfs') {
          // scale so the mean training row norm is 1
          const mn = a.reduce((s, r) => s + Math.hypot(...r.val), 0) / a.length || 1;
          for (const r of [...a, ...b]) for (let p = 0; p < r.val.length; p++) r.val[p] /= mn;
        }
        const res2: [Float64Array, Float64Array] = [gram(a, a, dim), gram(b, a, dim)];
        kern.set(key, res2);
        return res2;
      };
      const fsVariants: [string, Partial<FewShotOptions>][] = [
        ['FS-default', {}],
        ['FS-idf-wcv', { idf: true }],
        ['FS-idfcv-eq', { blockWeights: en ? [s2, s2] : [1] }],
        ['FS-idf-eq', { idf: true, blockWeights: en ? [s2, s2] : [1] }],
        ['FS-C1', { C: 1 }],
        ['FS-noES', { cvCurve: false }],
      ];
      for (const [name, o] of fsVariants) {
        if (only && !only.includes(name)) continue;
        const prod = (r: Float32Array[]) => (en ? Float32Array.from([...r[0]].map((a) => a * s2).concat([...r[1]].map((a) => a * s2))) : (process.env.FSZH === 'hash' ? r[1] : r[3]));
        const counts = labels.map((_, c) => y.filter((t) => t === c).length);
        const res2 = await fitFewShot(trV.map(prod), y, { labels, blocks: en ? [{ start: 0, end: 512 }, { start: 512, end: 512 + trV[0][1].length }] : undefined, classWeights: counts.map((c) => n / (k * c)), ...o });
        const P = res2.predict(testV.map(prod));
        (res[name] ??= []).push(macroF1(yTest, P.map((p) => p.indexOf(Math.max(...p))), k));
        (Cs[name] ??= []).push((res2.blockWeights[0] ** 2) * 100 + (res2.idf ? 1000 : 0));
      }
      if (!only || only.includes('OLD')) {
        // the pre-existing default head (tfjs logreg via fitWithSelection) on the old 'auto' features
        const prodOld = (r: Float32Array[]) => (en ? Float32Array.from([...r[0]].map((a) => a * s2).concat([...r[1]].map((a) => a * s2))) : r[1]);
        const cfg = { ...DEFAULT_CONFIG, dataset: 'x', seed } as TrainConfig;
        const fitted = await fitWithSelection(trV.map(prodOld), trV.map(() => []), y, labels, cfg, 'logreg', { warn: () => {}, progress: () => {} });
        const P = await predictProba({ ...fitted.model, labels }, testV.map(prodOld));
        (res.OLD ??= []).push(macroF1(yTest, P.map((p) => p.indexOf(Math.max(...p))), k));
      }
      for (const v of variants) {
        if (!en && v.parts.some((p) => p.block === 0)) continue;
        const K = new Float64Array(n * n);
        const Kx = new Float64Array(m * n);
        for (const p of v.parts) {
          const [a, b] = getK(p.block, p.type);
          for (let i = 0; i < K.length; i++) K[i] += p.w * p.w * a[i];
          for (let i = 0; i < Kx.length; i++) Kx[i] += p.w * p.w * b[i];
        }
        const { pred, C } = predictVariant(v, K, n, Kx, m, y, k);
        (res[v.name] ??= []).push(macroF1(yTest, pred, k));
        (Cs[v.name] ??= []).push(C);
      }
    }
    summary[corpus.name] = res;
    const mean = (x: number[]) => x.reduce((a, b) => a + b, 0) / x.length;
    const sd = (x: number[]) => Math.sqrt(mean(x.map((a) => (a - mean(x)) ** 2)));
    console.log(`\n== ${corpus.name} (${k} classes, test ${split.test.length}) ${((Date.now() - t0) / 1000).toFixed(0)} s`);
    for (const [name, xs] of Object.entries(res)) console.log(`  ${name.padEnd(20)} ${mean(xs).toFixed(3)}±${sd(xs).toFixed(3)}${variants.find((v) => v.name === name)?.C === 'cv' || name.startsWith('FS') ? `  C=${Cs[name].map((c) => Math.round(c)).join(',')}` : ''}`);
  }
  console.log('\nJSON ' + JSON.stringify(summary));
}

main().catch((e) => { console.error(e); process.exit(1); });
