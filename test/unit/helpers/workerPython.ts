/** The real PyTorch worker for end-to-end tests: its package path, an interpreter that can run it, or why not. */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { findPython, probePython } from '../../../src/core/finetune/python';
import { repoRoot } from './trainerFixtures';

/** The worker package: the repository's python/ (PYTHONPATH as given otherwise). */
export function workerPythonPath(): string {
  const own = path.join(repoRoot, 'python');
  return [fs.existsSync(path.join(own, 'fewshot_worker')) ? own : '', process.env.PYTHONPATH ?? ''].filter(Boolean).join(path.delimiter);
}

/** python/scripts/make_tiny_model.py of the worker package in use. */
export function tinyModelScript(): string | undefined {
  return workerPythonPath().split(path.delimiter).map((d) => path.join(d, 'scripts', 'make_tiny_model.py')).find((f) => fs.existsSync(f));
}

/** PATH without any folder that holds a python interpreter. */
export function pathWithoutPython(): string {
  const names = ['python', 'python3', 'python.exe', 'python3.exe'];
  return (process.env.PATH ?? '').split(path.delimiter).filter((d) => d && !names.some((n) => fs.existsSync(path.join(d, n)))).join(path.delimiter);
}

/**
 * FEWSHOT_PYTHON (else the interpreter the product would pick) when it is ready for fine-tuning and imports
 * `modules` with the worker package on PYTHONPATH. Otherwise the suite fails under CI (which installs it) and is
 * skipped elsewhere, saying `needs` and why.
 */
export async function requireWorkerPython(ctx: Mocha.Context, modules: string, needs: string): Promise<string> {
  let reason: string | undefined;
  let python = '';
  try {
    const candidate = process.env.FEWSHOT_PYTHON ? { path: process.env.FEWSHOT_PYTHON, source: 'FEWSHOT_PYTHON' as const } : findPython();
    const probe = await probePython(candidate);
    if (!probe.finetuneReady) reason = `${candidate.path} lacks ${probe.missing.join(', ') || 'a recent Python'}`;
    python = candidate.path;
  } catch (e) {
    reason = (e as Error).message;
  }
  if (!reason) {
    const r = spawnSync(python, ['-c', `import ${modules}`], { env: { ...process.env, PYTHONPATH: workerPythonPath() }, encoding: 'utf8' });
    if (r.status !== 0) reason = `${modules} cannot be imported with PYTHONPATH=${workerPythonPath()}: ${r.stderr.trim().split('\n').pop()}`;
    else if (!tinyModelScript()) reason = `python/scripts/make_tiny_model.py is missing next to the worker package (PYTHONPATH=${workerPythonPath()})`;
  }
  if (reason) {
    const msg = `no Python with ${needs} (${reason}); set FEWSHOT_PYTHON`;
    if (process.env.CI === 'true' || process.env.CI === '1') throw new Error(msg);
    console.log(`      skipped: ${msg}`);
    ctx.skip();
  }
  return python;
}
