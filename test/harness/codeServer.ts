/**
 * Starts code-server (VS Code 1.100 in the browser) for tests, on a free port,
 * with all of its state (HOME, XDG dirs, user data, extensions) in a scratch
 * folder. Always call `stop()` in a finally block; a process 'exit' hook kills
 * leftovers too.
 */
import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import { freePort } from './ports';
import { codeServerDir, codeServerEntry, removeDir, repoRoot, resultsDir, sanitize, scratchDir } from './paths';

export interface CodeServerOptions {
  /** Name used for scratch folders and logs. */
  name: string;
  /** Folder to open (usually from makeScratchWorkspace). */
  workspace: string;
  /** .vsix files to install with --install-extension before starting. */
  installVsix?: string[];
  /**
   * Parent of the scratch state (home, user data, extensions); default test-results/tmp. An installed
   * .vsix under the repository would find missing packages in the repository's node_modules.
   */
  scratchRoot?: string;
  /** Extra user settings (settings.json). */
  settings?: Record<string, unknown>;
  /** Extra environment variables (reach the extension host, which code-server forks). */
  env?: Record<string, string>;
  /** Display language, e.g. 'zh-cn' (default: English). */
  locale?: string;
  /** Max time to wait for the HTTP server (default 90 s). */
  startTimeoutMs?: number;
  /**
   * Enable VS Code's workspace trust (default false: code-server runs with
   * --disable-workspace-trust). When true, the flag is omitted and
   * `security.workspace.trust.enabled` is set, so a fresh profile opens the
   * workspace with the "Do you trust the authors…" prompt.
   */
  workspaceTrust?: boolean;
}

export interface CodeServer {
  port: number;
  /** http://127.0.0.1:PORT */
  baseUrl: string;
  workspace: string;
  /** Scratch root: home/, user-data/, extensions/, code-server.log */
  dir: string;
  userDataDir: string;
  extensionsDir: string;
  logFile: string;
  process: ChildProcess;
  /** Workbench URL that opens `workspace`, optionally as an Extension Development Host. */
  workbenchUrl(opts?: { extensionDevelopmentPath?: string; extensionTestsPath?: string; folder?: string }): string;
  /** Copy code-server's own log and VS Code's logs (exthost etc.) to `dest`. */
  collectLogs(dest: string): void;
  /** Kill the whole process group (code-server, extension host, its children). */
  stop(opts?: { keepScratch?: boolean }): Promise<void>;
}

const live = new Set<number>();
let exitHookInstalled = false;
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const pid of live) {
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
  });
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => {
      process.exit(130);
    });
  }
}

/** Runs scripts/setup-code-server.mjs when code-server is not installed yet. */
export function ensureCodeServerInstalled(): string {
  const marker = path.join(codeServerDir, '.installed');
  if (fs.existsSync(codeServerEntry) && fs.existsSync(marker)) return codeServerEntry;
  const r = spawnSync(process.execPath, [path.join(repoRoot, 'scripts', 'setup-code-server.mjs')], { stdio: 'inherit' });
  if (r.status !== 0 || !fs.existsSync(codeServerEntry)) throw new Error('code-server is not installed: run `node scripts/setup-code-server.mjs`');
  return codeServerEntry;
}

function cleanEnv(home: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    // VSCODE_IPC_HOOK_CLI etc. would turn code-server into a client of another instance.
    if (k.startsWith('VSCODE_') || k === 'ELECTRON_RUN_AS_NODE' || k.startsWith('npm_') || k === 'NODE_OPTIONS') continue;
    env[k] = v;
  }
  Object.assign(env, {
    HOME: home,
    XDG_CONFIG_HOME: path.join(home, '.config'),
    XDG_DATA_HOME: path.join(home, '.local', 'share'),
    XDG_CACHE_HOME: path.join(home, '.cache'),
    ORT_DISABLE_TELEMETRY: '1',
    ONNXRUNTIME_NODE_INSTALL_CUDA: 'skip',
    FEWSHOT_UNDER_TEST: '1',
    ...extra,
  });
  return env;
}

function httpStatus(url: string): Promise<number> {
  return new Promise((resolve) => {
    const req = http.get(url, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', () => resolve(0));
    req.setTimeout(2000, () => {
      req.destroy();
      resolve(0);
    });
  });
}

const DEFAULT_SETTINGS: Record<string, unknown> = {
  'workbench.startupEditor': 'none',
  'workbench.tips.enabled': false,
  'workbench.enableExperiments': false,
  'workbench.welcomePage.walkthroughs.openOnInstall': false,
  'telemetry.telemetryLevel': 'off',
  'update.mode': 'none',
  'extensions.autoCheckUpdates': false,
  'extensions.autoUpdate': false,
  'extensions.ignoreRecommendations': true,
  'security.workspace.trust.enabled': false,
  'git.enabled': false,
  'git.openRepositoryInParentFolders': 'never',
  'editor.minimap.enabled': false,
  'window.commandCenter': false,
  'chat.commandCenter.enabled': false,
  'workbench.secondarySideBar.defaultVisibility': 'hidden',
};

export async function startCodeServer(opts: CodeServerOptions): Promise<CodeServer> {
  const entry = ensureCodeServerInstalled();
  installExitHook();
  const dir = opts.scratchRoot ? fs.mkdtempSync(path.join(opts.scratchRoot, `cs-${sanitize(opts.name)}-`)) : scratchDir(`cs-${opts.name}`);
  const home = path.join(dir, 'home');
  const userDataDir = path.join(dir, 'user-data');
  const extensionsDir = path.join(dir, 'extensions');
  for (const d of [home, userDataDir, extensionsDir, path.join(userDataDir, 'User')]) fs.mkdirSync(d, { recursive: true });
  fs.writeFileSync(path.join(userDataDir, 'User', 'settings.json'), JSON.stringify({ ...DEFAULT_SETTINGS, ...(opts.workspaceTrust ? { 'security.workspace.trust.enabled': true } : {}), ...opts.settings }, null, 2));
  if (opts.locale) fs.writeFileSync(path.join(userDataDir, 'User', 'argv.json'), JSON.stringify({ locale: opts.locale }));
  const env = cleanEnv(home, opts.env);
  const logFile = path.join(dir, 'code-server.log');
  const common = ['--user-data-dir', userDataDir, '--extensions-dir', extensionsDir];

  for (const vsix of opts.installVsix ?? []) {
    const r = spawnSync(process.execPath, [entry, ...common, '--install-extension', vsix], { env, encoding: 'utf8', timeout: 180_000 });
    fs.appendFileSync(logFile, `--install-extension ${vsix}\n${r.stdout}\n${r.stderr}\n`);
    if (r.status !== 0) throw new Error(`code-server --install-extension ${vsix} failed (${r.status}): ${r.stderr || r.stdout}`);
  }

  let lastError = '';
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const baseUrl = `http://127.0.0.1:${port}`;
    const args = [
      entry,
      '--auth', 'none',
      '--bind-addr', `127.0.0.1:${port}`,
      '--disable-telemetry',
      '--disable-update-check',
      ...(opts.workspaceTrust ? [] : ['--disable-workspace-trust']),
      '--disable-getting-started-override',
      '--ignore-last-opened',
      ...(opts.locale ? ['--locale', opts.locale] : []),
      ...common,
      opts.workspace,
    ];
    const out = fs.openSync(logFile, 'a');
    fs.writeSync(out, `\n$ node ${args.map((a) => JSON.stringify(a)).join(' ')}\n`);
    const child = spawn(process.execPath, args, { cwd: opts.workspace, env, detached: true, stdio: ['ignore', out, out] });
    fs.closeSync(out);
    if (child.pid) live.add(child.pid);
    let exited: number | string | null = null;
    const exitedP = new Promise<void>((resolve) => child.once('exit', (code, sig) => { exited = code ?? sig ?? 'exit'; resolve(); }));

    const deadline = Date.now() + (opts.startTimeoutMs ?? 90_000);
    let up = false;
    while (Date.now() < deadline && exited === null) {
      const status = await httpStatus(`${baseUrl}/healthz`);
      if (status === 200) {
        up = true;
        break;
      }
      await new Promise((r) => setTimeout(r, 150));
    }
    if (up) {
      const server: CodeServer = {
        port,
        baseUrl,
        workspace: opts.workspace,
        dir,
        userDataDir,
        extensionsDir,
        logFile,
        process: child,
        workbenchUrl(o = {}) {
          const folder = o.folder ?? opts.workspace;
          let url = `${baseUrl}/?folder=${encodeURIComponent(folder)}`;
          const payload: [string, string][] = [];
          const remote = (p: string) => `vscode-remote://127.0.0.1:${port}${p.split(path.sep).map(encodeURIComponent).join('/')}`;
          if (o.extensionDevelopmentPath) payload.push(['extensionDevelopmentPath', remote(o.extensionDevelopmentPath)]);
          if (o.extensionTestsPath) payload.push(['extensionTestsPath', remote(o.extensionTestsPath)]);
          if (payload.length) url += `&payload=${encodeURIComponent(JSON.stringify(payload))}`;
          return url;
        },
        collectLogs(dest: string) {
          try {
            fs.mkdirSync(dest, { recursive: true });
            if (fs.existsSync(logFile)) fs.copyFileSync(logFile, path.join(dest, 'code-server.log'));
            const logs = path.join(userDataDir, 'logs');
            if (fs.existsSync(logs)) fs.cpSync(logs, path.join(dest, 'vscode-logs'), { recursive: true });
          } catch (e) {
            process.stderr.write(`collectLogs: ${e}\n`);
          }
        },
        async stop(o = {}) {
          if (exited === null && child.pid) {
            try {
              process.kill(-child.pid, 'SIGTERM');
            } catch {
              /* already gone */
            }
            await Promise.race([exitedP, new Promise((r) => setTimeout(r, 5000))]);
          }
          if (child.pid) {
            // Children of the group (extension host, trainers) may outlive the leader.
            try {
              process.kill(-child.pid, 'SIGKILL');
            } catch {
              /* none left */
            }
            live.delete(child.pid);
          }
          if (!o.keepScratch) removeDir(dir);
        },
      };
      return server;
    }
    lastError = exited !== null ? `code-server exited (${exited})` : 'code-server did not answer /healthz in time';
    if (child.pid) {
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        /* gone */
      }
      live.delete(child.pid);
    }
  }
  const dest = path.join(resultsDir, 'logs', sanitize(opts.name));
  fs.mkdirSync(dest, { recursive: true });
  if (fs.existsSync(logFile)) fs.copyFileSync(logFile, path.join(dest, 'code-server.log'));
  throw new Error(`startCodeServer(${opts.name}): ${lastError}; log: ${path.join(dest, 'code-server.log')}`);
}
