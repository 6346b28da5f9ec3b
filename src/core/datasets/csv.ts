/**
 * Delimited-text parsing (CSV/TSV, RFC 4180 plus the usual real-world slack):
 * quoted fields, `""` escapes, newlines inside quotes, CRLF/LF/CR line ends,
 * 1-based line numbers for every record and the position of every field
 * (what the language server's diagnostics point at).
 */

/** 0-based line and UTF-16 character, as in LSP (a leading BOM is not counted). */
export interface TextPosition { line: number; character: number }
export interface TextSpan { start: TextPosition; end: TextPosition }

export interface ParsedRow {
  fields: string[];
  /** 1-based line where the record starts. */
  line: number;
  /** 1-based line where the record ends (> line when a quoted field holds newlines). */
  lastLine: number;
  /** Where each field's value lies (inside the quotes of a quoted field). */
  spans: TextSpan[];
}

export interface ParseResult {
  rows: ParsedRow[];
  problems: { line: number; message: string }[];
  /**
   * True when a quote was never closed. A record with an unbalanced quote is left out (in
   * `problems`, by its first line) and reading goes on with the line after that line.
   */
  unterminated: boolean;
}

export function parseDelimited(text: string, delimiter = ','): ParseResult {
  const rows: ParsedRow[] = [];
  const problems: { line: number; message: string }[] = [];
  let fields: string[] = [];
  let spans: TextSpan[] = [];
  let field = '';
  let line = 1;
  let rowLine = 1;
  let inQuotes = false;
  let quoteLine = 0;
  let unterminated = false;
  let fieldQuoted = false;   // current field started with a quote
  let rowHasContent = false; // a delimiter or a quoted field was seen in this record
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  let lineStart = i;         // offset of the current line's first character
  let rowStart = i;          // offset of the current record's first character
  const n = text.length;
  const pos = (at: number): TextPosition => ({ line: line - 1, character: at - lineStart });
  let fieldStart = pos(i);
  let quotedEnd: TextPosition | null = null;

  const endField = () => {
    fields.push(field);
    spans.push({ start: fieldStart, end: quotedEnd ?? pos(i) });
    field = ''; fieldQuoted = false; quotedEnd = null;
  };
  const endRow = () => {
    endField();
    // A blank line is a record with one empty, unquoted field: skip it.
    if (rowHasContent || fields.length > 1 || fields[0] !== '') rows.push({ fields, line: rowLine, lastLine: line, spans });
    fields = []; spans = []; rowHasContent = false;
  };
  /**
   * An unbalanced quote: drop the record (never merge it with the lines after it), report its
   * line, and read on from the line after its first line.
   */
  const skipRecord = (message: string) => {
    problems.push({ line: rowLine, message });
    let j = rowStart;
    while (j < n && text[j] !== '\n' && text[j] !== '\r') j++;
    if (text[j] === '\r' && text[j + 1] === '\n') j++;
    i = Math.min(j + 1, n);
    line = rowLine + 1; lineStart = i; rowLine = line; rowStart = i;
    fields = []; spans = []; field = ''; fieldQuoted = false; quotedEnd = null; inQuotes = false; rowHasContent = false;
    fieldStart = pos(i);
  };

  for (;;) {
    while (i < n) {
      const c = text[i];
      if (inQuotes) {
        if (c === '"') {
          if (text[i + 1] === '"') { field += '"'; i += 2; continue; }
          quotedEnd = pos(i);
          inQuotes = false; i++; continue;
        }
        if (c === '\r' || c === '\n') {
          field += '\n';
          if (c === '\r' && text[i + 1] === '\n') i++;
          line++; i++; lineStart = i; continue;
        }
        field += c; i++; continue;
      }
      if (c === '"' && field === '' && !fieldQuoted) {
        inQuotes = true; fieldQuoted = true; rowHasContent = true; quoteLine = line; i++; fieldStart = pos(i); continue;
      }
      if (c === delimiter) { endField(); rowHasContent = true; i++; fieldStart = pos(i); continue; }
      if (c === '\r' || c === '\n') {
        endRow();
        if (c === '\r' && text[i + 1] === '\n') i++;
        i++; line++; lineStart = i; rowLine = line; rowStart = i; fieldStart = pos(i); continue;
      }
      if (fieldQuoted && quotedEnd && quotedEnd.line > fieldStart.line) {
        // text right after a quoted field that ran over line ends: its opening quote was a stray one
        skipRecord(`the quote opened on line ${quoteLine} is closed on line ${quotedEnd.line + 1} but followed by more text (an unbalanced quote)`);
        continue;
      }
      // Stray quote inside an unquoted field or after a closed one-line quoted field: keep it literally.
      field += c; i++;
    }
    if (!inQuotes) break;
    unterminated = true;
    skipRecord(`the quote opened on line ${quoteLine} is never closed`);
  }
  if (field !== '' || rowHasContent) endRow();
  return { rows, problems, unterminated };
}

/** Guess the delimiter of a CSV from its first record: ',' unless ';' or tab clearly dominate. */
export function sniffDelimiter(text: string, fallback = ','): string {
  let inQ = false;
  const counts: Record<string, number> = { ',': 0, ';': 0, '\t': 0, '|': 0 };
  for (let i = 0; i < text.length && i < 65536; i++) {
    const c = text[i];
    if (c === '"') inQ = !inQ;
    else if (!inQ && (c === '\n' || c === '\r')) break;
    else if (!inQ && c in counts) counts[c]++;
  }
  let best = fallback;
  for (const d of [',', '\t', ';', '|']) if (counts[d] > (counts[best] ?? 0)) best = d;
  return best;
}
