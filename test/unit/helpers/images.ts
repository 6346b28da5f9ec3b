/** Images made by the tests themselves (sharp from SVG), in temp folders. */
import sharp from 'sharp';

export type Shape = 'circle' | 'square' | 'triangle' | 'star';

/** An SVG of one shape on a plain background. */
export function shapeSvg(shape: Shape, size = 64, opts: { fill?: string; bg?: string; dx?: number } = {}): string {
  const { fill = '#c03020', bg = '#f0f0e8', dx = 0 } = opts;
  const c = size / 2 + dx, r = size * 0.3;
  const body = {
    circle: `<circle cx="${c}" cy="${size / 2}" r="${r}"/>`,
    square: `<rect x="${c - r}" y="${size / 2 - r}" width="${2 * r}" height="${2 * r}"/>`,
    triangle: `<polygon points="${c},${size / 2 - r} ${c + r},${size / 2 + r} ${c - r},${size / 2 + r}"/>`,
    star: `<polygon points="${Array.from({ length: 10 }, (_, i) => { const a = (Math.PI * i) / 5 - Math.PI / 2; const q = i % 2 ? r * 0.45 : r; return `${c + q * Math.cos(a)},${size / 2 + q * Math.sin(a)}`; }).join(' ')}"/>`,
  }[shape];
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${size}" height="${size}"><rect width="100%" height="100%" fill="${bg}"/><g fill="${fill}">${body}</g></svg>`;
}

export async function shapeImage(shape: Shape, format: 'png' | 'jpeg' | 'webp' | 'tiff' = 'png', size = 64, opts: { fill?: string; bg?: string; dx?: number } = {}): Promise<Buffer> {
  return sharp(Buffer.from(shapeSvg(shape, size, opts)))[format]().toBuffer();
}

/** A 24-bit uncompressed BMP (bottom-up) whose pixel (x, y) is [r, g, b] = f(x, y). */
export function bmp24(w: number, h: number, f: (x: number, y: number) => [number, number, number]): Buffer {
  const row = Math.ceil((w * 3) / 4) * 4;
  const b = Buffer.alloc(54 + row * h);
  b.write('BM', 0); b.writeUInt32LE(b.length, 2); b.writeUInt32LE(54, 10); b.writeUInt32LE(40, 14);
  b.writeInt32LE(w, 18); b.writeInt32LE(h, 22); b.writeUInt16LE(1, 26); b.writeUInt16LE(24, 28); b.writeUInt32LE(row * h, 34);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const [r, g, bl] = f(x, y);
      const o = 54 + (h - 1 - y) * row + x * 3;
      b[o] = bl; b[o + 1] = g; b[o + 2] = r;
    }
  }
  return b;
}
