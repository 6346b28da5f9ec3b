/**
 * fitFewShot gives the same model as before the speed work of issue 14 (shared Gram matrices, allocation-free
 * L-BFGS, lazy encoder/backend): the fixture test/fixtures/fewshot/golden.json was written by the code before those
 * changes, on the seeded inputs below. Regenerate it only for a deliberate change of results:
 * FEWSHOT_WRITE_GOLDEN=1 node scripts/test.mjs unit --grep "same results as before".
 */
import * as assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fitFewShot, type FewShotOptions, type Row } from '../../src/core/fewshot';
import type { SparseVec } from '../../src/core/encoders/types';
import { mulberry32 } from '../../src/core/util/rng';

/** test/fixtures/fewshot/golden.json, found from the built test's folder upwards. */
function goldenFile(): string {
  for (let dir = __dirname, i = 0; i < 6; i++, dir = dirname(dir)) {
    if (existsSync(join(dir, 'test', 'fixtures'))) return join(dir, 'test', 'fixtures', 'fewshot', 'golden.json');
  }
  throw new Error('test/fixtures not found');
}

function randn(r: () => number): number {
  return Math.sqrt(-2 * Math.log(r() + 1e-12)) * Math.cos(2 * Math.PI * r());
}

/** A unit-length dense block of `dim` dims for class c. */
function denseBlock(r: () => number, c: number, dim: number): number[] {
  const v = Array.from({ length: dim }, (_, j) => randn(r) * 0.6 + (j % 4 === c % 4 ? 0.8 : 0));
  const s = Math.sqrt(v.reduce((a, x) => a + x * x, 0));
  return v.map((x) => x / s);
}

/** Sparse "n-gram" counts in `dim` dims for class c, unit length. */
function sparseBlock(r: () => number, c: number, dim: number): Map<number, number> {
  const m = new Map<number, number>();
  for (let t = 0; t < 7; t++) { const j = (c * 23 + Math.floor(r() * 30)) % dim; m.set(j, (m.get(j) ?? 0) + 1); }
  for (let t = 0; t < 4; t++) { const j = Math.floor(r() * dim); m.set(j, (m.get(j) ?? 0) + 1); }
  const s = Math.sqrt([...m.values()].reduce((a, x) => a + x * x, 0));
  for (const [j, v] of m) m.set(j, v / s);
  return m;
}

/** Product-like rows: USE-like 24 dims + MiniLM-like 16 dims + hashing-like 128 dims, combined like a combo (÷√3). */
function comboRow(r: () => number, c: number, sparse: boolean): Row {
  const a = denseBlock(r, c, 24);
  const b = denseBlock(r, c + 1, 16);
  const h = sparseBlock(r, c, 128);
  const w = 1 / Math.sqrt(3);
  const dense = [...a, ...b].map((x) => Math.fround(x * w));
  if (!sparse) {
    const v = new Float32Array(168);
    v.set(dense);
    for (const [j, x] of h) v[40 + j] = x * w;
    return v;
  }
  const hs = [...h.entries()].sort((p, q) => p[0] - q[0]);
  const idx = Int32Array.from([...dense.keys(), ...hs.map(([j]) => 40 + j)]);
  const val = Float32Array.from([...dense, ...hs.map(([, x]) => x * w)]);
  return { dim: 168, idx, val } satisfies SparseVec;
}

interface Case { name: string; x: Row[]; y: number[]; test: Row[]; opts: FewShotOptions }

function cases(): Case[] {
  const labels = ['a', 'b', 'c', 'd'];
  const blocks3 = [{ start: 0, end: 24 }, { start: 24, end: 40 }, { start: 40, end: 168 }];
  const r = mulberry32(14);
  const make = (n: number, sparse: boolean, off = 0) => Array.from({ length: n }, (_, i) => comboRow(r, (i + off) % 4, sparse));
  const x1 = make(48, true);
  const y1 = x1.map((_, i) => i % 4);
  const extra = make(4, true);
  const x2 = make(40, false);
  const y2 = x2.map((_, i) => (i * 3) % 4 === 0 ? 0 : i % 4);
  const blocks2 = [{ start: 0, end: 40 }, { start: 40, end: 168 }];
  return [
    {
      name: 'ensemble, 3 blocks, sparse rows, extra rows, class weights, unlabelled vocabulary',
      x: x1, y: y1, test: make(12, true),
      opts: { labels, blocks: blocks3, extraX: extra, extraY: [0, 1, 2, 3], extraWeights: [0.5, 0.5, 0.5, 0.5], classWeights: [1, 1.2, 0.9, 1], vocabX: make(6, true) },
    },
    { name: 'ensemble, 2 blocks (18 configurations), dense rows', x: x2, y: y2, test: make(12, false), opts: { labels, blocks: blocks2 } },
    { name: 'single fit (kernel form), IDF by CV', x: x2, y: y2, test: make(12, false), opts: { labels, blocks: blocks3, ensemble: false, C: 10 } },
  ];
}

async function outputs(c: Case) {
  const res = await fitFewShot(c.x, c.y, c.opts);
  const parts = [res.model, ...(res.model.members ?? [])];
  return {
    weights: parts.map((p) => p.weights.map((w) => w.values)),
    std: parts.map((p) => p.normalisation?.std ?? null),
    oofProba: res.oofProba,
    predict: res.predict(c.test),
    ensemble: res.ensemble ?? null,
    ensembleCv: res.ensembleCv ?? null,
    cvConfigs: res.cvConfigs ?? null,
    points: res.points.map((p) => ({ label: p.label, loss: p.loss, valLoss: p.valLoss, valMacroF1: p.valMacroF1 })),
    C: res.C, idf: res.idf, converged: res.converged,
  };
}

/** Largest absolute difference between two JSON values of the same shape (Infinity when the shapes differ). */
function maxDiff(a: unknown, b: unknown, path = '$'): { diff: number; path: string } {
  if (typeof a === 'number' && typeof b === 'number') return { diff: a === b ? 0 : Math.abs(a - b), path };
  if (Array.isArray(a) && Array.isArray(b)) {
    if (a.length !== b.length) return { diff: Infinity, path: `${path} (length ${a.length} vs ${b.length})` };
    return a.reduce((m: { diff: number; path: string }, v, i) => { const d = maxDiff(v, b[i], `${path}[${i}]`); return d.diff > m.diff ? d : m; }, { diff: 0, path });
  }
  if (a && b && typeof a === 'object' && typeof b === 'object') {
    const ka = Object.keys(a).sort();
    const kb = Object.keys(b).sort();
    if (ka.join() !== kb.join()) return { diff: Infinity, path: `${path} (keys ${ka} vs ${kb})` };
    return ka.reduce((m: { diff: number; path: string }, key) => {
      const d = maxDiff((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key], `${path}.${key}`);
      return d.diff > m.diff ? d : m;
    }, { diff: 0, path });
  }
  return { diff: a === b ? 0 : Infinity, path: `${path} (${JSON.stringify(a)} vs ${JSON.stringify(b)})` };
}

describe('fewshot: same results as before the speed work (issue 14)', function () {
  this.timeout(60000);
  it('fitFewShot gives the recorded weights, out-of-fold probabilities, predictions and CV scores (≤ 1e-9)', async () => {
    const got: Record<string, unknown> = {};
    for (const c of cases()) got[c.name] = JSON.parse(JSON.stringify(await outputs(c)));
    if (process.env.FEWSHOT_WRITE_GOLDEN === '1') writeFileSync(goldenFile(), JSON.stringify(got) + '\n');
    const want = JSON.parse(readFileSync(goldenFile(), 'utf8')) as Record<string, unknown>;
    assert.deepEqual(Object.keys(got), Object.keys(want));
    for (const name of Object.keys(want)) {
      const d = maxDiff(got[name], want[name]);
      assert.ok(d.diff <= 1e-9, `${name}: differs by ${d.diff} at ${d.path}`);
    }
  });
});
