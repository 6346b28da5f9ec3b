#!/usr/bin/env node
// Makes samples/shapes/: a small image dataset of rendered shapes (circle, square, star, triangle), 12 training and
// 6 test images per class, 96 × 96 PNG. Deterministic: the same seed writes the same files.
//   node scripts/samples/make_shapes.mjs [--out samples/shapes] [--seed 17]
// Variation per image: position, size, rotation, fill colour and outline, a smooth noisy background texture of
// random colour, a few faint distractor strokes and pixel noise, so that the task is learnable but not trivial.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';

const root = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const args = process.argv.slice(2);
const opt = (name, dflt) => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : dflt; };
const out = resolve(root, opt('--out', 'samples/shapes'));
const seed = Number(opt('--seed', '17'));
const SIZE = 96;
const CLASSES = ['circle', 'square', 'star', 'triangle'];
const PER_SPLIT = { train: 12, test: 6 };

// mulberry32, as src/core/util/rng.ts.
function rng(s) {
  let a = (s ^ 0x9e3779b9) >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const rand = rng(seed);
const uni = (a, b) => a + (b - a) * rand();
const hsl = (h, s, l) => `hsl(${h.toFixed(0)},${s.toFixed(0)}%,${l.toFixed(0)}%)`;

function shapePath(shape, cx, cy, r) {
  const poly = (pts) => `<polygon points="${pts.map(([x, y]) => `${x.toFixed(1)},${y.toFixed(1)}`).join(' ')}"/>`;
  const ring = (n, radius) => Array.from({ length: n }, (_, i) => { const a = (2 * Math.PI * i) / n - Math.PI / 2; return [cx + radius(i) * Math.cos(a), cy + radius(i) * Math.sin(a)]; });
  switch (shape) {
    case 'circle': return `<ellipse cx="${cx.toFixed(1)}" cy="${cy.toFixed(1)}" rx="${r.toFixed(1)}" ry="${(r * uni(0.85, 1)).toFixed(1)}"/>`;
    case 'square': return poly(ring(4, () => r * 1.25));
    case 'triangle': return poly(ring(3, () => r * 1.3));
    case 'star': { const inner = uni(0.38, 0.55); return poly(ring(10, (i) => (i % 2 ? r * 1.25 * inner : r * 1.25))); }
    default: throw new Error(shape);
  }
}

async function render(shape) {
  // Background: a smooth random texture (a 6 × 6 grid of colours around one hue, upscaled) …
  const bgHue = uni(0, 360), bgLight = uni(62, 88);
  const grid = Buffer.alloc(6 * 6 * 3);
  for (let i = 0; i < 36; i++) {
    const l = bgLight + uni(-10, 10);
    const [r, g, b] = hslToRgb(bgHue + uni(-25, 25), uni(10, 35), l);
    grid[i * 3] = r; grid[i * 3 + 1] = g; grid[i * 3 + 2] = b;
  }
  const bg = await sharp(grid, { raw: { width: 6, height: 6, channels: 3 } }).resize(SIZE, SIZE, { kernel: 'cubic' }).png().toBuffer();
  // … a few faint strokes, then the shape.
  const strokes = Array.from({ length: Math.floor(uni(1, 4)) }, () =>
    `<line x1="${uni(0, SIZE).toFixed(0)}" y1="${uni(0, SIZE).toFixed(0)}" x2="${uni(0, SIZE).toFixed(0)}" y2="${uni(0, SIZE).toFixed(0)}" stroke="${hsl(uni(0, 360), 30, uni(30, 60))}" stroke-opacity="${uni(0.15, 0.4).toFixed(2)}" stroke-width="${uni(1, 3).toFixed(1)}"/>`).join('');
  const r = uni(14, 26);
  const cx = uni(r + 6, SIZE - r - 6), cy = uni(r + 6, SIZE - r - 6);
  const fill = hsl(uni(0, 360), uni(45, 85), uni(25, 50));
  const outline = rand() < 0.5 ? `stroke="${hsl(uni(0, 360), 40, 20)}" stroke-width="${uni(1, 3).toFixed(1)}"` : '';
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${SIZE}" height="${SIZE}">${strokes}` +
    `<g transform="rotate(${uni(0, 360).toFixed(1)} ${cx.toFixed(1)} ${cy.toFixed(1)})" fill="${fill}" fill-opacity="${uni(0.8, 1).toFixed(2)}" ${outline}>${shapePath(shape, cx, cy, r)}</g></svg>`;
  const composed = await sharp(bg).composite([{ input: Buffer.from(svg) }]).raw().toBuffer({ resolveWithObject: true });
  // Speckle noise: a sparse sprinkle of darker or lighter pixels (dense per-pixel noise would triple the PNG size).
  const px = composed.data, ch = composed.info.channels;
  for (let p = 0; p < SIZE * SIZE; p++) {
    if (rand() >= 0.04) continue;
    const d = Math.round(uni(-40, 40));
    for (let c = 0; c < 3; c++) px[p * ch + c] = Math.max(0, Math.min(255, px[p * ch + c] + d));
  }
  return sharp(px, { raw: composed.info }).removeAlpha().png({ compressionLevel: 9, palette: true, colours: 96, dither: 0.6 }).toBuffer();
}

function hslToRgb(h, s, l) {
  h = ((h % 360) + 360) % 360; s /= 100; l /= 100;
  const k = (n) => (n + h / 30) % 12, a = s * Math.min(l, 1 - l);
  const f = (n) => l - a * Math.max(-1, Math.min(k(n) - 3, Math.min(9 - k(n), 1)));
  return [f(0), f(8), f(4)].map((v) => Math.round(v * 255));
}

rmSync(join(out, 'train'), { recursive: true, force: true });
rmSync(join(out, 'test'), { recursive: true, force: true });
let bytes = 0, count = 0;
for (const [split, n] of Object.entries(PER_SPLIT)) {
  for (const shape of CLASSES) {
    const dir = join(out, split, shape);
    mkdirSync(dir, { recursive: true });
    for (let i = 1; i <= n; i++) {
      const png = await render(shape);
      writeFileSync(join(dir, `${shape}_${String(i).padStart(2, '0')}.png`), png);
      bytes += png.length; count++;
    }
  }
}
console.log(`make_shapes: ${count} images, ${(bytes / 1024).toFixed(0)} KB in ${out} (seed ${seed})`);
