import * as assert from 'node:assert/strict';
import { cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkRecordedFiles } from './helpers/provenance';
import { IMAGE_MODELS, ImageEncoder, createImageEncoder, imageModelFolder } from '../../src/core/images/encoder';
import { decodeRgb, normalise, readPreprocess, resizeCrop, resizeRgb } from '../../src/core/images/preprocess';
import { isPackedModel, materialiseModel } from '../../src/core/images/weights';

interface Parity {
  tolerance: number;
  dim: number;
  rows: { image: string; crop: string; mode: string; size: [number, number]; features: number[] }[];
}
interface Provenance {
  id: string;
  dim: number;
  license: string;
  source: {
    architecture: { package: string; version: string; wheelSha256: string };
    weights: { package: string; version: string; wheelSha256: string; fileSha256: string };
  };
  conversion: { script: string; onnxMaxAbsDiffVsPyTorch: number };
  files: Record<string, { bytes: number; sha256: string }>;
  totalBytes: number;
}

type SharpFn = (input?: Buffer | { create: { width: number; height: number; channels: 3 | 4; background: object } }) => import('sharp').Sharp;
// eslint-disable-next-line @typescript-eslint/no-require-imports
const sharp = require('sharp') as SharpFn;

const readdirOne = (d: string): string => {
  const names = readdirSync(d).filter((n) => !n.startsWith('.'));
  assert.equal(names.length, 1, `one rebuilt model in ${d}: ${names.join(', ')}`);
  return names[0];
};
const maxAbs = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  let m = 0;
  for (let k = 0; k < a.length; k++) m = Math.max(m, Math.abs(a[k] - b[k]));
  return m;
};
const cosine = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let k = 0; k < a.length; k++) {
    dot += a[k] * b[k];
    na += a[k] * a[k];
    nb += b[k] * b[k];
  }
  return dot / Math.sqrt(na * nb);
};

/** The pretrained image encoder committed under models/ (scripts/models/convert_image_encoder.py). */
describe('image encoder (models/efficientnet-lite0)', function () {
  this.timeout(30000);
  const m = IMAGE_MODELS[0];
  const folder = (): string => imageModelFolder(m);
  const parity = (): Parity => JSON.parse(readFileSync(join(folder(), 'parity.json'), 'utf8')) as Parity;
  let encoder: ImageEncoder | undefined;
  const enc = async (): Promise<ImageEncoder> => (encoder ??= await createImageEncoder(m.spec, { cacheDir: join(tmp, 'enc-cache') }));
  let tmp: string;
  before(() => { tmp = mkdtempSync(join(tmpdir(), 'fewshot-imgenc-')); });
  after(() => {
    encoder?.dispose();
    rmSync(tmp, { recursive: true, force: true });
  });

  it('has its licence, provenance and files as recorded, within 20 MB', () => {
    const dir = folder();
    const prov = JSON.parse(readFileSync(join(dir, 'PROVENANCE.json'), 'utf8')) as Provenance;
    assert.equal(prov.license, 'Apache-2.0');
    assert.match(readFileSync(join(dir, 'LICENSE'), 'utf8'), /Apache License\s+Version 2\.0/);
    assert.equal(prov.id, m.id);
    assert.equal(prov.dim, m.dim);
    for (const s of [prov.source.architecture.wheelSha256, prov.source.weights.wheelSha256, prov.source.weights.fileSha256]) assert.match(s, /^[0-9a-f]{64}$/);
    assert.ok(prov.source.weights.package && prov.source.weights.version && prov.source.architecture.package);
    assert.ok(existsSync(join(dir, '..', '..', prov.conversion.script)), `conversion script ${prov.conversion.script} is in the repository`);
    assert.ok(prov.conversion.onnxMaxAbsDiffVsPyTorch <= 1e-3);
    const total = checkRecordedFiles(dir, prov.files);
    assert.equal(total, prov.totalBytes);
    assert.ok(total <= 20 * 1024 * 1024, `${(total / 2 ** 20).toFixed(1)} MiB > 20 MiB`);
    assert.deepEqual(readPreprocess(dir), {
      inputSize: 224, resizeShorter: 256, centerCrop: 224, interpolation: 'bicubic', mean: [127, 127, 127], std: [128, 128, 128],
    });
  });

  it('puts the same pixels as Pillow: decoding, alpha on white and resize + centre crop', async () => {
    const dir = folder();
    const pre = readPreprocess(dir);
    for (const r of parity().rows) {
      const ours = resizeCrop(await decodeRgb(join(dir, r.image)), pre);
      const pillow = await decodeRgb(join(dir, r.crop));
      assert.deepEqual([ours.width, ours.height], [224, 224]);
      assert.equal(maxAbs(ours.data, pillow.data), 0, `${r.image}: pixels differ from Pillow's crop`);
    }
  });

  it('embeds like the PyTorch model, from the crops and end to end (parity.json, ≤ 1e-3)', async () => {
    const dir = folder();
    const p = parity();
    const e = await enc();
    assert.equal(e.id, 'efficientnet-lite0-imagenet-1280');
    assert.equal(e.dim, p.dim);
    const crops = await Promise.all(p.rows.map(async (r) => normalise(await decodeRgb(join(dir, r.crop)), e.preprocess)));
    const fromCrops = await e.embedTensors(crops);
    // originals as files and as bytes, in batches of 2 (a partial last batch too)
    const endToEnd = await e.embedImages(p.rows.map((r, i) => (i % 2 ? readFileSync(join(dir, r.image)) : join(dir, r.image))), { batchSize: 2 });
    p.rows.forEach((r, i) => {
      assert.equal(fromCrops[i].length, 1280);
      assert.ok(maxAbs(fromCrops[i], r.features) <= p.tolerance, `${r.crop}: max |Δ| ${maxAbs(fromCrops[i], r.features)}`);
      assert.ok(maxAbs(endToEnd[i], r.features) <= p.tolerance, `${r.image}: max |Δ| ${maxAbs(endToEnd[i], r.features)}`);
    });
    // features, not noise: a shape and concentric rings are further apart than an image and itself
    assert.ok(cosine(endToEnd[0], endToEnd[3]) < 0.9);
  });

  it('applies EXIF orientation and flattens transparency on white', async () => {
    const wide = await sharp({ create: { width: 40, height: 20, channels: 3, background: { r: 200, g: 10, b: 10 } } })
      .jpeg().withMetadata({ orientation: 6 }).toBuffer();
    const img = await decodeRgb(wide);
    assert.deepEqual([img.width, img.height], [20, 40]);
    const clear = await sharp({ create: { width: 8, height: 8, channels: 4, background: { r: 0, g: 0, b: 0, alpha: 0 } } }).png().toBuffer();
    const flat = await decodeRgb({ name: 'clear.png', data: clear });
    assert.ok(flat.data.every((v) => v === 255), 'a fully transparent image becomes white');
  });

  it('resizes like Pillow for sizes that shrink, grow or keep one side', () => {
    const src = { data: Buffer.from(Array.from({ length: 7 * 5 * 3 }, (_, i) => (i * 37) % 256)), width: 7, height: 5 };
    assert.deepEqual(resizeRgb(src, 7, 5, 'bicubic'), src);
    const flat = { data: Buffer.alloc(30 * 20 * 3, 90), width: 30, height: 20 };
    for (const [w, h] of [[11, 7], [64, 50], [30, 9]]) {
      const r = resizeRgb(flat, w, h, 'bicubic');
      assert.deepEqual([r.width, r.height, r.data.length], [w, h, w * h * 3]);
      assert.ok(r.data.every((v) => v === 90), `a flat image stays flat at ${w}×${h}`);
    }
    // a crop box gives the same pixels as the full resize, cropped
    for (const [w, h] of [[50, 3], [4, 31], [7, 12]]) {
      const full = resizeRgb(src, w, h, 'bicubic');
      const box = { left: w > 4 ? 2 : 1, top: h > 3 ? 1 : 0, width: 3, height: 2 };
      const part = resizeRgb(src, w, h, 'bicubic', box);
      const want = Buffer.alloc(3 * 2 * 3);
      for (let y = 0; y < 2; y++) full.data.copy(want, y * 9, ((box.top + y) * w + box.left) * 3, ((box.top + y) * w + box.left + 3) * 3);
      assert.deepEqual(part.data, want, `${w}×${h}`);
    }
  });

  it('refuses empty, truncated, non-image and huge images with a message naming the file', async () => {
    const dir = folder();
    const png = readFileSync(join(dir, parity().rows[0].image));
    const cases: [string, Buffer][] = [['empty.png', Buffer.alloc(0)], ['cut.png', png.subarray(0, png.length >> 1)], ['notes.png', Buffer.from('not an image\n')]];
    for (const [name, bytes] of cases) {
      const file = join(tmp, name);
      writeFileSync(file, bytes);
      await assert.rejects(decodeRgb(file), (e: Error & { opts?: { code?: string; fix?: string; file?: string } }) =>
        e.opts?.code === 'image-unreadable' && e.message.includes(file) && e.opts.file === file && /PNG, JPEG/.test(e.opts.fix ?? ''));
    }
    await assert.rejects(decodeRgb(join(dir, parity().rows[4].image), 0, 1000), (e: Error & { opts?: { code?: string } }) =>
      e.opts?.code === 'image-too-large' && /1,000 pixels/.test(e.message));
    // in a batch, the error names the bad image
    const e = await enc();
    await assert.rejects(e.embedImages([join(dir, parity().rows[0].image), join(tmp, 'cut.png')]), (err: Error) => err.message.includes('cut.png'));
  });

  it('ships packed (fp16 + int8 residual) and rebuilds the fp32 weights once into a cache, checked by sha256', () => {
    const dir = folder();
    assert.ok(isPackedModel(dir), 'graph.onnx + weights.hilo + weights.json');
    assert.ok(!existsSync(join(dir, 'model.onnx')), 'no fp32 model.onnx in the shipped folder');
    const cache = join(tmp, 'cache');
    const model = materialiseModel(dir, cache);
    const weights = join(cache, readdirOne(cache), 'weights.bin');
    assert.equal(model, join(cache, readdirOne(cache), 'model.onnx'));
    const info = JSON.parse(readFileSync(join(dir, 'weights.json'), 'utf8')) as { params: number; weightsBytes: number };
    assert.equal(statSync(weights).size, info.weightsBytes);
    assert.equal(info.weightsBytes, 4 * info.params);
    const first = statSync(weights).mtimeMs;
    assert.equal(materialiseModel(dir, cache), model);
    assert.equal(statSync(weights).mtimeMs, first, 'a good cached copy is reused');
    // a damaged cached copy is rebuilt
    const bytes = readFileSync(weights);
    bytes[100] ^= 0xff;
    writeFileSync(weights, bytes);
    assert.equal(materialiseModel(dir, cache), model);
    assert.notDeepEqual(readFileSync(weights), bytes);
    // damaged shipped weights: a clear error naming the file, nothing written
    const bad = join(tmp, 'bad-model');
    cpSync(dir, bad, { recursive: true });
    const hilo = readFileSync(join(bad, 'weights.hilo'));
    hilo[5] ^= 0x01;
    writeFileSync(join(bad, 'weights.hilo'), hilo);
    assert.throws(() => materialiseModel(bad, join(tmp, 'cache2')), (e: Error & { opts?: { code?: string; file?: string } }) =>
      e.opts?.code === 'model-invalid' && e.opts.file === join(bad, 'weights.hilo') && /sha256/.test(e.message));
    writeFileSync(join(bad, 'weights.hilo'), hilo.subarray(0, 1000));
    assert.throws(() => materialiseModel(bad, join(tmp, 'cache2')), (e: Error) => e.message.includes(join(bad, 'weights.hilo')) && /bytes, expected/.test(e.message));
    const p = JSON.parse(readFileSync(join(dir, 'parity.json'), 'utf8')) as { shippedMaxAbsDiff: number; tolerance: number };
    assert.ok(p.shippedMaxAbsDiff > 0 && p.shippedMaxAbsDiff <= p.tolerance, `recorded parity of the packed form ${p.shippedMaxAbsDiff}`);
  });

  it('names the missing folder and the fix when the model is not there', async () => {
    const saved = process.env.FEWSHOT_MODELS_DIR;
    process.env.FEWSHOT_MODELS_DIR = join(tmp, 'no-such-models-folder');
    try {
      await assert.rejects(createImageEncoder(m.spec), (e: Error & { opts?: { fix?: string; code?: string } }) =>
        e.opts?.code === 'image-model-missing' && /no-such-models-folder/.test(e.message) && /convert_image_encoder\.py/.test(e.opts.fix ?? ''));
    } finally {
      if (saved === undefined) delete process.env.FEWSHOT_MODELS_DIR;
      else process.env.FEWSHOT_MODELS_DIR = saved;
    }
  });
});
