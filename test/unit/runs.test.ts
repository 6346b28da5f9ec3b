import * as assert from 'node:assert/strict';
import { promises as fsp, readdirSync, existsSync, readFileSync, writeFileSync, appendFileSync, mkdirSync } from 'node:fs';
import * as path from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import * as os from 'node:os';
import {
  RunStore, readModel, writeJsonAtomic, makeRunId, RUN_ID_PATTERN, datasetSlug, isRunId, compareRuns, normaliseRecord,
  resolveRunRef, HEARTBEAT_STALE_MS, hasModel, parseMetricsLines, runFile, runFileExists,
} from '../../src/core/runs';
import { listRuns, loadRun } from '../../src/core/compare';
import { listModelRuns } from '../../src/extension/predict/runs';
import { runIdOf } from '../../src/extension/compare/args';
import { classificationReport } from '../../src/core/metrics';
import { FewShotError } from '../../src/core/errors';
import { RUN_FORMAT_VERSION, type EpochMetrics, type ModelFile, type TestPrediction, type TrainConfig } from '../../src/protocol/run';
import { makeTempDir, removeDir } from './helpers/datasets-fixtures';

const config = (dataset = '/ws/data/clinical-notes'): TrainConfig => ({
  dataset, encoder: 'hashing', head: 'logreg', epochs: 10, learningRate: 0.01, batchSize: 16, seed: 1,
  augment: 0, classWeighting: true, patience: 3, validationFraction: 0.2, backend: 'auto',
});
const epoch = (n: number): EpochMetrics => ({ epoch: n, loss: 1 / n, valLoss: 1.1 / n, valMacroF1: 0.5 + n / 100, valAccuracy: 0.6, perClassRecall: { a: 0.5, b: 0.7 }, elapsedMs: n * 10 });
const noTmpFiles = (dir: string) => assert.deepEqual(readdirSync(dir).filter((f) => f.endsWith('.tmp')), []);

describe('runs: ids', () => {
  it('YYYYMMDD-HHMMSS-<dataset name>-<4 hex>', () => {
    const id = makeRunId('/ws/data/My Notes.csv', new Date(Date.UTC(2026, 0, 2, 3, 4, 5)));
    assert.match(id, /^20260102-030405-My-Notes-[0-9a-f]{4}$/);
    assert.match(id, RUN_ID_PATTERN);
    assert.equal(datasetSlug('/ws/数据/分诊.csv'), '分诊');
    assert.equal(datasetSlug('/ws/data/clinical-notes/'), 'clinical-notes');
    assert.equal(datasetSlug('/'), 'dataset');
    assert.ok(new Set(Array.from({ length: 6 }, () => makeRunId('/x/a'))).size > 1, 'random suffix');
  });
});

describe('runs: RunStore', () => {
  let ws: string;
  let store: RunStore;
  beforeEach(() => { ws = makeTempDir('fsl-runs-'); store = new RunStore(path.join(ws, '.fewshot')); });
  afterEach(() => removeDir(ws));

  it('create writes a running run.json and an empty metrics.jsonl', async () => {
    const { id, dir, record } = await store.create(config());
    assert.match(id, /^\d{8}-\d{6}-clinical-notes-[0-9a-f]{4}$/);
    assert.equal(dir, path.join(ws, '.fewshot', 'runs', id));
    assert.equal(store.runsDir, path.join(ws, '.fewshot', 'runs'));
    assert.equal(store.dirOf(id), dir);
    assert.equal(record.status, 'running');
    assert.equal(record.formatVersion, RUN_FORMAT_VERSION);
    assert.deepEqual(record.config, config());
    assert.ok(!Number.isNaN(Date.parse(record.createdAt)));
    assert.deepEqual(JSON.parse(readFileSync(path.join(dir, 'run.json'), 'utf8')), record);
    assert.equal(readFileSync(path.join(dir, 'metrics.jsonl'), 'utf8'), '');
    assert.deepEqual(await store.read(id), record);
    noTmpFiles(dir);
  });

  it('create with a given id refuses an existing one', async () => {
    const { id } = await store.create(config(), 'my-run');
    assert.equal(id, 'my-run');
    await assert.rejects(store.create(config(), 'my-run'), (e: unknown) => e instanceof FewShotError && e.opts.code === 'run-exists' && !!e.opts.fix);
  });

  it('update merges atomically (timings/versions key by key), also under concurrency', async () => {
    const { id, dir } = await store.create(config());
    await store.update(id, { timings: { loadMs: 5 }, versions: { tfjs: '4.22.0' } });
    const keys = ['embedMs', 'trainMs', 'evalMs', 'totalMs', 'firstEpochMs'] as const;
    await Promise.all(keys.map((k, i) => store.update(id, { timings: { [k]: i + 1 } })));
    const r = await store.update(id, { status: 'completed', testMacroF1: 0.8 });
    assert.deepEqual(r.timings, { loadMs: 5, embedMs: 1, trainMs: 2, evalMs: 3, totalMs: 4, firstEpochMs: 5 });
    assert.equal(r.versions.tfjs, '4.22.0');
    assert.equal(r.versions.node, process.versions.node);
    assert.equal(r.status, 'completed');
    assert.deepEqual(await store.read(id), r);
    noTmpFiles(dir);
  });

  it('appendEpoch appends lines; readMetrics tolerates a torn last line; a later append still works', async () => {
    const { id, dir } = await store.create(config());
    for (let n = 1; n <= 3; n++) await store.appendEpoch(id, epoch(n));
    assert.deepEqual(await store.readMetrics(id), [epoch(1), epoch(2), epoch(3)]);
    appendFileSync(path.join(dir, 'metrics.jsonl'), '{"epoch":4,"loss":0.2');  // crash mid-write
    assert.deepEqual((await store.readMetrics(id)).map((m) => m.epoch), [1, 2, 3]);
    await store.appendEpoch(id, epoch(5));
    assert.deepEqual((await store.readMetrics(id)).map((m) => m.epoch), [1, 2, 3, 5]);
  });

  it('readMetrics/readPredictions of a run without those files are empty; readReport is null', async () => {
    const { id, dir } = await store.create(config());
    await fsp.rm(path.join(dir, 'metrics.jsonl'));
    assert.deepEqual(await store.readMetrics(id), []);
    assert.deepEqual(await store.readPredictions(id), []);
    assert.equal(await store.readReport(id), null);
  });

  it('writeReport writes report.json, report.txt and confusion.json', async () => {
    const { id, dir } = await store.create(config());
    const report = classificationReport(['a', 'b', 'a'], ['a', 'a', 'a']);
    await store.writeReport(id, report);
    assert.deepEqual(await store.readReport(id), JSON.parse(JSON.stringify(report)));
    assert.equal(readFileSync(path.join(dir, 'report.txt'), 'utf8'), report.text);
    assert.deepEqual(JSON.parse(readFileSync(path.join(dir, 'confusion.json'), 'utf8')), { labels: ['a', 'b'], matrix: [[2, 0], [1, 0]] });
    noTmpFiles(dir);
  });

  it('writePredictions / readPredictions round-trip', async () => {
    const { id } = await store.create(config());
    const preds: TestPrediction[] = [
      { index: 0, text: 'chest pain\nline 2', label: 'a', predicted: 'a', probabilities: { a: 0.9, b: 0.1 }, file: '/x.csv', line: 2 },
      { index: 1, text: '咳嗽', label: 'b', predicted: 'a', probabilities: { a: 0.6, b: 0.4 } },
    ];
    await store.writePredictions(id, preds);
    assert.deepEqual(await store.readPredictions(id), preds);
  });

  it('writeModel / readModel round-trip; readModel names the file when missing or invalid', async () => {
    const { id, dir } = await store.create(config());
    const model: ModelFile = {
      formatVersion: RUN_FORMAT_VERSION, labels: ['a', 'b'], head: 'logreg',
      encoder: { id: 'hashing-char-1-4-2048', requested: 'auto', dim: 4, reason: 'test' },
      weights: [{ name: 'W', shape: [4, 2], values: [1, 2, 3, 4, 5, 6, 7, 8] }, { name: 'b', shape: [2], values: [0, 0] }],
    };
    await store.writeModel(id, model);
    assert.deepEqual(await readModel(dir), model);
    assert.deepEqual(await readModel(path.join(dir, 'model')), model);
    const other = (await store.create(config())).dir;
    await assert.rejects(readModel(other), (e: unknown) => e instanceof FewShotError && e.opts.code === 'model-missing' && e.message.includes(path.join(other, 'model', 'head.json')));
    writeFileSync(path.join(other, 'model.json'), '');
    mkdirSync(path.join(other, 'model'));
    writeFileSync(path.join(other, 'model', 'head.json'), '{"labels": 3}');
    await assert.rejects(readModel(other), (e: unknown) => e instanceof FewShotError && e.opts.code === 'model-invalid');
  });

  it('saveResults writes the model, predictions and (with a report) the report files with the given text', async () => {
    const { id, dir } = await store.create(config());
    const model: ModelFile = { formatVersion: RUN_FORMAT_VERSION, labels: ['a', 'b'], head: 'centroid', encoder: { id: 'hashing', requested: 'hashing', dim: 2, reason: '' }, weights: [] };
    const preds: TestPrediction[] = [{ index: 0, text: 'x', label: 'a', predicted: 'b', probabilities: { a: 0.4, b: 0.6 } }];
    assert.equal(await hasModel(dir), false);
    await store.saveResults(id, { model, predictions: preds, report: null });
    assert.equal(await hasModel(dir), true);
    assert.deepEqual(await readModel(dir), model);
    assert.deepEqual(await store.readPredictions(id), preds);
    assert.equal(await store.readReport(id), null);
    assert.equal(await store.readReportText(id), undefined);
    assert.equal(await runFileExists(dir, 'confusion'), false);
    const report = classificationReport(['a'], ['b'], ['a', 'b']);
    await store.saveResults(id, { model, predictions: [], report, reportText: 'note\n' + report.text });
    assert.deepEqual(await store.readPredictions(id), []);
    assert.equal(readFileSync(store.fileOf(id, 'predictions'), 'utf8'), '');
    assert.deepEqual(await store.readReport(id), JSON.parse(JSON.stringify(report)));
    assert.equal(await store.readReportText(id), 'note\n' + report.text);
    assert.deepEqual(JSON.parse(readFileSync(runFile(dir, 'confusion'), 'utf8')).labels, ['a', 'b']);
    noTmpFiles(dir);
    noTmpFiles(path.join(dir, 'model'));
  });

  it('readMetricsWithProblems: the lines readMetrics skips, by line and why; a missing file is empty', async () => {
    const { id, dir } = await store.create(config());
    writeFileSync(store.fileOf(id, 'metrics'), `${JSON.stringify(epoch(2))}\nnot json\n\n{"loss":1}\n${JSON.stringify(epoch(1))}\n{"epoch":3,"lo`);
    const r = await store.readMetricsWithProblems(id);
    assert.equal(r.file, path.join(dir, 'metrics.jsonl'));
    assert.deepEqual(r.metrics.map((m) => m.epoch), [2, 1], 'file order');
    assert.deepEqual(r.problems, [{ line: 2, problem: 'invalid-json' }, { line: 4, problem: 'no-epoch' }, { line: 6, problem: 'incomplete' }]);
    assert.deepEqual(await store.readMetrics(id), r.metrics);
    assert.deepEqual(parseMetricsLines('[1]\n"x"\n').problems, [{ line: 1, problem: 'no-epoch' }, { line: 2, problem: 'invalid-json' }]);
    await fsp.rm(store.fileOf(id, 'metrics'));
    assert.deepEqual(await store.readMetricsWithProblems(id), { file: r.file, metrics: [], problems: [] });
  });

  it('signature changes with run.json, metrics.jsonl and report.json, not with the heartbeat', async () => {
    const { id } = await store.create(config());
    const s0 = await store.signature(id);
    assert.match(s0, /^[\d.]+\/\d+:[\d.]+\/0:-$/);
    writeFileSync(store.fileOf(id, 'heartbeat'), 'beat\n');
    assert.equal(await store.signature(id), s0);
    await store.appendEpoch(id, epoch(1));
    const s1 = await store.signature(id);
    assert.notEqual(s1, s0);
    await store.writeReport(id, classificationReport(['a'], ['a'], ['a', 'b']));
    assert.notEqual(await store.signature(id), s1);
    assert.equal(await store.signature('no-such-run'), '-:-:-');
    assert.equal(await store.signature('../escape'), '-:-:-');
  });

  it('list: newest first; half-written, missing and corrupt runs come back with an error', async () => {
    assert.deepEqual(await store.list(), []); // no runs folder yet
    const a = await store.create(config('/d/a'), '20260101-100000-a-0001');
    const b = await store.create(config('/d/b'), '20260101-110000-b-0002');
    await store.update(a.id, { createdAt: '2026-01-01T10:00:00.000Z' });
    await store.update(b.id, { createdAt: '2026-01-01T11:00:00.000Z' });
    const runs = store.runsDir;
    mkdirSync(path.join(runs, '20260101-120000-torn-0003'));
    writeFileSync(path.join(runs, '20260101-120000-torn-0003', 'run.json'), '{"formatVersion":1,"id":"20260101-120000-to');
    mkdirSync(path.join(runs, '20260101-090000-empty-0004'));
    writeFileSync(path.join(runs, 'stray-file.txt'), 'x');
    mkdirSync(path.join(runs, '.tmp-folder'));
    const list = await store.list();
    assert.deepEqual(list.map((r) => r.id), ['20260101-120000-torn-0003', b.id, a.id, '20260101-090000-empty-0004']);
    assert.match(list[0].error!, /not valid JSON/);
    assert.match(list[3].error!, /does not exist/);
    assert.equal(list[0].record, undefined);
    assert.equal(list[1].record?.config.dataset, '/d/b');
    assert.equal(list[1].error, undefined);
    assert.equal(list[1].dir, b.dir);
    await assert.rejects(store.read('20260101-120000-torn-0003'), (e: unknown) => e instanceof FewShotError && e.opts.code === 'run-file-corrupt');
  });

  it('rename sets and clears record.name; delete removes the folder', async () => {
    const { id, dir } = await store.create(config());
    assert.equal((await store.rename(id, '  baseline  ')).name, 'baseline');
    assert.equal((await store.read(id)).name, 'baseline');
    assert.equal((await store.rename(id, '')).name, undefined);
    await store.delete(id);
    assert.equal(existsSync(dir), false);
    assert.deepEqual(await store.list(), []);
  });

  it('rejects ids that would escape the runs folder', async () => {
    writeFileSync(path.join(ws, 'keep.txt'), 'x');
    for (const bad of ['..', '../keep.txt', 'a/b', '', '.hidden']) {
      assert.throws(() => store.dirOf(bad), FewShotError);
      await assert.rejects(store.delete(bad), FewShotError);
    }
    assert.ok(existsSync(path.join(ws, 'keep.txt')));
  });

  it('reads the shared fixture runs (newest first, legacy format mapped, corrupt one flagged)', async () => {
    const fixtures = new RunStore(path.resolve(__dirname, '../../../test/fixtures'));
    const list = await fixtures.list();
    assert.deepEqual(list.map((r) => r.id), [
      '20261103-080000-news-beef', '20261102-120000-news-dead', '20261102-090000-news-e5f6',
      '20261101-110000-news-c3d4', '20261101-100000-news-a1b2', '20250301-090000-legacy-0001',
    ]);
    assert.ok(list[1].error);
    const legacy = list[5].record!;
    assert.equal(legacy.config.dataset, '/data/news');
    assert.equal(legacy.config.learningRate, 0.02);
    assert.equal(legacy.testMacroF1, 0.68);
    const m = await fixtures.readMetrics('20250301-090000-legacy-0001');
    assert.deepEqual(m.map((x) => x.valMacroF1), [0.55, 0.66, 0.7, 0.69]);
    const half = await fixtures.readMetrics('20261103-080000-news-beef');
    assert.ok(half.length > 0 && half.every((x) => typeof x.epoch === 'number'));
  });
});

describe('runs: writeJsonAtomic', () => {
  let dir: string;
  beforeEach(() => { dir = makeTempDir('fsl-atomic-'); });
  afterEach(() => removeDir(dir));
  it('creates folders, replaces the file and leaves no temp files', async () => {
    const f = path.join(dir, 'a', 'b', 'x.json');
    await writeJsonAtomic(f, { v: 1 });
    await writeJsonAtomic(f, { v: 2, s: '中文' });
    assert.deepEqual(JSON.parse(readFileSync(f, 'utf8')), { v: 2, s: '中文' });
    noTmpFiles(path.dirname(f));
  });
  it('keeps the old file when serialisation fails', async () => {
    const f = path.join(dir, 'x.json');
    await writeJsonAtomic(f, { v: 1 });
    const cyclic: Record<string, unknown> = {}; cyclic.self = cyclic;
    await assert.rejects(writeJsonAtomic(f, cyclic));
    assert.deepEqual(JSON.parse(readFileSync(f, 'utf8')), { v: 1 });
    noTmpFiles(dir);
  });
  it('concurrent writers never leave a torn file', async () => {
    const f = path.join(dir, 'c.json');
    const big = (n: number) => ({ n, pad: 'x'.repeat(200_000 + n) });
    await Promise.all(Array.from({ length: 8 }, (_, i) => writeJsonAtomic(f, big(i))));
    const v = JSON.parse(readFileSync(f, 'utf8'));
    assert.equal(v.pad.length, 200_000 + v.n);
    noTmpFiles(dir);
  });
});

/** Polls `f` until it returns a value other than undefined (visible state, no fixed sleeps). */
async function until<T>(what: string, f: () => Promise<T | undefined>, timeoutMs = 8000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await f();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('runs: one id rule, one valid-run rule, one order', () => {
  let ws: string;
  let store: RunStore;
  beforeEach(() => { ws = makeTempDir('fsl-runs-rules-'); store = new RunStore(path.join(ws, '.fewshot')); });
  afterEach(() => removeDir(ws));

  it('isRunId: any folder name that stays in runs/ and is not hidden; the Compare arguments use the same rule', () => {
    for (const ok of [makeRunId('/d/x'), 'my-run', '分诊 run 1', '20250301-090000-legacy-0001']) assert.equal(isRunId(ok), true, ok);
    for (const bad of ['', '.', '..', '.hidden', 'a/b', 'a\\b', 'x\0y', 'x'.repeat(201)]) assert.equal(isRunId(bad), false, JSON.stringify(bad));
    assert.equal(runIdOf('.hidden'), undefined);
    assert.equal(runIdOf('/ws/.fewshot/runs/my-run'), 'my-run');
    assert.throws(() => store.dirOf('.hidden'), /is not a run id/);
  });

  it('normaliseRecord: a run.json is a run when it holds training settings; anything else is not', () => {
    for (const bad of [null, 3, 'x', [], {}, { status: 'completed' }, { config: 'x' }, { settings: [] }]) assert.equal(normaliseRecord(bad, 'r'), null, JSON.stringify(bad));
    const legacy = normaliseRecord({ status: 'done?', created_at: '2025-01-01T00:00:00Z', settings: { dataset_path: '/d', lr: 0.1 }, test_f1: 0.5 }, 'r')!;
    assert.equal(legacy.formatVersion, 0);
    assert.equal(legacy.status, 'completed');
    assert.equal(legacy.config.dataset, '/d');
    assert.equal(legacy.config.learningRate, 0.1);
    assert.equal(legacy.testMacroF1, 0.5);
    assert.equal(legacy.createdAt, '2025-01-01T00:00:00Z');
  });

  it('compareRuns: newest createdAt first, else the time in the id, ties by id (descending)', () => {
    const rows = [
      { id: '20260101-100000-a-0001', record: { createdAt: '2026-01-03T00:00:00Z' } },
      { id: '20260105-100000-b-0002' },
      { id: 'zz', record: { createdAt: '2026-01-03T00:00:00Z' } },
      { id: 'no-time' },
    ];
    assert.deepEqual([...rows].sort(compareRuns).map((r) => r.id), ['20260105-100000-b-0002', 'zz', '20260101-100000-a-0001', 'no-time']);
  });

  it('the store, Compare and the model picker list the same runs in the same order', async () => {
    const fixtures = path.resolve(__dirname, '../../../test/fixtures/runs');
    await fsp.cp(fixtures, store.runsDir, { recursive: true });
    const mk = async (id: string, createdAt: string, status: string, model: boolean) => {
      await store.create(config('/d/' + id), id);
      await store.update(id, { createdAt, status: status as 'completed' });
      if (model) await store.writeModel(id, { formatVersion: 1, labels: ['a', 'b'], encoder: { id: 'hashing', requested: 'hashing', dim: 2, reason: '' }, head: 'centroid', weights: [] });
    };
    await mk('x-completed', '2026-12-01T00:00:00Z', 'completed', true);
    await mk('x-failed', '2026-12-02T00:00:00Z', 'failed', true);
    await mk('x-nomodel', '2026-12-03T00:00:00Z', 'completed', false);
    mkdirSync(path.join(store.runsDir, '.hidden'));
    const ids = (await store.list()).map((r) => r.id);
    assert.deepEqual(ids.slice(0, 3), ['x-nomodel', 'x-failed', 'x-completed']);
    assert.ok(!ids.includes('.hidden'));
    assert.deepEqual((await listRuns(store.runsDir)).map((r) => r.id), ids);
    assert.deepEqual((await listRuns(store)).map((r) => r.id), ids);
    // usable for predict: completed with model/head.json, same order
    assert.deepEqual((await listModelRuns(store.storeDir)).map((r) => r.id), ['x-completed']);
  });

  it('resolveRunRef: folder, id, unique prefix or suffix; ambiguous and unknown refs are clear errors', async () => {
    await store.create(config(), '20260101-100000-a-0a0a');
    await store.create(config(), '20260101-110000-b-0b0b');
    assert.equal(await resolveRunRef(store, '20260101-100000-a-0a0a', ws), store.dirOf('20260101-100000-a-0a0a'));
    assert.equal(await resolveRunRef(store, '0b0b', ws), store.dirOf('20260101-110000-b-0b0b'));
    assert.equal(await resolveRunRef(store, '20260101-10', ws), store.dirOf('20260101-100000-a-0a0a'));
    assert.equal(await resolveRunRef(store, path.join('.fewshot', 'runs', '20260101-100000-a-0a0a'), ws), store.dirOf('20260101-100000-a-0a0a'));
    await assert.rejects(resolveRunRef(store, '20260101', ws), (e: unknown) => e instanceof FewShotError && e.opts.code === 'run-ambiguous');
    await assert.rejects(resolveRunRef(store, 'nope', ws), (e: unknown) => e instanceof FewShotError && e.opts.code === 'run-missing' && !!e.opts.fix);
  });
});

describe('runs: interrupted runs', function () {
  this.timeout(30_000);
  let ws: string;
  let store: RunStore;
  const children: ChildProcess[] = [];
  beforeEach(() => { ws = makeTempDir('fsl-runs-live-'); store = new RunStore(path.join(ws, '.fewshot')); });
  afterEach(() => {
    for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    removeDir(ws);
  });

  /** Starts a child node process that claims `id` and waits until it says so. */
  async function claimInChild(id: string): Promise<ChildProcess> {
    const child = spawn(process.execPath, [path.join(__dirname, 'helpers', 'claimChild.js'), store.storeDir, id], { stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    let out = '';
    let err = '';
    child.stdout!.on('data', (d) => { out += d; });
    child.stderr!.on('data', (d) => { err += d; });
    await until('the child to claim the run', async () => (out.includes('claimed') ? true : child.exitCode !== null ? (() => { throw new Error(`child exited: ${err}`); })() : undefined));
    return child;
  }

  it('a run claimed by a live process reads running, and its heartbeat keeps beating', async () => {
    const { id, dir } = await store.create(config());
    const claim = await store.claim(id);
    try {
      const rec = await store.read(id);
      assert.equal(rec.status, 'running');
      assert.deepEqual({ pid: rec.owner?.pid, host: rec.owner?.host }, { pid: process.pid, host: os.hostname() });
      const first = readFileSync(path.join(dir, 'heartbeat'), 'utf8');
      await until('the heartbeat to be rewritten', async () => (readFileSync(path.join(dir, 'heartbeat'), 'utf8') !== first ? true : undefined));
      assert.equal((await store.list())[0].record?.status, 'running');
      assert.equal((await loadRun(store, id)).record?.status, 'running');
    } finally { claim.stop(); }
  });

  it('reads interrupted everywhere as soon as the owner process is killed (SIGKILL), without rewriting run.json', async () => {
    const { id, dir } = await store.create(config());
    const child = await claimInChild(id);
    assert.equal((await store.read(id)).status, 'running', 'alive while the owner lives');
    assert.equal((await store.read(id)).owner?.pid, child.pid);
    child.kill('SIGKILL');
    const rec = await until('the run to read interrupted', async () => {
      const r = await store.read(id);
      return r.status === 'interrupted' ? r : undefined;
    });
    assert.match(rec.error?.message ?? '', new RegExp(`pid ${child.pid}`));
    assert.equal((await store.list()).find((r) => r.id === id)?.record?.status, 'interrupted');
    const loaded = await loadRun(store.runsDir, id);
    assert.equal(loaded.record?.status, 'interrupted');
    assert.ok(loaded.notices.some((n) => n.severity === 'warning' && /interrupted/.test(n.message)));
    // derived, not persisted: the file still says what the trainer wrote; a rename keeps it so
    await store.rename(id, 'renamed');
    assert.equal(JSON.parse(readFileSync(path.join(dir, 'run.json'), 'utf8')).status, 'running');
    assert.equal((await store.read(id)).status, 'interrupted');
  });

  it('an owner on another host (or a reused pid) is judged by the heartbeat: stale → interrupted, fresh → running', async () => {
    const { id, dir } = await store.create(config());
    await store.update(id, { owner: { pid: process.pid, host: `${os.hostname()}-elsewhere`, startedAt: new Date().toISOString() } });
    const past = new Date(Date.now() - HEARTBEAT_STALE_MS - 5_000);
    writeFileSync(path.join(dir, 'heartbeat'), 'x');
    for (const f of ['heartbeat', 'run.json', 'metrics.jsonl']) await fsp.utimes(path.join(dir, f), past, past);
    assert.equal((await store.read(id)).status, 'interrupted');
    writeFileSync(path.join(dir, 'heartbeat'), new Date().toISOString());
    assert.equal((await store.read(id)).status, 'running');
    // a run that finished stays finished, whatever its owner
    await store.update(id, { status: 'completed' });
    for (const f of ['heartbeat', 'run.json', 'metrics.jsonl']) await fsp.utimes(path.join(dir, f), past, past);
    assert.equal((await store.read(id)).status, 'completed');
  });

  it('a running run without an owner (made before owners were recorded) is interrupted once its files go quiet', async () => {
    const { id, dir } = await store.create(config());
    assert.equal((await store.read(id)).status, 'running', 'just created: not yet claimed');
    const past = new Date(Date.now() - HEARTBEAT_STALE_MS - 5_000);
    for (const f of ['run.json', 'metrics.jsonl']) await fsp.utimes(path.join(dir, f), past, past);
    assert.equal((await store.read(id)).status, 'interrupted');
  });
});
