/**
 * Runs `node dist/cli.js serve --run <dir> --host <h> --port <p>` as a child
 * process (the model and its ML libraries stay out of the extension host) and
 * waits until it answers GET /health. No 'vscode' import.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as http from 'node:http';

interface ServeChildOptions {
  cliPath: string;
  runDir: string;
  host: string;
  port: number;
  token?: string;
  execPath?: string;
  env?: NodeJS.ProcessEnv;
  /** Max wait until the server answers (default 120 s: the model loads first). */
  startTimeoutMs?: number;
  onLog?(line: string): void;
  /** Called once if the child exits on its own after it started. */
  onExit?(info: { code: number | null; signal: NodeJS.Signals | null; lastLog: string[] }): void;
}

export interface ServeChild {
  url: string;
  port: number;
  pid: number;
  /** Ask the server to close gracefully (SIGTERM), SIGKILL after `graceMs`. Resolves when it exited. */
  stop(graceMs?: number): Promise<void>;
  readonly exited: boolean;
}

export class ServeStartError extends Error {
  constructor(message: string, readonly lastLog: string[], readonly portInUse: boolean) {
    super(message);
    this.name = 'ServeStartError';
  }
}

/** GET <url>/health → true when it answers {status:'ok'}. */
export function checkHealth(url: string, token?: string, timeoutMs = 2000): Promise<boolean> {
  return new Promise((resolve) => {
    const req = http.get(`${url}/health`, { timeout: timeoutMs, headers: token ? { Authorization: `Bearer ${token}` } : {}, agent: false }, (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => {
        try { resolve(res.statusCode === 200 && JSON.parse(body).status === 'ok'); } catch { resolve(false); }
      });
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
  });
}

/** A host for URLs: a wildcard bind address is reached through loopback. */
export function urlHost(host: string): string {
  if (host === '0.0.0.0' || host === '') return '127.0.0.1';
  if (host === '::' || host === '[::]') return '[::1]';
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}

export function startServeChild(opts: ServeChildOptions): Promise<ServeChild> {
  const args = [opts.cliPath, 'serve', '--run', opts.runDir, '--host', opts.host, '--port', String(opts.port)];
  const env: NodeJS.ProcessEnv = { ...process.env, ...opts.env, ELECTRON_RUN_AS_NODE: '1', ORT_DISABLE_TELEMETRY: '1' };
  // The token goes through the environment, not the command line (other users can read argv).
  if (opts.token) env.FEWSHOT_SERVE_TOKEN = opts.token;
  else delete env.FEWSHOT_SERVE_TOKEN;
  const lastLog: string[] = [];
  const push = (line: string) => {
    if (!line.trim()) return;
    lastLog.push(line);
    if (lastLog.length > 50) lastLog.shift();
    opts.onLog?.(line);
  };
  let child: ChildProcess;
  try {
    child = spawn(opts.execPath ?? process.execPath, args, { env, stdio: ['ignore', 'pipe', 'pipe'], windowsHide: true });
  } catch (e) {
    return Promise.reject(new ServeStartError(`Could not start the model server: ${(e as Error).message}`, [], false));
  }
  let exited = false;
  let started = false;
  let exitInfo: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  const exitWaiters: (() => void)[] = [];
  let announced: string | undefined;
  const feed = (buf: { partial: string }, chunk: Buffer) => {
    const text = buf.partial + chunk.toString('utf8');
    const lines = text.split(/\r?\n/);
    buf.partial = lines.pop() ?? '';
    for (const l of lines) {
      push(l);
      const m = /(https?:\/\/[^\s"'<>]+)/.exec(l);
      if (m && !announced) announced = m[1].replace(/[).,;]+$/, '').replace(/\/$/, '');
    }
  };
  const out = { partial: '' };
  const err = { partial: '' };
  child.stdout?.on('data', (c: Buffer) => feed(out, c));
  child.stderr?.on('data', (c: Buffer) => feed(err, c));
  child.on('exit', (code, signal) => {
    exited = true;
    exitInfo = { code, signal };
    push(out.partial);
    push(err.partial);
    exitWaiters.splice(0).forEach((w) => w());
    if (started) opts.onExit?.({ code, signal, lastLog: lastLog.slice() });
  });
  child.on('error', (e) => push(`error: ${e.message}`));

  const fallbackUrl = opts.port > 0 ? `http://${urlHost(opts.host)}:${opts.port}` : undefined;
  const handle: ServeChild = {
    url: '',
    port: 0,
    pid: child.pid ?? 0,
    get exited() { return exited; },
    stop(graceMs = 5000) {
      if (exited) return Promise.resolve();
      return new Promise<void>((resolve) => {
        exitWaiters.push(resolve);
        child.kill('SIGTERM');
        const t = setTimeout(() => { if (!exited) child.kill('SIGKILL'); }, graceMs);
        t.unref();
      });
    },
  };

  return new Promise<ServeChild>((resolve, reject) => {
    const t0 = Date.now();
    const deadline = t0 + (opts.startTimeoutMs ?? 120_000);
    const tick = async () => {
      if (exited) {
        const log = lastLog.join('\n');
        const inUse = /EADDRINUSE|already in use/i.test(log);
        const why = exitInfo?.signal ? `was killed by ${exitInfo.signal}` : `exited with code ${exitInfo?.code}`;
        const errLines = lastLog.filter((l) => /error|refus|cannot|missing|not /i.test(l));
        reject(new ServeStartError(errLines.length ? errLines.slice(-3).join('\n') : `The model server ${why} before it started.`, lastLog.slice(), inUse));
        return;
      }
      // Trust the URL the child prints ("Serving … at http://…"): probing the
      // configured port first could reach another server that holds it.
      const candidate = announced
        ? announced.replace(/\/\/(0\.0\.0\.0|\[::\])(?=:)/, `//${urlHost(opts.host)}`)
        : Date.now() - t0 > 15_000 ? fallbackUrl : undefined;
      if (candidate && (await checkHealth(candidate, opts.token, 1000))) {
        started = true;
        const port = Number(new URL(candidate).port) || opts.port;
        handle.url = candidate;
        handle.port = port;
        resolve(handle);
        return;
      }
      if (Date.now() > deadline) {
        void handle.stop(1000);
        reject(new ServeStartError(`The model server did not start within ${Math.round((opts.startTimeoutMs ?? 120_000) / 1000)} s.`, lastLog.slice(), false));
        return;
      }
      setTimeout(() => void tick(), 200);
    };
    setTimeout(() => void tick(), 100);
  });
}

/** A ready-to-paste curl command for POST /predict. */
export function curlExample(url: string, text: string, token?: string): string {
  const body = JSON.stringify({ text });
  const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  return [
    `curl -s -X POST ${url}/predict`,
    `-H 'Content-Type: application/json'`,
    ...(token ? [`-H ${q(`Authorization: Bearer ${token}`)}`] : []),
    `-d ${q(body)}`,
  ].join(' ');
}
