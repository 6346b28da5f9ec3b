import * as assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync, appendFileSync, readdirSync, truncateSync, openSync, writeSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createEncoder, createHashingEncoder, withEmbeddingCache, cacheFolderFor, resolveAuto, type Encoder } from '../../src/core/encoders';

const dot = (a: Float32Array, b: Float32Array) => a.reduce((s, v, i) => s + v * b[i], 0);
const norm = (a: Float32Array) => Math.sqrt(dot(a, a));

describe('encoders: hashing', () => {
  it('is deterministic, L2-normalised and of the configured dimension', async () => {
    const e1 = createHashingEncoder({ dim: 4096 });
    const e2 = createHashingEncoder({ dim: 4096 });
    const texts = ['The cat sat on the mat.', 'Quarterly revenue rose 12%', ''];
    const a = await e1.embed(texts);
    const b = await e2.embed(texts);
    assert.equal(a.length, 3);
    assert.equal(a[0].length, 4096);
    assert.deepEqual(Array.from(a[0]), Array.from(b[0]));
    assert.deepEqual(Array.from(a[1]), Array.from(b[1]));
    assert.ok(Math.abs(norm(a[0]) - 1) < 1e-5);
    assert.equal(norm(a[2]), 0, 'empty text gives the zero vector');
    assert.equal(e1.id, e2.id);
    assert.notEqual(createHashingEncoder({ dim: 8192 }).id, e1.id, 'id depends on the dimension');
  });

  it('puts similar texts closer than unrelated ones (English and Chinese)', async () => {
    const e = createHashingEncoder();
    const [a, b, c] = await e.embed(['the stock market fell sharply today', 'stock markets fell sharply on Monday', 'my grandmother bakes apple pie']);
    assert.ok(dot(a, b) > dot(a, c) + 0.2, `${dot(a, b)} vs ${dot(a, c)}`);
    const [z1, z2, z3] = await e.embed(['今天股市大幅下跌', '股市今天下跌了', '奶奶在厨房烤苹果派']);
    assert.ok(norm(z1) > 0.99, 'Chinese text is encoded (not the zero vector)');
    assert.ok(dot(z1, z2) > dot(z1, z3) + 0.2, `${dot(z1, z2)} vs ${dot(z1, z3)}`);
    // different Chinese texts give different vectors (USE-lite maps all of them to one vector)
    assert.ok(dot(z1, z3) < 0.5);
  });

  it('honours maxChars and reports progress in batches', async () => {
    const e = createHashingEncoder({ maxChars: 10, batchSize: 2 });
    const [x, y] = await e.embed(['abcdefghij' + 'zzzzzzzzzzzzzz', 'abcdefghij']);
    assert.deepEqual(Array.from(x), Array.from(y), 'text cut after 10 characters');
    const seen: [number, number][] = [];
    await e.embed(['a', 'b', 'c', 'd', 'e'], (d, t) => seen.push([d, t]));
    assert.deepEqual(seen, [[2, 5], [4, 5], [5, 5]]);
  });

  it('rejects a dimension that is not a power of two', async () => {
    assert.throws(() => createHashingEncoder({ dim: 1000 }), /power of two/);
    await assert.rejects(createEncoder('hashing:1000'), (e: Error & { opts?: { fix?: string } }) => e.name === 'FewShotError' && !!e.opts?.fix);
  });
});

describe('encoders: createEncoder / auto / combo', () => {
  it('auto picks hashing for Chinese and says why', async () => {
    const { encoder, info } = await createEncoder('auto', { language: 'zh' });
    assert.equal(info.requested, 'auto');
    assert.match(info.id, /^chargram/); // character n-gram hashing with punctuation (src/core/fewshot/chargram.ts)
    assert.equal(info.dim, encoder.dim);
    assert.match(info.reason, /Chinese/);
    assert.match(info.reason, /hashing/);
  });

  it('auto for English resolves to USE-lite + the bundled MiniLM + hashing, and to a configured HF folder when it is complete', () => {
    assert.equal(resolveAuto({ language: 'en' }).spec, 'combo:use+minilm+hashing');
    const r = resolveAuto({ language: 'en', hf: { localModelPath: '/nonexistent/model' } });
    assert.equal(r.spec, 'combo:use+minilm+hashing', 'an incomplete HF folder is not picked');
  });

  it('auto for English falls back to USE-lite + hashing, saying why, when the bundled model is missing', () => {
    const saved = process.env.FEWSHOT_MODELS_DIR;
    process.env.FEWSHOT_MODELS_DIR = join(tmpdir(), 'fsl-no-models-here');
    try {
      const r = resolveAuto({ language: 'en' });
      assert.equal(r.spec, 'combo:use+hashing');
      assert.match(r.reason, /bundled MiniLM is missing/);
    } finally {
      if (saved === undefined) delete process.env.FEWSHOT_MODELS_DIR;
      else process.env.FEWSHOT_MODELS_DIR = saved;
    }
  });

  it('combo concatenates per-part L2-normalised, weighted vectors', async () => {
    const { encoder, info } = await createEncoder('combo:hashing:1024+hashing:2048*0.5');
    assert.equal(encoder.dim, 3072);
    assert.equal(info.dim, 3072);
    const [v] = await encoder.embed(['hello world']);
    const a = v.subarray(0, 1024);
    const b = v.subarray(1024);
    assert.ok(Math.abs(norm(v) - 1) < 1e-5);
    // weights 1 and 0.5 → part norms 1/sqrt(1.25) and 0.5/sqrt(1.25)
    assert.ok(Math.abs(norm(a) - 1 / Math.sqrt(1.25)) < 1e-5);
    assert.ok(Math.abs(norm(b) - 0.5 / Math.sqrt(1.25)) < 1e-5);
  });

  it('unknown specs fail with a FewShotError that has a fix', async () => {
    await assert.rejects(createEncoder('word2vec'), (e: Error & { opts?: { fix?: string } }) => e.name === 'FewShotError' && /auto, hashing, chargram, use, minilm/.test(e.opts?.fix ?? ''));
  });
});

/** A fake encoder that counts which texts it was asked to embed. */
function counting(dim = 4): Encoder & { calls: string[][] } {
  const calls: string[][] = [];
  return {
    id: 'fake-count-v1', dim, maxChars: 100, calls,
    async embed(texts) {
      calls.push([...texts]);
      return texts.map((t) => {
        const v = new Float32Array(dim);
        for (let i = 0; i < t.length; i++) v[i % dim] += t.charCodeAt(i);
        return v;
      });
    },
  };
}

describe('encoders: embedding cache', () => {
  let dir: string;
  beforeEach(() => { dir = mkdtempSync(join(tmpdir(), 'fsl-cache-')); });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('re-embedding identical texts hits the cache (wrapped encoder not called again)', async () => {
    const base = counting();
    const c = withEmbeddingCache(base, dir);
    const first = await c.embed(['alpha', 'beta', 'alpha']);
    assert.deepEqual(base.calls, [['alpha', 'beta']], 'duplicates inside a batch are embedded once');
    assert.deepEqual(c.stats, { hits: 0, misses: 3 });
    const second = await c.embed(['beta', 'alpha', 'gamma']);
    assert.deepEqual(base.calls, [['alpha', 'beta'], ['gamma']], 'only the new text reaches the encoder');
    assert.deepEqual(c.stats, { hits: 2, misses: 4 });
    assert.deepEqual(Array.from(second[0]), Array.from(first[1]));
    assert.deepEqual(Array.from(second[1]), Array.from(first[0]));
  });

  it('persists across instances (new process) and keys by encoder id', async () => {
    await withEmbeddingCache(counting(), dir).embed(['one', 'two']);
    const base2 = counting();
    const c2 = withEmbeddingCache(base2, dir);
    const v = await c2.embed(['two', 'one']);
    assert.equal(base2.calls.length, 0);
    assert.equal(c2.stats.hits, 2);
    assert.equal(v[0][0] + v[0][1] + v[0][2] + v[0][3], 't'.charCodeAt(0) + 'w'.charCodeAt(0) + 'o'.charCodeAt(0));
    const other = { ...counting(), id: 'fake-count-v2' } as Encoder & { calls: string[][] };
    const c3 = withEmbeddingCache(other, dir);
    await c3.embed(['one']);
    assert.equal(c3.stats.misses, 1, 'another encoder id does not share rows');
    assert.equal(readdirSync(dir).length, 2);
  });

  it('tolerates a torn write at the end of the file', async () => {
    await withEmbeddingCache(counting(), dir).embed(['one', 'two']);
    const file = join(cacheFolderFor(dir, 'fake-count-v1'), 'rows.bin');
    const size = statSync(file).size;
    appendFileSync(file, Buffer.from([0x46, 0x53, 0x45, 0x31, 1, 2, 3])); // half a record
    const base = counting();
    const c = withEmbeddingCache(base, dir);
    const v = await c.embed(['one', 'three']);
    assert.deepEqual(base.calls, [['three']]);
    assert.equal(statSync(file).size, size + (size / 2), 'torn tail cut, one new record appended');
    assert.ok(v[1].length === 4);
    // a record whose bytes were cut in the middle is dropped, the earlier ones survive
    truncateSync(file, size + 10);
    const base2 = counting();
    const c2 = withEmbeddingCache(base2, dir);
    await c2.embed(['one', 'two', 'three']);
    assert.deepEqual(base2.calls, [['three']]);
  });

  it('reads a cache of several MB in chunks: every row back, all at once or scattered, bad records found past the first chunk', async () => {
    // 512-d rows of 2,084 bytes: 2,500 rows make 5.2 MB, more than one read of the key scan and of the rows
    const vec = (t: string) => { const v = new Float32Array(512); for (let j = 0; j < 512; j++) v[j] = Math.fround(Math.sin(t.length * 31 + j * (t.charCodeAt(t.length - 1) % 13 + 1))); return v; };
    const fake = (): Encoder & { calls: number } => {
      const e = { id: 'fake-512-v1', dim: 512, maxChars: 2000, calls: 0, async embed(t: string[]) { e.calls++; return t.map(vec); } };
      return e;
    };
    const texts = Array.from({ length: 2500 }, (_, i) => `text number ${i}`);
    await withEmbeddingCache(fake(), dir).embed(texts);
    const all = fake();
    const c = withEmbeddingCache(all, dir);
    const v = await c.embed(texts);
    assert.equal(all.calls, 0);
    assert.deepEqual(c.stats, { hits: 2500, misses: 0 });
    for (const i of [0, 1, 2011, 2012, 2013, 2499]) assert.deepEqual(Array.from(v[i]), Array.from(vec(texts[i])), texts[i]);
    const few = [2499, 3, 1200, 2013, 7].map((i) => texts[i]);
    const scattered = fake();
    const s2 = withEmbeddingCache(scattered, dir);
    const w = await s2.embed(few);
    assert.equal(scattered.calls, 0);
    few.forEach((t, j) => assert.deepEqual(Array.from(w[j]), Array.from(vec(t)), t));
    // a bad record beyond the first 4 MB: the file is cut there, the rows before it still hit
    const file = join(cacheFolderFor(dir, 'fake-512-v1'), 'rows.bin');
    const rec = 36 + 512 * 4;
    const fd = openSync(file, 'r+');
    try { writeSync(fd, Buffer.from([0, 0, 0, 0]), 0, 4, 2300 * rec); } finally { closeSync(fd); }
    const cut = fake();
    const s3 = withEmbeddingCache(cut, dir);
    await s3.embed([texts[2299], texts[2300]]);
    assert.equal(s3.stats.hits, 1);
    assert.equal(statSync(file).size, 2301 * rec, 'cut at the bad record, then the missing row appended');
  });

  it('passes non-cacheable encoders (hashing) straight through', async () => {
    const h = createHashingEncoder({ dim: 1024 });
    const c = withEmbeddingCache(h, dir);
    await c.embed(['x', 'y']);
    assert.deepEqual(c.stats, { hits: 0, misses: 2 });
    assert.equal(readdirSync(dir).length, 0, 'nothing written for hashing');
  });
});

describe('encoders: cache with combos', () => {
  it('caches each part of a combo separately and counts a text as a hit when all cached parts hit', async () => {
    const { createComboEncoder } = await import('../../src/core/encoders');
    const dir = mkdtempSync(join(tmpdir(), 'fsl-cache-combo-'));
    try {
      const a = counting(4);
      const b = { ...counting(3), id: 'fake-b' } as Encoder & { calls: string[][] };
      const combo = createComboEncoder([{ encoder: a, weight: 1 }, { encoder: b, weight: 0.5 }, { encoder: createHashingEncoder({ dim: 1024 }), weight: 1 }]);
      const c = withEmbeddingCache(combo, dir);
      assert.equal(c.id, combo.id);
      const v1 = await c.embed(['x1', 'x2']);
      const v2 = await withEmbeddingCache(combo, dir).embed(['x2', 'x1']);
      assert.equal(a.calls.length, 1);
      assert.equal(b.calls.length, 1);
      assert.deepEqual(Array.from(v2[0]), Array.from(v1[1]));
      assert.equal(v1[0].length, 4 + 3 + 1024);
      const c3 = withEmbeddingCache(combo, dir);
      await c3.embed(['x1', 'new']);
      assert.deepEqual(c3.stats, { hits: 1, misses: 1 });
      // a part shared with another spec reuses the same rows
      const alone = withEmbeddingCache(a, dir);
      await alone.embed(['x1', 'x2', 'new']);
      assert.equal(alone.stats.hits, 3);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
