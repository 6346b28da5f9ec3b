/**
 * `npm run bench -- --finetune --model <folder>` (issue 13): a benchmark, not a test.
 *  1. Per corpus, K and seed, on the bench's own group-aware splits: the quick default
 *     (runTraining with DEFAULT_CONFIG) next to method 'finetune' (runTraining with the product's
 *     fine-tuning defaults: 20 epochs, batch 8, lr 2e-5, staged unfreezing) — test macro-F1 and wall time.
 *  2. Timing: 100 short texts × 20 epochs, the worker (staged unfreezing) next to the seed's plain
 *     Trainer script (python/bench/compare.py runs both back to back on the same data).
 * Both quick and fine-tuning runs are cold: each gets its own run store (no embedding cache).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { Corpus, fixedTestSplit, Item, sampleK } from './corpora';
import { fmt, machineInfo, mean, nodeVersions, writeDataset, writeReport } from './report';
import { runTraining } from '../../src/core/train';
import { DEFAULT_CONFIG } from '../../src/core/config';
import { findPython } from '../../src/core/finetune/python';
import type { RunRecord, TrainConfig } from '../../src/protocol/run';

export interface FinetuneArgs { model?: string; timing?: boolean; ks: number[]; seeds: number; out: string }

interface Cell { corpus: string; language: string; classes: number; k: number; train: number; test: number; quick: { f1: number[]; s: number[]; encoder?: string }; finetune: { f1: number[]; s: number[]; epochsRun: number[]; bestEpoch: number[] } }

export async function finetuneBench(args: FinetuneArgs, corpora: Corpus[], work: string, log: (m: string) => void): Promise<void> {
  const started = Date.now();
  const model = path.resolve(args.model!);
  const cells: Cell[] = [];
  let ftInfo: RunRecord['finetune'];
  let n = 0;
  const timed = async (config: Partial<TrainConfig>, what: string): Promise<{ rec: RunRecord; s: number }> => {
    const t0 = performance.now();
    const rec = await runTraining({ config: config as TrainConfig, storeDir: path.join(work, `store${n++}`) }, { onEvent: () => {} });
    if (rec.status !== 'completed') throw new Error(`${what} failed: ${rec.error?.message}`);
    return { rec, s: (performance.now() - t0) / 1000 };
  };

  for (const corpus of corpora) {
    const split = fixedTestSplit(corpus, 20, 0);
    const labels = [...new Set(corpus.items.map((i) => i.label))].sort();
    log(`\n== ${corpus.name} (${corpus.language}, ${labels.length} classes, test ${split.test.length}, pool ${split.pool.length})`);
    for (const k of args.ks) {
      const cell: Cell = { corpus: corpus.name, language: corpus.language, classes: labels.length, k, train: 0, test: split.test.length, quick: { f1: [], s: [] }, finetune: { f1: [], s: [], epochsRun: [], bestEpoch: [] } };
      for (let seed = 0; seed < args.seeds; seed++) {
        const train = sampleK(split.pool, k, seed);
        if (new Set(train.map((i) => i.label)).size < labels.length) continue;
        cell.train = train.length;
        const data = writeDataset(path.join(work, `${corpus.name}-k${k}-s${seed}`), train, split.test);
        const q = await timed({ ...DEFAULT_CONFIG, dataset: data, seed }, `quick default on ${corpus.name} K=${k}`);
        cell.quick.f1.push(q.rec.testMacroF1 ?? 0);
        cell.quick.s.push(q.s);
        cell.quick.encoder = q.rec.encoder?.id;
        const f = await timed({ dataset: data, seed, method: 'finetune', finetune: { model } as TrainConfig['finetune'] }, `finetune on ${corpus.name} K=${k}`);
        cell.finetune.f1.push(f.rec.testMacroF1 ?? 0);
        cell.finetune.s.push(f.s);
        cell.finetune.epochsRun.push(f.rec.epochsRun ?? 0);
        cell.finetune.bestEpoch.push(f.rec.bestEpoch ?? 0);
        ftInfo = f.rec.finetune;
        log(`  K=${k} seed ${seed}: quick ${(q.rec.testMacroF1 ?? 0).toFixed(3)} in ${q.s.toFixed(1)} s; finetune ${(f.rec.testMacroF1 ?? 0).toFixed(3)} in ${f.s.toFixed(1)} s (${f.rec.epochsRun} epochs, best ${f.rec.bestEpoch})`);
      }
      if (cell.quick.f1.length) cells.push(cell);
    }
  }

  // Timing vs the seed: 100 short texts (≤ 200 characters, balanced over the classes) of the first corpus that has them, × 20 epochs.
  const timingCorpus = args.timing === false ? undefined : corpora.find((c) => shortTexts(c).length >= 100);
  let timing: ReturnType<typeof seedTiming> | undefined;
  let timingError = timingCorpus ? '' : args.timing === false ? 'not run (--no-timing)' : 'not run: no corpus has 100 training-pool texts of ≤ 200 characters';
  try { if (timingCorpus) timing = seedTiming(timingCorpus, model, work, log); } catch (e) { timingError = String(e instanceof Error ? e.message : e); log(timingError); }

  const python = ftInfo?.python ?? {};
  const machine = machineInfo(ftInfo ? `${ftInfo.device.kind} (${ftInfo.device.name})` : 'n/a');
  const versions = { ...nodeVersions(), ...Object.fromEntries(Object.entries(python).map(([k, v]) => [`python ${k}`, v])) };
  const md: string[] = [];
  md.push(`# Few-Shot Lab fine-tuning benchmark — ${new Date().toISOString().slice(0, 10)}`, '');
  md.push(`Machine: ${machine.cpus} × ${machine.cpu}, ${machine.memGiB} GiB, ${machine.platform}; fine-tuning device ${machine.backend}. Versions: ${Object.entries(versions).map(([k, v]) => `${k} ${v}`).join(', ')}.`, '');
  md.push(`Protocol: K training texts per class, ${args.seeds} seed${args.seeds > 1 ? 's (mean±std)' : ' (no spread)'}, the bench's fixed group-aware test set (≤20 per class). "quick" = the product default (method quick, DEFAULT_CONFIG); "finetune" = method finetune with its defaults (model ${path.basename(model)}, 20 epochs, batch 8, lr 2e-5, patience 5, staged unfreezing: 3 head epochs then the top 3 layers; all layers above 500 training texts), validation = 20% of the training split. Times are wall seconds of the whole run (load, embed or tokenise, train, evaluate; finetune also saves, exports and checks ONNX), each cold.`, '');
  md.push('| corpus | lang | classes | K | train | test | quick macro-F1 | quick s | finetune macro-F1 | finetune s | finetune epochs (best) |', '|---|---|---|---|---|---|---|---|---|---|---|');
  for (const c of cells) {
    md.push(`| ${c.corpus} | ${c.language} | ${c.classes} | ${c.k} | ${c.train} | ${c.test} | ${fmt(c.quick.f1)} | ${fmt(c.quick.s, 1)} | ${fmt(c.finetune.f1)} | ${fmt(c.finetune.s, 1)} | ${c.finetune.epochsRun.join('/')} (${c.finetune.bestEpoch.join('/')}) |`);
  }
  md.push('', `Quick default encoder(s): ${[...new Set(cells.map((c) => `${c.corpus}: ${c.quick.encoder}`))].join('; ')}.`);
  if (!timing) md.push('', `Worker vs the seed's Trainer: ${timingError}`);
  if (timing) {
    md.push('', `## Worker vs the seed's Trainer (${timing.texts} short texts from ${timingCorpus!.name}, ${timing.train} train + ${timing.val} validation, 20 epochs, patience 0, same data, back to back)`, '');
    md.push('| method | wall s | epochs s | test macro-F1 |', '|---|---|---|---|');
    for (const m of [timing.worker, timing.seed]) md.push(`| ${m.method} | ${m.wallSeconds} | ${m.trainSeconds} | ${typeof m.testMacroF1 === 'number' ? m.testMacroF1.toFixed(3) : 'n/a'} |`);
    md.push('', `Ratio worker / seed (wall): ${timing.ratio}× (goal ≤ 1.0×). Worker stages: ${JSON.stringify(timing.worker.stages)}.`);
  }
  md.push('', `Wall time of the whole benchmark: ${((Date.now() - started) / 1000).toFixed(0)} s.`);
  const text = md.join('\n') + '\n';
  const json = { date: new Date().toISOString(), machine, versions, args, finetune: ftInfo, cells: cells.map((c) => ({ ...c, quickMeanF1: mean(c.quick.f1), finetuneMeanF1: mean(c.finetune.f1) })), seedTiming: timing ?? { error: timingError }, wallS: (Date.now() - started) / 1000 };
  writeReport(args.out, 'bench-finetune-', text, json);
}

interface CompareLine { method: string; wallSeconds: number; trainSeconds: number; testMacroF1?: number; stages?: unknown }

const shortTexts = (c: Corpus) => fixedTestSplit(c, 20, 0).pool.filter((i) => i.text.length <= 200);

function seedTiming(corpus: Corpus, model: string, work: string, log: (m: string) => void) {
  const split = fixedTestSplit(corpus, 20, 0);
  const short = shortTexts(corpus);
  const labels = [...new Set(short.map((i) => i.label))].sort();
  const picked = sampleK(short, Math.ceil(100 / labels.length), 0);
  const byLabel = labels.map((l) => picked.filter((i) => i.label === l));
  const texts: Item[] = [];
  for (let r = 0; texts.length < 100 && byLabel.some((b) => b.length > r); r++) for (const b of byLabel) if (b[r] && texts.length < 100) texts.push(b[r]);
  const dir = path.join(work, 'seed-timing');
  fs.mkdirSync(dir, { recursive: true });
  const jsonl = (items: typeof texts) => items.map((i) => JSON.stringify({ text: i.text, label: i.label })).join('\n') + '\n';
  fs.writeFileSync(path.join(dir, 'data.jsonl'), jsonl(texts));
  fs.writeFileSync(path.join(dir, 'test.jsonl'), jsonl(split.test.filter((i) => labels.includes(i.label))));
  const py = findPython().path;
  log(`\n== worker vs seed Trainer: ${texts.length} texts from ${corpus.name} (${py} python/bench/compare.py)`);
  const r = spawnSync(py, [path.join('python', 'bench', 'compare.py'), '--model', model, '--data', path.join(dir, 'data.jsonl'), '--test', path.join(dir, 'test.jsonl'), '--epochs', '20'], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (r.status !== 0) throw new Error(`python/bench/compare.py failed (exit ${r.status}): ${(r.stderr ?? '').slice(-2000)}`);
  const lines = r.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as CompareLine & { ratio?: number; train?: number; val?: number });
  const worker = lines.find((l) => l.method === 'worker-staged')!;
  const seed = lines.find((l) => l.method === 'seed-trainer')!;
  return { texts: texts.length, train: worker.train, val: worker.val, worker, seed, ratio: lines.find((l) => l.ratio !== undefined)!.ratio };
}
