import * as assert from 'node:assert/strict';
import { createEncoder } from '../../src/core/encoders';

const dot = (a: Float32Array, b: Float32Array) => a.reduce((s, v, i) => s + v * b[i], 0);

describe('encoders: use (USE-lite, offline from node_modules)', function () {
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

  it('auto for English builds the USE-lite + hashing combo', async () => {
    const { encoder, info } = await createEncoder('auto', { language: 'en', hashingDim: 1024 });
    assert.equal(info.id, 'combo:use-lite-en-512+hashing-v1-char1-4-cjk3-word2x1-1024');
    assert.equal(encoder.dim, 512 + 1024);
    assert.match(info.reason, /English/);
    const [v] = await encoder.embed(['hello world']);
    assert.ok(Math.abs(Math.sqrt(dot(v, v)) - 1) < 1e-4);
  });
});
