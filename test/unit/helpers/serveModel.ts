/**
 * A tiny but real model for the server tests: the project's hashing encoder plus
 * a centroid head (class means of a few training texts), written as a run folder
 * with run.json + model/head.json and loaded with the real loadPredictor.
 * Predictions are computed, never canned.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createHashingEncoder } from '../../../src/core/encoders/hashing';
import type { ModelFile, Prediction, RunRecord } from '../../../src/protocol/run';
import type { ServePredictor } from '../../../src/core/serve';
import { loadPredictor } from '../../../src/core/predict';

export const TRAIN: Record<string, string[]> = {
  sports: ['the striker scored a late goal in the football match', 'the team won the basketball final', 'tennis champion wins the open in straight sets', 'the coach praised the defence after the cup game'],
  cooking: ['simmer the tomato sauce with garlic and basil', 'bake the bread at two hundred degrees', 'whisk the eggs with sugar and butter for the cake', 'season the soup with salt and pepper'],
  weather: ['heavy rain and strong wind expected tomorrow', 'sunny skies with a high of twenty degrees', 'snow storm warning for the northern region', 'fog in the morning then clouds and showers'],
};

export interface TinyModel {
  runDir: string;
  model: ModelFile;
  record: RunRecord;
  predictor: ServePredictor & { calls: number[]; dispose(): void };
  cleanup(): void;
}

export async function makeTinyModel(opts: { delayMs?: number } = {}): Promise<TinyModel> {
  const enc = createHashingEncoder({ dim: 1024 });
  const labels = Object.keys(TRAIN).sort();
  const dim = enc.dim;
  const centroids: number[] = [];
  for (const label of labels) {
    const vecs = await enc.embed(TRAIN[label]);
    const c = new Float64Array(dim);
    for (const v of vecs) for (let i = 0; i < dim; i++) c[i] += v[i] / vecs.length;
    let n = 0;
    for (let i = 0; i < dim; i++) n += c[i] * c[i];
    n = Math.sqrt(n) || 1;
    for (let i = 0; i < dim; i++) centroids.push(c[i] / n);
  }
  const model: ModelFile = {
    formatVersion: 1,
    labels,
    encoder: { id: enc.id, requested: 'hashing', dim, reason: 'test' },
    head: 'centroid',
    weights: [{ name: 'centroids', shape: [labels.length, dim], values: centroids }],
  };
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fewshot-serve-'));
  const runDir = path.join(dir, 'runs', '20260101-000000-tiny-abcd');
  fs.mkdirSync(path.join(runDir, 'model'), { recursive: true });
  fs.writeFileSync(path.join(runDir, 'model', 'head.json'), JSON.stringify(model));
  const record: RunRecord = {
    formatVersion: 1,
    id: path.basename(runDir),
    status: 'completed',
    createdAt: '2026-01-01T00:00:00.000Z',
    config: { dataset: '/data/tiny', encoder: 'hashing', head: 'centroid', epochs: 1, learningRate: 0.01, batchSize: 8, seed: 1, augment: 0, classWeighting: false, patience: 0, validationFraction: 0, backend: 'cpu' },
    versions: {},
    timings: {},
    testMacroF1: 0.8765,
  };
  fs.writeFileSync(path.join(runDir, 'run.json'), JSON.stringify(record));

  // The project's own loader and head: the same code `fewshot serve` uses.
  const real = await loadPredictor(runDir);
  const calls: number[] = [];
  const predictor = {
    labels: real.labels,
    encoderId: real.encoderId,
    calls,
    async predict(texts: string[]): Promise<Prediction[]> {
      calls.push(texts.length);
      if (opts.delayMs) await new Promise((r) => setTimeout(r, opts.delayMs));
      return real.predict(texts);
    },
    dispose() { real.dispose(); },
  };
  return { runDir, model, record, predictor, cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) };
}
