import * as assert from 'node:assert/strict';
import { fitFewShot, PRIMAL_MIN_ROWS, type FewShotPlan } from '../../src/core/fewshot';
import { fitKernelLogReg, kernelLogits } from '../../src/core/fewshot/kernel';
import { fitPrimalSteps, primalLogits, transformedCsrSteps } from '../../src/core/fewshot/primal';
import { transformAny, denseOf, type Row } from '../../src/core/fewshot/rows';
import { gram } from '../../src/core/fewshot/linalg';
import { createHashingEncoder } from '../../src/core/encoders/hashing';
import { createCharGramEncoder } from '../../src/core/fewshot/chargram';
import { createComboEncoder } from '../../src/core/encoders/combo';
import { predictProba } from '../../src/core/heads';
import { softmaxRows } from '../../src/core/metrics';
import { runSync } from '../../src/core/util/async';
import { mulberry32 } from '../../src/core/util/rng';
import type { Encoder } from '../../src/core/encoders/types';

const WORDS = 'heart chest pain fever cough rash skin itch knee joint swelling head ache vision blur nausea stomach breath sleep tired blood pressure sugar thirst'.split(' ');

/** Short texts of `k` classes: each class prefers its own slice of the vocabulary. */
function texts(n: number, k: number, seed: number): { t: string[]; y: number[] } {
  const r = mulberry32(seed);
  const t: string[] = [];
  const y: number[] = [];
  for (let i = 0; i < n; i++) {
    const c = i % k;
    const w: string[] = [];
    for (let j = 0; j < 12; j++) w.push(r() < 0.5 ? WORDS[(c * 6 + Math.floor(r() * 6)) % WORDS.length] : WORDS[Math.floor(r() * WORDS.length)]);
    t.push(w.join(' '));
    y.push(c);
  }
  return { t, y };
}

const dense = (v: Row) => Array.from(denseOf(v));

describe('fewshot scale: sparse rows and the primal solver', () => {
  it('embedSparse gives exactly the vectors of embed (hashing, chargram, combo)', async () => {
    const { t } = texts(20, 2, 1);
    t.push('', '心脏 胸痛 fever!!');
    const fixedDense: Encoder = {
      id: 'fixed-4', dim: 4, maxChars: 100,
      async embed(xs) { return xs.map((_, i) => Float32Array.from([1, 0, i % 3, 0.5])); },
    };
    for (const enc of [createHashingEncoder({ dim: 1024 }), createCharGramEncoder({ dim: 2048 }), createComboEncoder([{ encoder: fixedDense, weight: 1 }, { encoder: createHashingEncoder({ dim: 1024 }), weight: 2 }])]) {
      const d = await enc.embed(t);
      const s = await enc.embedSparse!(t);
      assert.equal(s.length, t.length);
      s.forEach((v, i) => {
        assert.equal(v.dim, enc.dim);
        for (let p = 1; p < v.idx.length; p++) assert.ok(v.idx[p] > v.idx[p - 1], 'ascending dims');
        assert.deepEqual(dense(v), Array.from(d[i]), `${enc.id}, text ${i}`);
      });
    }
  });

  it('fitFewShot on sparse rows gives the same model as on dense rows (kernel and primal form)', async () => {
    const enc = createHashingEncoder({ dim: 2048 });
    const { t, y } = texts(48, 3, 2);
    const xd = await enc.embed(t);
    const xs = await enc.embedSparse!(t);
    for (const solver of ['kernel', 'primal'] as const) {
      const a = await fitFewShot(xd, y, { labels: ['a', 'b', 'c'], encoderId: enc.id, ensemble: false, solver });
      const b = await fitFewShot(xs, y, { labels: ['a', 'b', 'c'], encoderId: enc.id, ensemble: false, solver });
      assert.deepEqual(b.model.weights, a.model.weights, solver);
      assert.deepEqual(b.predict(xs.slice(0, 5)), a.predict(xd.slice(0, 5)), solver);
    }
  });

  it('the primal form reaches the kernel form\'s optimum: same objective and probabilities', async () => {
    const enc = createHashingEncoder({ dim: 2048 });
    const { t, y } = texts(60, 3, 3);
    const x = await enc.embedSparse!(t);
    const k = 3;
    const C = 10;
    const tr = { start: 0, end: 2048, idf: null, weight: 1, renorm: true };
    const X = runSync(transformedCsrSteps(x, Int32Array.from(x.keys()), [tr], 2048));
    const p = runSync(fitPrimalSteps(X, y, k, { C, tol: 1e-9, maxIter: 5000 }));
    const rows = x.map((v) => transformAny(v, [tr])[0]);
    const kf = fitKernelLogReg(gram(rows, rows, 2048), x.length, y, k, { C, tol: 1e-9, maxIter: 5000 });
    assert.ok(p.converged && kf.fit.converged);
    assert.ok(Math.abs(p.objective - kf.fit.objective) <= 1e-6 * kf.fit.objective, `objective ${p.objective} vs ${kf.fit.objective}`);
    const test = await enc.embedSparse!(texts(30, 3, 4).t);
    const Pp = softmaxRows(primalLogits(test, [tr], p.W, p.b, k), test.length, k);
    const rt = test.map((v) => transformAny(v, [tr])[0]);
    const Pk = softmaxRows(kernelLogits(gram(rt, rows, 2048), test.length, x.length, kf.A, kf.b, k), test.length, k);
    for (let i = 0; i < Pp.length; i++) assert.ok(Math.abs(Pp[i] - Pk[i]) < 1e-5, `${i}: ${Pp[i]} vs ${Pk[i]}`);

    // with their default tolerances (what training uses) the two fits of fitFewShot agree closely too
    const a = await fitFewShot(x, y, { labels: ['a', 'b', 'c'], encoderId: enc.id, ensemble: false, idf: true, solver: 'kernel' });
    const b = await fitFewShot(x, y, { labels: ['a', 'b', 'c'], encoderId: enc.id, ensemble: false, idf: true, solver: 'primal' });
    const pa = a.predict(test).flat();
    const pb = b.predict(test).flat();
    const worst = Math.max(...pa.map((v, i) => Math.abs(v - pb[i])));
    assert.ok(worst < 0.01, `largest probability difference ${worst}`);
    // and the exported primal model is what predictProba runs
    const served = (await predictProba(b.model, test.map(denseOf))).flat();
    served.forEach((v, i) => assert.ok(Math.abs(v - pb[i]) < 1e-5, `${i}: ${v} vs ${pb[i]}`));
  });

  it(`above ${PRIMAL_MIN_ROWS} rows the single fit runs in the primal form and reports its L-BFGS iterations`, async function () {
    this.timeout(120_000);
    const enc = createHashingEncoder({ dim: 4096 });
    const { t, y } = texts(PRIMAL_MIN_ROWS + 60, 4, 5);
    const x = await enc.embedSparse!(t);
    const messages: string[] = [];
    const r = await fitFewShot(x, y, { labels: ['a', 'b', 'c', 'd'], encoderId: enc.id, ensemble: false, idf: true, onProgress: (_d, _t, m) => messages.push(m) });
    assert.equal(r.plan.algorithm, 'fewshot-lbfgs');
    assert.ok(messages.some((m) => /L-BFGS iteration \d+ \(primal form\)/.test(m)) || messages.some((m) => /\d+ L-BFGS iterations \(primal form\)/.test(m)), messages.join('\n'));
    const acc = r.predict(x).filter((p, i) => p.indexOf(Math.max(...p)) === y[i]).length / x.length;
    assert.ok(acc > 0.6, `training accuracy ${acc}`);
  });

  it('cancels a large primal fit from inside the solver', async function () {
    this.timeout(120_000);
    const enc = createHashingEncoder({ dim: 4096 });
    const { t, y } = texts(4000, 4, 6);
    const x = await enc.embedSparse!(t);
    const ac = new AbortController();
    let abortedAt = 0;
    let iterationsSeen = '';
    const fit = fitFewShot(x, y, {
      labels: ['a', 'b', 'c', 'd'], encoderId: enc.id, idf: true, solver: 'primal', signal: ac.signal,
      onProgress: (_d, _t, m) => {
        // abort once the final fit's solver is running (an L-BFGS iteration was reported)
        if (!abortedAt && /final fit .*L-BFGS iteration/.test(m)) { iterationsSeen = m; abortedAt = Date.now(); ac.abort(); }
      },
    });
    await assert.rejects(fit, (e: Error) => e.name === 'AbortError');
    const ms = Date.now() - abortedAt;
    assert.ok(abortedAt > 0, 'the solver reported an iteration before finishing');
    assert.match(iterationsSeen, /primal form/);
    assert.ok(ms < 1000, `stopped ${ms} ms after the abort`);
  });

  it('says why a large training set has no validation points (not "a class is too small")', async function () {
    this.timeout(60_000);
    const enc = createHashingEncoder({ dim: 1024 });
    const { t, y } = texts(5200, 4, 7);
    const x = await enc.embedSparse!(t);
    const ac = new AbortController();
    let plan: FewShotPlan | undefined;
    // the plan is all this checks: stop the fit as soon as it is made
    const fit = fitFewShot(x, y, { labels: ['a', 'b', 'c', 'd'], encoderId: enc.id, signal: ac.signal, onPlan: (p) => { plan = p; ac.abort(); } });
    await assert.rejects(fit, (e: Error) => e.name === 'AbortError');
    assert.ok(plan);
    assert.equal(plan.validation, null);
    assert.equal(plan.points, 0);
    assert.match(plan.noValidation ?? '', /^5200 training texts, more than 5000/);
    assert.doesNotMatch(plan.noValidation ?? '', /fewer than 2/);
  });
});
