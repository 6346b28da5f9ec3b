/**
 * Lightweight encoding detection for dataset files: UTF-8 (with or without
 * BOM), UTF-16 LE/BE (BOM or zero-byte pattern), GB18030, Latin-1, or binary.
 */

export type EncodingName = 'utf-8' | 'utf-8-bom' | 'utf-16le' | 'utf-16be' | 'gb18030' | 'windows-1252' | 'binary';

export interface Decoded {
  encoding: EncodingName;
  /** null when the bytes are not text. */
  text: string | null;
}

/** Encodings that count as "UTF-8" when looking for the odd one out. */
export function encodingFamily(e: EncodingName): string {
  return e === 'utf-8-bom' ? 'utf-8' : e;
}

export function encodingLabel(e: EncodingName): string {
  switch (e) {
    case 'utf-8': return 'UTF-8';
    case 'utf-8-bom': return 'UTF-8 (BOM)';
    case 'utf-16le': return 'UTF-16 LE';
    case 'utf-16be': return 'UTF-16 BE';
    case 'gb18030': return 'GB18030';
    case 'windows-1252': return 'Windows-1252';
    default: return 'binary';
  }
}

function tryDecode(label: string, buf: Uint8Array, fatal = true): string | null {
  try {
    return new TextDecoder(label, { fatal }).decode(buf);
  } catch {
    return null;
  }
}

/** Share of characters that are control characters other than tab / CR / LF / FF. */
function controlShare(text: string): number {
  if (!text.length) return 0;
  let bad = 0;
  const n = Math.min(text.length, 8192);
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if ((c < 32 && c !== 9 && c !== 10 && c !== 13 && c !== 12) || c === 0xfffd) bad++;
  }
  return bad / n;
}

export function detectEncoding(buf: Uint8Array): Decoded {
  if (buf.length >= 3 && buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf) {
    const t = tryDecode('utf-8', buf.subarray(3));
    if (t !== null && controlShare(t) < 0.05) return { encoding: 'utf-8-bom', text: t };
  }
  if (buf.length >= 2 && buf[0] === 0xff && buf[1] === 0xfe) {
    const t = tryDecode('utf-16le', buf.subarray(2), false);
    if (t !== null && controlShare(t) < 0.05) return { encoding: 'utf-16le', text: t };
  }
  if (buf.length >= 2 && buf[0] === 0xfe && buf[1] === 0xff) {
    const t = tryDecode('utf-16be', buf.subarray(2), false);
    if (t !== null && controlShare(t) < 0.05) return { encoding: 'utf-16be', text: t };
  }
  // Zero bytes: UTF-16 without BOM (zeros on one parity) or binary.
  const n = Math.min(buf.length, 8192);
  let zeroEven = 0, zeroOdd = 0;
  for (let i = 0; i < n; i++) if (buf[i] === 0) (i % 2 ? zeroOdd++ : zeroEven++);
  if (zeroEven + zeroOdd > 0) {
    const half = n / 2;
    if (n >= 4 && buf.length % 2 === 0 && zeroOdd > half * 0.3 && zeroEven < half * 0.05) {
      const t = tryDecode('utf-16le', buf, false);
      if (t !== null && controlShare(t) < 0.05) return { encoding: 'utf-16le', text: t };
    }
    if (n >= 4 && buf.length % 2 === 0 && zeroEven > half * 0.3 && zeroOdd < half * 0.05) {
      const t = tryDecode('utf-16be', buf, false);
      if (t !== null && controlShare(t) < 0.05) return { encoding: 'utf-16be', text: t };
    }
    return { encoding: 'binary', text: null };
  }
  const utf8 = tryDecode('utf-8', buf);
  if (utf8 !== null) {
    return controlShare(utf8) < 0.05 ? { encoding: 'utf-8', text: utf8 } : { encoding: 'binary', text: null };
  }
  const gb = tryDecode('gb18030', buf);
  if (gb !== null && controlShare(gb) < 0.05) {
    // Accept GB18030 when a fair share of the non-ASCII characters are CJK.
    let nonAscii = 0, cjk = 0;
    for (const ch of gb) {
      const c = ch.codePointAt(0)!;
      if (c > 127) {
        nonAscii++;
        if ((c >= 0x4e00 && c <= 0x9fff) || (c >= 0x3000 && c <= 0x303f) || (c >= 0xff00 && c <= 0xffef)) cjk++;
      }
    }
    if (nonAscii > 0 && cjk / nonAscii >= 0.6) return { encoding: 'gb18030', text: gb };
  }
  const latin = tryDecode('windows-1252', buf, false);
  if (latin !== null && controlShare(latin) < 0.02) return { encoding: 'windows-1252', text: latin };
  return { encoding: 'binary', text: null };
}
