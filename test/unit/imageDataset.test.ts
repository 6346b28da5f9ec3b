/** Image datasets (content-sniffed formats, layouts, splits, bad images) and the perceptual-hash duplicate check. */
import * as assert from 'node:assert/strict';
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import sharp from 'sharp';
import { findDatasets, stratifiedSplit } from '../../src/core/datasets';
import { FewShotError } from '../../src/core/errors';
import { sha256Hex } from '../../src/core/util/hash';
import {
  dHash, findDuplicates, hammingDistance, ImageIssueCodes, isImageDataset, loadImageDataset, NEAR_DUPLICATE_BITS, sniffImageFormat,
} from '../../src/core/images';
import { classFolders, makeTempDir, removeDir, SAMPLES, writeTree } from './helpers/datasets-fixtures';
import { bmp24, shapeImage, type Shape } from './helpers/images';

const circleBmp = (size: number) => bmp24(size, size, (x, y) => ((x - size / 2) ** 2 + (y - size / 2) ** 2 < (size * 0.3) ** 2 ? [192, 48, 32] : [240, 240, 232]));

describe('images: dataset loading', function () {
  this.timeout(20_000);
  let dir: string;
  beforeEach(() => { dir = makeTempDir('fsl-img-'); });
  afterEach(() => removeDir(dir));

  it('reads train/ and test/ class folders and tells formats by content, not by name', async () => {
    const jpegNamedPng = await shapeImage('circle', 'jpeg');
    writeTree(dir, {
      'train/circle/a.png': await shapeImage('circle', 'png'),
      'train/circle/b.png': jpegNamedPng,
      'train/circle/c.dat': await shapeImage('circle', 'webp', 64, { dx: 3 }),
      'train/circle/d.bmp': circleBmp(48),
      'train/square/a.tif': await shapeImage('square', 'tiff'),
      'train/square/b': await shapeImage('square', 'png', 80),
      'test/circle/t.jpg': await shapeImage('circle', 'jpeg', 64, { dx: -4 }),
      'test/square/t.png': await shapeImage('square', 'png', 64, { dx: 5 }),
    });
    const ds = await loadImageDataset(dir);
    assert.equal(ds.kind, 'images');
    assert.deepEqual(ds.labels, ['circle', 'square']);
    assert.equal(ds.testSource, 'given');
    const by = (name: string) => ds.train.concat(ds.test).find((s) => path.relative(dir, s.file) === name)!;
    assert.deepEqual(['train/circle/a.png', 'train/circle/b.png', 'train/circle/c.dat', 'train/circle/d.bmp', 'train/square/a.tif', 'train/square/b']
      .map((f) => by(f).format), ['png', 'jpeg', 'webp', 'bmp', 'tiff', 'png']);
    assert.deepEqual([by('train/circle/d.bmp').width, by('train/circle/d.bmp').height], [48, 48]);
    assert.deepEqual([by('train/square/b').width, by('train/square/b').height], [80, 80]);
    assert.equal(by('train/circle/b.png').sha256, sha256Hex(jpegNamedPng));
    assert.equal(by('train/circle/b.png').bytes, jpegNamedPng.length);
    assert.deepEqual(ds.test.map((s) => s.label).sort(), ['circle', 'square']);
    assert.deepEqual(ds.issues.filter((i) => i.severity !== 'info'), []);
  });

  it('skips zero-byte, truncated, corrupt, non-image, GIF and over-limit files with a warning naming each, and keeps going', async () => {
    const png = await shapeImage('circle', 'png', 64);
    const bigPx = await sharp({ create: { width: 300, height: 300, channels: 3, background: '#808080' } }).png().toBuffer();
    writeTree(dir, {
      'train/circle/ok1.png': png, 'train/circle/ok2.png': await shapeImage('circle', 'png', 64, { dx: 4 }),
      'train/circle/empty.png': Buffer.alloc(0),
      'train/circle/truncated.png': png.subarray(0, Math.floor(png.length / 2)),
      'train/circle/garbage.jpg': Buffer.from([0xff, 0xd8, 0xff, 0xe0, ...Array.from({ length: 300 }, (_, i) => (i * 37) % 256)]),
      'train/circle/notes.png': 'this is text, not an image',
      'train/circle/anim.gif': Buffer.from('GIF89a\x01\x00\x01\x00\x00\x00\x00;', 'latin1'),
      'train/circle/bigpixels.png': bigPx,
      'train/circle/tiny.png': await shapeImage('circle', 'png', 16),
      'train/square/ok.png': await shapeImage('square'), 'train/square/ok2.png': await shapeImage('square', 'png', 64, { dx: 4 }),
      'train/square/bigbytes.bmp': circleBmp(200),
    });
    const ds = await loadImageDataset(dir, { maxImagePixels: 250 * 250, maxImageBytes: 100_000 });
    const used = ds.train.map((s) => path.basename(s.file)).sort();
    assert.deepEqual(used, ['ok.png', 'ok1.png', 'ok2.png', 'ok2.png', 'tiny.png']);
    const issueOf = (name: string) => ds.issues.find((i) => i.file && path.basename(i.file) === name);
    const expect: Record<string, [string, RegExp]> = {
      'empty.png': [ImageIssueCodes.emptyImage, /empty \(0 bytes\)/],
      'truncated.png': [ImageIssueCodes.unreadableImage, /PNG image but cannot be decoded .*corrupt or truncated/],
      'garbage.jpg': [ImageIssueCodes.unreadableImage, /JPEG image but cannot be decoded/],
      'notes.png': [ImageIssueCodes.notImage, /is not a PNG, JPEG, WebP, BMP or TIFF image/],
      'anim.gif': [ImageIssueCodes.unsupportedImage, /GIF image, which is not supported/],
      'bigpixels.png': [ImageIssueCodes.imageTooLarge, /300 × 300 px \(0\.09 megapixels\), over the 0\.06-megapixel limit/],
      'bigbytes.bmp': [ImageIssueCodes.imageTooLarge, /over the 0\.1 MB limit/],
      'tiny.png': [ImageIssueCodes.smallImage, /smaller than 32 px on a side \(\S+tiny\.png \(16 × 16\)\)/],
    };
    for (const [name, [code, re]] of Object.entries(expect)) {
      const i = issueOf(name);
      assert.ok(i, `an issue for ${name}: ${JSON.stringify(ds.issues)}`);
      assert.equal(i.code, code, name);
      assert.equal(i.severity, 'warning', name);
      assert.match(i.message, re, name);
      assert.ok(i.message.includes(path.join(dir, 'train')), `${name}: the message names the file`);
      assert.ok(i.fix, `${name}: a fix`);
    }
    assert.equal(ds.files.filter((f) => f.skipped).length, 7);
  });

  it('splits class-only folders with the text loader\'s seeded stratified split', async () => {
    const tree: Record<string, Buffer> = {};
    const shapes: Shape[] = ['circle', 'square', 'triangle'];
    for (const s of shapes) for (let i = 0; i < 8; i++) tree[`${s}/${s}${i}.png`] = await shapeImage(s, 'png', 40, { dx: i - 4 });
    writeTree(dir, tree);
    const ds = await loadImageDataset(dir, { seed: 7 });
    assert.equal(ds.testSource, 'stratified-split');
    assert.deepEqual(ds.labels, shapes);
    const all = [...ds.train, ...ds.test].sort((a, b) => (a.file < b.file ? -1 : 1));
    const ref = stratifiedSplit(all.map((s) => ({ label: s.label, file: s.file })), 0.25, 7);
    assert.deepEqual(ds.test.map((s) => s.file).sort(), ref.test.map((s) => s.file).sort());
    assert.equal(ds.test.length, 6);
    const again = await loadImageDataset(dir, { seed: 7 });
    assert.deepEqual(again.test.map((s) => s.file), ds.test.map((s) => s.file));
    assert.equal(again.fingerprint, ds.fingerprint);
  });

  it('fingerprints by split, label and content: renaming keeps it, moving an image to another class changes it', async () => {
    const tree = { 'train/circle/a.png': await shapeImage('circle'), 'train/square/b.png': await shapeImage('square'), 'test/circle/c.png': await shapeImage('circle', 'png', 64, { dx: 3 }), 'test/square/d.png': await shapeImage('square', 'png', 64, { dx: 3 }) };
    writeTree(dir, tree);
    const before = (await loadImageDataset(dir)).fingerprint;
    await fsp.rename(path.join(dir, 'train/circle/a.png'), path.join(dir, 'train/circle/renamed.png'));
    assert.equal((await loadImageDataset(dir)).fingerprint, before);
    await fsp.rename(path.join(dir, 'test/circle/c.png'), path.join(dir, 'test/square/c.png'));
    assert.notEqual((await loadImageDataset(dir)).fingerprint, before);
  });

  it('refuses a folder with fewer than two usable classes with a fix, not a stack trace', async () => {
    writeTree(dir, { 'train/circle/a.png': await shapeImage('circle'), 'train/square/bad.png': Buffer.alloc(0) });
    await assert.rejects(loadImageDataset(dir), (e: unknown) => e instanceof FewShotError && /only one class \("circle"\)/.test(e.message) && !!e.fix);
    await assert.rejects(loadImageDataset(path.join(dir, 'missing')), (e: unknown) => e instanceof FewShotError && e.code === 'dataset-missing');
  });

  it('tells image datasets from text datasets; the workspace scan lists image folders as media "images", by content', async () => {
    writeTree(dir, {
      'imgs/train/circle/a.png': await shapeImage('circle'), 'imgs/train/square/b.png': await shapeImage('square'), ...classFolders('notes/train', { a: 3, b: 3 }),
      // unsplit class folders of JPEGs with no image extension; a folder of other binary files is no dataset
      'scans/ok/1.dat': await shapeImage('circle', 'jpeg'), 'scans/ok/2.dat': await shapeImage('star', 'jpeg'),
      'scans/bad/1.dat': await shapeImage('square', 'jpeg'), 'scans/bad/2.dat': await shapeImage('circle', 'jpeg'), 'scans/bad/notes.txt': 'a stray note does not make this a text dataset', 'blobs/x/1.bin': Buffer.alloc(64, 7), 'blobs/y/1.bin': Buffer.alloc(64, 9),
    });
    assert.equal(await isImageDataset(path.join(dir, 'imgs')), true);
    assert.equal(await isImageDataset(path.join(dir, 'notes')), false);
    assert.equal(await isImageDataset(path.join(dir, 'nowhere')), false);
    assert.deepEqual((await findDatasets(dir)).map((r) => [path.basename(r.root), r.media ?? 'text']), [['imgs', 'images'], ['notes', 'text'], ['scans', 'images']]);
    assert.deepEqual((await findDatasets(dir, { extraPaths: ['imgs'], maxDepth: 0 })).map((r) => r.media), ['images']);
    assert.equal(sniffImageFormat(Buffer.from('hello world!')), undefined);
  });

  it('loads the bundled samples/shapes dataset cleanly, and the scan of samples/ lists it as images', async () => {
    const root = path.join(SAMPLES, 'shapes');
    const ds = await loadImageDataset(root);
    assert.deepEqual(ds.labels, ['circle', 'square', 'star', 'triangle']);
    assert.equal(ds.testSource, 'given');
    assert.deepEqual([ds.train.length, ds.test.length], [48, 24]);
    assert.deepEqual(ds.issues, []);
    assert.ok(ds.train.every((s) => s.format === 'png' && s.width === 96 && s.height === 96));
    assert.equal(await isImageDataset(root), true);
    assert.deepEqual((await findDatasets(SAMPLES)).filter((r) => r.root.startsWith(root)).map((r) => r.media), ['images']);
  });
});

describe('images: perceptual hash and duplicates', function () {
  this.timeout(20_000);
  let dir: string;
  beforeEach(() => { dir = makeTempDir('fsl-phash-'); });
  afterEach(() => removeDir(dir));

  it('a JPEG re-encoding or resize of an image is near; another shape is not', async () => {
    const png = await shapeImage('star', 'png', 96);
    const h = await dHash(png);
    assert.match(h, /^[0-9a-f]{32}$/);
    const jpeg = await sharp(png).jpeg({ quality: 60 }).toBuffer();
    const smaller = await sharp(png).resize(70, 70).png().toBuffer();
    assert.ok(hammingDistance(h, await dHash(jpeg)) <= NEAR_DUPLICATE_BITS);
    assert.ok(hammingDistance(h, await dHash(smaller)) <= NEAR_DUPLICATE_BITS);
    for (const other of ['circle', 'square', 'triangle'] as Shape[]) {
      const d = hammingDistance(h, await dHash(await shapeImage(other, 'png', 96)));
      assert.ok(d > NEAR_DUPLICATE_BITS, `${other}: ${d} bits`);
    }
    assert.equal(hammingDistance('ffffffffffffffff', '0000000000000000'), 64);
    assert.equal(hammingDistance('8000000000000001', '0000000000000000'), 2);
    // double hashes: the larger of the horizontal and the vertical distance
    assert.equal(hammingDistance('0000000000000000' + 'ffffffffffffffff', '0000000000000000' + '0000000000000000'), 64);
  });

  it('smooth pictures whose left-right brightness order agrees (plane waves in other directions) are not near copies', async () => {
    // brightness rises to the right in all of them; they differ only in how it changes from top to bottom
    const wave = (fy: number) => {
      const n = 64, raw = Buffer.alloc(n * n * 3);
      for (let y = 0; y < n; y++) for (let x = 0; x < n; x++) raw.fill(Math.round(127 + 60 * (x / n) + 60 * Math.sin(fy * y)), (y * n + x) * 3, (y * n + x) * 3 + 3);
      return sharp(raw, { raw: { width: n, height: n, channels: 3 } }).png().toBuffer();
    };
    const hashes = await Promise.all([0.05, 0.2, 0.45].map(async (fy) => dHash(await wave(fy))));
    for (let i = 0; i < hashes.length; i++) {
      for (let j = i + 1; j < hashes.length; j++) {
        assert.ok(hammingDistance(hashes[i], hashes[j]) > NEAR_DUPLICATE_BITS, `${i}/${j}: ${hashes[i]} ${hashes[j]}`);
        // the horizontal half alone cannot tell them apart
        assert.ok(hammingDistance(hashes[i].slice(0, 16), hashes[j].slice(0, 16)) <= NEAR_DUPLICATE_BITS);
      }
    }
  });

  it('findDuplicates pairs exact and near copies across train and test only', async () => {
    const star = await shapeImage('star', 'png', 96);
    writeTree(dir, {
      'train/star/s.png': star, 'train/circle/c.png': await shapeImage('circle', 'png', 96), 'train/square/q.png': await shapeImage('square', 'png', 96),
      'test/star/same.png': star, 'test/star/reencoded.jpg': await sharp(star).jpeg({ quality: 70 }).toBuffer(),
      'test/triangle/t.png': await shapeImage('triangle', 'png', 96), 'test/circle/c2.png': await shapeImage('circle', 'png', 96, { fill: '#2050c0' }),
    });
    const ds = await loadImageDataset(dir);
    const dup = await findDuplicates(ds);
    const rel = (p: { train: string; test: string }) => [path.relative(dir, p.train), path.relative(dir, p.test)];
    assert.deepEqual(dup.exact.map(rel), [['train/star/s.png', 'test/star/same.png']]);
    assert.deepEqual(dup.near.map(rel).sort(), [['train/circle/c.png', 'test/circle/c2.png'], ['train/star/s.png', 'test/star/reencoded.jpg']].sort());
    assert.equal(dup.threshold, NEAR_DUPLICATE_BITS);
    assert.ok(dup.near.every((p) => p.distance >= 0 && p.distance <= NEAR_DUPLICATE_BITS)); // a recoloured circle can hash the same
    assert.deepEqual(dup.unreadable, []);
  });
});
