import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DEFAULT_CONFIG, configProblems, resolveConfig, resolveHead, unusedSettings, validateConfig } from '../../src/core/config';
import { runTraining, stratifiedHoldout, stratifiedKFold, holdoutSizes, averageEpoch, type TrainEvent } from '../../src/core/train';
import { classificationReport } from '../../src/core/metrics';
import { loadPredictor } from '../../src/core/predict';
import { FewShotError } from '../../src/core/errors';
import { PASSAGE_MAX_TRAIN_TEXTS } from '../../src/core/augment';
import type { ClassificationReport, EpochMetrics, RunRecord, TestPrediction, TrainConfig } from '../../src/protocol/run';
import { LABELS, makeTexts, readJsonl, rmrf, tempDir, writeCsvDataset, writeFolderDataset } from './helpers/trainerFixtures';

function cfg(dataset: string, over: Partial<TrainConfig> = {}): TrainConfig {
  return { ...DEFAULT_CONFIG, dataset, encoder: 'hashing:1024', epochs: 12, ...over };
}

describe('config', () => {
  it('has the documented defaults', () => {
    assert.deepEqual({ ...DEFAULT_CONFIG }, {
      encoder: 'auto', head: 'auto', epochs: 60, learningRate: 0.01, batchSize: 32, seed: 42, augment: 0,
      passages: true, classNames: true, classWeighting: true, patience: 10, validationFraction: 0.2, backend: 'auto',
    });
  });

  it('merges over the defaults and makes the dataset absolute', () => {
    const c = resolveConfig({ dataset: 'data/x.csv', epochs: 5, encoder: undefined }, { cwd: '/tmp/ws' });
    assert.equal(c.dataset, path.resolve('/tmp/ws', 'data/x.csv'));
    assert.equal(c.epochs, 5);
    assert.equal(c.encoder, 'auto');
    assert.equal(c.learningRate, 0.01);
  });

  it('accepts every encoder spec form', () => {
    for (const encoder of ['auto', 'hashing', 'hashing:2048', 'use', 'hf:Xenova/all-MiniLM-L6-v2', 'hf:/models/x', 'combo:use+hashing*0.8']) {
      assert.deepEqual(configProblems(cfg('/d', { encoder })), [], encoder);
    }
  });

  it('rejects bad values with a FewShotError naming the field and a fix', () => {
    const bad: [Partial<TrainConfig>, string][] = [
      [{ epochs: 0 }, 'epochs'], [{ epochs: 2.5 }, 'epochs'], [{ learningRate: 0 }, 'learning rate'], [{ learningRate: NaN }, 'learning rate'],
      [{ batchSize: -1 }, 'batch size'], [{ seed: 1.5 }, 'seed'], [{ augment: 11 }, 'augment'], [{ patience: -2 }, 'patience'],
      [{ validationFraction: 0.95 }, 'validationFraction'], [{ head: 'svm' as TrainConfig['head'] }, 'head'], [{ backend: 'cuda' }, 'backend'],
      [{ encoder: 'bert' }, 'encoder'], [{ dataset: '' }, 'dataset'], [{ classWeighting: 'yes' as unknown as boolean }, 'classWeighting'],
      [{ passages: 1 as unknown as boolean }, 'passages'], [{ classNames: 'no' as unknown as boolean }, 'classNames'],
    ];
    for (const [over, word] of bad) {
      let err: unknown;
      try { validateConfig(cfg('/d', over)); } catch (e) { err = e; }
      assert.ok(err instanceof FewShotError, `${JSON.stringify(over)} should be rejected`);
      assert.ok(err.message.includes(word), `"${err.message}" should mention ${word}`);
      assert.ok(err.opts.fix && err.opts.fix.length > 5, 'has a fix');
      assert.equal(err.opts.code, 'config-invalid');
    }
  });

  it('lists every problem at once', () => {
    const p = configProblems(cfg('/d', { epochs: 0, batchSize: 0, seed: -1 }));
    assert.deepEqual(p.map((x) => x.field).sort(), ['batchSize', 'epochs', 'seed']);
    assert.throws(() => validateConfig(cfg('/d', { epochs: 0, batchSize: 0 }), '/ws/settings.json'), (e: FewShotError) =>
      e.message.includes('/ws/settings.json') && e.message.includes('epochs') && e.message.includes('batch size') && e.opts.file === '/ws/settings.json');
  });

  it('names the settings a head does not use (HEAD_SETTINGS): epochs for head auto, passages for tfjs heads', () => {
    const given = { dataset: '/d', encoder: 'hashing', seed: 3, epochs: 5, learningRate: 0.1, refit: false, passages: false, augment: 1, textColumn: 't', batchSize: undefined };
    assert.deepEqual(unusedSettings('auto', given), ['epochs', 'learningRate', 'refit']);
    assert.deepEqual(unusedSettings('logreg', given), ['passages']);
    assert.deepEqual(unusedSettings('centroid', given), ['epochs', 'learningRate', 'refit', 'passages']);
    assert.deepEqual(unusedSettings('auto', { dataset: '/d', seed: 1, maxChars: 100 }), []);
  });

  it('resolves head auto: centroid for very few shots, else logistic regression', () => {
    assert.equal(resolveHead('auto', [2, 10]).head, 'centroid');
    assert.equal(resolveHead('auto', { a: 3, b: 3 }).head, 'centroid');
    assert.equal(resolveHead('auto', [4, 50]).head, 'logreg');
    assert.equal(resolveHead('mlp', [1, 1]).head, 'mlp');
  });
});

describe('train splits', () => {
  const y = [...Array(30).fill(0), ...Array(10).fill(1), ...Array(5).fill(2)];

  it('stratified hold-out keeps every class on both sides, disjoint and complete', () => {
    const s = stratifiedHoldout(y, 3, 0.2, 42);
    assert.equal(s.train.length + s.val.length, y.length);
    assert.equal(new Set([...s.train, ...s.val]).size, y.length);
    const valCounts = [0, 1, 2].map((c) => s.val.filter((i) => y[i] === c).length);
    assert.deepEqual(valCounts, [6, 2, 1]);
    assert.deepEqual(stratifiedHoldout(y, 3, 0.2, 42), s, 'deterministic for a seed');
    assert.notDeepEqual(stratifiedHoldout(y, 3, 0.2, 43).val, s.val, 'another seed, another split');
    assert.deepEqual(holdoutSizes([1, 2, 10], 0.2), [0, 1, 2]);
  });

  it('stratified k-fold partitions the indices with every class spread over the folds', () => {
    const folds = stratifiedKFold(y, 3, 5, 1);
    assert.equal(folds.length, 5);
    assert.deepEqual(folds.flat().sort((a, b) => a - b), y.map((_, i) => i));
    for (const f of folds) {
      assert.equal(f.filter((i) => y[i] === 2).length, 1);
      assert.equal(f.filter((i) => y[i] === 0).length, 6);
    }
  });

  it('averages the folds of one epoch; the time is the one given (when the mean was computed), not interpolated', () => {
    const m = (epoch: number, f1: number): EpochMetrics => ({ epoch, loss: 1, valLoss: 2, valMacroF1: f1, valAccuracy: f1, perClassRecall: { a: f1 }, elapsedMs: 0 });
    const avg = averageEpoch([m(2, 0.2), m(2, 0.4)], ['a'], 1234);
    assert.equal(avg.epoch, 2);
    assert.equal(avg.unit, 'epoch');
    assert.ok(Math.abs(avg.valMacroF1! - 0.3) < 1e-12);
    assert.ok(Math.abs(avg.perClassRecall.a - 0.3) < 1e-12);
    assert.equal(avg.elapsedMs, 1234);
  });
});

describe('runTraining pipeline', function () {
  this.timeout(120_000);
  let dir: string;
  let csv: string;
  before(() => {
    dir = tempDir('train');
    csv = writeCsvDataset(path.join(dir, 'ds'), 20, 8);
  });
  after(() => rmrf(dir));

  it('trains end to end: completed run, one metrics line per CV-scored configuration, honest report, working model', async () => {
    const events: TrainEvent[] = [];
    const store = path.join(dir, 'store1');
    const record = await runTraining({ config: cfg(csv, { patience: 0 }), storeDir: store }, { onEvent: (e) => events.push(e) });
    assert.equal(record.status, 'completed', JSON.stringify(record.error));
    const runDir = path.join(store, 'runs', record.id);
    assert.equal(events[0].type, 'started');
    assert.equal(events[events.length - 1].type, 'done');
    assert.ok(events.some((e) => e.type === 'progress' && e.phase === 'embed'));

    const onDisk = JSON.parse(fs.readFileSync(path.join(runDir, 'run.json'), 'utf8')) as RunRecord;
    assert.equal(onDisk.status, 'completed');
    assert.deepEqual(onDisk, record);
    assert.equal(record.config.epochs, 12);
    assert.ok(record.encoder!.id.startsWith('hashing-'));
    assert.equal(record.head, 'logreg', 'head auto with 16 training examples per class → logistic regression');
    assert.equal(record.dataset!.labels.join(','), LABELS.join(','));
    assert.equal(record.dataset!.counts.test[LABELS[0]], 8);
    // hashing features and the few-shot head: no TensorFlow.js ran, so no backend is recorded
    assert.equal(record.backend, undefined);
    assert.equal(record.algorithm, 'fewshot-ensemble');
    assert.deepEqual(record.progress, { unit: 'configuration', total: 6, validation: '4-fold out-of-fold predictions on the training split (60 texts; extra rows never take part)' });
    assert.equal(record.bestEpoch, undefined, 'no epochs in the few-shot head');
    assert.equal(record.epochsRun, undefined);
    assert.equal(record.versions.node, process.versions.node);
    assert.ok(record.versions.tfjs, 'tfjs version recorded');
    for (const k of ['loadMs', 'embedMs', 'trainMs', 'evalMs', 'totalMs', 'firstEpochMs'] as const) assert.ok(typeof record.timings[k] === 'number', k);
    assert.ok(record.timings.firstEpochMs! <= record.timings.totalMs!);
    assert.equal(record.timings.computedEmbeddings, 20 * 3 + 8 * 3 + 3, 'texts + the 3 class names as prior examples');

    // metrics.jsonl: one line per configuration (IDF on/off × C 1, 10, 100 for one hashing block), same as the epoch events;
    // --epochs (12 here) plays no part
    const metrics = readJsonl<EpochMetrics>(path.join(runDir, 'metrics.jsonl'));
    const epochEvents = events.filter((e): e is Extract<TrainEvent, { type: 'epoch' }> => e.type === 'epoch');
    assert.equal(metrics.length, 6);
    assert.deepEqual(metrics.map((m) => [m.epoch, m.unit, m.label]), [1, 10, 100, 1, 10, 100].map((C, i) => [i + 1, 'configuration', `IDF ${i < 3 ? 'on' : 'off'} · block weights 1.00 · C=${C}`]));
    assert.deepEqual(epochEvents.map((e) => e.metrics), metrics);
    assert.ok(epochEvents.every((e) => e.totalEpochs === 6 && e.unit === 'configuration'));
    assert.ok(metrics.every((m) => m.valMacroF1 !== null && m.valLoss !== null), 'out-of-fold metrics');
    assert.ok(metrics.every((m, i) => i === 0 || m.elapsedMs > metrics[i - 1].elapsedMs));
    assert.equal(record.bestValMacroF1, Math.max(...metrics.map((m) => m.valMacroF1!)));
    // candidate fits are counted while they run: 6 configurations × 4 folds + 3 final members
    const fits = events.filter((e): e is Extract<TrainEvent, { type: 'progress' }> => e.type === 'progress' && e.phase === 'train');
    assert.ok(fits.every((e) => e.total === 27));
    assert.equal(fits[fits.length - 1].done, 27);
    // the first point is written before the head ends
    assert.ok(record.timings.firstEpochMs! < record.timings.loadMs! + record.timings.embedMs! + record.timings.trainMs! + 1000);

    // report == classificationReport(predictions.jsonl)
    const preds = readJsonl<TestPrediction>(path.join(runDir, 'predictions.jsonl'));
    assert.equal(preds.length, 24);
    assert.ok(preds.every((p) => p.file === csv && typeof p.line === 'number' && p.line > 1));
    const report = JSON.parse(fs.readFileSync(path.join(runDir, 'report.json'), 'utf8')) as ClassificationReport;
    assert.deepEqual(report, classificationReport(preds.map((p) => p.label), preds.map((p) => p.predicted), LABELS, 'test'));
    assert.equal(report.split, 'test');
    assert.equal(record.testMacroF1, report.macro.f1);
    assert.ok(report.macro.f1 > 0.6, `the toy task is learnable (macro-F1 ${report.macro.f1})`);
    const txt = fs.readFileSync(path.join(runDir, 'report.txt'), 'utf8');
    assert.match(txt, /never used for model selection/);
    assert.match(txt, /Algorithm: fewshot-ensemble\. Progress points: 6 × configuration; validation: 4-fold out-of-fold predictions on the training split/);
    assert.doesNotMatch(txt, /DATA PROBLEMS/);
    assert.match(txt, /all 60 training texts and 3 extra rows/);
    assert.ok(txt.includes(report.text.trim()));
    const confusion = JSON.parse(fs.readFileSync(path.join(runDir, 'confusion.json'), 'utf8'));
    assert.deepEqual(confusion, { labels: report.labels, matrix: report.confusion });
    const done = events[events.length - 1] as Extract<TrainEvent, { type: 'done' }>;
    assert.deepEqual(done.report, report);

    // the saved model predicts the same labels
    const predictor = await loadPredictor(runDir);
    try {
      const out = await predictor.predict(preds.map((p) => p.text));
      assert.deepEqual(out.map((o) => o.label), preds.map((p) => p.predicted));
      for (const [i, o] of out.entries()) {
        assert.ok(Math.abs(o.probabilities[0].p - preds[i].probabilities[o.label]) < 1e-5);
        assert.ok(Math.abs(o.probabilities.reduce((a, b) => a + b.p, 0) - 1) < 1e-4);
      }
    } finally {
      predictor.dispose();
    }
  });

  it('a re-run hits the embedding cache', async function () {
    this.timeout(240_000);
    // The hashing encoder is not cached (recomputing is cheaper), so use USE-lite on a tiny dataset.
    const small = writeCsvDataset(path.join(dir, 'small'), 5, 2, 3);
    const store = path.join(dir, 'store-cache');
    const a = await runTraining({ config: cfg(small, { encoder: 'use', epochs: 3 }), storeDir: store }, { onEvent: () => undefined });
    assert.equal(a.status, 'completed', JSON.stringify(a.error));
    assert.equal(a.timings.cachedEmbeddings, 0);
    assert.equal(a.timings.computedEmbeddings, 24, '21 texts + 3 class names (cooking, finance, sports)');
    const b = await runTraining({ config: cfg(small, { encoder: 'use', epochs: 3 }), storeDir: store }, { onEvent: () => undefined });
    assert.equal(b.status, 'completed');
    assert.equal(b.timings.cachedEmbeddings, 24);
    assert.equal(b.timings.computedEmbeddings, 0);
    assert.ok(fs.readdirSync(path.join(store, 'cache', 'embeddings')).length >= 1);
  });

  it('refit: false keeps the hold-out model of the best epoch (tfjs heads); epochs recorded; head auto is not switched by it', async () => {
    const store = path.join(dir, 'store-norefit');
    const events: TrainEvent[] = [];
    const record = await runTraining({ config: cfg(csv, { refit: false, epochs: 6, head: 'logreg' }), storeDir: store }, { onEvent: (e) => events.push(e) });
    assert.equal(record.status, 'completed');
    assert.equal(record.config.refit, false);
    assert.equal(record.algorithm, 'tfjs-adam-logreg');
    assert.deepEqual(record.progress, { unit: 'epoch', total: 6, validation: 'stratified 20% hold-out of the training split (12 examples)' });
    assert.ok(record.bestEpoch! >= 1 && record.bestEpoch! <= 6);
    assert.equal(record.epochsRun, 6);
    assert.ok(record.backend && record.backend.name.length > 0, 'TensorFlow.js ran the head');
    assert.ok(events.filter((e) => e.type === 'epoch').every((e) => e.type === 'epoch' && e.unit === 'epoch' && e.totalEpochs === 6));
    const txt = fs.readFileSync(path.join(store, 'runs', record.id, 'report.txt'), 'utf8');
    assert.match(txt, /stratified 20% hold-out of the training split \(12 examples\)/);
    assert.doesNotMatch(txt, /refitted/);
    const auto = await runTraining({ config: cfg(csv, { refit: false }), storeDir: store }, { onEvent: () => undefined });
    assert.equal(auto.status, 'completed');
    assert.equal(auto.algorithm, 'fewshot-ensemble', 'refit applies to tfjs heads only');
  });

  it('augments training texts only', async () => {
    const store = path.join(dir, 'store-aug');
    const events: TrainEvent[] = [];
    const record = await runTraining({ config: cfg(csv, { augment: 2, epochs: 4 }), storeDir: store }, { onEvent: (e) => events.push(e) });
    assert.equal(record.status, 'completed', JSON.stringify(record.error));
    const log = events.find((e): e is Extract<TrainEvent, { type: 'log' }> => e.type === 'log' && /^Augmentation: \d+ extra training texts/.test(e.message));
    assert.ok(log, 'augmentation logged');
    const extra = Number(/(\d+)/.exec(log.message)![1]);
    assert.ok(extra > 0 && extra <= 60 * 2, `${extra} extra texts for 60 training texts`);
    // every distinct text is embedded once: originals + variants (variants may repeat)
    assert.ok(record.timings.computedEmbeddings! > 87 && record.timings.computedEmbeddings! <= 87 + extra);
    const preds = readJsonl<TestPrediction>(path.join(store, 'runs', record.id, 'predictions.jsonl'));
    assert.equal(preds.length, 24, 'the test split is not augmented');
    assert.equal(record.dataset!.counts.train[LABELS[0]], 20);
  });

  it('few-shot recipe: long training texts add passages, class names add prior rows; both can be turned off', async () => {
    const long = path.join(dir, 'long');
    fs.mkdirSync(long, { recursive: true });
    const rows = ['text,label,split'];
    const testTexts = new Set<string>();
    for (const label of LABELS) {
      // 6 long training texts (16 sentences ≈ 1,000 characters) and 2 short test texts per class
      makeTexts(label, 6, 7).forEach((_, i) => rows.push(`"${makeTexts(label, 16, 100 + i).join('. ')}.",${label},train`));
      makeTexts(label, 2, 9).forEach((t) => { rows.push(`${t},${label},test`); testTexts.add(t); });
    }
    fs.writeFileSync(path.join(long, 'data.csv'), rows.join('\n') + '\n');
    const logs = async (over: Partial<TrainConfig>) => {
      const ev: TrainEvent[] = [];
      const rec = await runTraining({ config: cfg(path.join(long, 'data.csv'), { epochs: 6, ...over }), storeDir: path.join(dir, 'store-long') }, { onEvent: (e) => ev.push(e) });
      assert.equal(rec.status, 'completed', JSON.stringify(rec.error));
      return { rec, logs: ev.filter((e): e is Extract<TrainEvent, { type: 'log' }> => e.type === 'log').map((e) => e.message) };
    };
    const on = await logs({});
    const pl = on.logs.find((m) => m.startsWith('Passages:'));
    assert.ok(pl, on.logs.join('\n'));
    const nPass = Number(/Passages: (\d+) extra training rows from (\d+)/.exec(pl!)![1]);
    assert.ok(nPass >= 18 * 2 && nPass <= 18 * 3, pl);
    assert.match(on.logs.find((m) => m.startsWith('Class names'))!, /"cooking", "finance", "sports"/);
    assert.equal(on.rec.timings.computedEmbeddings, 18 + testTexts.size + 3 + nPass, 'texts + class names + passages, each distinct text embedded once');
    const report = fs.readFileSync(path.join(dir, 'store-long', 'runs', on.rec.id, 'report.txt'), 'utf8');
    assert.match(report, /ensemble of the 3 of 6 L2-regularised logistic regressions \(IDF on\/off .*lowest 4-fold cross-validated log-loss/, 'one sparse block: IDF on/off × C 1, 10, 100');
    assert.match(report, new RegExp(`all 18 training texts and ${nPass + 3} extra rows`));
    assert.equal(on.rec.dataset!.counts.train[LABELS[0]], 6, 'passages are not counted as training texts');
    const off = await logs({ passages: false, classNames: false });
    assert.ok(!off.logs.some((m) => m.startsWith('Passages:') || m.startsWith('Class names')), off.logs.join('\n'));
    assert.equal((off.rec.timings.computedEmbeddings ?? 0) + (off.rec.timings.cachedEmbeddings ?? 0), 18 + testTexts.size, 'only the dataset texts are embedded');
    // an explicit head does not use the recipe's extra rows
    const explicit = await logs({ head: 'logreg' });
    assert.ok(!explicit.logs.some((m) => m.startsWith('Passages:')));
  });

  it('few-shot recipe: no passages beyond PASSAGE_MAX_TRAIN_TEXTS training texts (logged)', async () => {
    const big = path.join(dir, 'big');
    fs.mkdirSync(big, { recursive: true });
    const rows = ['text,label,split'];
    const per = Math.ceil((PASSAGE_MAX_TRAIN_TEXTS + 1) / LABELS.length);
    for (const label of LABELS) {
      for (let i = 0; i < per; i++) rows.push(`"${makeTexts(label, 16, 300 + i).join('. ')}.",${label},train`);
      makeTexts(label, 2, 11).forEach((t) => rows.push(`${t},${label},test`));
    }
    fs.writeFileSync(path.join(big, 'data.csv'), rows.join('\n') + '\n');
    const ev: TrainEvent[] = [];
    const rec = await runTraining({ config: cfg(path.join(big, 'data.csv'), { epochs: 4 }), storeDir: path.join(dir, 'store-big') }, { onEvent: (e) => ev.push(e) });
    assert.equal(rec.status, 'completed', JSON.stringify(rec.error));
    const nTrain = Object.values(rec.dataset!.counts.train).reduce((a, b) => a + b, 0);
    assert.ok(nTrain > PASSAGE_MAX_TRAIN_TEXTS, `${nTrain} training texts`);
    const msgs = ev.filter((e): e is Extract<TrainEvent, { type: 'log' }> => e.type === 'log').map((e) => e.message);
    assert.ok(msgs.some((m) => m.startsWith(`Passages: off (${nTrain} training texts, more than ${PASSAGE_MAX_TRAIN_TEXTS}`)), msgs.join('\n'));
  });

  it('cancels mid-run: status cancelled, folder still readable', async () => {
    const store = path.join(dir, 'store-cancel');
    const ac = new AbortController();
    const events: TrainEvent[] = [];
    const record = await runTraining({ config: cfg(csv, { epochs: 1000, patience: 0 }), storeDir: store }, {
      signal: ac.signal,
      onEvent: (e) => { events.push(e); if (e.type === 'epoch' && e.metrics.epoch === 2) ac.abort(); },
    });
    assert.equal(record.status, 'cancelled');
    assert.equal(events[events.length - 1].type, 'cancelled');
    assert.ok(!events.some((e) => e.type === 'done' || e.type === 'error'));
    const runDir = path.join(store, 'runs', record.id);
    const onDisk = JSON.parse(fs.readFileSync(path.join(runDir, 'run.json'), 'utf8')) as RunRecord;
    assert.equal(onDisk.status, 'cancelled');
    assert.ok(onDisk.finishedAt);
    const metrics = readJsonl<EpochMetrics>(path.join(runDir, 'metrics.jsonl'));
    assert.ok(metrics.length >= 2 && metrics.length < 1000, `${metrics.length} epochs`);
    assert.ok(!fs.existsSync(path.join(runDir, 'model', 'head.json')), 'no model for a cancelled run');
  });

  it('cancel during the solver (2,000 texts, several seconds of fitting) ends the run cancelled within a second', async function () {
    this.timeout(120_000);
    const big = writeCsvDataset(path.join(dir, 'big2000'), 667, 2, 5);
    const store = path.join(dir, 'store-cancel-solver');
    const ac = new AbortController();
    const events: TrainEvent[] = [];
    let abortedAt = 0;
    let dueAt = 0;
    let timer: NodeJS.Timeout | undefined;
    try {
      const record = await runTraining({ config: cfg(big, { encoder: 'hashing', passages: false, classNames: false }), storeDir: store }, {
        signal: ac.signal,
        onEvent: (e) => {
          events.push(e);
          // half a second into the head: inside the CV fits (Gram matrices, Cholesky, L-BFGS on 1,500 rows)
          // (timed from when the abort was due: a blocked event loop would fire it late)
          if (e.type === 'progress' && e.phase === 'train' && !timer) {
            dueAt = Date.now() + 500;
            timer = setTimeout(() => { abortedAt = Date.now(); ac.abort(); }, 500);
          }
        },
      });
      const ms = Date.now() - dueAt;
      assert.ok(abortedAt > 0, 'the abort fired while the head was fitting');
      assert.equal(record.status, 'cancelled');
      assert.ok(ms < 1000, `the run ended ${ms} ms after the abort`);
      const fits = events.filter((e): e is Extract<TrainEvent, { type: 'progress' }> => e.type === 'progress' && e.phase === 'train');
      assert.ok(fits[fits.length - 1].done < fits[0].total, 'cancelled before the last candidate fit');
      assert.equal(record.algorithm, 'fewshot-lbfgs', 'above 1,000 rows: one configuration');
      const onDisk = JSON.parse(fs.readFileSync(path.join(store, 'runs', record.id, 'run.json'), 'utf8')) as RunRecord;
      assert.equal(onDisk.status, 'cancelled');
    } finally {
      clearTimeout(timer);
    }
  });

  it('records data problems and puts a banner at the top of report.txt', async () => {
    const ds = path.join(dir, 'problems');
    fs.mkdirSync(ds, { recursive: true });
    const rows = ['text,label,split'];
    for (const label of LABELS) {
      makeTexts(label, 12, 40).forEach((t) => rows.push(`${t},${label},train`));
      makeTexts(label, 6, 41).forEach((t) => rows.push(`${t},${label},test`));
    }
    // 2 test texts copied from train, a class with 2 test samples only in test (no training data)
    rows.push(`${makeTexts(LABELS[0], 1, 40)[0]},${LABELS[0]},test`, `  ${makeTexts(LABELS[1], 1, 40)[0]} ,${LABELS[1]},test`);
    rows.push('a lonely test text,orphan,test', 'another lonely text,orphan,test');
    const file = path.join(ds, 'data.csv');
    fs.writeFileSync(file, rows.join('\n') + '\n');
    const store = path.join(dir, 'store-problems');
    const events: TrainEvent[] = [];
    const record = await runTraining({ config: cfg(file, { classNames: false }), storeDir: store }, { onEvent: (e) => events.push(e) });
    assert.equal(record.status, 'completed', JSON.stringify(record.error));
    const codes = Object.fromEntries((record.dataProblems ?? []).map((p) => [p.code, p.count]));
    assert.deepEqual(codes, { 'test-train-overlap': 2, 'test-class-not-in-train': 1 });
    assert.match(record.dataProblems!.find((p) => p.code === 'test-class-not-in-train')!.message, /their 2 test example\(s\) were left out/);
    const warns = events.filter((e) => e.type === 'log' && e.level === 'warn' && e.message.startsWith('Data problem: '));
    assert.equal(warns.length, 2);
    const txt = fs.readFileSync(path.join(store, 'runs', record.id, 'report.txt'), 'utf8');
    assert.match(txt, /^!+\nDATA PROBLEMS \(2\): read the scores below with care\n- 2 test text\(s\) also occur in the training split/);

    // small test classes and skipped files (folder layout)
    const folders = path.join(dir, 'problems-folders');
    LABELS.forEach((label, li) => {
      fs.mkdirSync(path.join(folders, 'train', label), { recursive: true });
      fs.mkdirSync(path.join(folders, 'test', label), { recursive: true });
      makeTexts(label, 8, 60 + li).forEach((t, i) => fs.writeFileSync(path.join(folders, 'train', label, `${i}.txt`), t));
      makeTexts(label, li === 0 ? 3 : 6, 70 + li).forEach((t, i) => fs.writeFileSync(path.join(folders, 'test', label, `${i}.txt`), t));
    });
    fs.writeFileSync(path.join(folders, 'train', LABELS[1], 'empty.txt'), '');
    const rec2 = await runTraining({ config: cfg(folders, { classNames: false }), storeDir: store }, { onEvent: () => undefined });
    assert.equal(rec2.status, 'completed', JSON.stringify(rec2.error));
    const byCode = Object.fromEntries((rec2.dataProblems ?? []).map((p) => [p.code, p]));
    assert.deepEqual(Object.keys(byCode).sort(), ['files-skipped', 'small-test-class']);
    assert.equal(byCode['small-test-class'].count, 1);
    assert.match(byCode['small-test-class'].message, new RegExp(`\\(${LABELS[0]}: 3\\)`));
    assert.deepEqual(byCode['files-skipped'].files, [path.join(folders, 'train', LABELS[1], 'empty.txt')]);
  });

  it('a bad dataset ends the run failed, with the file and a fix', async () => {
    const bad = path.join(dir, 'bad.csv');
    fs.writeFileSync(bad, 'text,label\nonly one label here,a\nand another,a\n');
    const store = path.join(dir, 'store-bad');
    const events: TrainEvent[] = [];
    const record = await runTraining({ config: cfg(bad), storeDir: store }, { onEvent: (e) => events.push(e) });
    assert.equal(record.status, 'failed');
    const err = events.find((e): e is Extract<TrainEvent, { type: 'error' }> => e.type === 'error');
    assert.ok(err, 'error event');
    assert.ok(err.file && err.file.includes('bad.csv'), `file: ${err.file}`);
    assert.ok(err.fix && err.fix.length > 5, 'fix');
    assert.ok(!err.detail?.includes('    at '), 'no stack trace for a FewShotError');
    const onDisk = JSON.parse(fs.readFileSync(path.join(store, 'runs', record.id, 'run.json'), 'utf8')) as RunRecord;
    assert.equal(onDisk.status, 'failed');
    assert.equal(onDisk.error!.message, err.message);
    assert.equal(onDisk.error!.fix, err.fix);

    const missing = await runTraining({ config: cfg(path.join(dir, 'nope')), storeDir: store }, { onEvent: () => undefined });
    assert.equal(missing.status, 'failed');
    assert.ok(missing.error!.message.includes(path.join(dir, 'nope')));
  });

  it('a folder of images with a text encoder fails with a clear message, not "no usable examples"', async () => {
    const shapes = path.join(__dirname, '..', '..', '..', 'samples', 'shapes'); // out/test/unit → repo root
    const root = fs.existsSync(shapes) ? shapes : path.resolve('samples', 'shapes');
    const record = await runTraining({ config: cfg(root, { encoder: 'hashing' }), storeDir: path.join(dir, 'store-img') }, { onEvent: () => undefined });
    assert.equal(record.status, 'failed');
    assert.match(record.error!.message, /holds images, but the encoder "hashing" is a text encoder/);
    assert.match(record.error!.fix ?? '', /"auto".*efficientnet-lite0/);
  });

  it('a text dataset with an image encoder fails with a clear message', async () => {
    const record = await runTraining({ config: cfg(csv, { encoder: 'efficientnet-lite0' }), storeDir: path.join(dir, 'store-img-enc') }, { onEvent: () => undefined });
    assert.equal(record.status, 'failed');
    assert.match(record.error!.message, /"efficientnet-lite0" is an image encoder, but .* holds texts/);
  });

  it('rejects invalid settings before creating a run', async () => {
    const store = path.join(dir, 'store-invalid');
    const events: TrainEvent[] = [];
    await assert.rejects(runTraining({ config: cfg(csv, { epochs: -1 }), storeDir: store }, { onEvent: (e) => events.push(e) }), FewShotError);
    assert.equal(events.length, 1);
    assert.equal(events[0].type, 'error');
    assert.ok(!fs.existsSync(path.join(store, 'runs')) || fs.readdirSync(path.join(store, 'runs')).length === 0);
  });

  it('without a test split and with tiny classes: cross-validated report and CV model selection', async () => {
    const ds = writeFolderDataset(path.join(dir, 'tiny'), 3);
    const store = path.join(dir, 'store-cv');
    const events: TrainEvent[] = [];
    const record = await runTraining({ config: cfg(ds, { epochs: 5, head: 'logreg' }), storeDir: store }, { onEvent: (e) => events.push(e) });
    assert.equal(record.status, 'completed', JSON.stringify(record.error));
    assert.equal(record.dataset!.testSource, 'cross-validation');
    const runDir = path.join(store, 'runs', record.id);
    const report = JSON.parse(fs.readFileSync(path.join(runDir, 'report.json'), 'utf8')) as ClassificationReport;
    assert.equal(report.split, 'cross-validation');
    const preds = readJsonl<TestPrediction>(path.join(runDir, 'predictions.jsonl'));
    assert.equal(preds.length, 9, 'every example predicted out of fold');
    assert.deepEqual(preds.map((p) => p.index).sort((a, b) => a - b), Array.from({ length: 9 }, (_, i) => i));
    assert.deepEqual(report, classificationReport(preds.map((p) => p.label), preds.map((p) => p.predicted), LABELS, 'cross-validation'));
    assert.match(fs.readFileSync(path.join(runDir, 'report.txt'), 'utf8'), /cross-validation/);
    // epochs were chosen by 3-fold CV on the training split: 5 mean epoch lines, each sent when the last fold reached it
    assert.deepEqual(record.progress, { unit: 'epoch', total: 5, validation: '3-fold CV over the training split, mean over folds' });
    const metrics = readJsonl<EpochMetrics>(path.join(runDir, 'metrics.jsonl'));
    assert.deepEqual(metrics.map((m) => m.epoch), [1, 2, 3, 4, 5]);
    assert.ok(metrics.every((m, i) => i === 0 || m.elapsedMs >= metrics[i - 1].elapsedMs));
    const foldMsgs = events.filter((e) => e.type === 'progress' && /^Cross-validating epochs: fold 1 of 3, epoch \d\/5/.test(e.message ?? ''));
    assert.equal(foldMsgs.length, 5, 'fold progress is streamed per epoch');
    assert.ok(record.bestEpoch! >= 1 && record.bestEpoch! <= 5);
    assert.ok(fs.existsSync(path.join(runDir, 'model', 'head.json')));
  });
});
