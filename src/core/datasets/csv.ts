/**
 * Delimited-text parsing (CSV/TSV, RFC 4180 plus the usual real-world slack):
 * quoted fields, `""` escapes, newlines inside quotes, CRLF/LF/CR line ends,
 * 1-based line numbers for every record.
 */

export interface ParsedRow {
  fields: string[];
  /** 1-based line where the record starts. */
  line: number;
}

export interface ParseResult {
  rows: ParsedRow[];
  problems: { line: number; message: string }[];
  /** True when the input ended inside a quoted field. */
  unterminated: boolean;
}

export function parseDelimited(text: string, delimiter = ','): ParseResult {
  const rows: ParsedRow[] = [];
  const problems: { line: number; message: string }[] = [];
  let fields: string[] = [];
  let field = '';
  let line = 1;
  let rowLine = 1;
  let inQuotes = false;
  let quoteLine = 0;
  let fieldQuoted = false;   // current field started with a quote
  let rowHasContent = false; // a delimiter or a quoted field was seen in this record
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  const n = text.length;

  const endRow = () => {
    fields.push(field);
    // A blank line is a record with one empty, unquoted field: skip it.
    if (rowHasContent || field !== '') rows.push({ fields, line: rowLine });
    fields = []; field = ''; fieldQuoted = false; rowHasContent = false;
  };

  while (i < n) {
    const c = text[i];
    if (inQuotes) {
      if (c === '"') {
        if (text[i + 1] === '"') { field += '"'; i += 2; continue; }
        inQuotes = false; i++; continue;
      }
      if (c === '\r' || c === '\n') {
        field += '\n';
        if (c === '\r' && text[i + 1] === '\n') i++;
        line++; i++; continue;
      }
      field += c; i++; continue;
    }
    if (c === '"' && field === '' && !fieldQuoted) {
      inQuotes = true; fieldQuoted = true; rowHasContent = true; quoteLine = line; i++; continue;
    }
    if (c === delimiter) { fields.push(field); field = ''; fieldQuoted = false; rowHasContent = true; i++; continue; }
    if (c === '\r' || c === '\n') {
      endRow();
      if (c === '\r' && text[i + 1] === '\n') i++;
      i++; line++; rowLine = line; continue;
    }
    // Stray quote inside an unquoted field or after a closed quoted field: keep it literally.
    field += c; i++;
  }
  if (inQuotes) problems.push({ line: quoteLine, message: `the quoted field that starts on line ${quoteLine} is never closed` });
  if (field !== '' || rowHasContent) endRow();
  return { rows, problems, unterminated: inQuotes };
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
