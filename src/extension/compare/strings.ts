/**
 * Strings of the compare webview. The webview looks texts up by their English
 * form; the host sends the translated table in the `init` message
 * (translations: ./l10n.zh-cn.json, merged into the l10n bundle by the build).
 */
import * as vscode from 'vscode';
import { DEFAULT_EXPORT_HEADERS, type ExportHeaders } from '../../core/compare';

export const WEBVIEW_STRINGS = [
  'Compare runs', 'Compare runs ({0})', 'Add runs…', 'Remove', 'Remove {0} from the comparison', 'Star', 'Unstar',
  'Name', 'Note', 'Open dashboard', 'Export', 'Copy CSV', 'Save CSV…', 'Copy Markdown', 'Save Markdown…', 'Save PNG…',
  'Curves', 'Loss', 'Validation macro-F1', 'Per-class recall', 'Class', 'Smoothing', 'Metric', 'Epoch',
  'training', 'validation', 'Metrics', 'Run', 'Test macro-F1', 'Test weighted-F1', 'Test accuracy', 'Min recall',
  'Best epoch', 'Val macro-F1 (best)', 'Last epoch', 'Val macro-F1 (last)', 'Train time', 'Backend', 'best',
  'Sort by {0}', 'sorted ascending', 'sorted descending',
  'Per-class recall and F1', 'Recall', 'F1', 'Confusion matrices', 'true', 'predicted', 'Scroll to draw',
  'Settings', 'Only what differs', 'Setting', 'No differences.', 'Different data',
  'These runs were trained on different data: their test figures are not comparable.', 'Dataset fingerprint',
  'Same dataset for all runs.', 'No runs to compare. Add runs to start.', 'No test report.', 'No metrics recorded.',
  'still training', 'failed', 'cancelled', 'interrupted', 'older format', 'partial', 'newer format', 'Fix: {0}', 'Problems ({0})',
  'Copied to the clipboard.', 'Saved {0}', 'unreadable', 'Group {0}',
  'interrupted', 'epoch', 'candidate configuration (CV-scored)', 'contrastive pair step', 'Best validation macro-F1', 'Best validation macro-F1 ({0})',
  'Best epoch / configuration', 'Last epoch / configuration', 'configuration {0}', 'n/a', 'not used by the algorithm of this run', 'TensorFlow.js ({0}) did not fit this head',
  'These runs count progress in different units (epochs, candidate configurations): each unit has its own x axis, and their points do not line up.',
] as const;

export function webviewStrings(): Record<string, string> {
  return Object.fromEntries(WEBVIEW_STRINGS.map((k) => [k, vscode.l10n.t(k)]));
}

/** Column headers of the CSV/Markdown export, translated. */
export function exportHeaders(): ExportHeaders {
  const out = {} as ExportHeaders;
  for (const [k, v] of Object.entries(DEFAULT_EXPORT_HEADERS) as [keyof ExportHeaders, string][]) out[k] = vscode.l10n.t(v);
  return out;
}
