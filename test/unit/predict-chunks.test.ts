import * as assert from 'node:assert/strict';
import { predictInChunks } from '../../src/extension/predict/chunks';

describe('Predict Each Line: chunks', () => {
  const upper = async (chunk: string[]) => ({ predictions: chunk.map((s) => s.toUpperCase()), ms: 2 });

  it('sends big inputs in chunks, in order, with progress after each chunk', async () => {
    const texts = Array.from({ length: 1234 }, (_, i) => `line ${i}`);
    const sizes: number[] = [];
    const progress: number[] = [];
    const r = await predictInChunks(texts, async (c) => { sizes.push(c.length); return upper(c); }, { chunk: 500, onChunk: (d, t) => { assert.equal(t, 1234); progress.push(d); } });
    assert.deepEqual(sizes, [500, 500, 234]);
    assert.deepEqual(progress, [500, 1000, 1234]);
    assert.deepEqual(r.predictions, texts.map((s) => s.toUpperCase()));
    assert.equal(r.ms, 6);
    assert.equal(r.cancelled, false);
  });

  it('stops sending chunks once cancelled and says how far it got', async () => {
    let stop = false;
    let calls = 0;
    const r = await predictInChunks(Array.from({ length: 50 }, (_, i) => String(i)), async (c) => { calls++; return upper(c); }, {
      chunk: 10, cancelled: () => stop, onChunk: (d) => { if (d === 20) stop = true; },
    });
    assert.equal(calls, 2);
    assert.equal(r.cancelled, true);
    assert.equal(r.predictions.length, 20);
  });

  it('refuses a predictor answer of the wrong length', async () => {
    await assert.rejects(predictInChunks(['a', 'b'], async () => ({ predictions: ['A'], ms: 1 })), /1 predictions for 2 lines/);
  });
});
