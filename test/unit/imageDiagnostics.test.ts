/** The language server's analysis of image folder datasets (src/server/analysis/images.ts), on images the test makes. */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { analyseDataset, DatasetIndex, DEFAULT_SETTINGS, type DatasetDesc, type Issue, type LoadedFile } from '../../src/server/analysis';
import { DECODERS_MISSING } from '../../src/server/analysis/images';
import { DiagnosticCodes } from '../../src/protocol/diagnostics';
import { ImageIssueCodes, NEAR_DUPLICATE_BITS } from '../../src/core/images';
import { makeBadImageDataset, smooth, write } from './imageDiagnostics.fixtures';

const relOf = (root: string, i: Issue) => path.relative(root, i.file).split(path.sep).join('/');
const byCode = (issues: Issue[], code: string) => issues.filter((i) => i.code === code);

describe('image diagnostics (language server analysis)', function () {
  this.timeout(60_000);
  let ws: string;
  let root: string;
  let ix: DatasetIndex;
  before(async () => {
    ws = fs.mkdtempSync(path.join(os.tmpdir(), 'fewshot-imgdiag-'));
    root = await makeBadImageDataset(ws);
    ix = new DatasetIndex([ws]);
    ix.settings = { ...DEFAULT_SETTINGS };
    await ix.analyseAll();
  });
  after(() => fs.rmSync(ws, { recursive: true, force: true }));
  const issues = () => ix.results.get(root)!.issues;

  it('uses the core image codes', () => {
    assert.equal(DiagnosticCodes.imageUnreadable, ImageIssueCodes.unreadableImage);
    assert.equal(DiagnosticCodes.imageEmpty, ImageIssueCodes.emptyImage);
    assert.equal(DiagnosticCodes.imageTooLarge, ImageIssueCodes.imageTooLarge);
    assert.equal(DiagnosticCodes.imageSmall, ImageIssueCodes.smallImage);
    assert.equal(DiagnosticCodes.imageUnsupportedFormat, ImageIssueCodes.unsupportedImage);
    assert.equal(DiagnosticCodes.imageNotImage, ImageIssueCodes.notImage);
  });

  it('treats an image folder as an image dataset: every file is a member, no text diagnostics', () => {
    const desc = ix.datasets.get(root)!;
    assert.equal(desc.media, 'images');
    assert.equal(desc.members.length, 23);
    const text = [DiagnosticCodes.emptyFile, DiagnosticCodes.undecodableFile, DiagnosticCodes.unexpectedEncoding, DiagnosticCodes.tooLong];
    assert.deepEqual(issues().filter((i) => (text as string[]).includes(i.code)), []);
    const summary = ix.results.get(root)!.summary;
    assert.equal(summary.media, 'images');
    // usable: circle c0..c7 + tiny + zz-copy; square s0, s1 + s-from-circle; test 2 + 2
    assert.deepEqual(summary.classes.map((c) => [c.label, c.train, c.test]), [['circle', 10, 2], ['square', 3, 2]]);
  });

  it('reports each unreadable image on its file, with the reason and the fix', () => {
    const one = (code: string, file: string) => {
      const found = byCode(issues(), code).filter((i) => relOf(root, i) === file);
      assert.equal(found.length, 1, `${code} on ${file}: ${JSON.stringify(issues().map((i) => [i.code, relOf(root, i)]))}`);
      return found[0];
    };
    const trunc = one(DiagnosticCodes.imageUnreadable, 'train/circle/trunc.png');
    assert.equal(trunc.severity, 'error');
    assert.match(trunc.message, /looks like a PNG image but cannot be decoded \(.+\): it is corrupt or truncated.*Copy or export it again/);
    assert.match(one(DiagnosticCodes.imageUnreadable, 'train/circle/garbage.jpg').message, /JPEG image but cannot be decoded/);
    // the header claims 30000 × 30000 px: refused from the header, before decoding
    assert.match(one(DiagnosticCodes.imageTooLarge, 'train/circle/huge-header.bmp').message, /30000 × 30000/);
    assert.match(one(DiagnosticCodes.imageEmpty, 'train/circle/zero.png').message, /empty \(0 bytes\)/);
    assert.match(one(DiagnosticCodes.imageUnsupportedFormat, 'train/circle/anim.gif').message, /GIF.*Convert it to PNG/);
    const txt = one(DiagnosticCodes.imageNotImage, 'train/square/scan.dcm');
    assert.equal(txt.severity, 'warning');
    assert.match(txt.message, /class folder 'square' but is not a PNG, JPEG, WebP, BMP or TIFF image/);
    assert.equal(byCode(issues(), DiagnosticCodes.imageUnreadable).length, 2);
  });

  it('reports a very small image as Information naming its size', () => {
    const small = byCode(issues(), DiagnosticCodes.imageSmall);
    assert.deepEqual(small.map((i) => [relOf(root, i), i.severity]), [['train/circle/tiny.png', 'info']]);
    assert.match(small[0].message, /only 16 × 16 px \(under 32 px on a side\)/);
  });

  it('reports exact and near duplicates across train and test on the test image, naming the training image', () => {
    const exact = byCode(issues(), DiagnosticCodes.leakageExact);
    assert.deepEqual(exact.map((i) => relOf(root, i)), ['test/circle/copy.png']);
    assert.match(exact[0].message, /same file, byte for byte, as the training image train\/circle\/c0\.png/);
    assert.equal(exact[0].related?.[0].file, path.join(root, 'train', 'circle', 'c0.png'));
    const near = byCode(issues(), DiagnosticCodes.leakageNear);
    assert.deepEqual(near.map((i) => relOf(root, i)), ['test/square/reenc.jpg']);
    const bits = Number(/differ in (\d+) of 64 bits/.exec(near[0].message)?.[1]);
    assert.ok(bits >= 0 && bits <= NEAR_DUPLICATE_BITS, near[0].message);
    assert.match(near[0].message, /training image train\/square\/s0\.png/);
    assert.equal(near[0].related?.[0].file, path.join(root, 'train', 'square', 's0.png'));
  });

  it('reports copies within the training split, and the same image under two labels as a conflict', () => {
    const dup = byCode(issues(), DiagnosticCodes.duplicateInSplit);
    assert.deepEqual(dup.map((i) => [relOf(root, i), i.severity]), [['train/circle/zz-copy.png', 'warning']]);
    assert.match(dup[0].message, /byte for byte, as train\/circle\/c0\.png/);
    const conflict = byCode(issues(), DiagnosticCodes.conflictingLabels);
    assert.deepEqual(conflict.map((i) => relOf(root, i)), ['train/square/s-from-circle.png']);
    assert.match(conflict[0].message, /labelled 'square' here and 'circle' in train\/circle\/c1\.png/);
  });

  it('reports class imbalance counted in images', () => {
    const imb = byCode(issues(), DiagnosticCodes.classImbalance);
    assert.equal(imb.length, 1);
    assert.match(imb[0].message, /'circle' has 10 training images but 'square' has only 3 \(3\.3× > 3×\)/);
    assert.equal(imb[0].data.label, 'square');
  });

  it('writes the image messages in Simplified Chinese for a zh-cn client', async () => {
    const zh = new DatasetIndex([ws], { locale: 'zh-cn' });
    zh.settings = { ...DEFAULT_SETTINGS };
    await zh.analyseAll();
    const all = zh.results.get(root)!.issues;
    assert.match(byCode(all, DiagnosticCodes.imageEmpty)[0].message, /此图像文件为空（0 字节）/);
    assert.match(byCode(all, DiagnosticCodes.imageUnreadable)[0].message, /无法解码/);
    assert.match(byCode(all, DiagnosticCodes.imageSmall)[0].message, /16 × 16 像素/);
    assert.match(byCode(all, DiagnosticCodes.leakageNear)[0].message, /近似重复/);
    assert.match(byCode(all, DiagnosticCodes.classImbalance)[0].message, /'circle' 有 10 张训练图像/);
  });

  it('re-reads only what changed: a new image, a repaired one; a folder event decodes nothing again', async () => {
    const reads = ix.reads;
    // the whole dataset folder reported changed (some watchers do): the cache by mtime + size answers
    await ix.applyChanges([root]);
    assert.equal(ix.reads, reads, 'no image decoded again');
    assert.equal(byCode(issues(), DiagnosticCodes.imageEmpty).length, 1);
    // repair the empty file, add a square image
    const zero = write(root, 'train/circle/zero.png', await smooth(60));
    const added = write(root, 'train/square/s2.png', await smooth(102));
    const report = await ix.applyChanges([zero, added]);
    assert.deepEqual(report.analysed, [root]);
    assert.equal(ix.reads, reads + 2);
    assert.equal(byCode(issues(), DiagnosticCodes.imageEmpty).length, 0);
    assert.deepEqual(ix.results.get(root)!.summary.classes.map((c) => [c.label, c.train]), [['circle', 11], ['square', 4]]);
    // delete the truncated file: its diagnostic goes
    fs.rmSync(path.join(root, 'train', 'circle', 'trunc.png'));
    await ix.applyChanges([path.join(root, 'train', 'circle', 'trunc.png')]);
    assert.equal(byCode(issues(), DiagnosticCodes.imageUnreadable).filter((i) => i.file.endsWith('trunc.png')).length, 0);
    assert.equal(ix.reads, reads + 2);
  });

  it('without the image library, says so once for the dataset instead of calling every image corrupt', async () => {
    const desc: DatasetDesc = {
      root: '/d', name: 'd', format: 'folders', key: 'd', media: 'images', classFolders: { a: ['/d/train/a'], b: ['/d/train/b'] },
      members: ['a/1.png', 'a/2.png', 'b/1.png'].map((f) => ({ file: `/d/train/${f}`, split: 'train' as const, label: f[0] })),
    };
    const files = new Map<string, LoadedFile>(desc.members.map((m) => [m.file, {
      file: m.file, mtimeMs: 0, size: 10, encoding: 'image', status: 'ok', text: '', samples: [], skipped: [], parseErrors: [],
      headRange: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } },
      image: { skipped: { code: DECODERS_MISSING, detail: 'The image decoders could not be loaded (Cannot find module).' } },
    }]));
    const r = await analyseDataset(desc, files, DEFAULT_SETTINGS);
    const codes = r.issues.map((i) => i.code);
    assert.deepEqual(codes.filter((c) => c.startsWith('fewshot.image-')), [DiagnosticCodes.imageUnreadable]);
    assert.match(r.issues.find((i) => i.code === DiagnosticCodes.imageUnreadable)!.message, /cannot be checked or trained on: The image decoders could not be loaded/);
  });

  it('finds a class-folders-only image dataset once images land in folders that were empty when they appeared', async () => {
    const ws2 = fs.mkdtempSync(path.join(os.tmpdir(), 'fewshot-imgdiag-unsplit-'));
    try {
      const ix2 = new DatasetIndex([ws2]);
      ix2.settings = { ...DEFAULT_SETTINGS };
      await ix2.analyseAll();
      const dirs = ['xray/normal', 'xray/pneumonia'].map((d) => path.join(ws2, d));
      for (const d of dirs) fs.mkdirSync(d, { recursive: true });
      await ix2.applyChanges([path.join(ws2, 'xray'), ...dirs]);
      assert.equal(ix2.datasets.size, 0, 'empty class folders are no dataset');
      const added: string[] = [];
      for (const [k, d] of dirs.entries()) for (let i = 0; i < 3; i++) added.push(write(d, `img${i}.png`, await smooth(400 + k * 10 + i)));
      const report = await ix2.applyChanges(added);
      const root = path.join(ws2, 'xray');
      assert.deepEqual(report.analysed, [root]);
      assert.equal(ix2.datasets.get(root)?.media, 'images');
      assert.deepEqual(ix2.results.get(root)!.summary.classes.map((c) => [c.label, c.train]), [['normal', 3], ['pneumonia', 3]]);
    } finally {
      fs.rmSync(ws2, { recursive: true, force: true });
    }
  });
});
