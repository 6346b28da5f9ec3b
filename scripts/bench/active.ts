/**
 * `npm run bench -- --active` (issue 15): a simulated annotator. Does "Suggest What to Label Next" pick better texts
 * to label than chance, and does the head gain from the unlabelled texts?
 *
 *   npm run bench -- --active [--data file.jsonl ...] [--seeds 5] [--rounds 5] [--start 2] [--batch <n>|classes]
 *       [--pool-per-class 40] [--test-per-class 20] [--encoder auto] [--max-corpora N] [--no-variants] [--out bench-results]
 *
 * Per corpus: the fixed group-aware test split of the other modes (fixedTestSplit); the rest of the training side,
 * capped at `--pool-per-class` texts per class (seeded, the same for every seed so embeddings are shared), is the
 * unlabelled pool. Each seed starts from `--start` labelled texts per class (seeded); each round labels one batch
 * (default: as many texts as there are classes) chosen by the strategy, then refits the default head (fitFewShot on
 * the encoder's embeddings, through the embedding cache) and scores macro-F1 on the test split.
 *   random   - a seeded random batch (the baseline: the same number of labels)
 *   margin   - the smallest margins p(top) − p(second) only
 *   suggest  - rankUnlabelled's default (margin × typicality × novelty in k-means groups; what `fewshot suggest` ranks with)
 *   suggest-nonov - the same without the novelty factor (distance to the nearest labelled text)
 *   kcentre  - rankUnlabelled's 'kcentre' method (the smallest margins, then greedy k-centre)
 * Head variants, fitted on the same labelled sets as `suggest` (selection stays the plain head's):
 *   +vocab   - the sparse blocks' vocabulary and IDF fitted on labelled + unlabelled texts (FewShotOptions.vocabX)
 *   +self    - self-training: unlabelled texts the head gives p ≥ 0.9 join the final fit with weight 0.5
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { brownGenres, chinesePoetry, fixedTestSplit, jsonlCorpus, rng, spamAssassin, type Corpus, type Item } from './corpora';
import { fmt, machineInfo, mean, nodeVersions, writeReport } from './report';
import { createEncoder, withEmbeddingCache } from '../../src/core/encoders';
import { fitFewShot, type Row } from '../../src/core/fewshot';
import { rankUnlabelled, margins } from '../../src/core/labels/suggest';
import { macroF1 } from '../../src/core/metrics';
import { shuffleInPlace } from '../../src/core/util/rng';

export const SELF_TRAIN = { minP: 0.9, weight: 0.5 };

interface ActiveArgs {
  data: string[]; seeds: number; rounds: number; start: number; batch: number | 'classes'; poolPerClass: number; testPerClass: number;
  encoder: string; maxCorpora?: number; variants: boolean; out: string; strategies: string[];
}

function parse(argv: string[]): ActiveArgs {
  const a: ActiveArgs = { data: [], seeds: 5, rounds: 5, start: 2, batch: 'classes', poolPerClass: 40, testPerClass: 20, encoder: 'auto', variants: true, out: 'bench-results', strategies: ['random', 'margin', 'suggest'] };
  for (let i = 0; i < argv.length; i++) {
    const v = argv[i];
    if (v === '--data') a.data.push(argv[++i]);
    else if (v === '--seeds') a.seeds = Number(argv[++i]);
    else if (v === '--rounds') a.rounds = Number(argv[++i]);
    else if (v === '--start') a.start = Number(argv[++i]);
    else if (v === '--batch') { const b = argv[++i]; a.batch = b === 'classes' ? 'classes' : Number(b); }
    else if (v === '--pool-per-class') a.poolPerClass = Number(argv[++i]);
    else if (v === '--test-per-class') a.testPerClass = Number(argv[++i]);
    else if (v === '--encoder') a.encoder = argv[++i];
    else if (v === '--max-corpora') a.maxCorpora = Number(argv[++i]);
    else if (v === '--strategies') a.strategies = argv[++i].split(',');
    else if (v === '--no-variants') a.variants = false;
    else if (v === '--out') a.out = argv[++i];
    else if (v === '--help') {
      console.log('usage: npm run bench -- --active [--data file.jsonl ...] [--seeds 5] [--rounds 5] [--start 2] [--batch N|classes] [--pool-per-class 40] [--test-per-class 20] [--encoder auto] [--strategies random,margin,suggest,suggest-nonov,kcentre] [--no-variants] [--max-corpora N] [--out dir]');
      process.exit(0);
    } else throw new Error(`--active: unknown option ${v} (see --active --help)`);
  }
  return a;
}

function corporaOf(a: ActiveArgs): Corpus[] {
  const files = a.data.flatMap((d) => (fs.statSync(d).isDirectory() ? fs.readdirSync(d).filter((f) => f.endsWith('.jsonl')).sort().map((f) => path.join(d, f)) : [d]));
  const list = files.length ? files.map(jsonlCorpus) : [spamAssassin(), brownGenres(), chinesePoetry()].filter((c): c is Corpus => !!c);
  return list.slice(0, a.maxCorpora ?? list.length);
}

/** At most `cap` pool texts per class, seeded (fixed across seeds). */
function capPool(pool: Item[], cap: number): Item[] {
  const r = rng(4242);
  const out: Item[] = [];
  for (const l of [...new Set(pool.map((i) => i.label))].sort()) out.push(...shuffleInPlace(pool.filter((i) => i.label === l), r).slice(0, cap));
  return out;
}

const argmax = (p: ArrayLike<number>) => { let b = 0; for (let i = 1; i < p.length; i++) if (p[i] > p[b]) b = i; return b; };

interface Ctx { labels: string[]; encoderId: string; xPool: Row[]; yPool: number[]; xTest: Row[]; yTest: number[] }

type Head = 'plain' | 'vocab' | 'self';

/** Fits a head on the labelled pool rows; returns its probabilities on the unlabelled pool rows and the test macro-F1. */
async function fitAndScore(c: Ctx, lab: number[], unl: number[], head: Head): Promise<{ probs: number[][]; f1: number }> {
  const k = c.labels.length;
  const x = lab.map((i) => c.xPool[i]);
  const y = lab.map((i) => c.yPool[i]);
  const xU = unl.map((i) => c.xPool[i]);
  let fit = await fitFewShot(x, y, { labels: c.labels, encoderId: c.encoderId, ...(head === 'vocab' ? { vocabX: xU } : {}) });
  let probs = xU.length ? fit.predict(xU) : [];
  if (head === 'self' && xU.length) {
    const keep = probs.map((p, i) => (Math.max(...p) >= SELF_TRAIN.minP ? i : -1)).filter((i) => i >= 0);
    if (keep.length) {
      fit = await fitFewShot(x, y, { labels: c.labels, encoderId: c.encoderId, extraX: keep.map((i) => xU[i]), extraY: keep.map((i) => argmax(probs[i])), extraWeights: keep.map(() => SELF_TRAIN.weight) });
      probs = fit.predict(xU);
    }
  }
  const pred = fit.predict(c.xTest).map(argmax);
  return { probs, f1: macroF1(c.yTest, pred, k) };
}

function pick(strategy: string, probs: number[][], c: Ctx, lab: number[], unl: number[], n: number, r: () => number): number[] {
  if (strategy === 'random') return shuffleInPlace([...unl], r).slice(0, n);
  if (strategy === 'margin') { const m = margins(probs); return unl.map((_, j) => j).sort((a, b) => m[a] - m[b] || a - b).slice(0, n).map((j) => unl[j]); }
  if (strategy.startsWith('suggest') || strategy === 'kcentre') {
    // suggest-nonov: the cluster method without the novelty factor (SuggestOptions.novelty false)
    const method = strategy === 'kcentre' ? 'kcentre' : undefined;
    return rankUnlabelled(probs, unl.map((i) => c.xPool[i]), lab.map((i) => c.xPool[i]), n, { encoderId: c.encoderId, method, novelty: strategy !== 'suggest-nonov' }).map((s) => unl[s.index]);
  }
  throw new Error(`unknown strategy ${strategy}`);
}

export async function activeBench(argv: string[]): Promise<void> {
  const a = parse(argv);
  const started = Date.now();
  const log = (m: string) => process.stderr.write(m + '\n');
  const persistent = path.join(process.cwd(), '.cache', 'bench', 'embeddings');
  fs.mkdirSync(persistent, { recursive: true });
  const curves: Record<string, Record<string, number[][]>> = {}; // corpus → column → per seed, f1 per round
  const info: Record<string, { classes: number; pool: number; test: number; batch: number; encoder: string }> = {};
  for (const corpus of corporaOf(a)) {
    const split = fixedTestSplit(corpus, a.testPerClass, 0);
    const pool = capPool(split.pool, a.poolPerClass);
    const labels = [...new Set(pool.map((i) => i.label))].sort();
    const { encoder, info: enc } = await createEncoder(a.encoder, { language: corpus.language, log: () => {} });
    const cached = withEmbeddingCache(encoder, persistent);
    const t0 = Date.now();
    const rows: Row[] = await cached.embed([...pool, ...split.test].map((i) => i.text));
    cached.dispose?.();
    const index = new Map(labels.map((l, i) => [l, i] as const));
    const test = split.test.filter((i) => index.has(i.label));
    const c: Ctx = { labels, encoderId: enc.id, xPool: rows.slice(0, pool.length), yPool: pool.map((i) => index.get(i.label)!), xTest: rows.slice(pool.length, pool.length + test.length), yTest: test.map((i) => index.get(i.label)!) };
    const batch = a.batch === 'classes' ? labels.length : a.batch;
    info[corpus.name] = { classes: labels.length, pool: pool.length, test: test.length, batch, encoder: enc.id };
    log(`${corpus.name}: ${labels.length} classes, pool ${pool.length}, test ${test.length}, batch ${batch}, ${enc.id} (embedded in ${((Date.now() - t0) / 1000).toFixed(0)} s)`);
    const cols: Record<string, number[][]> = (curves[corpus.name] = {});
    for (let seed = 0; seed < a.seeds; seed++) {
      const r0 = rng(seed * 7919 + 17);
      const start: number[] = [];
      for (let l = 0; l < labels.length; l++) start.push(...shuffleInPlace(c.yPool.map((y, i) => (y === l ? i : -1)).filter((i) => i >= 0), r0).slice(0, a.start));
      for (const strategy of a.strategies) {
        const r = rng(seed * 104729 + 3);
        let lab = [...start];
        const f1s: number[] = [];
        const extra: Record<string, number[]> = { '+vocab': [], '+self': [] };
        for (let round = 0; round <= a.rounds; round++) {
          const taken = new Set(lab);
          const unl = c.yPool.map((_, i) => i).filter((i) => !taken.has(i));
          const { probs, f1 } = await fitAndScore(c, lab, unl, 'plain');
          f1s.push(f1);
          if (strategy === 'suggest' && a.variants) {
            extra['+vocab'].push((await fitAndScore(c, lab, unl, 'vocab')).f1);
            extra['+self'].push((await fitAndScore(c, lab, unl, 'self')).f1);
          }
          if (round < a.rounds) lab = [...lab, ...pick(strategy, probs, c, lab, unl, batch, r)];
        }
        (cols[strategy] ??= []).push(f1s);
        if (strategy === 'suggest' && a.variants) for (const [k, v] of Object.entries(extra)) (cols[`suggest${k}`] ??= []).push(v);
        log(`  seed ${seed} ${strategy}: ${f1s.map((v) => v.toFixed(3)).join(' → ')}${strategy === 'suggest' && a.variants ? ` (+vocab ${extra['+vocab'].at(-1)!.toFixed(3)}, +self ${extra['+self'].at(-1)!.toFixed(3)})` : ''}`);
      }
    }
  }

  const last = (runs: number[][]) => runs.map((f) => f[f.length - 1]);
  const columns = [...new Set(Object.values(curves).flatMap((c) => Object.keys(c)))];
  const md = [
    `# Annotator simulation (npm run bench -- --active ${argv.join(' ')})`, '',
    `${new Date().toISOString().slice(0, 10)}; ${a.seeds} seeds; start ${a.start} labelled per class, ${a.rounds} rounds of one batch (${a.batch === 'classes' ? 'as many texts as classes' : a.batch}); pool ≤ ${a.poolPerClass} per class; test ≤ ${a.testPerClass} per class (group-aware); head: fitFewShot (the default few-shot head); macro-F1 on test after the last round, mean±std over seeds.`, '',
    `| corpus | classes | encoder | labels | start | ${columns.join(' | ')} | suggest − random |`,
    `|---|---|---|---|---|${columns.map(() => '---').join('|')}|---|`,
  ];
  const gains: number[] = [];
  const headGains: Record<string, number[]> = {};
  for (const [name, cols] of Object.entries(curves)) {
    const i = info[name];
    const g = cols.suggest && cols.random ? mean(last(cols.suggest)) - mean(last(cols.random)) : NaN;
    if (Number.isFinite(g)) gains.push(g);
    for (const v of ['suggest+vocab', 'suggest+self']) if (cols[v] && cols.suggest) (headGains[v] ??= []).push(mean(last(cols[v])) - mean(last(cols.suggest)));
    const anyCol = Object.values(cols)[0];
    md.push(`| ${name} | ${i.classes} | ${i.encoder} | ${i.classes * a.start + a.rounds * i.batch} | ${fmt(anyCol.map((f) => f[0]))} | ${columns.map((col) => (cols[col] ? fmt(last(cols[col])) : 'n/a')).join(' | ')} | ${Number.isFinite(g) ? `${(g * 100).toFixed(1)} pts` : 'n/a'} |`);
  }
  md.push('', `Mean gain of suggest over random after ${a.rounds} rounds: ${gains.length ? (mean(gains) * 100).toFixed(1) : 'n/a'} pts (${gains.filter((v) => v > 0).length} of ${gains.length} corpora above random).`);
  for (const [v, gs] of Object.entries(headGains)) md.push(`Mean change of the head variant ${v} over suggest (same labels): ${(mean(gs) * 100).toFixed(1)} pts (${gs.filter((x) => x > 0).length} of ${gs.length} corpora better).`);
  md.push('', `Wall time ${((Date.now() - started) / 1000).toFixed(0)} s on ${os.cpus().length} CPU cores.`);
  const json = { date: new Date().toISOString(), args: a, machine: machineInfo('cpu'), versions: nodeVersions(), selfTrain: SELF_TRAIN, corpora: info,
    curves: Object.fromEntries(Object.entries(curves).map(([n, cols]) => [n, Object.fromEntries(Object.entries(cols).map(([k, runs]) => [k, { perSeed: runs, meanPerRound: runs[0].map((_, r) => mean(runs.map((f) => f[r]))) }]))])),
    gainSuggestOverRandom: gains, headGains, wallS: (Date.now() - started) / 1000 };
  writeReport(a.out, 'bench-active-', md.join('\n') + '\n', json);
}
