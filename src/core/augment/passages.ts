/**
 * Two label-preserving sources of extra training rows for the few-shot head:
 *
 *  - passages: a long training text is also split at sentence ends into 2–3 consecutive passages
 *    of about equal length, each an extra example of the text's class. A note of 2,000 characters
 *    then teaches the head with several views of its wording instead of one averaged vector.
 *  - class names: a label such as "cardiology" or "B_blood" is, read as text ("blood"), a prior
 *    example of its class. Used only when the name is written in the script of the dataset
 *    (a Latin-script label says nothing about Chinese texts) and is not just a code ("1", "c2").
 *
 * Both only ever add training rows; validation and test texts are never split.
 */

interface PassageOptions {
  /** A text is split into floor(length / minChars) passages (at most maxParts); < 2 → not split. */
  minChars?: number;
  maxParts?: number;
}

/** Texts of 800+ characters are split (400 characters per passage, at most 3 passages). */
export const PASSAGE_MIN_CHARS = 400;
export const PASSAGE_MAX_PARTS = 3;
/**
 * Passages are used only while the training split has at most this many texts: they were measured
 * to help in the few-shot regime (8 texts per class), and beyond it they multiply the rows the
 * head is fitted on (minutes instead of seconds at a few hundred long texts).
 */
export const PASSAGE_MAX_TRAIN_TEXTS = 200;
/**
 * Sample weight of a passage or class-name row relative to an original text (of the same class).
 * On the development corpora weight 0.5 and 1 were within noise; 0.5 keeps the originals dominant.
 */
export const EXTRA_ROW_WEIGHT = 0.5;

/** Sentence ends: Latin and CJK full stops, question/exclamation marks, semicolons, line breaks. */
const SENTENCE_END = /(?<=[.!?;。！？；\n])\s*/u;

/**
 * Splits a long text into 2–3 consecutive passages of about equal length, cut at sentence ends
 * (a sentence is never cut). Returns [] when the text is too short or has too few sentences.
 */
export function splitPassages(text: string, o: PassageOptions = {}): string[] {
  const minChars = o.minChars ?? PASSAGE_MIN_CHARS;
  const maxParts = o.maxParts ?? PASSAGE_MAX_PARTS;
  const t = text.trim();
  const parts = Math.min(maxParts, Math.floor(t.length / minChars));
  if (parts < 2) return [];
  const sentences = t.split(SENTENCE_END).map((s) => s.trim()).filter(Boolean);
  if (sentences.length < 2) return [];
  const size = t.length / parts;
  const out: string[] = [];
  let cur = '';
  for (const s of sentences) {
    cur = cur ? `${cur} ${s}` : s;
    if (cur.length >= size) { out.push(cur); cur = ''; }
  }
  if (cur) {
    // a short tail joins the previous passage
    if (out.length && cur.length < size / 2) out[out.length - 1] += ` ${cur}`;
    else out.push(cur);
  }
  return out.length >= 2 ? out : [];
}

const CJK = /[\u3400-\u9fff\uf900-\ufaff]/u;
const LATIN = /[A-Za-z]/;

/**
 * The text of a class name used as a prior example, or null when the name is a code or is not
 * written in the dataset's script. "B_blood" → "blood", "belles_lettres" → "belles lettres".
 */
export function classNameText(label: string, language: string): string | null {
  const t = label
    .replace(/^[A-Z0-9]{1,3}[_\-.\s]+(?=\p{L}{3})/u, '') // a code prefix: "B_blood", "C10-lipids", "02 cardiology"
    .replace(/[_\-./\\]+/g, ' ')
    .replace(/([a-z])([A-Z])/g, '$1 $2')
    .replace(/\s+/g, ' ')
    .trim();
  if (language.startsWith('zh')) return CJK.test(t) ? t : null;
  if (CJK.test(t) && !LATIN.test(t)) return null; // a Chinese name says nothing about texts in another script
  // needs a word of three or more letters: "man1", "c2" and "12" are codes, not names
  return t.split(' ').some((w) => /^\p{L}{3,}$/u.test(w)) ? t.toLowerCase() : null;
}
