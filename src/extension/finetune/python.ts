/**
 * The Python interpreter of fine-tuning, as the extension host sees it, and what it can do.
 * No ML code runs here: the interpreter is only located and probed (a child process).
 *
 * Order (the same as the CLI's, src/core/finetune/python.ts):
 *   1. env FEWSHOT_PYTHON;  2. the setting `fewshot.python.path`;
 *   3. the venv "Set Up Fine-Tuning" / `fewshot setup` made ($FEWSHOT_VENV, else $FEWSHOT_HOME/venv, FEWSHOT_HOME = ~/.fewshot), when it exists;
 *   4. the Python extension's active interpreter (ms-python.python, read defensively);
 *   5. `python3` on PATH (`python` on Windows).
 */
import * as vscode from 'vscode';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { execFile, spawn } from 'node:child_process';
import type { Host } from '../host';
import { defaultVenvDir, isExecutable, pythonCandidates, venvPython, whichOnPath, type PythonSource } from '../../core/finetune/python';

export type { PythonSource };

export interface ChosenPython {
  path: string;
  source: PythonSource;
}

/** The packages the fine-tuning worker imports (python/requirements.txt). */
export const WORKER_PACKAGES = ['torch', 'transformers', 'onnx'] as const;

export { venvPython };

/** Minimal shape of the Python extension's API (`@vscode/python-extension`), read defensively: it is not a dependency. */
interface PythonExtensionApi {
  environments?: {
    getActiveEnvironmentPath?(resource?: vscode.Uri): { path?: string } | undefined;
    resolveEnvironment?(env: { path?: string } | string): Promise<{ executable?: { uri?: vscode.Uri } } | undefined>;
  };
  settings?: { getExecutionDetails?(resource?: vscode.Uri): { execCommand?: string[] } | undefined };
}

/** The Python extension's active interpreter, if that extension is installed (activated if needed, at most 5 s). */
export async function pythonExtensionInterpreter(resource?: vscode.Uri): Promise<string | undefined> {
  const ext = vscode.extensions.getExtension<PythonExtensionApi>('ms-python.python');
  if (!ext) return undefined;
  try {
    if (!ext.isActive) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([ext.activate(), new Promise((r) => { timer = setTimeout(r, 5000); })]).finally(() => clearTimeout(timer));
      if (!ext.isActive) return undefined;
    }
    const api = ext.exports;
    const envs = api?.environments;
    const active = envs?.getActiveEnvironmentPath?.(resource);
    if (active?.path) {
      const resolved = await envs?.resolveEnvironment?.(active).catch(() => undefined);
      const exe = resolved?.executable?.uri?.fsPath ?? active.path;
      if (exe && isExecutable(exe)) return exe;
    }
    const cmd = api?.settings?.getExecutionDetails?.(resource)?.execCommand?.[0];
    return cmd && isExecutable(cmd) ? cmd : undefined;
  } catch {
    return undefined;
  }
}

/** The setting, with `~` expanded; empty → undefined. */
export function settingPython(): string | undefined {
  const v = vscode.workspace.getConfiguration('fewshot.python').get<string>('path', '').trim();
  return v ? path.resolve(v.replace(/^~(?=$|[\\/])/, os.homedir())) : undefined;
}

/**
 * The interpreter to use. An explicit choice (FEWSHOT_PYTHON, the setting) is returned as given even
 * when it does not exist: the probe then says so, instead of silently using another one.
 */
export async function choosePython(env: NodeJS.ProcessEnv = process.env): Promise<ChosenPython> {
  // the same order as the CLI and the trainer (core/finetune/python); the Python extension is asked only when needed
  const explicit = pythonCandidates({ env, settingPath: settingPython() }).find((c) => c.source === 'FEWSHOT_PYTHON' || c.source === 'setting');
  if (explicit) return explicit;
  const venv = venvPython(defaultVenvDir(env));
  if (isExecutable(venv)) return { path: venv, source: 'venv' };
  const fromExt = await pythonExtensionInterpreter(vscode.workspace.workspaceFolders?.[0]?.uri);
  if (fromExt) return { path: fromExt, source: 'python-extension' };
  const name = process.platform === 'win32' ? 'python' : 'python3';
  return { path: whichOnPath(name, env) ?? name, source: 'PATH' };
}

export function sourceLabel(s: PythonSource): string {
  switch (s) {
    case 'FEWSHOT_PYTHON': return vscode.l10n.t('the environment variable FEWSHOT_PYTHON');
    case 'setting': return vscode.l10n.t('the setting fewshot.python.path');
    case 'venv': return vscode.l10n.t('the virtual environment of Set Up Fine-Tuning');
    case 'python-extension': return vscode.l10n.t("the Python extension's active interpreter");
    default: return vscode.l10n.t('PATH');
  }
}

export interface EnvReport {
  python: ChosenPython;
  /** The interpreter could not be started at all (missing, broken): why. */
  unusable?: string;
  version?: string;
  /** Worker packages that are not installed. */
  missing: string[];
  ready: boolean;
  /** How it was probed: the CLI's `env --json`, or a direct `find_spec` check when the CLI lacks it. */
  via: 'cli' | 'direct';
}

/**
 * Reads the CLI's `fewshot env --json` answer: `{ python: probe | null, methods: { finetune: { available } },
 * problem: { message, fix } | null }` (a bare probe object is accepted too). Undefined for anything else.
 */
export function parseCliEnv(stdout: string): { version?: string; missing: string[]; ready: boolean; unusable?: string } | undefined {
  let j: unknown;
  try {
    j = JSON.parse(stdout.trim());
  } catch {
    const line = stdout.split(/\r?\n/).reverse().find((l) => l.trim().startsWith('{'));
    if (!line) return undefined;
    try { j = JSON.parse(line); } catch { return undefined; }
  }
  if (!j || typeof j !== 'object') return undefined;
  const obj = j as { python?: unknown; methods?: { finetune?: { available?: unknown } }; problem?: { message?: unknown } | null };
  const isProbe = (o: unknown): o is { missing?: unknown; finetuneReady?: unknown; version?: unknown } =>
    !!o && typeof o === 'object' && ('missing' in o || 'finetuneReady' in o);
  const probe = isProbe(obj.python) ? obj.python : isProbe(obj) ? obj : undefined;
  const available = obj.methods?.finetune?.available;
  const problem = typeof obj.problem?.message === 'string' ? obj.problem.message : undefined;
  if (!probe) {
    // The CLI could not run the interpreter at all (missing, broken): its problem says why.
    return typeof available === 'boolean' && problem ? { missing: [...WORKER_PACKAGES], ready: false, unusable: problem } : undefined;
  }
  const missing = Array.isArray(probe.missing) ? probe.missing.filter((x): x is string => typeof x === 'string') : [];
  const ready = typeof available === 'boolean' ? available : typeof probe.finetuneReady === 'boolean' ? probe.finetuneReady : missing.length === 0;
  return { version: typeof probe.version === 'string' ? probe.version : undefined, missing, ready };
}

const FIND_SPEC = 'import sys, json, importlib.util as u\n' +
  'print(json.dumps({"version": "%d.%d.%d" % sys.version_info[:3], "missing": [m for m in sys.argv[1:] if u.find_spec(m) is None]}))';

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv, timeoutMs: number): Promise<{ code: number | null; stdout: string; stderr: string; error?: { code?: string | number | null; message: string } }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { env, timeout: timeoutMs, maxBuffer: 8 << 20, windowsHide: true }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : null) : 0, stdout: String(stdout), stderr: String(stderr), error: err ?? undefined });
    });
  });
}

/**
 * What the interpreter can do: `node dist/cli.js env --json` with FEWSHOT_PYTHON set to it, else (a CLI
 * without `env`) a direct check that only looks the packages up (no import of torch in any case here).
 */
export async function probeEnv(host: Host, python: ChosenPython, opts: { cliScript?: string; timeoutMs?: number } = {}): Promise<EnvReport> {
  const timeoutMs = opts.timeoutMs ?? 120_000;
  const env: NodeJS.ProcessEnv = { ...process.env, FEWSHOT_PYTHON: python.path, ELECTRON_RUN_AS_NODE: '1' };
  const cli = opts.cliScript ?? host.distPath('cli.js');
  if (fs.existsSync(cli)) {
    const r = await run(process.execPath, [cli, 'env', '--json'], env, timeoutMs);
    const parsed = parseCliEnv(r.stdout);
    if (parsed) return { python, ...parsed, via: 'cli' };
  }
  const d = await run(python.path, ['-c', FIND_SPEC, ...WORKER_PACKAGES], { ...process.env, PYTHONNOUSERSITE: '1' }, timeoutMs);
  const parsed = parseCliEnv(d.stdout);
  if (!parsed) {
    const why = d.error?.code === 'ENOENT' ? vscode.l10n.t('there is no interpreter at {0}', python.path)
      : (d.stderr.trim().split(/\r?\n/).slice(-2).join(' ') || d.error?.message || vscode.l10n.t('it printed nothing'));
    return { python, unusable: why, missing: [...WORKER_PACKAGES], ready: false, via: 'direct' };
  }
  return { python, ...parsed, via: 'direct' };
}

export interface SetupOptions {
  /** Test hook: another CLI script (default dist/cli.js) and extra environment. */
  cliScript?: string;
  env?: NodeJS.ProcessEnv;
  /** Called with each output line (pip's progress). */
  onLine?(line: string): void;
}

export interface SetupResult {
  status: 'completed' | 'failed' | 'cancelled';
  exitCode: number | null;
  /** Last lines of its output. */
  lastLines: string[];
}

/**
 * Runs `node dist/cli.js setup` (creates the venv and pip-installs the pinned requirements) and
 * streams its lines; cancelling the token kills it.
 */
export function runSetup(host: Host, token: vscode.CancellationToken | undefined, opts: SetupOptions = {}): Promise<SetupResult> {
  const cli = opts.cliScript ?? host.distPath('cli.js');
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [cli, 'setup'], {
      env: { ...process.env, ...opts.env, ELECTRON_RUN_AS_NODE: '1', PYTHONUNBUFFERED: '1' },
      stdio: ['ignore', 'pipe', 'pipe'], windowsHide: true,
    });
    const last: string[] = [];
    let cancelled = false;
    const partial: Record<string, string> = { out: '', err: '' };
    const feed = (k: 'out' | 'err', chunk: Buffer) => {
      const lines = (partial[k] + chunk.toString('utf8')).split(/\r?\n|\r/);
      partial[k] = lines.pop() ?? '';
      for (const l of lines) {
        if (!l.trim()) continue;
        last.push(l);
        if (last.length > 30) last.shift();
        opts.onLine?.(l);
      }
    };
    child.stdout.on('data', (c: Buffer) => feed('out', c));
    child.stderr.on('data', (c: Buffer) => feed('err', c));
    const sub = token?.onCancellationRequested(() => {
      cancelled = true;
      child.kill('SIGTERM');
      setTimeout(() => { if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL'); }, 2000).unref();
    });
    let ended = false;
    const end = (code: number | null, error?: Error) => {
      if (ended) return;
      ended = true;
      sub?.dispose();
      for (const k of ['out', 'err'] as const) if (partial[k].trim()) { last.push(partial[k]); opts.onLine?.(partial[k]); partial[k] = ''; }
      if (error) last.push(error.message);
      resolve({ status: cancelled ? 'cancelled' : code === 0 ? 'completed' : 'failed', exitCode: code, lastLines: last.slice(-20) });
    };
    child.on('error', (e) => end(null, e));
    child.on('close', (code) => end(code));
  });
}
