import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { loadDataset, findDatasets, IssueCodes, toDatasetInfo } from '../../src/core/datasets';
import type { Dataset } from '../../src/core/datasets';
import { FewShotError } from '../../src/core/errors';
import { classFolders, FIXTURES, makeTempDir, removeDir, SAMPLES, texts, utf16, writeTree } from './helpers/datasets-fixtures';

async function rejectsWith(p: Promise<unknown>, code: string, mentions: string): Promise<FewShotError> {
  try { await p; } catch (e) {
    assert.ok(e instanceof FewShotError, `expected FewShotError, got ${String(e)}`);
    assert.equal(e.opts.code, code, e.message);
    assert.ok(e.message.includes(mentions), `"${e.message}" should name ${mentions}`);
    assert.ok(e.opts.fix && e.opts.fix.length > 10, 'has a fix');
    assert.ok(!/\n\s+at /.test(e.message), 'no stack in message');
    return e;
  }
  assert.fail(`expected a FewShotError ${code}`);
}

const codes = (d: Dataset) => d.issues.map((i) => i.code);

describe('datasets: folder layouts', () => {
  let dir: string;
  beforeEach(() => { dir = makeTempDir(); });
  afterEach(() => removeDir(dir));

  it('loads train/ and test/ class folders (given split, sorted labels, file infos)', async () => {
    writeTree(dir, { ...classFolders('train/', { zeta: 5, alpha: 4 }), ...classFolders('test/', { zeta: 2, alpha: 2 }), 'train/alpha/notes.md': '# markdown example\n\nbody' });
    const d = await loadDataset(dir);
    assert.equal(d.format, 'folders');
    assert.equal(d.root, dir);
    assert.deepEqual(d.labels, ['alpha', 'zeta']);
    assert.equal(d.testSource, 'given');
    assert.equal(d.train.length, 10);
    assert.equal(d.test.length, 4);
    assert.equal(d.language, 'en');
    assert.match(d.fingerprint, /^[0-9a-f]{64}$/);
    const md = d.train.find((s) => s.file.endsWith('notes.md'))!;
    assert.equal(md.label, 'alpha');
    assert.equal(md.text, '# markdown example\n\nbody');
    assert.equal(md.line, undefined);
    const info = d.files.find((f) => f.file === md.file)!;
    assert.deepEqual(info, { file: md.file, split: 'train', label: 'alpha', encoding: 'utf-8', bytes: 24, chars: 24 });
    assert.ok(d.files.filter((f) => f.split === 'test').length === 4);
    assert.deepEqual(d.issues, []);
  });

  it('records the encoding per file: UTF-8 BOM, UTF-16 LE/BE, GB18030 (and trims/normalises newlines)', async () => {
    writeTree(dir, {
      ...classFolders('train/', { a: 4, b: 4 }),
      'train/a/bom.txt': Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('with bom\r\nsecond line\r\n')]),
      'train/b/le.txt': utf16('little endian 中文'),
      'train/b/be.txt': utf16('big endian 中文', true),
    });
    const d = await loadDataset(dir);
    const enc = (name: string) => d.files.find((f) => f.file.endsWith(name))!.encoding;
    assert.equal(enc('bom.txt'), 'utf-8-bom');
    assert.equal(enc('le.txt'), 'utf-16le');
    assert.equal(enc('be.txt'), 'utf-16be');
    assert.equal(enc('a-1.txt'), 'utf-8');
    assert.equal(d.train.concat(d.test).find((s) => s.file.endsWith('bom.txt'))!.text, 'with bom\nsecond line');
    assert.ok(d.train.concat(d.test).some((s) => s.text === 'big endian 中文'));
  });

  it('loads the GBK fixture (Chinese class folders, gb18030, language zh)', async () => {
    const d = await loadDataset(path.join(FIXTURES, 'gbk-folders'));
    assert.deepEqual(d.labels, ['呼吸科', '心内科']);
    assert.equal(d.testSource, 'given');
    assert.equal(d.language, 'zh');
    assert.ok(d.files.every((f) => f.encoding === 'gb18030'));
    assert.ok(d.train.some((s) => s.text === '活动后胸闷气短，休息可缓解。'));
  });

  it('splits a root of class folders with a seeded stratified split', async () => {
    writeTree(dir, classFolders('', { cats: 8, dogs: 12, fish: 6 }));
    const d = await loadDataset(dir, { seed: 7 });
    assert.equal(d.testSource, 'stratified-split');
    assert.equal(d.train.length + d.test.length, 26);
    const count = (ss: typeof d.test, l: string) => ss.filter((s) => s.label === l).length;
    assert.deepEqual([count(d.test, 'cats'), count(d.test, 'dogs'), count(d.test, 'fish')], [2, 3, 2]);
    const testFiles = new Set(d.test.map((s) => s.file));
    assert.ok(d.train.every((s) => !testFiles.has(s.file)), 'disjoint');
    assert.ok(d.files.every((f) => f.split === 'unsplit'));
    assert.ok(codes(d).includes(IssueCodes.stratifiedSplit));
    const again = await loadDataset(dir, { seed: 7 });
    assert.deepEqual(again.test.map((s) => s.file), d.test.map((s) => s.file));
    assert.equal(again.fingerprint, d.fingerprint);
    const other = await loadDataset(dir, { seed: 8 });
    assert.notDeepEqual(other.test.map((s) => s.file).sort(), d.test.map((s) => s.file).sort());
    const half = await loadDataset(dir, { seed: 7, testFraction: 0.5 });
    assert.equal(count(half.test, 'dogs'), 6);
  });

  it('keeps parts of one document on the same side of the split', async () => {
    const tree = classFolders('', { a: 8, b: 8 });
    for (let i = 1; i <= 4; i++) tree[`a/note12_part${i}.txt`] = `part ${i} of note twelve about a`;
    for (let i = 1; i <= 3; i++) tree[`b/visit-9-part-${i}.txt`] = `part ${i} of visit nine about b`;
    writeTree(dir, tree);
    for (let seed = 0; seed < 12; seed++) {
      const d = await loadDataset(dir, { seed });
      for (const g of ['note12', 'visit-9']) {
        const inTest = d.test.filter((s) => s.group === g).length;
        const inTrain = d.train.filter((s) => s.group === g).length;
        assert.ok(inTest === 0 || inTrain === 0, `group ${g} split across sides with seed ${seed}`);
        assert.equal(inTest + inTrain, g === 'note12' ? 4 : 3);
      }
    }
  });

  it('uses cross-validation (test = []) when a class is too small to hold out', async () => {
    writeTree(dir, classFolders('', { big: 10, tiny: 3 }));
    const d = await loadDataset(dir);
    assert.equal(d.testSource, 'cross-validation');
    assert.deepEqual(d.test, []);
    assert.equal(d.train.length, 13);
    assert.ok(codes(d).includes(IssueCodes.crossValidation));
  });

  it('holds out a test split from train/ when there is no test/ folder', async () => {
    writeTree(dir, classFolders('train/', { a: 8, b: 8 }));
    const d = await loadDataset(dir);
    assert.equal(d.testSource, 'stratified-split');
    assert.equal(d.test.length, 4);
    assert.ok(codes(d).includes(IssueCodes.missingTestSplit));
  });

  it('skips hidden and system files silently', async () => {
    writeTree(dir, {
      ...classFolders('train/', { a: 4, b: 4 }), ...classFolders('test/', { a: 1, b: 1 }),
      'train/a/.DS_Store': Buffer.from([0, 0, 0, 1, 0x42, 0x75, 0x64, 0x31, 0]), 'train/a/Thumbs.db': Buffer.from([0xd0, 0xcf, 0x11, 0]),
      'train/b/.hidden.txt': 'secret', '.git/config': 'x', 'train/.hidden-class/x.txt': 'y', 'train/a/desktop.ini': '[x]',
    });
    const d = await loadDataset(dir);
    assert.deepEqual(d.issues, []);
    assert.ok(d.files.every((f) => !/DS_Store|Thumbs|hidden|desktop/.test(f.file)));
    assert.deepEqual(d.labels, ['a', 'b']);
  });

  it('skips binary/undecodable and empty files with issues, and truncates big files with a warning', async () => {
    writeTree(dir, {
      ...classFolders('train/', { a: 4, b: 4 }),
      'train/a/image.txt': Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00]),
      'train/a/latin1.txt': Buffer.from('caf\xe9 cr\xe8me br\xfbl\xe9e', 'latin1'),
      'train/b/empty.txt': '',
      'train/b/blank.txt': '  \n\t\n',
      'train/b/huge.txt': 'word '.repeat(400),
    });
    const d = await loadDataset(dir, { maxFileBytes: 1000 });
    const info = (n: string) => d.files.find((f) => f.file.endsWith(n))!;
    assert.equal(info('image.txt').encoding, 'binary');
    assert.ok(info('image.txt').skipped);
    assert.ok(info('latin1.txt').skipped);
    assert.equal(info('empty.txt').skipped, 'empty');
    assert.equal(info('blank.txt').skipped, 'empty');
    assert.equal(info('huge.txt').truncated, true);
    assert.equal(info('huge.txt').bytes, 2000);
    const huge = d.train.concat(d.test).find((s) => s.file.endsWith('huge.txt'))!;
    assert.ok(huge.text.length <= 1000 && huge.text.length > 900);
    const issue = (n: string) => d.issues.find((i) => i.file?.endsWith(n))!;
    assert.equal(issue('image.txt').code, IssueCodes.undecodableFile);
    assert.equal(issue('latin1.txt').code, IssueCodes.undecodableFile);
    assert.equal(issue('empty.txt').code, IssueCodes.emptyFile);
    assert.equal(issue('huge.txt').code, IssueCodes.tooLong);
    assert.equal(issue('huge.txt').severity, 'warning');
    for (const n of ['image.txt', 'latin1.txt', 'empty.txt', 'huge.txt']) {
      assert.ok(issue(n).message.includes(path.join(dir, 'train')), 'message names the file');
      assert.ok(issue(n).fix);
    }
    assert.equal(d.train.length + d.test.length, 9);
  });

  it('reports an empty class folder as an issue and leaves the class out', async () => {
    writeTree(dir, { ...classFolders('train/', { a: 4, b: 4 }), 'train/c/': '', 'train/d/empty.txt': '' });
    const d = await loadDataset(dir);
    assert.deepEqual(d.labels, ['a', 'b']);
    const empties = d.issues.filter((i) => i.code === IssueCodes.emptyClass);
    assert.deepEqual(empties.map((i) => path.basename(i.file!)), ['c', 'd']);
    assert.ok(empties.every((i) => i.severity === 'warning' && i.fix));
  });

  it('reports ignored non-text files, loose files and extra split folders', async () => {
    writeTree(dir, { ...classFolders('train/', { a: 4, b: 4 }), 'train/a/scan.pdf': '%PDF-1.4', 'train/readme.txt': 'x', ...classFolders('val/', { a: 1 }) });
    const d = await loadDataset(dir);
    const ign = d.issues.filter((i) => i.code === IssueCodes.unsupportedFile);
    assert.equal(ign.length, 3);
    assert.ok(ign.some((i) => i.message.includes('scan.pdf')) && ign.some((i) => i.message.includes('readme.txt')) && ign.some((i) => i.message.includes('val/')));
    assert.equal(d.train.length + d.test.length, 8);
  });

  it('flags a test class that has no training examples and leaves it out of the evaluation', async () => {
    writeTree(dir, { ...classFolders('train/', { a: 4, b: 4 }), ...classFolders('test/', { a: 2, b: 1, c: 2 }) });
    const d = await loadDataset(dir);
    assert.deepEqual(d.labels, ['a', 'b']);
    assert.equal(d.test.length, 3);
    const i = d.issues.find((x) => x.code === IssueCodes.testClassNotInTrain)!;
    assert.equal(i.severity, 'error');
    assert.ok(i.message.includes('"c"') && i.file === path.join(dir, 'test', 'c'));
    assert.ok(i.fix!.includes(path.join(dir, 'train', 'c')));
  });

  it('warns when a training class has no test examples', async () => {
    writeTree(dir, { ...classFolders('train/', { a: 4, b: 4 }), ...classFolders('test/', { a: 2 }) });
    const d = await loadDataset(dir);
    assert.ok(d.issues.some((i) => i.code === IssueCodes.classMissingFromSplit && i.message.includes('"b"')));
  });

  it('fingerprint: independent of file order, changes with text, label or split', async () => {
    writeTree(dir, { ...classFolders('train/', { a: 4, b: 4 }), ...classFolders('test/', { a: 1, b: 1 }) });
    const f0 = (await loadDataset(dir)).fingerprint;
    const other = makeTempDir();
    try {
      // Same samples, different file names → same fingerprint.
      const t: Record<string, string> = {};
      texts('a', 4).forEach((s, i) => { t[`train/a/x${9 - i}.txt`] = s; });
      texts('b', 4).forEach((s, i) => { t[`train/b/y${i}.txt`] = s; });
      t['test/a/q.txt'] = texts('a', 1)[0]; t['test/b/q.txt'] = texts('b', 1)[0];
      writeTree(other, t);
      assert.equal((await loadDataset(other)).fingerprint, f0);
      writeTree(other, { 'train/a/x9.txt': 'changed' });
      assert.notEqual((await loadDataset(other)).fingerprint, f0);
    } finally { removeDir(other); }
  });

  describe('bad input → FewShotError naming the path with a fix', () => {
    it('missing path', async () => {
      await rejectsWith(loadDataset(path.join(dir, 'nope')), 'dataset-missing', path.join(dir, 'nope'));
    });
    it('empty folder', async () => {
      await rejectsWith(loadDataset(dir), 'dataset-empty', dir);
    });
    it('class folders that hold no usable file', async () => {
      writeTree(dir, { 'train/a/empty.txt': '', 'train/b/': '' });
      await rejectsWith(loadDataset(dir), 'dataset-empty', dir);
    });
    it('a single class', async () => {
      writeTree(dir, classFolders('train/', { only: 5 }));
      const e = await rejectsWith(loadDataset(dir), 'single-class', dir);
      assert.match(e.message, /"only"/);
    });
    it('a test/ folder without train/', async () => {
      writeTree(dir, classFolders('test/', { a: 2, b: 2 }));
      await rejectsWith(loadDataset(dir), 'no-train-folder', dir);
    });
    it('an unsupported file type', async () => {
      writeTree(dir, { 'data.xlsx': 'PK' });
      await rejectsWith(loadDataset(path.join(dir, 'data.xlsx')), 'unsupported-format', 'data.xlsx');
    });
  });
});

describe('datasets: table files', () => {
  let dir: string;
  beforeEach(() => { dir = makeTempDir(); });
  afterEach(() => removeDir(dir));

  it('CSV: quoted fields, embedded newlines, escaped quotes, CRLF, split column, 1-based lines', async () => {
    const csv = [
      'id,sentence,category,split',
      '1,"Chest pain, radiating to the arm",cardio,train',
      '2,"Cough with ""green"" sputum\r\nfor five days",resp,train',
      '3,Palpitations at rest,cardio,test',
      '4,Wheeze after a cold,resp,test',
      '5,Ankle swelling,cardio,train',
      '6,Fever and cough,resp,train',
    ].join('\r\n') + '\r\n';
    const f = path.join(dir, 'notes.csv');
    writeTree(dir, { 'notes.csv': csv });
    const d = await loadDataset(f);
    assert.equal(d.format, 'csv');
    assert.equal(d.testSource, 'given');
    assert.deepEqual(d.columns, { text: 'sentence', label: 'category', split: 'split' });
    assert.deepEqual(d.labels, ['cardio', 'resp']);
    assert.deepEqual(d.train.map((s) => [s.line, s.label, s.text]), [
      [2, 'cardio', 'Chest pain, radiating to the arm'],
      [3, 'resp', 'Cough with "green" sputum\nfor five days'],
      [7, 'cardio', 'Ankle swelling'], // row 3 spans lines 3–4
      [8, 'resp', 'Fever and cough'],
    ]);
    assert.deepEqual(d.test.map((s) => s.line), [5, 6]);
    assert.ok(d.train.every((s) => s.file === f));
    assert.deepEqual(d.files, [{ file: f, split: 'unsplit', encoding: 'utf-8', bytes: Buffer.byteLength(csv), chars: csv.length }]);
  });

  it('TSV and a group column; stratified split keeps groups together', async () => {
    const lines = ['text\tlabel\tpatient_id'];
    for (let i = 0; i < 12; i++) lines.push(`note ${i} about alpha things\talpha\tp${Math.floor(i / 3)}`);
    for (let i = 0; i < 12; i++) lines.push(`note ${i} about beta things\tbeta\tq${Math.floor(i / 2)}`);
    writeTree(dir, { 't.tsv': lines.join('\n') });
    for (let seed = 0; seed < 10; seed++) {
      const d = await loadDataset(path.join(dir, 't.tsv'), { seed });
      assert.equal(d.format, 'tsv');
      assert.equal(d.testSource, 'stratified-split');
      assert.equal(d.columns?.group, 'patient_id');
      const testGroups = new Set(d.test.map((s) => s.group));
      assert.ok(d.train.every((s) => !testGroups.has(s.group)), `seed ${seed}`);
      assert.ok(d.test.some((s) => s.label === 'alpha') && d.test.some((s) => s.label === 'beta'));
    }
  });

  it('JSONL without split: stratified split; bad lines become issues with line numbers', async () => {
    const rows: string[] = [];
    for (const l of ['x', 'y', 'z']) texts(l, 5).forEach((t) => rows.push(JSON.stringify({ content: t, target: l })));
    rows.splice(3, 0, '{broken');
    writeTree(dir, { 'd.jsonl': rows.join('\n') + '\n' });
    const d = await loadDataset(path.join(dir, 'd.jsonl'));
    assert.equal(d.format, 'jsonl');
    assert.deepEqual(d.columns, { text: 'content', label: 'target' });
    assert.equal(d.testSource, 'stratified-split');
    assert.equal(d.train.length + d.test.length, 15);
    const bad = d.issues.find((i) => i.code === IssueCodes.badRow)!;
    assert.equal(bad.line, 4);
    assert.ok(d.train.concat(d.test).some((s) => s.line === 5));
  });

  it('honours textColumn/labelColumn overrides', async () => {
    writeTree(dir, { 'o.csv': 'text,label,summary,dept\nlong text one,l1,short a,A\nlong text two,l2,short b,B\nthree,l1,short c,A\nfour,l2,short d,B\n' });
    const d = await loadDataset(path.join(dir, 'o.csv'), { textColumn: 'summary', labelColumn: 'dept' });
    assert.deepEqual(d.columns, { text: 'summary', label: 'dept' });
    assert.deepEqual(d.labels, ['A', 'B']);
    await rejectsWith(loadDataset(path.join(dir, 'o.csv'), { textColumn: 'nope' }), 'column-missing', path.join(dir, 'o.csv'));
  });

  it('reports empty cells and unknown split values', async () => {
    writeTree(dir, { 'e.csv': 'text,label,split\na1,a,train\n,a,train\nb1,,train\na2,a,train\nb2,b,validation\nb3,b,train\na3,a,holdout\nb4,b,weird\na4,a,train\nb5,b,train\n' });
    const d = await loadDataset(path.join(dir, 'e.csv'));
    assert.deepEqual(d.issues.map((i) => [i.code, i.line]), [
      [IssueCodes.emptyText, 3], [IssueCodes.emptyLabel, 4], [IssueCodes.unknownSplit, 9],
      [IssueCodes.classMissingFromSplit, undefined], // only "a" has a test row
    ]);
    assert.match(d.issues[3].message, /"b"/);
    assert.deepEqual(d.test.map((s) => s.text), ['a3']);
    assert.ok(d.train.some((s) => s.text === 'b2') && d.train.some((s) => s.text === 'b4'));
  });

  it('reads GB18030 and UTF-16 tables', async () => {
    const gbk = await loadDataset(path.join(FIXTURES, 'triage-gbk.csv'));
    assert.equal(gbk.files[0].encoding, 'gb18030');
    assert.deepEqual(gbk.columns, { text: '文本', label: '标签' });
    assert.equal(gbk.language, 'zh');
    assert.equal(gbk.train.length + gbk.test.length, 8);
    writeTree(dir, { 'u.csv': utf16('text,label\nchest pain,cardio\ncough,resp\npalpitations,cardio\nwheeze,resp\n') });
    const u = await loadDataset(path.join(dir, 'u.csv'));
    assert.equal(u.files[0].encoding, 'utf-16le');
    assert.equal(u.testSource, 'cross-validation');
    assert.deepEqual(u.train.map((s) => s.line), [2, 3, 4, 5]);
  });

  it('bad tables: empty, header only, binary, no detectable columns, single label', async () => {
    writeTree(dir, {
      'empty.csv': '', 'header.csv': 'text,label\n', 'bin.csv': Buffer.from([1, 2, 0, 0, 5]),
      'nocols.csv': 'a,b\n1,2\n3,4\n5,6\n', 'one.jsonl': '{"text":"a","label":"x"}\n{"text":"b","label":"x"}\n',
    });
    await rejectsWith(loadDataset(path.join(dir, 'empty.csv')), 'dataset-empty', 'empty.csv');
    await rejectsWith(loadDataset(path.join(dir, 'header.csv')), 'dataset-empty', 'header.csv');
    await rejectsWith(loadDataset(path.join(dir, 'bin.csv')), 'undecodable-file', 'bin.csv');
    await rejectsWith(loadDataset(path.join(dir, 'nocols.csv')), 'columns-not-found', 'nocols.csv');
    await rejectsWith(loadDataset(path.join(dir, 'one.jsonl')), 'single-class', 'one.jsonl');
  });
});

describe('datasets: bundled samples', () => {
  it('clinical-notes: 4 classes, 16 train + 6 test each, English', async () => {
    const d = await loadDataset(path.join(SAMPLES, 'clinical-notes'));
    assert.deepEqual(d.labels, ['cardiology', 'gastro', 'neurology', 'respiratory']);
    assert.equal(d.testSource, 'given');
    for (const l of d.labels) {
      assert.equal(d.train.filter((s) => s.label === l).length, 16);
      assert.equal(d.test.filter((s) => s.label === l).length, 6);
    }
    assert.equal(d.language, 'en');
    assert.deepEqual(d.issues, []);
    assert.equal(new Set(d.train.concat(d.test).map((s) => s.text)).size, 88, 'no duplicate notes');
    const info = toDatasetInfo(d);
    assert.deepEqual(info.counts.test, { cardiology: 6, gastro: 6, neurology: 6, respiratory: 6 });
    assert.equal(info.fingerprint, d.fingerprint);
    assert.equal(info.testSource, 'given');
  });
  it('triage-zh.csv: Chinese, 4 classes, given split', async () => {
    const d = await loadDataset(path.join(SAMPLES, 'triage-zh.csv'));
    assert.equal(d.language, 'zh');
    assert.equal(d.labels.length, 4);
    assert.equal(d.testSource, 'given');
    assert.equal(d.train.length + d.test.length, 60);
    assert.deepEqual(d.issues, []);
    assert.ok(d.train.concat(d.test).some((s) => s.text.includes('180/110, 头晕')), 'quoted comma survives');
  });
  it('symptoms.jsonl: 3 classes, stratified split', async () => {
    const d = await loadDataset(path.join(SAMPLES, 'symptoms.jsonl'));
    assert.equal(d.labels.length, 3);
    assert.equal(d.testSource, 'stratified-split');
    assert.equal(d.train.length + d.test.length, 40);
  });
});

describe('datasets: findDatasets', () => {
  let ws: string;
  beforeEach(() => { ws = makeTempDir('fsl-ws-'); });
  afterEach(() => removeDir(ws));

  it('finds folder layouts and table files, skipping node_modules/.git/.fewshot/dist/out and non-datasets', async () => {
    writeTree(ws, {
      ...classFolders('data/notes/train/', { a: 2, b: 2 }),
      ...classFolders('data/notes/test/', { a: 1 }),
      ...classFolders('data/notes/train/a/nested/train/', { x: 1 }), // inside a dataset: not listed
      'data/reviews.csv': 'review,sentiment\ngreat,pos\nbad,neg\n',
      'data/more/intents.jsonl': '{"utterance":"book a flight","intent":"travel"}\n',
      'data/more/t.tsv': 'text\tlabel\nhello\tgreet\n',
      'data/metrics.csv': 'epoch,loss\n1,0.5\n2,0.4\n',
      'data/empty.csv': '',
      'data/train/': '', // a train/ folder without class folders is not a dataset
      ...classFolders('node_modules/pkg/ds/train/', { a: 1, b: 1 }),
      ...classFolders('.git/ds/train/', { a: 1, b: 1 }),
      ...classFolders('.fewshot/ds/train/', { a: 1, b: 1 }),
      'dist/x.csv': 'text,label\na,b\n',
      'out/y.csv': 'text,label\na,b\n',
      'node_modules/z.csv': 'text,label\na,b\n',
    });
    const refs = await findDatasets(ws);
    assert.deepEqual(refs.map((r) => [path.relative(ws, r.root), r.format, r.name]), [
      ['data/more/intents.jsonl', 'jsonl', 'intents'],
      ['data/more/t.tsv', 'tsv', 't'],
      ['data/notes', 'folders', 'notes'],
      ['data/reviews.csv', 'csv', 'reviews'],
    ]);
  });

  it('adds configured paths and respects maxDepth', async () => {
    writeTree(ws, { ...classFolders('flat/', { a: 5, b: 5 }), ...classFolders('a/b/c/d/ds/train/', { a: 1, b: 1 }), 'custom.tsv': 'x\ty\n' });
    const refs = await findDatasets(ws, { extraPaths: ['flat', path.join(ws, 'custom.tsv'), 'missing'], maxDepth: 2 });
    assert.deepEqual(refs.map((r) => [path.relative(ws, r.root), r.format]), [['custom.tsv', 'tsv'], ['flat', 'folders']]);
    const deep = await findDatasets(ws);
    assert.ok(deep.some((r) => r.root === path.join(ws, 'a/b/c/d/ds')));
  });

  it('only reads the head of large table files and stays fast on big trees', async () => {
    const big = 'text,label\n' + 'some fairly long example text for the row,lab\n'.repeat(200_000); // ~9 MB
    const tree: Record<string, string> = { 'big/huge.csv': big };
    for (let i = 0; i < 300; i++) tree[`tree/d${i % 30}/e${i}/file${i}.txt`] = 'x';
    writeTree(ws, tree);
    const t = Date.now();
    const refs = await findDatasets(ws);
    const ms = Date.now() - t;
    assert.deepEqual(refs.map((r) => path.relative(ws, r.root)), ['big/huge.csv']);
    assert.ok(ms < 3000, `took ${ms} ms`);
  });

  it('returns [] for a missing workspace', async () => {
    assert.deepEqual(await findDatasets(path.join(ws, 'missing')), []);
  });
});

describe('datasets: train/test table pairs', () => {
  let ws: string;
  beforeEach(() => { ws = makeTempDir('fsl-pair-'); });
  afterEach(() => removeDir(ws));

  it('reads name-test.csv as the test split of name-train.csv, and lists the pair once', async () => {
    writeTree(ws, {
      'tickets_train.csv': 'text,label\nreset my password,account\nscreen flickers,hardware\nlocked out again,account\nlaptop will not boot,hardware\n',
      'tickets_test.csv': 'text,label\nchange my email,account\nprinter jammed,hardware\n',
    });
    const d = await loadDataset(path.join(ws, 'tickets_train.csv'));
    assert.equal(d.testSource, 'given');
    assert.deepEqual(d.test.map((s) => [path.basename(s.file), s.line, s.text]), [['tickets_test.csv', 2, 'change my email'], ['tickets_test.csv', 3, 'printer jammed']]);
    assert.deepEqual(d.files.map((f) => [path.basename(f.file), f.split]), [['tickets_train.csv', 'train'], ['tickets_test.csv', 'test']]);
    assert.deepEqual((await findDatasets(ws)).map((r) => path.basename(r.root)), ['tickets_train.csv']);
  });

  it('ignores a test sibling without text and label columns (the train file is split as usual)', async () => {
    writeTree(ws, {
      'tickets-train.csv': 'text,label\n' + ['a', 'b'].flatMap((l) => [1, 2, 3, 4].map((i) => `example ${l}${i},${l}\n`)).join(''),
      'tickets-test.csv': 'epoch,loss\n1,0.5\n',
    });
    const d = await loadDataset(path.join(ws, 'tickets-train.csv'));
    assert.equal(d.testSource, 'stratified-split');
    assert.ok(d.test.every((s) => s.file.endsWith('tickets-train.csv')));
    assert.deepEqual((await findDatasets(ws)).map((r) => path.basename(r.root)), ['tickets-train.csv']);
  });
});
