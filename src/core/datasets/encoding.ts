/**
 * Text encoding detection for dataset files: BOMs (UTF-8, UTF-16 LE/BE), then a
 * strict UTF-8 check, then GB18030/GBK when it decodes cleanly and looks like CJK.
 * Anything else (NUL bytes, undecodable bytes, mostly control characters) is 'binary'.
 */

export type DetectedEncoding = { encoding: string; text: string } | { encoding: 'binary'; text: null };

export interface DetectOptions {
  /** The buffer was cut at an arbitrary byte (a file prefix): tolerate a partial last character. */
  truncated?: boolean;
}

function tryDecode(label: string, buf: Uint8Array): string | null {
  try {
    return new TextDecoder(label, { fatal: true }).decode(buf);
  } catch {
    return null;
  }
}

/** Decode, and when the input was truncated, retry with up to 3 trailing bytes removed. */
function decodeMaybeTruncated(label: string, buf: Uint8Array, truncated: boolean, unit = 1): string | null {
  const maxDrop = truncated ? 3 : 0;
  for (let drop = 0; drop <= maxDrop; drop += unit) {
    if (drop > buf.length) break;
    const t = tryDecode(label, drop ? buf.subarray(0, buf.length - drop) : buf);
    if (t !== null) return t;
  }
  return null;
}

function isCjk(cp: number): boolean {
  return (cp >= 0x4e00 && cp <= 0x9fff) || (cp >= 0x3400 && cp <= 0x4dbf) || (cp >= 0x20000 && cp <= 0x2ebef) ||
    (cp >= 0xf900 && cp <= 0xfaff) || (cp >= 0x3000 && cp <= 0x303f) || (cp >= 0xff00 && cp <= 0xffef) ||
    (cp >= 0x3040 && cp <= 0x30ff) || (cp >= 0x2e80 && cp <= 0x2fdf) || (cp >= 0x3100 && cp <= 0x312f);
}

/** Share of C0 control characters other than tab/newline/CR/FF/VT/ESC. */
function controlShare(text: string): number {
  if (!text.length) return 0;
  let bad = 0;
  const n = Math.min(text.length, 65536);
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if ((c < 0x20 && c !== 9 && c !== 10 && c !== 13 && c !== 12 && c !== 11 && c !== 27) || c === 0x7f || c === 0xfffd) bad++;
  }
  return bad / n;
}

/**
 * Text that decoded strictly (UTF-8, UTF-16 with a BOM) is binary only when it holds NUL or is
 * mostly control characters: a stray backspace or bell pasted into a note stays text. A GB18030
 * guess is looser, so there a few control characters already mean "not text".
 */
function checked(encoding: string, text: string | null, maxControlShare = 0.3): DetectedEncoding {
  if (text === null || text.includes('\u0000') || controlShare(text) > maxControlShare) return { encoding: 'binary', text: null };
  return { encoding, text };
}

/** Detect the encoding of `buf` and decode it (BOM removed). */
export function detectEncoding(buf: Buffer | Uint8Array, opts: DetectOptions = {}): DetectedEncoding {
  const truncated = !!opts.truncated;
  if (buf.length >= 3 && buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf) {
    return checked('utf-8-bom', decodeMaybeTruncated('utf-8', buf.subarray(3), truncated));
  }
  if (buf.length >= 2 && buf[0] === 0xff && buf[1] === 0xfe) {
    const body = buf.subarray(2, 2 + ((buf.length - 2) & ~1));
    return checked('utf-16le', truncated ? decodeMaybeTruncated('utf-16le', body, true, 2) : tryDecode('utf-16le', buf.subarray(2)));
  }
  if (buf.length >= 2 && buf[0] === 0xfe && buf[1] === 0xff) {
    const body = buf.subarray(2, 2 + ((buf.length - 2) & ~1));
    return checked('utf-16be', truncated ? decodeMaybeTruncated('utf-16be', body, true, 2) : tryDecode('utf-16be', buf.subarray(2)));
  }
  if (buf.indexOf(0) !== -1) return { encoding: 'binary', text: null };
  const utf8 = decodeMaybeTruncated('utf-8', buf, truncated);
  if (utf8 !== null) return checked('utf-8', utf8);
  const gb = decodeMaybeTruncated('gb18030', buf, truncated);
  if (gb !== null) {
    // Latin-1/Windows-1252 text often "decodes" as GB18030 too; require that most
    // non-ASCII characters are CJK.
    let nonAscii = 0;
    let cjk = 0;
    for (const ch of gb) {
      const cp = ch.codePointAt(0)!;
      if (cp < 0x80) continue;
      nonAscii++;
      if (isCjk(cp)) cjk++;
    }
    if (nonAscii > 0 && cjk / nonAscii >= 0.7) return checked('gb18030', gb, 0.01);
  }
  return { encoding: 'binary', text: null };
}

/** Display name of a detected encoding ('utf-8-bom' → 'UTF-8 (BOM)'). */
export function encodingLabel(e: string): string {
  const names: Record<string, string> = { 'utf-8': 'UTF-8', 'utf-8-bom': 'UTF-8 (BOM)', 'utf-16le': 'UTF-16 LE', 'utf-16be': 'UTF-16 BE', gb18030: 'GB18030' };
  return names[e] ?? e;
}

/** Encodings that count as the same when looking for the odd file out (UTF-8 with and without BOM). */
export function encodingFamily(e: string): string {
  return e === 'utf-8-bom' ? 'utf-8' : e;
}

/** Counts used by the language guess. */
export function scriptCounts(text: string, limit = 200_000): { cjk: number; latin: number; letters: number } {
  let cjk = 0, latin = 0, letters = 0;
  let i = 0;
  for (const ch of text) {
    if (++i > limit) break;
    const cp = ch.codePointAt(0)!;
    if ((cp >= 0x41 && cp <= 0x5a) || (cp >= 0x61 && cp <= 0x7a) || (cp >= 0xc0 && cp <= 0x24f && cp !== 0xd7 && cp !== 0xf7)) { latin++; letters++; }
    else if ((cp >= 0x4e00 && cp <= 0x9fff) || (cp >= 0x3400 && cp <= 0x4dbf) || (cp >= 0x20000 && cp <= 0x2ebef) || (cp >= 0xf900 && cp <= 0xfaff)) { cjk++; letters++; }
    else if (/\p{L}/u.test(ch)) letters++;
  }
  return { cjk, latin, letters };
}

/**
 * 'zh' when a high share of the letters are Han characters (Chinese notes often mix
 * in English abbreviations; one Han character carries about a word, so 30% is high),
 * 'en' when letters are mostly Latin, else 'other'.
 */
export function guessLanguage(texts: Iterable<string>): 'en' | 'zh' | 'other' {
  let cjk = 0, latin = 0, letters = 0, budget = 400_000;
  for (const t of texts) {
    const c = scriptCounts(t, budget);
    cjk += c.cjk; latin += c.latin; letters += c.letters;
    budget -= t.length;
    if (budget <= 0) break;
  }
  if (!letters) return 'other';
  if (cjk / letters >= 0.3) return 'zh';
  if (latin / letters >= 0.7) return 'en';
  return 'other';
}
