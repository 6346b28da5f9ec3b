/**
 * `npm run bench`: few-shot quality and speed of Few-Shot Lab against the
 * baselines a practitioner would use, on the same splits and features, in one run.
 *
 *   npm run bench [-- --quick] [--data file.jsonl|folder ...] [--k 4,8,16] [--seeds 5] [--heads] [--no-cache] [--out bench-results]
 *   npm run bench -- --speed --data <English JSONL with 100 short texts>   (scripts/bench/speed.ts)
 *   npm run bench -- --active [--data …] [--seeds 5] [--rounds 5] [--start 2] [--batch N|classes]   (scripts/bench/active.ts: annotator simulation)
 *   npm run bench -- --labels [--data …] [--k 8,16] [--seeds 5] [--noise 0.1]   (scripts/bench/labels.ts: label-error detection vs cleanlab)
 *   npm run bench -- --images [--data <image folder>] [--k 4,8,16] [--seeds 5] [--augment 4] [--pixels 16]   (scripts/bench/images.ts: issue 17)
 *   npm run bench -- --scale [--sizes 1000,10000,100000] [--no-sklearn] [--crossover 250,500,1000|none]   (scripts/bench/scale.ts)
 *   npm run bench -- --finetune --model <HF model folder> [--data …] [--k 8,32] [--seeds 1] [--max-corpora N] [--no-timing]
 *   npm run bench -- [--minilm <encoder spec>] [--setfit --setfit-model <sentence-transformer folder> [--setfit-max-steps N]] […]
 *
 * `--finetune` (issue 13; scripts/bench/finetune.ts) compares the quick default with method
 * 'finetune' (PyTorch worker, FEWSHOT_PYTHON or the `fewshot setup` venv) on the same splits, and
 * times the worker against the seed's plain Trainer script (python/bench/compare.py).
 *
 * Embeddings are cached across runs in .cache/bench/embeddings (the product's own cache
 * format; `--no-cache` uses a fresh one). `--lr-cv` adds scikit-learn LR with C chosen by 4-fold
 * GridSearchCV (slow on the 16k–64k-dim n-gram matrices: tens of minutes). `--heads` also trains the tfjs logreg/mlp heads
 * through the pipeline on every encoder (slow). `--data` takes JSONL files or folders of them;
 * 'npm' adds the corpora built from npm packages (the default when no --data is given); 'npm:<name>' adds one of them.
 *
 * Quality protocol: K training texts per class, several seeds, a fixed
 * group-aware test set of up to 20 texts per class, macro-F1 mean ± std.
 * Every Few-Shot Lab cell goes through the real training pipeline
 * (`runTraining`, the code the CLI and the extension run). Baselines are fed
 * the identical embedding matrices (read back from the pipeline's cache).
 *
 * Issue 14 columns (scripts/bench/columns.ts), same run, same splits, each with its time per run:
 * the quick pipeline with the MiniLM encoder ('minilm', or `--minilm <spec>` such as hf:<folder>)
 * alone and with n-gram hashing, LR/NC on the MiniLM matrices, the character TF-IDF anchor of
 * ../shared/ANCHORS.md, and with `--setfit`: method 'setfit' through runTraining and the setfit
 * library's default recipe on the same body (python/bench/setfit_default.py, FEWSHOT_PYTHON).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { brownGenres, chinesePoetry, Corpus, fixedTestSplit, jsonlCorpus, sampleK, spamAssassin } from './corpora';
import { fmt, machineInfo, mean, nodeVersions, sklearnPython, std, writeDataset, writeReport } from './report';
import { finetuneBench } from './finetune';
import { speedBench } from './speed';
import { COL_DEFAULT, COL_SETFIT, COL_SETFIT_LIB, COL_TFIDF, columnOrder, encoderLabel, gainLines, setfitSplit, tfidfJob, type RowScores } from './columns';
import { scaleBench, scaleChild } from './scale';
import { activeBench } from './active';
import { labelsBench } from './labels';
import { imagesBench } from './images';
import { runTraining } from '../../src/core/train';
import { DEFAULT_CONFIG } from '../../src/core/config';
import { checkModelFolder, createEncoder, parseEncoderSpec, resolveAuto, withEmbeddingCache } from '../../src/core/encoders';
import { findPython } from '../../src/core/finetune/python';
import { trainHead, selectBackend } from '../../src/core/heads';
import { macroF1 } from '../../src/core/metrics';
import type { TrainConfig, HeadKind } from '../../src/protocol/run';

export interface Args { speed?: boolean; minilm?: string; setfit: boolean; setfitModel?: string; setfitMaxSteps?: number; finetune: boolean; timing?: boolean; model?: string; maxCorpora?: number; quick: boolean; data: string[]; ks: number[]; seeds: number; out: string; encoders?: string[]; heads: boolean; cache: boolean; lrcv: boolean }

function parseArgs(argv: string[]): Args {
  const a: Args = { setfit: false, finetune: false, quick: false, data: [], ks: [4, 8, 16, 32], seeds: 5, out: 'bench-results', heads: false, cache: true, lrcv: false };
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
    else if (v === '--speed') a.speed = true;
    else if (v === '--no-timing') a.timing = false;
    else if (v === '--model') a.model = argv[++i];
    else if (v === '--max-corpora') a.maxCorpora = Number(argv[++i]);
    else if (v === '--minilm') a.minilm = argv[++i];
    else if (v === '--setfit') a.setfit = true;
    else if (v === '--setfit-model') a.setfitModel = argv[++i];
    else if (v === '--setfit-max-steps') a.setfitMaxSteps = Number(argv[++i]);
    else if (v === '--help') {
      console.log('usage: npm run bench -- [--quick] [--data file.jsonl|folder|npm|npm:<name>]... [--k 4,8,16] [--seeds 5] [--encoders hashing,use] [--heads] [--lr-cv] [--no-cache] [--out dir] [--max-corpora N] [--minilm <spec>] [--setfit --setfit-model <folder> [--setfit-max-steps N]]\n       npm run bench -- --labels [--data …] [--k 8,16] [--seeds 5] [--noise 0.1] [--encoder auto]\n       npm run bench -- --images [--data <image folder>] [--k 4,8,16] [--seeds 5] [--test-per-class 30] [--augment 4] [--pixels 16] [--no-cache]\n       npm run bench -- --finetune --model <model folder> [--data …] [--k 8,32] [--seeds 1] [--max-corpora N] [--no-timing]');
      process.exit(0);
    }
  }
  if (a.quick) {
    if (!argv.includes('--k')) a.ks = [8];
    if (!argv.includes('--seeds')) a.seeds = 3;
  }
  if (a.setfit && !a.setfitModel) throw new Error('--setfit needs --setfit-model <folder> (a sentence-transformer folder with PyTorch weights, e.g. all-MiniLM-L6-v2)');
  if (a.finetune) {
    if (!a.model) throw new Error('--finetune needs --model <folder> (a Hugging Face model folder, e.g. all-MiniLM-L6-v2)');
    if (!argv.includes('--k')) a.ks = [8, 32];
    if (!argv.includes('--seeds')) a.seeds = 1;
    a.cache = false; // cold runs: the quick default's time includes embedding, as fine-tuning's includes tokenising
  }
  return a;
}

function python(): { ok: boolean; why?: string; exe: string } {
  const found = sklearnPython();
  return found ? { ok: true, exe: found.exe, why: `scikit-learn ${found.version}` } : { ok: false, exe: '', why: 'python3 with scikit-learn not found (apt-get install python3-sklearn)' };
}

interface Cell { scores: number[]; ms: number[]; trainMs: number[] }
type Table = Map<string, Map<string, Cell>>; // corpus@K -> column -> scores and time per run

function record(t: Table, row: string, col: string, v: number, ms?: number, trainMs?: number) {
  const r = t.get(row) ?? new Map<string, Cell>();
  t.set(row, r);
  const c = r.get(col) ?? { scores: [], ms: [], trainMs: [] };
  r.set(col, c);
  c.scores.push(v);
  if (ms !== undefined) c.ms.push(ms);
  if (trainMs !== undefined) c.trainMs.push(trainMs);
}

/**
 * The MiniLM encoder spec: `--minilm <spec>`, else the built-in 'minilm', else models/all-MiniLM-L6-v2
 * through the hf encoder; undefined (with the reason) when none is usable.
 */
function minilmSpec(arg?: string): { spec?: string; why: string } {
  const tried: string[] = [];
  for (const spec of arg ? [arg] : ['minilm', `hf:${path.resolve('models', 'all-MiniLM-L6-v2')}`]) {
    try {
      const p = parseEncoderSpec(spec);
      if (p.kind === 'hf' && (path.isAbsolute(p.ref) || p.ref.startsWith('.'))) checkModelFolder(path.resolve(p.ref), p.dtype);
      return { spec, why: '' };
    } catch (e) { tried.push(`${spec}: ${(e as Error).message}`); }
  }
  return { why: `no MiniLM encoder (${tried.join('; ')}); pass --minilm hf:<ONNX model folder>` };
}

interface SetfitLibResult { macroF1: number; seconds: number; trainSeconds: number; cpuSeconds?: number; steps: number | null; deviations: Record<string, unknown>; setfit: string }

/** Runs python/bench/setfit_default.py on one split; the error (first stderr lines) instead of a result when it fails. */
function setfitLibrary(exe: string, split: ReturnType<typeof setfitSplit>): SetfitLibResult | { error: string } {
  const script = path.join(process.cwd(), 'python', 'bench', 'setfit_default.py');
  const r = spawnSync(exe, [script], { input: JSON.stringify(split), encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (r.error) return { error: `${exe} ${script}: ${r.error.message}` };
  if (r.status !== 0) {
    const err = (r.stderr ?? '').trim().split('\n');
    const own = err.find((l) => l.startsWith('setfit_default.py:'));
    return { error: own ?? `python/bench/setfit_default.py exited with ${r.status}: ${err.slice(-1)[0] ?? ''}` };
  }
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as SetfitLibResult;
}

/** Time one async call: its value and wall milliseconds. */
async function timed<T>(f: () => Promise<T>): Promise<{ v: T; ms: number }> {
  const t0 = performance.now();
  const v = await f();
  return { v, ms: performance.now() - t0 };
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
  const minilm = minilmSpec(args.minilm);
  if (!minilm.spec) log(`MiniLM columns skipped: ${minilm.why}`);
  const label = (spec: string) => encoderLabel(spec, minilm.spec);
  const quickSpecs = minilm.spec ? [minilm.spec, `combo:${minilm.spec}+hashing`] : [];
  const setfitModel = args.setfitModel ? path.resolve(args.setfitModel) : '';
  let setfitPython = '';
  if (args.setfit) setfitPython = findPython().path;
  /** Why a column is n/a (column -> reasons), shown under the table. */
  const failures = new Map<string, Set<string>>();
  const fail = (col: string, why: string) => { (failures.get(col) ?? failures.set(col, new Set()).get(col)!).add(why.split('\n')[0].slice(0, 300)); };
  const rowLanguage = new Map<string, string>();

  const corpora: Corpus[] = [];
  // 'npm' = the three npm corpora; 'npm:<name>' = one of them (e.g. npm:spamassassin-npm)
  const npmPicks = args.data.filter((d) => d === 'npm' || d.startsWith('npm:'));
  if (!args.data.length || npmPicks.length) {
    const builders: [string, () => Corpus | null][] = [
      ['spamassassin-npm', () => spamAssassin(args.quick ? 120 : 300)], ['brown-genres-npm', () => brownGenres(args.quick ? 60 : 120)], ['chinese-poetry-npm', () => chinesePoetry(args.quick ? 80 : 200)],
    ];
    const named = npmPicks.filter((d) => d !== 'npm').map((d) => d.slice(4));
    const unknown = named.filter((n) => !builders.some(([b]) => b === n));
    if (unknown.length) throw new Error(`--data npm:${unknown[0]}: no such npm corpus; use one of ${builders.map(([b]) => `npm:${b}`).join(', ')} or npm for all three`);
    const all = !args.data.length || npmPicks.includes('npm');
    for (const [name, build] of builders) if (all || named.includes(name)) { const c = build(); if (c) corpora.push(c); }
  }
  for (const f of args.data.filter((d) => d !== 'npm' && !d.startsWith('npm:'))) {
    if (fs.statSync(f).isDirectory()) for (const g of fs.readdirSync(f).filter((x) => x.endsWith('.jsonl')).sort()) corpora.push(jsonlCorpus(path.join(f, g)));
    else corpora.push(jsonlCorpus(f));
  }
  if (args.quick && corpora.length > 3) corpora.splice(3);
  if (args.maxCorpora) corpora.splice(args.maxCorpora);
  if (args.speed) {
    await speedBench(args, corpora, work, log);
    fs.rmSync(work, { recursive: true, force: true });
    return;
  }
  if (args.finetune) {
    await finetuneBench(args, corpora, work, log);
    fs.rmSync(work, { recursive: true, force: true });
    return;
  }

  const quality: Table = new Map();
  const speed: Record<string, unknown>[] = [];
  const probeJobs: { row: string; col: string; job: { id: string } & Record<string, unknown> }[] = [];
  const headTimes: Record<string, number[]> = {};
  const firstEpoch: number[] = [];
  const defaultTrainMs: Record<string, number[]> = {};
  const setfitLib: ({ row: string; seed: number } & SetfitLibResult)[] = [];
  let jobN = 0;

  for (const corpus of corpora) {
    const split = fixedTestSplit(corpus, 20, 0);
    const labels = [...new Set(corpus.items.map((i) => i.label))].sort();
    // Baseline features: the encoders a practitioner would try, plus whatever 'auto' (the default) resolves to.
    const autoSpec = resolveAuto({ language: corpus.language }).spec;
    const encoders = args.encoders ?? [...new Set([...(corpus.language === 'en' ? ['hashing', 'use', 'combo:use+hashing'] : ['hashing']), autoSpec, ...quickSpecs])];
    log(`\n== ${corpus.name} (${corpus.language}, ${labels.length} classes, test ${split.test.length}, pool ${split.pool.length}) encoders: ${encoders.map(label).join(', ')}`);

    // Speed: embedding throughput per encoder on the test texts, cold (no cache), and the runtime called directly.
    // (combos are not timed separately: their cost is the sum of their parts)
    for (const spec of encoders.filter((e) => !e.startsWith('combo:'))) {
      try {
        const { encoder, info } = await createEncoder(spec, { language: corpus.language, log: () => {} });
        const texts = split.test.map((i) => i.text).slice(0, args.quick ? 16 : 64);
        const t0 = performance.now();
        await encoder.embed(texts);
        const ms = performance.now() - t0;
        speed.push({ corpus: corpus.name, encoder: info.id, requested: spec, texts: texts.length, meanChars: Math.round(mean(texts.map((t) => t.length))), textsPerSec: +(texts.length / (ms / 1000)).toFixed(1) });
        encoder.dispose?.();
      } catch (e) { log(`  speed of ${spec} not measured: ${(e as Error).message}`); }
    }

    for (const k of args.ks) {
      const row = `${corpus.name}@K=${k}`;
      rowLanguage.set(row, corpus.language);
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
        const { v: rec, ms: defaultMs } = await timed(() => runTraining({ config: cfg, storeDir }, { onEvent: () => {} }));
        if (rec.status !== 'completed') throw new Error(`default run failed on ${row}: ${rec.error?.message}`);
        record(quality, row, COL_DEFAULT, rec.testMacroF1 ?? 0, defaultMs, rec.timings.trainMs);
        if (rec.timings.firstEpochMs) firstEpoch.push(rec.timings.firstEpochMs);
        if (rec.timings.trainMs !== undefined) (defaultTrainMs[`${corpus.name} K=${k} ${rec.encoder?.id}`] ??= []).push(rec.timings.trainMs);

        // The quick pipeline with the MiniLM encoder, alone and with n-gram hashing (issue 14).
        for (const spec of quickSpecs) {
          const c = `FSL quick ${label(spec)}`;
          const { v: r, ms } = await timed(() => runTraining({ config: { ...cfg, encoder: spec }, storeDir }, { onEvent: () => {} }).catch((e) => ({ status: 'failed', error: { message: String(e) } }) as never));
          if (r.status === 'completed') record(quality, row, c, r.testMacroF1 ?? 0, ms, r.timings.trainMs);
          else fail(c, r.error?.message ?? 'failed');
        }

        // The character TF-IDF anchor of ../shared/ANCHORS.md, on the same split.
        if (py.ok) probeJobs.push({ row, col: COL_TFIDF, job: { ...tfidfJob(`j${jobN++}`, train, split.test, labels) } });

        if (args.setfit) {
          // Our SetFit (method 'setfit' through the product pipeline) on the same body.
          const { v: r, ms } = await timed(() => runTraining({ config: { ...cfg, method: 'setfit', setfit: { model: setfitModel } } as TrainConfig, storeDir }, { onEvent: () => {} }).catch((e) => ({ status: 'failed', error: { message: String(e) } }) as never));
          if (r.status === 'completed') record(quality, row, COL_SETFIT, r.testMacroF1 ?? 0, ms, r.timings.trainMs);
          else fail(COL_SETFIT, r.error?.message ?? 'failed');
          // The setfit library's own default recipe on the same body and split (the peer anchor).
          const lib = setfitLibrary(setfitPython, setfitSplit(setfitModel, train, split.test, labels, args.setfitMaxSteps));
          if ('error' in lib) fail(COL_SETFIT_LIB, lib.error);
          else {
            record(quality, row, COL_SETFIT_LIB, lib.macroF1, lib.seconds * 1000, lib.trainSeconds * 1000);
            setfitLib.push({ row, seed, ...lib });
          }
          log(`  ${row} seed ${seed}: FSL SetFit ${r.status === 'completed' ? (r.testMacroF1 ?? 0).toFixed(3) : 'n/a'} in ${(ms / 1000).toFixed(0)} s; setfit library default ${'error' in lib ? 'n/a' : `${lib.macroF1.toFixed(3)} in ${lib.seconds.toFixed(0)} s (${lib.steps} steps)`}`);
        }

        // Per encoder: our heads through the pipeline, and baselines on the identical matrices.
        for (const spec of encoders) {
          const short = label(spec);
          let embedded;
          try {
            const { encoder: base, info } = await createEncoder(spec, { language: corpus.language, log: () => {} });
            const enc = withEmbeddingCache(base, path.join(storeDir, 'cache', 'embeddings'));
            embedded = { base, info, xTrain: await enc.embed(train.map((i) => i.text)), xTest: await enc.embed(split.test.map((i) => i.text)) };
          } catch (e) {
            for (const c of [`NC ${short}`, `LR ${short}`]) fail(c, `encoder ${spec}: ${(e as Error).message}`);
            continue;
          }
          const { base, info, xTrain, xTest } = embedded;
          // Nearest centroid (cosine), computed here in plain JS.
          const t0 = performance.now();
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
          record(quality, row, `NC ${short}`, macroF1(yTest, ncPred, labels.length), performance.now() - t0);

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
              row, col: `LR ${short}`, job: {
                id, dim: info.dim, nclasses: labels.length, ytrain: yTrain, ytest: yTest, cv: args.lrcv,
                train: f32(xTrain, path.join(work, `${id}-train.f32`)), test: f32(xTest, path.join(work, `${id}-test.f32`)),
              },
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
      input: JSON.stringify(probeJobs.map((p) => p.job)), encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, env: { ...process.env, OPENBLAS_NUM_THREADS: '1' },
    });
    if (r.status !== 0) log(`scikit-learn probe failed: ${r.stderr}`);
    for (const line of r.stdout.split('\n').filter(Boolean)) {
      const o = JSON.parse(line) as { id: string; macro_f1: number; fit_s: number; cv_macro_f1?: number; cv_fit_s?: number };
      const job = probeJobs.find((j) => j.job.id === o.id)!;
      record(quality, job.row, job.col, o.macro_f1, o.fit_s * 1000);
      if (o.cv_macro_f1 !== undefined) record(quality, job.row, job.col.replace('LR', 'LR-CV'), o.cv_macro_f1);
      (sk[job.col] ??= []).push(o.fit_s * 1000);
    }
  }

  // ---- output
  const backend = await selectBackend('auto');
  const versions = nodeVersions();
  const machine = machineInfo(backend.name);
  const cols = [...new Set([...quality.values()].flatMap((r) => [...r.keys()]))];
  for (const c of failures.keys()) if (!cols.includes(c)) cols.push(c);
  cols.sort((a, b) => columnOrder(a) - columnOrder(b) || a.localeCompare(b));
  const notes = [...failures.keys()];
  const md: string[] = [];
  md.push(`# Few-Shot Lab benchmark — ${new Date().toISOString().slice(0, 10)}`, '');
  md.push(`Machine: ${machine.cpus} × ${machine.cpu}, ${machine.memGiB} GiB, ${machine.platform}; head backend ${machine.backend}. Versions: ${Object.entries(versions).map(([k, v]) => `${k} ${v}`).join(', ')}. Baseline: ${py.ok ? py.why : `not run — ${py.why}`}.`, '');
  md.push(`Protocol: K training texts per class, ${args.seeds} seeds, fixed group-aware test set (≤20 per class), macro-F1 mean±std. "FSL default" is the product's default pipeline; "FSL quick <encoder>" the same pipeline with that encoder${minilm.spec ? ` (minilm = ${minilm.spec})` : ''}; LR = scikit-learn LogisticRegression(max_iter=2000) on the identical embedding matrices; LR-CV chooses C by CV; NC = nearest centroid; "${COL_TFIDF}" = TfidfVectorizer(analyzer='char_wb', ngram_range=(1,3), sublinear_tf=True) fit on the training texts + the same LR (../shared/ANCHORS.md).`
    + (args.setfit ? ` "${COL_SETFIT}" = method 'setfit' through the pipeline; "${COL_SETFIT_LIB}" = the setfit library's SetFitModel.from_pretrained + Trainer(TrainingArguments()) on the same body (${setfitModel})${args.setfitMaxSteps ? `, deviating only by max_steps=${args.setfitMaxSteps} (the issue's 3-minute budget)` : ', no deviation'}.` : ''), '');
  md.push(`| corpus @ K | ${cols.join(' | ')} |`, `|---|${cols.map(() => '---').join('|')}|`);
  const na = (c: string) => (notes.includes(c) ? `n/a (note ${notes.indexOf(c) + 1})` : 'n/a');
  for (const [row, r] of quality) {
    const best = Math.max(...cols.map((c) => (r.get(c) ? mean(r.get(c)!.scores) : -1)));
    md.push(`| ${row} | ${cols.map((c) => { const s = r.get(c)?.scores; if (!s) return na(c); const t = fmt(s); return mean(s) === best ? `**${t}**` : t; }).join(' | ')} |`);
  }
  notes.forEach((c, i) => md.push('', `Note ${i + 1} (${c}): ${[...failures.get(c)!].join(' / ')}`));
  md.push('', '### Time per run (seconds, mean over seeds)', '', 'FSL columns: the whole runTraining call (load, embed, train, evaluate), then in brackets its training alone (timings.trainMs); texts already embedded earlier in the run (another column or seed, or an earlier run through .cache/bench unless --no-cache) come from the embedding cache, so the first column to meet them pays their embedding. setfit library: the whole script (imports, load, pair steps + head, predict), in brackets trainer.train(). LR / TF-IDF: scikit-learn vectorise + fit; NC: centroids + prediction, on matrices already embedded.', '');
  md.push(`| corpus @ K | ${cols.join(' | ')} |`, `|---|${cols.map(() => '---').join('|')}|`);
  for (const [row, r] of quality) md.push(`| ${row} | ${cols.map((c) => { const ms = r.get(c)?.ms; const tr = r.get(c)?.trainMs; const sec = (x: number) => (x / 1000).toFixed(x < 100 ? 3 : 1); return ms?.length ? `${sec(mean(ms))}${tr?.length ? ` (${sec(mean(tr))})` : ''}` : 'n/a'; }).join(' | ')} |`);
  if (setfitLib.length) md.push('', `setfit library default: setfit ${setfitLib[0].setfit}, pair steps per run ${[...new Set(setfitLib.map((x) => x.steps))].join('/')}, deviations ${JSON.stringify(setfitLib[0].deviations)}; CPU seconds per wall second ${(mean(setfitLib.map((x) => x.cpuSeconds ?? NaN)) / mean(setfitLib.map((x) => x.seconds))).toFixed(2)} (${os.cpus().length} = every core to itself).`);
  const rowScores: RowScores[] = [...quality].map(([row, m]) => ({ row, language: rowLanguage.get(row) ?? 'en', cols: Object.fromEntries([...m].map(([c, v]) => [c, v.scores])) }));
  md.push('', '## Issue 14 gains (mean over rows of the column means)', '', ...gainLines(rowScores).map((l) => `- ${l}`));
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
  const json = { defaultTrainMs, date: new Date().toISOString(), machine, versions, args, baseline: py.why, quality: Object.fromEntries([...quality].map(([r, m]) => [r, Object.fromEntries([...m].map(([c, v]) => [c, { mean: mean(v.scores), std: std(v.scores), scores: v.scores, msPerRun: v.ms.length ? mean(v.ms) : null, trainMsPerRun: v.trainMs.length ? mean(v.trainMs) : null }]))])), rowLanguage: Object.fromEntries(rowLanguage), failures: Object.fromEntries([...failures].map(([c, w]) => [c, [...w]])), minilm: minilm.spec ?? minilm.why, setfitLibrary: setfitLib, gains: gainLines(rowScores), speed, headTimesMs: headTimes, sklearnFitMs: sk, firstEpochMs: firstEpoch, peakRssMiB: process.resourceUsage().maxRSS / 1024, wallS: (Date.now() - started) / 1000 };
  writeReport(args.out, `bench-${args.quick ? 'quick-' : ''}`, text, json);
  if (args.cache) fs.unlinkSync(cacheLink); // never delete the persistent cache through the link
  fs.rmSync(work, { recursive: true, force: true });
}

const argv = process.argv.slice(2);
// `--scale` (issue 16, scripts/bench/scale.ts): the scale table; `--scale-child` is one of its training processes
const run = argv[0] === '--scale-child' ? scaleChild(argv[1], argv[2], argv[3])
  : argv.includes('--active') ? activeBench(argv.filter((v) => v !== '--active'))
  : argv.includes('--scale') ? scaleBench(argv.filter((v) => v !== '--scale'), process.argv[1])
  : argv.includes('--labels') ? labelsBench(argv.filter((v) => v !== '--labels'))
  : argv.includes('--images') ? imagesBench(argv.filter((v) => v !== '--images'))
  : main();
run.catch((e) => {
  console.error(e instanceof Error ? e.stack : e);
  process.exit(1);
});
