/**
 * CSV / TSV / JSONL datasets: record reading, column detection (by header names,
 * then by content heuristics), and conversion to samples.
 */
import { FewShotError } from '../errors';
import { parseDelimited, sniffDelimiter, type TextSpan } from './csv';
import { DatasetFormat, DatasetIssue, IssueCodes, LoadOptions } from './types';

export interface TableRecord {
  values: string[];
  /** 1-based first and last line of the record. */
  line: number;
  lastLine: number;
  /** CSV/TSV: where each value lies. */
  spans?: TextSpan[];
  /** JSONL: the record's line (to locate a value on it). */
  source?: string;
}

export interface TableRecords {
  header: string[];
  rows: TableRecord[];
  issues: DatasetIssue[];
  /** Records that could not be read (also in `issues`), with the bare reason. */
  rowProblems: { line: number; reason: string }[];
  /** 1-based line of the header (CSV/TSV) or of the first object (JSONL); 0 when none. */
  headerLine: number;
}

/** Where the value of `header[col]` lies in a record (0-based LSP positions); undefined when unknown. */
export function valueSpan(rec: TableRecord, header: string[], col: number): TextSpan | undefined {
  if (rec.spans) return rec.spans[col];
  if (rec.source === undefined) return undefined;
  const raw = rec.source;
  const ln = rec.line - 1;
  const key = JSON.stringify(header[col]);
  const keyAt = raw.indexOf(key);
  if (keyAt < 0) return undefined;
  let p = raw.indexOf(':', keyAt + key.length);
  if (p < 0) return undefined;
  p++;
  while (p < raw.length && /\s/.test(raw[p])) p++;
  let end = raw.length;
  try {
    const parsed = JSON.parse(raw) as Record<string, unknown>;
    const enc = JSON.stringify(parsed[header[col]]);
    if (enc && raw.startsWith(enc, p)) end = p + enc.length;
  } catch { /* keep the rest of the line */ }
  return { start: { line: ln, character: p }, end: { line: ln, character: end } };
}

const TEXT_NAMES = ['text', 'texts', 'sentence', 'sentences', 'content', 'contents', 'note', 'notes', 'document', 'doc', 'body',
  'message', 'msg', 'review', 'utterance', 'input', 'query', 'question', 'description', 'comment', 'abstract', 'passage',
  'paragraph', 'summary', 'tweet', 'post', 'report', 'transcript', 'complaint', 'narrative', 'text_a', 'raw_text',
  'clean_text', 'full_text', 'x', '文本', '内容', '句子', '描述', '主诉', '病历', '正文'];
const LABEL_NAMES = ['label', 'labels', 'class', 'classes', 'category', 'categories', 'target', 'intent', 'tag', 'topic',
  'y', 'gold', 'annotation', 'classname', 'class_name', 'label_name', 'label_text', 'department', 'specialty', 'sentiment',
  'type', 'outcome', '类别', '标签', '分类', '科室', '类型'];
const SPLIT_NAMES = ['split', 'set', 'subset', 'partition', 'fold_type', 'dataset_split', '划分', '数据集'];
const GROUP_NAMES = ['group', 'group_id', 'groupid', 'doc_id', 'docid', 'document_id', 'patient_id', 'patient', 'patientid',
  'case_id', 'caseid', 'source_id', 'conversation_id', 'session_id', 'encounter_id', 'visit_id', '分组', '患者'];

const TRAIN_VALUES = new Set(['train', 'training', 'trn', 'tr', '训练', '训练集']);
const TEST_VALUES = new Set(['test', 'testing', 'tst', 'te', 'eval', 'evaluation', 'holdout', 'hold-out', '测试', '测试集']);
const VAL_VALUES = new Set(['val', 'valid', 'validation', 'dev', 'development', '验证', '验证集']);

export function normName(s: string): string {
  return s.normalize('NFKC').trim().toLowerCase().replace(/[\s\-.]+/g, '_');
}

function tokens(s: string): string[] {
  return s.normalize('NFKC').trim().replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase().split(/[\s\-._]+/).filter(Boolean);
}

function formatOf(file: string): DatasetFormat | null {
  const f = file.toLowerCase();
  if (f.endsWith('.csv')) return 'csv';
  if (f.endsWith('.tsv') || f.endsWith('.tab')) return 'tsv';
  if (f.endsWith('.jsonl') || f.endsWith('.ndjson')) return 'jsonl';
  return null;
}
export { formatOf as tableFormatOf };

function dedupeHeader(raw: string[]): string[] {
  const seen = new Map<string, number>();
  return raw.map((h, i) => {
    let name = h.trim() || `column_${i + 1}`;
    const k = name;
    const c = seen.get(k) ?? 0;
    seen.set(k, c + 1);
    if (c) name = `${name}_${c + 1}`;
    return name;
  });
}

function cellString(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  return JSON.stringify(v);
}

/**
 * Read the records of a table. `partial` = text is only a prefix of the file
 * (the last, possibly cut, record is dropped).
 */
export function readTableRecords(text: string, format: DatasetFormat, file: string, partial = false): TableRecords {
  const issues: DatasetIssue[] = [];
  const rowProblems: TableRecords['rowProblems'] = [];
  if (format === 'jsonl') {
    const lines = text.split(/\r\n|\n|\r/);
    if (partial && lines.length > 1) lines.pop();
    if (lines.length) lines[0] = lines[0].replace(/^\uFEFF/, '');
    const header: string[] = [];
    const known = new Set<string>();
    const objs: { obj: Record<string, unknown>; line: number; source: string }[] = [];
    let badCount = 0;
    for (let i = 0; i < lines.length; i++) {
      const l = lines[i].trim();
      if (!l) continue;
      let obj: unknown;
      try { obj = JSON.parse(l); } catch (e) {
        badCount++;
        rowProblems.push({ line: i + 1, reason: e instanceof Error ? e.message : 'not valid JSON' });
        issues.push({ code: IssueCodes.badRow, severity: 'warning', file, line: i + 1,
          message: `${file}:${i + 1}: not valid JSON; the line was skipped`, fix: 'Write one JSON object per line, e.g. {"text": "...", "label": "..."}' });
        continue;
      }
      if (!obj || typeof obj !== 'object' || Array.isArray(obj)) {
        badCount++;
        rowProblems.push({ line: i + 1, reason: 'not a JSON object' });
        issues.push({ code: IssueCodes.badRow, severity: 'warning', file, line: i + 1,
          message: `${file}:${i + 1}: expected a JSON object; the line was skipped`, fix: 'Write one JSON object per line, e.g. {"text": "...", "label": "..."}' });
        continue;
      }
      for (const k of Object.keys(obj)) if (!known.has(k)) { known.add(k); header.push(k); }
      objs.push({ obj: obj as Record<string, unknown>, line: i + 1, source: lines[i] });
    }
    if (!objs.length && badCount) {
      throw new FewShotError(`${file} is not a JSON Lines file: no line holds a JSON object.`, {
        file, code: 'table-unreadable', fix: 'Write one JSON object per line, e.g. {"text": "...", "label": "..."}, or save it as .csv.' });
    }
    const rows = objs.map(({ obj, line, source }) => ({ values: header.map((h) => cellString(obj[h])), line, lastLine: line, source }));
    return { header, rows, issues, rowProblems, headerLine: objs[0]?.line ?? 0 };
  }
  const delim = format === 'tsv' ? '\t' : sniffDelimiter(text, ',');
  const parsed = parseDelimited(text, delim);
  let rows = parsed.rows;
  if (partial && rows.length > 1) rows = rows.slice(0, -1);
  if (!partial) {
    for (const p of parsed.problems) {
      rowProblems.push({ line: p.line, reason: p.message });
      issues.push({ code: IssueCodes.badRow, severity: 'warning', file, line: p.line,
        message: `${file}:${p.line}: ${p.message}; the row was skipped`, fix: `Close the quote (") on line ${p.line}, or double quotes inside quoted text ("").` });
    }
  }
  if (!rows.length) return { header: [], rows: [], issues, rowProblems, headerLine: 0 };
  const header = dedupeHeader(rows[0].fields);
  const out: TableRecord[] = [];
  for (const r of rows.slice(1)) {
    const at = { line: r.line, lastLine: r.lastLine, spans: r.spans };
    if (r.fields.length !== header.length) {
      if (r.fields.length < header.length) {
        // Short rows: pad (trailing empty cells are often dropped by editors).
        const end = r.spans[r.spans.length - 1].end;
        const pad = new Array<string>(header.length - r.fields.length).fill('');
        out.push({ values: [...r.fields, ...pad], ...at, spans: [...r.spans, ...pad.map(() => ({ start: end, end }))] });
        continue;
      }
      if (r.fields.slice(header.length).every((f) => f.trim() === '')) { out.push({ values: r.fields.slice(0, header.length), ...at }); continue; }
      if (!partial) {
        rowProblems.push({ line: r.line, reason: `expected ${header.length} fields but found ${r.fields.length}` });
        issues.push({ code: IssueCodes.badRow, severity: 'warning', file, line: r.line,
          message: `${file}:${r.line}: expected ${header.length} fields but found ${r.fields.length}; the row was skipped`,
          fix: `Put text that contains the delimiter ${delim === '\t' ? '(tab)' : `"${delim}"`} in double quotes.` });
      }
      continue;
    }
    out.push({ values: r.fields, ...at });
  }
  return { header, rows: out, issues, rowProblems, headerLine: rows[0].line };
}

export interface ColumnChoice {
  text: number;
  label: number;
  split?: number;
  group?: number;
  /** How the text/label columns were found. */
  how: 'option' | 'header' | 'heuristic';
  /** Set when the label column would be guessed from the content and several columns could hold the labels. */
  ambiguousLabel?: number[];
}

function findByName(header: string[], names: string[], exclude: Set<number>, allowTokens: boolean, rejectTokens: string[] = []): number {
  const norm = header.map(normName);
  for (const n of names) {
    const i = norm.findIndex((h, k) => !exclude.has(k) && h === n);
    if (i >= 0) return i;
  }
  if (!allowTokens) return -1;
  for (const n of names) {
    if (n.length < 3 && /^[a-z]+$/.test(n)) continue; // 'x', 'y' only as whole names
    const i = header.findIndex((h, k) => {
      if (exclude.has(k)) return false;
      const t = tokens(h);
      return t.includes(n) && !t.some((x) => rejectTokens.includes(x));
    });
    if (i >= 0) return i;
  }
  return -1;
}

interface ColStats { avgLen: number; distinct: number; nonEmpty: number; numeric: number; }

function columnStats(rows: { values: string[] }[], k: number): ColStats {
  const set = new Set<string>();
  let len = 0, nonEmpty = 0, numeric = 0;
  const sample = rows.length > 5000 ? rows.slice(0, 5000) : rows;
  for (const r of sample) {
    const v = (r.values[k] ?? '').trim();
    if (!v) continue;
    nonEmpty++;
    len += [...v].length;
    set.add(v);
    if (/^[-+]?\d+(\.\d+)?$/.test(v)) numeric++;
  }
  return { avgLen: nonEmpty ? len / nonEmpty : 0, distinct: set.size, nonEmpty, numeric };
}

function resolveOverride(header: string[], name: string, what: string, file: string): number {
  const i = header.indexOf(name);
  if (i >= 0) return i;
  const j = header.findIndex((h) => normName(h) === normName(name));
  if (j >= 0) return j;
  throw new FewShotError(`${file} has no ${what} column named "${name}" (columns: ${header.join(', ') || 'none'}).`, {
    file, code: 'column-missing', fix: `Set the ${what} column to one of: ${header.join(', ')}.` });
}

/** Pick text/label (and optional split/group) columns, or return null when none fit. Throws only for bad overrides. */
export function detectColumns(header: string[], rows: { values: string[] }[], file: string, opts: LoadOptions = {}): ColumnChoice | null {
  if (header.length < 2) return null;
  const used = new Set<number>();
  let how: ColumnChoice['how'] = 'header';
  let text = opts.textColumn ? resolveOverride(header, opts.textColumn, 'text', file) : -1;
  let label = opts.labelColumn ? resolveOverride(header, opts.labelColumn, 'label', file) : -1;
  if (text >= 0 || label >= 0) how = 'option';
  if (text >= 0) used.add(text);
  if (label >= 0) used.add(label);
  let split = -1;
  if (opts.splitColumn !== undefined) split = opts.splitColumn ? resolveOverride(header, opts.splitColumn, 'split', file) : -1;
  else split = findByName(header, SPLIT_NAMES, used, false);
  if (split >= 0) used.add(split);
  const group = opts.groupColumn ? resolveOverride(header, opts.groupColumn, 'group', file) : findByName(header, GROUP_NAMES, used, false);
  if (group >= 0) used.add(group);
  if (text < 0) { text = findByName(header, TEXT_NAMES, used, true, ['id', 'ids', 'len', 'length', 'count', 'num']); if (text >= 0) used.add(text); }
  if (label < 0) { label = findByName(header, LABEL_NAMES, used, true, ['count', 'num', 'prob', 'score']); if (label >= 0) used.add(label); }
  let labelCandidates: number[] | undefined;
  if (text < 0 || label < 0) {
    if (!rows.length) return null;
    const stats = header.map((_, k) => columnStats(rows, k));
    const n = Math.min(rows.length, 5000);
    if (label < 0) {
      let best = -1;
      labelCandidates = [];
      for (let k = 0; k < header.length; k++) {
        if (used.has(k)) continue;
        const s = stats[k];
        const maxDistinct = Math.max(2, Math.min(100, Math.floor(n / 2)));
        if (s.distinct < 2 || s.distinct > maxDistinct || s.avgLen > 40 || s.nonEmpty < n * 0.8) continue;
        labelCandidates.push(k);
        if (best < 0 || s.distinct < stats[best].distinct || (s.distinct === stats[best].distinct && s.avgLen < stats[best].avgLen)) best = k;
      }
      if (best >= 0) { label = best; used.add(best); how = how === 'option' ? 'option' : 'heuristic'; }
    }
    if (text < 0) {
      let best = -1;
      for (let k = 0; k < header.length; k++) {
        if (used.has(k)) continue;
        const s = stats[k];
        if (s.numeric > s.nonEmpty * 0.5 || s.avgLen < 3) continue;
        if (best < 0 || s.avgLen > stats[best].avgLen) best = k;
      }
      if (best >= 0 && (label < 0 || stats[best].avgLen > stats[label].avgLen)) { text = best; used.add(best); how = how === 'option' ? 'option' : 'heuristic'; }
    }
  }
  if (text < 0 || label < 0) return null;
  // a column that went on to be the text column was no label candidate after all
  labelCandidates = labelCandidates?.filter((k) => k !== text);
  const ambiguous = labelCandidates && labelCandidates.length > 1 ? { ambiguousLabel: labelCandidates } : {};
  return { text, label, split: split >= 0 ? split : undefined, group: group >= 0 ? group : undefined, how, ...ambiguous };
}

export type SplitValue = 'train' | 'test' | 'val' | null;
export function parseSplitValue(v: string): SplitValue {
  const s = v.trim().toLowerCase();
  if (!s) return null;
  if (TRAIN_VALUES.has(s)) return 'train';
  if (TEST_VALUES.has(s)) return 'test';
  if (VAL_VALUES.has(s)) return 'val';
  return null;
}

export const columnNameLists = { TEXT_NAMES, LABEL_NAMES, SPLIT_NAMES, GROUP_NAMES };
