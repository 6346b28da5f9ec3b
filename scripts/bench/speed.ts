/**
 * `npm run bench -- --speed [--data file.jsonl]`: the quick default's speed targets (issue 14), each measured in a
 * fresh process of the built CLI (`dist/cli.js`, what users run), on 100 short texts (≤ 200 characters, balanced
 * over the classes, of the first corpus that has them; 80 train + 20 test):
 *  - cold: a new run store (no embedding cache), so every encoder loads and embeds every text;
 *  - cached: the same dataset again in the same store (embeddings from the cache);
 *  - predict: the warm predictor of the cold run (src/core/predict, as Predict Selection and serve use it),
 *    one short text per call, 10 warm-up calls then 100 timed calls: p50 / p95 wall ms.
 * Times are wall clock of the whole process (start, load, embed, fit, evaluate, save).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { fixedTestSplit, sampleK, type Corpus, type Item } from './corpora';
import { machineInfo, nodeVersions, writeReport } from './report';
import { loadPredictor } from '../../src/core/predict';

export async function speedBench(args: { out: string }, corpora: Corpus[], work: string, log: (m: string) => void): Promise<void> {
  const cli = path.resolve('dist', 'cli.js');
  if (!fs.existsSync(cli)) throw new Error('dist/cli.js is missing: run `npm run build` first');
  const corpus = corpora.find((c) => c.language === 'en' && shortPool(c).length >= 100);
  if (!corpus) throw new Error('--speed needs an English corpus with 100 texts of ≤ 200 characters (e.g. --data fortunes-topics-en.jsonl)');
  const items = balanced(shortPool(corpus), 100);
  const file = path.join(work, 'speed', 'data.jsonl');
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, items.map((it, i) => JSON.stringify({ text: it.text, label: it.label, split: i % 5 === 4 ? 'test' : 'train' })).join('\n') + '\n');
  const store = path.join(work, 'speed', 'store');
  const train = (label: string) => {
    const t0 = performance.now();
    const r = spawnSync(process.execPath, [cli, 'train', file, '--out', store, '--json'], { encoding: 'utf8', env: { ...process.env, ORT_DISABLE_TELEMETRY: '1' } });
    const s = (performance.now() - t0) / 1000;
    if (r.status !== 0) throw new Error(`${label} run failed: ${r.stderr.slice(-2000)}`);
    const out = JSON.parse(r.stdout) as { runDir: string; record: { encoder?: { id: string }; testMacroF1?: number; timings?: Record<string, number> } };
    const rec = out.record;
    log(`${label}: ${s.toFixed(2)} s (${rec.encoder?.id}, test macro-F1 ${rec.testMacroF1?.toFixed(3)})`);
    return { seconds: s, run: rec, runDir: out.runDir };
  };
  const cold = train('cold');
  const cached = train('cached');
  const predictor = await loadPredictor(cold.runDir);
  const texts = items.map((i) => i.text);
  const ms: number[] = [];
  for (let i = 0; i < 110; i++) {
    const t0 = performance.now();
    await predictor.predict([texts[i % texts.length]]);
    if (i >= 10) ms.push(performance.now() - t0);
  }
  predictor.dispose?.();
  ms.sort((a, b) => a - b);
  const p = (q: number) => ms[Math.min(ms.length - 1, Math.floor(q * ms.length))];
  const result = { corpus: corpus.name, texts: items.length, encoder: cold.run.encoder?.id, coldSeconds: cold.seconds, cachedSeconds: cached.seconds, predictP50Ms: p(0.5), predictP95Ms: p(0.95), coldTimings: cold.run.timings, cachedTimings: cached.run.timings };
  const md = [
    `# Few-Shot Lab speed — ${new Date().toISOString().slice(0, 10)}`, '',
    `Machine: ${JSON.stringify(machineInfo('n/a'))}. Versions: ${JSON.stringify(nodeVersions())}.`, '',
    `100 short texts of ${corpus.name} (≤ 200 characters, 80 train + 20 test), the quick default (\`fewshot train\`, encoder ${cold.run.encoder?.id}), wall time of the whole CLI process:`, '',
    '| measure | value | target |', '|---|---|---|',
    `| train, cold (new store, no embedding cache) | ${cold.seconds.toFixed(2)} s | ≤ 10 s |`,
    `| train, embeddings cached | ${cached.seconds.toFixed(2)} s | ≤ 1 s |`,
    `| predict one short text, warm predictor, p50 / p95 of 100 calls | ${p(0.5).toFixed(1)} / ${p(0.95).toFixed(1)} ms | p95 ≤ 100 ms |`, '',
  ].join('\n');
  writeReport(args.out, 'bench-speed-', md, result);
}

const shortPool = (c: Corpus): Item[] => fixedTestSplit(c, 20, 0).pool.filter((i) => i.text.length <= 200);

/** n items spread evenly over the labels (seeded), in label-interleaved order. */
function balanced(pool: Item[], n: number): Item[] {
  const labels = [...new Set(pool.map((i) => i.label))].sort();
  const per = Math.ceil(n / labels.length);
  const picked = sampleK(pool, per, 0);
  const byLabel = labels.map((l) => picked.filter((i) => i.label === l));
  const out: Item[] = [];
  for (let r = 0; out.length < n && r < per; r++) for (const g of byLabel) if (g[r] && out.length < n) out.push(g[r]);
  return out;
}
