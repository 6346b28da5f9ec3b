#!/usr/bin/env node
// Installs code-server (VS Code in the browser) into .cache/code-server/ for the
// extension-host and browser tests. Works offline apart from the npm registry:
//  - @vscode/ripgrep's postinstall would download ripgrep from GitHub; it first
//    looks for a tarball in $TMPDIR/vscode-ripgrep-cache-<version>/, so we put
//    one there that wraps Debian's /usr/bin/rg.
//  - node-pty builds with node-gyp (needs build-essential, python3, libs below).
// Idempotent: returns immediately when the marker says this version is installed.
//
// Usage: node scripts/setup-code-server.mjs [--force]
// Exports: CODE_SERVER_VERSION, codeServerDir, codeServerEntry(), ensureCodeServer()
import { existsSync, mkdirSync, readFileSync, writeFileSync, rmSync, copyFileSync, chmodSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const CODE_SERVER_VERSION = '4.100.3';
const root = resolve(fileURLToPath(new URL('..', import.meta.url)));
export const codeServerDir = join(root, '.cache', 'code-server');
const marker = join(codeServerDir, '.installed');
// @vscode/ripgrep versions used by code-server 4.100.x, and the ripgrep release
// tag each of them asks for (see its lib/postinstall.js).
const RIPGREP_CACHES = [
  { pkg: '1.15.11', tag: 'v13.0.0-10' },
  { pkg: '1.15.10', tag: 'v13.0.0-10' },
  { pkg: '1.15.9', tag: 'v13.0.0-4' },
];

/** Absolute path of code-server's node entry script (run it with `node`). */
export function codeServerEntry() {
  return join(codeServerDir, 'node_modules', 'code-server', 'out', 'node', 'entry.js');
}

export function isInstalled() {
  try {
    return readFileSync(marker, 'utf8').trim() === CODE_SERVER_VERSION && existsSync(codeServerEntry());
  } catch {
    return false;
  }
}

function log(msg) {
  process.stderr.write(`setup-code-server: ${msg}\n`);
}

function run(cmd, args, opts) {
  const r = spawnSync(cmd, args, { stdio: 'inherit', ...opts });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed with ${r.status ?? r.signal}`);
}

function prepareRipgrepCache(tmpDir) {
  const rg = ['/usr/bin/rg', '/usr/local/bin/rg'].find((p) => existsSync(p));
  if (!rg) throw new Error('ripgrep not found: install it first (apt-get install -y ripgrep)');
  const stage = join(tmpDir, 'rg-stage');
  mkdirSync(stage, { recursive: true });
  copyFileSync(rg, join(stage, 'rg'));
  chmodSync(join(stage, 'rg'), 0o755);
  for (const { pkg, tag } of RIPGREP_CACHES) {
    const dir = join(tmpDir, `vscode-ripgrep-cache-${pkg}`);
    mkdirSync(dir, { recursive: true });
    const tarball = join(dir, `ripgrep-${tag}-x86_64-unknown-linux-musl.tar.gz`);
    if (!existsSync(tarball)) run('tar', ['czf', tarball, '-C', stage, 'rg']);
  }
}

export function ensureCodeServer({ force = false } = {}) {
  if (!force && isInstalled()) return codeServerEntry();
  const t0 = Date.now();
  log(`installing code-server@${CODE_SERVER_VERSION} into ${codeServerDir} (about a minute)…`);
  if (force) rmSync(codeServerDir, { recursive: true, force: true });
  mkdirSync(codeServerDir, { recursive: true });
  rmSync(marker, { force: true });
  const tmpDir = join(codeServerDir, 'tmp');
  mkdirSync(tmpDir, { recursive: true });
  prepareRipgrepCache(tmpDir);
  writeFileSync(
    join(codeServerDir, 'package.json'),
    JSON.stringify({ name: 'fewshot-code-server-cache', private: true, description: 'code-server for Few-Shot Lab tests (not a project dependency)' }, null, 2) + '\n',
  );
  // Keep the project's .npmrc out of the way (npm walks up to the nearest package.json, so it is not read here).
  const env = {
    ...process.env,
    TMPDIR: tmpDir,
    npm_config_yes: 'true',
    npm_config_fund: 'false',
    npm_config_audit: 'false',
    npm_config_update_notifier: 'false',
    ONNXRUNTIME_NODE_INSTALL_CUDA: 'skip',
  };
  run('npm', ['install', '--unsafe-perm', '--no-save', '--no-package-lock', `code-server@${CODE_SERVER_VERSION}`], { cwd: codeServerDir, env });
  if (!existsSync(codeServerEntry())) throw new Error(`code-server entry missing after install: ${codeServerEntry()}`);
  // Fallback: if ripgrep's postinstall still left no binary, put Debian's there.
  const rgTargets = spawnSync('find', [join(codeServerDir, 'node_modules', 'code-server'), '-path', '*@vscode/ripgrep', '-type', 'd'], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean);
  for (const dir of rgTargets) {
    const bin = join(dir, 'bin', 'rg');
    if (!existsSync(bin)) {
      mkdirSync(join(dir, 'bin'), { recursive: true });
      copyFileSync('/usr/bin/rg', bin);
      chmodSync(bin, 0o755);
      log(`placed /usr/bin/rg at ${bin}`);
    }
  }
  writeFileSync(marker, CODE_SERVER_VERSION + '\n');
  log(`installed in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  return codeServerEntry();
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    const entry = ensureCodeServer({ force: process.argv.includes('--force') });
    console.log(`code-server ${CODE_SERVER_VERSION}: ${entry}`);
  } catch (e) {
    console.error(`setup-code-server: ${e instanceof Error ? e.message : e}`);
    process.exit(1);
  }
}
