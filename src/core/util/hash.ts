import { createHash } from 'node:crypto';

export function sha256Hex(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

// 32-bit FNV-1a: the project's one non-cryptographic string hash (feature hashing,
// duplicate detection, colour slots, deterministic orders). Saved models depend on
// its exact values: never change it.
export const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

/** One FNV-1a step: mixes a 32-bit unit (code unit, code point, hash) into state `h`. Not reduced to uint32. */
export function fnvStep(h: number, unit: number): number {
  return Math.imul(h ^ unit, FNV_PRIME);
}

/** 32-bit FNV-1a over the UTF-16 code units of `s`, from state `basis`; an unsigned integer. */
export function fnv1a(s: string, basis = FNV_OFFSET): number {
  let h = basis;
  for (let i = 0; i < s.length; i++) h = fnvStep(h, s.charCodeAt(i));
  return h >>> 0;
}
