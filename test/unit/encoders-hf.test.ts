import * as assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createEncoder, checkModelFolder, withEmbeddingCache, hfModelAvailable } from '../../src/core/encoders';
import { writeTinyModel, expectedEmbedding, referenceIds } from './helpers/tinyModel';

type FSE = Error & { opts?: { file?: string; fix?: string; code?: string } };

describe('encoders: hf (transformers.js) with a generated tiny BERT model', function () {
  this.timeout(60000);
  let root: string;
  before(() => { root = mkdtempSync(join(tmpdir(), 'fsl-hf-')); });
  after(() => rmSync(root, { recursive: true, force: true }));

  it('loads a local folder and returns mask-aware mean-pooled, L2-normalised embeddings', async () => {
    const m = writeTinyModel(join(root, 'tiny'));
    const texts = ['The cat sat on the mat.', 'a big red ball', 'dogs ran far away!', '你好，世界', 'zebra cat'];
    // the reference tokenisation must exercise subwords, CJK and unknown words
    assert.deepEqual(referenceIds(m, 'dogs'), [2, m.vocab.indexOf('dog'), m.vocab.indexOf('##s'), 3]);
    assert.ok(referenceIds(m, 'zebra cat').includes(1), 'zebra is [UNK]');
    const { encoder, info } = await createEncoder(`hf:${m.dir}`, { hf: { allowRemote: false } });
    try {
      assert.equal(encoder.dim, m.hidden);
      assert.equal(info.dim, m.hidden);
      assert.equal(info.id, `hf:${m.dir}`);
      const progress: number[] = [];
      const got = await encoder.embed(texts, (d) => progress.push(d));
      assert.equal(progress[progress.length - 1], texts.length);
      texts.forEach((t, i) => {
        const want = expectedEmbedding(m, t);
        const maxDiff = Math.max(...Array.from(want, (w, h) => Math.abs(w - got[i][h])));
        assert.ok(maxDiff < 1e-5, `text ${i} (${t}): max diff ${maxDiff}`);
      });
      // padding must not change the result: the short text alone gives the same vector as in the batch
      const [alone] = await encoder.embed(['a big red ball']);
      assert.ok(Math.max(...Array.from(alone, (v, h) => Math.abs(v - got[1][h]))) < 1e-5);
      assert.equal(process.env.ORT_DISABLE_TELEMETRY, '1');
    } finally {
      encoder.dispose?.();
    }
  });

  it('reads onnx/model_quantized.onnx with dtype q8 and works with the embedding cache', async () => {
    const m = writeTinyModel(join(root, 'tiny-q8'), { quantizedName: true, seed: 11 });
    assert.equal(checkModelFolder(m.dir), 'q8', 'only the quantized file → q8');
    const { encoder } = await createEncoder(`hf:${m.dir}`, { hf: { dtype: 'q8' } });
    const cached = withEmbeddingCache(encoder, join(root, 'cache'));
    const a = await cached.embed(['the dog', 'a cat']);
    const b = await cached.embed(['a cat', 'the dog']);
    assert.deepEqual(cached.stats, { hits: 2, misses: 2 });
    assert.deepEqual(Array.from(b[1]), Array.from(a[0]));
    const want = expectedEmbedding(m, 'the dog');
    assert.ok(Math.max(...Array.from(want, (w, h) => Math.abs(w - a[0][h]))) < 1e-5);
    assert.match(encoder.id, /@q8$/);
  });

  for (const missing of ['config.json', 'tokenizer.json', 'tokenizer_config.json', 'onnx/model.onnx']) {
    it(`names the missing ${missing} and the fix`, async () => {
      const m = writeTinyModel(join(root, `miss-${missing.replace('/', '_')}`), { omit: [missing] });
      await assert.rejects(createEncoder(`hf:${m.dir}`), (e: FSE) => {
        assert.equal(e.name, 'FewShotError');
        assert.ok(e.message.includes(missing), e.message);
        assert.equal(e.opts?.file, join(m.dir, missing));
        assert.ok((e.opts?.fix ?? '').length > 10);
        return true;
      });
      assert.equal(hfModelAvailable(m.dir), false);
    });
  }

  it('a hub id that is not cached fails fast offline with a clear FewShotError (no network, no hang)', async () => {
    const t0 = Date.now();
    await assert.rejects(createEncoder('hf:Xenova/all-MiniLM-L6-v2', { hf: { cacheDir: join(root, 'hub'), allowRemote: false } }), (e: FSE) => {
      assert.equal(e.name, 'FewShotError');
      assert.equal(e.opts?.code, 'hf-not-cached');
      assert.match(e.message, /Xenova\/all-MiniLM-L6-v2/);
      assert.match(e.opts?.fix ?? '', /allowRemoteModels/);
      return true;
    });
    assert.ok(Date.now() - t0 < 5000);
  });

  it('loads a hub id from the cache folder when it is there', async () => {
    const hub = join(root, 'hub2');
    const m = writeTinyModel(join(hub, 'acme', 'tiny-bert'), { seed: 5 });
    assert.equal(hfModelAvailable('acme/tiny-bert', { cacheDir: hub }), true);
    const { encoder, info } = await createEncoder('hf:acme/tiny-bert', { hf: { cacheDir: hub, allowRemote: false } });
    assert.equal(info.id, 'hf:acme/tiny-bert');
    const [v] = await encoder.embed(['red ball']);
    const want = expectedEmbedding(m, 'red ball');
    assert.ok(Math.max(...Array.from(want, (w, h) => Math.abs(w - v[h]))) < 1e-5);
  });

  it('auto uses a configured local HF model and says so', async () => {
    const m = writeTinyModel(join(root, 'auto-model'));
    const { info } = await createEncoder('auto', { language: 'zh', hf: { localModelPath: m.dir } });
    assert.equal(info.id, `hf:${m.dir}`);
    assert.match(info.reason, /Hugging Face/);
  });
});

describe('encoders: auto finds a cached sentence model', function () {
  this.timeout(60000);
  it('uses a known model id found in the HF cache folder, and falls back by language otherwise', async () => {
    const { resolveAuto } = await import('../../src/core/encoders');
    const hub = mkdtempSync(join(tmpdir(), 'fsl-hub-'));
    try {
      assert.equal(resolveAuto({ language: 'zh', hf: { cacheDir: hub } }).spec, 'chargram');
      writeTinyModel(join(hub, 'Xenova', 'bge-small-zh-v1.5'));
      const r = resolveAuto({ language: 'zh', hf: { cacheDir: hub } });
      assert.equal(r.spec, 'hf:Xenova/bge-small-zh-v1.5');
      assert.match(r.reason, /local cache/);
      assert.equal(resolveAuto({ language: 'en', hf: { cacheDir: hub } }).spec, 'combo:use+minilm+hashing', 'the Chinese model is not used for English');
      const { info } = await createEncoder('auto', { language: 'zh', hf: { cacheDir: hub } });
      assert.equal(info.id, 'hf:Xenova/bge-small-zh-v1.5');
    } finally {
      rmSync(hub, { recursive: true, force: true });
    }
  });
});
