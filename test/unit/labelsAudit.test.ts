import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { AuditResult } from '../../src/protocol/labels';
import { clippedThresholds, confidentJoint, findLabelIssues, perClassThresholds } from '../../src/core/labels/audit';
import { LabelStore, textHash } from '../../src/core/labels/reviewed';
import { auditDataset } from '../../src/core/labels/session';
import { auditPredictions } from '../../src/core/labels/runAudit';
import { isFewShotError } from '../../src/core/errors';
import { mulberry32 } from '../../src/core/util/rng';
import { flipLabels, prf } from '../../scripts/bench/labels';
import { LABELS, buildChildBundles, makeTexts, rmrf, runCli, tempDir } from './helpers/trainerFixtures';

/** `n` rows per class of a confident, correct model: p(own class) in [0.7, 0.9], the rest spread over the others. */
function confident(k: number, n: number, seed = 1): { probs: number[][]; y: number[] } {
  const r = mulberry32(seed);
  const probs: number[][] = [];
  const y: number[] = [];
  for (let c = 0; c < k; c++) {
    for (let i = 0; i < n; i++) {
      const own = 0.7 + 0.2 * r();
      const rest = Array.from({ length: k - 1 }, () => 0.1 + r());
      const s = rest.reduce((a, v) => a + v, 0);
      let j = 0;
      probs.push(Array.from({ length: k }, (_, m) => (m === c ? own : ((1 - own) * rest[j++]) / s)));
      y.push(c);
    }
  }
  return { probs, y };
}

/** The model is sure row `i` belongs to class `to` (its label stays): a flipped label. */
function flip(probs: number[][], i: number, to: number, pTo: number): void {
  const k = probs[i].length;
  probs[i] = Array.from({ length: k }, (_, m) => (m === to ? pTo : (1 - pTo) / (k - 1)));
}

describe('labels audit: findLabelIssues (confident learning)', () => {
  it('a clean, confident set flags nothing', () => {
    const { probs, y } = confident(3, 12);
    assert.deepEqual(findLabelIssues(probs, y, 3), []);
  });

  it('flags flipped examples, suggests the class the model believes, and ranks the surest first', () => {
    const { probs, y } = confident(3, 12);
    flip(probs, 3, 2, 0.8); // labelled 0, surely 2
    flip(probs, 15, 0, 0.95); // labelled 1, surely 0 (surer: ranked first)
    const got = findLabelIssues(probs, y, 3);
    assert.deepEqual(got.map((f) => f.index), [15, 3]);
    assert.deepEqual(got.map((f) => [f.given, f.suggested]), [[1, 0], [0, 2]]);
    assert.ok(Math.abs(got[0].pSuggested - 0.95) < 1e-12 && Math.abs(got[0].score - (1 - got[0].pGiven)) < 1e-12);
    assert.ok(got[0].score > got[1].score);
  });

  it('per-class thresholds: the mean probability of each class over its own examples', () => {
    const probs = [[0.9, 0.1], [0.7, 0.3], [0.4, 0.6], [0.2, 0.8]];
    const t = perClassThresholds(probs, [0, 0, 1, 1], 2);
    assert.ok(Math.abs(t[0] - 0.8) < 1e-12 && Math.abs(t[1] - 0.7) < 1e-12);
    assert.ok(Number.isNaN(perClassThresholds(probs, [0, 0, 0, 0], 2)[1]), 'a class without examples has no threshold');
  });

  it('an example counts as confidently in another class only when it reaches that class\'s own threshold', () => {
    // class 1 is always predicted with low probability (threshold 0.445), class 0 with high (0.9)
    const probs = [[0.9, 0.1], [0.9, 0.1], [0.9, 0.1], [0.52, 0.48], [0.55, 0.45], [0.55, 0.45], [0.6, 0.4]];
    const y = [0, 0, 0, 1, 1, 1, 1];
    const t = perClassThresholds(probs, y, 2);
    const C = confidentJoint(probs, y, 2, t);
    // row 3 reaches class 1's threshold (0.48 ≥ 0.445) and not class 0's (0.52 < 0.9): it is not counted as a class-0 example
    assert.deepEqual(C[1], [0, 3]);
    assert.deepEqual(findLabelIssues(probs, y, 2), [], 'argmax alone would flag all four class-1 rows');
  });

  it('thresholds are clipped at (1 + 1/k) / 2: a very confident model still flags an obvious flip at p = 0.8', () => {
    const { probs, y } = confident(3, 12);
    for (const p of probs) { const c = p.indexOf(Math.max(...p)); p.forEach((_, m) => { p[m] = m === c ? 0.96 : 0.02; }); }
    flip(probs, 5, 1, 0.8); // labelled 0; class 1's own examples average p(1) = 0.96
    assert.ok(perClassThresholds(probs, y, 3)[1] > 0.9);
    assert.deepEqual(clippedThresholds(probs, y, 3).map((t) => +t.toFixed(4)), [0.6667, 0.6667, 0.6667]);
    assert.deepEqual(findLabelIssues(probs, y, 3).map((f) => [f.index, f.suggested]), [[5, 1]]);
  });

  it('never flags every example of a class', () => {
    const probs = [[0.9, 0.1], [0.9, 0.1], [0.9, 0.1], [0.95, 0.05], [0.95, 0.05]];
    const got = findLabelIssues(probs, [0, 0, 0, 1, 1], 2);
    assert.ok(got.filter((f) => f.given === 1).length <= 1, JSON.stringify(got));
  });
});

describe('labels audit: reviewed marks', () => {
  let dir: string;
  beforeEach(() => { dir = tempDir('labels-audit'); });
  afterEach(() => rmrf(dir));

  it('an example marked reviewed is left out (and counted) until its text changes', async () => {
    const { probs, y } = confident(2, 10);
    flip(probs, 2, 1, 0.9);
    const labels = ['a', 'b'];
    const samples = y.map((c, i) => ({ index: i, text: `text ${i}`, label: labels[c], file: path.join(dir, `${i}.txt`) }));
    const meta = { dataset: dir, fingerprint: 'f', encoder: 'e', probabilities: 'p', storeDir: path.join(dir, 'store') };
    const before = await auditPredictions(samples, probs, labels, meta);
    assert.deepEqual(before.suspects.map((s) => [s.index, s.given, s.suggested]), [[2, 'a', 'b']]);
    assert.equal(before.suspects[0].textHash, textHash('text 2'));

    const store = new LabelStore(meta.storeDir);
    await store.setReviewed('text 2', 'a', true, samples[2].file);
    const after = await auditPredictions(samples, probs, labels, meta);
    assert.deepEqual(after.suspects, []);
    assert.equal(after.reviewedSkipped, 1);

    // the same example with an edited text: flagged again
    const edited = samples.map((s) => (s.index === 2 ? { ...s, text: 'text 2, edited' } : s));
    const again = await auditPredictions(edited, probs, labels, meta);
    assert.deepEqual(again.suspects.map((s) => s.index), [2]);
    assert.equal(again.reviewedSkipped, 0);

    // reviewed with another label does not hide it either; unmarking brings it back
    await store.setReviewed('text 2', 'b', true);
    await store.setReviewed('text 2', 'a', false);
    assert.deepEqual((await auditPredictions(samples, probs, labels, meta)).suspects.map((s) => s.index), [2]);
  });
});

/** A CSV dataset (text,label,split) of the fixture classes with the labels of `flipped` training rows changed. */
function writeFlippedCsv(dir: string, perClass: number, flipped: number[]): { file: string; rows: { text: string; label: string; line: number }[] } {
  fs.mkdirSync(dir, { recursive: true });
  const rows: { text: string; label: string; line: number }[] = [];
  LABELS.forEach((label, li) => makeTexts(label, perClass, 300 + li).forEach((text) => rows.push({ text, label, line: rows.length + 2 })));
  for (const i of flipped) rows[i].label = LABELS[(LABELS.indexOf(rows[i].label) + 1) % LABELS.length];
  const test = LABELS.flatMap((label, li) => makeTexts(label, 4, 400 + li).map((text) => `${text},${label},test`));
  const file = path.join(dir, 'data.csv');
  fs.writeFileSync(file, ['text,label,split', ...rows.map((r) => `${r.text},${r.label},train`), ...test].join('\n') + '\n');
  return { file, rows };
}

describe('labels audit: auditDataset and `fewshot audit`', function () {
  this.timeout(120_000);
  let dir: string;
  before(() => { dir = tempDir('labels-audit-ds'); });
  after(() => rmrf(dir));

  it('finds two flipped labels of a small dataset (hashing encoder) and saves the audit', async () => {
    const { file, rows } = writeFlippedCsv(path.join(dir, 'ds'), 12, [4, 20]);
    const storeDir = path.join(dir, 'store');
    const r = await auditDataset(file, { storeDir, encoder: 'hashing' });
    assert.equal(r.examples, 36);
    const got = new Map(r.suspects.map((s) => [s.line, s]));
    for (const i of [4, 20]) {
      const s = got.get(rows[i].line);
      assert.ok(s, `row ${i} (line ${rows[i].line}) is among the suspects: ${JSON.stringify(r.suspects.map((x) => x.line))}`);
      assert.equal(s.given, rows[i].label);
      assert.equal(s.file, file);
      assert.equal(s.text, rows[i].text);
    }
    assert.ok(r.suspects.length <= 4, `few false alarms on a clean, separable set: ${r.suspects.length}`);
    assert.match(r.probabilities, /out-of-fold/);
    assert.deepEqual(await new LabelStore(storeDir).readAudit(file), r);
  });

  it('a class with fewer than 2 training examples is refused before embedding, naming it and how many to add', async () => {
    const d = path.join(dir, 'small');
    fs.mkdirSync(d, { recursive: true });
    const file = path.join(d, 'data.csv');
    fs.writeFileSync(file, ['text,label', ...makeTexts('cooking', 5, 1).map((t) => `${t},cooking`), ...makeTexts('finance', 5, 2).map((t) => `${t},finance`), 'one lonely goal,sports'].join('\n') + '\n');
    await assert.rejects(auditDataset(file, { storeDir: path.join(dir, 'store2'), encoder: 'no-such-encoder' }), (e: unknown) => {
      assert.ok(isFewShotError(e), String(e));
      assert.equal(e.opts.code, 'too-few-per-class');
      assert.match(e.message, /"sports" has (0|1) training example/);
      assert.match(e.opts.fix ?? '', /^Add [12] training examples? of "sports"\.$/);
      return true;
    });
  });

  describe('CLI', () => {
    let cli: string;
    before(() => { cli = buildChildBundles().cli; });

    it('--json prints the AuditResult; the table lists the suspects and a summary', async () => {
      const { file, rows } = writeFlippedCsv(path.join(dir, 'cli'), 12, [7]);
      const json = await runCli(cli, ['audit', file, '--encoder', 'hashing', '--json', '--store', 'st'], { cwd: dir });
      assert.equal(json.code, 0, json.stderr);
      const r = JSON.parse(json.stdout) as AuditResult;
      assert.deepEqual(Object.keys(r).sort(), ['createdAt', 'dataset', 'encoder', 'examples', 'fingerprint', 'formatVersion', 'method', 'probabilities', 'reviewedSkipped', 'suspects'].sort());
      assert.equal(r.dataset, file);
      assert.equal(r.examples, 36);
      const s = r.suspects.find((x) => x.line === rows[7].line);
      assert.ok(s, JSON.stringify(r.suspects));
      assert.deepEqual(Object.keys(s).sort(), ['file', 'given', 'index', 'line', 'pGiven', 'pSuggested', 'score', 'suggested', 'text', 'textHash'].sort());
      assert.ok(fs.existsSync(path.join(dir, 'st', 'labels', 'audit.json')));

      const human = await runCli(cli, ['audit', 'cli/data.csv', '--encoder', 'hashing', '--store', 'st'], { cwd: dir });
      assert.equal(human.code, 0, human.stderr);
      assert.match(human.stdout, new RegExp(`cli/data\\.csv:${rows[7].line}\\s+${s.given} → ${s.suggested} \\(${s.pSuggested.toFixed(2)}\\)`));
      assert.match(human.stdout, new RegExp(`\\n${r.suspects.length} of 36 training labels looks? wrong\\.\\n$`));
    });

    it('bad input: a clear error line and exit code, never a stack trace', async () => {
      const help = await runCli(cli, ['audit', '--help'], { cwd: dir });
      assert.equal(help.code, 0);
      assert.match(help.stdout, /^Usage: fewshot audit <dataset>/);
      assert.match((await runCli(cli, ['--help'], { cwd: dir })).stdout, /\n {2}audit <dataset> {2,}/);
      const usage = await runCli(cli, ['audit'], { cwd: dir });
      assert.equal(usage.code, 2);
      assert.match(usage.stderr, /^error: missing <dataset>/);
      const missing = await runCli(cli, ['audit', 'nope.csv', '--encoder', 'hashing'], { cwd: dir });
      assert.equal(missing.code, 1);
      assert.match(missing.stderr, /^error: The dataset .*nope\.csv does not exist\.\nfix: /);
      const one = path.join(dir, 'one.csv');
      fs.writeFileSync(one, ['text,label', ...makeTexts('cooking', 6, 3).map((t) => `${t},cooking`)].join('\n') + '\n');
      const single = await runCli(cli, ['audit', one, '--encoder', 'hashing'], { cwd: dir });
      assert.equal(single.code, 1);
      assert.match(single.stderr, /^error: .*one\.csv has only one class \("cooking"\); .*\nfix: /);
      for (const r of [usage, missing, single]) assert.ok(!/\n\s+at .+:\d+:\d+\)?/.test(r.stderr), r.stderr);
    });
  });
});

describe('labels audit: the label-error benchmark (npm run bench -- --labels)', () => {
  it('flips 10 % of the labels, each to another class, the same for the same seed', () => {
    const y = Array.from({ length: 48 }, (_, i) => i % 4);
    const a = flipLabels(y, 4, 0.1, 7);
    assert.equal(a.flipped.size, 5);
    y.forEach((c, i) => assert.equal(a.y[i] !== c, a.flipped.has(i), `row ${i}`));
    assert.deepEqual(flipLabels(y, 4, 0.1, 7), a);
    assert.notDeepEqual([...flipLabels(y, 4, 0.1, 8).flipped], [...a.flipped]);
    assert.equal(flipLabels([0, 1, 0, 1], 2, 0.1, 1).flipped.size, 1, 'at least one');
  });

  it('scores a flagged set against the flipped set', () => {
    assert.deepEqual(prf([1, 2, 3, 4], new Set([2, 4, 6])), { p: 0.5, r: 2 / 3, f1: 4 / 7, flagged: 4 });
    assert.deepEqual(prf([], new Set([1])), { p: 0, r: 0, f1: 0, flagged: 0 });
  });
});
