/** The workspace's run store (`<first folder>/.fewshot`). src/core/runs is pure Node (no ML imports). */
import { RunStore } from '../../core/runs';
import type { Host } from '../host';

let cached: { dir: string; store: RunStore } | undefined;

export function runStore(host: Host): RunStore | undefined {
  const dir = host.storeDir();
  if (!dir) return undefined;
  if (cached?.dir !== dir) cached = { dir, store: new RunStore(dir) };
  return cached.store;
}
