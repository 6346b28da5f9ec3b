/**
 * Turns the arguments `fewshot.compareRuns` can be called with into run ids.
 *  - Runs view:        (clickedItem, selectedItems[]) — items carry `runId` or `id`, and/or `resourceUri`/`dir`
 *  - API / other code: string[] of run ids, or { runIds: string[] }
 *  - Dashboard:        one run id (string) → "compare with…": a picker preselects it
 *  - Command palette:  nothing → multi-select picker
 * No vscode import (unit-testable); Uri-like objects are duck-typed.
 */
import * as path from 'node:path';
import { isRunId } from '../../core/runs';

export interface ParsedCompareArgs {
  /** Run ids named by the arguments (deduplicated, in order). */
  ids: string[];
  /** True when the caller gave a complete selection (2+ runs, or an explicit list): open directly. */
  complete: boolean;
}

/** Run id of one tree item / object / string, or undefined. */
export function runIdOf(x: unknown): string | undefined {
  if (typeof x === 'string') return isRunId(x) ? x : x.includes('/') || x.includes('\\') ? lastSegment(x) : undefined;
  if (!x || typeof x !== 'object') return undefined;
  const o = x as Record<string, unknown>;
  if (typeof o.runId === 'string' && o.runId) return o.runId;
  const rec = o.record as Record<string, unknown> | undefined;
  if (rec && typeof rec.id === 'string' && rec.id) return rec.id;
  if (typeof o.dir === 'string' && o.dir) return lastSegment(o.dir);
  const uri = o.resourceUri as { fsPath?: unknown; path?: unknown } | undefined;
  if (uri && typeof uri === 'object') {
    const p = typeof uri.fsPath === 'string' ? uri.fsPath : typeof uri.path === 'string' ? uri.path : undefined;
    if (p) {
      const last = lastSegment(p);
      // A file inside a run folder (run.json, report.txt…) stands for its run.
      return last && /\.(json|jsonl|txt)$/.test(last) ? lastSegment(path.dirname(p)) : last;
    }
  }
  if (typeof o.id === 'string' && isRunId(o.id)) return o.id;
  return undefined;
}

function lastSegment(p: string): string | undefined {
  const s = p.replace(/[\\/]+$/, '').split(/[\\/]/).pop();
  return s && isRunId(s) ? s : undefined;
}

export function parseCompareArgs(args: unknown[]): ParsedCompareArgs {
  const [first, second] = args;
  const uniq = (xs: (string | undefined)[]) => [...new Set(xs.filter((x): x is string => !!x))];
  // (clicked, selected[]) from a tree view with canSelectMany
  if (Array.isArray(second) && second.length) {
    const ids = uniq(second.map(runIdOf));
    if (first !== undefined) {
      const c = runIdOf(first);
      if (c && !ids.includes(c)) ids.unshift(c);
    }
    return { ids, complete: ids.length >= 2 };
  }
  if (Array.isArray(first)) {
    const ids = uniq(first.map(runIdOf));
    return { ids, complete: ids.length >= 1 };
  }
  if (first && typeof first === 'object' && Array.isArray((first as { runIds?: unknown }).runIds)) {
    const ids = uniq(((first as { runIds: unknown[] }).runIds).map(runIdOf));
    return { ids, complete: ids.length >= 1 };
  }
  const one = runIdOf(first);
  return { ids: one ? [one] : [], complete: false };
}

/** A figure as the picker shows it: four decimals, '—' when the run has none. */
export function figure(x: number | null): string {
  return x === null ? '—' : x.toFixed(4);
}

/** The English text of the figures beside a run in the picker (translated through vscode.l10n.t by the caller). */
export const PICKER_FIGURES = 'best validation macro-F1 {0} · test macro-F1 {1}';

/** The figures beside a run in the picker: the best is a validation figure, and says so. */
export function pickerFigures(d: { bestValMacroF1: number | null; testMacroF1: number | null }, t: (message: string, ...args: string[]) => string): string {
  return t(PICKER_FIGURES, figure(d.bestValMacroF1), figure(d.testMacroF1));
}
