/**
 * `npm run bench -- --scale [--sizes 1000,10000,100000] [--test 2000] [--classes 8] [--encoder hashing] [--no-sklearn] [--out bench-results]`
 *
 * Scale table (issue 16): training time and peak memory of the default head (head 'auto', the
 * few-shot recipe) on 1k / 10k / 100k synthetic 100-character texts (scripts/bench/synthetic.ts),
 * cold (a fresh run store; the hashing encoder is never cached), through the real pipeline
 * (`runTraining`), each size in its own Node process so that its peak RSS is its own. Next to it:
 * scikit-learn's LogisticRegression (lbfgs, C=10, Debian /usr/bin/python3 with python3-sklearn) on
 * the same encoder matrix (the sparse hashing rows), also in its own process.
 * Also: the longest time between two progress events of the training phase (progress works
 * throughout) and the kernel/primal crossover of one fit (`--crossover 250,500,1000,1500`).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { syntheticItems } from './synthetic';
import { machineInfo, sklearnPython, writeDataset, writeReport } from './report';
import { runTraining } from '../../src/core/train';
import { DEFAULT_CONFIG } from '../../src/core/config';
import { createEncoder } from '../../src/core/encoders';
import { fitFewShot, PRIMAL_MIN_ROWS } from '../../src/core/fewshot';
import type { SparseVec } from '../../src/core/encoders/types';

interface ScaleArgs { sizes: number[]; test: number; classes: number; encoder: string; sklearn: boolean; out: string; crossover: number[] }

function parse(argv: string[]): ScaleArgs {
  const a: ScaleArgs = { sizes: [1000, 10000, 100000], test: 2000, classes: 8, encoder: 'hashing', sklearn: true, out: 'bench-results', crossover: [250, 500, 750, 1000, 1500] };
  for (let i = 0; i < argv.length; i++) {
    const v = argv[i];
    if (v === '--sizes') a.sizes = argv[++i].split(',').map(Number);
    else if (v === '--test') a.test = Number(argv[++i]);
    else if (v === '--classes') a.classes = Number(argv[++i]);
    else if (v === '--encoder') a.encoder = argv[++i];
    else if (v === '--no-sklearn') a.sklearn = false;
    else if (v === '--out') a.out = argv[++i];
    else if (v === '--crossover') a.crossover = argv[++i] === 'none' ? [] : argv[i].split(',').map(Number);
  }
  return a;
}

const mib = (kib: number) => Math.round(kib / 1024);

/** What one training process reports (scaleChild). */
interface ChildResult {
  status: string; error?: string; algorithm?: string; wallMs?: number; timings?: { trainMs?: number; embedMs?: number };
  testMacroF1?: number; peakRssMiB?: number; trainProgressEvents?: number; longestGapMs?: number; cpuS?: number;
}
/** What scripts/bench/sklearn_scale.py reports. */
interface SkResult { fit_s?: number; fit_cpu_s?: number; peak_rss_mib?: number; macro_f1?: number; iterations?: number; error?: string }

/** Child mode: one cold training run; prints one JSON line. */
export async function scaleChild(dataFile: string, storeDir: string, encoder: string): Promise<void> {
  const t0 = Date.now();
  let last = 0;
  let longestGapMs = 0;
  let events = 0;
  const rec = await runTraining({ config: { ...DEFAULT_CONFIG, dataset: dataFile, encoder }, storeDir }, {
    onEvent: (e) => {
      if (e.type !== 'progress' || e.phase !== 'train') return;
      const now = Date.now();
      if (last) longestGapMs = Math.max(longestGapMs, now - last);
      last = now;
      events++;
    },
  });
  process.stdout.write(JSON.stringify({
    status: rec.status, error: rec.error?.message, algorithm: rec.algorithm, wallMs: Date.now() - t0, timings: rec.timings,
    testMacroF1: rec.testMacroF1, peakRssMiB: mib(process.resourceUsage().maxRSS), trainProgressEvents: events, longestGapMs,
    // CPU seconds of the whole process (training is single-threaded: its wall time on an idle machine)
    cpuS: (process.cpuUsage().user + process.cpuUsage().system) / 1e6,
  }) + '\n');
}

/** Writes sparse rows as CSR files (indptr int32, indices int32, data float32) for the Python baseline. */
function writeCsr(prefix: string, rows: SparseVec[]): void {
  const ptr = new Int32Array(rows.length + 1);
  rows.forEach((r, i) => { ptr[i + 1] = ptr[i] + r.idx.length; });
  const idx = new Int32Array(ptr[rows.length]);
  const val = new Float32Array(ptr[rows.length]);
  rows.forEach((r, i) => { idx.set(r.idx, ptr[i]); val.set(r.val, ptr[i]); });
  fs.writeFileSync(`${prefix}.ptr`, Buffer.from(ptr.buffer));
  fs.writeFileSync(`${prefix}.idx`, Buffer.from(idx.buffer));
  fs.writeFileSync(`${prefix}.val`, Buffer.from(val.buffer));
}

export async function scaleBench(argv: string[], selfScript: string): Promise<void> {
  const a = parse(argv);
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'fewshot-scale-'));
  const log = (m: string) => process.stderr.write(m + '\n');
  const { encoder } = await createEncoder(a.encoder, {});
  if (!encoder.embedSparse) throw new Error(`--scale needs a feature-hashing encoder (hashing, chargram); ${a.encoder} has no sparse rows`);
  const labels = Array.from({ length: a.classes }, (_, c) => `class-${c + 1}`);
  const rows: { n: number; ours: ChildResult; sklearn: SkResult | null }[] = [];
  // Debian's python3 with python3-sklearn (as the quality bench), or FEWSHOT_PYTHON when it has scikit-learn
  const py = sklearnPython([process.env.FEWSHOT_PYTHON, '/usr/bin/python3', 'python3'], 'scipy')?.exe;
  if (a.sklearn && !py) log('scikit-learn baseline skipped: no python3 with scikit-learn and scipy (apt-get install python3-sklearn, or set FEWSHOT_PYTHON)');
  try {
    // ---------------------------------------------------------------- crossover of one fit
    const crossover: { n: number; kernelMs: number; primalMs: number }[] = [];
    for (const n of a.crossover) {
      const items = syntheticItems(n, a.classes, 3);
      const x = await encoder.embedSparse(items.map((i) => i.text));
      const y = items.map((i) => labels.indexOf(i.label));
      const ms: Record<string, number> = {};
      for (const solver of ['kernel', 'primal'] as const) {
        const t = Date.now();
        await fitFewShot(x, y, { labels, encoderId: encoder.id, ensemble: false, idf: true, solver });
        ms[solver] = Date.now() - t;
      }
      crossover.push({ n, kernelMs: ms.kernel, primalMs: ms.primal });
      log(`crossover n=${n}: kernel ${ms.kernel} ms, primal ${ms.primal} ms`);
    }

    // ---------------------------------------------------------------- scale table
    const test = syntheticItems(a.test, a.classes, 2);
    for (const n of a.sizes) {
      const train = syntheticItems(n, a.classes, 1);
      const dir = path.join(work, `n${n}`);
      const data = writeDataset(dir, train, test);
      log(`n=${n}: training (own process, cold store)…`);
      const r = spawnSync(process.execPath, ['--max-old-space-size=8192', selfScript, '--scale-child', data, path.join(dir, 'store'), a.encoder], { encoding: 'utf8', maxBuffer: 1 << 26 });
      const line = r.stdout.trim().split('\n').pop() ?? '';
      let ours: ChildResult;
      try { ours = JSON.parse(line); } catch { ours = { status: 'failed', error: (r.stderr || r.stdout).slice(-2000) }; }
      let sk: SkResult | null = null;
      if (a.sklearn && py) {
        const trainX = await encoder.embedSparse(train.map((i) => i.text));
        const testX = await encoder.embedSparse(test.map((i) => i.text));
        writeCsr(path.join(dir, 'train'), trainX);
        writeCsr(path.join(dir, 'test'), testX);
        const job = { train: path.join(dir, 'train'), test: path.join(dir, 'test'), dim: encoder.dim, ytrain: train.map((i) => labels.indexOf(i.label)), ytest: test.map((i) => labels.indexOf(i.label)), nclasses: a.classes, C: 10 };
        fs.writeFileSync(path.join(dir, 'job.json'), JSON.stringify(job));
        const p = spawnSync(py, [path.join(process.cwd(), 'scripts', 'bench', 'sklearn_scale.py'), path.join(dir, 'job.json')], { encoding: 'utf8' });
        try { sk = JSON.parse(p.stdout.trim().split('\n').pop() ?? ''); } catch { sk = { error: (p.stderr || 'python3 with scikit-learn not found').slice(-500) }; }
      }
      rows.push({ n, ours, sklearn: sk });
      log(`n=${n}: ${JSON.stringify({ ours, sklearn: sk })}`);
      fs.rmSync(dir, { recursive: true, force: true });
    }

    // ---------------------------------------------------------------- report
    const s = (v: unknown) => (typeof v === 'number' ? (v / 1000).toFixed(1) : 'n/a');
    const md = ['# Few-Shot Lab scale benchmark', '',
      `${a.classes} classes, synthetic ${100}-character texts (scripts/bench/synthetic.ts), test set ${a.test} texts, encoder ${encoder.id}, head 'auto' (few-shot recipe), cold run store.`,
      `Machine: ${JSON.stringify(machineInfo('n/a'))}; load average at the end: ${os.loadavg().map((v) => v.toFixed(1)).join(' ')}.`, '',
      'Wall times depend on the machine\'s load (shared machines: see the load average); CPU s is the process\'s own CPU time.', '',
      '| texts | Few-Shot Lab train s | embed s | total s | total CPU s | peak RSS MiB | test macro-F1 | longest progress gap s | algorithm | scikit-learn LR fit s | sklearn fit CPU s | sklearn peak RSS MiB | sklearn macro-F1 |',
      '|---|---|---|---|---|---|---|---|---|---|---|---|---|'];
    for (const r of rows) {
      const o = r.ours;
      const k = r.sklearn ?? {};
      md.push(`| ${r.n} | ${o.status === 'completed' ? s(o.timings?.trainMs) : `${o.status}: ${o.error ?? ''}`.slice(0, 80)} | ${s(o.timings?.embedMs)} | ${s(o.wallMs)} | ${o.cpuS?.toFixed(1) ?? 'n/a'} | ${o.peakRssMiB ?? 'n/a'} | ${o.testMacroF1?.toFixed(3) ?? 'n/a'} | ${s(o.longestGapMs)} | ${o.algorithm ?? ''} | ${k.fit_s?.toFixed(1) ?? k.error?.split('\n').filter(Boolean).pop() ?? 'n/a'} | ${k.fit_cpu_s?.toFixed(1) ?? 'n/a'} | ${k.peak_rss_mib ?? 'n/a'} | ${k.macro_f1?.toFixed(3) ?? 'n/a'} |`);
    }
    if (crossover.length) {
      md.push('', `One fit (IDF on, C=10, no CV), kernel form vs primal form; the product switches to the primal form above ${PRIMAL_MIN_ROWS} rows:`, '', '| rows | kernel s | primal s |', '|---|---|---|');
      for (const c of crossover) md.push(`| ${c.n} | ${(c.kernelMs / 1000).toFixed(2)} | ${(c.primalMs / 1000).toFixed(2)} |`);
    }
    md.push('');
    writeReport(a.out, 'scale-', md.join('\n'), { args: a, machine: machineInfo('n/a'), loadavg: os.loadavg(), rows, crossover, date: new Date().toISOString() });
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}
