/**
 * Where a table row's label cell lies and the edit that sets it (Relabel, Label as…). Pure (no 'vscode'): the
 * loader's own record reader and column detection (src/core/datasets/table.ts, as the language server's quick fixes
 * use them), so the cell edited is the one training reads.
 */
import type { DatasetFormat, LoadOptions } from '../../core/datasets';
import type { TextSpan } from '../../core/datasets/csv';
import { detectColumns, readTableRecords, valueSpan } from '../../core/datasets/table';
import { FewShotError } from '../../core/errors';

export interface CellEdit {
  /** 0-based positions in the document text. */
  range: TextSpan;
  newText: string;
  /** The text the edit replaces. */
  oldText: string;
}

function lineStarts(text: string): number[] {
  const starts = [0];
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '\n' || (c === '\r' && text[i + 1] !== '\n')) starts.push(i + 1);
  }
  return starts;
}

function sliceSpan(text: string, starts: number[], s: TextSpan): string {
  return text.slice(starts[s.start.line] + s.start.character, starts[s.end.line] + s.end.character);
}

/**
 * The edit that sets the label of the record starting on 1-based `line` to `label`. Throws a FewShotError naming the
 * file and line when the record or its label column cannot be found.
 */
export function labelCellEdit(text: string, format: DatasetFormat, file: string, line: number, label: string, opts: LoadOptions = {}): CellEdit {
  const rec = readTableRecords(text, format, file);
  const row = rec.rows.find((r) => r.line === line);
  const cols = row && detectColumns(rec.header, rec.rows, file, opts);
  if (!row || !cols || cols.ambiguousLabel) {
    throw new FewShotError(`${file}:${line}: no ${row ? 'label column' : 'record'} found there (the file changed since the check).`, {
      file, line, code: 'label-cell-not-found', fix: 'Run Check Labels or Suggest What to Label Next again.',
    });
  }
  const starts = lineStarts(text);
  const key = rec.header[cols.label];
  const span = valueSpan(row, rec.header, cols.label);
  if (format === 'jsonl') {
    const ln = line - 1;
    const raw = row.source ?? '';
    const obj = JSON.parse(raw) as Record<string, unknown>;
    const enc = span ? sliceSpan(text, starts, span) : '';
    if (span && span.start.line === ln && enc === JSON.stringify(obj[key])) return { range: span, oldText: enc, newText: JSON.stringify(label) };
    // no such key on this line, or written differently (escapes, spacing): rewrite the object
    const whole = { start: { line: ln, character: 0 }, end: { line: ln, character: raw.length } };
    return { range: whole, oldText: raw, newText: JSON.stringify({ ...obj, [key]: label }) };
  }
  if (!span) throw new FewShotError(`${file}:${line}: the label cell could not be located.`, { file, line, code: 'label-cell-not-found' });
  const old = sliceSpan(text, starts, span);
  const startOffset = starts[span.start.line] + span.start.character;
  const quoted = text[startOffset - 1] === '"';
  const delimiter = format === 'tsv' ? '\t' : ',';
  if (quoted) return { range: span, oldText: old, newText: label.replace(/"/g, '""') };
  const needsQuotes = label.includes(delimiter) || /["\r\n]/.test(label) || label !== label.trim();
  return { range: span, oldText: old, newText: needsQuotes ? `"${label.replace(/"/g, '""')}"` : label };
}
