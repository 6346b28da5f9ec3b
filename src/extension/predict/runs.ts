/**
 * Which saved runs can serve predictions, and which one is the default.
 * No 'vscode' import (unit-tested in plain Node).
 */
import * as path from 'node:path';
import type { RunRecord } from '../../protocol/run';
import { RunStore, isUsableForPredict } from '../../core/runs';

export interface ModelRun {
  id: string;
  /** User-facing name (renamed runs), else the id. */
  name: string;
  dir: string;
  /** Dataset path the run was trained on. */
  dataset: string;
  createdAt: string;
  testMacroF1?: number;
  bestValMacroF1?: number;
  encoder?: string;
  labels?: string[];
  /** Trained on an image dataset (run.json dataset.format 'images'): Predict Image / Predict Folder use it. */
  images?: boolean;
}

/**
 * Runs that can serve predictions (core/runs isUsableForPredict: completed, with model/head.json),
 * in the store's run order (newest first). Unreadable runs are skipped.
 */
export async function listModelRuns(storeDir: string): Promise<ModelRun[]> {
  const entries = await new RunStore(storeDir).list();
  const usable = await Promise.all(entries.map((e) => isUsableForPredict(e)));
  return entries.filter((_, i) => usable[i]).map(({ id, dir, record }) => {
    const r = record as RunRecord;
    return {
      id,
      name: r.name?.trim() || id,
      dir,
      dataset: r.config?.dataset || r.dataset?.path || '',
      createdAt: r.createdAt ?? '',
      testMacroF1: num(r.testMacroF1),
      bestValMacroF1: num(r.bestValMacroF1),
      encoder: r.encoder?.id ?? r.config?.encoder,
      labels: r.dataset?.labels,
      images: r.dataset?.format === 'images' || undefined,
    };
  });
}

function num(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

/** Score used to rank runs: test macro-F1, else best validation macro-F1. */
export function runScore(r: ModelRun): number | undefined {
  return r.testMacroF1 ?? r.bestValMacroF1;
}

/**
 * The default model when the user chose none: among the runs of the most
 * recently trained dataset, the best by test macro-F1 (else best val macro-F1);
 * ties go to the newer run.
 */
export function defaultModelRun(runs: readonly ModelRun[]): ModelRun | undefined {
  if (!runs.length) return undefined;
  const newest = [...runs].sort((a, b) => (a.createdAt < b.createdAt ? 1 : a.createdAt > b.createdAt ? -1 : 0))[0];
  const same = runs.filter((r) => r.dataset === newest.dataset);
  let best = newest;
  for (const r of same) {
    const s = runScore(r);
    const bs = runScore(best);
    if (s === undefined) continue;
    if (bs === undefined || s > bs || (s === bs && r.createdAt > best.createdAt)) best = r;
  }
  return best;
}

/** Accepts what a caller may pass as "a run": a tree item ({runId} / {id} / {run:{id}}), a string id, a run folder or a Uri-like {fsPath}. */
export function runIdFromArg(arg: unknown): string | undefined {
  if (typeof arg === 'string') return arg.trim() ? path.basename(arg.trim()) : undefined;
  if (!arg || typeof arg !== 'object') return undefined;
  const o = arg as Record<string, unknown>;
  // TreeItem ids may carry a 'run:' prefix.
  for (const k of ['runId', 'id']) if (typeof o[k] === 'string' && (o[k] as string).trim()) return (o[k] as string).replace(/^run:/, '');
  if (o.run && typeof o.run === 'object') return runIdFromArg(o.run);
  if (o.record && typeof o.record === 'object') return runIdFromArg(o.record);
  if (typeof o.fsPath === 'string') return path.basename(o.fsPath);
  return undefined;
}
