import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadPredictor, readModelFile, specFromEncoderId, toPrediction } from '../../src/core/predict';
import { runTraining } from '../../src/core/train';
import { DEFAULT_CONFIG } from '../../src/core/config';
import { FewShotError } from '../../src/core/errors';
import type { ModelFile, RunRecord } from '../../src/protocol/run';
import { rmrf, tempDir, writeCsvDataset, makeTexts } from './helpers/trainerFixtures';

describe('predict', function () {
  this.timeout(120_000);
  let dir: string;
  let runDir: string;
  let record: RunRecord;
  before(async () => {
    dir = tempDir('predict');
    const csv = writeCsvDataset(path.join(dir, 'ds'), 15, 5, 5);
    record = await runTraining({ config: { ...DEFAULT_CONFIG, dataset: csv, encoder: 'hashing:2048', epochs: 15, head: 'logreg' }, storeDir: path.join(dir, 'store') }, { onEvent: () => undefined });
    assert.equal(record.status, 'completed', JSON.stringify(record.error));
    runDir = path.join(dir, 'store', 'runs', record.id);
  });
  after(() => rmrf(dir));

  function copyRunWith(name: string, edit: (m: ModelFile) => ModelFile | string): string {
    const d = path.join(dir, name);
    fs.mkdirSync(path.join(d, 'model'), { recursive: true });
    const m = JSON.parse(fs.readFileSync(path.join(runDir, 'model', 'head.json'), 'utf8')) as ModelFile;
    const out = edit(m);
    fs.writeFileSync(path.join(d, 'model', 'head.json'), typeof out === 'string' ? out : JSON.stringify(out));
    return d;
  }

  it('maps resolved encoder ids back to specs', () => {
    assert.deepEqual(specFromEncoderId('hashing-v1-char1-4-cjk3-word2x1-16384'), { spec: 'hashing:16384' });
    assert.deepEqual(specFromEncoderId('use-lite-en-512'), { spec: 'use' });
    assert.deepEqual(specFromEncoderId('hf:Xenova/all-MiniLM-L6-v2'), { spec: 'hf:Xenova/all-MiniLM-L6-v2' });
    assert.deepEqual(specFromEncoderId('hf:/models/bge@q8'), { spec: 'hf:/models/bge', dtype: 'q8' });
    assert.deepEqual(specFromEncoderId('combo:use-lite-en-512+hashing-v1-char1-4-cjk3-word2x1-16384*0.8'), { spec: 'combo:use+hashing:16384*0.8', dtype: undefined });
  });

  it('predicts with the saved model: labels, sorted probabilities that sum to 1', async () => {
    const p = await loadPredictor(runDir);
    try {
      assert.deepEqual(p.labels, ['cooking', 'finance', 'sports']);
      assert.equal(p.encoderId, record.encoder!.id);
      const texts = [...makeTexts('cooking', 4, 901), ...makeTexts('finance', 4, 902), ...makeTexts('sports', 4, 903)];
      const out = await p.predict(texts);
      assert.equal(out.length, 12);
      for (const o of out) {
        assert.equal(o.label, o.probabilities[0].label);
        assert.equal(o.probabilities.length, 3);
        for (let i = 1; i < 3; i++) assert.ok(o.probabilities[i - 1].p >= o.probabilities[i].p);
        assert.ok(Math.abs(o.probabilities.reduce((a, b) => a + b.p, 0) - 1) < 1e-4);
      }
      const correct = out.filter((o, i) => o.label === ['cooking', 'finance', 'sports'][Math.floor(i / 4)]).length;
      assert.ok(correct >= 9, `${correct}/12 unseen texts right`);
      assert.deepEqual(await p.predict([]), []);
    } finally {
      p.dispose();
    }
  });

  it('toPrediction keeps label order on ties (same as argmax)', () => {
    assert.equal(toPrediction([0.25, 0.5, 0.25], ['a', 'b', 'c']).label, 'b');
    assert.deepEqual(toPrediction([0.5, 0.5], ['x', 'y']).probabilities.map((p) => p.label), ['x', 'y']);
  });

  it('names the missing run folder or model file', async () => {
    await assert.rejects(loadPredictor(path.join(dir, 'no-run')), (e: FewShotError) => e instanceof FewShotError && e.message.includes('no-run') && !!e.opts.fix);
    const empty = path.join(dir, 'empty-run');
    fs.mkdirSync(empty);
    await assert.rejects(loadPredictor(empty), (e: FewShotError) =>
      e.message.includes(path.join('model', 'head.json')) && e.opts.file === path.join(empty, 'model', 'head.json') && e.opts.code === 'model-missing');
  });

  it('rejects damaged or foreign model files with the file and a fix', () => {
    const broken = copyRunWith('broken', () => '{"labels": [');
    assert.throws(() => readModelFile(broken), (e: FewShotError) => e.opts.code === 'model-invalid' && e.message.includes('head.json'));
    const newer = copyRunWith('newer', (m) => ({ ...m, formatVersion: 99 }));
    assert.throws(() => readModelFile(newer), (e: FewShotError) => e.opts.code === 'model-too-new' && !!e.opts.fix);
    const oneLabel = copyRunWith('one-label', (m) => ({ ...m, labels: ['a'] }));
    assert.throws(() => readModelFile(oneLabel), /fewer than 2 labels/);
  });

  it('an encoder that cannot be loaded gives a clear error naming the model folder, not a hang', async () => {
    const missingModel = path.join(dir, 'models', 'gone-minilm');
    const d = copyRunWith('hf-missing', (m) => ({ ...m, encoder: { ...m.encoder, id: `hf:${missingModel}`, requested: `hf:${missingModel}` } }));
    const t = Date.now();
    await assert.rejects(loadPredictor(d), (e: FewShotError) => {
      assert.ok(e instanceof FewShotError, String(e));
      assert.ok(e.message.includes(missingModel), e.message);
      assert.ok(e.message.includes(`hf:${missingModel}`), 'names the encoder');
      assert.ok(e.opts.fix, 'has a fix');
      return true;
    });
    assert.ok(Date.now() - t < 20_000);
  });

  it('refuses an encoder whose vectors differ from the ones the head was trained on', async () => {
    const d = copyRunWith('dim-mismatch', (m) => ({ ...m, encoder: { ...m.encoder, id: 'hashing-v1-char1-4-cjk3-word2x1-4096', dim: 4096 } }));
    await assert.rejects(loadPredictor(d), (e: FewShotError) => e.opts.code === 'encoder-mismatch' && e.message.includes('2048-d'));
    // same dimension, but an encoder version this build cannot reproduce
    const other = copyRunWith('id-mismatch', (m) => ({ ...m, encoder: { ...m.encoder, id: 'hashing-v0-char2-5-cjk3-word2x1-2048' } }));
    await assert.rejects(loadPredictor(other), (e: FewShotError) => e.opts.code === 'encoder-mismatch' && e.message.includes('hashing-v0-char2-5') && !!e.opts.fix);
  });
});
