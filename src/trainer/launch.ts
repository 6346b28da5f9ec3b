/**
 * Parent side of the trainer and predictor child processes. Used by the
 * extension host and the CLI; imports neither 'vscode' nor any ML library.
 *
 * The children are forked with `child_process.fork` as plain Node (execArgv [],
 * ELECTRON_RUN_AS_NODE=1 so Electron's binary behaves as Node, ORT_DISABLE_TELEMETRY=1).
 * A child that dies without finishing (native crash, OOM kill, exit ≠ 0) ends its
 * run as 'failed' with the last lines of its log; the run record is fixed up when
 * the child left it 'running'.
 */
import { fork, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  TRAINER_PROTOCOL_VERSION, type ImageOutcome, type ParentToPredictor, type ParentToTrainer, type PredictorToParent, type TrainRequest,
  type TrainerToParent,
} from '../protocol/trainer';
import type { Prediction, RunStatus } from '../protocol/run';
import { RunStore } from '../core/runs';

export const LOG_TAIL_LINES = 50;
/** How long `cancel()` waits for the child to exit by itself before SIGKILL. */
export const CANCEL_GRACE_MS = 1000;

export interface TrainerResult {
  status: RunStatus;
  runId?: string;
  runDir?: string;
  error?: string;
  fix?: string;
  file?: string;
  /** Last lines of the child's log (stderr, stdout and 'log' messages). */
  lastLog: string[];
  exitCode?: number | null;
  signal?: NodeJS.Signals | null;
}

export interface TrainerHandle {
  /** Set once the child sent 'started'. */
  runId?: string;
  runDir?: string;
  pid?: number;
  /** Ask the child to stop; SIGKILL after 1 s if it is still alive. The run ends 'cancelled'. */
  cancel(): void;
  done: Promise<TrainerResult>;
}

export interface LaunchOptions {
  onMessage(m: TrainerToParent): void;
  /** Node (or Electron) binary; default process.execPath. */
  execPath?: string;
  /** Default: dist/trainer.js next to this bundle. */
  trainerScript?: string;
  /** Extra environment for the child (merged over process.env). */
  env?: NodeJS.ProcessEnv;
}

/** Finds `<name>` next to the running bundle (dist/), or in <repo>/dist when running from out/ or src/. */
export function findChildScript(name: 'trainer.js' | 'predictor.js' | 'labels.js'): string {
  const here = __dirname;
  const candidates = [path.join(here, name)];
  let dir = here;
  for (let i = 0; i < 6; i++) {
    candidates.push(path.join(dir, 'dist', name));
    const up = path.dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  return candidates.find((c) => fs.existsSync(c)) ?? candidates[0];
}

function childEnv(extra?: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return { ...process.env, ...extra, ELECTRON_RUN_AS_NODE: '1', ORT_DISABLE_TELEMETRY: '1' };
}

/** Ring buffer of the last N log lines. */
export class LogTail {
  readonly lines: string[] = [];
  private partial: Record<string, string> = {};
  constructor(private readonly max = LOG_TAIL_LINES) {}
  push(line: string): void {
    this.lines.push(line);
    if (this.lines.length > this.max) this.lines.splice(0, this.lines.length - this.max);
  }
  feed(stream: string, chunk: Buffer | string): void {
    const text = (this.partial[stream] ?? '') + chunk.toString();
    const parts = text.split(/\r?\n/);
    this.partial[stream] = parts.pop() ?? '';
    for (const p of parts) if (p.trim()) this.push(p);
  }
  end(): void {
    for (const k of Object.keys(this.partial)) if (this.partial[k].trim()) this.push(this.partial[k]);
    this.partial = {};
  }
}

export function forkChild(script: string, execPath: string | undefined, env: NodeJS.ProcessEnv | undefined, tail: LogTail): ChildProcess {
  if (!fs.existsSync(script)) {
    throw new Error(`Cannot start the child process: ${script} does not exist. Build the extension first (npm run build).`);
  }
  const child = fork(script, [], {
    execPath: execPath ?? process.execPath,
    execArgv: [],
    env: childEnv(env),
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    serialization: 'json',
  });
  child.stdout?.on('data', (d: Buffer) => tail.feed('stdout', d));
  child.stderr?.on('data', (d: Buffer) => tail.feed('stderr', d));
  return child;
}

/** Fork dist/trainer.js, send it the request and follow it to the end. */
export function launchTrainer(req: TrainRequest, opts: LaunchOptions): TrainerHandle {
  const tail = new LogTail();
  const script = opts.trainerScript ?? findChildScript('trainer.js');
  let terminal: TrainerToParent | undefined;
  let cancelRequested = false;
  let exited = false;
  let killTimer: NodeJS.Timeout | undefined;
  let child: ChildProcess;
  const handle: TrainerHandle = {
    cancel() { /* replaced below */ },
    done: Promise.resolve({ status: 'failed', lastLog: [] }),
  };
  const forward = (m: TrainerToParent): void => {
    try { opts.onMessage(m); } catch { /* listener errors must not break the protocol */ }
  };

  try {
    child = forkChild(script, opts.execPath, opts.env, tail);
  } catch (e) {
    const error = e instanceof Error ? e.message : String(e);
    handle.done = Promise.resolve({ status: 'failed', error, lastLog: [] });
    queueMicrotask(() => forward({ type: 'error', message: error }));
    return handle;
  }
  handle.pid = child.pid;

  const send = (m: ParentToTrainer): void => {
    if (child.connected) {
      try { child.send(m); } catch { /* child gone: the exit handler decides */ }
    }
  };

  child.on('message', (raw: unknown) => {
    const m = raw as TrainerToParent;
    if (!m || typeof m !== 'object' || typeof (m as { type?: unknown }).type !== 'string') return;
    switch (m.type) {
      case 'ready':
        if (m.protocol !== TRAINER_PROTOCOL_VERSION) {
          // refuse it: another version may read the request differently, or send messages this parent misreads
          const message = protocolMismatch('trainer', script, m.protocol);
          terminal = { type: 'error', message, fix: PROTOCOL_FIX };
          tail.push(`error: ${message}`);
          child.kill('SIGKILL');
          forward(terminal);
          return;
        }
        if (cancelRequested) { child.kill('SIGKILL'); break; }
        send({ type: 'train', protocol: TRAINER_PROTOCOL_VERSION, request: req });
        break;
      case 'started':
        handle.runId = m.runId;
        handle.runDir = m.runDir;
        break;
      case 'log':
        tail.push(`${m.level}: ${m.message}`);
        break;
      case 'done':
      case 'cancelled':
        terminal = m;
        break;
      case 'error':
        terminal = m;
        tail.push(`error: ${m.message}`);
        if (m.runId) handle.runId = m.runId;
        if (m.runDir) handle.runDir = m.runDir;
        break;
      default:
        break;
    }
    forward(m);
  });

  handle.cancel = () => {
    if (exited || cancelRequested) return;
    cancelRequested = true;
    send({ type: 'cancel' });
    killTimer = setTimeout(() => {
      if (!exited) {
        tail.push(`trainer did not stop within ${CANCEL_GRACE_MS} ms of cancel: killed`);
        child.kill('SIGKILL');
      }
    }, CANCEL_GRACE_MS);
  };

  handle.done = new Promise<TrainerResult>((resolve) => {
    let settled = false;
    const finish = async (code: number | null, signal: NodeJS.Signals | null, spawnError?: Error): Promise<void> => {
      if (settled) return;
      settled = true;
      exited = true;
      if (killTimer) clearTimeout(killTimer);
      tail.end();
      const base = { runId: handle.runId, runDir: handle.runDir, exitCode: code, signal, lastLog: tail.lines.slice() };
      if (terminal?.type === 'done') return resolve({ ...base, status: 'completed' });
      if (terminal?.type === 'cancelled' || (cancelRequested && terminal?.type !== 'error')) {
        await fixRecord(req.storeDir, handle.runId, 'cancelled');
        if (terminal?.type !== 'cancelled' && handle.runId && handle.runDir) forward({ type: 'cancelled', runId: handle.runId, runDir: handle.runDir });
        return resolve({ ...base, status: 'cancelled' });
      }
      if (terminal?.type === 'error') {
        await fixRecord(req.storeDir, handle.runId, 'failed', terminal.message);
        return resolve({ ...base, status: 'failed', error: terminal.message, fix: terminal.fix, file: terminal.file });
      }
      const how = spawnError ? `could not start (${spawnError.message})`
        : signal ? `was killed by ${signal}` : `exited with code ${code}`;
      const lastLines = tail.lines.slice(-10);
      const error = `The trainer process ${how} before finishing.${lastLines.length ? `\nLast log lines:\n${lastLines.join('\n')}` : ''}`;
      await fixRecord(req.storeDir, handle.runId, 'failed', error);
      forward({ type: 'error', message: error, runId: handle.runId, runDir: handle.runDir });
      resolve({ ...base, status: 'failed', error });
    };
    child.on('exit', (code, signal) => { void finish(code, signal); });
    child.on('error', (e) => {
      // 'error' without 'exit' means the process could not be spawned.
      if (child.pid === undefined) void finish(null, null, e);
      else tail.push(`child process error: ${e.message}`);
    });
  });
  return handle;
}

const PROTOCOL_FIX = 'Rebuild the extension (npm run build) so that dist/trainer.js and dist/predictor.js match it, then reload the window.';

function protocolMismatch(what: 'trainer' | 'predictor', script: string, theirs: unknown): string {
  return `The ${what} process (${script}) speaks protocol version ${String(theirs)}, this extension version ${TRAINER_PROTOCOL_VERSION}; it was stopped.`;
}

/** If the run was left 'running' by a dead child, record how it really ended. */
async function fixRecord(storeDir: string, runId: string | undefined, status: 'failed' | 'cancelled', message?: string): Promise<void> {
  if (!runId) return;
  try {
    const store = new RunStore(storeDir);
    const rec = await store.read(runId);
    // 'interrupted' is how readers show a 'running' run whose process (this dead child) is gone
    if (rec.status !== 'running' && rec.status !== 'interrupted') return;
    await store.update(runId, {
      status,
      finishedAt: new Date().toISOString(),
      ...(status === 'failed' ? { error: { message: message ?? 'The trainer process ended unexpectedly.' } } : {}),
    });
  } catch { /* the run folder may be gone (deleted while training) */ }
}

// ---------------------------------------------------------------- predictor

export interface PredictorInfo {
  runDir: string;
  labels: string[];
  encoder: string;
  loadMs: number;
  pid: number;
  /** What the loaded model classifies (undefined from an older child: texts). */
  modality?: 'text' | 'image';
}

export interface PredictorClient {
  /** Resolves once the model is loaded; rejects (with the child's message and fix) when it cannot be. */
  ready: Promise<PredictorInfo>;
  predict(texts: string[]): Promise<Prediction[]>;
  /** Image runs: one outcome per image file (a bad image is an error outcome); cacheHits = embeddings reused. */
  predictImages(files: string[]): Promise<{ outcomes: ImageOutcome[]; cacheHits: number }>;
  /** True once the child has exited (crash or dispose); the caller may start a new one. */
  readonly exited: boolean;
  /** Last lines of the child's log. */
  lastLog(): string[];
  dispose(): void;
}

export interface PredictorLaunchOptions {
  execPath?: string;
  /** Default: dist/predictor.js next to this bundle. */
  predictorScript?: string;
  env?: NodeJS.ProcessEnv;
  hf?: TrainRequest['hf'];
  /** Called once when the child exits (code, signal); not called after dispose(). */
  onExit?(info: { code: number | null; signal: NodeJS.Signals | null; lastLog: string[] }): void;
  onLog?(line: string): void;
}

/** Error from the predictor child, with the fix it suggested. */
export class PredictorError extends Error {
  constructor(message: string, readonly fix?: string) { super(message); this.name = 'PredictorError'; }
}

/** Fork dist/predictor.js and load the model of `runDir` in it. Restarting after a crash is up to the caller. */
export function launchPredictor(runDir: string, opts: PredictorLaunchOptions = {}): PredictorClient {
  const tail = new LogTail();
  const script = opts.predictorScript ?? findChildScript('predictor.js');
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- a Prediction[] or an image result, by request type
  const pending = new Map<number, { resolve(p: any): void; reject(e: Error): void }>();
  let nextId = 1;
  let exited = false;
  let disposed = false;
  let readyResolve!: (i: PredictorInfo) => void;
  let readyReject!: (e: Error) => void;
  let isReady = false;
  const ready = new Promise<PredictorInfo>((res, rej) => { readyResolve = res; readyReject = rej; });
  ready.catch(() => undefined); // callers may only use predict()

  let child: ChildProcess;
  try {
    child = forkChild(script, opts.execPath, opts.env, tail);
  } catch (e) {
    exited = true;
    readyReject(e instanceof Error ? e : new Error(String(e)));
    return {
      ready, get exited() { return true; }, lastLog: () => [],
      predict: () => Promise.reject(e instanceof Error ? e : new Error(String(e))),
      predictImages: () => Promise.reject(e instanceof Error ? e : new Error(String(e))), dispose() { /* nothing */ },
    };
  }
  const origPush = tail.push.bind(tail);
  tail.push = (line: string) => { origPush(line); opts.onLog?.(line); };

  const send = (m: ParentToPredictor): boolean => {
    if (!child.connected) return false;
    try { child.send(m); return true; } catch { return false; }
  };

  child.on('message', (raw: unknown) => {
    const m = raw as PredictorToParent;
    if (!m || typeof m !== 'object') return;
    switch (m.type) {
      case 'ready':
        if (m.protocol !== TRAINER_PROTOCOL_VERSION) {
          const message = protocolMismatch('predictor', script, m.protocol);
          tail.push(`error: ${message}`);
          readyReject(new PredictorError(message, PROTOCOL_FIX));
          disposed = true; // not a crash: no onExit restart
          child.kill('SIGKILL');
          break;
        }
        send({ type: 'load', protocol: TRAINER_PROTOCOL_VERSION, runDir, hf: opts.hf });
        break;
      case 'loaded':
        isReady = true;
        readyResolve({ runDir: m.runDir, labels: m.labels, encoder: m.encoder, loadMs: m.loadMs, pid: child.pid ?? 0, modality: m.modality });
        break;
      case 'result': {
        const p = pending.get(m.id);
        pending.delete(m.id);
        p?.resolve(m.predictions);
        break;
      }
      case 'imageResult': {
        const p = pending.get(m.id);
        pending.delete(m.id);
        p?.resolve({ outcomes: m.outcomes, cacheHits: m.cacheHits });
        break;
      }
      case 'error': {
        tail.push(`error: ${m.message}`);
        const err = new PredictorError(m.message, m.fix);
        if (m.id !== undefined && pending.has(m.id)) {
          const p = pending.get(m.id)!;
          pending.delete(m.id);
          p.reject(err);
        } else if (!isReady) {
          readyReject(err);
        }
        break;
      }
      default:
        break;
    }
  });

  const onGone = (code: number | null, signal: NodeJS.Signals | null): void => {
    if (exited) return;
    exited = true;
    tail.end();
    const last = tail.lines.slice(-10);
    const why = disposed ? 'The predictor was stopped.'
      : `The predictor process ${signal ? `was killed by ${signal}` : `exited with code ${code}`}.${last.length ? `\nLast log lines:\n${last.join('\n')}` : ''}`;
    const err = new PredictorError(why);
    if (!isReady) readyReject(err);
    for (const p of pending.values()) p.reject(err);
    pending.clear();
    if (!disposed) opts.onExit?.({ code, signal, lastLog: tail.lines.slice() });
  };
  child.on('exit', onGone);
  child.on('error', (e) => { if (child.pid === undefined) { tail.push(e.message); onGone(null, null); } });

  const request = async <T>(msg: (id: number) => ParentToPredictor): Promise<T> => {
    await ready;
    if (exited) throw new PredictorError('The predictor process is not running.');
    const id = nextId++;
    return new Promise<T>((resolve, reject) => {
      pending.set(id, { resolve, reject });
      if (!send(msg(id))) {
        pending.delete(id);
        reject(new PredictorError('The predictor process is not running.'));
      }
    });
  };

  return {
    ready,
    get exited() { return exited; },
    lastLog: () => tail.lines.slice(),
    predict: (texts: string[]) => request<Prediction[]>((id) => ({ type: 'predict', id, texts })),
    predictImages: (files: string[]) => request<{ outcomes: ImageOutcome[]; cacheHits: number }>((id) => ({ type: 'predictImages', id, files })),
    dispose() {
      if (disposed) return;
      disposed = true;
      if (!exited) {
        try { child.disconnect(); } catch { /* already */ }
        const t = setTimeout(() => { if (!exited) child.kill('SIGKILL'); }, CANCEL_GRACE_MS);
        t.unref();
        child.kill('SIGTERM');
      }
    },
  };
}
