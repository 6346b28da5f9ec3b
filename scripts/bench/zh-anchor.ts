/**
 * Quick check of issue 14's Chinese target: the product's default (the real pipeline,
 * `runTraining` with DEFAULT_CONFIG) against scikit-learn's character TF-IDF linear probe
 * (scripts/bench/tfidf_anchor.py) on the same splits, in the same run. Splits are the
 * benchmark's own (fixedTestSplit: ≤ 20 test texts per class, group-disjoint; sampleK per seed).
 *
 *   node scripts/bench/zh-anchor.mjs --data a.jsonl [--data b.jsonl] [--k 8] [--seeds 5] [--set field=json]…
 *
 * `--set` overrides a field of the default config for a what-if run, e.g. `--set passages=false`
 * or `--set encoder='"hashing"'`.
 *
 * Python: FEWSHOT_SKLEARN_PYTHON, else the first of python3 / /usr/bin/python3 that imports scikit-learn.
 * Prints one line per seed and a summary per corpus (mean ± std macro-F1, default − anchor in
 * points, median training time of the default).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { fixedTestSplit, jsonlCorpus, sampleK } from './corpora';
import { fmt, mean, sklearnPython, writeDataset } from './report';
import { runTraining } from '../../src/core/train';
import { DEFAULT_CONFIG } from '../../src/core/config';
import type { TrainConfig } from '../../src/protocol/run';

function anchorPython(): string {
  const cands = [process.env.FEWSHOT_SKLEARN_PYTHON, 'python3', '/usr/bin/python3'];
  const found = sklearnPython(cands, 'numpy');
  if (!found) throw new Error(`no Python with scikit-learn among ${cands.filter(Boolean).join(', ')}: set FEWSHOT_SKLEARN_PYTHON to one (pip install scikit-learn)`);
  return found.exe;
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const data: string[] = [];
  let ks = [8];
  let seeds = 5;
  const set: Record<string, unknown> = {};
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--data') data.push(argv[++i]);
    else if (argv[i] === '--k') ks = argv[++i].split(',').map(Number);
    else if (argv[i] === '--seeds') seeds = Number(argv[++i]);
    else if (argv[i] === '--set') { const [f, ...v] = argv[++i].split('='); set[f] = JSON.parse(v.join('=')); }
    else throw new Error(`unknown argument ${argv[i]} (usage: --data f.jsonl … [--k 8] [--seeds 5] [--set field=json])`);
  }
  if (!data.length) throw new Error('give at least one --data file.jsonl');
  const py = anchorPython();
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'fewshot-zh-anchor-'));
  try {
    for (const file of data) {
      const corpus = jsonlCorpus(file);
      const split = fixedTestSplit(corpus, 20, 0);
      const labels = [...new Set(corpus.items.map((i) => i.label))].sort();
      const yTest = split.test.map((i) => labels.indexOf(i.label));
      for (const k of ks) {
        const ours: number[] = [];
        const ms: number[] = [];
        const jobs: object[] = [];
        for (let seed = 0; seed < seeds; seed++) {
          const train = sampleK(split.pool, k, seed);
          const cfg = { ...DEFAULT_CONFIG, ...set, dataset: writeDataset(path.join(work, `${corpus.name}-k${k}-s${seed}`), train, split.test), seed } as TrainConfig;
          const rec = await runTraining({ config: cfg, storeDir: path.join(work, 'store') }, { onEvent: () => {} });
          if (rec.status !== 'completed') throw new Error(`${corpus.name} K=${k} seed ${seed}: ${rec.error?.message}`);
          ours.push(rec.testMacroF1 ?? 0);
          ms.push(rec.timings.trainMs ?? NaN);
          jobs.push({ id: String(seed), train: train.map((i) => i.text), ytrain: train.map((i) => labels.indexOf(i.label)), test: split.test.map((i) => i.text), ytest: yTest, nclasses: labels.length });
        }
        const r = spawnSync(py, [path.join(process.cwd(), 'scripts', 'bench', 'tfidf_anchor.py')], { input: JSON.stringify(jobs), encoding: 'utf8', maxBuffer: 64 << 20, env: { ...process.env, OPENBLAS_NUM_THREADS: '1' } });
        if (r.status !== 0) throw new Error(`tfidf_anchor.py failed: ${r.stderr}`);
        const anchor = r.stdout.split('\n').filter(Boolean).map((l) => (JSON.parse(l) as { macro_f1: number }).macro_f1);
        ours.forEach((v, s) => console.log(`  ${corpus.name} K=${k} seed ${s}: default ${v.toFixed(3)}  anchor ${anchor[s].toFixed(3)}  (${ms[s].toFixed(0)} ms)`));
        const med = [...ms].sort((a, b) => a - b)[Math.floor(ms.length / 2)];
        console.log(`${corpus.name} K=${k} (${seeds} seeds, test ${split.test.length}): default ${fmt(ours)} vs char TF-IDF LR ${fmt(anchor)}: ${((mean(ours) - mean(anchor)) * 100).toFixed(1)} pts; default training median ${med.toFixed(0)} ms`);
      }
    }
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

main().catch((e) => { console.error(e instanceof Error ? e.message : e); process.exit(1); });
