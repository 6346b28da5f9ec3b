import * as assert from 'node:assert/strict';
import { FNV_OFFSET, fnv1a, fnvStep } from '../../src/core/util/hash';

describe('util/hash: the one FNV-1a', () => {
  it('matches the published 32-bit FNV-1a test vectors', () => {
    // http://www.isthe.com/chongo/src/fnv/test_fnv.c (FNV1A_32)
    assert.equal(fnv1a(''), 0x811c9dc5);
    assert.equal(fnv1a('a'), 0xe40c292c);
    assert.equal(fnv1a('foobar'), 0xbf9cf968);
  });

  it('steps compose into the string hash, and a basis gives an independent hash', () => {
    let h = FNV_OFFSET;
    for (const c of 'foobar') h = fnvStep(h, c.charCodeAt(0));
    assert.equal(h >>> 0, fnv1a('foobar'));
    assert.notEqual(fnv1a('foobar', 0x9747b28c), fnv1a('foobar'));
    assert.ok(Number.isInteger(fnv1a('发热三天', 12345)) && fnv1a('发热三天', 12345) >= 0);
  });
});
