import * as assert from 'node:assert/strict';
import { sampleK } from '../../scripts/bench/corpora';
import { imageSplit, parseImagesArgs, trainingRows } from '../../scripts/bench/images';
import type { ImageSample } from '../../src/core/images';

const sample = (label: string, i: number, group?: string): ImageSample =>
  ({ file: `/d/${label}/${i}.png`, label, bytes: 1, width: 64, height: 64, format: 'png', sha256: `${label}${i}`, ...(group ? { group } : {}) });
const many = (label: string, n: number) => Array.from({ length: n }, (_, i) => sample(label, i));

describe('bench images (issue 17)', () => {
  it('parses the options, with the issue\'s K = 4, 8, 16 and 5 seeds as defaults, and names a bad value', () => {
    const d = parseImagesArgs([]);
    assert.deepEqual([d.ks, d.seeds, d.augment, d.testPerClass], [[4, 8, 16], 5, 4, 30]);
    const a = parseImagesArgs(['--data', 'x', '--k', '2,3', '--seeds', '1', '--augment', '0', '--no-cache']);
    assert.deepEqual([a.data, a.ks, a.seeds, a.augment, a.cache], ['x', [2, 3], 1, 0, false]);
    assert.throws(() => parseImagesArgs(['--k', '4,x']), /--k needs a whole number ≥ 1, got "x"/);
    assert.throws(() => parseImagesArgs(['--bogus']), /unknown argument --bogus/);
  });

  it('splits class folders into a fixed test side of perClass images per class and a disjoint pool; K per class from the pool', () => {
    const train = [...many('cat', 20), ...many('dog', 12)];
    const s = imageSplit(train, [], false, 5);
    for (const l of ['cat', 'dog']) assert.equal(s.test.filter((i) => i.label === l).length, 5);
    assert.equal(s.pool.length, 32 - 10);
    const test = new Set(s.test.map((i) => i.text));
    assert.ok(s.pool.every((i) => !test.has(i.text)));
    assert.deepEqual(imageSplit(train, [], false, 5), s, 'seeded: the same split every time');
    const k = sampleK(s.pool, 4, 3);
    assert.deepEqual(['cat', 'dog'].map((l) => k.filter((i) => i.label === l).length), [4, 4]);
    assert.ok(k.every((i) => !test.has(i.text)));
  });

  it('keeps a given test folder as the test side (capped per class) and the train folder as the pool', () => {
    const given = [...many('cat', 9).map((x) => ({ ...x, file: `/t${x.file}` })), { ...sample('dog', 0), file: '/t/d/dog/0.png' }];
    const s = imageSplit(many('cat', 7), given, true, 4);
    assert.equal(s.pool.length, 7);
    assert.deepEqual(['cat', 'dog'].map((l) => s.test.filter((i) => i.label === l).length), [4, 1]);
    assert.ok(s.test.every((i) => i.text.startsWith('/t/')));
  });

  it('adds each training image\'s augmented variants as extra rows with its label and the given weight', () => {
    const variants = new Map([['a', ['a1', 'a2']], ['c', ['c1']]]);
    const r = trainingRows(['a', 'b', 'c'], [0, 1, 2], variants, (k) => `v:${k}`, 0.5);
    assert.deepEqual(r, { x: ['v:a', 'v:b', 'v:c'], extraX: ['v:a1', 'v:a2', 'v:c1'], extraY: [0, 0, 2], extraWeights: [0.5, 0.5, 0.5] });
  });
});
