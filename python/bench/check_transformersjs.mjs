// Loads a worker's output folder in transformers.js (@huggingface/transformers, from a local path, no
// remote models) and compares its test probabilities with the worker's `done` message.
//   node python/bench/check_transformersjs.mjs <outputDir> <job.json> <worker stdout (JSON lines)>
// Prints {"texts", "maxProbDiff", "labels"}.
import { AutoTokenizer, AutoModelForSequenceClassification, env } from '@huggingface/transformers';
import fs from 'node:fs';
import path from 'node:path';
const dir = process.argv[2];
const job = JSON.parse(fs.readFileSync(process.argv[3], 'utf8'));
const done = fs.readFileSync(process.argv[4], 'utf8').trim().split('\n').map(JSON.parse).find(m => m.type === 'done');
env.allowRemoteModels = false;
env.allowLocalModels = true;
env.localModelPath = path.dirname(dir) + '/';
const name = path.basename(dir);
const tok = await AutoTokenizer.from_pretrained(name);
const model = await AutoModelForSequenceClassification.from_pretrained(name, { dtype: 'fp32' });
let maxDiff = 0;
for (let i = 0; i < job.test.length; i++) {
  const inputs = await tok([job.test[i].text], { padding: true, truncation: true, max_length: job.settings.maxLength });
  const { logits } = await model(inputs);
  const l = Array.from(logits.data);
  const m = Math.max(...l); const e = l.map(x => Math.exp(x - m)); const s = e.reduce((a, b) => a + b);
  e.forEach((x, j) => { maxDiff = Math.max(maxDiff, Math.abs(x / s - done.testProbabilities[i][j])); });
}
console.log(JSON.stringify({ texts: job.test.length, maxProbDiff: maxDiff, labels: model.config.id2label }));
