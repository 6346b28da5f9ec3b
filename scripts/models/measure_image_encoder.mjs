// Images per second embedded by the image encoder (src/core/images/encoder.ts) on the CPU, on synthetic photos.
// Usage: node scripts/models/measure_image_encoder.mjs [--images 64] [--batch 16] [--size 640x480] [--threads N]
// Renders N seeded JPEGs (shapes on gradients, made with sharp from SVG), then times, after one warm-up batch:
// preprocessing alone (decode + EXIF + resize + crop + normalise) and the whole embedImages (preprocessing + ONNX).
import * as esbuild from 'esbuild';
import { createRequire } from 'node:module';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';

const root = new URL('../..', import.meta.url).pathname;
const arg = (name, def) => { const i = process.argv.indexOf(name); return i > 0 ? process.argv[i + 1] : def; };
const n = Number(arg('--images', '64'));
const batch = Number(arg('--batch', '16'));
const [w, h] = arg('--size', '640x480').split('x').map(Number);
const threads = arg('--threads') ? Number(arg('--threads')) : undefined;

const out = join(root, 'out', 'measure', 'images.cjs'); // inside the repo so node_modules resolves
await esbuild.build({
  stdin: { contents: `export * from './src/core/images/encoder'; export * from './src/core/images/preprocess';`, resolveDir: root, loader: 'ts' },
  bundle: true, platform: 'node', format: 'cjs', target: 'node20', outfile: out, logLevel: 'error',
  external: ['onnxruntime-node', 'sharp'], nodePaths: [join(root, 'node_modules')],
});
const require = createRequire(join(root, 'package.json'));
const m = require(out);
const sharp = require('sharp');

let s = 12345;
const rnd = () => ((s = (s * 1103515245 + 12345) >>> 0) / 4294967296);
const col = () => `rgb(${Math.floor(rnd() * 256)},${Math.floor(rnd() * 256)},${Math.floor(rnd() * 256)})`;
const images = [];
for (let i = 0; i < n; i++) {
  const shapes = Array.from({ length: 6 }, () => rnd() < 0.5
    ? `<circle cx="${rnd() * w}" cy="${rnd() * h}" r="${20 + rnd() * 120}" fill="${col()}"/>`
    : `<rect x="${rnd() * w}" y="${rnd() * h}" width="${30 + rnd() * 200}" height="${30 + rnd() * 200}" fill="${col()}"/>`).join('');
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}"><defs><linearGradient id="g"><stop offset="0" stop-color="${col()}"/><stop offset="1" stop-color="${col()}"/></linearGradient></defs><rect width="100%" height="100%" fill="url(#g)"/>${shapes}</svg>`;
  images.push({ name: `synthetic-${i}.jpg`, data: await sharp(Buffer.from(svg)).jpeg({ quality: 90 }).toBuffer() });
}

const enc = await m.createImageEncoder('efficientnet-lite0', { threads });
try {
  await enc.embedImages(images.slice(0, batch), { batchSize: batch });
  let t0 = performance.now();
  for (const [i, img] of images.entries()) await m.preprocessImage(img, enc.preprocess, i);
  const pre = (performance.now() - t0) / 1000;
  t0 = performance.now();
  const vecs = await enc.embedImages(images, { batchSize: batch });
  const all = (performance.now() - t0) / 1000;
  console.log(`${enc.id}: ${n} JPEGs ${w}×${h}, batch ${batch}, threads ${threads ?? 'onnxruntime default'}, ${cpus().length} CPUs, load ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
  console.log(`preprocessing alone: ${(n / pre).toFixed(1)} images/s (${((pre / n) * 1000).toFixed(1)} ms each)`);
  console.log(`embedImages (preprocessing + ONNX): ${(n / all).toFixed(1)} images/s (${((all / n) * 1000).toFixed(1)} ms each), dim ${vecs[0].length}`);
} finally {
  enc.dispose();
}
