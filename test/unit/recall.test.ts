/**
 * Recall targets and abstaining (issue 15 part 3): thresholds on out-of-fold probabilities, the decision rule,
 * the config and CLI checks, and a real run end to end (hashing encoder, head auto): the model file's rule,
 * oof.jsonl, the report's target table, and predict/serve returning the decided label.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import { DEFAULT_CONFIG, configProblems, parseMinRecall, recallTargetClassProblem } from '../../src/core/config';
import { chooseThresholds, decideIndex, decideLabel } from '../../src/core/labels/thresholds';
import { formatRecallTargets, recallTargetRows, unmetTargetMessages } from '../../src/core/labels/recall';
import { runTraining, type TrainEvent } from '../../src/core/train';
import { loadPredictor } from '../../src/core/predict';
import { startModelServer } from '../../src/core/serve';
import { mulberry32 } from '../../src/core/util/rng';
import { UNCERTAIN_LABEL, type TrainPrediction } from '../../src/protocol/labels';
import type { ClassificationReport, ModelFile, RunRecord, TestPrediction, TrainConfig } from '../../src/protocol/run';
import { buildChildBundles, readJsonl, rmrf, runCli, tempDir, writeFolderDataset } from './helpers/trainerFixtures';

const L = ['a', 'b', 'c'];

describe('recall targets: thresholds and the decision rule', () => {
  it('chooses the highest threshold that meets a target, and argmax recall is below it', () => {
    // class a: 10 examples whose p(a) falls from 0.9 to 0.18 (b takes the rest); b and c are clear
    const probs: number[][] = [];
    const y: number[] = [];
    for (let i = 0; i < 10; i++) { const pa = 0.9 - i * 0.08; probs.push([pa, 1 - pa - 0.01, 0.01]); y.push(0); }
    for (let i = 0; i < 10; i++) { probs.push([0.2 + i * 0.01, 0.75 - i * 0.01, 0.05]); y.push(1); }
    for (let i = 0; i < 5; i++) { probs.push([0.05, 0.05, 0.9]); y.push(2); }
    const argmaxRecall = y.filter((g, i) => g === 0 && decideIndex(probs[i], L, { thresholds: {} }) === 0).length / 10;
    assert.equal(argmaxRecall, 0.6);
    const rule = chooseThresholds(probs, y, L, { a: 0.9 }, 'synthetic');
    assert.deepEqual(Object.keys(rule.thresholds), ['a']);
    assert.ok(rule.trainRecall.a >= 0.9, `recall ${rule.trainRecall.a}`);
    assert.deepEqual(rule.unmet, []);
    // the 9th example of a (p = 0.26) is the highest threshold that gives 9 of 10
    assert.ok(Math.abs(rule.thresholds.a - (0.9 - 8 * 0.08)) < 1e-12, String(rule.thresholds.a));
    // higher would miss it: the threshold is the highest that meets the target
    const higher = { thresholds: { a: rule.thresholds.a + 1e-6 } };
    assert.ok(y.filter((g, i) => g === 0 && decideIndex(probs[i], L, higher) === 0).length < 9);
    // what it cost: the 4 b texts with p(a) ≥ 0.26 are now called a
    const rows = recallTargetRows(y, probs.map((p) => decideIndex(p, L, rule)), probs.map((p) => decideIndex(p, L, { thresholds: {} })), L, rule);
    const ra = rows.find((r) => r.label === 'a')!;
    assert.equal(ra.target, 0.9);
    assert.equal(ra.recall, 0.9);
    assert.equal(ra.argmaxRecall, 0.6);
    assert.equal(ra.argmaxPrecision, 1);
    assert.equal(ra.precision, 9 / 13);
    assert.equal(rows.find((r) => r.label === 'c')!.target, null);
  });

  it('meets two interacting targets together', () => {
    // a and b overlap; both targets lower both thresholds, and each threshold sees the other
    const r = mulberry32(5);
    const probs: number[][] = [];
    const y: number[] = [];
    for (let i = 0; i < 40; i++) {
      const g = i % 3;
      const p = [0.2 + r() * 0.2, 0.2 + r() * 0.2, 0.2 + r() * 0.2];
      p[g] += 0.15 + r() * 0.2;
      const s = p[0] + p[1] + p[2];
      probs.push(p.map((v) => v / s));
      y.push(g);
    }
    const rule = chooseThresholds(probs, y, L, { a: 0.95, b: 0.95 }, 'synthetic');
    assert.deepEqual(rule.unmet, []);
    for (const [l, c] of [['a', 0], ['b', 1]] as const) {
      const recall = y.filter((g, i) => g === c && decideIndex(probs[i], L, rule) === c).length / y.filter((g) => g === c).length;
      assert.ok(recall >= 0.95, `${l}: ${recall}`);
      assert.equal(rule.trainRecall[l], recall);
    }
  });

  it('reports a target that cannot be met with the best reachable recall', () => {
    // an a text that looks like b and a b text that looks like a: recall 1 for both is impossible (a = 1 would
    // take every b text, and the other way round), so both stay at the best reachable 0.5
    const probs = [[0.1, 0.9, 0], [0.9, 0.1, 0], [0.8, 0.2, 0], [0.2, 0.8, 0]];
    const y = [0, 1, 0, 1];
    const rule = chooseThresholds(probs, y, L, { a: 1, b: 1 }, 'synthetic');
    assert.deepEqual(rule.unmet, [{ label: 'a', target: 1, reached: 0.5 }, { label: 'b', target: 1, reached: 0.5 }]);
    assert.deepEqual(unmetTargetMessages(rule), ['target 1 for a not reachable on the training split; best reachable 0.50', 'target 1 for b not reachable on the training split; best reachable 0.50']);
    const text = formatRecallTargets([], rule, 'test');
    assert.match(text, /WARNING: target 1 for a not reachable on the training split; best reachable 0\.50\.\nWARNING: target 1 for b/);
    // a single target is always reachable (its threshold can go down to its lowest example)
    assert.deepEqual(chooseThresholds(probs, y, L, { a: 1 }, 'synthetic').unmet, []);
  });

  it('decides: a reached threshold wins over the argmax, the largest p/threshold among several, abstain below the top probability', () => {
    const p = [0.5, 0.3, 0.2];
    assert.equal(decideLabel(p, L, { thresholds: {} }), 'a');
    assert.equal(decideLabel(p, L, { thresholds: { b: 0.25 } }), 'b');
    assert.equal(decideLabel(p, L, { thresholds: { b: 0.35 } }), 'a');
    assert.equal(decideLabel(p, L, { thresholds: { b: 0.25, c: 0.1 } }), 'c'); // 0.2/0.1 > 0.3/0.25
    assert.equal(decideLabel(p, L, { thresholds: {}, abstain: 0.6 }), UNCERTAIN_LABEL);
    assert.equal(decideLabel(p, L, { thresholds: {}, abstain: 0.5 }), 'a');
    // a class whose recall target is reached is predicted even below the abstain threshold (a miss costs more)
    assert.equal(decideLabel(p, L, { thresholds: { b: 0.25 }, abstain: 0.6 }), 'b');
  });
});

describe('recall targets: settings checks', () => {
  const cfg = (over: Partial<TrainConfig>): TrainConfig => ({ ...DEFAULT_CONFIG, dataset: '/d', ...over });

  it('parses class=recall lists', () => {
    assert.deepEqual(parseMinRecall('cardiology=0.95, gastro=0.9'), { value: { cardiology: 0.95, gastro: 0.9 } });
    assert.deepEqual(parseMinRecall('chest pain=1'), { value: { 'chest pain': 1 } });
    assert.deepEqual(parseMinRecall(''), { value: {} });
    for (const bad of ['cardiology', 'cardiology=', '=0.9', 'a=x', 'a=0.9,a=0.8']) assert.ok('error' in parseMinRecall(bad), bad);
  });

  it('refuses values outside (0, 1], heads without out-of-fold probabilities and a bad abstain threshold', () => {
    assert.deepEqual(configProblems(cfg({ minRecall: { a: 0.9 }, abstain: 0.5 })), []);
    assert.deepEqual(configProblems(cfg({ head: 'mlp', abstain: 0.5 })), []);
    for (const [over, words] of [
      [{ minRecall: { a: 0 } }, /"a" must be above 0 and at most 1/], [{ minRecall: { a: 1.2 } }, /at most 1 \(got 1\.2\)/],
      [{ head: 'logreg', minRecall: { a: 0.9 } }, /head logreg does not compute/], [{ head: 'centroid', minRecall: { a: 0.9 } }, /head centroid/],
      [{ method: 'finetune', minRecall: { a: 0.9 } }, /fine-tuning does not compute/], [{ method: 'setfit', minRecall: { a: 0.9 } }, /after SetFit the body has seen every training text/], [{ abstain: 1 }, /abstain threshold must be above 0 and below 1/],
    ] as [Partial<TrainConfig>, RegExp][]) {
      const p = configProblems(cfg(over)).filter((x) => x.field === 'minRecall' || x.field === 'abstain');
      assert.equal(p.length, 1, JSON.stringify(over));
      assert.match(p[0].message, words);
    }
  });

  it('names a class the dataset does not have and lists its classes', () => {
    assert.equal(recallTargetClassProblem({ a: 0.9 }, L, '/d'), undefined);
    assert.equal(recallTargetClassProblem({ cardio: 0.9, a: 0.8 }, L, '/d'), 'minimum recall target for "cardio": no such class in /d. Its classes are: a, b, c.');
  });
});

// ------------------------------------------------------------------ end to end

const VOCAB: Record<string, string[]> = {
  cardiology: ['chest', 'heart', 'murmur', 'palpitations', 'angina', 'ecg', 'pressure', 'pain'],
  gastro: ['abdomen', 'nausea', 'bowel', 'pain', 'reflux', 'liver', 'stool', 'pressure'],
  neuro: ['headache', 'seizure', 'numbness', 'vision', 'dizzy', 'tremor', 'memory', 'pain'],
};
const SHARED = ['patient', 'reports', 'since', 'yesterday', 'mild', 'severe', 'the', 'and', 'with', 'pain', 'chest', 'abdomen', 'headache'];

/** A hard 3-class CSV: few class words among many shared (and other classes') words, so argmax misses some. */
function writeHardCsv(file: string, perTrain: number, perTest: number): void {
  const r = mulberry32(11);
  const labels = Object.keys(VOCAB);
  const text = (l: string, i: number) => {
    const ws: string[] = [];
    for (let k = 0; k < 8; k++) {
      const u = r();
      const other = VOCAB[labels[Math.floor(r() * labels.length)]];
      ws.push(u < 0.3 ? VOCAB[l][Math.floor(r() * 8)] : u < 0.55 ? other[Math.floor(r() * 8)] : SHARED[Math.floor(r() * SHARED.length)]);
    }
    return `${ws.join(' ')} n${i}`;
  };
  const rows = ['text,label,split'];
  let i = 0;
  for (const l of labels) {
    for (let k = 0; k < perTrain; k++) rows.push(`${text(l, i++)},${l},train`);
    for (let k = 0; k < perTest; k++) rows.push(`${text(l, i++)},${l},test`);
  }
  fs.writeFileSync(file, rows.join('\n') + '\n');
}

async function train(dataset: string, store: string, over: Partial<TrainConfig>): Promise<{ record: RunRecord; events: TrainEvent[]; dir: string }> {
  const events: TrainEvent[] = [];
  const record = await runTraining({ config: { ...DEFAULT_CONFIG, dataset, encoder: 'hashing:1024', ...over }, storeDir: store }, { onEvent: (e) => events.push(e) });
  return { record, events, dir: path.join(store, 'runs', record.id) };
}

function post(url: string, body: unknown): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    const data = JSON.stringify(body);
    const req = http.request(url + '/predict', { method: 'POST', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) } }, (res) => {
      let raw = '';
      res.on('data', (d) => { raw += d; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(raw) }));
    });
    req.on('error', reject);
    req.end(data);
  });
}

describe('recall targets: training end to end (hashing encoder, head auto)', function () {
  this.timeout(300_000);
  let dir: string;
  let csv: string;
  before(() => {
    dir = tempDir('recall');
    csv = path.join(dir, 'notes.csv');
    writeHardCsv(csv, 16, 20);
  });
  after(() => rmrf(dir));

  it('saves the rule with the model, meets the target on test at least as well as the argmax, writes oof.jsonl; predict and serve decide', async () => {
    const { record, dir: runDir } = await train(csv, path.join(dir, 'store'), { minRecall: { cardiology: 1 } });
    assert.equal(record.status, 'completed', JSON.stringify(record.error));
    const model = JSON.parse(fs.readFileSync(path.join(runDir, 'model', 'head.json'), 'utf8')) as ModelFile;
    const rule = model.decision!;
    assert.ok(rule, 'model/head.json has a decision rule');
    assert.deepEqual(rule.minRecall, { cardiology: 1 });
    assert.ok(rule.thresholds.cardiology > 0 && rule.thresholds.cardiology < 1, String(rule.thresholds.cardiology));
    assert.match(rule.chosenOn, /out-of-fold probabilities of the few-shot head on the training split \(48 texts/);

    // oof.jsonl: one row per training example, in dataset.train order, with out-of-fold probabilities
    const oof = readJsonl<TrainPrediction>(path.join(runDir, 'oof.jsonl'));
    assert.equal(oof.length, 48);
    assert.deepEqual(oof.map((o) => o.index), [...Array(48).keys()]);
    for (const o of oof) {
      assert.equal(Object.keys(o.probabilities).length, 3);
      assert.ok(Math.abs(Object.values(o.probabilities).reduce((a, b) => a + b, 0) - 1) < 1e-6);
      assert.equal(o.predicted, Object.entries(o.probabilities).sort((x, y) => y[1] - x[1])[0][0]);
      assert.equal(typeof o.line, 'number');
    }
    // the thresholds reach the target on those out-of-fold probabilities
    const cardio = oof.filter((o) => o.label === 'cardiology');
    assert.ok(cardio.every((o) => o.probabilities.cardiology >= rule.thresholds.cardiology));

    // the report: decided labels, and the target table against the argmax
    const report = JSON.parse(fs.readFileSync(path.join(runDir, 'report.json'), 'utf8')) as ClassificationReport;
    const preds = readJsonl<TestPrediction>(path.join(runDir, 'predictions.jsonl'));
    for (const p of preds) assert.equal(p.predicted, decideLabel(model.labels.map((l) => p.probabilities[l]), model.labels, rule));
    const row = report.recallTargets!.find((r) => r.label === 'cardiology')!;
    assert.equal(row.target, 1);
    assert.equal(row.threshold, rule.thresholds.cardiology);
    assert.equal(row.recall, report.perClass.cardiology.recall);
    assert.ok(row.recall >= row.argmaxRecall, `recall ${row.recall} < argmax ${row.argmaxRecall}`);
    const argmaxRecall = preds.filter((p) => p.label === 'cardiology' && Object.entries(p.probabilities).sort((x, y) => y[1] - x[1])[0][0] === 'cardiology').length / 20;
    assert.equal(row.argmaxRecall, argmaxRecall);
    const txt = fs.readFileSync(path.join(runDir, 'report.txt'), 'utf8');
    assert.match(txt, /Recall targets \(thresholds chosen on 4-fold out-of-fold probabilities/);
    assert.match(txt, /cardiology\s+1\s+0\.\d{4}\s+\d\.\d{4}/);

    // predict: the decided label, the model's probabilities; some text is decided differently from its argmax
    const flipped = preds.filter((p) => p.predicted !== Object.entries(p.probabilities).sort((x, y) => y[1] - x[1])[0][0]);
    assert.ok(flipped.length > 0, 'the threshold changes some decisions on this data');
    const predictor = await loadPredictor(runDir);
    try {
      const out = await predictor.predict(flipped.map((p) => p.text));
      out.forEach((o, i) => {
        assert.equal(o.label, 'cardiology');
        assert.notEqual(o.probabilities[0].label, 'cardiology');
        assert.ok(Math.abs(o.probabilities.find((q) => q.label === 'cardiology')!.p - flipped[i].probabilities.cardiology) < 1e-6);
      });
    } finally { predictor.dispose(); }

    // serve: the decided label, and the rule in GET /model
    const server = await startModelServer({ runDir, port: 0 });
    try {
      const r = await post(server.url, { text: flipped[0].text });
      assert.equal(r.status, 200);
      assert.equal(r.body.label, 'cardiology');
      assert.notEqual(r.body.probabilities[0].label, 'cardiology');
      const m = await new Promise<any>((resolve, reject) => http.get(server.url + '/model', (res) => { let s = ''; res.on('data', (d) => { s += d; }); res.on('end', () => resolve(JSON.parse(s))); }).on('error', reject));
      assert.deepEqual(m.decision, { minRecall: { cardiology: 1 }, thresholds: rule.thresholds, abstain: null });
    } finally { await server.close(); }
  });

  it('abstains below the threshold: "uncertain" in predictions, counted in the report as misses', async () => {
    const { record, dir: runDir } = await train(csv, path.join(dir, 'store'), { abstain: 0.6 });
    assert.equal(record.status, 'completed', JSON.stringify(record.error));
    const preds = readJsonl<TestPrediction>(path.join(runDir, 'predictions.jsonl'));
    const unsure = preds.filter((p) => Math.max(...Object.values(p.probabilities)) < 0.6);
    assert.ok(unsure.length > 0 && unsure.length < preds.length, `${unsure.length} of ${preds.length}`);
    for (const p of preds) assert.equal(p.predicted === UNCERTAIN_LABEL, unsure.includes(p));
    const report = JSON.parse(fs.readFileSync(path.join(runDir, 'report.json'), 'utf8')) as ClassificationReport;
    assert.deepEqual(report.abstained, { threshold: 0.6, uncertain: unsure.length });
    for (const l of ['cardiology', 'gastro', 'neuro']) {
      const hit = preds.filter((p) => p.label === l && p.predicted === l).length;
      assert.equal(report.perClass[l].recall, hit / 20);
      assert.equal(report.perClass[l].support, 20);
    }
    assert.equal(report.recallTargets, undefined);
    const predictor = await loadPredictor(runDir);
    try {
      const [o] = await predictor.predict([unsure[0].text]);
      assert.equal(o.label, UNCERTAIN_LABEL);
      assert.ok(o.probabilities[0].p < 0.6);
    } finally { predictor.dispose(); }
  });

  it('without a test split (tiny classes, cross-validated report): abstains per fold and counts it', async () => {
    const folder = writeFolderDataset(path.join(dir, 'folders'), 3);
    const { record, dir: runDir } = await train(folder, path.join(dir, 'store'), { abstain: 0.5 });
    assert.equal(record.status, 'completed', JSON.stringify(record.error));
    const report = JSON.parse(fs.readFileSync(path.join(runDir, 'report.json'), 'utf8')) as ClassificationReport;
    assert.equal(report.split, 'cross-validation');
    const preds = readJsonl<TestPrediction>(path.join(runDir, 'predictions.jsonl'));
    assert.equal(preds.length, 9);
    for (const p of preds) assert.equal(p.predicted === UNCERTAIN_LABEL, Math.max(...Object.values(p.probabilities)) < 0.5);
    const unsure = preds.filter((p) => p.predicted === UNCERTAIN_LABEL).length;
    assert.ok(unsure > 0 && unsure < 9, `${unsure} of 9 abstained`);
    assert.deepEqual(report.abstained, { threshold: 0.5, uncertain: unsure });
    assert.match(fs.readFileSync(path.join(runDir, 'report.txt'), 'utf8'), /Abstain below 0\.5: \d+ of 9 texts got "uncertain"/);
  });

  it('refuses to load a model file whose decision rule is damaged, naming the file', async () => {
    const { record, dir: runDir } = await train(csv, path.join(dir, 'store'), { minRecall: { gastro: 0.9 } });
    assert.equal(record.status, 'completed', JSON.stringify(record.error));
    const file = path.join(runDir, 'model', 'head.json');
    const model = JSON.parse(fs.readFileSync(file, 'utf8')) as ModelFile;
    for (const [decision, why] of [
      [{ ...model.decision!, thresholds: { gastro: 2 } }, 'its decision rule has a bad threshold for "gastro"'],
      [{ ...model.decision!, thresholds: { nope: 0.5 } }, 'its decision rule has a bad threshold for "nope"'],
      [{ ...model.decision!, abstain: -1 }, 'its decision rule has a bad abstain threshold'],
    ] as const) {
      fs.writeFileSync(file, JSON.stringify({ ...model, decision }));
      await assert.rejects(loadPredictor(runDir), (e: Error) => e.message === `The model file ${file} is invalid: ${why}.`);
    }
  });

  it('refuses a class the dataset does not have, naming it and the classes', async () => {
    const { record } = await train(csv, path.join(dir, 'store'), { minRecall: { cardio: 0.9 } });
    assert.equal(record.status, 'failed');
    assert.equal(record.error?.message, `Minimum recall target for "cardio": no such class in ${csv}. Its classes are: cardiology, gastro, neuro.`);
  });

  it('warns that targets are not applied when head auto picks the centroid (no out-of-fold probabilities)', async () => {
    const small = path.join(dir, 'small.csv');
    writeHardCsv(small, 3, 4);
    const { record, dir: runDir } = await train(small, path.join(dir, 'store'), { minRecall: { gastro: 0.9 } });
    assert.equal(record.status, 'completed', JSON.stringify(record.error));
    assert.ok(record.warnings?.some((w) => /Minimum recall targets were not applied: head auto chose the nearest centroid .*computes no out-of-fold probabilities/.test(w)), JSON.stringify(record.warnings));
    const model = JSON.parse(fs.readFileSync(path.join(runDir, 'model', 'head.json'), 'utf8')) as ModelFile;
    assert.equal(model.decision, undefined);
    assert.equal(fs.existsSync(path.join(runDir, 'oof.jsonl')), false);
    assert.match(fs.readFileSync(path.join(runDir, 'report.txt'), 'utf8'), /\nRecall targets were not applied: head auto chose the nearest centroid/);
  });
});

describe('recall targets: the CLI', function () {
  this.timeout(300_000);
  let dir: string;
  let cli: string;
  before(() => {
    cli = buildChildBundles().cli;
    dir = tempDir('recall-cli');
    writeHardCsv(path.join(dir, 'notes.csv'), 16, 20);
  });
  after(() => rmrf(dir));
  const run = (args: string[]) => runCli(cli, args, { cwd: dir });

  it('exits 2 before training for an unknown class, a bad value, bad syntax or a head without out-of-fold probabilities', async () => {
    for (const [args, re] of [
      [['--min-recall', 'cardio=0.95'], /^error: --min-recall: minimum recall target for "cardio": no such class in .*notes\.csv\. Its classes are: cardiology, gastro, neuro\./],
      [['--min-recall', 'gastro=1.5'], /^error: --min-recall: the minimum recall of "gastro" must be above 0 and at most 1 \(got 1\.5\)/],
      [['--min-recall', 'gastro'], /^error: --min-recall: "gastro" is not class=recall/],
      [['--min-recall', 'gastro=0.9', '--head', 'mlp'], /^error: --min-recall: .*head mlp does not compute/],
      [['--abstain', '1.5'], /abstain threshold must be above 0 and below 1/],
    ] as [string[], RegExp][]) {
      const r = await run(['train', 'notes.csv', '--encoder', 'hashing', ...args]);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.code}\n${r.stderr}`);
      assert.match(r.stderr, re);
      assert.ok(!/\n\s+at .+:\d+:\d+\)?/.test(r.stderr), r.stderr);
      assert.equal(fs.existsSync(path.join(dir, '.fewshot', 'runs')) && fs.readdirSync(path.join(dir, '.fewshot', 'runs')).length > 0, false, 'no run was created');
    }
  });

  it('trains with --min-recall, prints the target table, and predict prints the decided label', async () => {
    const t = await run(['train', 'notes.csv', '--encoder', 'hashing', '--min-recall', 'cardiology=1', '--json']);
    assert.equal(t.code, 0, t.stderr);
    const out = JSON.parse(t.stdout) as { runDir: string; report: ClassificationReport };
    assert.equal(out.report.recallTargets!.find((r) => r.label === 'cardiology')!.target, 1);
    const preds = readJsonl<TestPrediction>(path.join(out.runDir, 'predictions.jsonl'));
    const flipped = preds.find((p) => p.predicted === 'cardiology' && Object.entries(p.probabilities).sort((x, y) => y[1] - x[1])[0][0] !== 'cardiology')!;
    assert.ok(flipped, 'a decision changed by the threshold');
    const p = await run(['predict', '--run', out.runDir, '--json', flipped.text]);
    assert.equal(p.code, 0, p.stderr);
    const [o] = JSON.parse(p.stdout) as { label: string; probabilities: { label: string; p: number }[] }[];
    assert.equal(o.label, 'cardiology');
    assert.notEqual(o.probabilities[0].label, 'cardiology');
    const plain = await run(['predict', '--run', out.runDir, flipped.text]);
    assert.match(plain.stdout, new RegExp(`^cardiology\\t${flipped.probabilities.cardiology.toFixed(4)}\\t`));
  });
});
