/** Unit tests of the pure dataset analysis (src/server/analysis). */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { TextDocument } from 'vscode-languageserver-textdocument';
import * as os from 'node:os';
import {
  DatasetIndex, DEFAULT_SETTINGS, invertMoves, jaccard, labelKey, loadMember, minhash, normaliseText,
  planStratifiedSplit, rowDeletionRange, shingles, withSilenced, type Issue, type Settings,
} from '../../src/server/analysis';
import { DiagnosticCodes } from '../../src/protocol/diagnostics';
import { GB18030_HELLO, makeFixtureWorkspace, rmrf, utf16le } from './analysis.fixtures';

function rel(ws: string, i: Issue): string {
  return path.relative(ws, i.file).split(path.sep).join('/');
}
function find(issues: Issue[], code: string, file?: string): Issue[] {
  return issues.filter((i) => i.code === code && (!file || i.file.endsWith(file)));
}
async function analyse(ws: string, settings: Partial<Settings> = {}, locale?: string) {
  const ix = new DatasetIndex([ws], { locale });
  ix.settings = { ...DEFAULT_SETTINGS, ...settings };
  await ix.analyseAll();
  return ix;
}
function listFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p); else out.push(path.relative(dir, p));
    }
  };
  walk(dir);
  return out.sort();
}

describe('analysis: text helpers', () => {
  it('normalises whitespace, case and width', () => {
    assert.equal(normaliseText('  Hello\t\nWORLD  '), 'hello world');
    assert.equal(normaliseText('ＡＢＣ１２３'), 'abc123');
  });
  it('keys labels that differ only by case, whitespace or full-width characters together', () => {
    assert.equal(labelKey('Sports '), labelKey('sports'));
    assert.equal(labelKey('ｔｅｃｈ'), labelKey('Tech'));
    assert.notEqual(labelKey('tech'), labelKey('teach'));
  });
  it('computes exact Jaccard on shingles and MinHash agrees roughly', () => {
    const a = shingles(normaliseText('the quick brown fox jumps over the lazy dog near the river bank'));
    const b = shingles(normaliseText('the quick brown fox jumps over the lazy dog near the river bend'));
    const c = shingles(normaliseText('completely different sentence about databases and indexes'));
    const jab = jaccard(a, b);
    assert.ok(jab > 0.8 && jab < 1, `jaccard ${jab}`);
    assert.ok(jaccard(a, c) < 0.2);
    const sa = minhash(a), sb = minhash(b);
    let same = 0;
    for (let i = 0; i < sa.length; i++) if (sa[i] === sb[i]) same++;
    assert.ok(Math.abs(same / sa.length - jab) < 0.3, `minhash estimate ${same / sa.length} vs ${jab}`);
  });
});

describe('analysis: files are read with the core dataset modules', () => {
  let dir = '';
  before(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fewshot-member-')); });
  after(() => rmrf(dir));
  const write = (name: string, data: string | Buffer) => { const p = path.join(dir, name); fs.writeFileSync(p, data); return p; };

  it('decodes like training: UTF-8 (BOM), UTF-16 with BOM and GB18030 are text; Windows-1252 and BOM-less UTF-16 are not', async () => {
    const enc = async (data: Buffer) => (await loadMember({ file: write('x.txt', data), split: 'train', label: 'a' }, 'folders')).encoding;
    assert.equal(await enc(Buffer.from('héllo wörld')), 'utf-8');
    assert.equal(await enc(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('hi')])), 'utf-8-bom');
    assert.equal(await enc(utf16le('hello world')), 'utf-16le');
    const gb = await loadMember({ file: write('gb.txt', GB18030_HELLO), split: 'train', label: 'a' }, 'folders');
    assert.equal(gb.encoding, 'gb18030');
    assert.equal(gb.samples[0].text, '你好，世界，这是一个测试');
    for (const bytes of [Buffer.from([0x63, 0x61, 0x66, 0xe9, 0x20, 0x6e, 0x6f, 0x69, 0x72]), utf16le('hello world', false)]) {
      const lf = await loadMember({ file: write('y.txt', bytes), split: 'train', label: 'a' }, 'folders');
      assert.equal(lf.status, 'binary');
      assert.equal(lf.samples.length, 0);
    }
  });

  it('keeps the line and column of quoted, multi-line fields', async () => {
    const lf = await loadMember({ file: write('r.csv', 'note,department\n"x, ""y""",1\n"multi\nline",2\n'), split: 'unsplit' }, 'csv');
    assert.deepEqual(lf.columns, { text: 'note', label: 'department' });
    assert.deepEqual(lf.samples.map((s) => [s.text, s.label, s.line, s.row]), [['x, "y"', '1', 2, { line: 1, endLine: 2 }], ['multi\nline', '2', 3, { line: 2, endLine: 4 }]]);
    assert.deepEqual(lf.samples[0].range, { start: { line: 1, character: 1 }, end: { line: 1, character: 9 } });
    assert.deepEqual(lf.samples[1].range, { start: { line: 2, character: 1 }, end: { line: 3, character: 4 } });
  });

  it('finds text/label/split columns by the core rules and reports broken JSONL lines', async () => {
    const csv = await loadMember({ file: write('s.csv', 'id,Text,Category,split\n1,hello,greet,train\n2,bye,farewell,test\n3,hi,greet,dev\n'), split: 'unsplit' }, 'csv');
    assert.deepEqual(csv.columns, { text: 'Text', label: 'Category', split: 'split' });
    assert.deepEqual(csv.samples.map((s) => [s.text, s.label, s.split, s.row!.line]), [['hello', 'greet', 'train', 1], ['bye', 'farewell', 'test', 2], ['hi', 'greet', 'train', 3]]);
    const jl = await loadMember({ file: write('j.jsonl', '{"text": "a b", "label": "x"}\nnot json\n{"label": "y", "text": "c"}\n'), split: 'unsplit' }, 'jsonl');
    assert.equal(jl.samples.length, 2);
    assert.equal(jl.parseErrors.length, 1);
    assert.equal(jl.parseErrors[0].line, 1);
    assert.deepEqual(jl.samples[0].range, { start: { line: 0, character: 9 }, end: { line: 0, character: 14 } });
  });
});

describe('analysis: every diagnostic on the fixture datasets', function () {
  this.timeout(20_000);
  let ws = '';
  let ix: DatasetIndex;
  let all: Issue[] = [];
  before(async () => {
    ws = makeFixtureWorkspace();
    ix = await analyse(ws);
    all = [...ix.results.values()].flatMap((r) => r.issues);
  });
  after(() => rmrf(ws));

  it('discovers the folder and table datasets (train/test table files are paired)', () => {
    const roots = [...ix.datasets.keys()].map((r) => path.relative(ws, r).split(path.sep).join('/'));
    assert.deepEqual(roots, ['folders/news', 'folders/nosplit', 'tables/intents.jsonl', 'tables/reviews.csv', 'tables/tickets-train.tsv']);
    assert.equal(ix.datasets.get(path.join(ws, 'tables/tickets-train.tsv'))!.members.length, 2);
  });

  it('reports class imbalance on the first file of the smallest class, and under-represented classes', () => {
    const [imb] = find(all, DiagnosticCodes.classImbalance);
    assert.ok(imb, 'no class-imbalance diagnostic');
    assert.equal(rel(ws, imb), 'folders/news/train/ｔｅｃｈ/x01.txt');
    assert.equal(imb.severity, 'warning');
    assert.match(imb.message, /'sports' has 12 training samples but 'ｔｅｃｈ' has only 1/);
    const under = find(all, DiagnosticCodes.classUnderrepresented).map((i) => i.data.label).sort();
    assert.deepEqual(under, ['politics', 'ｔｅｃｈ']);
  });

  it('reports too few train / test samples per class', () => {
    const few = find(all, DiagnosticCodes.tooFewTrain).filter((i) => i.data.dataset.endsWith('news')).map((i) => i.data.label).sort();
    assert.deepEqual(few, ['politics', 'ｔｅｃｈ']);
    const fewTest = find(all, DiagnosticCodes.tooFewTest).filter((i) => i.data.dataset.endsWith('news')).map((i) => i.data.label);
    assert.deepEqual(fewTest, ['politics']);
  });

  it('reports a missing test split (folders: warning, tables: info) and classes missing from a split', () => {
    const miss = find(all, DiagnosticCodes.missingTestSplit);
    assert.deepEqual(miss.map((i) => [rel(ws, i), i.severity]).sort(), [['folders/nosplit/train/alpha/alpha-01.txt', 'warning'], ['tables/intents.jsonl', 'info']]);
    const split = find(all, DiagnosticCodes.classMissingFromSplit);
    const weather = split.find((i) => i.data.label === 'weather')!;
    assert.equal(weather.severity, 'error');
    assert.equal(rel(ws, weather), 'folders/news/test/weather/w01.txt');
    assert.ok(split.some((i) => i.data.label === 'tech' && i.severity === 'warning'));
  });

  it('reports exact train/test leakage after normalising whitespace and case, with the training file as related information', () => {
    const leak = find(all, DiagnosticCodes.leakageExact, 't01.txt')[0];
    assert.ok(leak);
    assert.equal(rel(ws, leak), 'folders/news/test/sports/t01.txt');
    assert.equal(path.basename(leak.data.other!.file), 's02.txt');
    assert.equal(path.basename(leak.related![0].file), 's02.txt');
    const rowLeak = find(all, DiagnosticCodes.leakageExact, 'reviews.csv')[0];
    assert.deepEqual(rowLeak.data.row, { line: 9, endLine: 10 });
    assert.equal(find(all, DiagnosticCodes.leakageExact, 'tickets-test.tsv').length, 1);
  });

  it('reports near-duplicate leakage (character shingles, Jaccard ≥ threshold)', () => {
    const near = find(all, DiagnosticCodes.leakageNear);
    assert.equal(near.length, 1);
    assert.equal(rel(ws, near[0]), 'folders/news/test/sports/t02.txt');
    assert.equal(path.basename(near[0].data.other!.file), 's03.txt');
    assert.match(near[0].message, /\d+% similar/);
  });

  it('reports duplicates within a split (files and rows) pointing at the first occurrence', () => {
    const d = find(all, DiagnosticCodes.duplicateInSplit);
    const byFile = d.map((i) => `${rel(ws, i)}:${i.range.start.line}`).sort();
    assert.deepEqual(byFile, ['folders/news/train/sports/s11.txt:0', 'tables/intents.jsonl:2', 'tables/reviews.csv:3']);
    const csv = d.find((i) => i.file.endsWith('reviews.csv'))!;
    assert.deepEqual(csv.range.start, { line: 3, character: 1 });
    assert.deepEqual(csv.data.other!.range.start, { line: 1, character: 1 });
  });

  it('reports the same text under two labels on both samples', () => {
    const c = find(all, DiagnosticCodes.conflictingLabels);
    const places = c.map((i) => `${rel(ws, i)}:${i.range.start.line}`).sort();
    assert.deepEqual(places, ['folders/news/test/politics/c01.txt:0', 'folders/news/train/sports/s04.txt:0', 'tables/reviews.csv:2', 'tables/reviews.csv:8']);
    assert.ok(c.every((i) => i.severity === 'error'));
  });

  it('reports empty files and empty rows', () => {
    const e = find(all, DiagnosticCodes.emptyFile).map((i) => `${rel(ws, i)}:${i.range.start.line}`).sort();
    assert.deepEqual(e, ['folders/news/train/sports/empty.txt:0', 'tables/reviews.csv:5']);
  });

  it('reports binary files and unreadable rows as undecodable', () => {
    const u = find(all, DiagnosticCodes.undecodableFile).map((i) => `${rel(ws, i)}:${i.range.start.line}`).sort();
    assert.deepEqual(u, ['folders/news/train/sports/scan.txt:0', 'tables/intents.jsonl:3']);
  });

  it('reports GB18030 and UTF-16 files in a mostly UTF-8 dataset', () => {
    const enc = find(all, DiagnosticCodes.unexpectedEncoding);
    assert.deepEqual(enc.map((i) => path.basename(i.file)).sort(), ['t09-gb18030.txt', 't10-utf16.txt']);
    assert.match(enc.find((i) => i.file.includes('gb18030'))!.message, /GB18030 while most of the dataset is UTF-8/);
  });

  it('reports samples longer than maxChars, starting the range at the truncation point', () => {
    const [long] = find(all, DiagnosticCodes.tooLong);
    assert.equal(path.basename(long.file), 'long.txt');
    assert.deepEqual(long.range.start, { line: 0, character: 2000 });
  });

  it('reports label names that differ only by case, whitespace or width', () => {
    const v = find(all, DiagnosticCodes.labelVariants);
    assert.deepEqual(v.filter((i) => i.data.dataset.endsWith('news')).map((i) => i.data.label).sort(), ['tech', 'ｔｅｃｈ']);
    assert.deepEqual(v.filter((i) => i.file.endsWith('.jsonl')).map((i) => i.data.label).sort(), ['Weather', 'weather'], 'labels are trimmed as training trims them');
  });

  it('covers every diagnostic code', () => {
    const seen = new Set(all.map((i) => i.code));
    // a table with guessed columns would add a dataset to this workspace: test/unit/datasets-wrong-data.test.ts covers it
    const elsewhere = new Set<string>([DiagnosticCodes.columnsGuessed]);
    // image datasets: test/unit/imageDiagnostics.test.ts
    for (const c of Object.values(DiagnosticCodes)) if (c.startsWith('fewshot.image-')) elsewhere.add(c);
    const missing = Object.values(DiagnosticCodes).filter((c) => !seen.has(c) && !elsewhere.has(c));
    assert.deepEqual(missing, []);
  });

  it('summarises classes with counts, folders and worst severity', () => {
    const s = ix.results.get(path.join(ws, 'folders', 'news'))!.summary;
    const weather = s.classes.find((c) => c.label === 'weather')!;
    assert.equal(weather.train, 0);
    assert.equal(weather.test, 1);
    assert.equal(weather.severity, 'error');
    assert.equal(weather.folder, path.join(ws, 'folders', 'news', 'test', 'weather'));
    const sports = s.classes.find((c) => c.label === 'sports')!;
    assert.equal(sports.train, 12, 's01–s11 + long.txt; empty and binary files do not count');
    assert.equal(sports.folder, path.join(ws, 'folders', 'news', 'train', 'sports'));
    assert.equal(s.problemCount, ix.results.get(path.join(ws, 'folders', 'news'))!.issues.length);
  });

  it('writes messages in Simplified Chinese for a zh-cn client', async () => {
    const zh = await analyse(ws, {}, 'zh-cn');
    const imb = [...zh.results.values()].flatMap((r) => r.issues).find((i) => i.code === DiagnosticCodes.classImbalance)!;
    assert.match(imb.message, /类别不平衡/);
  });
});

describe('analysis: settings', function () {
  this.timeout(20_000);
  let ws = '';
  before(() => { ws = makeFixtureWorkspace(); });
  after(() => rmrf(ws));
  const codes = (ix: DatasetIndex) => [...ix.results.values()].flatMap((r) => r.issues).map((i) => i.code);

  it('uses every threshold setting', async () => {
    const loose = await analyse(ws, { imbalanceRatio: 50, minTrainPerClass: 1, minTestPerClass: 1, nearDuplicateThreshold: 1, maxChars: 100_000 });
    const c = codes(loose);
    for (const code of [DiagnosticCodes.classImbalance, DiagnosticCodes.tooFewTrain, DiagnosticCodes.tooFewTest, DiagnosticCodes.leakageNear, DiagnosticCodes.tooLong]) {
      assert.ok(!c.includes(code), `${code} still reported`);
    }
    const strict = await analyse(ws, { maxChars: 50 });
    assert.ok(codes(strict).filter((x) => x === DiagnosticCodes.tooLong).length > 10);
  });

  it('silences codes per dataset (workspace-relative key, absolute path or *)', async () => {
    const ix = await analyse(ws, { ignore: { 'folders/news': [DiagnosticCodes.classImbalance, DiagnosticCodes.leakageExact] } });
    const news = ix.results.get(path.join(ws, 'folders', 'news'))!.issues.map((i) => i.code);
    assert.ok(!news.includes(DiagnosticCodes.classImbalance));
    assert.ok(!news.includes(DiagnosticCodes.leakageExact));
    assert.ok(codes(ix).includes(DiagnosticCodes.leakageExact), 'other datasets keep the check');
    const abs = await analyse(ws, { ignore: { [path.join(ws, 'tables', 'reviews.csv')]: [DiagnosticCodes.conflictingLabels] } });
    assert.equal(abs.results.get(path.join(ws, 'tables', 'reviews.csv'))!.issues.filter((i) => i.code === DiagnosticCodes.conflictingLabels).length, 0);
    const star = await analyse(ws, { ignore: { '*': [DiagnosticCodes.tooFewTrain] } });
    assert.ok(!codes(star).includes(DiagnosticCodes.tooFewTrain));
  });
});

describe('analysis: incremental re-analysis', function () {
  this.timeout(20_000);
  let ws = '';
  beforeEach(() => { ws = makeFixtureWorkspace(); });
  afterEach(() => rmrf(ws));

  it('re-reads only the changed file and re-analyses only its dataset', async () => {
    const ix = await analyse(ws);
    const readsBefore = ix.reads;
    const tablesBefore = ix.results.get(path.join(ws, 'tables', 'reviews.csv'));
    const s11 = path.join(ws, 'folders', 'news', 'train', 'sports', 's11.txt');
    fs.writeFileSync(s11, 'A brand new sports sentence about a rowing race.\n');
    const report = await ix.applyChanges([s11]);
    assert.deepEqual(report.analysed, [path.join(ws, 'folders', 'news')]);
    assert.equal(ix.reads - readsBefore, 1);
    assert.equal(ix.results.get(path.join(ws, 'tables', 'reviews.csv')), tablesBefore, 'other datasets are untouched');
    const news = ix.results.get(path.join(ws, 'folders', 'news'))!.issues;
    assert.equal(news.filter((i) => i.code === DiagnosticCodes.duplicateInSplit).length, 0);
  });

  it('picks up new files, deleted folders, new datasets and open-document overlays', async () => {
    const overlays = new Map<string, { text: string; version: number }>();
    const ix = new DatasetIndex([ws], { overlay: (f) => overlays.get(f) });
    await ix.analyseAll();
    // new file in a new test class of nosplit → no longer missing the test split
    const t = path.join(ws, 'folders', 'nosplit', 'test', 'alpha', 'x.txt');
    fs.mkdirSync(path.dirname(t), { recursive: true });
    fs.writeFileSync(t, 'a held-out alpha example\n');
    await ix.applyChanges([path.dirname(path.dirname(t)), path.dirname(t), t]);
    const ns = ix.results.get(path.join(ws, 'folders', 'nosplit'))!.issues.map((i) => i.code);
    assert.ok(!ns.includes(DiagnosticCodes.missingTestSplit));
    assert.ok(ns.includes(DiagnosticCodes.classMissingFromSplit), 'beta has no test files yet');
    // delete the whole folder dataset
    const nosplit = path.join(ws, 'folders', 'nosplit');
    fs.rmSync(nosplit, { recursive: true });
    const r = await ix.applyChanges([nosplit]);
    assert.deepEqual(r.removed, [nosplit]);
    assert.ok(![...ix.cache.keys()].some((f) => f.startsWith(nosplit)));
    // a new table dataset appears
    const fresh = path.join(ws, 'new.jsonl');
    fs.writeFileSync(fresh, '{"text":"a","label":"x"}\n{"text":"a","label":"x"}\n');
    const r2 = await ix.applyChanges([fresh]);
    assert.deepEqual(r2.analysed, [fresh]);
    assert.equal(ix.results.get(fresh)!.issues.filter((i) => i.code === DiagnosticCodes.duplicateInSplit).length, 1);
    // an unsaved edit (overlay) wins over the disk
    overlays.set(fresh, { text: '{"text":"a","label":"x"}\n{"text":"b","label":"x"}\n', version: 3 });
    await ix.applyChanges([fresh]);
    assert.equal(ix.results.get(fresh)!.issues.filter((i) => i.code === DiagnosticCodes.duplicateInSplit).length, 0);
    assert.equal(ix.cache.get(fresh)!.version, 3);
  });
});

describe('analysis: files that are not datasets', function () {
  this.timeout(20_000);
  let ws = '';
  beforeEach(() => { ws = makeFixtureWorkspace(); });
  afterEach(() => rmrf(ws));

  it('ignores tables without text/label columns and files outside datasets', async () => {
    const ix = await analyse(ws);
    const before = [...ix.datasets.keys()];
    const notes = path.join(ws, 'notes.csv');
    fs.writeFileSync(notes, 'name,amount\nrent,1200\n');
    const readme = path.join(ws, 'README.txt');
    fs.writeFileSync(readme, 'hello');
    const r = await ix.applyChanges([notes, readme]);
    assert.deepEqual(r, { analysed: [], removed: [] });
    assert.deepEqual([...ix.datasets.keys()], before);
  });
});

describe('analysis: quick-fix planning and undo', function () {
  this.timeout(20_000);
  let ws = '';
  beforeEach(() => { ws = makeFixtureWorkspace(); });
  afterEach(() => rmrf(ws));

  it('plans a deterministic stratified test split, which fixes the diagnostic and whose inverse restores every file', async () => {
    const ix = await analyse(ws);
    const root = path.join(ws, 'folders', 'nosplit');
    const before = listFiles(root);
    const plan = planStratifiedSplit(ix.datasets.get(root)!, { minTest: 3 });
    assert.deepEqual(plan, planStratifiedSplit(ix.datasets.get(root)!, { minTest: 3 }), 'deterministic');
    const perClass = new Map<string, number>();
    for (const m of plan) {
      assert.ok(m.from.includes(`${path.sep}train${path.sep}`) && m.to.includes(`${path.sep}test${path.sep}`));
      assert.equal(path.basename(path.dirname(m.from)), path.basename(path.dirname(m.to)));
      perClass.set(path.basename(path.dirname(m.to)), (perClass.get(path.basename(path.dirname(m.to))) ?? 0) + 1);
    }
    assert.deepEqual([...perClass.entries()].sort(), [['alpha', 3], ['beta', 3]]);
    for (const m of plan) { fs.mkdirSync(path.dirname(m.to), { recursive: true }); fs.renameSync(m.from, m.to); }
    await ix.applyChanges(plan.flatMap((m) => [m.from, m.to]));
    const after = ix.results.get(root)!.issues.map((i) => i.code);
    assert.ok(!after.includes(DiagnosticCodes.missingTestSplit));
    assert.ok(!after.includes(DiagnosticCodes.tooFewTest));
    // undo
    for (const m of invertMoves(plan)) fs.renameSync(m.from, m.to);
    for (const c of ['alpha', 'beta']) fs.rmdirSync(path.join(root, 'test', c));
    fs.rmdirSync(path.join(root, 'test'));
    assert.deepEqual(listFiles(root), before);
    await ix.applyChanges([path.join(root, 'test')]);
    assert.ok(ix.results.get(root)!.issues.some((i) => i.code === DiagnosticCodes.missingTestSplit));
  });

  it('removes a duplicate row with a text edit, and the inverse edit restores the file', async () => {
    const ix = await analyse(ws);
    const csv = path.join(ws, 'tables', 'reviews.csv');
    const text = fs.readFileSync(csv, 'utf8');
    const dup = ix.results.get(csv)!.issues.find((i) => i.code === DiagnosticCodes.duplicateInSplit)!;
    const doc = TextDocument.create('file:///r.csv', 'csv', 1, text);
    const range = rowDeletionRange(text, dup.data.row!);
    const removed = doc.getText(range);
    assert.equal(removed, '"Great battery, lasts  all day",positive,train\n');
    const edited = TextDocument.applyEdits(doc, [{ range, newText: '' }]);
    fs.writeFileSync(csv, edited);
    await ix.applyChanges([csv]);
    assert.equal(ix.results.get(csv)!.issues.filter((i) => i.code === DiagnosticCodes.duplicateInSplit).length, 0);
    // undo = re-insert the removed text at the start of the deleted range
    const doc2 = TextDocument.create('file:///r.csv', 'csv', 2, edited);
    assert.equal(TextDocument.applyEdits(doc2, [{ range: { start: range.start, end: range.start }, newText: removed }]), text);
  });

  it('deletes the last row without a trailing newline cleanly', () => {
    const text = 'text,label\na,x\nb,y';
    const r = rowDeletionRange(text, { line: 2, endLine: 3 });
    assert.equal(TextDocument.applyEdits(TextDocument.create('file:///x', 'csv', 1, text), [{ range: r, newText: '' }]), 'text,label\na,x');
  });

  it('adds a code to fewshot.diagnostics.ignore without mutating the previous value (kept for undo)', () => {
    const previous = { 'a': ['fewshot.too-long'] };
    const next = withSilenced(previous, 'a', DiagnosticCodes.classImbalance);
    assert.deepEqual(next, { a: ['fewshot.too-long', DiagnosticCodes.classImbalance] });
    assert.deepEqual(previous, { a: ['fewshot.too-long'] });
    assert.deepEqual(withSilenced(next, 'a', DiagnosticCodes.classImbalance), next, 'idempotent');
    assert.deepEqual(withSilenced(undefined, 'b', 'x'), { b: ['x'] });
  });
});
