/**
 * Pure planning for the quick fixes and their undo (the client applies them
 * through WorkspaceEdits / settings updates).
 */
import * as path from 'node:path';
import { fnv1a } from '../../core/util/hash';
import type { DatasetDesc, Range } from './types';

export interface Move { from: string; to: string }

export interface SplitPlanOptions {
  /** Share of each class to hold out (default 0.2). */
  fraction?: number;
  /** Try to give every class at least this many test files (fewshot.diagnostics.minTestPerClass). */
  minTest?: number;
  seed?: number;
  /** Duplicate key of a file (hash of its normalised text): files sharing a key move together or not at all,
   * so the split never puts the same text on both sides. */
  keyOf?: (file: string) => string | undefined;
}

/**
 * Stratified test split for a folder layout: per class, move files from
 * train/<class> to test/<class> until the class has max(ceil(fraction·n),
 * min(minTest, ⌊n/2⌋)) test files, never leaving train with fewer than half.
 * Exact duplicates (same `keyOf`) move as one group, and a group whose text is also
 * in another class's train or already in test stays in train.
 * The choice is deterministic for a seed (ordered by a hash of the file name).
 */
export function planStratifiedSplit(desc: DatasetDesc, opts: SplitPlanOptions = {}): Move[] {
  if (desc.format !== 'folders') return [];
  const fraction = opts.fraction ?? 0.2, minTest = opts.minTest ?? 3, seed = opts.seed ?? 42;
  const keyOf = (f: string) => opts.keyOf?.(f) ?? `file:${f}`;
  const byClass = new Map<string, { train: string[]; test: string[] }>();
  const keyLabels = new Map<string, Set<string>>(); // key → classes with that text in train
  const testKeys = new Set<string>();
  for (const m of desc.members) {
    if (!m.label || m.split === 'unsplit') continue;
    const c = byClass.get(m.label) ?? { train: [], test: [] };
    c[m.split].push(m.file);
    byClass.set(m.label, c);
    const k = keyOf(m.file);
    if (m.split === 'test') testKeys.add(k);
    else keyLabels.set(k, (keyLabels.get(k) ?? new Set()).add(m.label));
  }
  const moves: Move[] = [];
  for (const [label, c] of [...byClass.entries()].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
    const total = c.train.length + c.test.length;
    if (c.train.length < 2) continue;
    const target = Math.max(Math.ceil(total * fraction), Math.min(minTest, Math.floor(total / 2)));
    const keepTrain = Math.ceil(total / 2);
    const n = Math.min(target - c.test.length, c.train.length - keepTrain);
    if (n <= 0) continue;
    const taken = new Set(c.test.map((f) => path.basename(f)));
    const order = c.train.slice().sort((a, b) => {
      const ha = fnv1a(path.basename(a), seed >>> 0), hb = fnv1a(path.basename(b), seed >>> 0);
      return ha - hb || (a < b ? -1 : 1);
    });
    const groups = new Map<string, string[]>(); // in `order` of each group's first file
    for (const f of order) {
      const k = keyOf(f);
      groups.set(k, [...(groups.get(k) ?? []), f]);
    }
    const chosen: string[] = [];
    for (const [k, files] of groups) {
      if (chosen.length >= n) break;
      if (testKeys.has(k) || keyLabels.get(k)!.size > 1) continue;
      if (chosen.length + files.length > c.train.length - keepTrain) continue;
      chosen.push(...files);
    }
    const destDir = path.join(desc.root, 'test', label);
    for (const from of chosen) {
      let name = path.basename(from);
      if (taken.has(name)) {
        const ext = path.extname(name), stem = path.basename(name, ext);
        let k = 1;
        while (taken.has(`${stem}-${k}${ext}`)) k++;
        name = `${stem}-${k}${ext}`;
      }
      taken.add(name);
      moves.push({ from, to: path.join(destDir, name) });
    }
  }
  return moves;
}

/** The moves that undo `moves` (applied in reverse order). */
export function invertMoves(moves: Move[]): Move[] {
  return moves.slice().reverse().map((m) => ({ from: m.to, to: m.from }));
}

/** Range that deletes a whole record (lines [line, endLine)), including its line break. */
export function rowDeletionRange(text: string, row: { line: number; endLine: number }): Range {
  const lines = text.split('\n');
  const lastLine = lines.length - 1;
  if (row.endLine <= lastLine) return { start: { line: row.line, character: 0 }, end: { line: row.endLine, character: 0 } };
  // last record without a trailing newline: also remove the preceding line break
  const endChar = lines[lastLine].length;
  if (row.line === 0) return { start: { line: 0, character: 0 }, end: { line: lastLine, character: endChar } };
  const prev = lines[row.line - 1].replace(/\r$/, '').length;
  return { start: { line: row.line - 1, character: prev }, end: { line: lastLine, character: endChar } };
}

/** fewshot.diagnostics.ignore after silencing `code` for dataset `key` (returns a new object). */
export function withSilenced(current: Record<string, string[]> | undefined, key: string, code: string): Record<string, string[]> {
  const next: Record<string, string[]> = {};
  for (const [k, v] of Object.entries(current ?? {})) next[k] = [...v];
  const list = next[key] ?? [];
  if (!list.includes(code)) list.push(code);
  next[key] = list;
  return next;
}
