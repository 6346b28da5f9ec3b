/** Image augmentation: torchvision RandomAffine semantics, seeded, optional horizontal flip. */
import * as assert from 'node:assert/strict';
import sharp from 'sharp';
import { affineWarp, augmentImage, DEFAULT_AFFINE, drawAffineParams } from '../../src/core/images';
import { seededRandom } from '../../src/core/util/rng';
import { shapeImage } from './helpers/images';

async function rawOf(png: Buffer) {
  return sharp(png).raw().toBuffer({ resolveWithObject: true });
}
async function gradientPng(w: number, h: number): Promise<Buffer> {
  const raw = Buffer.alloc(w * h * 3);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) raw.set([x, y, 200], (y * w + x) * 3);
  return sharp(raw, { raw: { width: w, height: h, channels: 3 } }).png().toBuffer();
}

describe('images: augmentation', function () {
  this.timeout(20_000);

  it('the default is the seed POC\'s RandomAffine(degrees=15, translate=(0.1, 0.1), scale=(0.9, 1.1)); drawn parameters stay in range', () => {
    assert.deepEqual(DEFAULT_AFFINE, { degrees: 15, translate: [0.1, 0.1], scale: [0.9, 1.1] });
    const rand = seededRandom(3);
    const ps = Array.from({ length: 500 }, () => drawAffineParams(rand, 120, 80, { flip: true }));
    for (const p of ps) {
      assert.ok(p.angle >= -15 && p.angle <= 15, `angle ${p.angle}`);
      assert.ok(Number.isInteger(p.tx) && Math.abs(p.tx) <= 12, `tx ${p.tx}`);
      assert.ok(Number.isInteger(p.ty) && Math.abs(p.ty) <= 8, `ty ${p.ty}`);
      assert.ok(p.scale >= 0.9 && p.scale <= 1.1, `scale ${p.scale}`);
    }
    // The ranges are used, not just respected: both signs and both ends appear.
    assert.ok(Math.min(...ps.map((p) => p.angle)) < -13 && Math.max(...ps.map((p) => p.angle)) > 13);
    assert.ok(ps.some((p) => p.tx === 12) && ps.some((p) => p.tx === -12));
    const flips = ps.filter((p) => p.flipped).length;
    assert.ok(flips > 200 && flips < 300, `${flips} of 500 flipped`);
    assert.ok(drawAffineParams(seededRandom(1), 50, 50).flipped === false, 'no flip unless asked');
  });

  it('is deterministic per seed and keeps the input size', async () => {
    const png = await shapeImage('star', 'png', 72);
    const a = await augmentImage(png, 4, { seed: 11 });
    const b = await augmentImage(png, 4, { seed: 11 });
    const c = await augmentImage(png, 4, { seed: 12 });
    assert.deepEqual(a.map((x) => x.png), b.map((x) => x.png));
    assert.notDeepEqual(a.map((x) => x.params), c.map((x) => x.params));
    assert.equal(new Set(a.map((x) => x.png.toString('base64'))).size, 4, 'four different images');
    for (const x of a) {
      const m = await sharp(x.png).metadata();
      assert.deepEqual([m.format, m.width, m.height], ['png', 72, 72]);
    }
    const wide = await augmentImage(await shapeImage('circle', 'jpeg', 50), 1, { seed: 1 });
    assert.deepEqual([wide[0].width, wide[0].height], [50, 50]);
  });

  it('warps as torchvision: identity, whole-pixel shifts with fill 0, clockwise turns about the centre', async () => {
    const w = 20, h = 12;
    const { data } = await rawOf(await gradientPng(w, h));
    assert.deepEqual(affineWarp(data, w, h, 3, { angle: 0, tx: 0, ty: 0, scale: 1 }), data);
    const shifted = affineWarp(data, w, h, 3, { angle: 0, tx: 3, ty: -2, scale: 1 });
    const at = (buf: Buffer, x: number, y: number) => [...buf.subarray((y * w + x) * 3, (y * w + x) * 3 + 3)];
    assert.deepEqual(at(shifted, 5, 4), [2, 6, 200], 'moved right by 3 and up by 2');
    assert.deepEqual(at(shifted, 1, 4), [0, 0, 0], 'filled with 0 where nothing came in');
    assert.deepEqual(at(shifted, 5, h - 1), [0, 0, 0]);
    // 90° clockwise on a square image = sharp's rotate(90) (which turns clockwise).
    const sq = await gradientPng(16, 16);
    const { data: sqRaw } = await rawOf(sq);
    const turned = affineWarp(sqRaw, 16, 16, 3, { angle: 90, tx: 0, ty: 0, scale: 1 });
    assert.deepEqual(turned, await sharp(sq).rotate(90).raw().toBuffer());
    // Scale 2 keeps the centre and doubles distances from it.
    const zoom = affineWarp(sqRaw, 16, 16, 3, { angle: 0, tx: 0, ty: 0, scale: 2 });
    assert.deepEqual([...zoom.subarray((0 * 16 + 0) * 3, 3)].slice(0, 2), [4, 4]);
  });

  it('flip mirrors left–right', async () => {
    const png = await gradientPng(24, 16);
    const out = await augmentImage(png, 12, { seed: 5, flip: true, degrees: 0, translate: [0, 0], scale: [1, 1] });
    const mirrored = await sharp(png).flop().raw().toBuffer();
    const plain = (await rawOf(png)).data;
    assert.ok(out.some((o) => o.params.flipped) && out.some((o) => !o.params.flipped));
    for (const o of out) assert.deepEqual((await rawOf(o.png)).data, o.params.flipped ? mirrored : plain);
  });
});
