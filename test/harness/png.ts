/**
 * Minimal PNG decoder (8-bit grey/RGB/RGBA, non-interlaced: what chromium's
 * screenshots are) to check that a screenshot really shows something.
 */
import * as fs from 'node:fs';
import * as zlib from 'node:zlib';

export interface DecodedPng {
  width: number;
  height: number;
  channels: number;
  /** Row-major pixels, `channels` bytes each. */
  data: Buffer;
}

export function decodePng(input: Buffer | string): DecodedPng {
  const buf = typeof input === 'string' ? fs.readFileSync(input) : input;
  const sig = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  if (buf.length < 8 || !buf.subarray(0, 8).equals(sig)) throw new Error('decodePng: not a PNG file');
  let pos = 8;
  let width = 0;
  let height = 0;
  let bitDepth = 0;
  let colorType = 0;
  let interlace = 0;
  const idat: Buffer[] = [];
  while (pos + 8 <= buf.length) {
    const len = buf.readUInt32BE(pos);
    const type = buf.toString('ascii', pos + 4, pos + 8);
    const body = buf.subarray(pos + 8, pos + 8 + len);
    if (type === 'IHDR') {
      width = body.readUInt32BE(0);
      height = body.readUInt32BE(4);
      bitDepth = body[8];
      colorType = body[9];
      interlace = body[12];
    } else if (type === 'IDAT') idat.push(body);
    else if (type === 'IEND') break;
    pos += 12 + len;
  }
  const channels = ({ 0: 1, 2: 3, 4: 2, 6: 4 } as Record<number, number>)[colorType];
  if (bitDepth !== 8 || !channels || interlace !== 0) throw new Error(`decodePng: unsupported PNG (bit depth ${bitDepth}, colour type ${colorType}, interlace ${interlace})`);
  const raw = zlib.inflateSync(Buffer.concat(idat));
  const stride = width * channels;
  const out = Buffer.alloc(stride * height);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)];
    const line = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    const cur = out.subarray(y * stride, (y + 1) * stride);
    const prev = y > 0 ? out.subarray((y - 1) * stride, y * stride) : Buffer.alloc(stride);
    for (let x = 0; x < stride; x++) {
      const a = x >= channels ? cur[x - channels] : 0;
      const b = prev[x];
      const c = x >= channels ? prev[x - channels] : 0;
      let v = line[x];
      if (filter === 1) v += a;
      else if (filter === 2) v += b;
      else if (filter === 3) v += (a + b) >> 1;
      else if (filter === 4) {
        const p = a + b - c;
        const pa = Math.abs(p - a);
        const pb = Math.abs(p - b);
        const pc = Math.abs(p - c);
        v += pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
      } else if (filter !== 0) throw new Error(`decodePng: bad filter ${filter} on row ${y}`);
      cur[x] = v & 0xff;
    }
  }
  return { width, height, channels, data: out };
}

export interface ImageStats {
  width: number;
  height: number;
  /** Distinct colours among sampled pixels. */
  distinctColors: number;
  /** Standard deviation of luminance (0–255) over sampled pixels. */
  lumaStdDev: number;
  /** Share of sampled pixels that have the most common colour. */
  dominantShare: number;
}

/** Colour statistics over (up to) ~40k evenly sampled pixels. */
export function imageStats(png: DecodedPng): ImageStats {
  const { width, height, channels, data } = png;
  const step = Math.max(1, Math.floor(Math.sqrt((width * height) / 40_000)));
  const counts = new Map<number, number>();
  let n = 0;
  let sum = 0;
  let sumSq = 0;
  for (let y = 0; y < height; y += step) {
    for (let x = 0; x < width; x += step) {
      const i = (y * width + x) * channels;
      const r = data[i];
      const g = channels >= 3 ? data[i + 1] : r;
      const b = channels >= 3 ? data[i + 2] : r;
      const key = (r << 16) | (g << 8) | b;
      counts.set(key, (counts.get(key) ?? 0) + 1);
      const l = 0.299 * r + 0.587 * g + 0.114 * b;
      sum += l;
      sumSq += l * l;
      n++;
    }
  }
  const mean = sum / n;
  return {
    width,
    height,
    distinctColors: counts.size,
    lumaStdDev: Math.sqrt(Math.max(0, sumSq / n - mean * mean)),
    dominantShare: Math.max(...counts.values()) / n,
  };
}

/** Throws when a screenshot is blank (one flat colour, or almost). */
export function assertNotBlank(file: string, min: { distinctColors?: number; lumaStdDev?: number } = {}): ImageStats {
  const stats = imageStats(decodePng(file));
  const minColors = min.distinctColors ?? 16;
  const minStd = min.lumaStdDev ?? 4;
  if (stats.distinctColors < minColors || stats.lumaStdDev < minStd || stats.dominantShare > 0.98) {
    throw new Error(`screenshot ${file} looks blank: ${JSON.stringify(stats)}`);
  }
  return stats;
}
