/** Seeded, stratified, group-aware train/test split. */
import { seededRandom, shuffleInPlace } from '../util/rng';
import { compareCodePoints } from '../metrics';
import type { Sample } from './types';

/**
 * Group key of a file name: `note12_part1.txt`, `note12-part-2.md`, `note12 (part 3).txt`,
 * `note12_chunk04.txt`, `note12.p1.txt` → `note12`. Undefined when the name has no part marker.
 */
export function groupOfFileName(fileName: string): string | undefined {
  const stem = fileName.replace(/\.[^.]*$/, '');
  const m = /^(.+?)[\s_\-.(]+(?:part|pt|p|chunk|seg|segment|section|sec|page|pg|piece|frag|fragment)[\s_\-.]*\d+\)?$/i.exec(stem);
  if (!m) return undefined;
  const g = m[1].replace(/[\s_\-.(]+$/, '');
  return g || undefined;
}

export interface SplitResult<T = Sample> { train: T[]; test: T[]; classesWithoutTest: string[]; }

/** What a split reads of a sample: text samples and image samples alike. */
export interface Splittable { label: string; group?: string }

/**
 * Hold out about `testFraction` of each class. Samples that share `group` stay
 * together (a group is assigned by its most frequent label). Deterministic for a seed.
 */
export function stratifiedSplit<T extends Splittable = Sample>(samples: T[], testFraction: number, seed: number): SplitResult<T> {
  const groups = new Map<string, T[]>();
  samples.forEach((s, i) => {
    const key = s.group !== undefined ? `g:${s.group}` : `s:${i}`;
    let g = groups.get(key);
    if (!g) groups.set(key, (g = []));
    g.push(s);
  });
  const byLabel = new Map<string, T[][]>();
  const classCount = new Map<string, number>();
  for (const s of samples) classCount.set(s.label, (classCount.get(s.label) ?? 0) + 1);
  for (const g of groups.values()) {
    const counts = new Map<string, number>();
    for (const s of g) counts.set(s.label, (counts.get(s.label) ?? 0) + 1);
    const major = [...counts.entries()].sort((a, b) => b[1] - a[1] || compareCodePoints(a[0], b[0]))[0][0];
    let list = byLabel.get(major);
    if (!list) byLabel.set(major, (list = []));
    list.push(g);
  }
  const rand = seededRandom(seed);
  const testSet = new Set<T>();
  const labels = [...byLabel.keys()].sort(compareCodePoints);
  for (const label of labels) {
    const gs = byLabel.get(label)!;
    const total = gs.reduce((s, g) => s + g.length, 0);
    if (gs.length < 2) continue; // one group: cannot hold anything out
    const target = Math.max(1, Math.round(total * testFraction));
    shuffleInPlace(gs, rand);
    // Prefer groups that fit in the remaining budget; always leave at least one group for training.
    let taken = 0;
    let groupsLeft = gs.length;
    for (const g of gs) {
      if (taken >= target || groupsLeft <= 1) break;
      if (taken > 0 && taken + g.length > target + Math.max(1, Math.round(target * 0.5))) continue;
      for (const s of g) testSet.add(s);
      taken += g.length;
      groupsLeft--;
    }
  }
  const train: T[] = [];
  const test: T[] = [];
  for (const s of samples) (testSet.has(s) ? test : train).push(s);
  const testLabels = new Set(test.map((s) => s.label));
  const classesWithoutTest = [...classCount.keys()].filter((l) => !testLabels.has(l)).sort(compareCodePoints);
  return { train, test, classesWithoutTest };
}
