/**
 * Method 'setfit' end to end with the real worker (python/fewshot_worker + the setfit library):
 * `fewshot train --method setfit` on a tiny random BERT built here, then `fewshot predict` on a
 * moved copy of the run with no Python on PATH. Plus the parts that need no Python (iterations rule,
 * settings, the missing default body).
 *
 * Needs an interpreter with torch, transformers, onnx and setfit: FEWSHOT_PYTHON (CI sets it), else the
 * one `fewshot env` would pick. Without one these tests FAIL when CI=true and are skipped (with the
 * reason) otherwise.
 */
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { EpochMetrics, ModelFile, RunRecord, TestPrediction } from '../../src/protocol/run';
import { defaultIterations, pairSteps, SETFIT_BODY_DIR } from '../../src/core/finetune/setfit';
import { configProblems, resolveConfig } from '../../src/core/config';
import { buildChildBundles, readJsonl, repoRoot, rmrf, runCli, tempDir } from './helpers/trainerFixtures';
import { pathWithoutPython, requireWorkerPython, workerPythonPath } from './helpers/workerPython';



describe('setfit: iterations rule and settings', () => {
  it('chooses iterations from the dataset size (about 480 pairs, 1 to 20 per text)', () => {
    assert.equal(defaultIterations(136), 1); // K = 8 × 17 classes
    assert.equal(defaultIterations(10), 20);
    assert.equal(defaultIterations(5000), 1);
    assert.equal(pairSteps(136, 2, 16, 1), 34);
    assert.equal(pairSteps(30, 2, 8, 2), 30);
  });

  it('validates the SetFit settings and refuses unknown ones with a fix', () => {
    assert.deepEqual(configProblems({ ...resolveConfig({ dataset: '/d', method: 'setfit', setfit: {} as never }) }), []);
    const p = configProblems({ ...resolveConfig({ dataset: '/d' }), method: 'setfit', setfit: { model: 'x', iterations: 0, batchSize: 1, device: 'tpu' as never } });
    assert.deepEqual(p.map((x) => x.field), ['setfit.iterations', 'setfit.batchSize', 'setfit.device']);
    assert.ok(p.every((x) => x.fix));
  });

  it('names the missing default body and how to get it (no stack trace)', async () => {
    const dir = tempDir('setfit-nobody');
    try {
      fs.mkdirSync(path.join(dir, 'data', 'a'), { recursive: true });
      fs.mkdirSync(path.join(dir, 'data', 'b'), { recursive: true });
      for (let i = 0; i < 4; i++) {
        fs.writeFileSync(path.join(dir, 'data', 'a', `${i}.txt`), `alpha text ${i}`);
        fs.writeFileSync(path.join(dir, 'data', 'b', `${i}.txt`), `beta text ${i}`);
      }
      const r = await runCli(buildChildBundles().cli, ['train', 'data', '--method', 'setfit', '--out', 'store'], {
        cwd: dir, env: { ...process.env, FEWSHOT_HOME: path.join(dir, 'home') },
      });
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /SetFit needs a sentence-transformer body .*all-MiniLM-L6-v2/);
      assert.match(r.stderr, /fix: Run `fewshot setup --setfit`.*--model/);
      assert.doesNotMatch(r.stderr, /\n\s+at .*:\d+:\d+/);
    } finally {
      rmrf(dir);
    }
  });
});

describe('setfit end to end (real worker and setfit library)', function () {
  this.timeout(600_000);
  let python: string;
  let dir: string;
  let bin: string;
  let env: NodeJS.ProcessEnv;
  let runDir: string;

  before(async function () {
    python = await requireWorkerPython(this, 'setfit, fewshot_worker.tiny', 'torch + transformers + onnx + setfit and the worker for the SetFit end-to-end tests');
    bin = buildChildBundles().cli;
    dir = tempDir('setfit-e2e');
    env = { ...process.env, FEWSHOT_PYTHON: python, PYTHONPATH: workerPythonPath(), OMP_NUM_THREADS: '1' };
    const made = spawnSync(python, [path.join(repoRoot, 'python', 'scripts', 'make_tiny_model.py'), '--out', path.join(dir, 'model')], { env, encoding: 'utf8' });
    assert.equal(made.status, 0, made.stderr);
    const data = spawnSync(python, ['-c', `
import os, sys
from fewshot_worker.tiny import synthetic_corpus, DEFAULT_LABELS
for split, n, seed in (('train', 6, 1), ('test', 4, 2)):
    for i, (t, y) in enumerate(synthetic_corpus(n, seed=seed)):
        d = os.path.join(sys.argv[1], split, DEFAULT_LABELS[y]); os.makedirs(d, exist_ok=True)
        open(os.path.join(d, '%d.txt' % i), 'w').write(t)
`, path.join(dir, 'data')], { env, encoding: 'utf8' });
    assert.equal(data.status, 0, data.stderr);
  });
  after(() => { if (dir) rmrf(dir); });

  it('trains the body on pairs (real pair steps), exports it and fits the quick head on it', async () => {
    const r = await runCli(bin, ['train', 'data', '--method', 'setfit', '--model', 'model', '--iterations', '2', '--batch-size', '8',
      '--lr', '1e-3', '--max-length', '16', '--device', 'cpu', '--out', 'store', '--json'], { cwd: dir, env });
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as { status: string; runDir: string };
    assert.equal(out.status, 'completed');
    runDir = out.runDir;
    const rec = JSON.parse(fs.readFileSync(path.join(runDir, 'run.json'), 'utf8')) as RunRecord;
    assert.equal(rec.config.method, 'setfit');
    assert.equal(rec.algorithm, 'setfit-contrastive');
    // 18 training texts × 2 iterations × 2 = 72 pairs, batch 8 → 9 pair steps
    const sf = rec.setfit!;
    assert.deepEqual([sf.iterations, sf.pairs, sf.pairSteps, sf.device.kind], [2, 72, 9, 'cpu']);
    assert.ok(sf.onnxMaxAbsDiff <= 1e-3, `ONNX vs PyTorch body: ${sf.onnxMaxAbsDiff}`);
    assert.equal(sf.python.setfit, '1.2.0');
    const points = readJsonl<EpochMetrics>(path.join(runDir, 'metrics.jsonl'));
    const steps = points.filter((p) => p.unit === 'pair-step');
    assert.deepEqual(steps.map((p) => p.epoch), [1, 2, 3, 4, 5, 6, 7, 8, 9]);
    assert.ok(steps.every((p) => Number.isFinite(p.loss) && p.valMacroF1 === null && p.samplesPerSecond! > 0));
    const head = points.filter((p) => p.unit === 'configuration');
    assert.ok(head.length >= 1, 'then the head\'s configurations');
    assert.ok(points.indexOf(head[0]) > points.indexOf(steps[steps.length - 1]), 'pair steps first');
    const model = JSON.parse(fs.readFileSync(path.join(runDir, 'model', 'head.json'), 'utf8')) as ModelFile;
    assert.deepEqual(model.body?.path, SETFIT_BODY_DIR);
    assert.equal(model.encoder.id, `hf:${path.resolve(runDir, SETFIT_BODY_DIR)}`);
    assert.ok(fs.statSync(path.join(runDir, SETFIT_BODY_DIR, 'onnx', 'model.onnx')).size > 1000);
    assert.ok(rec.testMacroF1! >= 0 && rec.testMacroF1! <= 1);
    assert.match(fs.readFileSync(path.join(runDir, 'report.txt'), 'utf8'), /SetFit body: model, 9 contrastive pair steps on 72 pairs/);
  });

  it('predicts from a moved copy of the run in Node, with no Python on PATH', async function () {
    if (!runDir) this.skip();
    const moved = path.join(dir, 'moved-run');
    fs.cpSync(runDir, moved, { recursive: true });
    rmrf(runDir); // the body must be found under the run's new folder, not where it was trained
    const noPy: NodeJS.ProcessEnv = { ...process.env, PATH: pathWithoutPython() };
    delete noPy.FEWSHOT_PYTHON;
    delete noPy.PYTHONPATH;
    const test = readJsonl<TestPrediction>(path.join(moved, 'predictions.jsonl'));
    const r = await runCli(bin, ['predict', '--run', moved, '--json'], { cwd: dir, env: noPy, replaceEnv: true, input: test.map((t) => t.text).join('\n') + '\n' });
    assert.equal(r.code, 0, r.stderr);
    const got = JSON.parse(r.stdout) as { label: string; probabilities: { label: string; p: number }[] }[];
    assert.equal(got.length, test.length);
    got.forEach((g, i) => {
      assert.equal(g.label, test[i].predicted);
      for (const { label, p } of g.probabilities) assert.ok(Math.abs(p - test[i].probabilities[label]) < 1e-5, `${label}: ${p} vs ${test[i].probabilities[label]}`);
    });
  });
});
