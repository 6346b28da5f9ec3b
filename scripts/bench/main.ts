/**
 * `npm run bench`: few-shot quality and speed of Few-Shot Lab against the
 * baselines a practitioner would use, on the same splits and features, in one run.
 *
 *   npm run bench [-- --quick] [--data file.jsonl|folder ...] [--k 4,8,16] [--seeds 5] [--heads] [--no-cache] [--out bench-results]
 *   npm run bench -- --scale [--sizes 1000,10000,100000] [--no-sklearn] [--crossover 250,500,1000|none]   (scripts/bench/scale.ts)
 *   npm run bench -- --finetune --model <HF model folder> [--data …] [--k 8,32] [--seeds 1] [--max-corpora N] [--no-timing]
 *
 * `--finetune` (issue 13; scripts/bench/finetune.ts) compares the quick default with method
 * 'finetune' (PyTorch worker, FEWSHOT_PYTHON or the `fewshot setup` venv) on the same splits, and
 * times the worker against the seed's plain Trainer script (python/bench/compare.py).
 *
 * Embeddings are cached across runs in .cache/bench/embeddings (the product's own cache
 * format; `--no-cache` uses a fresh one). `--lr-cv` adds scikit-learn LR with C chosen by 4-fold
 * GridSearchCV (slow on the 16k–64k-dim n-gram matrices: tens of minutes). `--heads` also trains the tfjs logreg/mlp heads
 * through the pipeline on every encoder (slow). `--data` takes JSONL files or folders of them;
 * 'npm' adds the corpora built from npm packages (the default when no --data is given).
 *
 * Quality protocol: K training texts per class, several seeds, a fixed
 * group-aware test set of up to 20 texts per class, macro-F1 mean ± std.
 * Every Few-Shot Lab cell goes through the real training pipeline
 * (`runTraining`, the code the CLI and the extension run). Baselines are fed
 * the identical embedding matrices (read back from the pipeline's cache).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { brownGenres, chinesePoetry, Corpus, fixedTestSplit, jsonlCorpus, sampleK, spamAssassin } from './corpora';
import { fmt, machineInfo, mean, nodeVersions, std, writeDataset, writeReport } from './report';
import { finetuneBench } from './finetune';
import { scaleBench, scaleChild } from './scale';
import { runTraining } from '../../src/core/train';
import { DEFAULT_CONFIG } from '../../src/core/config';
import { createEncoder, resolveAuto, withEmbeddingCache } from '../../src/core/encoders';
import { trainHead, selectBackend } from '../../src/core/heads';
import { macroF1 } from '../../src/core/metrics';
import type { TrainConfig, HeadKind } from '../../src/protocol/run';

export interface Args { finetune: boolean; timing?: boolean; model?: string; maxCorpora?: number; quick: boolean; data: string[]; ks: number[]; seeds: number; out: string; encoders?: string[]; heads: boolean; cache: boolean; lrcv: boolean }

function parseArgs(argv: string[]): Args {
  const a: Args = { finetune: false, quick: false, data: [], ks: [4, 8, 16, 32], seeds: 5, out: 'bench-results', heads: false, cache: true, lrcv: false };
  for (let i = 0; i < argv.length; i++) {
    const v = argv[i];
    if (v === '--quick') a.quick = true;
    else if (v === '--data') a.data.push(argv[++i]);
    else if (v === '--k') a.ks = argv[++i].split(',').map(Number);
    else if (v === '--seeds') a.seeds = Number(argv[++i]);
    else if (v === '--out') a.out = argv[++i];
    else if (v === '--encoders') a.encoders = argv[++i].split(',');
    else if (v === '--heads') a.heads = true;
    else if (v === '--lr-cv') a.lrcv = true;
    else if (v === '--no-cache') a.cache = false;
    else if (v === '--finetune') a.finetune = true;
    else if (v === '--no-timing') a.timing = false;
    else if (v === '--model') a.model = argv[++i];
    else if (v === '--max-corpora') a.maxCorpora = Number(argv[++i]);
    else if (v === '--help') {
      console.log('usage: npm run bench -- [--quick] [--data file.jsonl|folder|npm]... [--k 4,8,16] [--seeds 5] [--encoders hashing,use] [--heads] [--lr-cv] [--no-cache] [--out dir] [--max-corpora N]\n       npm run bench -- --finetune --model <model folder> [--data …] [--k 8,32] [--seeds 1] [--max-corpora N] [--no-timing]');
      process.exit(0);
    }
  }
  if (a.quick) {
    if (!argv.includes('--k')) a.ks = [8];
    if (!argv.includes('--seeds')) a.seeds = 3;
  }
  if (a.finetune) {
    if (!a.model) throw new Error('--finetune needs --model <folder> (a Hugging Face model folder, e.g. all-MiniLM-L6-v2)');
    if (!argv.includes('--k')) a.ks = [8, 32];
    if (!argv.includes('--seeds')) a.seeds = 1;
    a.cache = false; // cold runs: the quick default's time includes embedding, as fine-tuning's includes tokenising
  }
  return a;
}

function python(): { ok: boolean; why?: string; exe: string } {
  for (const exe of ['/usr/bin/python3', 'python3']) {
    const r = spawnSync(exe, ['-c', 'import sklearn, numpy; print(sklearn.__version__)'], { encoding: 'utf8' });
    if (r.status === 0) return { ok: true, exe, why: `scikit-learn ${r.stdout.trim()}` };
  }
  return { ok: false, exe: '', why: 'python3 with scikit-learn not found (apt-get install python3-sklearn)' };
}

interface Cell { scores: number[] }
type Table = Map<string, Map<string, Cell>>; // corpus@K -> column -> scores

function record(t: Table, row: string, col: string, v: number) {
  const r = t.get(row) ?? new Map<string, Cell>();
  t.set(row, r);
  const c = r.get(col) ?? { scores: [] };
  r.set(col, c);
  c.scores.push(v);
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const started = Date.now();
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'fewshot-bench-'));
  const storeDir = path.join(work, 'store');
  // Persistent embedding cache shared by every bench run (USE-lite is the slow part).
  const cacheLink = path.join(storeDir, 'cache', 'embeddings');
  if (args.cache) {
    const persistent = path.join(process.cwd(), '.cache', 'bench', 'embeddings');
    fs.mkdirSync(persistent, { recursive: true });
    fs.mkdirSync(path.dirname(cacheLink), { recursive: true });
    fs.symlinkSync(persistent, cacheLink, 'dir');
  }
  const py = python();
  const log = (m: string) => process.stderr.write(m + '\n');

  const corpora: Corpus[] = [];
  if (!args.data.length || args.data.includes('npm')) {
    for (const c of [spamAssassin(args.quick ? 120 : 300), brownGenres(args.quick ? 60 : 120), chinesePoetry(args.quick ? 80 : 200)]) if (c) corpora.push(c);
  }
  for (const f of args.data.filter((d) => d !== 'npm')) {
    if (fs.statSync(f).isDirectory()) for (const g of fs.readdirSync(f).filter((x) => x.endsWith('.jsonl')).sort()) corpora.push(jsonlCorpus(path.join(f, g)));
    else corpora.push(jsonlCorpus(f));
  }
  if (args.quick && corpora.length > 3) corpora.splice(3);
  if (args.maxCorpora) corpora.splice(args.maxCorpora);
  if (args.finetune) {
    await finetuneBench(args, corpora, work, log);
    fs.rmSync(work, { recursive: true, force: true });
    return;
  }

  const quality: Table = new Map();
  const speed: Record<string, unknown>[] = [];
  const probeJobs: { id: string; row: string; col: string; train: string; test: string; dim: number; ytrain: number[]; ytest: number[]; nclasses: number; cv: boolean }[] = [];
  const headTimes: Record<string, number[]> = {};
  const firstEpoch: number[] = [];
  const defaultTrainMs: Record<string, number[]> = {};
  let jobN = 0;

  for (const corpus of corpora) {
    const split = fixedTestSplit(corpus, 20, 0);
    const labels = [...new Set(corpus.items.map((i) => i.label))].sort();
    // Baseline features: the encoders a practitioner would try, plus whatever 'auto' (the default) resolves to.
    const autoSpec = resolveAuto({ language: corpus.language }).spec;
    const encoders = args.encoders ?? [...new Set([...(corpus.language === 'en' ? ['hashing', 'use', 'combo:use+hashing'] : ['hashing']), autoSpec])];
    log(`\n== ${corpus.name} (${corpus.language}, ${labels.length} classes, test ${split.test.length}, pool ${split.pool.length}) encoders: ${encoders.join(', ')}`);

    // Speed: embedding throughput per encoder on the test texts, cold (no cache), and the runtime called directly.
    // (combos are not timed separately: their cost is the sum of their parts)
    for (const spec of encoders.filter((e) => !e.startsWith('combo:'))) {
      const { encoder, info } = await createEncoder(spec, { language: corpus.language, log: () => {} });
      const texts = split.test.map((i) => i.text).slice(0, args.quick ? 16 : 64);
      const t0 = performance.now();
      await encoder.embed(texts);
      const ms = performance.now() - t0;
      speed.push({ corpus: corpus.name, encoder: info.id, requested: spec, texts: texts.length, meanChars: Math.round(mean(texts.map((t) => t.length))), textsPerSec: +(texts.length / (ms / 1000)).toFixed(1) });
      encoder.dispose?.();
    }

    for (const k of args.ks) {
      const row = `${corpus.name}@K=${k}`;
      for (let seed = 0; seed < args.seeds; seed++) {
        const train = sampleK(split.pool, k, seed);
        if (new Set(train.map((i) => i.label)).size < labels.length) continue;
        const yTrain = train.map((i) => labels.indexOf(i.label));
        const yTest = split.test.map((i) => labels.indexOf(i.label));
        const data = writeDataset(path.join(work, `${corpus.name}-k${k}-s${seed}`), train, split.test);

        // Majority class (of the training sample; ties → first label).
        const counts = labels.map((_, c) => yTrain.filter((y) => y === c).length);
        const maj = counts.indexOf(Math.max(...counts));
        record(quality, row, 'Majority', macroF1(yTest, yTest.map(() => maj), labels.length));

        // Few-Shot Lab default: the pipeline with DEFAULT_CONFIG, as a user gets it.
        const cfg: TrainConfig = { ...DEFAULT_CONFIG, dataset: data, seed } as TrainConfig;
        const rec = await runTraining({ config: cfg, storeDir }, { onEvent: () => {} });
        if (rec.status !== 'completed') throw new Error(`default run failed on ${row}: ${rec.error?.message}`);
        record(quality, row, 'FSL default', rec.testMacroF1 ?? 0);
        if (rec.timings.firstEpochMs) firstEpoch.push(rec.timings.firstEpochMs);
        if (rec.timings.trainMs !== undefined) (defaultTrainMs[`${corpus.name} K=${k} ${rec.encoder?.id}`] ??= []).push(rec.timings.trainMs);

        // Per encoder: our heads through the pipeline, and baselines on the identical matrices.
        for (const spec of encoders) {
          const { encoder: base, info } = await createEncoder(spec, { language: corpus.language, log: () => {} });
          const enc = withEmbeddingCache(base, path.join(storeDir, 'cache', 'embeddings'));
          const xTrain = await enc.embed(train.map((i) => i.text));
          const xTest = await enc.embed(split.test.map((i) => i.text));
          const short = spec.replace('combo:', '');
          // Nearest centroid (cosine), computed here in plain JS.
          const cents = labels.map((_, c) => {
            const v = new Float64Array(info.dim);
            xTrain.forEach((x, i) => { if (yTrain[i] === c) for (let d = 0; d < v.length; d++) v[d] += x[d]; });
            const n = Math.hypot(...v) || 1;
            return v.map((x) => x / n);
          });
          const ncPred = xTest.map((x) => {
            let best = 0, bs = -Infinity;
            cents.forEach((c, j) => { let s = 0; for (let d = 0; d < c.length; d++) s += c[d] * x[d]; if (s > bs) { bs = s; best = j; } });
            return best;
          });
          record(quality, row, `NC ${short}`, macroF1(yTest, ncPred, labels.length));

          // Our heads through the pipeline, same encoder.
          for (const head of (args.heads ? ['logreg', 'mlp'] : []) as HeadKind[]) {
            const r = await runTraining({ config: { ...cfg, encoder: spec, head }, storeDir }, { onEvent: () => {} }).catch((e) => ({ status: 'failed', error: { message: String(e) } }) as never);
            if (r.status === 'completed') record(quality, row, `FSL ${head} ${short}`, r.testMacroF1 ?? 0);
            else log(`  ${row} ${head} ${short}: ${r.error?.message}`);
          }

          // Head training time on the same matrix (20 epochs, no early stopping) for the speed table.
          if (seed === 0) {
            const t0 = performance.now();
            await trainHead(xTrain, yTrain, [], [], { kind: 'logreg', epochs: 20, learningRate: 0.01, batchSize: 32, seed: 0, patience: 0, labels });
            (headTimes[`${corpus.name} K=${k} ${info.id}`] ??= []).push(performance.now() - t0);
          }

          // scikit-learn linear probe on the identical matrices.
          if (py.ok) {
            const id = `j${jobN++}`;
            const f32 = (xs: Float32Array[], f: string) => {
              const buf = new Float32Array(xs.length * info.dim);
              xs.forEach((x, i) => buf.set(x, i * info.dim));
              fs.writeFileSync(f, Buffer.from(buf.buffer));
              return f;
            };
            probeJobs.push({
              id, row, col: `LR ${short}`, dim: info.dim, nclasses: labels.length, ytrain: yTrain, ytest: yTest, cv: args.lrcv,
              train: f32(xTrain, path.join(work, `${id}-train.f32`)), test: f32(xTest, path.join(work, `${id}-test.f32`)),
            });
          }
          base.dispose?.();
        }
        log(`  ${row} seed ${seed}: default ${(rec.testMacroF1 ?? 0).toFixed(3)} (${rec.encoder?.id}, ${rec.config.head})`);
      }
    }
  }

  // Run the scikit-learn probe once over all jobs.
  const sk: Record<string, number[]> = {};
  if (py.ok && probeJobs.length) {
    log(`\n== scikit-learn LogisticRegression on ${probeJobs.length} matrices`);
    const r = spawnSync(py.exe, [path.join(__dirname, '..', '..', 'scripts', 'bench', 'sklearn_probe.py')], {
      input: JSON.stringify(probeJobs.map(({ row: _r, col: _c, ...j }) => j)), encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, env: { ...process.env, OPENBLAS_NUM_THREADS: '1' },
    });
    if (r.status !== 0) log(`scikit-learn probe failed: ${r.stderr}`);
    for (const line of r.stdout.split('\n').filter(Boolean)) {
      const o = JSON.parse(line) as { id: string; macro_f1: number; fit_s: number; cv_macro_f1?: number; cv_fit_s?: number };
      const job = probeJobs.find((j) => j.id === o.id)!;
      record(quality, job.row, job.col, o.macro_f1);
      if (o.cv_macro_f1 !== undefined) record(quality, job.row, job.col.replace('LR', 'LR-CV'), o.cv_macro_f1);
      (sk[job.col] ??= []).push(o.fit_s * 1000);
    }
  }

  // ---- output
  const backend = await selectBackend('auto');
  const versions = nodeVersions();
  const machine = machineInfo(backend.name);
  const cols = [...new Set([...quality.values()].flatMap((r) => [...r.keys()]))];
  const order = (c: string) => (c === 'FSL default' ? 0 : c === 'Majority' ? 1 : c.startsWith('LR-CV') ? 4 : c.startsWith('LR') ? 3 : c.startsWith('NC') ? 2 : 5);
  cols.sort((a, b) => order(a) - order(b) || a.localeCompare(b));
  const md: string[] = [];
  md.push(`# Few-Shot Lab benchmark — ${new Date().toISOString().slice(0, 10)}`, '');
  md.push(`Machine: ${machine.cpus} × ${machine.cpu}, ${machine.memGiB} GiB, ${machine.platform}; head backend ${machine.backend}. Versions: ${Object.entries(versions).map(([k, v]) => `${k} ${v}`).join(', ')}. Baseline: ${py.ok ? py.why : `not run — ${py.why}`}.`, '');
  md.push(`Protocol: K training texts per class, ${args.seeds} seeds, fixed group-aware test set (≤20 per class), macro-F1 mean±std. "FSL default" is the product's default pipeline; LR = scikit-learn LogisticRegression(max_iter=2000) on the identical embedding matrices; LR-CV chooses C by CV; NC = nearest centroid.`, '');
  md.push(`| corpus @ K | ${cols.join(' | ')} |`, `|---|${cols.map(() => '---').join('|')}|`);
  for (const [row, r] of quality) {
    const best = Math.max(...cols.map((c) => (r.get(c) ? mean(r.get(c)!.scores) : -1)));
    md.push(`| ${row} | ${cols.map((c) => { const s = r.get(c)?.scores; if (!s) return 'n/a'; const t = fmt(s); return mean(s) === best ? `**${t}**` : t; }).join(' | ')} |`);
  }
  // Default vs best LR at each row.
  const deltas: string[] = [];
  const gains: number[] = [];
  for (const [row, r] of quality) {
    const d = r.get('FSL default');
    const lrs = [...r.entries()].filter(([c]) => c.startsWith('LR ')).map(([, v]) => mean(v.scores));
    const best = [...r.entries()].filter(([c]) => c.startsWith('LR ')).sort((a, b) => mean(b[1].scores) - mean(a[1].scores))[0];
    const cvs = [...r.entries()].filter(([c]) => c.startsWith('LR-CV ')).map(([, v]) => mean(v.scores));
    if (d && lrs.length) gains.push(mean(d.scores) - Math.max(...lrs));
    if (d && lrs.length) {
      deltas.push(`${row}: default ${fmt(d.scores)} vs best LR ${fmt(best[1].scores)} (${best[0]}): ${((mean(d.scores) - Math.max(...lrs)) * 100).toFixed(1)} pts`
        + (cvs.length ? `; vs best LR-CV ${Math.max(...cvs).toFixed(3)}: ${((mean(d.scores) - Math.max(...cvs)) * 100).toFixed(1)} pts` : ''));
    }
  }
  md.push('', '## Default vs scikit-learn linear probe', '', ...deltas.map((d) => `- ${d}`));
  if (gains.length) md.push('', `Mean gain of the default over the best LR column: ${(mean(gains) * 100).toFixed(1)} pts (min ${(Math.min(...gains) * 100).toFixed(1)}, rows where the default loses: ${gains.filter((g) => g < 0).length} of ${gains.length}).`);
  md.push('', '## Speed', '', '| corpus | encoder | texts | mean chars | texts/s (cold) |', '|---|---|---|---|---|');
  for (const s of speed) md.push(`| ${s.corpus} | ${s.encoder} | ${s.texts} | ${s.meanChars} | ${s.textsPerSec} |`);
  md.push('', '| default head training (runTraining timings.trainMs, mean over seeds) | ms |', '|---|---|');
  for (const [k, v] of Object.entries(defaultTrainMs)) md.push(`| ${k} | ${mean(v).toFixed(0)} |`);
  md.push('', '| head training (20 epochs, tfjs logreg) | ms |', '|---|---|');
  for (const [k, v] of Object.entries(headTimes)) md.push(`| ${k} | ${mean(v).toFixed(0)} |`);
  for (const [k, v] of Object.entries(sk)) md.push(`| scikit-learn fit, ${k} (median) | ${v.sort((a, b) => a - b)[Math.floor(v.length / 2)].toFixed(0)} |`);
  md.push('', `Time to the first progress point (pipeline, warm cache; default head: first CV-scored configuration): median ${firstEpoch.sort((a, b) => a - b)[Math.floor(firstEpoch.length / 2)] ?? 'n/a'} ms. Peak RSS: ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB. Wall time: ${((Date.now() - started) / 1000).toFixed(0)} s.`);
  const text = md.join('\n') + '\n';
  const json = { defaultTrainMs, date: new Date().toISOString(), machine, versions, args, baseline: py.why, quality: Object.fromEntries([...quality].map(([r, m]) => [r, Object.fromEntries([...m].map(([c, v]) => [c, { mean: mean(v.scores), std: std(v.scores), scores: v.scores }]))])), speed, headTimesMs: headTimes, sklearnFitMs: sk, firstEpochMs: firstEpoch, peakRssMiB: process.resourceUsage().maxRSS / 1024, wallS: (Date.now() - started) / 1000 };
  writeReport(args.out, `bench-${args.quick ? 'quick-' : ''}`, text, json);
  if (args.cache) fs.unlinkSync(cacheLink); // never delete the persistent cache through the link
  fs.rmSync(work, { recursive: true, force: true });
}

const argv = process.argv.slice(2);
// `--scale` (issue 16, scripts/bench/scale.ts): the scale table; `--scale-child` is one of its training processes
const run = argv[0] === '--scale-child' ? scaleChild(argv[1], argv[2], argv[3])
  : argv.includes('--scale') ? scaleBench(argv.filter((v) => v !== '--scale'), process.argv[1])
  : main();
run.catch((e) => {
  console.error(e instanceof Error ? e.stack : e);
  process.exit(1);
});
