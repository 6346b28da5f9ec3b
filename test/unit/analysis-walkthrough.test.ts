/** Issue 16, "What the walkthrough found": dataset analysis fixes (badges, split plan, layouts, messages). */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DatasetIndex, DEFAULT_SETTINGS, planStratifiedSplit, type Settings } from '../../src/server/analysis';
import { DiagnosticCodes } from '../../src/protocol/diagnostics';
import { findDatasets } from '../../src/core/datasets';

/** Writes `files` (relative path → text) under a fresh temporary folder. */
function workspace(files: Record<string, string>): string {
  const ws = fs.mkdtempSync(path.join(os.tmpdir(), 'fewshot-walk-'));
  for (const [rel, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(ws, rel)), { recursive: true });
    fs.writeFileSync(path.join(ws, rel), text);
  }
  return ws;
}
/** `n` distinct texts of a class as files `<dir>/<class>-NN.txt`. */
function texts(dir: string, label: string, n: number, from = 0): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = from; i < from + n; i++) out[`${dir}/${label}-${String(i).padStart(2, '0')}.txt`] = `${label} sample number ${i} with its own words ${label.repeat(i % 3 + 1)}`;
  return out;
}
async function analyse(ws: string, settings: Partial<Settings> = {}): Promise<DatasetIndex> {
  const ix = new DatasetIndex([ws]);
  ix.settings = { ...DEFAULT_SETTINGS, ...settings };
  await ix.analyseAll();
  return ix;
}

describe('analysis walkthrough: Explorer badges', function () {
  this.timeout(20_000);
  let ws = '';
  afterEach(() => fs.rmSync(ws, { recursive: true, force: true }));

  it('puts a train-size problem on train/<class> only, and a test-size problem on test/<class>', async () => {
    ws = workspace({
      ...texts('ds/train/small', 'small', 3), ...texts('ds/test/small', 'small', 3, 50),
      ...texts('ds/train/big', 'big', 9), ...texts('ds/test/big', 'big', 1, 50),
    });
    const ix = await analyse(ws, { imbalanceRatio: 10 });
    const s = ix.results.get(path.join(ws, 'ds'))!.summary;
    const small = s.classes.find((c) => c.label === 'small')!;
    assert.deepEqual(small.badges!.map((b) => [path.relative(ws, b.folder), b.severity]), [[path.join('ds', 'train', 'small'), 'warning']]);
    assert.match(small.badges![0].problems[0], /only 3 training samples/);
    const big = s.classes.find((c) => c.label === 'big')!;
    assert.deepEqual(big.badges!.map((b) => path.relative(ws, b.folder)), [path.join('ds', 'test', 'big')]);
    assert.match(big.badges![0].problems[0], /only 1 test samples/);
  });
});

describe('analysis walkthrough: stratified test split', function () {
  this.timeout(20_000);
  let ws = '';
  afterEach(() => fs.rmSync(ws, { recursive: true, force: true }));

  it('keeps exact duplicates (same normalised text) on one side, so the fix creates no leakage', async () => {
    // every text twice (the copy differs only in case and spaces): an odd number of moves would split a pair
    const files: Record<string, string> = {};
    for (const label of ['alpha', 'beta']) {
      for (const [rel, text] of Object.entries(texts(`ds/train/${label}`, label, 6))) {
        files[rel] = text;
        files[rel.replace(/\.txt$/, '-copy.txt')] = `  ${text.toUpperCase()} `;
      }
      files[`ds/train/${label}/${label}-single.txt`] = `${label} a text that has no copy at all`;
    }
    ws = workspace(files);
    const ix = await analyse(ws);
    const root = path.join(ws, 'ds');
    const plan = planStratifiedSplit(ix.datasets.get(root)!, { minTest: 3, keyOf: ix.duplicateKey });
    for (const label of ['alpha', 'beta']) assert.ok(plan.filter((m) => m.to.includes(`${path.sep}${label}${path.sep}`)).length >= 3, `${label}: at least 3 test files`);
    for (const m of plan) { fs.mkdirSync(path.dirname(m.to), { recursive: true }); fs.renameSync(m.from, m.to); }
    await ix.applyChanges(plan.flatMap((m) => [m.from, m.to]));
    const codes = ix.results.get(root)!.issues.map((i) => i.code);
    assert.ok(!codes.includes(DiagnosticCodes.missingTestSplit));
    assert.deepEqual(codes.filter((c) => c === DiagnosticCodes.leakageExact), [], 'no duplicate on both sides');
  });
});

describe('analysis walkthrough: a folder of only <class>/ sub-folders', function () {
  this.timeout(20_000);
  let ws = '';
  afterEach(() => fs.rmSync(ws, { recursive: true, force: true }));

  it('is listed as a dataset (Datasets view) and checked (diagnostics); Markdown-only docs folders are not', async () => {
    ws = workspace({
      ...texts('notes/cardiology', 'cardiology', 9), ...texts('notes/oncology', 'oncology', 2), 'notes/README.md': '# notes',
      'docs/guide/intro.md': '# Intro', 'docs/api/index.md': '# API',
    });
    const refs = await findDatasets(ws);
    assert.deepEqual(refs.map((r) => [path.relative(ws, r.root), r.format]), [['notes', 'folders']]);
    const ix = await analyse(ws);
    const r = ix.results.get(path.join(ws, 'notes'))!;
    assert.deepEqual(r.summary.classes.map((c) => [c.label, c.train]), [['cardiology', 9], ['oncology', 2]]);
    const few = r.issues.filter((i) => i.code === DiagnosticCodes.tooFewTrain);
    assert.deepEqual(few.map((i) => i.data.label), ['oncology']);
  });
});

describe('analysis walkthrough: the imbalance message', function () {
  this.timeout(20_000);
  let ws = '';
  afterEach(() => fs.rmSync(ws, { recursive: true, force: true }));

  it('does not suggest class weighting while it is on (the default), and does once it is turned off', async () => {
    ws = workspace({ ...texts('ds/train/common', 'common', 12), ...texts('ds/train/rare', 'rare', 2) });
    const message = async (settings: Partial<Settings>, locale?: string) => {
      const ix = new DatasetIndex([ws], { locale });
      ix.settings = { ...DEFAULT_SETTINGS, ...settings };
      await ix.analyseAll();
      return ix.results.get(path.join(ws, 'ds'))!.issues.find((i) => i.code === DiagnosticCodes.classImbalance)!.message;
    };
    const on = await message({});
    assert.match(on, /Add samples to 'rare'/);
    assert.match(on, /class weighting is already on/);
    assert.doesNotMatch(on, /or (train with|turn) class weighting/);
    assert.match(await message({}, 'zh-cn'), /类别加权已开启/);
    const off = await message({ classWeighting: false });
    assert.match(off, /Add samples to 'rare' or turn class weighting back on \(fewshot\.train\.classWeighting\)/);
    assert.match(await message({ classWeighting: false }, 'zh-cn'), /重新开启类别加权/);
  });
});
