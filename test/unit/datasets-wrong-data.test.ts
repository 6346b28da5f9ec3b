/**
 * Issue 16, "Datasets: never train on wrong data silently": symbolic links, stray control
 * characters, malformed CSV rows, guessed label columns and test classes missing from train.
 * Every fixture is written into a temp folder by the test.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { detectEncoding, IssueCodes, loadDataset, type DatasetIssue } from '../../src/core/datasets';

import { DatasetIndex } from '../../src/server/analysis';
import { classFolders, makeTempDir, removeDir, writeTree } from './helpers/datasets-fixtures';

const linkIssues = (d: { issues: DatasetIssue[] }) => d.issues.filter((i) => i.code === IssueCodes.linkNotFollowed);

describe('datasets: symbolic links never multiply or relabel examples', () => {
  let dir: string;
  beforeEach(() => { dir = makeTempDir(); });
  afterEach(() => removeDir(dir));

  it('a loop back to train/ is not followed: 64 examples stay 64, each with its own label, and the link is named', async () => {
    writeTree(dir, classFolders('train/', { cardiology: 16, neurology: 16, oncology: 16, renal: 16 }));
    fs.symlinkSync('..', path.join(dir, 'train/cardiology/up'));
    const d = await loadDataset(dir);
    assert.equal(d.train.length + d.test.length, 64);
    for (const s of [...d.train, ...d.test]) assert.ok(path.basename(s.file).startsWith(s.label), `${s.file} labelled ${s.label}`);
    const [w] = linkIssues(d);
    assert.equal(w.file, path.join(dir, 'train/cardiology/up'));
    assert.equal(w.severity, 'warning');
    assert.match(w.message, /train\/cardiology\/up was not followed: it points back to .*train, a folder that contains it \(a loop\)/);
  });

  it('two loops (and a loop to the root) end with warnings, not "Maximum call stack size exceeded"', async () => {
    writeTree(dir, classFolders('train/', { a: 4, b: 4 }));
    fs.symlinkSync('..', path.join(dir, 'train/a/up'));
    fs.symlinkSync('../../b', path.join(dir, 'train/b/self'));
    fs.symlinkSync('../../..', path.join(dir, 'train/b/root'));
    const d = await loadDataset(dir);
    assert.equal(d.train.length + d.test.length, 8);
    assert.deepEqual(linkIssues(d).map((i) => path.relative(dir, i.file!)).sort(), ['train/a/up', 'train/b/root', 'train/b/self']);
  });

  it('links out of the dataset root are not followed; links to files inside it are read once, under the link\'s class', async () => {
    const outside = makeTempDir();
    try {
      writeTree(outside, { 'secret.txt': 'text from outside the dataset', 'more/x.txt': 'another outside text' });
      writeTree(dir, { ...classFolders('train/', { a: 4, b: 4 }), 'extra/shared.txt': 'a text kept next to the dataset' });
      fs.symlinkSync(path.join(outside, 'secret.txt'), path.join(dir, 'train/a/secret.txt'));
      fs.symlinkSync(path.join(outside, 'more'), path.join(dir, 'train/b/more'));
      fs.symlinkSync('../../extra/shared.txt', path.join(dir, 'train/a/shared.txt'));
      fs.symlinkSync('../../extra/shared.txt', path.join(dir, 'train/a/shared-again.txt'));
      fs.symlinkSync('../b/b-1.txt', path.join(dir, 'train/a/b-copy.txt'));
      fs.symlinkSync('missing.txt', path.join(dir, 'train/a/broken.txt'));
      const d = await loadDataset(dir);
      const all = [...d.train, ...d.test];
      assert.equal(all.length, 9, 'the 8 files plus extra/shared.txt once');
      assert.ok(!all.some((s) => s.text.includes('outside')));
      assert.equal(all.filter((s) => s.text === 'a text kept next to the dataset').map((s) => s.label).join(), 'a');
      assert.equal(all.filter((s) => s.text.startsWith('b example 1:')).map((s) => s.label).join(), 'b', 'not relabelled through a/b-copy.txt');
      const why = Object.fromEntries(linkIssues(d).map((i) => [path.basename(i.file!), i.message]));
      assert.deepEqual(Object.keys(why).sort(), ['b-copy.txt', 'broken.txt', 'more', 'secret.txt', 'shared.txt'], 'links are followed in name order: shared-again.txt first');
      assert.match(why['secret.txt'], /points outside the dataset folder/);
      assert.match(why['more'], /points outside the dataset folder/);
      assert.match(why['b-copy.txt'], /b-1\.txt is already read/);
      assert.match(why['broken.txt'], /target does not exist/);
    } finally { removeDir(outside); }
  });

  it('the language server lists the same files and shows each link not followed in Problems (en + zh-CN)', async () => {
    writeTree(dir, { 'ds/': '', ...Object.fromEntries(Object.entries(classFolders('ds/train/', { a: 8, b: 8 }))) });
    fs.symlinkSync('..', path.join(dir, 'ds/train/a/up'));
    for (const locale of ['en', 'zh-cn']) {
      const idx = new DatasetIndex([dir], { locale });
      await idx.analyseAll();
      const desc = [...idx.datasets.values()][0];
      assert.equal(desc.members.length, 16);
      const issues = idx.results.get(desc.root)!.issues.filter((i) => i.code === 'fewshot.link-not-followed');
      assert.equal(issues.length, 1);
      assert.equal(issues[0].file, path.join(dir, 'ds/train/a/up'));
      assert.match(issues[0].message, locale === 'en' ? /a loop/ : /循环/);
      assert.equal(idx.trainingView(desc.root).train.length + idx.trainingView(desc.root).test.length, 16);
    }
  });
});

describe('datasets: stray control characters are text, binary is skipped and shown', () => {
  let dir: string;
  beforeEach(() => { dir = makeTempDir(); });
  afterEach(() => removeDir(dir));

  it('valid UTF-8 with a backspace or a bell is read (not called binary)', () => {
    assert.deepEqual(detectEncoding(Buffer.from('Patient typed\b a note with a backspace.')), { encoding: 'utf-8', text: 'Patient typed\b a note with a backspace.' });
    assert.equal(detectEncoding(Buffer.from('bell\u0007 ok')).encoding, 'utf-8');
    assert.equal(detectEncoding(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00])).encoding, 'binary');
  });

  it('training keeps the two notes with a backspace; a real binary file is skipped and named in Problems', async () => {
    writeTree(dir, {
      ...classFolders('ds/train/', { a: 8, b: 8 }),
      'ds/train/a/typo-1.txt': 'chest pain\b\b on exertion',
      'ds/train/b/typo-2.txt': 'headache since\b morning',
      'ds/train/b/scan.txt': Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46, 0x00]),
    });
    const d = await loadDataset(path.join(dir, 'ds'));
    const texts = [...d.train, ...d.test].map((s) => s.text);
    assert.ok(texts.includes('chest pain\b\b on exertion'));
    assert.ok(texts.includes('headache since\b morning'));
    assert.equal(d.files.find((f) => f.file.endsWith('scan.txt'))!.skipped, 'binary or undecodable');
    const idx = new DatasetIndex([dir], { locale: 'en' });
    await idx.analyseAll();
    const issues = [...idx.results.values()][0].issues;
    assert.deepEqual(issues.filter((i) => i.code === 'fewshot.undecodable-file').map((i) => path.basename(i.file)), ['scan.txt']);
  });
});


