import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  annotateRun, assignColourSlots, bestValues, bestVsLast, buildCompareModel, colourForSlot, decimate, listRuns, loadRun,
  minRecall, parseMetricsJsonl, RUN_PALETTE, settingsDiff, sortRows, tableRow, tableToCsv, tableToMarkdown, type LoadedRun,
} from '../../src/core/compare';
import { HEARTBEAT_STALE_MS, RUN_FILES, RunStore } from '../../src/core/runs';
import type { EpochMetrics } from '../../src/protocol/run';
import { DEFAULT_CONFIG } from '../../src/core/config';
import { runTraining } from '../../src/core/train';
import { shapesDir } from './helpers/imageRun';

// Fixture runs live in the repo; tests copy them to a temp folder before writing.
function fixturesDir(): string {
  let dir = __dirname;
  for (let i = 0; i < 6; i++) {
    const p = path.join(dir, 'test', 'fixtures', 'runs');
    if (fs.existsSync(p)) return p;
    dir = path.dirname(dir);
  }
  throw new Error('test/fixtures/runs not found');
}
const FIX = fixturesDir();
const A = '20261101-100000-news-a1b2';
const B = '20261101-110000-news-c3d4';
const C = '20261102-090000-news-e5f6';
const DEAD = '20261102-120000-news-dead';
const HALF = '20261103-080000-news-beef';
const OLD = '20250301-090000-legacy-0001';
/** A few-shot ensemble run (points are CV-scored candidate configurations), in its own fixture folder. */
const FS_DIR = path.join(path.dirname(FIX), 'runs-fewshot');
const FS = '20261105-090000-news-fs01';

function ep(epoch: number, valMacroF1: number | null, loss = 1): EpochMetrics {
  return { epoch, loss, valLoss: null, valMacroF1, valAccuracy: null, perClassRecall: {}, elapsedMs: epoch * 10 };
}

describe('compare: best vs last epoch', () => {
  it('takes the highest validation macro-F1 and the last epoch', () => {
    const r = bestVsLast([ep(1, 0.5), ep(2, 0.9), ep(3, 0.7)]);
    assert.deepEqual(r, { bestEpoch: 2, bestValMacroF1: 0.9, lastEpoch: 3, lastValMacroF1: 0.7 });
  });
  it('keeps the first epoch on ties and prefers run.json bestEpoch when it exists in the metrics', () => {
    assert.equal(bestVsLast([ep(1, 0.8), ep(2, 0.8)]).bestEpoch, 1);
    assert.equal(bestVsLast([ep(1, 0.8), ep(2, 0.8)], { bestEpoch: 2 }).bestEpoch, 2);
    // a bestEpoch that is not in the metrics falls back to the argmax
    assert.equal(bestVsLast([ep(1, 0.6), ep(2, 0.8)], { bestEpoch: 9 }).bestEpoch, 2);
  });
  it('falls back to run.json without metrics, and skips epochs without validation', () => {
    assert.deepEqual(bestVsLast([], { bestEpoch: 4, bestValMacroF1: 0.7, epochsRun: 6 }), { bestEpoch: 4, bestValMacroF1: 0.7, lastEpoch: 6, lastValMacroF1: null });
    assert.deepEqual(bestVsLast([ep(1, null), ep(2, 0.4), ep(3, null)]), { bestEpoch: 2, bestValMacroF1: 0.4, lastEpoch: 3, lastValMacroF1: null });
  });
  it('reads the fixture runs: best 8 (0.80) vs last 12 (0.7667); best = last 15 (0.86)', async () => {
    const a = await loadRun(FIX, A);
    assert.deepEqual(bestVsLast(a.metrics, a.record), { bestEpoch: 8, bestValMacroF1: 0.8, lastEpoch: 12, lastValMacroF1: 0.7667 });
    const b = await loadRun(FIX, B);
    assert.deepEqual(bestVsLast(b.metrics, b.record), { bestEpoch: 15, bestValMacroF1: 0.86, lastEpoch: 15, lastValMacroF1: 0.86 });
  });
});

describe('compare: min per-class recall', () => {
  it('finds the lowest recall and its class, first label on ties', async () => {
    assert.deepEqual(minRecall((await loadRun(FIX, A)).report), { recall: 0.8, label: 'politics' });
    assert.deepEqual(minRecall((await loadRun(FIX, B)).report), { recall: 0.8, label: 'tech' });
    assert.deepEqual(minRecall((await loadRun(FIX, C)).report), { recall: 0.7, label: 'politics' });
    assert.equal(minRecall(null), null);
  });
});

describe('compare: settings diff', () => {
  it('lists differing settings and the dataset fingerprint first', async () => {
    const runs = await Promise.all([A, B, C].map((id) => loadRun(FIX, id)));
    const all = settingsDiff(runs);
    assert.equal(all[0].key, 'dataset.fingerprint');
    assert.deepEqual(all[0].values, ['fp-news-1111', 'fp-news-1111', 'fp-news-2222']);
    assert.equal(all[0].differs, true);
    const seed = all.find((r) => r.key === 'config.seed');
    assert.deepEqual(seed, { key: 'config.seed', values: ['42', '42', '42'], differs: false });
    const only = settingsDiff(runs, true).map((r) => r.key);
    assert.deepEqual(only, ['dataset.fingerprint', 'config.dataset', 'config.encoder', 'config.head', 'config.learningRate', 'encoder.id', 'backend.name']);
    const lr = settingsDiff(runs, true).find((r) => r.key === 'config.learningRate');
    assert.deepEqual(lr?.values, ['0.01', '0.005', '0.01']);
  });
  it('shows nothing differing for a run against itself', async () => {
    const a = await loadRun(FIX, A);
    assert.deepEqual(settingsDiff([a, a], true), []);
  });
});

describe('compare: settings a run does not use, and progress units', () => {
  it('shows n/a for the settings the run\'s algorithm does not use (few-shot ensemble: no epochs, learning rate, batch size…)', async () => {
    const fs1 = await loadRun(FS_DIR, FS);
    const a = await loadRun(FIX, A);
    const rows = settingsDiff([a, fs1]);
    const val = (k: string) => rows.find((r) => r.key === k)?.values;
    for (const k of ['epochs', 'learningRate', 'batchSize', 'patience', 'validationFraction', 'backend']) {
      assert.equal(val(`config.${k}`)?.[1], 'n/a', `config.${k}`);
      assert.notEqual(val(`config.${k}`)?.[0], 'n/a', `config.${k} of the logreg run`);
    }
    assert.deepEqual(val('config.epochs'), ['60', 'n/a']);
    assert.equal(rows.find((r) => r.key === 'config.epochs')?.differs, true);
    // Settings every head uses, and those the ensemble uses, keep their values.
    assert.deepEqual(val('config.seed'), ['42', '42']);
    assert.deepEqual(val('config.classWeighting'), ['true', 'true']);
    assert.deepEqual(val('config.passages'), ['n/a', 'true']); // the tfjs logreg head has no passages
  });

  it('decides from HEAD_SETTINGS of the head setting for runs without a recorded algorithm', async () => {
    const fs1 = await loadRun(FS_DIR, FS);
    const old = { ...fs1, record: { ...fs1.record!, algorithm: undefined } };
    assert.equal(settingsDiff([old]).find((r) => r.key === 'config.epochs')?.values[0], 'n/a');
    const centroid = { ...old, record: { ...old.record, config: { ...old.record.config, head: 'centroid' as const } } };
    const values = (k: string) => settingsDiff([centroid]).find((r) => r.key === k)?.values[0];
    assert.equal(values('config.classWeighting'), 'n/a');
    assert.equal(values('config.augment'), '0');
    const b = await loadRun(FIX, B);
    assert.deepEqual(settingsDiff([b]).filter((r) => r.values[0] === 'n/a').map((r) => r.key), []);
  });

  it('keeps each point\'s unit and label, and gives curves and rows the run\'s unit and validation', async () => {
    const fs1 = await loadRun(FS_DIR, FS);
    assert.deepEqual(fs1.metrics.map((m) => m.unit), Array(6).fill('configuration'));
    assert.equal(fs1.metrics[3].label, 'IDF on · block weights 0.50/0.50 · C=10');
    const { model } = await buildCompareModel(FIX, [A]);
    assert.equal(model.runs[0].unit, 'epoch');
    assert.equal(model.rows[0].unit, 'epoch');
    assert.equal(model.rows[0].validation, undefined);
    const m2 = (await buildCompareModel(FS_DIR, [FS])).model;
    assert.equal(m2.runs[0].unit, 'configuration');
    assert.equal(m2.runs[0].algorithm, 'fewshot-ensemble');
    assert.equal(m2.runs[0].validation, '4-fold out-of-fold predictions on the training split');
    assert.deepEqual(m2.runs[0].curves.valMacroF1.map((p) => p.x), [1, 2, 3, 4, 5, 6]);
    const row = m2.rows[0];
    assert.deepEqual([row.unit, row.bestEpoch, row.bestValMacroF1, row.lastEpoch], ['configuration', 4, 0.84, 6]);
    assert.equal(row.validation, '4-fold out-of-fold predictions on the training split');
  });

  it('reads the unit from the points when run.json does not record it', () => {
    const text = '{"epoch":1,"unit":"configuration","label":"C=1","loss":0.5,"valMacroF1":0.7,"elapsedMs":10}\n{"epoch":2,"unit":"bogus","loss":0.4,"elapsedMs":20}\n';
    const { metrics } = parseMetricsJsonl(text, 'metrics.jsonl');
    assert.deepEqual(metrics.map((m) => [m.unit, m.label]), [['configuration', 'C=1'], [undefined, undefined]]);
  });
});

describe('compare: metrics table', () => {
  it('builds the rows with test figures, min recall class, train time and backend', async () => {
    const row = tableRow(await loadRun(FIX, A));
    assert.equal(row.name, 'baseline hashing');
    assert.equal(row.testMacroF1?.toFixed(4), '0.8347');
    assert.equal(row.testWeightedF1?.toFixed(4), '0.8347');
    assert.equal(row.testAccuracy?.toFixed(4), '0.8333');
    assert.equal(row.minRecallClass, 'politics');
    assert.equal(row.trainMs, 2400);
    assert.equal(row.backend, 'wasm');
  });
  it('highlights the best value per column (max, min for time) and sorts with missing values last', async () => {
    const rows = await Promise.all([A, B, C, HALF].map(async (id) => tableRow(await loadRun(FIX, id))));
    const best = bestValues(rows);
    assert.equal(best.testMacroF1?.toFixed(4), '0.8982');
    assert.equal(best.trainMs, 1900);
    assert.equal(best.minRecall, 0.8);
    assert.deepEqual(sortRows(rows, 'testMacroF1', true).map((r) => r.id), [B, A, C, HALF]);
    assert.deepEqual(sortRows(rows, 'testMacroF1', false).map((r) => r.id), [C, A, B, HALF]);
    assert.deepEqual(sortRows(rows, 'name', false).map((r) => r.name), ['20261101-110000-news-c3d4', '20261102-090000-news-e5f6', '20261103-080000-news-beef', 'baseline hashing']);
  });
});

describe('compare: export', () => {
  it('writes the exact CSV', async () => {
    const rows = await Promise.all([A, B].map(async (id) => tableRow(await loadRun(FIX, id))));
    assert.equal(tableToCsv(rows),
      'Run,Id,Test macro-F1,Test weighted-F1,Test accuracy,Min recall,Min recall class,Best epoch,Val macro-F1 (best),Last epoch,Val macro-F1 (last),Train time (s),Backend\r\n' +
      'baseline hashing,20261101-100000-news-a1b2,0.8347,0.8347,0.8333,0.8000,politics,8,0.8000,12,0.7667,2.40,wasm\r\n' +
      '20261101-110000-news-c3d4,20261101-110000-news-c3d4,0.8982,0.8982,0.9000,0.8000,tech,15,0.8600,15,0.8600,5.10,cpu\r\n');
  });
  it('quotes CSV fields with commas, quotes and newlines and leaves missing cells empty', async () => {
    const row = { ...tableRow(await loadRun(FIX, HALF)), name: 'a, "b"\nc' };
    const csv = tableToCsv([row]).split('\r\n')[1];
    assert.equal(csv, '"a, ""b""\nc",20261103-080000-news-beef,,,,,,4,0.6100,4,0.6100,,');
  });
  it('writes the exact Markdown with the best values in bold', async () => {
    const rows = await Promise.all([A, B].map(async (id) => tableRow(await loadRun(FIX, id))));
    rows[0] = { ...rows[0], name: 'baseline | hashing' };
    assert.equal(tableToMarkdown(rows),
      '| Run | Id | Test macro-F1 | Test weighted-F1 | Test accuracy | Min recall | Min recall class | Best epoch | Val macro-F1 (best) | Last epoch | Val macro-F1 (last) | Train time (s) | Backend |\n' +
      '| --- | --- | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | --- |\n' +
      '| baseline \\| hashing | 20261101-100000-news-a1b2 | 0.8347 | 0.8347 | 0.8333 | **0.8000** | politics | 8 | 0.8000 | 12 | 0.7667 | **2.40** | wasm |\n' +
      '| 20261101-110000-news-c3d4 | 20261101-110000-news-c3d4 | **0.8982** | **0.8982** | **0.9000** | **0.8000** | tech | 15 | **0.8600** | 15 | **0.8600** | 5.10 | cpu |\n');
  });
});

describe('compare: damaged, half-written and older runs', () => {
  it('reports a truncated run.json as an error naming the file, without throwing', async () => {
    const r = await loadRun(FIX, DEAD);
    assert.equal(r.record, undefined);
    assert.match(r.error ?? '', /run\.json is not valid JSON/);
    assert.equal(r.notices[0].severity, 'error');
    assert.equal(r.notices[0].file, path.join(FIX, DEAD, 'run.json'));
    assert.ok(r.notices[0].fix);
  });
  it('reads a half-written run: complete epochs kept, cut-off last line noted; still training while its owner lives, else interrupted', async () => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'fewshot-compare-half-'));
    try {
      fs.cpSync(path.join(FIX, HALF), path.join(tmp, HALF), { recursive: true });
      const store = new RunStore(path.dirname(tmp), { runsDir: tmp });
      const claim = await store.claim(HALF);
      let r: LoadedRun;
      try {
        r = await loadRun(store, HALF);
      } finally { claim.stop(); }
      assert.equal(r.health, 'partial');
      assert.deepEqual(r.metrics.map((m) => m.epoch), [1, 2, 3, 4]);
      assert.equal(r.report, null);
      assert.ok(r.notices.some((n) => /incomplete/.test(n.message)));
      assert.ok(r.notices.some((n) => /still training/.test(n.message)));
      // nothing written for longer than the heartbeat limit: its process is gone
      const past = new Date(Date.now() - HEARTBEAT_STALE_MS - 5_000);
      for (const f of fs.readdirSync(path.join(tmp, HALF))) fs.utimesSync(path.join(tmp, HALF, f), past, past);
      const gone = await loadRun(tmp, HALF);
      assert.equal(gone.record?.status, 'interrupted');
      assert.ok(gone.notices.some((n) => /interrupted/.test(n.message)));
      assert.ok(!gone.notices.some((n) => /still training/.test(n.message)));
    } finally { fs.rmSync(tmp, { recursive: true, force: true }); }
  });
  it('reads the older format best-effort and flags it', async () => {
    const r = await loadRun(FIX, OLD);
    assert.equal(r.health, 'older-format');
    assert.equal(r.record?.formatVersion, 0);
    assert.equal(r.record?.config.learningRate, 0.02);
    assert.equal(r.record?.config.batchSize, 16);
    assert.equal(r.record?.config.dataset, '/data/news');
    assert.equal(r.record?.createdAt, '2025-03-01T09:00:00.000Z');
    assert.deepEqual(r.metrics.map((m) => m.valMacroF1), [0.55, 0.66, 0.7, 0.69]);
    const row = tableRow(r);
    assert.equal(row.testMacroF1, 0.68);
    assert.equal(row.bestEpoch, 3);
    assert.equal(row.lastEpoch, 4);
    assert.equal(row.trainMs, 800);
    assert.ok(r.notices.some((n) => /older run format/.test(n.message)));
  });
  it('skips bad metrics lines in the middle with a warning that names file and line', () => {
    const r = parseMetricsJsonl('{"epoch":1,"loss":1}\nnot json\n{"epoch":2,"loss":0.5}\n', '/x/metrics.jsonl');
    assert.deepEqual(r.metrics.map((m) => m.epoch), [1, 2]);
    assert.equal(r.partial, false);
    assert.equal(r.notices[0].severity, 'warning');
    assert.match(r.notices[0].message, /\/x\/metrics\.jsonl:2/);
  });
  it('builds a model over good and bad runs: bad ones become notices, mismatch flagged', async () => {
    const { model } = await buildCompareModel(FIX, [A, B, C, DEAD, 'gone-run', HALF, OLD]);
    assert.deepEqual(model.runs.map((r) => r.id), [A, B, C, HALF, OLD]);
    assert.deepEqual(model.missing, [DEAD, 'gone-run']);
    assert.equal(model.datasetMismatch, true);
    assert.equal(model.notices[0].severity, 'warning');
    assert.match(model.notices[0].message, /different data/);
    assert.ok(model.notices.some((n) => n.runId === 'gone-run' && /no longer exists/.test(n.message)));
    assert.deepEqual(model.classes, ['politics', 'sport', 'tech']);
    assert.equal(model.runs[1].starred, true);
    assert.equal(model.runs[1].note, 'try more epochs');
    assert.equal(new Set(model.runs.map((r) => r.colour)).size, 5);
  });
  it('does not flag same-data runs', async () => {
    const { model } = await buildCompareModel(FIX, [A, B]);
    assert.equal(model.datasetMismatch, false);
    assert.deepEqual(model.datasetGroups, [{ fingerprint: 'fp-news-1111', runIds: [A, B] }]);
  });
  it('lists runs newest first with unreadable ones carrying an error', async () => {
    const list = await listRuns(FIX);
    assert.deepEqual(list.map((r) => r.id), [HALF, DEAD, C, B, A, OLD]);
    assert.ok(list.find((r) => r.id === DEAD)?.error);
    assert.deepEqual(await listRuns(path.join(FIX, 'nope')), []);
  });
});

describe('compare: annotations', () => {
  let tmp: string;
  beforeEach(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'fewshot-compare-'));
    fs.cpSync(path.join(FIX, A), path.join(tmp, A), { recursive: true });
  });
  afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('writes star, name and note into run.json and keeps the other fields', async () => {
    const before = JSON.parse(fs.readFileSync(path.join(tmp, A, 'run.json'), 'utf8'));
    await annotateRun(tmp, A, { starred: true, name: '  best so far ', note: 'good\nrun' });
    const after = JSON.parse(fs.readFileSync(path.join(tmp, A, 'run.json'), 'utf8'));
    assert.equal(after.starred, true);
    assert.equal(after.name, 'best so far');
    assert.equal(after.note, 'good\nrun');
    assert.deepEqual({ ...after, starred: undefined, name: undefined, note: undefined }, { ...before, starred: undefined, name: undefined, note: undefined });
    await annotateRun(tmp, A, { name: '', note: '' });
    const cleared = JSON.parse(fs.readFileSync(path.join(tmp, A, 'run.json'), 'utf8'));
    assert.equal('name' in cleared, false);
    assert.equal('note' in cleared, false);
    assert.deepEqual(fs.readdirSync(path.join(tmp, A)).filter((f) => f.endsWith('.tmp')), []);
  });
  it('refuses to annotate an unreadable run with a FewShotError naming the file', async () => {
    fs.writeFileSync(path.join(tmp, A, 'run.json'), '{"id":');
    await assert.rejects(annotateRun(tmp, A, { starred: true }), (e: Error) => e.name === 'FewShotError' && e.message.includes(path.join(tmp, A, 'run.json')));
    await assert.rejects(annotateRun(tmp, '../etc', { starred: true }), /not a run id/);
  });
});

describe('compare: colours and decimation', () => {
  it('keeps existing colour slots and gives new runs distinct ones', () => {
    const first = assignColourSlots(['a', 'b', 'c']);
    assert.equal(new Set(Object.values(first)).size, 3);
    const again = assignColourSlots(['c', 'd', 'a'], first);
    assert.equal(again.a, first.a);
    assert.equal(again.c, first.c);
    assert.ok(![first.a, first.c].includes(again.d));
    const many = assignColourSlots(Array.from({ length: 50 }, (_, i) => `run-${i}`));
    assert.equal(new Set(Object.values(many)).size, 50);
    assert.equal(new Set(Object.values(many).map(colourForSlot)).size, 50);
    assert.equal(colourForSlot(0), RUN_PALETTE[0]);
  });
  it('decimates long curves to the limit and keeps the first, last and peak points', () => {
    const pts = Array.from({ length: 5000 }, (_, i) => ({ x: i + 1, y: Math.sin(i / 50) + (i === 2345 ? 5 : 0) }));
    const d = decimate(pts, 400);
    assert.ok(d.length <= 400, `got ${d.length}`);
    assert.deepEqual(d[0], pts[0]);
    assert.deepEqual(d[d.length - 1], pts[pts.length - 1]);
    assert.ok(d.some((p) => p.x === 2346 && p.y > 4));
    for (let i = 1; i < d.length; i++) assert.ok(d[i].x > d[i - 1].x);
    assert.equal(decimate(pts.slice(0, 10), 400).length, 10);
  });
});

describe('compare: image runs', function () {
  this.timeout(120_000);
  it('compares two real image runs: their settings (augmentation, flip) and test figures from their own reports', async () => {
    const store = fs.mkdtempSync(path.join(os.tmpdir(), 'fsl-compare-img-'));
    try {
      const train = (augment: number, augmentFlip: boolean) =>
        runTraining({ config: { ...DEFAULT_CONFIG, dataset: shapesDir(), augment, augmentFlip }, storeDir: store }, { onEvent: () => undefined });
      const plain = await train(0, false);
      const flipped = await train(1, true);
      const runs = await Promise.all([plain.id, flipped.id].map((id) => loadRun(path.join(store, 'runs'), id)));
      const diff = settingsDiff(runs, true);
      assert.deepEqual(diff.find((r) => r.key === 'config.augment')?.values, ['0', '1']);
      assert.deepEqual(diff.find((r) => r.key === 'config.augmentFlip')?.values, ['false', 'true']);
      assert.equal(diff.find((r) => r.key === 'dataset.fingerprint'), undefined, 'the same images: one fingerprint');
      for (const [i, run] of runs.entries()) {
        const row = tableRow(run);
        const report = JSON.parse(fs.readFileSync(path.join(store, 'runs', run.id, RUN_FILES.report), 'utf8')) as { macro: { f1: number } };
        assert.equal(row.testMacroF1, report.macro.f1, `run ${i}`);
        assert.equal(run.record?.dataset?.format, 'images');
      }
    } finally {
      fs.rmSync(store, { recursive: true, force: true });
    }
  });
});
