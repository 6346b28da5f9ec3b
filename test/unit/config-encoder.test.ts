import * as assert from 'node:assert/strict';
import { DEFAULT_CONFIG, configProblems } from '../../src/core/config';
import { createEncoder } from '../../src/core/encoders';

const cfg = (encoder: unknown) => ({ ...DEFAULT_CONFIG, dataset: '/d', encoder }) as Parameters<typeof configProblems>[0];

describe('config: encoder check matches createEncoder', () => {
  it('accepts every spec and resolved id that createEncoder accepts', async () => {
    for (const encoder of ['auto', 'hashing', 'hashing:1024', 'hashing:262144', ' hashing:2048 ', 'use', 'use-lite-en-512', 'hf:Xenova/all-MiniLM-L6-v2', 'hf:/models/x@q8',
      'combo:use+hashing*0.8', 'combo:hashing:1024+hashing:2048*0.5', 'hashing-v1-char1-4-cjk3-word2x1-16384',
      'combo:use-lite-en-512+hashing-v1-char1-4-cjk3-word2x1-16384*0.8']) {
      assert.deepEqual(configProblems(cfg(encoder)), [], encoder);
    }
    // and createEncoder does accept the ones that need no model files
    for (const encoder of ['hashing:1024', ' hashing:2048 ', 'combo:hashing:1024+hashing:2048*0.5', 'hashing-v1-char1-4-cjk3-word2x1-16384']) {
      await createEncoder(encoder);
    }
  });

  it('rejects what createEncoder rejects, naming the spec and a fix', async () => {
    for (const encoder of ['hashing:1000', 'hashing:x', 'use-foo', 'bert', 'combo:use', 'combo:use+combo:a+b', 'hf:', 42]) {
      const p = configProblems(cfg(encoder));
      assert.equal(p.length, 1, String(encoder));
      assert.equal(p[0].field, 'encoder');
      assert.ok(p[0].message.includes(String(encoder)), p[0].message);
      assert.ok(p[0].fix.length > 10);
      if (typeof encoder === 'string') await assert.rejects(createEncoder(encoder), (e: Error) => e.name === 'FewShotError', encoder);
    }
  });
});
