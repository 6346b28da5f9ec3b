import * as assert from 'node:assert/strict';
import { createEncoder } from '../../src/core/encoders';

const dot = (a: Float32Array, b: Float32Array) => a.reduce((s, v, i) => s + v * b[i], 0);

describe('encoders: use (USE-lite int8, offline from models/)', function () {
  this.timeout(120000);

  it('gives 512-d unit vectors that put paraphrases closer than unrelated text', async () => {
    const { encoder, info } = await createEncoder('use');
    assert.equal(info.dim, 512);
    assert.equal(encoder.id, 'use-lite-en-512');
    const seen: number[] = [];
    const [a, b, c, empty] = await encoder.embed(['How old are you?', 'What is your age?', 'The pasta needs more salt.', ''], (d) => seen.push(d));
    assert.equal(seen[seen.length - 1], 4);
    assert.ok(Math.abs(Math.sqrt(dot(a, a)) - 1) < 1e-4);
    assert.ok(dot(a, b) > dot(a, c) + 0.2, `${dot(a, b)} vs ${dot(a, c)}`);
    assert.equal(empty.length, 512, 'empty text still gets a vector');
  });

  it('auto for English builds the USE-lite + MiniLM + hashing combo', async () => {
    const { encoder, info } = await createEncoder('auto', { language: 'en', hashingDim: 1024 });
    assert.equal(info.id, 'combo:use-lite-en-512+minilm-l6-v2-int8-384+hashing-v1-char1-4-cjk3-word2x1-1024');
    assert.equal(encoder.dim, 512 + 384 + 1024);
    assert.match(info.reason, /English/);
    const [v] = await encoder.embed(['hello world']);
    assert.ok(Math.abs(Math.sqrt(dot(v, v)) - 1) < 1e-4);
  });
});

describe('encoders: use keeps its tfjs backend when the engine is switched', function () {
  this.timeout(180000);
  it('still embeds on its own backend (same vectors, no slow-down) after selectBackend("cpu"), and leaves cpu selected', async () => {
    const { selectBackend } = await import('../../src/core/heads');
    const tf = await import('@tensorflow/tfjs-core');
    await selectBackend('wasm');
    const { encoder } = await createEncoder('use');
    const texts = Array.from({ length: 16 }, (_, i) => `Patient ${i} reports chest pain and shortness of breath after climbing stairs.`);
    await encoder.embed(texts.slice(0, 2)); // load + warm up
    let t = Date.now();
    const onWasm = await encoder.embed(texts);
    const wasmMs = Date.now() - t;
    assert.equal((await selectBackend('cpu')).name, 'cpu');
    t = Date.now();
    const afterSwitch = await encoder.embed(texts);
    const afterMs = Date.now() - t;
    assert.equal(tf.getBackend(), 'cpu', 'the backend chosen for heads is restored after embedding');
    for (let i = 0; i < texts.length; i++) {
      assert.ok(Math.max(...Array.from(onWasm[i], (v, j) => Math.abs(v - afterSwitch[i][j]))) < 1e-4, `text ${i}`);
    }
    // On tfjs' plain cpu backend this takes 10–30× longer; allow generous noise on a shared machine.
    assert.ok(afterMs < Math.max(4 * wasmMs, 3000), `after switching: ${afterMs} ms vs ${wasmMs} ms`);
    await selectBackend('wasm');
  });
});
