import * as assert from 'node:assert/strict';
import { selectBackend, trainHead, predictProba, predictProbaTf, inverseFrequencyWeights, rng, type HeadTrainOptions } from '../../src/core/heads';
import type { EpochMetrics } from '../../src/protocol/run';

/** Gaussian-ish blobs: class c has +shift on dim c. */
function blobs(nPerClass: number, classes: number, dim: number, seed: number, shift = 2, noise = 1) {
  const r = rng(seed);
  const x: Float32Array[] = [];
  const y: number[] = [];
  for (let i = 0; i < nPerClass * classes; i++) {
    const c = i % classes;
    const v = new Float32Array(dim);
    for (let j = 0; j < dim; j++) v[j] = (r() - 0.5) * 2 * noise + (j === c ? shift : 0);
    x.push(v);
    y.push(c);
  }
  return { x, y };
}
const argmax = (p: number[]) => p.indexOf(Math.max(...p));
const labels3 = ['a', 'b', 'c'];
const base = (o: Partial<HeadTrainOptions> = {}): HeadTrainOptions => ({ kind: 'logreg', epochs: 40, learningRate: 0.05, batchSize: 16, seed: 1, patience: 0, labels: labels3, ...o });

describe('heads: backend selection', function () {
  this.timeout(60000);
  it('falls back to wasm here and records why the others were skipped', async () => {
    const b = await selectBackend('auto');
    assert.ok(['wasm', 'cpu'].includes(b.name), b.name);
    const names = b.skipped.map((s) => s.name);
    assert.ok(names.includes('tensorflow'), JSON.stringify(b.skipped));
    assert.ok(names.includes('webgpu'), JSON.stringify(b.skipped));
    assert.match(b.skipped.find((s) => s.name === 'webgpu')!.reason, /adapter/);
    for (const s of b.skipped) assert.ok(s.reason.length > 5, `reason for ${s.name}`);
    assert.match(b.skipped.find((s) => s.name === 'tensorflow')!.reason, /not installed/);
    assert.equal(b.gpu, false);
  });
  it('honours an explicit preference and can select cpu', async () => {
    const c = await selectBackend('cpu');
    assert.deepEqual(c, { name: 'cpu', gpu: false, skipped: [] });
    const w = await selectBackend('wasm');
    assert.equal(w.name, 'wasm');
    assert.deepEqual(w.skipped, []);
  });
});

describe('heads: training', function () {
  this.timeout(120000);
  before(async () => { await selectBackend('wasm'); });

  it('logistic regression learns a separable toy problem; predictProba (plain JS) equals tfjs', async () => {
    const tr = blobs(20, 3, 10, 1);
    const te = blobs(20, 3, 10, 2);
    const res = await trainHead(tr.x, tr.y, [], [], base());
    assert.equal(res.epochsRun, 40);
    assert.equal(res.bestEpoch, 40);
    assert.equal(res.selectedOn, 'none');
    assert.equal(res.model.head, 'logreg');
    assert.deepEqual(res.model.weights.map((w) => [w.name, w.shape]), [['W', [10, 3]], ['b', [3]]]);
    const p = await predictProba(res.model, te.x);
    const acc = p.filter((q, i) => argmax(q) === te.y[i]).length / te.y.length;
    assert.ok(acc >= 0.9, `accuracy ${acc}`);
    for (const q of p) assert.ok(Math.abs(q.reduce((a, b) => a + b, 0) - 1) < 1e-6);
    const ptf = await predictProbaTf(res.model, te.x);
    const maxDiff = Math.max(...p.flatMap((q, i) => q.map((v, j) => Math.abs(v - ptf[i][j]))));
    assert.ok(maxDiff < 1e-5, `plain JS vs tfjs: ${maxDiff}`);
    // without validation data the history carries training metrics, flagged
    const last = res.history[res.history.length - 1];
    assert.equal(last.valMacroF1, null);
    assert.equal(typeof last.trainMacroF1, 'number');
    assert.ok(last.trainMacroF1! > 0.9);
  });

  it('is reproducible with the same seed and differs with another seed', async () => {
    const tr = blobs(10, 3, 8, 3);
    const a = await trainHead(tr.x, tr.y, [], [], base({ epochs: 5, kind: 'mlp', hidden: 16 }));
    const b = await trainHead(tr.x, tr.y, [], [], base({ epochs: 5, kind: 'mlp', hidden: 16 }));
    const c = await trainHead(tr.x, tr.y, [], [], base({ epochs: 5, kind: 'mlp', hidden: 16, seed: 2 }));
    assert.deepEqual(a.model.weights, b.model.weights);
    assert.notDeepEqual(a.model.weights[0].values, c.model.weights[0].values);
  });

  it('MLP: plain-JS prediction equals tfjs and it learns', async () => {
    const tr = blobs(20, 3, 10, 4);
    const res = await trainHead(tr.x, tr.y, tr.x, tr.y, base({ kind: 'mlp', hidden: 32, epochs: 30 }));
    assert.deepEqual(res.model.weights.map((w) => w.name), ['W1', 'b1', 'W2', 'b2']);
    assert.equal(res.model.activation, 'relu');
    const p = await predictProba(res.model, tr.x);
    const ptf = await predictProbaTf(res.model, tr.x);
    assert.ok(Math.max(...p.flatMap((q, i) => q.map((v, j) => Math.abs(v - ptf[i][j])))) < 1e-5);
    assert.ok(res.history[res.bestEpoch - 1].valMacroF1! > 0.9);
  });

  it('early stopping keeps the best epoch (by val macro-F1, tie → lower val loss) and stops after patience', async () => {
    // noisy, overlapping classes: validation F1 plateaus early, so patience ends training
    const tr = blobs(20, 2, 6, 5, 1.5, 1);
    const val = blobs(10, 2, 6, 6, 1.5, 1);
    const seen: EpochMetrics[] = [];
    const res = await trainHead(tr.x, tr.y, val.x, val.y, base({ labels: ['a', 'b'], epochs: 200, patience: 5, learningRate: 0.05, onEpoch: async (m) => { await new Promise((r) => setImmediate(r)); seen.push(m); } }));
    assert.equal(seen.length, res.epochsRun, 'onEpoch awaited for every epoch');
    assert.ok(res.stoppedEarly, 'stopped before 200 epochs');
    assert.ok(res.epochsRun < 200);
    assert.equal(res.epochsRun - res.bestEpoch, 5, 'exactly `patience` epochs after the best one');
    const best = res.history[res.bestEpoch - 1];
    for (const h of res.history) {
      assert.ok(h.valMacroF1! <= best.valMacroF1! + 1e-12);
      if (Math.abs(h.valMacroF1! - best.valMacroF1!) < 1e-12) assert.ok(h.valLoss! >= best.valLoss! - 1e-12, `epoch ${h.epoch} ties on F1 with lower loss`);
    }
    // the returned weights are the best epoch's: their val metrics match the recorded ones
    const p = await predictProba(res.model, val.x);
    let loss = 0;
    p.forEach((q, i) => { loss -= Math.log(q[val.y[i]]); });
    assert.ok(Math.abs(loss / p.length - best.valLoss!) < 1e-4, `${loss / p.length} vs ${best.valLoss}`);
    assert.deepEqual(Object.keys(best.perClassRecall), ['a', 'b']);
  });

  it('class weights shift predictions toward the up-weighted class', async () => {
    // overlapping classes: with class 1 weighted 10×, more points are predicted as class 1
    const tr = blobs(30, 2, 4, 7, 0.6, 1);
    const probe = blobs(50, 2, 4, 8, 0.6, 1);
    const o = base({ labels: ['a', 'b'], epochs: 30 });
    const plain = await trainHead(tr.x, tr.y, [], [], o);
    const weighted = await trainHead(tr.x, tr.y, [], [], { ...o, classWeights: [1, 10] });
    const count1 = async (m: typeof plain.model) => (await predictProba(m, probe.x)).filter((q) => argmax(q) === 1).length;
    const n0 = await count1(plain.model);
    const n1 = await count1(weighted.model);
    assert.ok(n1 > n0 + 5, `class-1 predictions: ${n0} → ${n1}`);
    assert.deepEqual(inverseFrequencyWeights([0, 0, 0, 1], 2), [4 / 6, 2]);
  });

  it('nearest centroid works with one example per class and predicts by cosine', async () => {
    const x = [Float32Array.from([1, 0, 0]), Float32Array.from([0, 2, 0]), Float32Array.from([0, 0, 3])];
    const res = await trainHead(x, [0, 1, 2], [], [], base({ kind: 'centroid' }));
    assert.equal(res.epochsRun, 1);
    assert.equal(res.model.head, 'centroid');
    const p = await predictProba(res.model, [Float32Array.from([0.1, 5, 0.2]), Float32Array.from([0.9, 0.1, 0.8])]);
    assert.equal(argmax(p[0]), 1);
    assert.equal(argmax(p[1]), 0);
    const ptf = await predictProbaTf(res.model, [Float32Array.from([0.1, 5, 0.2])]);
    assert.ok(Math.max(...p[0].map((v, j) => Math.abs(v - ptf[0][j]))) < 1e-5);
  });

  it('an aborted signal stops training between batches', async () => {
    const tr = blobs(40, 3, 8, 9);
    const ac = new AbortController();
    let epochs = 0;
    await assert.rejects(
      trainHead(tr.x, tr.y, [], [], base({ epochs: 100, batchSize: 4, onEpoch: () => { if (++epochs === 2) ac.abort(); }, signal: ac.signal })),
      (e: Error) => e.name === 'AbortError',
    );
    assert.equal(epochs, 2);
  });

  it('predictProba rejects vectors of the wrong size', async () => {
    const tr = blobs(5, 3, 4, 10);
    const res = await trainHead(tr.x, tr.y, [], [], base({ epochs: 2 }));
    await assert.rejects(predictProba(res.model, [new Float32Array(5)]), /expects 4/);
  });
});
