/**
 * On-disk embedding cache. One folder per encoder id:
 *   meta.json   { id, dim, version }
 *   rows.bin    fixed-size records, append-only: 4-byte magic "FSE1", 32-byte sha256 of the
 *               (truncated) text, dim little-endian float32
 * Each batch of new rows is one append of whole records, so concurrent writers (trainer and
 * predictor) interleave whole batches. A torn write (crash, full disk) leaves a partial or bad
 * tail record: the first open stops at the first bad record and cuts the file there.
 * The index (key → record number) is built by scanning only the keys, and caught up
 * incrementally before each lookup; rows are read by offset.
 */
import { createHash } from 'node:crypto';
import { promises as fsp, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Encoder } from './types';
import { truncate } from './util';
import { createComboEncoder } from './combo';

const MAGIC = 0x31455346; // "FSE1" little-endian
const KEY_BYTES = 32;
const HEAD_BYTES = 4 + KEY_BYTES;
const CACHE_VERSION = 1;
/** Bytes per read when scanning keys or reading runs of records. */
const READ_CHUNK_BYTES = 4 << 20;

export function cacheFolderFor(cacheDir: string, encoderId: string): string {
  const safe = encoderId.replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 80);
  const h = createHash('sha256').update(encoderId).digest('hex').slice(0, 12);
  return join(cacheDir, `${safe}-${h}`);
}

export type CachedEncoder = Encoder & { stats: { hits: number; misses: number } };

class Store {
  private index = new Map<string, number>();
  private scanned = 0; // records scanned so far
  private opened = false;
  private readonly recBytes: number;
  readonly file: string;
  constructor(readonly dir: string, readonly id: string, readonly dim: number) {
    this.recBytes = HEAD_BYTES + dim * 4;
    this.file = join(dir, 'rows.bin');
  }

  private async open(): Promise<void> {
    if (this.opened) return;
    mkdirSync(this.dir, { recursive: true });
    const metaFile = join(this.dir, 'meta.json');
    let ok = false;
    if (existsSync(metaFile)) {
      try {
        const m = JSON.parse(readFileSync(metaFile, 'utf8'));
        ok = m.id === this.id && m.dim === this.dim && m.version === CACHE_VERSION;
      } catch { ok = false; }
    }
    if (!ok || !existsSync(this.file)) {
      await fsp.writeFile(this.file, Buffer.alloc(0));
      writeFileSync(metaFile, JSON.stringify({ id: this.id, dim: this.dim, version: CACHE_VERSION }) + '\n');
    }
    this.opened = true;
    const bad = await this.catchUp();
    if (bad !== null) await fsp.truncate(this.file, bad * this.recBytes); // cut a torn tail
    else {
      const size = (await fsp.stat(this.file)).size;
      if (size !== this.scanned * this.recBytes) await fsp.truncate(this.file, this.scanned * this.recBytes);
    }
  }

  /** Reads keys of records appended since the last scan, a few MB per read. Returns the first bad record number, if any. */
  private async catchUp(): Promise<number | null> {
    const size = (await fsp.stat(this.file)).size;
    const n = Math.floor(size / this.recBytes);
    if (n <= this.scanned) return null;
    const fh = await fsp.open(this.file, 'r');
    try {
      const per = Math.max(1, Math.floor(READ_CHUNK_BYTES / this.recBytes));
      while (this.scanned < n) {
        const from = this.scanned;
        const count = Math.min(per, n - from);
        const buf = Buffer.allocUnsafe(count * this.recBytes);
        const { bytesRead } = await fh.read(buf, 0, buf.length, from * this.recBytes);
        for (let r = 0; r < count; r++) {
          const o = r * this.recBytes;
          if (o + HEAD_BYTES > bytesRead || buf.readUInt32LE(o) !== MAGIC) return from + r;
          const key = buf.toString('hex', o + 4, o + HEAD_BYTES);
          if (!this.index.has(key)) this.index.set(key, from + r);
          this.scanned = from + r + 1;
        }
      }
    } finally {
      await fh.close();
    }
    return null;
  }

  async get(keys: string[]): Promise<(Float32Array | undefined)[]> {
    await this.open();
    await this.catchUp();
    const out: (Float32Array | undefined)[] = new Array(keys.length).fill(undefined);
    const want: { i: number; row: number }[] = [];
    keys.forEach((k, i) => { const row = this.index.get(k); if (row !== undefined) want.push({ i, row }); });
    if (!want.length) return out;
    const fh = await fsp.open(this.file, 'r');
    try {
      want.sort((a, b) => a.row - b.row);
      // the records from the first to the last wanted one in reads of a few MB (one read for a dataset's own rows),
      // or one read per record when they are spread thinly over a large file
      const spanRows = want[want.length - 1].row - want[0].row + 1;
      const contiguous = spanRows <= want.length * 4;
      const per = Math.max(1, Math.floor(READ_CHUNK_BYTES / this.recBytes));
      let buf = Buffer.alloc(0);
      let first = 0; // record number at buf[0]
      let have = 0; // whole records in buf
      for (const w of want) {
        if (w.row < first || w.row >= first + have) {
          first = w.row;
          const count = contiguous ? Math.min(per, want[want.length - 1].row - w.row + 1) : 1;
          if (buf.length < count * this.recBytes) buf = Buffer.allocUnsafe(count * this.recBytes);
          const { bytesRead } = await fh.read(buf, 0, count * this.recBytes, first * this.recBytes);
          have = Math.floor(bytesRead / this.recBytes);
          if (have < 1) continue;
        }
        const o = (w.row - first) * this.recBytes;
        // copy into an aligned buffer
        if (buf.readUInt32LE(o) === MAGIC) out[w.i] = new Float32Array(buf.buffer.slice(buf.byteOffset + o + HEAD_BYTES, buf.byteOffset + o + this.recBytes));
      }
    } finally {
      await fh.close();
    }
    return out;
  }

  async put(entries: { key: string; vec: Float32Array }[]): Promise<void> {
    await this.open();
    const seen = new Set<string>();
    const fresh = entries.filter((e) => e.vec.length === this.dim && !this.index.has(e.key) && !seen.has(e.key) && seen.add(e.key));
    if (!fresh.length) return;
    const buf = Buffer.alloc(fresh.length * this.recBytes);
    fresh.forEach((e, k) => {
      const o = k * this.recBytes;
      buf.writeUInt32LE(MAGIC, o);
      buf.write(e.key, o + 4, 'hex');
      Buffer.from(e.vec.buffer, e.vec.byteOffset, this.dim * 4).copy(buf, o + HEAD_BYTES);
    });
    await fsp.appendFile(this.file, buf); // one write of whole records
  }
}

/**
 * Wraps an encoder with the on-disk cache in `cacheDir` (e.g. `<workspace>/.fewshot/cache/embeddings`).
 * Keyed by encoder id + sha256 of the (truncated) text. Only misses reach the wrapped encoder,
 * in one call per `embed`. Encoders with `cacheable === false` are passed through (every text counts as a miss).
 */
export function withEmbeddingCache(encoder: Encoder, cacheDir: string): CachedEncoder {
  const stats = { hits: 0, misses: 0 };
  if (encoder.parts?.length) {
    // Combo: cache each part on its own (e.g. USE-lite rows are reused by 'use' and by every
    // combo with it; hashing parts are recomputed). A text counts as a hit when all cached parts hit.
    const parts = encoder.parts.map((p) => ({ encoder: withEmbeddingCache(p.encoder, cacheDir), weight: p.weight }));
    const cachedParts = parts.filter((p) => p.encoder.cacheable !== false);
    const inner = createComboEncoder(parts);
    return {
      ...inner,
      id: encoder.id,
      stats,
      async embed(texts, onProgress) {
        const before = cachedParts.map((p) => p.encoder.stats.hits);
        const out = await inner.embed(texts, onProgress);
        const hits = cachedParts.length ? Math.min(...cachedParts.map((p, i) => p.encoder.stats.hits - before[i])) : 0;
        stats.hits += hits;
        stats.misses += texts.length - hits;
        return out;
      },
      ...(inner.embedSparse ? {
        async embedSparse(texts: string[], onProgress?: (done: number, total: number) => void) {
          const before = cachedParts.map((p) => p.encoder.stats.hits);
          const out = await inner.embedSparse!(texts, onProgress);
          const hits = cachedParts.length ? Math.min(...cachedParts.map((p, i) => p.encoder.stats.hits - before[i])) : 0;
          stats.hits += hits;
          stats.misses += texts.length - hits;
          return out;
        },
      } : {}),
    };
  }
  const store = new Store(cacheFolderFor(cacheDir, encoder.id), encoder.id, encoder.dim);
  let chain: Promise<unknown> = Promise.resolve();
  const serial = <T>(fn: () => Promise<T>): Promise<T> => {
    const p = chain.then(fn, fn);
    chain = p.catch(() => undefined);
    return p;
  };
  const wrapped: CachedEncoder = {
    id: encoder.id,
    dim: encoder.dim,
    maxChars: encoder.maxChars,
    cacheable: encoder.cacheable,
    stats,
    ...(encoder.preload ? { preload: () => encoder.preload!() } : {}),
    // sparse rows are never cached (only uncacheable feature-hashing encoders have them)
    ...(encoder.embedSparse && encoder.cacheable === false ? {
      embedSparse(texts: string[], onProgress?: (done: number, total: number) => void) {
        stats.misses += texts.length;
        return encoder.embedSparse!(texts, onProgress);
      },
    } : {}),
    async embed(texts, onProgress) {
      if (encoder.cacheable === false) {
        stats.misses += texts.length;
        return encoder.embed(texts, onProgress);
      }
      const keys = texts.map((t) => createHash('sha256').update(truncate(t ?? '', encoder.maxChars)).digest('hex'));
      const found = await serial(() => store.get(keys));
      const missIdx: number[] = [];
      found.forEach((v, i) => { if (!v) missIdx.push(i); });
      const hits = texts.length - missIdx.length;
      stats.hits += hits;
      stats.misses += missIdx.length;
      onProgress?.(hits, texts.length);
      if (missIdx.length) {
        // embed each distinct missing text once
        const uniq = new Map<string, number>();
        const uniqTexts: string[] = [];
        for (const i of missIdx) if (!uniq.has(keys[i])) { uniq.set(keys[i], uniqTexts.length); uniqTexts.push(texts[i]); }
        const vecs = await encoder.embed(uniqTexts, (d, t) => onProgress?.(hits + Math.round((d / Math.max(1, t)) * missIdx.length), texts.length));
        for (const i of missIdx) found[i] = vecs[uniq.get(keys[i])!];
        const entries = [...uniq.entries()].map(([key, j]) => ({ key, vec: vecs[j] }));
        await serial(() => store.put(entries));
      }
      onProgress?.(texts.length, texts.length);
      return found as Float32Array[];
    },
    dispose() {
      encoder.dispose?.();
    },
  };
  return wrapped;
}
