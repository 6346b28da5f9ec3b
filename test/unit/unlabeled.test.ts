/** Unlabelled texts: the loader's layouts (unlabeled/ folders, empty label cells) and the language server's view of them. */
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { findDatasets, IssueCodes, loadDataset } from '../../src/core/datasets';
import { DatasetIndex, DEFAULT_SETTINGS } from '../../src/server/analysis';
import { DiagnosticCodes } from '../../src/protocol/diagnostics';
import { classFolders, makeTempDir, removeDir, writeTree } from './helpers/datasets-fixtures';

const base = (files: string[]) => files.map((f) => path.basename(f)).sort();

describe('unlabelled texts: loader layouts', () => {
  let dir: string;
  beforeEach(() => { dir = makeTempDir(); });
  afterEach(() => removeDir(dir));

  it('unsplit layout: unlabeled/ next to the class folders is never a class', async () => {
    writeTree(dir, { ...classFolders('', { alpha: 6, beta: 6 }), 'unlabeled/u1.txt': 'first unknown', 'unlabeled/u2.md': 'second unknown', 'unlabeled/empty.txt': '' });
    const d = await loadDataset(dir);
    assert.deepEqual(d.labels, ['alpha', 'beta']);
    assert.deepEqual(d.unlabeled!.map((s) => [s.text, s.label]).sort(), [['first unknown', ''], ['second unknown', '']]);
    assert.ok(![...d.train, ...d.test].some((s) => s.file.includes('unlabeled')));
    assert.ok(d.issues.some((i) => i.code === IssueCodes.emptyFile && i.file!.endsWith('empty.txt')), 'an empty unlabelled file is named');
  });

  it('train/test layout: unlabelled/ at the root and unlabeled/ inside train/ (case-insensitive); not an ignored folder', async () => {
    writeTree(dir, { ...classFolders('train/', { a: 4, b: 4 }), ...classFolders('test/', { a: 2, b: 2 }), 'Unlabelled/r.txt': 'root text', 'train/unlabeled/t.txt': 'train text' });
    const d = await loadDataset(dir);
    assert.deepEqual(d.labels, ['a', 'b']);
    assert.deepEqual(base(d.unlabeled!.map((s) => s.file)), ['r.txt', 't.txt']);
    assert.ok(!d.issues.some((i) => i.code === IssueCodes.unsupportedFile), d.issues.map((i) => i.message).join('\n'));
  });

  it('the fingerprint ignores unlabelled texts; a dataset without them has no unlabeled field', async () => {
    writeTree(dir, classFolders('', { alpha: 6, beta: 6 }));
    const before = await loadDataset(dir);
    assert.equal(before.unlabeled, undefined);
    writeTree(dir, { 'unlabeled/u.txt': 'later' });
    const after = await loadDataset(dir);
    assert.equal(after.fingerprint, before.fingerprint);
    assert.equal(after.unlabeled!.length, 1);
  });

  it('CSV, TSV and JSONL: rows with an empty label are unlabelled texts, reported as Information', async () => {
    writeTree(dir, {
      'n.csv': 'text,label\na1,a\na2,a\na3,a\na4,a\nb1,b\nb2,b\nb3,b\nb4,b\nwhat is this,\n"and this",  \n',
      'n.tsv': 'text\tlabel\na1\ta\na2\ta\na3\ta\na4\ta\nb1\tb\nb2\tb\nb3\tb\nb4\tb\nunknown one\t\n',
      'n.jsonl': ['a1', 'a2', 'a3', 'a4'].map((t) => JSON.stringify({ text: t, label: 'a' })).concat(['b1', 'b2', 'b3', 'b4'].map((t) => JSON.stringify({ text: t, label: 'b' })), JSON.stringify({ text: 'no label', label: '' })).join('\n'),
    });
    const csv = await loadDataset(path.join(dir, 'n.csv'));
    assert.deepEqual(csv.unlabeled!.map((s) => [s.text, s.line, s.label]), [['what is this', 10, ''], ['and this', 11, '']]);
    const issue = csv.issues.find((i) => i.code === IssueCodes.emptyLabel)!;
    assert.equal(issue.severity, 'info');
    assert.equal(issue.line, 10);
    assert.match(issue.message, /2 row\(s\).*unlabelled texts.*Suggest What to Label Next/);
    assert.deepEqual((await loadDataset(path.join(dir, 'n.tsv'))).unlabeled!.map((s) => s.text), ['unknown one']);
    assert.deepEqual((await loadDataset(path.join(dir, 'n.jsonl'))).unlabeled!.map((s) => s.text), ['no label']);
  });

  it('findDatasets does not count unlabeled/ as a class folder', async () => {
    writeTree(dir, { 'one/alpha/a1.txt': 'x', 'one/alpha/a2.txt': 'y', 'one/unlabeled/u1.txt': 'u', 'one/unlabeled/u2.txt': 'v' });
    assert.deepEqual(await findDatasets(dir), []);
  });
});

describe('unlabelled texts: language server', function () {
  this.timeout(20_000);
  let ws: string;
  beforeEach(() => { ws = makeTempDir(); });
  afterEach(() => removeDir(ws));

  it('an unlabeled/ folder is not a class and gets no class warnings; an empty-label row is Information', async () => {
    writeTree(ws, {
      ...classFolders('notes/', { alpha: 6, beta: 6 }), 'notes/unlabeled/u1.txt': 'unknown', 'notes/unlabeled/u2.txt': 'unknown two',
      'rows.csv': 'text,label\n' + ['a1', 'a2', 'a3', 'a4', 'a5', 'a6'].map((t) => `${t},a\n`).join('') + ['b1', 'b2', 'b3', 'b4', 'b5', 'b6'].map((t) => `${t},b\n`).join('') + 'what is this,\n',
    });
    const ix = new DatasetIndex([ws]);
    ix.settings = { ...DEFAULT_SETTINGS };
    await ix.analyseAll();
    const notes = ix.results.get(path.join(ws, 'notes'))!;
    assert.deepEqual(notes.summary.classes.map((c) => c.label), ['alpha', 'beta']);
    assert.ok(!notes.issues.some((i) => /unlabel/i.test(i.message) || i.file.includes(`${path.sep}unlabeled${path.sep}`)), notes.issues.map((i) => i.message).join('\n'));
    const rows = ix.results.get(path.join(ws, 'rows.csv'))!;
    const un = rows.issues.filter((i) => i.code === DiagnosticCodes.emptyLabel);
    assert.deepEqual(un.map((i) => [i.severity, i.range.start.line]), [['info', 13]]);
    assert.ok(!rows.issues.some((i) => i.code === DiagnosticCodes.emptyFile));
  });
});
