/**
 * CSV / TSV / JSONL parsing that keeps row and column positions, so that
 * diagnostics land on the offending row and field.
 */
import type { Range } from './types';

export interface Field { value: string; start: { line: number; character: number }; end: { line: number; character: number } }
export interface Row { /** First line of the record (0-based). */ line: number; /** Line after the record's last line. */ endLine: number; fields: Field[] }

/** RFC-4180-style parser (quotes, doubled quotes, embedded newlines). */
export function parseDelimited(text: string, delim: string): Row[] {
  const rows: Row[] = [];
  let i = 0, line = 0, col = 0;
  const n = text.length;
  if (text.charCodeAt(0) === 0xfeff) { i = 1; }
  while (i < n) {
    const row: Row = { line, endLine: line + 1, fields: [] };
    let endOfRecord = false;
    while (!endOfRecord) {
      let value = '';
      let start = { line, character: col };
      let end: { line: number; character: number };
      if (text[i] === '"') {
        i++; col++;
        start = { line, character: col };
        let closed = false;
        while (i < n) {
          const c = text[i];
          if (c === '"') {
            if (text[i + 1] === '"') { value += '"'; i += 2; col += 2; continue; }
            end = { line, character: col };
            i++; col++; closed = true; break;
          }
          if (c === '\n') { line++; col = 0; value += c; i++; continue; }
          value += c; i++; col++;
        }
        if (!closed) end = { line, character: col };
        // skip anything up to the delimiter / newline
        while (i < n && text[i] !== delim && text[i] !== '\n' && text[i] !== '\r') { value += text[i]; i++; col++; }
      } else {
        const s = i;
        while (i < n && text[i] !== delim && text[i] !== '\n' && text[i] !== '\r') i++;
        value = text.slice(s, i);
        col += i - s;
        end = { line, character: col };
      }
      row.fields.push({ value, start, end: end! });
      if (i >= n) { endOfRecord = true; break; }
      if (text[i] === delim) { i++; col++; continue; }
      if (text[i] === '\r') { i++; }
      if (text[i] === '\n') { i++; }
      line++; col = 0;
      endOfRecord = true;
    }
    row.endLine = line > row.line ? line : row.line + 1;
    if (!(row.fields.length === 1 && row.fields[0].value === '')) rows.push(row);
  }
  return rows;
}

const TEXT_COLS = ['text', 'sentence', 'content', 'review', 'message', 'body', 'document', 'utterance', 'query', 'question', 'comment', 'tweet', 'input', 'prompt', 'sample', 'description', '文本', '内容', '句子'];
const LABEL_COLS = ['label', 'labels', 'class', 'category', 'intent', 'target', 'y', 'sentiment', 'tag', 'topic', 'output', '标签', '类别'];
const SPLIT_COLS = ['split', 'subset', 'set', 'fold', 'partition'];

function pick(names: string[], candidates: string[]): number {
  const lower = names.map((n) => n.trim().toLowerCase());
  for (const c of candidates) {
    const k = lower.indexOf(c);
    if (k >= 0) return k;
  }
  return -1;
}

export function splitOf(value: string | undefined): 'train' | 'test' | undefined {
  const v = (value ?? '').trim().toLowerCase();
  if (!v) return undefined;
  if (v === 'train' || v === 'training') return 'train';
  if (['test', 'testing', 'eval', 'evaluation', 'validation', 'valid', 'val', 'dev'].includes(v)) return 'test';
  return undefined;
}

export interface TableRecord {
  text: string;
  label: string;
  split?: 'train' | 'test';
  /** Row lines (endLine exclusive) — what "Remove the row" deletes. */
  line: number;
  endLine: number;
  /** Range of the text field. */
  range: Range;
}
export interface TableParse {
  columns: { text: string; label: string; split?: string } | null;
  records: TableRecord[];
  errors: { line: number; message: string; range: Range }[];
  headerRange: Range;
}

/** Only the column names (cheap: the first record / line) — used to decide whether a file is a dataset. */
export function sniffColumns(head: string, format: 'csv' | 'tsv' | 'jsonl'): { text: string; label: string; split?: string } | null {
  if (format === 'jsonl') {
    for (const l of head.split('\n')) {
      if (!l.trim()) continue;
      try {
        const o = JSON.parse(l);
        if (!o || typeof o !== 'object' || Array.isArray(o)) return null;
        const keys = Object.keys(o);
        const t = pick(keys, TEXT_COLS), lb = pick(keys, LABEL_COLS), sp = pick(keys, SPLIT_COLS);
        return t >= 0 && lb >= 0 ? { text: keys[t], label: keys[lb], split: sp >= 0 ? keys[sp] : undefined } : null;
      } catch {
        return null;
      }
    }
    return null;
  }
  const firstLine = head.replace(/^\ufeff/, '').split(/\r?\n/)[0] ?? '';
  const rows = parseDelimited(firstLine, format === 'tsv' ? '\t' : ',');
  if (!rows.length) return null;
  const names = rows[0].fields.map((f) => f.value);
  const t = pick(names, TEXT_COLS), lb = pick(names, LABEL_COLS), sp = pick(names, SPLIT_COLS);
  return t >= 0 && lb >= 0 ? { text: names[t], label: names[lb], split: sp >= 0 ? names[sp] : undefined } : null;
}

export function parseTable(text: string, format: 'csv' | 'tsv' | 'jsonl'): TableParse {
  const out: TableParse = { columns: null, records: [], errors: [], headerRange: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } } };
  if (format === 'jsonl') {
    const lines = text.split('\n');
    let cols: TableParse['columns'] = null;
    for (let ln = 0; ln < lines.length; ln++) {
      const raw = lines[ln].replace(/\r$/, '');
      if (!raw.trim()) continue;
      const lineRange = { start: { line: ln, character: 0 }, end: { line: ln, character: raw.length } };
      let o: unknown;
      try {
        o = JSON.parse(raw);
      } catch (e) {
        out.errors.push({ line: ln, message: e instanceof Error ? e.message : String(e), range: lineRange });
        continue;
      }
      if (!o || typeof o !== 'object' || Array.isArray(o)) {
        out.errors.push({ line: ln, message: 'not a JSON object', range: lineRange });
        continue;
      }
      const rec = o as Record<string, unknown>;
      if (!cols) {
        const keys = Object.keys(rec);
        const t = pick(keys, TEXT_COLS), lb = pick(keys, LABEL_COLS), sp = pick(keys, SPLIT_COLS);
        if (t < 0 || lb < 0) { out.errors.push({ line: ln, message: 'no text/label keys', range: lineRange }); continue; }
        cols = { text: keys[t], label: keys[lb], split: sp >= 0 ? keys[sp] : undefined };
        out.columns = cols;
        out.headerRange = lineRange;
      }
      const tv = rec[cols.text], lv = rec[cols.label];
      const textValue = typeof tv === 'string' ? tv : tv == null ? '' : JSON.stringify(tv);
      const labelValue = typeof lv === 'string' ? lv : lv == null ? '' : String(lv);
      // locate the text value on the line
      let range = lineRange;
      const keyAt = raw.indexOf(JSON.stringify(cols.text));
      if (keyAt >= 0) {
        let p = raw.indexOf(':', keyAt + JSON.stringify(cols.text).length);
        if (p >= 0) {
          p++;
          while (p < raw.length && /\s/.test(raw[p])) p++;
          const enc = JSON.stringify(tv);
          const endCh = enc && raw.startsWith(enc, p) ? p + enc.length : raw.length;
          range = { start: { line: ln, character: p }, end: { line: ln, character: endCh } };
        }
      }
      out.records.push({
        text: textValue, label: labelValue,
        split: cols.split ? splitOf(typeof rec[cols.split] === 'string' ? (rec[cols.split] as string) : undefined) : undefined,
        line: ln, endLine: ln + 1, range,
      });
    }
    return out;
  }
  const rows = parseDelimited(text, format === 'tsv' ? '\t' : ',');
  if (!rows.length) return out;
  const header = rows[0];
  const names = header.fields.map((f) => f.value);
  const t = pick(names, TEXT_COLS), lb = pick(names, LABEL_COLS), sp = pick(names, SPLIT_COLS);
  out.headerRange = { start: { line: header.line, character: 0 }, end: header.fields[header.fields.length - 1].end };
  if (t < 0 || lb < 0) return out;
  out.columns = { text: names[t], label: names[lb], split: sp >= 0 ? names[sp] : undefined };
  for (let r = 1; r < rows.length; r++) {
    const row = rows[r];
    if (row.fields.length <= Math.max(t, lb)) {
      const f0 = row.fields[0];
      out.errors.push({ line: row.line, message: `expected ${names.length} columns, found ${row.fields.length}`, range: { start: f0.start, end: row.fields[row.fields.length - 1].end } });
      continue;
    }
    const tf = row.fields[t];
    out.records.push({
      text: tf.value, label: row.fields[lb].value.trim(),
      split: sp >= 0 ? splitOf(row.fields[sp]?.value) : undefined,
      line: row.line, endLine: row.endLine,
      range: { start: tf.start, end: tf.end },
    });
  }
  return out;
}
