import * as assert from 'node:assert/strict';
import { augment, augmentTexts, englishSynonyms, chineseSynonyms, splitPassages, classNameText, PASSAGE_MAX_PARTS, PASSAGE_MIN_CHARS } from '../../src/core/augment';

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

describe('augment: passages and class names', () => {
  const sentence = (i: number) => `Sentence number ${i} describes the patient's symptoms in plain words and ends here.`;

  it('splits a long text at sentence ends into 2–3 passages that together are the text', () => {
    const text = Array.from({ length: 12 }, (_, i) => sentence(i)).join(' '); // ≈ 1,000 characters
    const parts = splitPassages(text);
    assert.equal(parts.length, 2, `${text.length} characters → floor(len / 400) = 2 passages`);
    assert.equal(parts.join(' '), text, 'consecutive, nothing lost or reordered');
    for (const p of parts) assert.match(p, /\.$/, 'never cuts a sentence');
    const longer = Array.from({ length: 40 }, (_, i) => sentence(i)).join(' ');
    assert.equal(splitPassages(longer).length, PASSAGE_MAX_PARTS, 'at most 3 passages');
    assert.ok(Math.abs(splitPassages(longer)[0].length - longer.length / 3) < 120, 'about equal lengths');
  });

  it('leaves short texts and single sentences alone', () => {
    assert.deepEqual(splitPassages('Short note. Nothing to split.'), []);
    assert.deepEqual(splitPassages('x'.repeat(PASSAGE_MIN_CHARS * 2 - 1) + '.'), []);
    assert.deepEqual(splitPassages('word '.repeat(400)), [], 'no sentence end: one sentence');
  });

  it('splits Chinese text at Chinese full stops', () => {
    const text = Array.from({ length: 30 }, (_, i) => `患者第${i}次复诊，自述头痛症状明显减轻，睡眠质量较前改善，建议继续观察。`).join('');
    const parts = splitPassages(text);
    assert.equal(parts.length, 2);
    assert.equal(parts.join('').replace(/\s/g, ''), text);
    for (const p of parts) assert.match(p, /。$/);
  });

  it('reads class names as prior examples only when they are words in the dataset script', () => {
    assert.equal(classNameText('cardiology', 'en'), 'cardiology');
    assert.equal(classNameText('B_blood', 'en'), 'blood');
    assert.equal(classNameText('belles_lettres', 'en'), 'belles lettres');
    assert.equal(classNameText('sideEffects', 'en'), 'side effects');
    for (const code of ['man1', 'c2', '12', 'A', '心内科']) assert.equal(classNameText(code, 'en'), null, code);
    assert.equal(classNameText('心内科', 'zh'), '心内科');
    assert.equal(classNameText('shijing', 'zh'), null, 'a Latin-script name says nothing about Chinese texts');
  });
});
