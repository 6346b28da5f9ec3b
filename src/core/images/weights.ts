/**
 * The packed image encoder (scripts/models/pack_onnx_hilo.py): models/<name>/graph.onnx, whose float initializers
 * are ONNX external data in weights.bin, and weights.hilo, from which weights.bin is rebuilt here at first use:
 * w = fround(fp16(hi) + fround(lo · scale)), one float32 scale per output channel (weights.json lists the tensors).
 * The rebuilt pair (model.onnx + weights.bin) goes into a cache folder named by the weights' sha256, written
 * atomically (a temporary folder renamed into place) and checked against weights.json's sha256 before use, so a
 * partial or altered copy is rebuilt instead of loaded.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { FewShotError, errorMessage } from '../errors';

interface PackedInfo {
  format: string;
  params: number;
  scales: number;
  weightsBytes: number;
  weightsSha256: string;
  tensors: { name: string; count: number; channels: number }[];
}

/** True when the folder holds the packed form (graph.onnx + weights.hilo + weights.json). */
export function isPackedModel(folder: string): boolean {
  return ['graph.onnx', 'weights.hilo', 'weights.json'].every((f) => fs.existsSync(path.join(folder, f)));
}

/** Where rebuilt models go by default: FEWSHOT_MODEL_CACHE, else <os tmp>/fewshot-lab-models. */
export function defaultModelCache(): string {
  return process.env.FEWSHOT_MODEL_CACHE || path.join(os.tmpdir(), 'fewshot-lab-models');
}

const F16 = new Float32Array(65536);
for (let h = 0; h < 65536; h++) {
  const sign = h & 0x8000 ? -1 : 1, exp = (h >> 10) & 31, frac = h & 1023;
  F16[h] = exp === 0 ? sign * frac * 2 ** -24 : exp === 31 ? (frac ? NaN : sign * Infinity) : sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

/** weights.bin's bytes from weights.hilo (little-endian float32, tensors in weights.json's order). */
export function unpackWeights(hilo: Buffer, info: PackedInfo): Buffer {
  const n = info.params;
  if (hilo.length !== 3 * n + 4 * info.scales) throw new Error(`weights.hilo is ${hilo.length} bytes, expected ${3 * n + 4 * info.scales}`);
  const out = Buffer.alloc(4 * n);
  const w = new Float32Array(out.buffer, out.byteOffset, n);
  const scales = new Float32Array(info.scales);
  for (let i = 0; i < info.scales; i++) scales[i] = hilo.readFloatLE(3 * n + 4 * i);
  let i = 0, s = 0;
  for (const t of info.tensors) {
    const per = t.count / t.channels;
    for (let c = 0; c < t.channels; c++, s++) {
      const scale = scales[s];
      for (let k = 0; k < per; k++, i++) {
        const lo = hilo[2 * n + i] << 24 >> 24;
        w[i] = F16[hilo[i] | (hilo[n + i] << 8)] + Math.fround(lo * scale);
      }
    }
  }
  if (i !== n || s !== info.scales) throw new Error(`weights.json lists ${i} weights and ${s} scales, expected ${n} and ${info.scales}`);
  return out;
}

function sha256(b: Buffer): string { return createHash('sha256').update(b).digest('hex'); }

/**
 * The path of a loadable model.onnx for a packed model folder: the cached rebuild when its weights' sha256 matches,
 * else rebuilt now into `cacheDir` (default defaultModelCache()). Throws a FewShotError naming the file on bad input.
 */
export function materialiseModel(folder: string, cacheDir = defaultModelCache()): string {
  const infoFile = path.join(folder, 'weights.json');
  let info: PackedInfo;
  try {
    info = JSON.parse(fs.readFileSync(infoFile, 'utf8')) as PackedInfo;
    if (info.format !== 'fp16+int8-per-channel' || !Array.isArray(info.tensors)) throw new Error(`unknown format "${info.format}"`);
  } catch (e) {
    throw new FewShotError(`The image encoder's ${infoFile} is invalid: ${errorMessage(e)}`, {
      file: infoFile, code: 'model-invalid', fix: 'Reinstall the extension, or rebuild the folder with scripts/models/convert_image_encoder.py.' });
  }
  const target = path.join(cacheDir, `${path.basename(folder)}-${info.weightsSha256.slice(0, 16)}`);
  const model = path.join(target, 'model.onnx');
  try {
    if (fs.existsSync(model) && sha256(fs.readFileSync(path.join(target, 'weights.bin'))) === info.weightsSha256) return model;
  } catch { /* rebuilt below */ }
  const hiloFile = path.join(folder, 'weights.hilo');
  let weights: Buffer;
  try {
    weights = unpackWeights(fs.readFileSync(hiloFile), info);
  } catch (e) {
    throw new FewShotError(`The image encoder's weights ${hiloFile} could not be read: ${errorMessage(e)}`, {
      file: hiloFile, code: 'model-invalid', fix: 'Reinstall the extension, or rebuild the folder with scripts/models/convert_image_encoder.py.' });
  }
  if (sha256(weights) !== info.weightsSha256) {
    throw new FewShotError(`The image encoder's weights ${hiloFile} do not match the sha256 in ${infoFile} (the file is damaged).`, {
      file: hiloFile, code: 'model-invalid', fix: 'Reinstall the extension, or rebuild the folder with scripts/models/convert_image_encoder.py.' });
  }
  try {
    fs.mkdirSync(cacheDir, { recursive: true });
    const tmp = fs.mkdtempSync(path.join(cacheDir, '.tmp-'));
    fs.writeFileSync(path.join(tmp, 'weights.bin'), weights);
    fs.copyFileSync(path.join(folder, 'graph.onnx'), path.join(tmp, 'model.onnx'));
    fs.rmSync(target, { recursive: true, force: true });
    try {
      fs.renameSync(tmp, target);
    } catch (e) {
      // another process put a complete copy there first: use it
      fs.rmSync(tmp, { recursive: true, force: true });
      if (!fs.existsSync(model)) throw e;
    }
  } catch (e) {
    throw new FewShotError(`Could not write the image encoder's weights into ${cacheDir}: ${errorMessage(e)}`, {
      file: cacheDir, code: 'model-cache', fix: 'Free some disk space, or set FEWSHOT_MODEL_CACHE to a writable folder.' });
  }
  return model;
}
