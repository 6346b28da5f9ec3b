/**
 * What tells two dashboard tabs of the same dataset apart: the run's own name when it was renamed,
 * else its id without the dataset part ("20261130-082123-fortunes-en-ab12" → "20261130-082123-ab12").
 * Pure (no vscode) so unit tests can check it.
 */
import { RUN_ID_PATTERN, datasetSlug } from '../../core/runs';

export function runTag(runId: string | undefined, name?: string, dataset?: string): string | undefined {
  if (name && name !== runId) return name;
  if (!runId) return undefined;
  if (!RUN_ID_PATTERN.test(runId)) return runId;
  const slug = dataset ? datasetSlug(dataset) : undefined;
  const ts = runId.slice(0, 15);
  const hex = runId.slice(-4);
  const middle = runId.slice(16, -5);
  return !slug || middle === slug ? `${ts}-${hex}` : runId;
}
