/**
 * Issue 16, "Datasets: never train on wrong data silently": symbolic links, stray control
 * characters, malformed CSV rows, guessed label columns and test classes missing from train.
 * Every fixture is written into a temp folder by the test.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { detectEncoding, IssueCodes, loadDataset, type DatasetIssue } from '../../src/core/datasets';

import { FewShotError } from '../../src/core/errors';
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



describe('datasets: a CSV row with an unbalanced quote is skipped and named, never merged', () => {
  let dir: string;
  beforeEach(() => { dir = makeTempDir(); });
  afterEach(() => removeDir(dir));

  const rows = (n: number, label: string) => Array.from({ length: n }, (_, i) => `${label} note number ${i + 1},${label}`).join('\n');

  it('a quote closed lines later and followed by text: only its row is skipped; the rows after it keep their own labels', async () => {
    const file = path.join(dir, 'notes.csv');
    fs.writeFileSync(file, `text,label\n${rows(4, 'cardiology')}\n"chest pain, radiating to the arm,cardiology\nheadache since morning,neurology\n"knee" swollen after a fall,orthopedics\n${rows(4, 'neurology')}\n${rows(4, 'orthopedics')}\n`);
    const d = await loadDataset(file);
    const all = [...d.train, ...d.test];
    assert.equal(all.length, 14);
    assert.ok(!all.some((s) => s.text.includes('\n')), 'no row is merged into another');
    assert.ok(!all.some((s) => s.text.includes('chest pain')));
    assert.equal(all.find((s) => s.text === 'headache since morning')?.label, 'neurology');
    assert.equal(all.find((s) => s.text === 'knee swollen after a fall')?.label, 'orthopedics');
    const bad = d.issues.filter((i) => i.code === IssueCodes.badRow);
    assert.equal(bad.length, 1);
    assert.equal(bad[0].line, 6);
    assert.match(bad[0].message, /notes\.csv:6: the quote opened on line 6 is closed on line 8 but followed by more text \(an unbalanced quote\); the row was skipped/);
    assert.match(bad[0].fix!, /line 6/);
  });

  it('a quote never closed: its row is skipped and every later row is still read', async () => {
    const file = path.join(dir, 'notes.csv');
    fs.writeFileSync(file, `text,label\n${rows(4, 'a')}\n"never closed, the rest of the file,b\n${rows(4, 'b')}\n`);
    const d = await loadDataset(file);
    const all = [...d.train, ...d.test];
    assert.deepEqual(all.map((s) => s.label).sort().join(''), 'aaaabbbb');
    assert.ok(!all.some((s) => s.text.includes('never closed')));
    const bad = d.issues.find((i) => i.code === IssueCodes.badRow)!;
    assert.equal(bad.line, 6);
    assert.match(bad.message, /the quote opened on line 6 is never closed; the row was skipped/);
  });

  it('quoted fields over several lines that close properly are still one text', async () => {
    const file = path.join(dir, 'notes.csv');
    fs.writeFileSync(file, `text,label\n${rows(4, 'a')}\n"first line\nsecond line, with a comma",b\n${rows(4, 'b')}\n`);
    const d = await loadDataset(file);
    assert.ok([...d.train, ...d.test].some((s) => s.text === 'first line\nsecond line, with a comma' && s.label === 'b'));
    assert.equal(d.issues.filter((i) => i.code === IssueCodes.badRow).length, 0);
  });
});

describe('datasets: the label column is named every time, and never guessed between several', () => {
  let dir: string;
  beforeEach(() => { dir = makeTempDir(); });
  afterEach(() => removeDir(dir));

  const table = (head: string, row: (i: number) => string) => [head, ...Array.from({ length: 24 }, (_, i) => row(i))].join('\n') + '\n';
  const note = (i: number) => `patient ${i} reports symptom number ${i} since yesterday`;

  it('two columns could hold the labels: refused, naming both and the fix', async () => {
    const file = path.join(dir, 'notes.csv');
    fs.writeFileSync(file, table('note,source,ward', (i) => `${note(i)},${i % 2 ? 'er' : 'clinic'},${['north', 'south', 'east'][i % 3]}`));
    try {
      await loadDataset(file);
      assert.fail('expected a refusal');
    } catch (e) {
      assert.ok(e instanceof FewShotError, String(e));
      assert.equal(e.opts.code, 'label-column-ambiguous');
      assert.match(e.message, /notes\.csv: no column is named like a label .* 2 columns could hold the labels: "source", "ward"/);
      assert.match(e.opts.fix!, /--label-column source or --label-column ward/);
      assert.match(e.opts.fix!, /fewshot\.train\.labelColumn/);
    }
    // Problems shows the refusal on the file; with fewshot.train.labelColumn set, the table reads like training reads it
    const idx = new DatasetIndex([dir], { locale: 'en' });
    await idx.analyseAll();
    assert.match(idx.results.get(file)!.issues.map((i) => i.message).join('\n'), /2 columns could hold the labels: "source", "ward"/);
    idx.settings = { ...idx.settings, labelColumn: 'ward' };
    idx.dropTables();
    await idx.reanalyseCached();
    assert.ok(!idx.results.get(file)!.issues.some((i) => /could hold the labels/.test(i.message)));
    assert.deepEqual(idx.trainingView(file).labels, ['east', 'north', 'south']);
    const chosen = await loadDataset(file, { labelColumn: 'ward' });
    assert.deepEqual(chosen.labels, ['east', 'north', 'south']);
    assert.deepEqual(chosen.columns, { text: 'note', label: 'ward' });
    assert.equal(chosen.issues.filter((i) => i.code === IssueCodes.columnsGuessed).length, 0, 'set, not guessed');
  });

  it('one column guessed from the content: loaded with a warning naming it; named columns: no warning', async () => {
    const file = path.join(dir, 'notes.csv');
    fs.writeFileSync(file, table('note,source', (i) => `${note(i)},${i % 2 ? 'er' : 'clinic'}`));
    const d = await loadDataset(file);
    assert.deepEqual(d.labels, ['clinic', 'er']);
    const w = d.issues.find((i) => i.code === IssueCodes.columnsGuessed)!;
    assert.equal(w.severity, 'warning');
    assert.match(w.message, /guessed from the content: text column "note", label column "source"/);
    assert.match(w.fix!, /--label-column/);
    const named = path.join(dir, 'named.csv');
    fs.writeFileSync(named, table('text,label', (i) => `${note(i)},${i % 2 ? 'x' : 'y'}`));
    for (const locale of ['en', 'zh-cn']) {
      const idx = new DatasetIndex([dir], { locale });
      await idx.analyseAll();
      const shown = idx.results.get(file)!.issues.filter((i) => i.code === 'fewshot.columns-guessed');
      assert.equal(shown.length, 1, 'in Problems, on the header line');
      assert.equal(shown[0].range.start.line, 0);
      assert.match(shown[0].message, locale === 'en' ? /text column 'note', label column 'source'/ : /文本列 'note'，标签列 'source'/);
      assert.equal(idx.results.get(named)?.issues.filter((i) => i.code === 'fewshot.columns-guessed').length ?? 0, 0);
    }
    const n = await loadDataset(named);
    assert.deepEqual(n.columns, { text: 'text', label: 'label' });
    assert.equal(n.issues.filter((i) => i.code === IssueCodes.columnsGuessed).length, 0);
  });
});
