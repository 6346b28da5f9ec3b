/**
 * English synonyms for augmentation, from models/wordnet-synonyms/synonyms.tsv: WordNet 3.1's synonyms of
 * its sense-tagged (common) words, most frequent senses first, precomputed by
 * scripts/models/build_wordnet_synonyms.mjs with the rule in ./wordnetSource.ts (WordNet licence in that folder).
 * Read once, lazily. One line per word: `word<TAB>synonym|synonym|…`.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { FewShotError } from '../errors';
import { expectedModelFolder, findModelFolder } from '../util/models';

export const SYNONYMS_FOLDER = 'wordnet-synonyms';
let table: Map<string, string[]> | null = null;

/** models/wordnet-synonyms/synonyms.tsv (see ../util/models.ts); throws a FewShotError naming where it looked. */
export function synonymsFile(start = __dirname): string {
  const folder = findModelFolder(SYNONYMS_FOLDER, 'synonyms.tsv', start);
  if (folder) return path.join(folder, 'synonyms.tsv');
  throw new FewShotError('The English synonym table for augmentation is missing (models/wordnet-synonyms/synonyms.tsv)', {
    file: path.join(expectedModelFolder(SYNONYMS_FOLDER, start), 'synonyms.tsv'), code: 'synonyms-missing',
    fix: 'Reinstall Few-Shot Lab, rebuild it with "node scripts/models/build_wordnet_synonyms.mjs", or train with augmentation off (augment 0).',
  });
}

function load(): Map<string, string[]> {
  if (table) return table;
  const m = new Map<string, string[]>();
  for (const line of fs.readFileSync(synonymsFile(), 'utf8').split('\n')) {
    const tab = line.indexOf('\t');
    if (tab > 0) m.set(line.slice(0, tab), line.slice(tab + 1).split('|'));
  }
  table = m;
  return m;
}

/** Synonyms of an English word (case-insensitive), most frequent senses first; [] if none or uncommon. */
export function englishSynonyms(word: string, max = 8): string[] {
  return (load().get(word.toLowerCase()) ?? []).slice(0, max);
}
