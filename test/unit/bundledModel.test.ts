import * as assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { checkRecordedFiles } from './helpers/provenance';
import { BUNDLED_MODELS, bundledModelFolder, createEncoder, findModelsDir, parseEncoderSpec, shortSpecFromId } from '../../src/core/encoders';

interface Parity {
  tolerance: { cosineDistance: number; maxAbsDiff: number };
  sentences: string[];
  embeddings: number[][];
}
interface Provenance {
  license: string;
  source: { pypiPackage: string; version: string; wheelSha256: string; files: Record<string, string> };
  conversion: { script: string };
  files: Record<string, { bytes: number; sha256: string }>;
  totalBytes: number;
}

/** The pretrained encoders committed under models/ (scripts/models/convert_sentence_encoder.py). */
describe('bundled pretrained encoders (models/)', function () {
  this.timeout(120000);

  for (const m of BUNDLED_MODELS) {
    describe(m.spec, () => {
      const folder = (): string => bundledModelFolder(m);

      it('has its licence, provenance and files as recorded, within 30 MB', () => {
        const dir = folder();
        const lic = readFileSync(join(dir, 'LICENSE'), 'utf8');
        const prov = JSON.parse(readFileSync(join(dir, 'PROVENANCE.json'), 'utf8')) as Provenance;
        assert.ok(['Apache-2.0', 'MIT'].includes(prov.license), `licence ${prov.license}`);
        assert.match(lic, prov.license === 'MIT' ? /MIT License|Permission is hereby granted/ : /Apache License\s+Version 2\.0/);
        assert.match(prov.source.wheelSha256, /^[0-9a-f]{64}$/);
        assert.ok(Object.keys(prov.source.files).length > 0 && prov.source.pypiPackage && prov.source.version);
        assert.ok(existsSync(join(__dirname, '..', '..', prov.conversion.script)) || existsSync(join(findModelsDir()!, '..', prov.conversion.script)),
          `conversion script ${prov.conversion.script} is in the repository`);
        const total = checkRecordedFiles(dir, prov.files);
        assert.equal(total, prov.totalBytes);
        assert.ok(total <= 30 * 1024 * 1024, `${(total / 2 ** 20).toFixed(1)} MiB > 30 MiB`);
        assert.ok(statSync(join(dir, 'onnx', 'model_quantized.onnx')).size > 1e6);
      });

      it('embeds in Node like the PyTorch model it was converted from (parity.json)', async () => {
        const p = JSON.parse(readFileSync(join(folder(), 'parity.json'), 'utf8')) as Parity;
        const { encoder, info } = await createEncoder(m.spec);
        try {
          assert.equal(info.id, m.id);
          assert.equal(encoder.dim, m.dim);
          const got = await encoder.embed(p.sentences);
          p.sentences.forEach((s, i) => {
            const want = p.embeddings[i];
            let dot = 0;
            let maxAbs = 0;
            for (let k = 0; k < want.length; k++) {
              dot += want[k] * got[i][k];
              maxAbs = Math.max(maxAbs, Math.abs(want[k] - got[i][k]));
            }
            assert.ok(1 - dot <= p.tolerance.cosineDistance, `"${s}": cosine distance ${1 - dot}`);
            assert.ok(maxAbs <= p.tolerance.maxAbsDiff, `"${s}": max |Δ| ${maxAbs}`);
          });
          // It is a sentence encoder, not noise: the two cardiac notes are closer than a cardiac note and the fox.
          const cos = (a: Float32Array, b: Float32Array): number => a.reduce((s, v, k) => s + v * b[k], 0);
          const [chest, , , fox, ecg] = got;
          assert.ok(cos(chest, ecg) > cos(chest, fox));
        } finally {
          encoder.dispose?.();
        }
      });

      it('is written as its short spec and recreated from its id', () => {
        assert.deepEqual(parseEncoderSpec(m.spec), { kind: 'bundled', spec: m.spec });
        assert.deepEqual(parseEncoderSpec(m.id), { kind: 'bundled', spec: m.spec });
        assert.equal(shortSpecFromId(m.id).spec, m.spec);
        assert.equal(shortSpecFromId(`combo:${m.id}+use-lite-en-512`).spec, `combo:${m.spec}+use`);
      });
    });
  }

  it('names the missing folder and the fix when the models folder is not there', async () => {
    const saved = process.env.FEWSHOT_MODELS_DIR;
    process.env.FEWSHOT_MODELS_DIR = join(__dirname, 'no-such-models-folder');
    try {
      await assert.rejects(createEncoder(BUNDLED_MODELS[0].spec), (e: Error & { opts?: { fix?: string; code?: string } }) =>
        e.opts?.code === 'bundled-model-missing' && /no-such-models-folder/.test(e.message) && /convert_sentence_encoder\.py/.test(e.opts.fix ?? ''));
    } finally {
      if (saved === undefined) delete process.env.FEWSHOT_MODELS_DIR;
      else process.env.FEWSHOT_MODELS_DIR = saved;
    }
  });
});
