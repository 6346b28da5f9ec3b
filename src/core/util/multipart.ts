/**
 * A small multipart/form-data parser (RFC 7578) for the model server's image uploads: the whole body is in memory
 * (the server caps it), parts are split on the boundary from the Content-Type header. Malformed bodies throw a
 * MultipartError whose message says what is wrong (the server answers 400 with it).
 */

export class MultipartError extends Error {
  constructor(message: string) { super(message); this.name = 'MultipartError'; }
}

export interface MultipartPart {
  /** The form field name (Content-Disposition name). */
  name?: string;
  /** The uploaded file's name (Content-Disposition filename), when the part is a file. */
  filename?: string;
  contentType?: string;
  data: Buffer;
}

/** Parameters of a header value: `form-data; name="a"; filename="b.png"` → {name: 'a', filename: 'b.png'} (lowercase keys). */
function headerParams(value: string): Record<string, string> {
  const out: Record<string, string> = {};
  const re = /;\s*([^=;\s]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^;]*)/g;
  for (let m = re.exec(value); m; m = re.exec(value)) {
    const v = m[2].trim();
    out[m[1].toLowerCase()] = v.startsWith('"') ? v.slice(1, -1).replace(/\\(.)/g, '$1') : v;
  }
  return out;
}

/** The boundary of a `multipart/form-data; boundary=…` Content-Type, or undefined when it has none (or a bad one). */
export function multipartBoundary(contentType: string): string | undefined {
  const b = headerParams(contentType).boundary;
  // RFC 2046: 1 to 70 characters, not ending with a space.
  return b && b.length <= 70 && !b.endsWith(' ') ? b : undefined;
}

/** The parts of a multipart body. Throws MultipartError for a body that does not follow the format. */
export function parseMultipart(body: Buffer, boundary: string): MultipartPart[] {
  const delim = Buffer.from(`--${boundary}`, 'latin1');
  const next = Buffer.from(`\r\n--${boundary}`, 'latin1');
  let at = body.indexOf(delim);
  // The first delimiter starts the body or follows a preamble line.
  if (at < 0 || (at > 0 && body[at - 1] !== 0x0a)) throw new MultipartError(`the body does not start with the boundary "--${boundary}" named in the Content-Type header`);
  const parts: MultipartPart[] = [];
  for (;;) {
    at += delim.length;
    if (body[at] === 0x2d && body[at + 1] === 0x2d) break; // "--": the closing delimiter
    while (body[at] === 0x20 || body[at] === 0x09) at++; // transport padding
    if (body[at] !== 0x0d || body[at + 1] !== 0x0a) throw new MultipartError(`part ${parts.length + 1}: the boundary line is not followed by a line break`);
    at += 2;
    const headEnd = body.indexOf('\r\n\r\n', at, 'latin1');
    const end = body.indexOf(next, at);
    if (end < 0) throw new MultipartError(`part ${parts.length + 1} is not closed by the boundary (the body is cut off, or the closing "--${boundary}--" is missing)`);
    if (headEnd < 0 || headEnd > end) throw new MultipartError(`part ${parts.length + 1} has no blank line between its headers and its content`);
    const headers = body.subarray(at, headEnd).toString('utf8').split('\r\n');
    const part: MultipartPart = { data: body.subarray(headEnd + 4, Math.max(headEnd + 4, end)) };
    let disposition = false;
    for (const line of headers) {
      const i = line.indexOf(':');
      if (i <= 0) throw new MultipartError(`part ${parts.length + 1} has a malformed header line "${line.slice(0, 60)}"`);
      const key = line.slice(0, i).trim().toLowerCase();
      const value = line.slice(i + 1).trim();
      if (key === 'content-disposition') {
        if (!/^form-data\s*(;|$)/i.test(value)) throw new MultipartError(`part ${parts.length + 1}: Content-Disposition must be "form-data", not "${value.slice(0, 60)}"`);
        disposition = true;
        const p = headerParams(value);
        part.name = p.name;
        if (p.filename !== undefined) part.filename = p.filename;
      } else if (key === 'content-type') part.contentType = value;
    }
    if (!disposition) throw new MultipartError(`part ${parts.length + 1} has no Content-Disposition header (form-data; name="…")`);
    parts.push(part);
    at = end + 2; // at the next "--boundary"
  }
  if (!parts.length) throw new MultipartError('the body has no parts');
  return parts;
}
