/**
 * Which saved runs can serve predictions, and which one is the default.
 * No 'vscode' import (unit-tested in plain Node).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { RunRecord } from '../../protocol/run';

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
}

/** Completed runs under `<storeDir>/runs` that have a model file, newest first. Unreadable runs are skipped. */
export async function listModelRuns(storeDir: string): Promise<ModelRun[]> {
  const runsDir = path.join(storeDir, 'runs');
  let names: string[];
  try {
    names = await fs.promises.readdir(runsDir);
  } catch {
    return [];
  }
  const out: ModelRun[] = [];
  await Promise.all(
    names.map(async (name) => {
      const dir = path.join(runsDir, name);
      try {
        const record = JSON.parse(await fs.promises.readFile(path.join(dir, 'run.json'), 'utf8')) as RunRecord;
        if (record.status !== 'completed') return;
        await fs.promises.access(path.join(dir, 'model', 'head.json'));
        out.push({
          id: record.id ?? name,
          name: record.name?.trim() || record.id || name,
          dir,
          dataset: record.config?.dataset ?? record.dataset?.path ?? '',
          createdAt: record.createdAt ?? '',
          testMacroF1: num(record.testMacroF1),
          bestValMacroF1: num(record.bestValMacroF1),
          encoder: record.encoder?.id ?? record.config?.encoder,
          labels: record.dataset?.labels,
        });
      } catch {
        /* running, failed, half-written or foreign folder: not a model */
      }
    }),
  );
  return out.sort((a, b) => (a.createdAt < b.createdAt ? 1 : a.createdAt > b.createdAt ? -1 : a.id < b.id ? 1 : -1));
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
