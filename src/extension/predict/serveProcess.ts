/**
 * Runs `node dist/cli.js serve --run <dir> --host <h> --port <p>` as a child
 * process (the model and its ML libraries stay out of the extension host) and
 * waits for its typed 'listening' message over IPC (src/protocol/serve.ts).
 * No 'vscode' import.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as http from 'node:http';
import { SERVE_PROTOCOL_VERSION, isServeMessage } from '../../protocol/serve';

interface ServeChildOptions {
  cliPath: string;
  runDir: string;
  host: string;
  port: number;
  token?: string;
  /** Most characters per request (--max-request-chars; default: the server's). */
  maxRequestChars?: number;
  /** Browser origins allowed to call the server (--allow-origin). */
  allowedOrigins?: string[];
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

export function startServeChild(opts: ServeChildOptions): Promise<ServeChild> {
  const args = [opts.cliPath, 'serve', '--run', opts.runDir, '--host', opts.host, '--port', String(opts.port)];
  if (opts.maxRequestChars !== undefined) args.push('--max-request-chars', String(opts.maxRequestChars));
  for (const o of opts.allowedOrigins ?? []) args.push('--allow-origin', o);
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
    child = spawn(opts.execPath ?? process.execPath, args, { env, stdio: ['ignore', 'pipe', 'pipe', 'ipc'], serialization: 'json', windowsHide: true });
  } catch (e) {
    return Promise.reject(new ServeStartError(`Could not start the model server: ${(e as Error).message}`, [], false));
  }
  let exited = false;
  let started = false;
  const exitWaiters: (() => void)[] = [];
  const feed = (buf: { partial: string }, chunk: Buffer) => {
    const lines = (buf.partial + chunk.toString('utf8')).split(/\r?\n/);
    buf.partial = lines.pop() ?? '';
    for (const l of lines) push(l);
  };
  const out = { partial: '' };
  const err = { partial: '' };
  child.stdout?.on('data', (c: Buffer) => feed(out, c));
  child.stderr?.on('data', (c: Buffer) => feed(err, c));

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
    let settled = false;
    const fail = (e: ServeStartError) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      reject(e);
    };
    const timeoutMs = opts.startTimeoutMs ?? 120_000;
    const timer = setTimeout(() => {
      void handle.stop(1000);
      fail(new ServeStartError(`The model server did not start within ${Math.round(timeoutMs / 1000)} s.`, lastLog.slice(), false));
    }, timeoutMs);
    child.on('message', (m: unknown) => {
      if (settled || !isServeMessage(m)) return;
      if (m.protocol !== SERVE_PROTOCOL_VERSION) {
        void handle.stop(1000);
        fail(new ServeStartError(`Model server protocol mismatch: the child speaks version ${m.protocol}, the extension version ${SERVE_PROTOCOL_VERSION}. Rebuild or reinstall the extension.`, lastLog.slice(), false));
        return;
      }
      if (m.type === 'serve-error') {
        fail(new ServeStartError(m.fix ? `${m.message}\n${m.fix}` : m.message, lastLog.slice(), m.code === 'serve-port-in-use'));
        return;
      }
      settled = true;
      started = true;
      clearTimeout(timer);
      handle.url = m.url.replace(/\/$/, '');
      handle.port = m.port;
      resolve(handle);
    });
    child.on('error', (e) => {
      push(`error: ${e.message}`);
      fail(new ServeStartError(`Could not start the model server: ${e.message}`, lastLog.slice(), false));
    });
    child.on('exit', (code, signal) => {
      exited = true;
      push(out.partial);
      push(err.partial);
      exitWaiters.splice(0).forEach((w) => w());
      if (started) {
        opts.onExit?.({ code, signal, lastLog: lastLog.slice() });
        return;
      }
      const why = signal ? `was killed by ${signal}` : `exited with code ${code}`;
      const errLines = lastLog.filter((l) => /^error:|^fix:/i.test(l));
      fail(new ServeStartError(errLines.length ? errLines.slice(-3).join('\n') : `The model server ${why} before it started.`, lastLog.slice(), /EADDRINUSE|already in use/i.test(lastLog.join('\n'))));
    });
  });
}

/** A ready-to-paste curl command for POST /predict. */
export function curlExample(url: string, text: string, token?: string, image?: boolean): string {
  const body = JSON.stringify({ text });
  const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  return [
    `curl -s -X POST ${url}/predict`,
    ...(image ? [] : [`-H 'Content-Type: application/json'`]),
    ...(token ? [`-H ${q(`Authorization: Bearer ${token}`)}`] : []),
    image ? `-F ${q(`image=@${text}`)}` : `-d ${q(body)}`,
  ].join(' ');
}
