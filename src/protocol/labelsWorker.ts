/**
 * Messages between a parent (the extension host) and the label-tools child (`dist/labels.js`,
 * src/trainer/labels.ts), which runs Check Labels and Suggest What to Label Next (load → embed → out-of-fold
 * probabilities) off the extension host. Node IPC (`child_process.fork`), like the trainer.
 *   child → ready; parent → run; child → progress … → result | error; exit. parent → cancel aborts.
 */
import type { AuditResult, SuggestResult } from './labels';

export const LABELS_WORKER_PROTOCOL_VERSION = 1;

export interface LabelsRequest {
  /** audit: Check Labels; suggest: Suggest What to Label Next. (A finished run's audit needs no child: src/core/labels/runAudit.ts.) */
  kind: 'audit' | 'suggest';
  /** Absolute dataset path (folder or table file). */
  dataset: string;
  /** Workspace store (`<workspace>/.fewshot`): embedding cache and label files. */
  storeDir: string;
  /** Encoder spec (the fewshot.train.encoder setting). */
  encoder?: string;
  textColumn?: string;
  labelColumn?: string;
  /** suggest: how many texts. */
  n?: number;
  hf?: { cacheDir?: string; allowRemote?: boolean };
}

export type ParentToLabels =
  | { type: 'run'; protocol: number; request: LabelsRequest }
  | { type: 'cancel' };

export type LabelsToParent =
  | { type: 'ready'; protocol: number; pid: number }
  | { type: 'progress'; message: string; done?: number; total?: number }
  | { type: 'audit'; result: AuditResult }
  | { type: 'suggest'; result: SuggestResult }
  | { type: 'error'; message: string; fix?: string; file?: string; line?: number; cancelled?: boolean };
