import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DEFAULT_CONFIG } from '../../src/core/config';
import { runTraining, type TrainEvent } from '../../src/core/train';
import { loadPredictor } from '../../src/core/predict';
import { RUN_FILES } from '../../src/core/runs';
import type { ClassificationReport, ModelFile, RunRecord, TestPrediction, TrainConfig } from '../../src/protocol/run';
import type { TrainPrediction } from '../../src/protocol/labels';
import { buildChildBundles, readJsonl, repoRoot, rmrf, runCli, tempDir } from './helpers/trainerFixtures';

type SharpFn = (input: Buffer, o?: object) => import('sharp').Sharp;
// eslint-disable-next-line @typescript-eslint/no-require-imports
const sharp = require('sharp') as SharpFn;

const shapesDir = (): string => {
  const up = path.join(__dirname, '..', '..', '..', 'samples', 'shapes'); // out/test/unit → repo root
  return fs.existsSync(up) ? up : path.resolve('samples', 'shapes');
};
const cfg = (dataset: string, over: Partial<TrainConfig> = {}): TrainConfig => ({ ...DEFAULT_CONFIG, dataset, ...over });
const train = async (config: TrainConfig, storeDir: string): Promise<{ record: RunRecord; events: TrainEvent[] }> => {
  const events: TrainEvent[] = [];
  const record = await runTraining({ config, storeDir }, { onEvent: (e) => events.push(e) });
  return { record, events };
};
const runDir = (store: string, r: RunRecord): string => path.join(store, 'runs', r.id);

/** An uncompressed 24-bit BMP of raw RGB pixels (bottom-up rows, padded to 4 bytes). */
function bmp24(rgb: Buffer, width: number, height: number): Buffer {
  const row = Math.ceil((width * 3) / 4) * 4;
  const buf = Buffer.alloc(54 + row * height);
  buf.write('BM', 0, 'latin1');
  buf.writeUInt32LE(buf.length, 2);
  buf.writeUInt32LE(54, 10);
  buf.writeUInt32LE(40, 14);
  buf.writeInt32LE(width, 18);
  buf.writeInt32LE(height, 22);
  buf.writeUInt16LE(1, 26);
  buf.writeUInt16LE(24, 28);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const o = 54 + (height - 1 - y) * row + x * 3, i = (y * width + x) * 3;
      buf[o] = rgb[i + 2]; buf[o + 1] = rgb[i + 1]; buf[o + 2] = rgb[i];
    }
  }
  return buf;
}

describe('image training (quick path on samples/shapes)', function () {
  this.timeout(120_000);
  let dir: string;
  let store: string;
  let first: RunRecord;
  before(async () => {
    dir = tempDir('imgtrain');
    store = path.join(dir, 'store');
    first = (await train(cfg(shapesDir()), store)).record;
  });
  after(() => rmrf(dir));

  it('trains the few-shot head on EfficientNet-Lite0 features: report above chance, predictions and oof.jsonl', () => {
    assert.equal(first.status, 'completed', JSON.stringify(first.error));
    assert.equal(first.dataset!.format, 'images');
    assert.deepEqual(first.dataset!.counts.train, { circle: 12, square: 12, star: 12, triangle: 12 });
    assert.equal(first.encoder!.id, 'efficientnet-lite0-imagenet-1280');
    assert.equal(first.encoder!.dim, 1280);
    assert.match(first.encoder!.reason, /^auto: an image dataset/);
    assert.equal(first.algorithm, 'fewshot-ensemble');
    const report = JSON.parse(fs.readFileSync(path.join(runDir(store, first), RUN_FILES.report), 'utf8')) as ClassificationReport;
    assert.ok(report.macro.f1 > 0.5, `macro-F1 ${report.macro.f1} (chance: 0.25)`);
    assert.equal(first.testMacroF1, report.macro.f1);
    const preds = readJsonl<TestPrediction>(path.join(runDir(store, first), RUN_FILES.predictions));
    assert.equal(preds.length, 24);
    for (const p of preds) {
      assert.ok(fs.existsSync(p.file!), p.file);
      assert.equal(p.text, path.basename(p.file!));
      assert.equal(path.basename(path.dirname(p.file!)), p.label);
    }
    const oof = readJsonl<TrainPrediction>(path.join(runDir(store, first), RUN_FILES.oof));
    assert.equal(oof.length, 48);
    assert.ok(oof.every((r) => r.file && Math.abs(Object.values(r.probabilities).reduce((a, b) => a + b, 0) - 1) < 1e-6));
    assert.equal(first.timings?.computedEmbeddings, 72);
  });

  it('a second run takes every embedding from the cache', async () => {
    const { record } = await train(cfg(shapesDir()), store);
    assert.equal(record.status, 'completed');
    assert.equal(record.timings?.cachedEmbeddings, 72);
    assert.equal(record.timings?.computedEmbeddings, 0);
    assert.equal(record.testMacroF1, first.testMacroF1);
  });

  it('the cache is keyed by content: a changed image under the same name is embedded again', async () => {
    const copy = path.join(dir, 'changed');
    fs.cpSync(shapesDir(), copy, { recursive: true });
    const file = path.join(copy, 'train', 'star', 'star_01.png');
    fs.writeFileSync(file, await sharp(fs.readFileSync(file)).flop().png().toBuffer());
    const { record } = await train(cfg(copy), store);
    assert.equal(record.status, 'completed');
    assert.equal(record.timings?.computedEmbeddings, 1);
    assert.equal(record.timings?.cachedEmbeddings, 71);
  });

  it('a corrupt image is skipped with a warning naming it; the run completes', async () => {
    const copy = path.join(dir, 'corrupt');
    fs.cpSync(shapesDir(), copy, { recursive: true });
    const bad = path.join(copy, 'train', 'circle', 'broken.png');
    fs.writeFileSync(bad, fs.readFileSync(path.join(copy, 'train', 'circle', 'circle_01.png')).subarray(0, 300));
    const { record, events } = await train(cfg(copy), store);
    assert.equal(record.status, 'completed', JSON.stringify(record.error));
    assert.equal(record.dataset!.counts.train.circle, 12);
    assert.ok(record.warnings?.some((w) => w.includes(bad) && /corrupt or truncated/.test(w)), JSON.stringify(record.warnings));
    assert.ok(events.some((e) => e.type === 'log' && e.level === 'warn' && e.message.includes(bad)));
    assert.ok(record.dataProblems?.some((p) => p.code === 'files-skipped' && p.files?.includes(bad)));
  });

  it('augmentation adds RandomAffine copies of training images as extra rows (cached by their content)', async () => {
    const { record } = await train(cfg(shapesDir(), { augment: 1 }), store);
    assert.equal(record.status, 'completed', JSON.stringify(record.error));
    // the 72 originals come from the cache; the 48 augmented copies are new images
    assert.equal(record.timings?.cachedEmbeddings, 72);
    assert.equal(record.timings?.computedEmbeddings, 48);
    const text = fs.readFileSync(path.join(runDir(store, record), RUN_FILES.reportText), 'utf8');
    assert.match(text, /48 extra rows/);
    assert.match(text, /1 RandomAffine copies per training image/);
    const again = (await train(cfg(shapesDir(), { augment: 1 }), store)).record;
    assert.equal(again.timings?.computedEmbeddings, 0, 'the same seed gives the same augmented images');
  });

  it('predicts PNG and BMP images with the run (the same pixels give the same answer); texts are refused', async () => {
    const predictor = await loadPredictor(runDir(store, first));
    try {
      assert.equal(predictor.modality, 'image');
      const png = path.join(shapesDir(), 'test', 'star', 'star_02.png');
      const { data, info } = await sharp(fs.readFileSync(png)).flatten({ background: '#ffffff' }).removeAlpha().raw().toBuffer({ resolveWithObject: true });
      const bmpFile = path.join(dir, 'star.bmp');
      fs.writeFileSync(bmpFile, bmp24(data, info.width, info.height));
      const [a, b] = await predictor.predictImages!([png, bmpFile]);
      assert.equal(a.probabilities.length, 4);
      assert.equal(a.label, b.label);
      for (const q of a.probabilities) assert.ok(Math.abs(q.p - b.probabilities.find((r) => r.label === q.label)!.p) < 1e-5);
      const model = JSON.parse(fs.readFileSync(path.join(runDir(store, first), RUN_FILES.model), 'utf8')) as ModelFile;
      assert.equal(model.encoder.id, 'efficientnet-lite0-imagenet-1280');
      await assert.rejects(predictor.predict(['a text']), /classifies images, not texts/);
    } finally {
      predictor.dispose();
    }
  });

  it('CLI: fewshot train on an image folder, then fewshot predict on image files (label + top-3)', async () => {
    const cli = buildChildBundles().cli;
    const out = path.join(dir, 'cli-store');
    // the bundles live in a temp folder, outside the repository: point them at its models/
    const env = { FEWSHOT_MODELS_DIR: path.join(repoRoot, 'models') };
    const t = await runCli(cli, ['train', shapesDir(), '--out', out, '--json'], { cwd: dir, env });
    assert.equal(t.code, 0, t.stderr);
    const rec = (JSON.parse(t.stdout) as { record: RunRecord }).record;
    assert.equal(rec.dataset!.format, 'images');
    const img = path.join(shapesDir(), 'test', 'square', 'square_03.png');
    const p = await runCli(cli, ['predict', '--run', rec.id, '--store', out, img], { cwd: dir, env });
    assert.equal(p.code, 0, p.stderr);
    const cols = p.stdout.trim().split('\t');
    assert.equal(cols[2], path.relative(dir, img));
    assert.match(cols[3], /^top-3: \S+ \d\.\d{4}, \S+ \d\.\d{4}, \S+ \d\.\d{4}$/);
    const notImage = await runCli(cli, ['predict', '--run', rec.id, '--store', out, img, 'plain words'], { cwd: dir, env });
    assert.equal(notImage.code, 2);
    assert.match(notImage.stderr, /plain words is not a PNG, JPEG, WebP, BMP or TIFF image/);
  });
});
