/**
 * Likely label errors from saved out-of-fold probabilities: the rows a dataset audit computed, or a finished run's
 * oof.jsonl. Pure (no encoders, no fitting): the extension host calls it after each run; `fewshot audit` and Check
 * Labels reach it through src/core/labels/session.ts.
 */
import * as path from 'node:path';
import { LABELS_FORMAT_VERSION, type AuditResult, type LabelSuspect, type TrainPrediction } from '../../protocol/labels';
import { RunStore } from '../runs';
import { findLabelIssues } from './audit';
import { LabelStore, textHash } from './reviewed';

export const AUDIT_METHOD = 'confident learning (per-class thresholds clipped at (1 + 1/k) / 2; flagged by both prune-by-noise-rate and prune-by-class), ranked by self-confidence';

/**
 * Suspects from out-of-fold probabilities (confident learning), leaving out examples marked reviewed.
 * `samples[i]` is the example of `probs[i]`.
 */
export async function auditPredictions(
  samples: { text: string; label: string; file?: string; line?: number; index: number }[], probs: number[][], labels: string[],
  meta: { dataset: string; fingerprint: string; encoder: string; probabilities: string; storeDir: string; runId?: string },
): Promise<AuditResult> {
  const index = new Map(labels.map((l, i) => [l, i] as const));
  const keep = samples.map((s, i) => (index.has(s.label) ? i : -1)).filter((i) => i >= 0);
  const flagged = findLabelIssues(keep.map((i) => probs[i]), keep.map((i) => index.get(samples[i].label)!), labels.length);
  const reviewed = await new LabelStore(meta.storeDir).readReviewed();
  let reviewedSkipped = 0;
  const suspects: LabelSuspect[] = [];
  for (const f of flagged) {
    const s = samples[keep[f.index]];
    if (LabelStore.isReviewed(reviewed, s.text, s.label)) { reviewedSkipped++; continue; }
    suspects.push({
      index: s.index, file: s.file ?? meta.dataset, ...(s.line !== undefined ? { line: s.line } : {}), text: s.text, textHash: textHash(s.text),
      given: s.label, suggested: labels[f.suggested], pSuggested: f.pSuggested, pGiven: f.pGiven, score: f.score,
    });
  }
  return {
    formatVersion: LABELS_FORMAT_VERSION, dataset: path.resolve(meta.dataset), fingerprint: meta.fingerprint, createdAt: new Date().toISOString(),
    encoder: meta.encoder, probabilities: meta.probabilities, method: AUDIT_METHOD, examples: keep.length, suspects, reviewedSkipped,
    ...(meta.runId ? { runId: meta.runId } : {}),
  };
}

/** Audit of a finished run from its out-of-fold training predictions (oof.jsonl). */
export async function auditRun(preds: TrainPrediction[], labels: string[], meta: { dataset: string; fingerprint: string; encoder: string; probabilities: string; storeDir: string; runId: string }): Promise<AuditResult> {
  const probs = preds.map((p) => labels.map((l) => p.probabilities[l] ?? 0));
  const result = await auditPredictions(preds.map((p) => ({ text: p.text, label: p.label, file: p.file, line: p.line, index: p.index })), probs, labels, meta);
  await new LabelStore(meta.storeDir).writeAudit(result);
  return result;
}

/** The audit of a finished run from its out-of-fold training predictions (oof.jsonl); null without them. */
export async function auditOfRun(storeDir: string, runId: string): Promise<AuditResult | null> {
  const store = new RunStore(storeDir);
  const oof = await store.readOof(runId);
  if (!oof.length) return null;
  const rec = await store.read(runId);
  return auditRun(oof, rec.dataset?.labels ?? [...new Set(oof.map((p) => p.label))].sort(), {
    dataset: rec.dataset?.path ?? rec.config.dataset, fingerprint: rec.dataset?.fingerprint ?? '', encoder: rec.encoder?.id ?? rec.config.encoder,
    probabilities: `out-of-fold predictions of run ${runId}`, storeDir, runId,
  });
}
