/**
 * A real image run for the predict/serve tests: the quick path trained on the repository's samples/shapes
 * (4 classes × 12 train + 6 test, ~4 s), with the real image encoder. Predictions are computed, never canned.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DEFAULT_CONFIG } from '../../../src/core/config';
import { runTraining } from '../../../src/core/train';
import { repoRoot } from './trainerFixtures';

export const shapesDir = (): string => path.join(repoRoot, 'samples', 'shapes');

/** The test images of samples/shapes: [class, absolute path]. */
export function shapeTestImages(): { label: string; file: string }[] {
  const test = path.join(shapesDir(), 'test');
  return fs.readdirSync(test).sort().flatMap((label) => fs.readdirSync(path.join(test, label)).sort().map((f) => ({ label, file: path.join(test, label, f) })));
}

/** Train the quick path on samples/shapes into `storeDir`; returns the run folder. */
export async function trainShapesRun(storeDir: string): Promise<string> {
  const record = await runTraining({ config: { ...DEFAULT_CONFIG, dataset: shapesDir() }, storeDir }, { onEvent: () => undefined });
  return path.join(storeDir, 'runs', record.id);
}
