/** Fixture generators for the dataset/runs unit tests: temp folders written from a tree literal. */
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

export type Tree = Record<string, string | Buffer>;

export function makeTempDir(prefix = 'fsl-ds-'): string {
  return mkdtempSync(path.join(tmpdir(), prefix));
}

/** Write `{ 'a/b.txt': 'text' }` under root (creating folders; a key ending in '/' makes an empty folder). */
export function writeTree(root: string, tree: Tree): string {
  for (const [rel, content] of Object.entries(tree)) {
    const p = path.join(root, rel);
    if (rel.endsWith('/')) { mkdirSync(p, { recursive: true }); continue; }
    mkdirSync(path.dirname(p), { recursive: true });
    writeFileSync(p, content);
  }
  return root;
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/** n short distinct texts for a class (different words so fingerprints differ). */
export function texts(label: string, n: number): string[] {
  const words = ['alpha', 'bravo', 'charlie', 'delta', 'echo', 'foxtrot', 'golf', 'hotel', 'india', 'juliet', 'kilo', 'lima'];
  return Array.from({ length: n }, (_, i) => `${label} example ${i + 1}: ${words[i % words.length]} ${words[(i * 5 + 3) % words.length]} note`);
}

/** A folder tree of `<prefix><class>/<class>-<i>.txt` files. */
export function classFolders(prefix: string, spec: Record<string, number>): Tree {
  const t: Tree = {};
  for (const [label, n] of Object.entries(spec)) texts(label, n).forEach((s, i) => { t[`${prefix}${label}/${label}-${i + 1}.txt`] = s; });
  return t;
}

/** UTF-16 with BOM. */
export function utf16(text: string, be = false): Buffer {
  const le = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]);
  if (!be) return le;
  const out = Buffer.from(le);
  for (let i = 0; i + 1 < out.length; i += 2) { const t = out[i]; out[i] = out[i + 1]; out[i + 1] = t; }
  return out;
}

export const FIXTURES = path.resolve(__dirname, '../../../test/fixtures/datasets');
export const SAMPLES = path.resolve(__dirname, '../../../samples');
