import * as assert from 'node:assert/strict';
import { mkdtempSync, rmSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createEncoder, createComboEncoder, createHashingEncoder, withEmbeddingCache, parseEncoderSpec, encoderSpecProblem, shortSpecFromId, type Encoder,
} from '../../src/core/encoders';
import { createUseEncoder, useModelLoads, type UseModel } from '../../src/core/encoders/use';
import { writeTinyModel, expectedEmbedding } from './helpers/tinyModel';
import { writeCsvDataset } from './helpers/trainerFixtures';
import { loadDataset } from '../../src/core/datasets/load';
import { DEFAULT_CONFIG, runTraining } from '../../src/core/train';

type FSE = Error & { opts?: { file?: string; fix?: string; code?: string } };

/** Deterministic 512-d stand-in vectors for USE rows written into the cache. */
function fakeUseVector(text: string): Float32Array {
  const v = new Float32Array(512);
  for (let i = 0; i < text.length; i++) v[(text.charCodeAt(i) * 7 + i) % 512] += 1;
  return v;
}

/** A fake USE model that counts loads and embedded texts. */
function countingUseModel() {
  const counts = { loads: 0, texts: [] as string[] };
  const load = async (): Promise<UseModel> => {
    counts.loads++;
    return { async embed(input) { counts.texts.push(...input); return input.map((t) => Array.from(fakeUseVector(t))); } };
  };
  return { counts, load };
}

describe('encoders: lazy loading', function () {
  this.timeout(60000);
  let dir: string;
  beforeEach(() => { dir = mkdtempSync(join(tmpdir(), 'fsl-lazy-')); });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('createEncoder("use") and the English auto combo know their size without loading USE-lite', async () => {
    const before = useModelLoads();
    const use = await createEncoder('use');
    assert.equal(use.info.dim, 512);
    assert.equal(use.encoder.id, 'use-lite-en-512');
    const auto = await createEncoder('auto', { language: 'en', hashingDim: 1024 });
    assert.equal(auto.info.id, 'combo:use-lite-en-512+minilm-l6-v2-int8-384+hashing-v1-char1-4-cjk3-word2x1-1024');
    assert.equal(auto.info.dim, 512 + 384 + 1024);
    assert.deepEqual(await use.encoder.embed([]), []);
    assert.equal(useModelLoads(), before, 'the model was not loaded');
  });

  it('a fully cached USE + hashing combo never loads the real USE model; a miss loads it once and embeds only the misses', async () => {
    const texts = ['chest pain on exertion', 'persistent dry cough', 'itchy rash on both arms'];
    // Fill the cache for the USE part (rows keyed by the USE id), as an earlier run would have.
    const writer = withEmbeddingCache({ id: 'use-lite-en-512', dim: 512, maxChars: 2000, async embed(t) { return t.map(fakeUseVector); } } as Encoder, dir);
    await writer.embed(texts);

    // 1) the real encoder from createEncoder: every text hits, the model is never loaded
    const before = useModelLoads();
    const { encoder } = await createEncoder('combo:use+hashing:1024');
    const cached = withEmbeddingCache(encoder, dir);
    const v = await cached.embed(texts);
    assert.equal(useModelLoads(), before, 'USE-lite was not loaded for a fully cached run');
    assert.deepEqual(cached.stats, { hits: 3, misses: 0 });
    // the USE part of the combo is the cached row (normalised and weighted), the rest is hashing
    const u = fakeUseVector(texts[0]);
    const un = Math.sqrt(u.reduce((s, x) => s + x * x, 0));
    for (let j = 0; j < 512; j++) assert.ok(Math.abs(v[0][j] - u[j] / un / Math.SQRT2) < 1e-6);
    const h = (await createHashingEncoder({ dim: 1024 }).embed([texts[0]]))[0];
    for (let j = 0; j < 1024; j++) assert.ok(Math.abs(v[0][512 + j] - h[j] / Math.SQRT2) < 1e-6);

    // 2) counting loader: no load on hits, one load for misses, only the misses reach the model
    const { counts, load } = countingUseModel();
    const use = createUseEncoder({ load });
    const combo = withEmbeddingCache(createComboEncoder([{ encoder: use, weight: 1 }, { encoder: createHashingEncoder({ dim: 1024 }), weight: 1 }]), dir);
    await combo.embed(texts);
    assert.equal(counts.loads, 0);
    assert.equal(use.loaded, false);
    await combo.embed([texts[1], 'new text one', 'new text two']);
    assert.equal(counts.loads, 1);
    assert.deepEqual(counts.texts, ['new text one', 'new text two']);
    await combo.embed(['new text three']);
    assert.equal(counts.loads, 1, 'loaded once');

    // preload (used with eager: true, e.g. by warm predictors) loads up front, through the cache wrapper too
    const other = countingUseModel();
    const wrapped = withEmbeddingCache(createComboEncoder([{ encoder: createUseEncoder({ load: other.load }), weight: 1 }, { encoder: createHashingEncoder({ dim: 1024 }), weight: 1 }]), dir);
    await wrapped.preload?.();
    assert.equal(other.counts.loads, 1);
    assert.deepEqual(other.counts.texts, []);
  });

  it('beforeTfjsLoad (the training run choosing the tfjs backend) runs only when USE-lite loads: never for a fully cached run', async () => {
    const texts = ['chest pain on exertion', 'persistent dry cough'];
    const writer = withEmbeddingCache({ id: 'use-lite-en-512', dim: 512, maxChars: 2000, async embed(t) { return t.map(fakeUseVector); } } as Encoder, dir);
    await writer.embed(texts);
    const calls: string[] = [];
    const hook = async () => { calls.push('before'); };
    // the real encoder from createEncoder, every row cached: neither the hook nor the model load runs
    const loads = useModelLoads();
    const { encoder } = await createEncoder('combo:use+hashing:1024', { beforeTfjsLoad: hook });
    await withEmbeddingCache(encoder, dir).embed(texts);
    assert.equal(calls.length, 0, calls.join());
    assert.equal(useModelLoads(), loads);
    // a counting model: hits call nothing; the first miss calls the hook, then loads, once
    const { counts, load } = countingUseModel();
    const use = createUseEncoder({ load: async () => { calls.push('load'); return load(); }, beforeLoad: hook });
    const cached = withEmbeddingCache(use, dir);
    await cached.embed(texts);
    assert.equal(calls.length, 0, calls.join());
    await cached.embed(['new text one']);
    await cached.embed(['new text two']);
    assert.deepEqual(calls, ['before', 'load']);
    assert.equal(counts.loads, 1);
    // a failing hook fails that load; the next embed tries again
    let fail = true;
    const flaky = createUseEncoder({ load, beforeLoad: async () => { if (fail) throw new Error('no backend'); } });
    await assert.rejects(flaky.embed(['x']), /no backend/);
    fail = false;
    assert.equal((await flaky.embed(['x'])).length, 1);
  });

  it('a training run whose USE-lite rows are all cached loads no USE model and chooses no tfjs backend (none recorded)', async () => {
    const data = writeCsvDataset(join(dir, 'ds'), 6, 2);
    const store = join(dir, 'store');
    const ds = await loadDataset(data);
    const writer = withEmbeddingCache({ id: 'use-lite-en-512', dim: 512, maxChars: 2000, async embed(t) { return t.map(fakeUseVector); } } as Encoder, join(store, 'cache', 'embeddings'));
    await writer.embed([...ds.train, ...ds.test].map((s) => s.text));
    const loads = useModelLoads();
    const logs: string[] = [];
    const record = await runTraining(
      { config: { ...DEFAULT_CONFIG, dataset: data, encoder: 'combo:use+hashing:1024', classNames: false }, storeDir: store },
      { onEvent: (e) => { if (e.type === 'log') logs.push(e.message); } },
    );
    assert.equal(record.status, 'completed', JSON.stringify(record.error));
    assert.equal(record.encoder!.id, 'combo:use-lite-en-512+hashing-v1-char1-4-cjk3-word2x1-1024');
    assert.equal(record.timings!.computedEmbeddings, 0);
    assert.equal(useModelLoads(), loads, 'USE-lite was not loaded');
    assert.equal(record.backend, undefined, 'TensorFlow.js ran nothing, so no backend is recorded');
    assert.ok(!logs.some((m) => m.startsWith('Compute backend')), logs.join('\n'));
  });

  it('hf: reads the size from config.json, loads the model on the first embed, and checks the size then', async () => {
    const m = writeTinyModel(join(dir, 'tiny'), { seed: 3 });
    const { encoder, info } = await createEncoder(`hf:${m.dir}`);
    assert.equal(info.dim, m.hidden);
    assert.equal((encoder as Encoder & { loaded: boolean }).loaded, false, 'not loaded by createEncoder');
    const [v] = await encoder.embed(['red ball']);
    assert.equal((encoder as Encoder & { loaded: boolean }).loaded, true);
    const want = expectedEmbedding(m, 'red ball');
    assert.ok(Math.max(...Array.from(want, (w, i) => Math.abs(w - v[i]))) < 1e-5);
    encoder.dispose?.();

    // config.json that does not match the ONNX output: a clear error naming config.json
    const bad = writeTinyModel(join(dir, 'tiny-bad'), { seed: 4 });
    const cfgFile = join(bad.dir, 'config.json');
    writeFileSync(cfgFile, JSON.stringify({ ...JSON.parse(readFileSync(cfgFile, 'utf8')), hidden_size: bad.hidden * 2 }));
    const wrong = await createEncoder(`hf:${bad.dir}`);
    assert.equal(wrong.info.dim, bad.hidden * 2);
    await assert.rejects(wrong.encoder.embed(['the cat']), (e: FSE) => e.opts?.code === 'hf-dim-mismatch' && e.opts.file === cfgFile && !!e.opts.fix);
    const eager = await createEncoder(`combo:hashing:1024+hf:${m.dir}`, { eager: true });
    assert.equal((eager.encoder.parts![1].encoder as Encoder & { loaded: boolean }).loaded, true, 'eager loads at creation');
    eager.encoder.dispose?.();
    // eager: the size check at creation time
    await assert.rejects(createEncoder(`hf:${bad.dir}`, { eager: true }), (e: FSE) => e.opts?.code === 'hf-dim-mismatch');
  });
});

describe('encoders: resolved ids round-trip through createEncoder', function () {
  this.timeout(60000);

  it('recreates hashing, USE-lite and combo encoders from their ids (same id, size and vectors)', async () => {
    const texts = ['The cat sat on the mat.', '今天股市大幅下跌'];
    for (const spec of ['hashing', 'hashing:2048', 'use', 'combo:use+hashing:1024*0.5', 'combo:hashing:1024+hashing:2048*0.25', 'auto']) {
      const a = await createEncoder(spec, { language: 'zh' });
      const b = await createEncoder(a.info.id);
      assert.equal(b.info.id, a.info.id, spec);
      assert.equal(b.info.dim, a.info.dim, spec);
      assert.equal(b.info.requested, a.info.id);
      if (!a.info.id.includes('use-lite')) {
        const [va, vb] = [await a.encoder.embed(texts), await b.encoder.embed(texts)];
        assert.deepEqual(Array.from(vb[1]), Array.from(va[1]), spec);
      }
    }
    // non-default hashing settings survive the round trip (the short spec 'hashing:<dim>' would lose them)
    const custom = createHashingEncoder({ dim: 4096, minN: 2, maxN: 5, cjkMaxN: 2, wordN: 1, wordWeight: 0.5 });
    const again = await createEncoder(custom.id);
    assert.equal(again.encoder.id, custom.id);
    assert.deepEqual(Array.from((await again.encoder.embed(['hello world']))[0]), Array.from((await custom.embed(['hello world']))[0]));
  });

  it('hf ids carry the dtype: hf:<folder>@q8 loads the quantized file', async () => {
    const root = mkdtempSync(join(tmpdir(), 'fsl-ids-'));
    try {
      const m = writeTinyModel(join(root, 'q'), { quantizedName: true, seed: 9 });
      const a = await createEncoder(`hf:${m.dir}`, { hf: { dtype: 'q8' } });
      assert.equal(a.info.id, `hf:${m.dir}@q8`);
      const b = await createEncoder(a.info.id);
      assert.equal(b.info.id, a.info.id);
      const [v] = await b.encoder.embed(['the dog']);
      const want = expectedEmbedding(m, 'the dog');
      assert.ok(Math.max(...Array.from(want, (w, i) => Math.abs(w - v[i]))) < 1e-5);
      b.encoder.dispose?.();
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('parses and validates specs without loading anything', () => {
    assert.deepEqual(parseEncoderSpec(' hashing:2048 '), { kind: 'hashing', params: { dim: 2048 } });
    assert.deepEqual(parseEncoderSpec('hf:Xenova/bge-small-en-v1.5@q8'), { kind: 'hf', ref: 'Xenova/bge-small-en-v1.5', dtype: 'q8' });
    assert.equal(parseEncoderSpec('combo:use-lite-en-512+hashing-v1-char1-4-cjk3-word2x1-16384*0.8').kind, 'combo');
    for (const ok of ['auto', 'hashing', 'hashing:16384', 'use', 'use-lite-en-512', 'hf:/models/x', 'combo:use+hashing*0.8', 'hashing-v1-char1-4-cjk3-word2x1-16384']) {
      assert.equal(encoderSpecProblem(ok), null, ok);
    }
    for (const bad of ['hashing:1000', 'hashing:abc', 'use-foo', 'hf:', 'combo:use', 'combo:use+auto', 'combo:use+hashing*0', 'word2vec', 'hashing-v1-char1-4-cjk3-word2x1-1000']) {
      const p = encoderSpecProblem(bad);
      assert.ok(p, bad);
      assert.ok(p!.message.includes(bad.trim()) && p!.fix.length > 10, `${bad}: ${JSON.stringify(p)}`);
    }
    assert.ok(encoderSpecProblem(42));
    assert.deepEqual(shortSpecFromId('combo:use-lite-en-512*2+hf:/m@q8'), { spec: 'combo:use*2+hf:/m', dtype: 'q8' });
  });
});
