/**
 * Fills the persistent benchmark embedding cache (.cache/bench/embeddings) with the
 * USE-lite vectors (and the combo USE+hashing vectors built from them) of every text a
 * benchmark run will need: the fixed test sets and the K-shot training samples.
 *
 *   node out/bench/precompute.js [--data f.jsonl ...] [--k 8] [--seeds 5] [--npm]
 *
 * Uses the product's own encoders and cache format, so `npm run bench` (which points the
 * pipeline at the same cache) then embeds nothing with USE.
 */
import * as path from 'node:path';
import { brownGenres, chinesePoetry, Corpus, fixedTestSplit, jsonlCorpus, sampleK, spamAssassin } from './corpora';
import { createEncoder, createComboEncoder, withEmbeddingCache } from '../../src/core/encoders';
import { selectBackend } from '../../src/core/heads';

export const BENCH_CACHE = path.join(process.cwd(), '.cache', 'bench', 'embeddings');

async function main() {
  const argv = process.argv.slice(2);
  const data: string[] = [];
  let ks = [8];
  let seeds = 5;
  let npm = false;
  let quick = false;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--data') data.push(argv[++i]);
    else if (argv[i] === '--k') ks = argv[++i].split(',').map(Number);
    else if (argv[i] === '--seeds') seeds = Number(argv[++i]);
    else if (argv[i] === '--npm') npm = true;
    else if (argv[i] === '--quick') quick = true;
  }
  await selectBackend('auto');
  const corpora: Corpus[] = [];
  if (npm) for (const c of [spamAssassin(quick ? 120 : 300), brownGenres(quick ? 60 : 120), chinesePoetry(quick ? 80 : 200)]) if (c) corpora.push(c);
  for (const f of data) corpora.push(jsonlCorpus(f));
  const { encoder: use } = await createEncoder('use', { language: 'en' });
  const { encoder: hashing } = await createEncoder('hashing', { language: 'en' });
  const cachedUse = withEmbeddingCache(use, BENCH_CACHE);
  const combo = withEmbeddingCache(createComboEncoder([{ encoder: cachedUse, weight: 1 }, { encoder: hashing, weight: 1 }]), BENCH_CACHE);
  for (const c of corpora) {
    if (c.language !== 'en') continue;
    const split = fixedTestSplit(c, 20, 0);
    const texts = new Set(split.test.map((i) => i.text));
    for (const k of ks) for (let s = 0; s < seeds; s++) for (const it of sampleK(split.pool, k, s)) texts.add(it.text);
    const list = [...texts];
    const t0 = Date.now();
    await combo.embed(list);
    process.stderr.write(`${c.name}: ${list.length} texts, USE computed ${cachedUse.stats.misses} (${((Date.now() - t0) / 1000).toFixed(0)} s)\n`);
    cachedUse.stats.misses = 0;
  }
}

main().catch((e) => { console.error(e); process.exit(1); });
