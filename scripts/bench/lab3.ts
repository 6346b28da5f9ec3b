/*
 * Recipe lab 3 (development tool, not part of `npm run bench`): the few-shot ensemble, CV
 * selection of its members, passages and class names as extra rows, in kernel form on cached
 * embeddings, next to scikit-learn-equivalent LR(C=1) baselines on the original training texts.
 *
 *   node out/bench/lab3.js --npm --data f.jsonl ... [--k 8] [--seeds 5]
 *   env: AUG=names,chunks  EW=<extra row weight>  CH_MIN/CH_MAX (passage size/count)  V=1 (per-config rows)
 */
import * as path from 'node:path';
import { brownGenres, chinesePoetry, Corpus, fixedTestSplit, jsonlCorpus, sampleK, spamAssassin } from './corpora';
import { createEncoder, withEmbeddingCache } from '../../src/core/encoders';
import { macroF1 } from '../../src/core/metrics';
import { transformRow } from '../../src/core/fewshot/features';
import { gram } from '../../src/core/fewshot/linalg';
import { createCharGramEncoder } from '../../src/core/fewshot/chargram';
import { argmaxRows, fitTransforms, stratifiedFolds } from '../../src/core/fewshot';
import { fitKernelLogReg, kernelLogits, softmaxRows, subKernel } from '../../src/core/fewshot/kernel';

function prettyLabel(l: string): string { return l.replace(/^[A-Z]_/, '').replace(/[_-]+/g, ' ').trim(); }
function chunks(t: string): string[] {
  const target = Math.min(Number(process.env.CH_MAX ?? 4), Math.floor(t.length / Number(process.env.CH_MIN ?? 250)));
  if (target < 2) return [];
  const sents = t.split(/(?<=[.!?。！？；;\n])\s*/).filter((x) => x.trim());
  const size = t.length / target;
  const out: string[] = [];
  let cur = '';
  for (const s of sents) { cur += (cur ? ' ' : '') + s; if (cur.length >= size) { out.push(cur); cur = ''; } }
  if (cur.trim()) { if (out.length && cur.length < size / 2) out[out.length - 1] += ' ' + cur; else out.push(cur); }
  return out.length >= 2 ? out : [];
}
const BENCH_CACHE = path.join(process.cwd(), '.cache', 'bench', 'embeddings');
const mean = (x: number[]) => x.reduce((a, b) => a + b, 0) / x.length;
const sd = (x: number[]) => Math.sqrt(mean(x.map((a) => (a - mean(x)) ** 2)));
const add = (ws: number[], Ks: Float64Array[]) => { const K = new Float64Array(Ks[0].length); ws.forEach((w, j) => { if (w) for (let i = 0; i < K.length; i++) K[i] += w * Ks[j][i]; }); return K; };

interface Cfg { name: string; w: number[]; idf: boolean; C: number }

async function main() {
  const argv = process.argv.slice(2);
  const data: string[] = [];
  let K8 = 8, seeds = 5, npm = false;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--data') data.push(argv[++i]);
    else if (argv[i] === '--k') K8 = Number(argv[++i]);
    else if (argv[i] === '--seeds') seeds = Number(argv[++i]);
    else if (argv[i] === '--npm') npm = true;
  }
  const corpora: Corpus[] = [];
  if (npm) for (const c of [spamAssassin(300), brownGenres(120), chinesePoetry(200)]) if (c) corpora.push({ ...c, name: c.name + '(pkg)' });
  for (const f of data) corpora.push(jsonlCorpus(f));
  const { encoder: hashing } = await createEncoder('hashing', {});
  const cg = createCharGramEncoder({ minN: 1, maxN: 3, dim: 65536 });
  const { encoder: use0 } = await createEncoder('use', { language: 'en' });
  const use = withEmbeddingCache(use0, BENCH_CACHE);
  const all: Record<string, Record<string, number>> = {};
  const ZH3 = process.env.ZH3 === '1';
  for (const corpus of corpora) {
    if (process.env.ONLY && !corpus.name.includes(process.env.ONLY)) continue;
    const t0 = Date.now();
    const split = fixedTestSplit(corpus, 20, 0);
    const labels = [...new Set(corpus.items.map((i) => i.label))].sort();
    const k = labels.length;
    const en = corpus.language === 'en';
    const embed = async (texts: string[]): Promise<Float32Array[][]> => {
      if (en) { const a = await use.embed(texts); const h = await hashing.embed(texts); return texts.map((_, i) => [a[i], h[i]]); }
      const c = await cg.embed(texts);
      if (ZH3) { const h = await hashing.embed(texts); return texts.map((_, i) => [c[i], h[i]]); }
      return texts.map((_, i) => [c[i]]);
    };
    const testV = await embed(split.test.map((i) => i.text));
    const yTest = split.test.map((i) => labels.indexOf(i.label));
    const m = yTest.length;
    const res: Record<string, number[]> = {};
    const put = (name: string, pred: number[]) => (res[name] ??= []).push(macroF1(yTest, pred, k));
    const nb = testV[0].length;
    const cat = (r: Float32Array[]) => { const v = new Float32Array(r.reduce((s, a) => s + a.length, 0)); let o = 0; for (const a of r) { v.set(a, o); o += a.length; } return v; };
    const blocks: { start: number; end: number }[] = [];
    { let o = 0; for (const a of testV[0]) { blocks.push({ start: o, end: o + a.length }); o += a.length; } }
    const eqW = blocks.map(() => 1 / blocks.length);
    const wCands: [string, number[]][] = nb === 1 ? [['', [1]]] : [['eq', eqW], ['a.75', [0.75, 0.25]], ['a.25', [0.25, 0.75]]];
    const cfgs: Cfg[] = [];
    for (const [wn, w] of wCands) for (const idf of [true, false]) for (const C of [1, 10, 100]) cfgs.push({ name: `${wn}${idf ? 'I' : 'R'}C${C}`, w, idf, C });
    for (let seed = 0; seed < seeds; seed++) {
      const train = sampleK(split.pool, K8, seed);
      const y = train.map((i) => labels.indexOf(i.label));
      const AUG = (process.env.AUG ?? '').split(',');
      const extraT: string[] = [], extraY: number[] = [];
      if (AUG.includes('names')) labels.forEach((l, c) => { extraT.push(prettyLabel(l)); extraY.push(c); });
      if (AUG.includes('chunks')) train.forEach((it, i) => { for (const ch of chunks(it.text)) { extraT.push(ch); extraY.push(y[i]); } });
      const nOrig = y.length;
      y.push(...extraY);
      const n = y.length;
      const trV = [...await embed(train.map((i) => i.text)), ...(extraT.length ? await embed(extraT) : [])];
      const counts = labels.map((_, c) => y.filter((t) => t === c).length);
      const EW = Number(process.env.EW ?? 1);
      const sw = y.map((c, i) => (n / (k * counts[c])) * (i < nOrig ? 1 : EW));
      const xTr = trV.map(cat), xTe = testV.map(cat);
      const kern: Record<string, { K: Float64Array[]; Kx: Float64Array[] }> = {};
      for (const idf of [true, false]) {
        const t = fitTransforms(xTr, blocks, { idf, blockWeights: blocks.map(() => 1) });
        const rt = xTr.map((v) => transformRow(v, t));
        const re = xTe.map((v) => transformRow(v, t));
        kern[String(idf)] = {
          K: t.map((b, j) => gram(rt.map((r) => r[j]), rt.map((r) => r[j]), b.end - b.start)),
          Kx: t.map((b, j) => gram(re.map((r) => r[j]), rt.map((r) => r[j]), b.end - b.start)),
        };
      }
      // sklearn-like baselines: raw features, C=1, no class weights
      const tr0 = blocks.map((b) => ({ ...b, idf: null, weight: 1, renorm: false }));
      const rr = xTr.map((v) => transformRow(v, tr0)), rre = xTe.map((v) => transformRow(v, tr0));
      const Kr = tr0.map((b, j) => gram(rr.map((r) => r[j]), rr.map((r) => r[j]), b.end - b.start));
      const Krx = tr0.map((b, j) => gram(rre.map((r) => r[j]), rr.map((r) => r[j]), b.end - b.start));
      const lrZ = (K: Float64Array, Kx: Float64Array, mm: number, yy: number[], C: number, w?: number[]) => { const f = fitKernelLogReg(K, yy.length, yy, k, { C, sampleWeights: w }); return kernelLogits(Kx, mm, yy.length, f.A, f.b, k); };
      const skn = en ? ['skLR-use', 'skLR-hash', 'skLR-combo'] : ZH3 ? ['skLR-cg', 'skLR-hash'] : ['skLR-cg'];
      // baselines see the original training texts only (no passages or class names)
      const orig = y.map((_, i) => i).filter((i) => i < nOrig);
      const subX = (Kx: Float64Array) => { const o = new Float64Array(m * nOrig); for (let i = 0; i < m; i++) for (let j = 0; j < nOrig; j++) o[i * nOrig + j] = Kx[i * n + j]; return o; };
      skn.forEach((nm, j) => {
        const K = j < nb ? Kr[j] : add([0.5, 0.5], Kr);
        const Kx = j < nb ? Krx[j] : add([0.5, 0.5], Krx);
        put(nm, argmaxRows(lrZ(subKernel(K, n, orig, orig), subX(Kx), m, y.slice(0, nOrig), 1), m, k));
      });
      // every config: test probabilities, and CV (4-fold stratified; IDF from all training rows) scores
      const folds = stratifiedFolds(y.slice(0, nOrig), k, Math.min(4, ...counts)).map((f) => f);
      const P: Record<string, Float64Array> = {};
      const cvF1: Record<string, number> = {};
      const cvLL: Record<string, number> = {};
      const oof: Record<string, Float64Array> = {};
      for (const c of cfgs) {
        const { K, Kx } = kern[String(c.idf)];
        const KK = add(c.w, K), KX = add(c.w, Kx);
        P[c.name] = softmaxRows(lrZ(KK, KX, m, y, c.C, sw), m, k);
        put(c.name, argmaxRows(P[c.name], m, k));
        let f1 = 0, ll = 0;
        const O = new Float64Array(n * k);
        for (const val of folds) {
          const inVal = new Set(val);
          const tr = y.map((_, i) => i).filter((i) => !inVal.has(i) && (process.env.CVX ? true : i < nOrig));
          const Z = lrZ(subKernel(KK, n, tr, tr), subKernel(KK, n, val, tr), val.length, tr.map((i) => y[i]), c.C, tr.map((i) => sw[i]));
          const Pv = softmaxRows(Z, val.length, k);
          val.forEach((r, j) => { ll -= Math.log(Math.max(1e-12, Pv[j * k + y[r]])); for (let q = 0; q < k; q++) O[r * k + q] = Pv[j * k + q]; });
          f1 += macroF1(val.map((i) => y[i]), argmaxRows(Z, val.length, k), k) / folds.length;
        }
        cvF1[c.name] = f1; cvLL[c.name] = ll / n; oof[c.name] = O;
      }
      const avg = (names: string[]) => { const Q = new Float64Array(m * k); for (const nm of names) P[nm].forEach((p, i) => { Q[i] += p; }); return Q; };
      const ens: Record<string, string[]> = {
        'ens-I+R C10': cfgs.filter((c) => c.C === 10 && c.w === wCands[0][1]).map((c) => c.name),
        'ens-all C10': cfgs.filter((c) => c.C === 10).map((c) => c.name),
        'ens-all': cfgs.map((c) => c.name),
        'ens-I C1,10,100': cfgs.filter((c) => c.idf && c.w === wCands[0][1]).map((c) => c.name),
      };
      for (const [nm, list] of Object.entries(ens)) put(nm, argmaxRows(avg(list), m, k));
      { const Q = new Float64Array(m * k); for (const c of cfgs) P[c.name].forEach((p, i) => { Q[i] += Math.log(Math.max(1e-300, p)); }); put('ens-all-geo', argmaxRows(Q, m, k)); }
      { const Q = new Float64Array(m * k); for (const c of cfgs.filter((c) => c.idf)) P[c.name].forEach((p, i) => { Q[i] += p; }); put('ens-allI', argmaxRows(Q, m, k)); }
      // CV selection by F1 (ties → log-loss) and by log-loss
      const byF1 = [...cfgs].sort((a, b) => cvF1[b.name] - cvF1[a.name] || cvLL[a.name] - cvLL[b.name])[0];
      const byLL = [...cfgs].sort((a, b) => cvLL[a.name] - cvLL[b.name])[0];
      put('sel-f1', argmaxRows(P[byF1.name], m, k));
      put('sel-ll', argmaxRows(P[byLL.name], m, k));
      const c10 = cfgs.filter((c) => c.C === 10);
      const byF1c10 = [...c10].sort((a, b) => cvF1[b.name] - cvF1[a.name] || cvLL[a.name] - cvLL[b.name])[0];
      put('sel-f1 C10', argmaxRows(P[byF1c10.name], m, k));
      // top-3 by CV log-loss averaged
      const top3 = [...cfgs].sort((a, b) => cvLL[a.name] - cvLL[b.name]).slice(0, 3).map((c) => c.name);
      put('top3-ll', argmaxRows(avg(top3), m, k));
      const top3f = [...cfgs].sort((a, b) => cvF1[b.name] - cvF1[a.name] || cvLL[a.name] - cvLL[b.name]).slice(0, 3).map((c) => c.name);
      put('top3-f1', argmaxRows(avg(top3f), m, k));
      // greedy ensemble selection (Caruana) on out-of-fold probabilities by log-loss, 10 rounds with replacement
      const chosen: string[] = [];
      const cur = new Float64Array(n * k);
      for (let r = 0; r < 10; r++) {
        let best = '', bl = Infinity;
        for (const c of cfgs) {
          let ll = 0;
          for (let i = 0; i < n; i++) ll -= Math.log(Math.max(1e-12, (cur[i * k + y[i]] + oof[c.name][i * k + y[i]]) / (r + 1)));
          if (ll < bl) { bl = ll; best = c.name; }
        }
        chosen.push(best);
        oof[best].forEach((p, i) => { cur[i] += p; });
      }
      put('caruana-ll', argmaxRows(avg(chosen), m, k));
    }
    const row: Record<string, number> = {};
    console.log(`\n== ${corpus.name} (${k} classes, test ${m}) ${((Date.now() - t0) / 1000).toFixed(0)} s`);
    for (const [nm, xs] of Object.entries(res)) { row[nm] = mean(xs); if (process.env.V) console.log(`  ${nm.padEnd(18)} ${mean(xs).toFixed(3)}±${sd(xs).toFixed(3)}`); }
    all[corpus.name] = row;
  }
  const names = Object.keys(Object.values(all)[0]).filter((x) => !x.startsWith('sk'));
  console.log('\n== gain over best skLR column (pts): mean / min   per corpus: ' + Object.keys(all).map((s) => s.slice(0, 8)).join(' '));
  const lines = names.map((nm) => {
    const g = Object.values(all).map((r) => ((r[nm] ?? NaN) - Math.max(...Object.entries(r).filter(([c]) => c.startsWith('skLR-')).map(([, v]) => v))) * 100);
    return { nm, mean: mean(g), s: `  ${nm.padEnd(18)} ${mean(g).toFixed(2).padStart(6)} / ${Math.min(...g).toFixed(1).padStart(5)}   ${g.map((v) => v.toFixed(1).padStart(5)).join(' ')}` };
  });
  for (const l of lines.sort((a, b) => b.mean - a.mean)) console.log(l.s);
}
main().catch((e) => { console.error(e); process.exit(1); });
