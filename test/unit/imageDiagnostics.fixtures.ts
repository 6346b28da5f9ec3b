/** A bad image folder dataset made by the tests (for the analysis and the language-server tests of image diagnostics). */
import * as fs from 'node:fs';
import * as path from 'node:path';
import sharp from 'sharp';
import { bmp24, shapeImage } from './helpers/images';

/** A smooth, seeded picture (sums of sinusoids): different seeds give unrelated dHashes, a JPEG re-encode keeps it. */
function smoothRaw(seed: number, size = 64): Buffer {
  let a = seed * 9301 + 49297;
  const rnd = () => ((a = (a * 233280 + 49297) % 2147483647) / 2147483647);
  const waves = Array.from({ length: 3 }, () => ({ fx: (rnd() - 0.5) * 0.4, fy: (rnd() - 0.5) * 0.4, ph: rnd() * 6.28 }));
  const raw = Buffer.alloc(size * size * 3);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      for (let c = 0; c < 3; c++) {
        const w = waves[c];
        raw[(y * size + x) * 3 + c] = Math.round(127.5 + 120 * Math.sin(w.fx * x + w.fy * y + w.ph + c));
      }
    }
  }
  return raw;
}
export const smooth = (seed: number, format: 'png' | 'jpeg' = 'png', size = 64) =>
  sharp(smoothRaw(seed, size), { raw: { width: size, height: size, channels: 3 } })[format](format === 'jpeg' ? { quality: 80 } : {}).toBuffer();

export function write(root: string, rel: string, data: Buffer | string): string {
  const p = path.join(root, ...rel.split('/'));
  fs.mkdirSync(path.dirname(p), { recursive: true });
  fs.writeFileSync(p, data);
  return p;
}

/** train: circle 8 good + problems, square 2 good + a conflicting copy; test: a byte copy and a JPEG re-encode. */
export async function makeBadImageDataset(ws: string): Promise<string> {
  const root = path.join(ws, 'scans');
  for (let i = 0; i < 8; i++) write(root, `train/circle/c${i}.png`, await smooth(i + 1));
  for (let i = 0; i < 2; i++) write(root, `train/square/s${i}.png`, await smooth(100 + i));
  const c0 = fs.readFileSync(path.join(root, 'train/circle/c0.png'));
  const png = await smooth(50);
  write(root, 'train/circle/trunc.png', png.subarray(0, Math.floor(png.length / 2)));
  write(root, 'train/circle/zero.png', Buffer.alloc(0));
  write(root, 'train/circle/anim.gif', Buffer.from('GIF89a\x01\x00\x01\x00\x00\x00\x00;', 'latin1'));
  write(root, 'train/circle/tiny.png', await shapeImage('circle', 'png', 16));
  write(root, 'train/circle/zz-copy.png', c0);
  write(root, 'train/circle/garbage.jpg', Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.alloc(300, 7)]));
  // a BMP header that claims 30000 × 30000 px in 100 bytes
  const bmp = bmp24(2, 2, () => [0, 0, 0]);
  bmp.writeInt32LE(30000, 18); bmp.writeInt32LE(30000, 22);
  write(root, 'train/circle/huge-header.bmp', bmp);
  // a DICOM scan saved next to the PNGs (a .txt would make the folder a text dataset: findDatasets' rule)
  write(root, 'train/square/scan.dcm', Buffer.concat([Buffer.alloc(128), Buffer.from('DICM'), Buffer.alloc(64, 1)]));
  write(root, 'train/square/s-from-circle.png', fs.readFileSync(path.join(root, 'train/circle/c1.png')));
  write(root, 'test/circle/t0.png', await smooth(200));
  write(root, 'test/circle/copy.png', c0);
  write(root, 'test/square/t1.png', await smooth(201));
  write(root, 'test/square/reenc.jpg', await sharp(fs.readFileSync(path.join(root, 'train/square/s0.png'))).jpeg({ quality: 70 }).toBuffer());
  return root;
}
