/**
 * End to end with the real PyTorch worker (python/fewshot_worker): `fewshot train --method finetune`
 * on a tiny random BERT built here, then `fewshot predict` with no Python on PATH, then cancel.
 *
 * Needs an interpreter with torch + transformers + onnx: FEWSHOT_PYTHON (CI sets it), else the one
 * `fewshot env` would pick. Without one these tests FAIL when CI=true and are skipped (with the
 * reason) otherwise.
 */
import * as assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ClassificationReport, EpochMetrics, RunRecord, TestPrediction } from '../../src/protocol/run';
import { launchPredictor } from '../../src/trainer/launch';
import { runTraining } from '../../src/core/train';
import { FINETUNE_PROTOCOL_VERSION } from '../../src/protocol/finetune';
import { buildChildBundles, bundleEnv, readJsonl, rmrf, runCli, tempDir, type CliResult } from './helpers/trainerFixtures';
import { pathWithoutPython, requireWorkerPython, tinyModelScript, workerPythonPath } from './helpers/workerPython';

/** The CLI with exactly `env` (bundleEnv added): the tests leave python out of it. */
function cli(bin: string, args: string[], cwd: string, env: NodeJS.ProcessEnv, input = ''): Promise<CliResult> {
  return runCli(bin, args, { cwd, env, input, replaceEnv: true });
}

async function until<T>(what: string, f: () => T | undefined, timeoutMs = 120_000, everyMs = 20): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = f();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}


describe('finetune end to end (real PyTorch worker)', function () {
  this.timeout(300_000);
  let python: string;
  let dir: string;
  let bin: string;
  let env: NodeJS.ProcessEnv;
  let runDir: string;

  before(async function () {
    python = await requireWorkerPython(this, 'fewshot_worker.tiny', 'torch + transformers + onnx and the worker for the fine-tuning end-to-end tests');
    bin = buildChildBundles().cli;
    dir = tempDir('ft-e2e');
    env = { ...process.env, FEWSHOT_PYTHON: python, PYTHONPATH: workerPythonPath() };
    // a tiny random BERT (WordPiece tokenizer) and a corpus of its topic words (a folder dataset)
    const model = spawnSync(python, [tinyModelScript()!, '--out', path.join(dir, 'model')], { env, encoding: 'utf8' });
    assert.equal(model.status, 0, model.stderr);
    assert.deepEqual((JSON.parse(model.stdout.trim().split('\n').pop()!) as { labels: string[] }).labels, ['billing', 'shipping', 'technical']);
    const data = spawnSync(python, ['-c', `
import os, sys
from fewshot_worker.tiny import synthetic_corpus, DEFAULT_LABELS
for split, n, seed in (('train', 10, 1), ('test', 5, 2)):
    for i, (t, y) in enumerate(synthetic_corpus(n, seed=seed)):
        d = os.path.join(sys.argv[1], split, DEFAULT_LABELS[y]); os.makedirs(d, exist_ok=True)
        open(os.path.join(d, '%d.txt' % i), 'w').write(t)
`, path.join(dir, 'data')], { env, encoding: 'utf8' });
    assert.equal(data.status, 0, data.stderr);
  });
  after(() => { if (dir) rmrf(dir); });

  it('fine-tunes with staged unfreezing: real epochs with stages, run.json, ONNX model, report', async () => {
    const r = await cli(bin, ['train', 'data', '--method', 'finetune', '--model', 'model', '--epochs', '4', '--unfreeze-top', '1',
      '--head-epochs', '1', '--lr', '5e-4', '--patience', '0', '--out', 'store', '--json'], dir, env);
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as { status: string; runDir: string; record: RunRecord; report: ClassificationReport };
    assert.equal(out.status, 'completed');
    runDir = out.runDir;
    const rec = JSON.parse(fs.readFileSync(path.join(runDir, 'run.json'), 'utf8')) as RunRecord;
    assert.equal(rec.algorithm, 'finetune-transformer');
    assert.equal(rec.config.method, 'finetune');
    assert.deepEqual(rec.progress && { unit: rec.progress.unit, total: rec.progress.total }, { unit: 'epoch', total: 4 });
    assert.match(rec.progress!.validation, /hold-out of the training split \(\d+ examples\)/);
    assert.equal(rec.epochsRun, 4);
    assert.ok(rec.bestEpoch! >= 1 && rec.bestEpoch! <= 4);
    const ft = rec.finetune!;
    assert.ok(['cpu', 'cuda', 'mps'].includes(ft.device.kind));
    assert.ok(ft.python.torch && ft.python.transformers, JSON.stringify(ft.python));
    assert.deepEqual(ft.stages.map((s) => [s.stage, s.firstEpoch, s.lastEpoch]), [[1, 1, 1], [2, 2, 4]]);
    assert.ok(ft.stages[1].trainableParameters > ft.stages[0].trainableParameters);
    assert.ok(ft.onnxMaxAbsDiff! <= 1e-4, `PyTorch vs ONNX logits: ${ft.onnxMaxAbsDiff}`);
    assert.ok(ft.servedMaxAbsProbDiff! <= 1e-3, `served vs PyTorch probabilities: ${ft.servedMaxAbsProbDiff}`);

    const epochs = readJsonl<EpochMetrics>(path.join(runDir, 'metrics.jsonl'));
    assert.deepEqual(epochs.map((e) => e.epoch), [1, 2, 3, 4]);
    assert.deepEqual(epochs.map((e) => e.stage), [1, 2, 2, 2]);
    assert.ok(epochs.every((e, i) => i === 0 || e.elapsedMs > epochs[i - 1].elapsedMs), 'elapsedMs counts from the start of training');
    for (const e of epochs) {
      assert.equal(e.unit, 'epoch');
      assert.match(e.label!, new RegExp(`^stage ${e.stage} · `));
      assert.ok(Number.isFinite(e.loss) && e.valMacroF1! >= 0 && e.valMacroF1! <= 1 && e.samplesPerSecond! > 0 && e.device);
    }
    const onnx = path.join(runDir, 'model', 'finetuned', 'onnx', 'model.onnx');
    assert.ok(fs.statSync(onnx).size > 1000);
    const report = JSON.parse(fs.readFileSync(path.join(runDir, 'report.json'), 'utf8')) as ClassificationReport;
    assert.equal(report.split, 'test');
    assert.equal(Object.values(report.perClass).reduce((a, c) => a + c.support, 0), 15);
    assert.equal(rec.testMacroF1, report.macro.f1);
    assert.match(fs.readFileSync(path.join(runDir, 'report.txt'), 'utf8'), /finetune-transformer/);
  });

  it('predicts with the ONNX model in Node with no Python on PATH and no FEWSHOT_PYTHON', async function () {
    if (!runDir) this.skip();
    const noPy: NodeJS.ProcessEnv = { ...process.env, PATH: pathWithoutPython() };
    delete noPy.FEWSHOT_PYTHON;
    delete noPy.PYTHONPATH;
    const test = readJsonl<TestPrediction>(path.join(runDir, 'predictions.jsonl'));
    const r = await cli(bin, ['predict', '--run', runDir, '--json'], dir, noPy, test.map((t) => t.text).join('\n') + '\n');
    assert.equal(r.code, 0, r.stderr);
    const got = JSON.parse(r.stdout) as { text: string; label: string; probabilities: { label: string; p: number }[] }[];
    assert.equal(got.length, test.length);
    got.forEach((g, i) => {
      assert.equal(g.label, test[i].predicted);
      for (const { label, p } of g.probabilities) assert.ok(Math.abs(p - test[i].probabilities[label]) < 1e-6, `${label}: ${p} vs ${test[i].probabilities[label]}`);
    });
  });

  it('answers in the warm predictor child (Predict Selection) with no Python on PATH', async function () {
    if (!runDir) this.skip();
    const client = launchPredictor(runDir, { predictorScript: buildChildBundles().predictor, env: { ...bundleEnv, PATH: pathWithoutPython(), FEWSHOT_PYTHON: '', PYTHONPATH: '' } });
    try {
      const info = await client.ready;
      assert.deepEqual(info.labels, ['billing', 'shipping', 'technical']);
      assert.match(info.encoder, /^finetuned:/);
      const test = readJsonl<TestPrediction>(path.join(runDir, 'predictions.jsonl'));
      const got = await client.predict(test.map((t) => t.text));
      assert.deepEqual(got.map((p) => p.label), test.map((t) => t.predicted));
      got.forEach((g, i) => { for (const { label, p } of g.probabilities) assert.ok(Math.abs(p - test[i].probabilities[label]) < 1e-6); });
    } finally {
      client.dispose();
    }
  });

  it('serves the ONNX model over HTTP (`fewshot serve`) with no Python on PATH', async function () {
    if (!runDir) this.skip();
    const noPy: NodeJS.ProcessEnv = { ...process.env, ...bundleEnv, PATH: pathWithoutPython() };
    delete noPy.FEWSHOT_PYTHON;
    const child = spawn(process.execPath, [bin, 'serve', '--run', runDir, '--port', '0'], { cwd: dir, env: noPy, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    try {
      const url = await until(`the server URL\n${stderr}`, () => /Serving .* at (http:\/\/\S+)/.exec(stdout)?.[1], 60_000);
      const info = await (await fetch(`${url}/model`)).json() as { labels: string[]; head: string; encoder: string };
      assert.deepEqual(info.labels, ['billing', 'shipping', 'technical']);
      assert.equal(info.head, 'transformer');
      const test = readJsonl<TestPrediction>(path.join(runDir, 'predictions.jsonl'));
      const res = await fetch(`${url}/predict`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ texts: test.slice(0, 4).map((t) => t.text) }) });
      assert.equal(res.status, 200);
      const body = await res.json() as { predictions: { label: string }[] };
      const labels = body.predictions.map((p) => p.label);
      assert.deepEqual(labels, test.slice(0, 4).map((t) => t.predicted));
    } finally {
      child.kill('SIGTERM');
    }
  });

  it('warns when the served ONNX model disagrees with the worker\'s PyTorch probabilities (and reports what is served)', async function () {
    if (!runDir) this.skip();
    // a worker that hands back the real fine-tuned model but wrong PyTorch test probabilities
    const pkg = path.join(dir, 'lying-worker', 'fewshot_worker');
    fs.mkdirSync(pkg, { recursive: true });
    fs.writeFileSync(path.join(pkg, '__init__.py'), '');
    fs.writeFileSync(path.join(pkg, '__main__.py'), `import json, os, shutil, sys
job = json.load(open(sys.argv[sys.argv.index('--job') + 1]))
def send(**m):
    m['protocol'] = ${FINETUNE_PROTOCOL_VERSION}; print(json.dumps(m), flush=True)
shutil.copytree(${JSON.stringify(path.join(runDir, 'model', 'finetuned'))}, job['outputDir'], dirs_exist_ok=True)
send(type='started', pid=os.getpid(), device={'kind': 'cpu', 'name': 'CPU', 'count': 1, 'precision': 'fp32', 'reason': 'test'}, versions={}, model={'name': 'tiny', 'layers': 4, 'parameters': 1})
send(type='stage', stage=1, name='head only', trainableParameters=1, totalParameters=1, epochs=1, cachedLayers=0)
send(type='epoch', epoch=1, stage=1, epochs=1, loss=1.0, valLoss=1.0, valMacroF1=0.5, valAccuracy=0.5, perClassRecall={}, samplesPerSecond=1.0, elapsedMs=1.0, best=True)
send(type='done', bestEpoch=1, epochsRun=1, bestValMacroF1=0.5, testProbabilities=[[1.0, 0.0, 0.0] for _ in job['test']], onnx='onnx/model.onnx', onnxMaxAbsDiff=0.0, stages=[{'stage': 1, 'name': 'head only', 'trainableParameters': 1, 'firstEpoch': 1, 'lastEpoch': 1}])
`);
    const saved = { ...process.env };
    Object.assign(process.env, { FEWSHOT_PYTHON: python, FEWSHOT_WORKER_DIR: path.dirname(pkg) });
    try {
      const rec = await runTraining({
        config: { dataset: path.join(dir, 'data'), method: 'finetune', epochs: 1, finetune: { model: path.join(dir, 'model') } } as never,
        storeDir: path.join(dir, 'lying-store'),
      }, { onEvent: () => undefined });
      assert.equal(rec.status, 'completed', JSON.stringify(rec.error));
      assert.ok(rec.finetune!.servedMaxAbsProbDiff! > 1e-3);
      assert.ok(rec.warnings?.some((w) => /disagree on the test texts: max \|Δp\| = /.test(w)), JSON.stringify(rec.warnings));
      const served = readJsonl<TestPrediction>(path.join(dir, 'lying-store', 'runs', rec.id, 'predictions.jsonl'));
      const real = readJsonl<TestPrediction>(path.join(runDir, 'predictions.jsonl'));
      assert.deepEqual(served.map((p) => p.predicted), real.map((p) => p.predicted), 'the report measures the served ONNX model');
    } finally {
      for (const k of ['FEWSHOT_PYTHON', 'FEWSHOT_WORKER_DIR']) { if (saved[k] === undefined) delete process.env[k]; else process.env[k] = saved[k]; }
    }
  });

  it('cancels within 2 s and marks the run cancelled', async () => {
    const child = spawn(process.execPath, [bin, 'train', 'data', '--method', 'finetune', '--model', 'model', '--epochs', '500',
      '--unfreeze-top', '1', '--head-epochs', '1', '--patience', '0', '--out', 'cancel-store'], { cwd: dir, env: { ...env, ...bundleEnv }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => { stderr += d; });
    const exited = new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
    try {
      const runs = path.join(dir, 'cancel-store', 'runs');
      const run = await until('the first epoch', () => {
        const id = fs.existsSync(runs) ? fs.readdirSync(runs)[0] : undefined;
        return id && fs.existsSync(path.join(runs, id, 'metrics.jsonl')) && fs.readFileSync(path.join(runs, id, 'metrics.jsonl'), 'utf8').trim() ? path.join(runs, id) : undefined;
      });
      const t0 = Date.now();
      child.kill('SIGINT');
      await until('status cancelled', () => {
        try { return (JSON.parse(fs.readFileSync(path.join(run, 'run.json'), 'utf8')) as RunRecord).status === 'cancelled' ? true : undefined; } catch { return undefined; }
      }, 10_000, 10);
      const ms = Date.now() - t0;
      assert.ok(ms <= 2000, `cancelled after ${ms} ms\n${stderr}`);
      assert.equal(await exited, 1);
      const rec = JSON.parse(fs.readFileSync(path.join(run, 'run.json'), 'utf8')) as RunRecord;
      assert.ok(rec.epochsRun! >= 1 && rec.epochsRun! < 500);
    } finally {
      child.kill('SIGKILL');
    }
  });
});
