#!/usr/bin/env node
// Quick start: opens the samples/ folder in code-server with Few-Shot Lab installed.
//   node scripts/open-sample.mjs            build, package the .vsix (if stale), install it, serve samples/
//   node scripts/open-sample.mjs --dev      no packaging: load the extension from this repository
//                                           (Extension Development Host; fast edit-reload loop)
//   options: --port N (default 8080, or a free one), --host H (default 127.0.0.1), [FOLDER] (default samples/)
// State (settings, installed extension) is kept in .cache/open-sample/. Stop with Ctrl-C.
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import * as net from 'node:net';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureCodeServer } from './setup-code-server.mjs';

const root = resolve(fileURLToPath(new URL('..', import.meta.url)));
process.chdir(root);
const argv = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = argv.indexOf(name);
  if (i < 0) return dflt;
  const v = argv[i + 1];
  argv.splice(i, 2);
  return v;
};
const dev = argv.includes('--dev');
const host = opt('--host', '127.0.0.1');
let port = Number(opt('--port', '8080'));
const folder = resolve(argv.filter((a) => !a.startsWith('--'))[0] ?? join(root, 'samples'));
const pkg = JSON.parse(readFileSync('package.json', 'utf8'));
const vsix = join(root, `${pkg.name}-${pkg.version}-linux-x64.vsix`);
const state = join(root, '.cache', 'open-sample');
const env = {
  ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('VSCODE_'))),
  HOME: join(state, 'home'),
  XDG_CONFIG_HOME: join(state, 'home', '.config'),
  XDG_DATA_HOME: join(state, 'home', '.local', 'share'),
  XDG_CACHE_HOME: join(state, 'home', '.cache'),
  ORT_DISABLE_TELEMETRY: '1',
};
const common = ['--user-data-dir', join(state, 'user-data'), '--extensions-dir', join(state, 'extensions')];

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { stdio: 'inherit', ...opts });
  if (r.status !== 0) {
    console.error(`open-sample: ${cmd} ${args.join(' ')} failed (${r.status ?? r.signal})`);
    process.exit(1);
  }
}
function portFree(p) {
  return new Promise((res) => {
    const s = net.createServer().once('error', () => res(false)).listen(p, host, () => s.close(() => res(true)));
  });
}

if (!existsSync(folder)) {
  console.error(`open-sample: ${folder} does not exist`);
  process.exit(1);
}
const entry = ensureCodeServer();
for (const d of [join(state, 'home'), join(state, 'user-data', 'User'), join(state, 'extensions')]) mkdirSync(d, { recursive: true });
const settings = join(state, 'user-data', 'User', 'settings.json');
if (!existsSync(settings)) writeFileSync(settings, JSON.stringify({ 'workbench.startupEditor': 'none', 'telemetry.telemetryLevel': 'off', 'update.mode': 'none' }, null, 2));

run(process.execPath, ['scripts/build.mjs']);
if (!dev) {
  // Repackage only when what goes into the .vsix changed (the build rewrites dist/ every time).
  const hash = createHash('sha256');
  const bundles = readdirSync('dist', { recursive: true }).filter((f) => f.endsWith('.js')).sort().map((f) => join('dist', f));
  for (const f of ['package.json', 'package.nls.json', 'package.nls.zh-cn.json', 'README.md', '.vscodeignore', ...bundles]) {
    if (existsSync(f)) hash.update(f).update(readFileSync(f));
  }
  const digest = hash.digest('hex');
  const stamp = join(state, 'vsix.sha256');
  const fresh = existsSync(vsix) && existsSync(stamp) && readFileSync(stamp, 'utf8') === digest;
  if (!fresh) {
    run(process.execPath, ['scripts/package.mjs', '--no-build', '--no-verify']);
    writeFileSync(stamp, digest);
  } else console.log(`open-sample: ${vsix} is up to date`);
  run(process.execPath, [entry, ...common, '--force', '--install-extension', vsix], { env });
}

if (!(await portFree(port))) {
  const s = net.createServer();
  port = await new Promise((res) => s.listen(0, host, () => { const p = s.address().port; s.close(() => res(p)); }));
}
const args = [
  entry, '--auth', 'none', '--bind-addr', `${host}:${port}`,
  '--disable-telemetry', '--disable-update-check', '--disable-workspace-trust', '--disable-getting-started-override',
  ...common, folder,
];
const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
child.stdout.on('data', (d) => process.stdout.write(d));
child.stderr.on('data', (d) => process.stderr.write(d));
let url = `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}/?folder=${encodeURIComponent(folder)}`;
if (dev) {
  const remote = (p) => `vscode-remote://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}${p}`;
  url += `&payload=${encodeURIComponent(JSON.stringify([['extensionDevelopmentPath', remote(root)]]))}`;
}
// Print the URL once the server answers.
const deadline = Date.now() + 90_000;
const ping = () =>
  fetch(`http://127.0.0.1:${port}/healthz`).then((r) => r.ok, () => false);
while (!(await ping())) {
  if (child.exitCode !== null || Date.now() > deadline) {
    console.error('open-sample: code-server did not start');
    process.exit(1);
  }
  await new Promise((r) => setTimeout(r, 200));
}
console.log(`\nFew-Shot Lab ${dev ? '(development host) ' : ''}is ready on ${folder}:\n\n  ${url}\n\nCtrl-C to stop.`);
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill('SIGTERM'));
child.on('exit', (code) => process.exit(code ?? 0));
