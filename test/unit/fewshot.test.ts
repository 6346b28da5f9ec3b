import * as assert from 'node:assert/strict';
import { fitFewShot, blocksFromEncoderId, createCharGramEncoder, chargramSpecOptions, CHARGRAM_MAX_CHARS, type FewShotPlan } from '../../src/core/fewshot';
import { createEncoder } from '../../src/core/encoders';
import { fitLogReg } from '../../src/core/fewshot/logreg';
import { fitKernelLogReg, kernelLogits } from '../../src/core/fewshot/kernel';
import { blockGram } from '../../src/core/fewshot';
import { transformRow } from '../../src/core/fewshot/features';
import { cholesky } from '../../src/core/fewshot/linalg';
import { predictProba } from '../../src/core/heads';
import { macroF1, softmaxRows } from '../../src/core/metrics';
import type { EpochMetrics } from '../../src/protocol/run';
import { mulberry32 } from '../../src/core/util/rng';

const rng = (seed: number) => mulberry32(seed);

function randn(r: () => number): number {
  return Math.sqrt(-2 * Math.log(r() + 1e-12)) * Math.cos(2 * Math.PI * r());
}

/** Dense blobs in `dim` dims; class c shifted along dim c. Rows are returned raw (not normalised). */
function blobs(nPerClass: number, k: number, dim: number, seed: number, shift = 1.5) {
  const r = rng(seed);
  const x: Float32Array[] = [];
  const y: number[] = [];
  for (let i = 0; i < nPerClass * k; i++) {
    const c = i % k;
    const v = new Float32Array(dim);
    for (let j = 0; j < dim; j++) v[j] = randn(r) + (j === c ? shift : 0);
    x.push(v);
    y.push(c);
  }
  return { x, y };
}

/** Softmax probabilities of the primal model X·W + b (n × k). */
function predictPrimal(X: Float64Array, n: number, d: number, W: Float64Array, b: Float64Array, k: number): Float64Array {
  const Z = new Float64Array(n * k);
  for (let i = 0; i < n; i++) for (let c = 0; c < k; c++) {
    let z = b[c];
    for (let j = 0; j < d; j++) z += X[i * d + j] * W[j * k + c];
    Z[i * k + c] = z;
  }
  return softmaxRows(Z, n, k);
}

function flat(x: Float32Array[]): Float64Array {
  const d = x[0].length;
  const out = new Float64Array(x.length * d);
  x.forEach((v, i) => out.set(v, i * d));
  return out;
}

describe('fewshot: L-BFGS logistic regression', () => {
  it('reaches a stationary point of the scikit-learn objective (gradient ≈ 0)', () => {
    const { x, y } = blobs(10, 3, 5, 1);
    const n = x.length, d = 5, k = 3, C = 2;
    const X = flat(x);
    const f = fitLogReg(X, n, d, y, k, { C, tol: 1e-9, maxIter: 2000 });
    assert.ok(f.converged, `not converged after ${f.iterations} iterations`);
    // gradient of ½‖W‖² + C Σ CE, computed independently here
    const P = predictPrimal(X, n, d, f.W, f.b, k);
    const gW = Float64Array.from(f.W);
    const gb = new Float64Array(k);
    for (let i = 0; i < n; i++) for (let c = 0; c < k; c++) {
      const r = C * (P[i * k + c] - (y[i] === c ? 1 : 0));
      gb[c] += r;
      for (let j = 0; j < d; j++) gW[j * k + c] += X[i * d + j] * r;
    }
    const maxG = Math.max(...gW.map(Math.abs), ...gb.map(Math.abs));
    assert.ok(maxG < 1e-5, `max |grad| = ${maxG}`);
    // a stronger penalty shrinks the weights
    const f2 = fitLogReg(X, n, d, y, k, { C: 0.01 });
    const norm = (w: Float64Array) => Math.sqrt(w.reduce((s, v) => s + v * v, 0));
    assert.ok(norm(f2.W) < norm(f.W) / 5, `${norm(f2.W)} vs ${norm(f.W)}`);
  });

  it('the kernel (Gram-matrix) fit gives the same logits as the primal fit when d > n', () => {
    const { x, y } = blobs(4, 3, 40, 2);
    const n = x.length, d = 40, k = 3, C = 5;
    const X = flat(x);
    const primal = fitLogReg(X, n, d, y, k, { C, tol: 1e-10, maxIter: 5000 });
    const K = new Float64Array(n * n);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) { let s = 0; for (let p = 0; p < d; p++) s += X[i * d + p] * X[j * d + p]; K[i * n + j] = s; }
    const kf = fitKernelLogReg(K, n, y, k, { C, tol: 1e-10, maxIter: 5000 });
    const test = blobs(3, 3, 40, 3);
    const Xt = flat(test.x);
    const m = test.x.length;
    const Kt = new Float64Array(m * n);
    for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) { let s = 0; for (let p = 0; p < d; p++) s += Xt[i * d + p] * X[j * d + p]; Kt[i * n + j] = s; }
    const zk = kernelLogits(Kt, m, n, kf.A, kf.b, k);
    const Pp = predictPrimal(Xt, m, d, primal.W, primal.b, k);
    const Pk = softmaxRows(zk, m, k);
    for (let i = 0; i < Pp.length; i++) assert.ok(Math.abs(Pp[i] - Pk[i]) < 1e-4, `row ${Math.floor(i / k)}: ${Pp[i]} vs ${Pk[i]}`);
  });

  it('cholesky survives duplicate rows (singular Gram matrix)', () => {
    const K = Float64Array.from([1, 1, 0, 1, 1, 0, 0, 0, 1]);
    const L = cholesky(K, 3);
    assert.ok(L.every(Number.isFinite));
  });
});

describe('fewshot: fitFewShot', () => {
  it('fits a model that predictProba runs, with the same predictions as the kernel form, deterministically', async () => {
    // a combo-like vector: 8 dense dims + 64 sparse "n-gram" dims, each block unit-normalised and scaled by 1/√2
    const r = rng(5);
    const k = 3;
    const make = (c: number): Float32Array => {
      const v = new Float32Array(72);
      for (let j = 0; j < 8; j++) v[j] = randn(r) * 0.5 + (j === c ? 1.5 : 0);
      for (let t = 0; t < 6; t++) v[8 + ((c * 20 + Math.floor(r() * 24)) % 64)] += 1;
      for (let t = 0; t < 3; t++) v[8 + Math.floor(r() * 64)] += 1;
      for (const [a, b] of [[0, 8], [8, 72]]) {
        let s = 0; for (let j = a; j < b; j++) s += v[j] * v[j];
        for (let j = a; j < b; j++) v[j] *= Math.SQRT1_2 / Math.sqrt(s);
      }
      return v;
    };
    const xTrain: Float32Array[] = [];
    const yTrain: number[] = [];
    for (let i = 0; i < 36; i++) { xTrain.push(make(i % k)); yTrain.push(i % k); }
    const xTest: Float32Array[] = [];
    const yTest: number[] = [];
    for (let i = 0; i < 60; i++) { xTest.push(make(i % k)); yTest.push(i % k); }
    const blocks = [{ start: 0, end: 8 }, { start: 8, end: 72 }];
    const res = await fitFewShot(xTrain, yTrain, { labels: ['a', 'b', 'c'], blocks, C: 10, ensemble: false });
    assert.equal(res.model.head, 'logreg');
    assert.deepEqual(res.model.weights.map((w) => [w.name, w.shape]), [['W', [72, 3]], ['b', [3]]]);
    assert.ok(res.transforms[1].idf && !res.transforms[0].idf, 'IDF only on the sparse block');
    assert.ok(res.converged);
    const proba = await predictProba(res.model, xTest);
    const pred = proba.map((p) => p.indexOf(Math.max(...p)));
    assert.ok(macroF1(yTest, pred, k) > 0.9, `test macro-F1 ${macroF1(yTest, pred, k)}`);
    for (const p of proba) assert.ok(Math.abs(p.reduce((a, b) => a + b, 0) - 1) < 1e-6);
    // predictProba (plain-JS head) applies IDF, vocabulary and block re-normalisation exactly like the fit
    const rows = (xs: Float32Array[]) => xs.map((v) => transformRow(v, res.transforms));
    const Kt = blockGram(rows(xTest), rows(xTrain), res.transforms);
    const kf = fitKernelLogReg(blockGram(rows(xTrain), rows(xTrain), res.transforms), 36, yTrain, k, { C: res.C });
    const Pk = softmaxRows(kernelLogits(Kt, 60, 36, kf.A, kf.b, k), 60, k);
    const ref = res.predict(xTest);
    ref.forEach((p, i) => p.forEach((v, c) => assert.ok(Math.abs(v - Pk[i * k + c]) < 1e-6, `reference row ${i}: ${v} vs ${Pk[i * k + c]}`)));
    proba.forEach((p, i) => p.forEach((v, c) => assert.ok(Math.abs(v - Pk[i * k + c]) < 1e-4, `predictProba row ${i}: ${v} vs ${Pk[i * k + c]}`)));
    // training rows are fitted
    const trainPred = (await predictProba(res.model, xTrain)).map((p) => p.indexOf(Math.max(...p)));
    assert.deepEqual(trainPred, yTrain);
    // progress points: one per CV-scored configuration (IDF on / off here), with out-of-fold metrics
    assert.ok(res.cvConfigs && res.cvConfigs.length === 2, 'CV compared IDF on/off');
    assert.equal(res.plan.algorithm, 'fewshot-lbfgs');
    assert.deepEqual(res.points.map((p) => [p.epoch, p.unit, p.label]), [[1, 'configuration', 'IDF on · block weights 0.50/0.50 · C=10'], [2, 'configuration', 'IDF off · block weights 0.50/0.50 · C=10']]);
    assert.ok(res.points.every((p) => Object.keys(p.perClassRecall).length === 3 && p.valMacroF1 !== null && p.valLoss! > 0 && p.loss > 0));
    assert.equal(res.bestValMacroF1, Math.max(...res.points.map((p) => p.valMacroF1!)));
    // an explicit configuration: nothing to cross-validate, no points
    const plain = await fitFewShot(xTrain, yTrain, { labels: ['a', 'b', 'c'], blocks, C: 10, idf: true, ensemble: false });
    assert.equal(plain.points.length, 0);
    assert.equal(plain.bestValMacroF1, null);
    // with fewer than MIN_CV_ROWS texts nothing is cross-validated: equal weights, IDF on
    const logs: string[] = [];
    const small = await fitFewShot(xTrain.slice(0, 12), yTrain.slice(0, 12), { labels: ['a', 'b', 'c'], blocks, ensemble: false, onLog: (m) => logs.push(m) });
    assert.equal(small.cvConfigs, undefined);
    assert.equal(small.points.length, 0);
    assert.match(logs.join('\n'), /nothing is cross-validated, so there are no validation points/);
    assert.ok(small.idf && Math.abs(small.blockWeights[0] - Math.SQRT1_2) < 1e-12);
    // deterministic
    const again = await fitFewShot(xTrain, yTrain, { labels: ['a', 'b', 'c'], blocks, C: 10, ensemble: false });
    assert.deepEqual(again.model.weights, res.model.weights);
  });

  it('ensemble (default): the 3 of IDF × block weights × C configurations with the lowest CV log-loss, mean logits, exported as parts that predictProba sums', async () => {
    const r = rng(11);
    const k = 3;
    const make = (c: number): Float32Array => {
      const v = new Float32Array(40);
      for (let j = 0; j < 8; j++) v[j] = randn(r) * 0.6 + (j === c ? 1.2 : 0);
      for (let t = 0; t < 5; t++) v[8 + ((c * 10 + Math.floor(r() * 14)) % 32)] += 1;
      for (let t = 0; t < 3; t++) v[8 + Math.floor(r() * 32)] += 1;
      return v;
    };
    const x: Float32Array[] = [];
    const y: number[] = [];
    for (let i = 0; i < 30; i++) { x.push(make(i % k)); y.push(i % k); }
    const xTest = Array.from({ length: 45 }, (_, i) => make(i % k));
    const yTest = xTest.map((_, i) => i % k);
    const extraX = [make(0), make(1)];
    const blocks = [{ start: 0, end: 8 }, { start: 8, end: 40 }];
    const res = await fitFewShot(x, y, { labels: ['a', 'b', 'c'], blocks, extraX, extraY: [0, 1], extraWeights: [0.5, 0.5] });
    // candidates: 2 IDF settings (the n-gram block is sparse) × 3 block weightings × 3 C, scored by CV log-loss
    assert.equal(res.ensembleCv?.length, 18);
    assert.deepEqual([...new Set(res.ensembleCv!.map((m) => m.C))], [1, 10, 100]);
    assert.deepEqual([...new Set(res.ensembleCv!.map((m) => m.idf))], [true, false]);
    assert.ok(res.ensembleCv!.every((m) => Number.isFinite(m.logLoss) && m.logLoss > 0));
    // members: the 3 with the lowest CV log-loss
    assert.equal(res.ensemble?.length, 3);
    const best3 = [...res.ensembleCv!].sort((a, b) => a.logLoss - b.logLoss).slice(0, 3).map((m) => m.logLoss);
    assert.deepEqual(res.ensemble!.map((m) => m.cvLogLoss).sort(), best3.sort());
    for (const m of res.ensemble!) assert.ok(Math.abs(m.weights[0] ** 2 + m.weights[1] ** 2 - 1) < 1e-12);
    // one model part per IDF setting among the members: the top level and at most one member
    const idfs = new Set(res.ensemble!.map((m) => m.idf));
    assert.equal((res.model.members?.length ?? 0) + 1, idfs.size);
    assert.equal(res.cvConfigs, undefined, 'nothing is chosen by CV when the ensemble is fitted');
    // predictProba (plain JS, summed parts) equals the kernel-form reference
    const proba = await predictProba(res.model, xTest);
    const ref = res.predict(xTest);
    proba.forEach((p, i) => p.forEach((v, c) => assert.ok(Math.abs(v - ref[i][c]) < 1e-4, `row ${i}: ${v} vs ${ref[i][c]}`)));
    const pred = proba.map((p) => p.indexOf(Math.max(...p)));
    assert.ok(macroF1(yTest, pred, k) > 0.8, `test macro-F1 ${macroF1(yTest, pred, k)}`);
    // the reference is the mean of the members' logits: refit three members by hand and compare
    const member = (idf: boolean, w: number[], C: number) => {
      const t = fitFewShot([...x, ...extraX], [...y, 0, 1], { labels: ['a', 'b', 'c'], blocks, C, idf, blockWeights: w, ensemble: false, classWeights: [1, 1, 1] });
      return t;
    };
    const one = await member(true, [Math.SQRT1_2, Math.SQRT1_2], 10);
    const p1 = one.predict(xTest);
    // a single member differs from the ensemble somewhere (the ensemble is not one of its members)
    assert.ok(p1.some((p, i) => Math.abs(p[0] - ref[i][0]) > 1e-3));
    // one progress point per candidate configuration, in candidate order, with its CV log-loss
    assert.equal(res.points.length, 18);
    assert.deepEqual(res.points.map((p) => p.epoch), Array.from({ length: 18 }, (_, i) => i + 1));
    res.points.forEach((p, i) => assert.ok(Math.abs(p.valLoss! - res.ensembleCv![i].logLoss) < 1e-12 && p.valMacroF1 !== null));
    // a dense-only layout: IDF does not apply, one part, 3 members (C) with equal weights
    const dense = await fitFewShot(x.map((v) => v.slice(0, 8)), y, { labels: ['a', 'b', 'c'], blocks: [{ start: 0, end: 8 }] });
    assert.equal(dense.ensembleCv?.length, 3);
    assert.equal(dense.ensemble?.length, 3);
    assert.equal(dense.model.members, undefined);
    // a class with one example: nothing to cross-validate, every candidate is a member (two parts: IDF on and off)
    const tiny = await fitFewShot(x.slice(0, 3), y.slice(0, 3), { labels: ['a', 'b', 'c'], blocks });
    assert.equal(tiny.ensembleCv, undefined);
    assert.equal(tiny.points.length, 0, 'no CV, no points');
    assert.equal(tiny.ensemble?.length, 18);
    assert.equal(tiny.model.members?.length, 1);
    // IDF on: IDF weights; IDF off: only the training vocabulary (std 1 on seen dims, switched off elsewhere)
    assert.ok(tiny.model.normalisation!.std.some((v) => v !== 1 && v < 1e29));
    assert.ok(tiny.model.members![0].normalisation!.std.every((v) => v === 1 || v > 1e29));
    const tp = await predictProba(tiny.model, xTest);
    tiny.predict(xTest).forEach((p, i) => p.forEach((v, c) => assert.ok(Math.abs(v - tp[i][c]) < 1e-4)));
    // ensemble: false and above ENSEMBLE_MAX_ROWS: one configuration
    const single = await fitFewShot(x, y, { labels: ['a', 'b', 'c'], blocks, ensemble: false });
    assert.equal(single.ensemble, undefined);
    assert.equal(single.model.members, undefined);
    // bad extra weights are refused
    await assert.rejects(fitFewShot(x, y, { labels: ['a', 'b', 'c'], blocks, extraX, extraY: [0, 1], extraWeights: [1] }), /extraWeights/);
  });

  it('streams progress while fitting: a point per configuration as soon as it is scored, real elapsed times, candidate fits counted', async function () {
    this.timeout(60_000);
    // 2 blocks, 240 rows: the 18 configurations × 4 folds take a few seconds
    const r = rng(21);
    const k = 4;
    const make = (c: number): Float32Array => {
      const v = new Float32Array(16 + 256);
      for (let j = 0; j < 16; j++) v[j] = randn(r) * 0.8 + (j === c ? 0.8 : 0);
      for (let t = 0; t < 12; t++) v[16 + ((c * 50 + Math.floor(r() * 90)) % 256)] += 1;
      for (let t = 0; t < 8; t++) v[16 + Math.floor(r() * 256)] += 1;
      return v;
    };
    const x = Array.from({ length: 240 }, (_, i) => make(i % k));
    const y = x.map((_, i) => i % k);
    const t0 = Date.now();
    const points: { m: EpochMetrics; at: number }[] = [];
    const progress: { done: number; total: number; message: string; at: number }[] = [];
    let plan: FewShotPlan | undefined;
    const res = await fitFewShot(x, y, {
      labels: ['a', 'b', 'c', 'd'], blocks: [{ start: 0, end: 16 }, { start: 16, end: 272 }],
      onPlan: (p) => { plan = p; },
      onPoint: (m) => { points.push({ m, at: Date.now() }); },
      onProgress: (done, total, message) => progress.push({ done, total, message, at: Date.now() }),
    });
    const end = Date.now();
    const span = end - t0;
    assert.ok(span > 500, `the fit took ${span} ms: too fast to tell when points arrive`);
    // the plan: 18 configurations × 4 folds + 3 final members
    assert.deepEqual({ ...plan }, { unit: 'configuration', points: 18, fits: 18 * 4 + 3, folds: 4, validation: '4-fold out-of-fold predictions on the training split (240 texts; extra rows never take part)', noValidation: null, algorithm: 'fewshot-ensemble' });
    // one point per configuration (not per epoch), spread over the fit: the first long before the end
    assert.equal(points.length, 18);
    assert.ok(points[0].at - t0 < span / 3, `first point after ${points[0].at - t0} of ${span} ms`);
    assert.ok(end - points[17].at > 0, 'the final fits run after the last point');
    // elapsedMs is the real time since the head started, measured when the point was sent
    points.forEach(({ m, at }, i) => {
      assert.ok(Math.abs(m.elapsedMs - (at - t0)) <= 25, `point ${i + 1}: elapsedMs ${m.elapsedMs} vs ${at - t0}`);
      if (i) assert.ok(m.elapsedMs > points[i - 1].m.elapsedMs, 'strictly increasing');
    });
    // every candidate fit is counted as it ends: 1…75 in order, the last ones are the final members
    const counted = progress.filter((p, i) => i === 0 || p.done !== progress[i - 1].done).map((p) => p.done);
    assert.deepEqual(counted, Array.from({ length: 75 }, (_, i) => i + 1));
    assert.ok(progress.every((p) => p.total === 75));
    assert.match(progress[progress.length - 1].message, /^final member 3 of 3 \(IDF (on|off) · block weights [0-9./]+ · C=\d+\): \d+ L-BFGS iterations/);
    // a point arrives right after the 4th fold of its configuration is counted
    points.forEach(({ at }, i) => {
      const fold4 = progress.find((p) => p.done === (i + 1) * 4)!;
      assert.ok(at >= fold4.at && at - fold4.at < 100, `point ${i + 1}`);
    });
    assert.equal(res.ensemble!.length, 3);
  });

  it('cancels inside the solver within a second (cooperative loops)', async function () {
    this.timeout(60_000);
    const { x, y } = blobs(500, 4, 300, 31, 0.3);
    const ac = new AbortController();
    let abortedAt = 0;
    // 2,000 dense rows, one fit: the Cholesky factorisation alone takes about a second
    // timed from when the abort was due (a blocked event loop would run the timer late)
    const dueAt = Date.now() + 300;
    const timer = setTimeout(() => { abortedAt = Date.now(); ac.abort(); }, 300);
    try {
      await assert.rejects(fitFewShot(x, y, { labels: ['a', 'b', 'c', 'd'], ensemble: false, signal: ac.signal }), (e: Error) => e.name === 'AbortError');
    } finally {
      clearTimeout(timer);
    }
    const ms = Date.now() - dueAt;
    assert.ok(abortedAt > 0, 'fitting started');
    assert.ok(ms < 1000, `stopped ${ms} ms after the abort`);
  });

  it('splits combo vectors into blocks from the encoder id', () => {
    assert.deepEqual(blocksFromEncoderId('combo:use-lite-en-512+hashing-v1-char1-4-cjk3-word2x1-16384', 16896), [{ start: 0, end: 512 }, { start: 512, end: 16896 }]);
    assert.deepEqual(blocksFromEncoderId('combo:use-lite-en-512+chargram-v1-wb1-3-65536', 66048), [{ start: 0, end: 512 }, { start: 512, end: 66048 }]);
    assert.deepEqual(blocksFromEncoderId('hashing-v1-char1-4-cjk3-word2x1-16384', 16384), [{ start: 0, end: 16384 }]);
    assert.deepEqual(blocksFromEncoderId('combo:use-lite-en-512+minilm-l6-v2-int8-384+hashing-v1-char1-4-cjk3-word2x1-16384', 17280),
      [{ start: 0, end: 512 }, { start: 512, end: 896 }, { start: 896, end: 17280 }], 'the bundled MiniLM is its own 384-d block');
    assert.deepEqual(blocksFromEncoderId('combo:hf:x+use-lite-en-512', 896), [{ start: 0, end: 896 }], 'unknown part dims → one block');
  });
});

describe('fewshot: chargram encoder', () => {
  it('hashes char_wb n-grams, keeps punctuation, returns unit vectors deterministically', async () => {
    const e = createCharGramEncoder({ dim: 4096 });
    const [a, b, c, a2] = await e.embed(['床前明月光，疑是地上霜。', '床前明月光疑是地上霜', 'Hello, world!', '床前明月光，疑是地上霜。']);
    for (const v of [a, b, c]) assert.ok(Math.abs(Math.hypot(...v) - 1) < 1e-5);
    assert.deepEqual(a, a2);
    const cos = (u: Float32Array, v: Float32Array) => u.reduce((s, x, i) => s + x * v[i], 0);
    assert.ok(cos(a, b) < 0.99 && cos(a, b) > 0.5, `punctuation changes the vector a little (${cos(a, b)})`);
    assert.ok(Math.abs(cos(a, c)) < 0.3);
    assert.equal(e.id, 'chargram-v1-wb1-2-4096');
    assert.throws(() => createCharGramEncoder({ dim: 1000 }), /power of two/);
    // specs and resolved ids round-trip
    assert.equal(createCharGramEncoder(chargramSpecOptions('chargram')!).id, 'chargram-v1-wb1-2-65536');
    assert.deepEqual(chargramSpecOptions('chargram:4096'), { dim: 4096 });
    assert.equal(createCharGramEncoder(chargramSpecOptions(e.id)!).id, e.id);
    assert.equal(chargramSpecOptions('hashing'), null);
  });

  const nonZeros = (v: Float32Array) => v.reduce((n, x) => n + (x !== 0 ? 1 : 0), 0);

  it('hashes character 1–2-grams by default; a saved 1–3-gram id still recreates its encoder', async () => {
    // " 床前明 ": 5 unigrams (two of them the padding space), 4 bigrams, 3 trigrams; 2^16 buckets: no collisions here
    const [v] = await createCharGramEncoder().embed(['床前明']);
    assert.equal(nonZeros(v), 4 + 4, 'the padding space twice (sublinear tf, one bucket) + 3 characters + 4 bigrams');
    const old = createCharGramEncoder(chargramSpecOptions('chargram-v1-wb1-3-65536')!);
    assert.equal(old.id, 'chargram-v1-wb1-3-65536');
    const [w] = await old.embed(['床前明']);
    assert.equal(nonZeros(w), 4 + 4 + 3, 'the old id keeps its trigrams');
  });

  it(`reads up to ${CHARGRAM_MAX_CHARS} characters by default (not the neural encoders' 2,000), unless a limit is set`, async () => {
    const head = '描述'.repeat(1500); // 3,000 characters, then two different tails
    const texts = [`${head} 选项 -v 显示版本`, `${head} 文件 /etc/passwd 格式`];
    const [a, b] = await createCharGramEncoder().embed(texts);
    assert.notDeepEqual(Array.from(a), Array.from(b), 'the tails after 3,000 characters count');
    const viaSpec = await createEncoder('chargram');
    assert.equal(viaSpec.encoder.maxChars, CHARGRAM_MAX_CHARS);
    const limited = await createEncoder('chargram', { maxChars: 2000 });
    assert.equal(limited.encoder.maxChars, 2000);
    const [c, d] = await limited.encoder.embed(texts);
    assert.deepEqual(Array.from(c), Array.from(d), 'a set limit (config maxChars) still cuts');
  });
});
