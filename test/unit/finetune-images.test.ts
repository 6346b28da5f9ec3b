/**
 * Method 'finetune' on an image dataset with the real PyTorch worker: runTraining fine-tunes a tiny random CNN built
 * here (python/fewshot_worker/image_model.py make_tiny_cnn) on shape images drawn here, exports it to ONNX, and
 * loadPredictor serves it in Node; Node's probabilities match the worker's PyTorch ones to 1e-3.
 *
 * Needs an interpreter with torch + torchvision + Pillow + onnx: FEWSHOT_PYTHON (CI sets it). Without one these tests
 * FAIL when CI=true and are skipped (with the reason) otherwise.
 */
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { resolveConfig } from '../../src/core/config';
import { isFewShotError } from '../../src/core/errors';
import { loadPredictor } from '../../src/core/predict';
import { runTraining, type TrainEvent } from '../../src/core/train';
import type { ModelFile, RunRecord, TestPrediction } from '../../src/protocol/run';
import { shapeImage, type Shape } from './helpers/images';
import { readJsonl, rmrf, tempDir } from './helpers/trainerFixtures';
import { requireWorkerPython, workerPythonPath } from './helpers/workerPython';

describe('finetune on images (real PyTorch worker, tiny CNN)', function () {
  this.timeout(300_000);
  let dir: string;
  let store: string;
  let record: RunRecord;
  let events: TrainEvent[];
  const savedEnv = { FEWSHOT_PYTHON: process.env.FEWSHOT_PYTHON, PYTHONPATH: process.env.PYTHONPATH };

  before(async function () {
    const python = await requireWorkerPython(this, 'fewshot_worker.image_job, torchvision, PIL', 'torch + torchvision + Pillow + onnx for image fine-tuning');
    dir = tempDir('ft-img');
    store = path.join(dir, 'store');
    const model = path.join(dir, 'cnn');
    const made = spawnSync(python, ['-c', 'import sys; from fewshot_worker.image_model import make_tiny_cnn; make_tiny_cnn(sys.argv[1])', model],
      { env: { ...process.env, PYTHONPATH: workerPythonPath() }, encoding: 'utf8' });
    assert.equal(made.status, 0, made.stderr);
    // blue circles and red squares, shifted and sized differently; one JPEG per class (formats are sniffed)
    const classes: [Shape, string][] = [['circle', '#2030c0'], ['square', '#c03020']];
    for (const [split, n] of [['train', 10], ['test', 4]] as const) {
      for (const [shape, fill] of classes) {
        const d = path.join(dir, 'data', split, shape);
        fs.mkdirSync(d, { recursive: true });
        for (let i = 0; i < n; i++) {
          const jpeg = i === 1;
          fs.writeFileSync(path.join(d, `${i}.${jpeg ? 'jpg' : 'png'}`), await shapeImage(shape, jpeg ? 'jpeg' : 'png', 40 + 4 * (i % 4), { fill, dx: (i % 5) - 2 }));
        }
      }
    }
    process.env.FEWSHOT_PYTHON = python;
    process.env.PYTHONPATH = workerPythonPath();
    const config = resolveConfig({
      dataset: path.join(dir, 'data'), method: 'finetune', epochs: 6, learningRate: 5e-2, batchSize: 4, patience: 0, seed: 3,
      finetune: { model, headEpochs: 1, unfreezeTop: 3, device: 'cpu' } as never,
    });
    events = [];
    record = await runTraining({ config, storeDir: store }, { onEvent: (e) => events.push(e) });
  });
  after(() => {
    for (const [k, v] of Object.entries(savedEnv)) { if (v === undefined) delete process.env[k]; else process.env[k] = v; }
    if (dir) rmrf(dir);
  });

  it('trains in real epochs with stages, records a finetune-cnn run and an ONNX CNN in the run folder', () => {
    assert.equal(record.status, 'completed');
    assert.equal(record.config.method, 'finetune');
    assert.equal(record.algorithm, 'finetune-cnn');
    assert.equal(record.dataset?.format, 'images');
    assert.equal(record.epochsRun, 6);
    const epochs = events.filter((e): e is Extract<TrainEvent, { type: 'epoch' }> => e.type === 'epoch');
    assert.deepEqual(epochs.map((e) => e.metrics.epoch), [1, 2, 3, 4, 5, 6]);
    assert.deepEqual(epochs.map((e) => e.metrics.stage), [1, 2, 2, 2, 2, 2]);
    assert.match(epochs[0].metrics.label ?? '', /stage 1 · classifier head/);
    assert.match(epochs[1].metrics.label ?? '', /stage 2 · top 3 blocks \+ head/);
    assert.deepEqual(record.finetune?.stages.map((s) => [s.stage, s.firstEpoch, s.lastEpoch]), [[1, 1, 1], [2, 2, 6]]);
    assert.equal(record.finetune?.device.kind, 'cpu');
    const runDir = path.join(store, 'runs', record.id);
    const model = JSON.parse(fs.readFileSync(path.join(runDir, 'model', 'head.json'), 'utf8')) as ModelFile;
    assert.deepEqual(model.imageCnn, { path: 'model/finetuned', onnx: 'model.onnx' });
    assert.equal(model.transformer, undefined);
    assert.ok(fs.existsSync(path.join(runDir, 'model', 'finetuned', 'model.onnx')));
    const pre = JSON.parse(fs.readFileSync(path.join(runDir, 'model', 'finetuned', 'preprocess.json'), 'utf8')) as { centerCrop: number };
    assert.equal(pre.centerCrop, 32);
    assert.match(fs.readFileSync(path.join(runDir, 'report.txt'), 'utf8'), /finetune-cnn \(cnn, staged unfreezing/);
  });

  it("Node's ONNX probabilities match the worker's PyTorch ones on the test images to 1e-3", () => {
    const diff = record.finetune?.servedMaxAbsProbDiff;
    assert.ok(typeof diff === 'number' && diff <= 1e-3, `max |Δp| ${diff}`);
    assert.ok((record.finetune?.onnxMaxAbsDiff ?? 1) <= 1e-4);
    assert.ok(!(record.warnings ?? []).some((w) => /disagree/.test(w)), (record.warnings ?? []).join('\n'));
  });

  it('reports on the test split with image paths, and loadPredictor predicts images the same way', async () => {
    const runDir = path.join(store, 'runs', record.id);
    const rows = readJsonl<TestPrediction>(path.join(runDir, 'predictions.jsonl'));
    assert.equal(rows.length, 8);
    assert.ok(rows.every((r) => r.file && fs.existsSync(r.file) && path.basename(r.file) === r.text), JSON.stringify(rows[0]));
    const curve = events.flatMap((e) => (e.type === 'epoch' ? [e.metrics.valMacroF1] : []));
    assert.ok(typeof record.testMacroF1 === 'number' && record.testMacroF1 >= 0.75, `test macro-F1 ${record.testMacroF1}, validation ${curve.join(', ')}`);
    const predictor = await loadPredictor(runDir);
    try {
      assert.equal(predictor.modality, 'image');
      const files = rows.map((r) => r.file!);
      const preds = await predictor.predictImages!([...files, fs.readFileSync(files[0])]);
      preds.slice(0, files.length).forEach((p, i) => {
        assert.equal(p.label, rows[i].predicted);
        for (const q of p.probabilities) assert.ok(Math.abs(q.p - rows[i].probabilities[q.label]) < 1e-6);
      });
      assert.deepEqual(preds[files.length], preds[0]); // bytes predict like the file
      await assert.rejects(predictor.predict(['a text']), (e: unknown) => isFewShotError(e) && e.opts.code === 'wrong-modality');
      const bad = path.join(dir, 'bad.png');
      fs.writeFileSync(bad, Buffer.from('\x89PNG\r\n\x1a\n broken', 'latin1'));
      await assert.rejects(predictor.predictImages!([bad]), (e: unknown) => isFewShotError(e) && e.message.includes('bad.png'));
    } finally {
      predictor.dispose();
    }
  });
});
