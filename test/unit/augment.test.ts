import * as assert from 'node:assert/strict';
import { augment, augmentTexts, englishSynonyms, chineseSynonyms } from '../../src/core/augment';

describe('augment', function () {
  this.timeout(30000);

  it('finds English synonyms in WordNet for common words, none for stop/unknown words', () => {
    assert.ok(englishSynonyms('car').includes('automobile'), englishSynonyms('car').join(','));
    assert.ok(englishSynonyms('quickly').includes('rapidly'));
    assert.deepEqual(englishSynonyms('qwzxv'), []);
    assert.ok(!englishSynonyms('car').includes('car'));
  });

  it('has Chinese synonym groups', () => {
    assert.ok(chineseSynonyms('喜欢').includes('喜爱'));
    assert.deepEqual(chineseSynonyms('不存在的词'), []);
  });

  it('is seeded: same seed → same variants, other seed → different variants', async () => {
    const texts = ['The quick brown fox jumps over the lazy dog near the river bank.', 'I really like this movie, the actors were great and the story was funny.'];
    const a = await augment(texts, ['x', 'y'], 3, 42, 'en');
    const b = await augment(texts, ['x', 'y'], 3, 42, 'en');
    const c = await augment(texts, ['x', 'y'], 3, 7, 'en');
    assert.deepEqual(a, b);
    assert.notDeepEqual(a.texts, c.texts);
    assert.equal(a.texts.length, 6);
    assert.deepEqual(a.labels, ['x', 'x', 'x', 'y', 'y', 'y']);
    assert.deepEqual(a.source, [0, 0, 0, 1, 1, 1]);
    for (let i = 0; i < a.texts.length; i++) {
      const orig = texts[a.source[i]];
      assert.notEqual(a.texts[i], orig, 'a variant differs from its source');
      // synonym replacement keeps most words
      const ow = new Set(orig.toLowerCase().split(/\W+/));
      const kept = a.texts[i].toLowerCase().split(/\W+/).filter((w) => ow.has(w)).length;
      assert.ok(kept >= ow.size * 0.6, `${a.texts[i]}`);
    }
    assert.equal(new Set(a.texts.slice(0, 3)).size, 3, 'variants of one text are distinct');
  });

  it('a text’s variants do not depend on the other texts in the batch', async () => {
    const one = await augmentTexts(['The weather was cold and the road was dangerous.'], 2, { seed: 3, language: 'en' });
    const two = await augmentTexts(['The weather was cold and the road was dangerous.', 'Another sentence about happy children.'], 2, { seed: 3, language: 'en' });
    assert.deepEqual(one[0], two[0]);
  });

  it('augments Chinese with synonyms (and falls back to deletion)', async () => {
    const [v1, v2] = await augmentTexts(['我非常喜欢这个城市，因为它很美丽。', '床前明月光，疑是地上霜。'], 2, { seed: 1, language: 'zh' });
    assert.equal(v1.length, 2);
    assert.ok(v1.some((v) => /喜爱|爱好|十分|特别|都市|漂亮|好看|由于/.test(v)), v1.join(' | '));
    assert.equal(v2.length, 2);
    for (const v of v2) assert.notEqual(v, '床前明月光，疑是地上霜。');
  });

  it('n = 0 gives nothing; texts that allow no variant give fewer', async () => {
    assert.deepEqual(await augmentTexts(['hello there friend'], 0, { seed: 1 }), [[]]);
    const [v] = await augmentTexts(['ok'], 3, { seed: 1, language: 'en' });
    assert.ok(v.length < 3);
  });
});
