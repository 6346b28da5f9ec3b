/**
 * Parent side of the fine-tuning worker (python/fewshot_worker, protocol in src/protocol/finetune.ts):
 * writes `<run>/finetune/job.json`, starts `<python> -m fewshot_worker --job <file>` (through
 * `torch.distributed.run` on more than one CUDA GPU), parses its JSON lines and maps them to
 * callbacks; cancel = {"type":"cancel"} on stdin, SIGTERM after 1 s, SIGKILL after 2 s.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import { FINETUNE_PROTOCOL_VERSION, type FinetuneJob, type ImageFinetuneJob, type WorkerMessage } from '../../protocol/finetune';
import { FewShotError } from '../errors';
import { abortError } from '../util/async';
import { writeJsonAtomic } from '../util/fs';

export type DoneMessage = Extract<WorkerMessage, { type: 'done' }>;
export type StartedMessage = Extract<WorkerMessage, { type: 'started' }>;
/** The 'done' of a fine-tuning job, and of a 'setfit' job. */
export type FinetuneDone = Exclude<DoneMessage, { kind: 'setfit' }>;
export type SetFitDone = Extract<DoneMessage, { kind: 'setfit' }>;

const MESSAGE_TYPES = new Set(['started', 'stage', 'epoch', 'pair-step', 'log', 'done', 'cancelled', 'error']);

/**
 * Splits a byte stream into lines (UTF-8 safe across chunks) and each line into a WorkerMessage
 * (a JSON object with a known `type` and a numeric `protocol`) or a plain text line.
 */
export class JsonLineParser {
  private buf = '';
  private readonly decoder = new StringDecoder('utf8');
  constructor(private readonly onMessage: (m: WorkerMessage) => void, private readonly onText: (line: string) => void) {}

  push(chunk: Buffer | string): void {
    this.buf += typeof chunk === 'string' ? chunk : this.decoder.write(chunk);
    let nl: number;
    while ((nl = this.buf.indexOf('\n')) >= 0) {
      const line = this.buf.slice(0, nl);
      this.buf = this.buf.slice(nl + 1);
      this.line(line);
    }
  }

  /** The stream ended: a last line without a newline still counts. */
  end(): void {
    this.buf += this.decoder.end();
    if (this.buf) this.line(this.buf);
    this.buf = '';
  }

  private line(raw: string): void {
    // a progress bar redraws with \r: keep what the line finally showed
    const line = raw.split('\r').filter((x) => x.trim()).pop() ?? '';
    if (!line.trim()) return;
    const t = line.trim();
    if (t.startsWith('{') && t.endsWith('}')) {
      try {
        const m = JSON.parse(t) as { type?: unknown; protocol?: unknown };
        if (m && typeof m === 'object' && typeof m.type === 'string' && MESSAGE_TYPES.has(m.type) && typeof m.protocol === 'number') {
          this.onMessage(m as WorkerMessage);
          return;
        }
      } catch { /* a log line that looks like JSON */ }
    }
    this.onText(line);
  }
}

/**
 * Runs the progress callbacks of worker messages one after another, in message order (each point is
 * stored and emitted before the next is handled); a failing callback is logged, not fatal.
 * `then(f)` queues f; `idle()` resolves when the queue is empty.
 */
export function progressQueue(log: (message: string, level: 'warn') => void): { then(f: () => Promise<void> | void): void; idle(): Promise<void> } {
  let chain: Promise<void> = Promise.resolve();
  return {
    then(f) { chain = chain.then(f).catch((e) => log(`progress: ${(e as Error).message}`, 'warn')); },
    idle: () => chain,
  };
}

/** The folder holding the `fewshot_worker` package: `<repo or extension>/python`, searched upward from the built file. */
export function findWorkerPackage(start = __dirname): string | undefined {
  let dir = start;
  for (;;) {
    const p = path.join(dir, 'python');
    if (fs.existsSync(path.join(p, 'fewshot_worker', '__init__.py')) || fs.existsSync(path.join(p, 'fewshot_worker', '__main__.py'))) return p;
    const up = path.dirname(dir);
    if (up === dir) return undefined;
    dir = up;
  }
}

export interface WorkerHooks {
  onStarted?(m: StartedMessage): void;
  onMessage?(m: WorkerMessage): void;
  /** A non-JSON line of stdout or stderr. */
  onText?(line: string, stream: 'stdout' | 'stderr'): void;
}

export interface RunWorkerOptions extends WorkerHooks {
  python: string;
  jobFile: string;
  /** CUDA GPUs to use with DistributedDataParallel (> 1: torch.distributed.run). */
  nproc?: number;
  env?: NodeJS.ProcessEnv;
  signal?: AbortSignal;
  /** Default 1000 / 2000 ms. */
  termAfterMs?: number;
  killAfterMs?: number;
  /** How long a worker may take to exit after its 'done' or 'error' message before it is stopped. Default 10 s. */
  exitGraceMs?: number;
  /** Where the worker's package lives (default: findWorkerPackage(); env FEWSHOT_WORKER_DIR overrides it for method finetune). */
  packageDir?: string;
  batchSize?: number;
}

export async function writeJob(runDir: string, job: FinetuneJob | ImageFinetuneJob): Promise<string> {
  const file = path.join(runDir, 'finetune', 'job.json');
  await writeJsonAtomic(file, job);
  return file;
}

/** The worker's command line. */
export function workerArgs(jobFile: string, nproc = 1): string[] {
  return nproc > 1
    ? ['-m', 'torch.distributed.run', '--standalone', '--nproc_per_node', String(nproc), '-m', 'fewshot_worker', '--job', jobFile]
    : ['-m', 'fewshot_worker', '--job', jobFile];
}

const TAIL_LINES = 20;

/**
 * Runs the worker to its end. Resolves with its 'done' message; rejects with a FewShotError
 * ('error' message, protocol mismatch, crash with the last stderr lines) or an AbortError (cancelled).
 */
export function runWorker<D extends DoneMessage = FinetuneDone>(o: RunWorkerOptions): Promise<D> {
  if (o.signal?.aborted) return Promise.reject(abortError());
  const pkg = o.packageDir ?? findWorkerPackage();
  const baseEnv = o.env ?? process.env;
  const env: NodeJS.ProcessEnv = {
    ...baseEnv,
    PYTHONUNBUFFERED: '1',
    PYTHONNOUSERSITE: '1',
    ...(pkg ? { PYTHONPATH: [pkg, baseEnv.PYTHONPATH].filter(Boolean).join(path.delimiter) } : {}),
  };
  return new Promise<D>((resolve, reject) => {
    let child: ChildProcess;
    try {
      child = spawn(o.python, workerArgs(o.jobFile, o.nproc), { env, stdio: ['pipe', 'pipe', 'pipe'], windowsHide: true });
    } catch (e) {
      reject(new FewShotError(`Could not start the fine-tuning worker with ${o.python}: ${(e as Error).message}`, { file: o.python, code: 'worker-spawn', fix: 'Check the interpreter (`fewshot env`).' }));
      return;
    }
    const tail: string[] = [];
    const remember = (l: string): void => { tail.push(l); if (tail.length > TAIL_LINES) tail.shift(); };
    let done: DoneMessage | undefined;
    let failure: Error | undefined;
    let cancelled = false;
    let settled = false;
    const timers: NodeJS.Timeout[] = [];
    const finish = (err?: Error): void => {
      if (settled) return;
      settled = true;
      timers.forEach(clearTimeout);
      o.signal?.removeEventListener('abort', onAbort);
      if (err) reject(err); else if (done) resolve(done as D); else reject(new Error('worker ended without a result'));
    };
    let stopping = false;
    const stop = (): void => {
      if (stopping) return;
      stopping = true;
      try { child.stdin?.write(JSON.stringify({ type: 'cancel' }) + '\n'); } catch { /* closed */ }
      timers.push(setTimeout(() => { try { child.kill('SIGTERM'); } catch { /* gone */ } }, o.termAfterMs ?? 1000));
      timers.push(setTimeout(() => {
        try { child.kill('SIGKILL'); } catch { /* gone */ }
        // the run ends now even if the process is stuck in uninterruptible I/O
        finish(failure ?? (done && !o.signal?.aborted ? undefined : abortError()));
      }, o.killAfterMs ?? 2000));
    };
    // after its last message ('done' or 'error') the worker has this long to exit by itself
    const lastWords = (): void => { timers.push(setTimeout(stop, o.exitGraceMs ?? 10_000)); };
    const onAbort = (): void => { cancelled = true; stop(); };
    o.signal?.addEventListener('abort', onAbort, { once: true });
    // the parent quitting at once (second Ctrl-C, process.exit) must not leave the worker running
    const onParentExit = (): void => { try { child.kill('SIGKILL'); } catch { /* gone */ } };
    process.once('exit', onParentExit);
    child.once('close', () => process.off('exit', onParentExit));
    child.stdin?.on('error', () => { /* worker gone: EPIPE */ });

    const handle = (m: WorkerMessage): void => {
      if (m.protocol !== FINETUNE_PROTOCOL_VERSION) {
        if (!failure) {
          failure = new FewShotError(`Fine-tuning worker protocol mismatch: the worker speaks version ${m.protocol}, this Few-Shot Lab version ${FINETUNE_PROTOCOL_VERSION}.`, {
            code: 'worker-protocol', file: pkg, fix: 'Update the worker: run `fewshot setup` again, or use the python/ folder that came with this Few-Shot Lab.',
          });
          stop();
        }
        return;
      }
      if (failure) return;
      switch (m.type) {
        case 'started': o.onStarted?.(m); break;
        case 'done': done = m; lastWords(); break;
        case 'cancelled': cancelled = true; break;
        case 'error': failure = workerError(m, tail, o.batchSize); lastWords(); break;
        default: break;
      }
      o.onMessage?.(m);
    };
    const out = new JsonLineParser(handle, (l) => { remember(l); o.onText?.(l, 'stdout'); });
    const err = new JsonLineParser(handle, (l) => { remember(l); o.onText?.(l, 'stderr'); });
    child.stdout?.on('data', (d: Buffer) => out.push(d));
    child.stderr?.on('data', (d: Buffer) => err.push(d));
    child.on('error', (e) => {
      finish(new FewShotError(`Could not start the fine-tuning worker with ${o.python}: ${e.message}`, { file: o.python, code: 'worker-spawn', fix: 'Check the interpreter (`fewshot env`), or run `fewshot setup`.' }));
    });
    child.on('close', (code, sig) => {
      out.end();
      err.end();
      if (failure) return finish(failure);
      if (o.signal?.aborted) return finish(abortError());
      // a worker stopped after its result (lastWords) still delivered it
      if (done && (code === 0 || stopping)) return finish();
      if (cancelled) return finish(abortError());
      const how = sig ? `was killed by ${sig}` : `exited with code ${code}`;
      finish(new FewShotError(`The fine-tuning worker ${how}${done ? ' after its result' : ' without reporting an error'}.${tail.length ? ` Last lines:\n${tail.join('\n')}` : ''}`, {
        code: 'worker-crash', detail: tail.join('\n'),
        fix: sig === 'SIGKILL' ? 'The system may have run out of memory: try a smaller --batch-size or --max-length.' : 'Read the last lines above; `fewshot env` checks the Python side.',
      }));
    });
  });
}

function workerError(m: Extract<WorkerMessage, { type: 'error' }>, tail: string[], batchSize?: number): FewShotError {
  const smaller = batchSize && batchSize > 1 ? Math.max(1, Math.floor(batchSize / 2)) : undefined;
  const fix = m.code === 'oom'
    ? `The device ran out of memory: use a smaller batch (${smaller ? `--batch-size ${smaller}` : 'a smaller --batch-size'}) or a shorter --max-length${m.fix ? `. ${m.fix}` : ''}.`
    : m.fix ?? (m.code === 'model-missing' ? 'Pass a local model folder (config.json, weights, tokenizer) to --model.' : 'Read the worker log; `fewshot env` checks the Python side.');
  return new FewShotError(`Fine-tuning failed: ${m.message}`, {
    code: `worker-${m.code ?? 'internal'}`, fix, detail: [m.detail, tail.length ? `Last worker lines:\n${tail.join('\n')}` : ''].filter(Boolean).join('\n'),
  });
}
