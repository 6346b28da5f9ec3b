/**
 * `npm run bench -- --labels [--data file.jsonl|folder ...] [--k 8,16] [--seeds 5] [--noise 0.1] [--encoder auto] [--max-corpora N] [--out bench-results] [--dump jobs.json]`
 *
 * Label-error detection (issue 15): K training texts per class (the quality bench's samples: fixed group-aware test
 * split, sampleK), 10 % of their labels flipped at random (seeded, to another class uniformly), out-of-fold
 * probabilities of the few-shot head (fitFewShot's oofProba, as `fewshot audit` computes them, default encoder), then
 * the flagged set of Few-Shot Lab's findLabelIssues and of cleanlab's `cleanlab.filter.find_label_issues(labels,
 * pred_probs)` (default filter; scripts/bench/cleanlab_issues.py, FEWSHOT_PYTHON or python3 with cleanlab; pinned in
 * scripts/bench/requirements.txt) on the SAME probabilities, scored against the truly flipped set: precision, recall,
 * F1, mean over seeds. Embeddings come from the bench's persistent cache (.cache/bench/embeddings).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { brownGenres, chinesePoetry, fixedTestSplit, jsonlCorpus, rng, sampleK, spamAssassin, type Corpus } from './corpora';
import { fmt, machineInfo, mean, sklearnPython, writeReport } from './report';
import { createEncoder, withEmbeddingCache } from '../../src/core/encoders';
import { fitFewShot } from '../../src/core/fewshot';
import { findLabelIssues } from '../../src/core/labels/audit';
import { AUDIT_METHOD } from '../../src/core/labels/runAudit';
import { shuffleInPlace } from '../../src/core/util/rng';

interface LabelsArgs { data: string[]; ks: number[]; seeds: number; noise: number; encoder: string; maxCorpora?: number; out: string; dump?: string }

function parse(argv: string[]): LabelsArgs {
  const a: LabelsArgs = { data: [], ks: [8, 16], seeds: 5, noise: 0.1, encoder: 'auto', out: 'bench-results' };
  for (let i = 0; i < argv.length; i++) {
    const v = argv[i];
    if (v === '--data') a.data.push(argv[++i]);
    else if (v === '--k') a.ks = argv[++i].split(',').map(Number);
    else if (v === '--seeds') a.seeds = Number(argv[++i]);
    else if (v === '--noise') a.noise = Number(argv[++i]);
    else if (v === '--encoder') a.encoder = argv[++i];
    else if (v === '--max-corpora') a.maxCorpora = Number(argv[++i]);
    else if (v === '--out') a.out = argv[++i];
    else if (v === '--dump') a.dump = argv[++i];
  }
  return a;
}

/** Flips round(noise × n) labels (at least 1), each to another class chosen uniformly; seeded. */
export function flipLabels(y: readonly number[], k: number, noise: number, seed: number): { y: number[]; flipped: Set<number> } {
  const r = rng(seed);
  const m = Math.max(1, Math.round(noise * y.length));
  const order = shuffleInPlace(y.map((_, i) => i), r);
  const out = [...y];
  const flipped = new Set<number>();
  for (const i of order.slice(0, m)) {
    const other = Math.floor(r() * (k - 1));
    out[i] = other >= y[i] ? other + 1 : other;
    flipped.add(i);
  }
  return { y: out, flipped };
}

export interface Prf { p: number; r: number; f1: number; flagged: number }

/** Precision, recall and F1 of a flagged set against the truly flipped set (precision of an empty set: 0). */
export function prf(flagged: Iterable<number>, truth: Set<number>): Prf {
  const f = new Set(flagged);
  let tp = 0;
  for (const i of f) if (truth.has(i)) tp++;
  return { p: f.size ? tp / f.size : 0, r: truth.size ? tp / truth.size : 0, f1: f.size + truth.size ? (2 * tp) / (f.size + truth.size) : 0, flagged: f.size };
}

interface Job { id: string; row: string; seed: number; labels: number[]; pred_probs: number[][]; flipped: number[]; ours: number[] }

export async function labelsBench(argv: string[]): Promise<void> {
  const a = parse(argv);
  const started = Date.now();
  const log = (m: string) => process.stderr.write(m + '\n');
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'fewshot-labels-'));
  const cacheDir = path.join(process.cwd(), '.cache', 'bench', 'embeddings');
  fs.mkdirSync(cacheDir, { recursive: true });
  const py = sklearnPython([process.env.FEWSHOT_PYTHON, '/usr/bin/python3', 'python3'], 'cleanlab');
  if (!py) log('cleanlab columns skipped: no python with scikit-learn and cleanlab (pip install -r scripts/bench/requirements.txt; set FEWSHOT_PYTHON)');
  const corpora: Corpus[] = [];
  if (!a.data.length || a.data.includes('npm')) for (const c of [spamAssassin(300), brownGenres(120), chinesePoetry(200)]) if (c) corpora.push(c);
  for (const f of a.data.filter((d) => d !== 'npm')) {
    if (fs.statSync(f).isDirectory()) for (const g of fs.readdirSync(f).filter((x) => x.endsWith('.jsonl')).sort()) corpora.push(jsonlCorpus(path.join(f, g)));
    else corpora.push(jsonlCorpus(f));
  }
  if (a.maxCorpora) corpora.splice(a.maxCorpora);
  const jobs: Job[] = [];
  const timing: Record<string, { embedMs: number; fitMs: number[] }> = {};
  const encoders: Record<string, string> = {};
  try {
    for (const corpus of corpora) {
      const split = fixedTestSplit(corpus, 20, 0);
      const labels = [...new Set(corpus.items.map((i) => i.label))].sort();
      const { encoder: base, info } = await createEncoder(a.encoder, { language: corpus.language, log: () => {} });
      encoders[corpus.name] = info.id;
      const enc = withEmbeddingCache(base, cacheDir);
      log(`== ${corpus.name} (${corpus.language}, ${labels.length} classes, encoder ${info.id})`);
      try {
        for (const k of a.ks) {
          const row = `${corpus.name}@K=${k}`;
          const t: { embedMs: number; fitMs: number[] } = (timing[row] = { embedMs: 0, fitMs: [] });
          for (let seed = 0; seed < a.seeds; seed++) {
            const train = sampleK(split.pool, k, seed);
            if (new Set(train.map((i) => i.label)).size < labels.length) continue;
            const t0 = performance.now();
            const x = await enc.embed(train.map((i) => i.text));
            t.embedMs += performance.now() - t0;
            const noisy = flipLabels(train.map((i) => labels.indexOf(i.label)), labels.length, a.noise, 1_000_003 * (seed + 1) + k);
            const t1 = performance.now();
            const fit = await fitFewShot(x, noisy.y, { labels, encoderId: info.id });
            t.fitMs.push(performance.now() - t1);
            if (!fit.oofProba) { log(`  ${row} seed ${seed}: no out-of-fold probabilities (skipped)`); continue; }
            const ours = findLabelIssues(fit.oofProba, noisy.y, labels.length).map((f) => f.index);
            jobs.push({ id: `j${jobs.length}`, row, seed, labels: noisy.y, pred_probs: fit.oofProba, flipped: [...noisy.flipped], ours });
            const s = prf(ours, noisy.flipped);
            log(`  ${row} seed ${seed}: ${train.length} texts, ${noisy.flipped.size} flipped; ours flags ${ours.length}: P ${s.p.toFixed(2)} R ${s.r.toFixed(2)} F1 ${s.f1.toFixed(2)} (fit ${(t.fitMs[t.fitMs.length - 1] / 1000).toFixed(1)} s)`);
          }
        }
      } finally {
        enc.dispose?.();
      }
    }

    // `--dump <file>`: the jobs with their probabilities (to study the flagging rule without refitting)
    if (a.dump) fs.writeFileSync(a.dump, JSON.stringify(jobs));

    // cleanlab on the same probabilities, one Python process for every job
    const cl = new Map<string, Record<string, number[] | { error: string }>>();
    let cleanlabVersion = 'n/a';
    let cleanlabError = py ? '' : 'python with cleanlab not found';
    if (py && jobs.length) {
      const input = path.join(work, 'jobs.json');
      fs.writeFileSync(input, JSON.stringify(jobs.map((j) => ({ id: j.id, labels: j.labels, pred_probs: j.pred_probs }))));
      const r = spawnSync(py.exe, [path.join(process.cwd(), 'scripts', 'bench', 'cleanlab_issues.py')], {
        input: fs.readFileSync(input), encoding: 'utf8', maxBuffer: 1 << 28, env: { ...process.env, OPENBLAS_NUM_THREADS: '1', OMP_NUM_THREADS: '1' },
      });
      if (r.status !== 0) cleanlabError = `cleanlab_issues.py exited with ${r.status}: ${(r.stderr ?? '').trim().split('\n').slice(-1)[0]}`;
      for (const line of (r.stdout ?? '').split('\n').filter(Boolean)) {
        const o = JSON.parse(line) as { id?: string; issues?: Record<string, number[] | { error: string }>; cleanlab?: string };
        if (o.cleanlab) cleanlabVersion = o.cleanlab;
        else if (o.id && o.issues) cl.set(o.id, o.issues);
      }
    }

    // ---- scores
    const COLS = ['Few-Shot Lab', 'cleanlab', 'cleanlab both'] as const;
    const FILTER: Record<string, string> = { cleanlab: 'prune_by_noise_rate', 'cleanlab both': 'both' };
    const rows = new Map<string, Record<string, Prf[]>>();
    const perJob: Record<string, unknown>[] = [];
    for (const j of jobs) {
      const truth = new Set(j.flipped);
      const cell = rows.get(j.row) ?? Object.fromEntries(COLS.map((c) => [c, [] as Prf[]]));
      rows.set(j.row, cell);
      const res: Record<string, Prf> = { 'Few-Shot Lab': prf(j.ours, truth) };
      for (const c of COLS.slice(1)) {
        const got = cl.get(j.id)?.[FILTER[c]];
        if (Array.isArray(got)) res[c] = prf(got, truth);
      }
      for (const [c, v] of Object.entries(res)) cell[c].push(v);
      // index lists as compact strings ("3,17,40"): the report stays readable
      const ids = (v: number[] | { error: string }) => (Array.isArray(v) ? v.join(',') : v);
      const clj = cl.get(j.id);
      perJob.push({ row: j.row, seed: j.seed, n: j.labels.length, flipped: ids(j.flipped), ours: ids(j.ours), cleanlab: clj ? Object.fromEntries(Object.entries(clj).map(([f, v]) => [f, ids(v)])) : null, scores: res });
    }
    const f2 = (xs: number[]) => (xs.length ? mean(xs).toFixed(3) : 'n/a');
    const md: string[] = [`# Few-Shot Lab label-error benchmark — ${new Date().toISOString().slice(0, 10)}`, ''];
    md.push(`Machine: ${JSON.stringify(machineInfo('n/a'))}; load average at the end: ${os.loadavg().map((v) => v.toFixed(1)).join(' ')}. cleanlab: ${cleanlabError || `${cleanlabVersion} (${py?.exe})`}.`, '');
    md.push(`Protocol: K training texts per class (the quality bench's samples), ${Math.round(a.noise * 100)} % of them relabelled to another class uniformly at random (seeded), ${a.seeds} seeds; out-of-fold probabilities of the few-shot head (fitFewShot oofProba, encoder ${a.encoder}: ${[...new Set(Object.values(encoders))].join(', ')}); Few-Shot Lab = findLabelIssues (${AUDIT_METHOD}); cleanlab = cleanlab.filter.find_label_issues(labels, pred_probs) with its default filter_by='prune_by_noise_rate'; "cleanlab both" = filter_by='both'; all on the same probabilities. Precision / recall / F1 of the flagged set against the flipped set, mean over seeds (precision of an empty flagged set counts as 0).`, '');
    md.push(`| corpus @ K | texts | flipped | ${COLS.map((c) => `${c} P | ${c} R | ${c} F1`).join(' | ')} |`, `|---|---|---|${COLS.map(() => '---|---|---').join('|')}|`);
    const avg: Record<string, { p: number[]; r: number[]; f1: number[] }> = Object.fromEntries(COLS.map((c) => [c, { p: [], r: [], f1: [] }]));
    for (const [row, cell] of rows) {
      const js = jobs.filter((j) => j.row === row);
      md.push(`| ${row} | ${mean(js.map((j) => j.labels.length)).toFixed(0)} | ${mean(js.map((j) => j.flipped.length)).toFixed(0)} | ${COLS.map((c) => {
        const v = cell[c];
        if (v.length) { avg[c].p.push(mean(v.map((x) => x.p))); avg[c].r.push(mean(v.map((x) => x.r))); avg[c].f1.push(mean(v.map((x) => x.f1))); }
        return `${f2(v.map((x) => x.p))} | ${f2(v.map((x) => x.r))} | ${v.length ? fmt(v.map((x) => x.f1), 3) : 'n/a'}`;
      }).join(' | ')} |`);
    }
    md.push(`| **mean over rows** | | | ${COLS.map((c) => `${f2(avg[c].p)} | ${f2(avg[c].r)} | **${f2(avg[c].f1)}**`).join(' | ')} |`, '');
    const d = mean(avg['Few-Shot Lab'].f1) - mean(avg.cleanlab.f1);
    if (avg.cleanlab.f1.length) md.push(`Few-Shot Lab F1 − cleanlab F1 (mean over rows): ${(d * 100).toFixed(1)} pts; rows where ours is lower: ${[...rows.values()].filter((c) => c.cleanlab.length && mean(c['Few-Shot Lab'].map((x) => x.f1)) < mean(c.cleanlab.map((x) => x.f1)) - 1e-9).length} of ${rows.size}.`, '');
    md.push('| corpus @ K | embed s (cache) | out-of-fold fit s per seed |', '|---|---|---|');
    for (const [row, t] of Object.entries(timing)) md.push(`| ${row} | ${(t.embedMs / 1000).toFixed(1)} | ${(mean(t.fitMs) / 1000).toFixed(2)} |`);
    md.push('', `Wall time: ${((Date.now() - started) / 1000).toFixed(0)} s.`, '');
    writeReport(a.out, 'labels-', md.join('\n'), {
      date: new Date().toISOString(), args: a, machine: machineInfo('n/a'), loadavg: os.loadavg(), cleanlab: cleanlabError || cleanlabVersion, encoders,
      method: AUDIT_METHOD, mean: avg, rows: Object.fromEntries([...rows].map(([r, c]) => [r, Object.fromEntries(Object.entries(c).map(([k, v]) => [k, { p: mean(v.map((x) => x.p)), r: mean(v.map((x) => x.r)), f1: mean(v.map((x) => x.f1)), runs: v.length }]))])),
      timing, jobs: perJob, wallS: (Date.now() - started) / 1000,
    });
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}
