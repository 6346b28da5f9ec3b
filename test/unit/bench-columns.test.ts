import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { COL_DEFAULT, COL_SETFIT, COL_SETFIT_LIB, COL_TFIDF, columnOrder, encoderLabel, gainLines, meanGain, col, productBest, setfitSplit, tfidfJob, type RowScores } from '../../scripts/bench/columns';
import type { Item } from '../../scripts/bench/corpora';

const item = (text: string, label: string): Item => ({ text, label, group: text });

describe('bench columns (issue 14)', () => {
  const labels = ['bone', 'heart'];
  const train = [item('fracture of the femur', 'bone'), item('arrhythmia', 'heart'), item('骨折', 'bone')];
  const test = [item('tachycardia', 'heart'), item('broken tibia', 'bone')];

  it('builds the TF-IDF anchor job from the split: texts as they are, labels as indices into the sorted corpus labels', () => {
    const j = tfidfJob('j7', train, test, labels);
    assert.deepEqual(j, {
      id: 'j7', kind: 'tfidf', nclasses: 2,
      train_texts: ['fracture of the femur', 'arrhythmia', '骨折'], ytrain: [0, 1, 0],
      test_texts: ['tachycardia', 'broken tibia'], ytest: [1, 0],
    });
    assert.throws(() => tfidfJob('j8', [item('x', 'lung')], test, labels), /label "lung" is not one of the corpus labels/);
  });

  it('hands setfit_default.py the same split, with maxSteps only when given', () => {
    const s = setfitSplit('/m', train, test, labels);
    assert.deepEqual(s, { model: '/m', nclasses: 2, train: { texts: ['fracture of the femur', 'arrhythmia', '骨折'], labels: [0, 1, 0] }, test: { texts: ['tachycardia', 'broken tibia'], labels: [1, 0] } });
    assert.equal(setfitSplit('/m', train, test, labels, 300).maxSteps, 300);
  });

  it('labels a long MiniLM spec as "minilm", alone and inside a combo', () => {
    assert.equal(encoderLabel('hf:/x/minilm-onnx', 'hf:/x/minilm-onnx'), 'minilm');
    assert.equal(encoderLabel('combo:hf:/x/minilm-onnx+hashing', 'hf:/x/minilm-onnx'), 'minilm+hashing');
    assert.equal(encoderLabel('combo:minilm+hashing', 'minilm'), 'minilm+hashing');
    assert.equal(encoderLabel('combo:use+hashing', 'hf:/x'), 'use+hashing');
  });

  it('orders the product first, then the peer anchor, Majority, NC, LR, the TF-IDF anchor', () => {
    const cols = ['LR use', COL_TFIDF, 'Majority', COL_SETFIT_LIB, 'NC use', COL_SETFIT, 'FSL quick minilm', COL_DEFAULT];
    cols.sort((a, b) => columnOrder(a) - columnOrder(b) || a.localeCompare(b));
    assert.deepEqual(cols, [COL_DEFAULT, 'FSL quick minilm', COL_SETFIT, COL_SETFIT_LIB, 'Majority', 'NC use', 'LR use', COL_TFIDF]);
  });

  const rows: RowScores[] = [
    { row: 'a@K=8', language: 'en', cols: { [COL_DEFAULT]: [0.5, 0.7], [COL_SETFIT]: [0.8, 0.8], [COL_SETFIT_LIB]: [0.7, 0.75], 'FSL quick minilm': [0.6], 'LR minilm': [0.65] } },
    { row: 'b@K=8', language: 'en', cols: { [COL_DEFAULT]: [0.4], [COL_SETFIT_LIB]: [0.41], 'FSL quick minilm': [0.5], 'LR minilm': [0.45] } },
    { row: 'c@K=8', language: 'en', cols: { [COL_DEFAULT]: [0.3] } },
    { row: 'z@K=8', language: 'zh', cols: { [COL_DEFAULT]: [0.9], [COL_TFIDF]: [0.8, 0.9], [COL_SETFIT]: [0.95] } },
  ];

  it('takes the best product column per row and averages its gain over the rows that have both sides', () => {
    assert.deepEqual(productBest(rows[0]), { col: COL_SETFIT, mean: 0.8 });
    const g = meanGain(rows.filter((r) => r.language === 'en'), (r) => productBest(r)?.mean, col(COL_SETFIT_LIB), 0.02)!;
    // a: 0.8 − 0.725 = +0.075; b: best is quick minilm 0.5 − 0.41 = +0.09; c has no setfit library column.
    assert.equal(g.rows, 2);
    assert.ok(Math.abs(g.mean - 0.0825) < 1e-12);
    assert.ok(Math.abs(g.min - 0.075) < 1e-12);
    assert.equal(g.below, 0);
    assert.equal(meanGain(rows, col('nope'), col(COL_DEFAULT)), undefined);
  });

  it('writes the three gain lines the issue asks for, with per-row numbers and the rows below target', () => {
    const lines = gainLines(rows);
    assert.match(lines[0], /^English, product best vs setfit library default \(target ≥ \+2\.0\): \+8\.3 pts on average over 2 English rows \(min \+7\.5; below \+2\.0: 0 of 2\) — a@K=8 \+7\.5, b@K=8 \+9\.0\.$/);
    // quick minilm vs LR minilm: a −5.0, b +5.0.
    assert.match(lines[1], /^English, FSL quick minilm vs LR minilm .*: \+0\.0 pts .* \(min -5\.0; below \+0\.0: 1 of 2\)/);
    assert.match(lines[2], /FSL quick minilm\+hashing vs LR minilm\+hashing .*: not measured in this run\.$/);
    // zh: default 0.9 vs anchor 0.85 → +5.0; best (SetFit 0.95) → +10.0.
    assert.match(lines[4], /^Chinese, FSL default vs LR char TF-IDF anchor .*: \+5\.0 pts on average over 1 Chinese rows \(min \+5\.0; below \+0\.0: 0 of 1\)/);
    assert.match(lines[5], /^Chinese, product best vs LR char TF-IDF anchor: \+10\.0 pts/);
  });

  it('sklearn_probe.py runs the TF-IDF anchor job (char_wb 1–3 + LogisticRegression) when scikit-learn is installed', function () {
    const py = ['/usr/bin/python3', 'python3'].find((exe) => spawnSync(exe, ['-c', 'import sklearn'], { encoding: 'utf8' }).status === 0);
    if (!py) this.skip();
    this.timeout(60_000);
    const tr = ['cardiac arrest', 'heart attack', 'heart failure', 'bone fracture', 'broken bone', 'bone density'];
    const yt = [0, 0, 0, 1, 1, 1];
    const job = (ytest: number[]) => ({ ...tfidfJob('t', tr.map((t, i) => item(t, labels[1 - yt[i]])), [item('heart murmur', 'heart'), item('bone marrow', 'bone')], labels), ytest });
    const run = (jobs: unknown[]) => spawnSync(py!, [path.join(process.cwd(), 'scripts', 'bench', 'sklearn_probe.py')], { input: JSON.stringify(jobs), encoding: 'utf8' });
    const r = run([job([1, 0]), { ...job([0, 1]), id: 'u' }]);
    assert.equal(r.status, 0, r.stderr);
    const out = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { id: string; macro_f1: number; fit_s: number });
    assert.deepEqual(out.map((o) => [o.id, o.macro_f1]), [['t', 1], ['u', 0]]);
    assert.ok(out[0].fit_s > 0);
  });
});
