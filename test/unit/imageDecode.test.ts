/**
 * decode.ts: image decoding without libvips (pngjs, MozJPEG in WASM with jpeg-js for CMYK, @cwasm/webp, utif2, BMP in JS). sharp (a development
 * dependency) makes the fixtures and is the reference for orientation and lossless pixels.
 */
import * as assert from 'node:assert/strict';
import sharp from 'sharp';
import { applyOrientation, decodeImage, decodeStats, imageHeader, jpegOrientation, loadImageDecoders, pngFromRaw, toRgbOnWhite, type RawImage } from '../../src/core/images/decode';
import { bmp24 } from './helpers/images';

/** A 7 × 4 RGB image whose every pixel differs (so a wrong turn or flip shows). */
function pattern(): { data: Buffer; width: number; height: number } {
  const width = 7, height = 4;
  const data = Buffer.alloc(width * height * 3);
  for (let i = 0; i < width * height; i++) { data[3 * i] = i * 9; data[3 * i + 1] = 255 - i * 9; data[3 * i + 2] = (i * 37) % 256; }
  return { data, width, height };
}
const raw = (p: { data: Buffer; width: number; height: number }) => sharp(p.data, { raw: { width: p.width, height: p.height, channels: 3 } });
const maxDiff = (a: Uint8Array, b: Uint8Array): number => { let m = 0; for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i])); return m; };

describe('images: decoding without libvips (decode.ts)', function () {
  this.timeout(20_000);

  it('decodes lossless PNG, WebP, TIFF and BMP to the exact pixels, and reads sizes from the header alone', async () => {
    assert.doesNotThrow(() => loadImageDecoders());
    const p = pattern();
    const files: [string, Buffer][] = [
      ['png', await raw(p).png().toBuffer()],
      ['webp', await raw(p).webp({ lossless: true }).toBuffer()],
      ['tiff', await raw(p).tiff({ compression: 'lzw' }).toBuffer()],
      ['tiff', await raw(p).tiff({ compression: 'deflate' }).toBuffer()],
      ['bmp', bmp24(p.width, p.height, (x, y) => { const o = (y * p.width + x) * 3; return [p.data[o], p.data[o + 1], p.data[o + 2]]; })],
    ];
    for (const [format, bytes] of files) {
      assert.deepEqual(imageHeader(bytes), { format, width: 7, height: 4 });
      const img = decodeImage(bytes);
      assert.deepEqual([img.width, img.height, img.channels], [7, 4, 3], format);
      assert.deepEqual(Buffer.from(img.data), p.data, `${format}: pixels`);
    }
    // grey and palette PNGs come out as RGB
    const grey = decodeImage(await raw(p).greyscale().png().toBuffer());
    assert.equal(grey.channels, 3);
    assert.ok(grey.data[0] === grey.data[1] && grey.data[1] === grey.data[2]);
    const pal = decodeImage(await raw(p).png({ palette: true, colours: 256 }).toBuffer());
    assert.deepEqual([pal.width, pal.height, pal.channels], [7, 4, 3]);
  });

  it('decodes JPEG to exactly libjpeg-turbo\'s pixels (Pillow\'s and sharp\'s decoder), 4:2:0 and progressive included; grey JPEGs as RGB', async () => {
    // a colour edge: jpeg-js' own nearest-neighbour chroma upsampling differed from libjpeg-turbo by up to 112 levels here
    const art = sharp({ create: { width: 65, height: 47, channels: 3, background: '#3070c0' } })
      .composite([{ input: Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="65" height="47"><circle cx="30" cy="24" r="15" fill="#e04010"/></svg>') }]);
    const png = await art.png().toBuffer();
    for (const opts of [{ chromaSubsampling: '4:2:0' }, { chromaSubsampling: '4:4:4' }, { progressive: true }]) {
      const data = await sharp(png).jpeg({ quality: 90, ...opts }).toBuffer();
      const before = decodeStats.jpegWasm;
      const ours = decodeImage(data);
      assert.equal(decodeStats.jpegWasm, before + 1, 'decoded by MozJPEG (WASM)');
      const ref = await sharp(data).raw().toBuffer();
      assert.deepEqual([ours.width, ours.height, ours.channels], [65, 47, 3]);
      assert.equal(maxDiff(ours.data, ref), 0, `${JSON.stringify(opts)}: max difference to libjpeg-turbo`);
    }
    const data = await sharp(png).jpeg().toBuffer();
    const grey = decodeImage(await sharp(data).greyscale().jpeg().toBuffer());
    assert.equal(grey.channels, 3);
    assert.ok(grey.data[0] === grey.data[1] && grey.data[1] === grey.data[2]);
    // CMYK (4 components): libjpeg gives no RGB for it, jpeg-js decodes it
    const cmyk = await sharp(png).toColourspace('cmyk').jpeg().toBuffer();
    const before = decodeStats.jpegWasm;
    const c = decodeImage(cmyk);
    assert.deepEqual([c.width, c.height, c.channels, decodeStats.jpegWasm], [65, 47, 3, before]);
  });

  it('refuses a JPEG whose data is corrupt in the middle with libjpeg\'s reason, and decodes the next one', async () => {
    const big = { data: Buffer.alloc(160 * 120 * 3), width: 160, height: 120 };
    for (let i = 0; i < big.data.length; i++) big.data[i] = (i * 31) % 251;
    const good = await raw(big).jpeg({ quality: 90 }).toBuffer();
    const bad = Buffer.from(good);
    for (let i = Math.floor(bad.length / 3); i < bad.length - 200; i += 97) bad[i] ^= 0x55;
    assert.throws(() => decodeImage(bad), (e: Error) => /corrupt|marker|premature|huffman/i.test(e.message) && !/ExitStatus|exit\(/.test(e.message));
    assert.deepEqual(Buffer.from(decodeImage(good).data), await sharp(good).raw().toBuffer());
    // stray bytes before the end-of-image marker only make libjpeg warn ("extraneous bytes"): decoded, as Pillow does
    const stray = Buffer.concat([good.subarray(0, good.length - 2), Buffer.from([0x00, 0x11, 0x22]), good.subarray(good.length - 2)]);
    assert.deepEqual(Buffer.from(decodeImage(stray).data), await sharp(good).raw().toBuffer());
  });

  it('applies all eight EXIF orientations as sharp (libvips) and Pillow do', async () => {
    const p = pattern();
    for (let o = 1; o <= 8; o++) {
      const jpeg = await raw(p).jpeg({ quality: 100, chromaSubsampling: '4:4:4' }).withMetadata({ orientation: o }).toBuffer();
      assert.equal(jpegOrientation(jpeg), o);
      const ours = decodeImage(jpeg);
      const { data, info } = await sharp(jpeg).rotate().raw().toBuffer({ resolveWithObject: true });
      assert.deepEqual([ours.width, ours.height], [info.width, info.height], `orientation ${o}: size`);
      assert.equal(maxDiff(ours.data, data), 0, `orientation ${o}: pixels differ`);
    }
    // the mapping itself, exactly, on raw pixels: 6 turns clockwise, 8 anticlockwise
    const img: RawImage = { data: Uint8Array.from([1, 2, 3, 4, 5, 6]), width: 3, height: 2, channels: 1 as 3 };
    assert.deepEqual(Array.from(applyOrientation(img, 6).data), [4, 1, 5, 2, 6, 3]);
    assert.deepEqual(Array.from(applyOrientation(img, 8).data), [3, 6, 2, 5, 1, 4]);
  });

  it('composites alpha on white with Pillow\'s arithmetic, and keeps RGBA only where alpha is used', () => {
    const rgba: RawImage = { data: Uint8Array.from([0, 0, 0, 0, 200, 100, 50, 255, 0, 0, 0, 128, 255, 0, 0, 1]), width: 4, height: 1, channels: 4 };
    // Pillow 13: Image.alpha_composite(white, RGBA) → [(255,255,255), (200,100,50), (127,127,127), (255,254,254)]
    assert.deepEqual(Array.from(toRgbOnWhite(rgba).data), [255, 255, 255, 200, 100, 50, 127, 127, 127, 255, 254, 254]);
    const png = pngFromRaw(rgba);
    assert.deepEqual(decodeImage(png), { ...rgba, data: Buffer.from(rgba.data) });
    const opaque = pngFromRaw({ data: Uint8Array.from([1, 2, 3, 255, 4, 5, 6, 255]), width: 2, height: 1, channels: 4 });
    assert.equal(decodeImage(opaque).channels, 3);
  });

  it('refuses truncated and corrupt data in every format, and huge images before decoding them', async () => {
    const p = pattern();
    const big = { data: Buffer.alloc(120 * 90 * 3, 128), width: 120, height: 90 };
    for (let i = 0; i < big.data.length; i++) big.data[i] = (i * 31) % 251;
    const whole: Record<string, Buffer> = {
      png: await raw(big).png().toBuffer(), jpeg: await raw(big).jpeg().toBuffer(), webp: await raw(big).webp().toBuffer(),
      tiff: await raw(big).tiff().toBuffer(), bmp: bmp24(p.width, p.height, () => [1, 2, 3]),
    };
    for (const [format, bytes] of Object.entries(whole)) {
      assert.doesNotThrow(() => decodeImage(bytes), format);
      const cut = bytes.subarray(0, Math.floor(bytes.length * 0.6));
      assert.throws(() => decodeImage(cut), Error, `${format} cut to 60 % decodes`);
    }
    assert.throws(() => decodeImage(Buffer.from([0xff, 0xd8, 0xff, 0xe0, ...Array.from({ length: 300 }, (_, i) => (i * 37) % 256)])));
    assert.throws(() => decodeImage(whole.png, 100 * 90), /pixel limit exceeded: 120 × 90 px/);
    assert.throws(() => imageHeader(Buffer.from('GIF89a\x01\x00\x01\x00', 'latin1')), /GIF is not supported/);
  });
});
