/**
 * The verified-image cache (dataset.ts, `verifyCacheDir`): an image whose bytes decoded fully once is not decoded again
 * by later loads; a changed file, a damaged or foreign cache entry, or a corrupt image is decoded (and judged) again.
 * Decodes are counted by decode.ts's decodeStats; training (runTraining) uses `<store>/cache/images`.
 */
import * as assert from 'node:assert/strict';
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { DEFAULT_CONFIG } from '../../src/core/config';
import { decodeStats } from '../../src/core/images/decode';
import { ImageIssueCodes, loadImageDataset, type ImageDataset } from '../../src/core/images/dataset';
import { runTraining } from '../../src/core/train';
import { makeTempDir, removeDir, writeTree } from './helpers/datasets-fixtures';
import { shapeImage } from './helpers/images';

/** Decodes made by `f`, and its result. */
async function counting<T>(f: () => Promise<T>): Promise<{ decodes: number; value: T }> {
  const before = decodeStats.decodes;
  const value = await f();
  return { decodes: decodeStats.decodes - before, value };
}
const summary = (ds: ImageDataset) => ({ train: ds.train, test: ds.test, labels: ds.labels, fingerprint: ds.fingerprint, issues: ds.issues });
const entries = async (dir: string): Promise<string[]> =>
  (await fsp.readdir(dir, { recursive: true })).filter((f) => f.endsWith('.json')).map((f) => path.join(dir, f)).sort();

describe('images: verified-image cache', function () {
  this.timeout(60_000);
  let dir: string, data: string, cache: string;
  beforeEach(async () => {
    dir = makeTempDir('fsl-imgverify-');
    data = path.join(dir, 'data');
    cache = path.join(dir, 'store', 'cache', 'images');
    writeTree(data, {
      'train/circle/a.png': await shapeImage('circle', 'png'),
      'train/circle/b.jpg': await shapeImage('circle', 'jpeg', 64, { dx: 3 }),
      'train/square/a.png': await shapeImage('square', 'png'),
      'train/square/b.webp': await shapeImage('square', 'webp', 64, { dx: -3 }),
      'test/circle/t.jpg': await shapeImage('circle', 'jpeg', 64, { dx: -4 }),
      'test/square/t.tif': await shapeImage('square', 'tiff', 64, { dx: 4 }),
    });
  });
  afterEach(() => removeDir(dir));

  it('decodes each image once: a second load decodes nothing and gives the same dataset', async () => {
    const first = await counting(() => loadImageDataset(data, { verifyCacheDir: cache }));
    assert.equal(first.decodes, 6);
    assert.equal((await entries(cache)).length, 6);
    const second = await counting(() => loadImageDataset(data, { verifyCacheDir: cache }));
    assert.equal(second.decodes, 0);
    assert.deepEqual(summary(second.value), summary(first.value));
    // without the cache every load decodes every image
    assert.equal((await counting(() => loadImageDataset(data))).decodes, 6);
  });

  it('decodes a changed file again, and skips it when its new bytes are truncated', async () => {
    await loadImageDataset(data, { verifyCacheDir: cache });
    const file = path.join(data, 'train/circle/a.png');
    await fsp.writeFile(file, await shapeImage('circle', 'png', 72));
    const changed = await counting(() => loadImageDataset(data, { verifyCacheDir: cache }));
    assert.equal(changed.decodes, 1);
    assert.deepEqual(changed.value.train.filter((s) => s.file === file).map((s) => [s.width, s.height]), [[72, 72]]);
    const whole = await fsp.readFile(file);
    await fsp.writeFile(file, whole.subarray(0, Math.floor(whole.length * 0.6)));
    for (let k = 0; k < 2; k++) { // a bad image is never recorded: it is decoded, and skipped, on every load
      const cut = await counting(() => loadImageDataset(data, { verifyCacheDir: cache }));
      assert.equal(cut.decodes, 1);
      assert.ok(!cut.value.train.some((s) => s.file === file));
      assert.ok(cut.value.issues.some((i) => i.code === ImageIssueCodes.unreadableImage && i.file === file));
    }
  });

  it('ignores a torn, foreign or outdated cache entry and decodes that image again', async () => {
    const first = await loadImageDataset(data, { verifyCacheDir: cache });
    const shaOf = (rel: string) => first.train.concat(first.test).find((s) => s.file === path.join(data, rel))!.sha256;
    const entryOf = (sha: string) => path.join(cache, sha.slice(0, 2), `${sha}.json`);
    const [a, b, c] = ['train/circle/a.png', 'train/circle/b.jpg', 'test/square/t.tif'].map(shaOf);
    const good = await fsp.readFile(entryOf(a), 'utf8');
    await fsp.writeFile(entryOf(a), good.slice(0, 20)); // torn write
    await fsp.writeFile(entryOf(b), good); // another image's entry under this image's name
    await fsp.writeFile(entryOf(c), (await fsp.readFile(entryOf(c), 'utf8')).replace('"v":1', '"v":0')); // an older decoder's entry
    const again = await counting(() => loadImageDataset(data, { verifyCacheDir: cache }));
    assert.equal(again.decodes, 3);
    assert.deepEqual(summary(again.value), summary(first));
    assert.equal((await counting(() => loadImageDataset(data, { verifyCacheDir: cache }))).decodes, 0, 'the entries were written anew');
    assert.deepEqual(JSON.parse(await fsp.readFile(entryOf(b), 'utf8')), { v: 1, sha256: b, format: 'jpeg', width: 64, height: 64 });
  });

  it('training records verified images under <store>/cache/images: a second run on the same folder decodes no image', async () => {
    const store = path.join(dir, 'store');
    const config = { ...DEFAULT_CONFIG, dataset: data };
    const first = await counting(() => runTraining({ config, storeDir: store }, { onEvent: () => undefined }));
    assert.equal(first.value.status, 'completed', JSON.stringify(first.value.error));
    assert.ok(first.decodes >= 6, `${first.decodes} decodes`);
    assert.equal((await entries(path.join(store, 'cache', 'images'))).length, 6);
    const second = await counting(() => runTraining({ config, storeDir: store }, { onEvent: () => undefined }));
    assert.equal(second.value.status, 'completed', JSON.stringify(second.value.error));
    assert.equal(second.decodes, 0, 'verified images and cached embeddings: nothing to decode');
  });
});
