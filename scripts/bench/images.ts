/**
 * `npm run bench -- --images [--data <image folder>] [--k 4,8,16] [--seeds 5] [--test-per-class 30] [--augment 4]
 *   [--pixels 16] [--encoder efficientnet-lite0] [--no-cache] [--out bench-results]`   (issue 17)
 *
 * Few-shot image classification: K training images per class (seeded; the text bench's sampleK), a fixed test set of
 * up to --test-per-class images per class (fixedTestSplit, seed 0; a given test/ folder is kept as the test side),
 * every image embedded once by the pretrained image encoder (createImageEncoder; embeddings cached in memory and in
 * .cache/bench/image-embeddings/<encoder id>/ by SHA-256 of the bytes embedded). Columns, same splits, same run:
 *   - "FSL default": the default few-shot head (fitFewShot) on the embeddings;
 *   - "FSL default + augment": the same, plus --augment RandomAffine variants of every training image (augmentImage with
 *     the seed POC's values, DEFAULT_AFFINE; seeded per image by its content) as extra rows of weight EXTRA_ROW_WEIGHT
 *     (the text recipe's weight for extra rows), final fit only;
 *   - "LR <encoder>": scikit-learn LogisticRegression(max_iter=2000) on the identical embedding matrices;
 *   - "LR raw pixels": the same on the raw pixels (grayscale, resized nearest-neighbour to --pixels², scaled to 0–1).
 * Plus images/s embedded (decode, preprocessing and the CNN, batch 16, after one warm-up batch).
 * Without --data the digits corpus is generated first (scripts/bench/images_corpus.py: scikit-learn's load_digits as
 * 64×64 PNGs in bench-results/tmp/digits).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { fixedTestSplit, rng, sampleK, type Item } from './corpora';
import { fmt, machineInfo, mean, nodeVersions, sklearnPython, std, writeReport } from './report';
import { augmentImage, DEFAULT_AFFINE, loadImageDataset, loadSharp, type ImageSample } from '../../src/core/images';
import { createImageEncoder } from '../../src/core/images/encoder';
import { EXTRA_ROW_WEIGHT } from '../../src/core/augment';
import { FewShotError, isFewShotError } from '../../src/core/errors';
import { fitFewShot } from '../../src/core/fewshot';
import { macroF1 } from '../../src/core/metrics';
import { sha256Hex } from '../../src/core/util/hash';
import { shuffleInPlace } from '../../src/core/util/rng';

export interface ImagesArgs {
  data?: string; ks: number[]; seeds: number; testPerClass: number; augment: number; pixels: number; encoder: string; cache: boolean; out: string;
}

export function parseImagesArgs(argv: string[]): ImagesArgs {
  const a: ImagesArgs = { ks: [4, 8, 16], seeds: 5, testPerClass: 30, augment: 4, pixels: 16, encoder: 'efficientnet-lite0', cache: true, out: 'bench-results' };
  const num = (flag: string, v: string | undefined, min: number) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min) throw new FewShotError(`${flag} needs a whole number ≥ ${min}, got "${v ?? ''}"`, { fix: `e.g. ${flag} ${flag === '--k' ? '4,8,16' : min + 1}` });
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const v = argv[i];
    if (v === '--data') a.data = argv[++i];
    else if (v === '--k') a.ks = (argv[++i] ?? '').split(',').map((k) => num('--k', k, 1));
    else if (v === '--seeds') a.seeds = num('--seeds', argv[++i], 1);
    else if (v === '--test-per-class') a.testPerClass = num('--test-per-class', argv[++i], 1);
    else if (v === '--augment') a.augment = num('--augment', argv[++i], 0);
    else if (v === '--pixels') a.pixels = num('--pixels', argv[++i], 1);
    else if (v === '--encoder') a.encoder = argv[++i];
    else if (v === '--no-cache') a.cache = false;
    else if (v === '--out') a.out = argv[++i];
    else throw new FewShotError(`unknown argument ${v}`, { fix: 'see npm run bench -- --help, or the header of scripts/bench/images.ts' });
  }
  return a;
}

/** Image samples as the text bench's items (text = file path; group = the file-name group, else the file). */
export function imageItems(samples: readonly ImageSample[]): Item[] {
  return samples.map((s) => ({ text: s.file, label: s.label, group: s.group ?? s.file }));
}

/**
 * The bench's fixed test side and training pool: a given test/ folder stays the test side (capped at perClass per
 * class, seed 0); otherwise every labelled image is split by fixedTestSplit (perClass per class, seed 0).
 */
export function imageSplit(train: readonly ImageSample[], test: readonly ImageSample[], given: boolean, perClass: number): { test: Item[]; pool: Item[] } {
  if (!given) return fixedTestSplit({ name: 'images', language: 'en', source: '', items: imageItems([...train, ...test]) }, perClass, 0);
  const r = rng(1000);
  const items = imageItems(test);
  const labels = [...new Set(items.map((i) => i.label))].sort();
  return { test: labels.flatMap((l) => shuffleInPlace(items.filter((i) => i.label === l), r).slice(0, perClass)), pool: imageItems(train) };
}

/**
 * The rows of one fit: the training images' vectors, and the augmented variants of each as extra rows with the
 * image's label and `weight`. `variants` maps an image key to its variants' keys; `vec` gives a key's vector.
 */
export function trainingRows<V>(keys: readonly string[], y: readonly number[], variants: ReadonlyMap<string, readonly string[]>, vec: (key: string) => V, weight: number) {
  const extraX: V[] = [], extraY: number[] = [], extraWeights: number[] = [];
  keys.forEach((k, i) => {
    for (const v of variants.get(k) ?? []) { extraX.push(vec(v)); extraY.push(y[i]); extraWeights.push(weight); }
  });
  return { x: keys.map(vec), extraX, extraY, extraWeights };
}

interface Cell { scores: number[]; ms: number[] }

/** The image benchmark; bad options or data end it with the message and its fix (exit code 2), not a stack trace. */
export async function imagesBench(argv: string[]): Promise<void> {
  try {
    await runImagesBench(argv);
  } catch (e) {
    if (!isFewShotError(e)) throw e;
    process.stderr.write(`npm run bench -- --images: ${e.toUserString()}\n`);
    process.exitCode = 2;
  }
}

async function runImagesBench(argv: string[]): Promise<void> {
  const a = parseImagesArgs(argv);
  const started = Date.now();
  const load0 = os.loadavg();
  const log = (m: string) => process.stderr.write(m + '\n');
  const py = sklearnPython([process.env.FEWSHOT_PYTHON, '/usr/bin/python3', 'python3']);
  if (!py) log('scikit-learn columns skipped: no python3 with scikit-learn (set FEWSHOT_PYTHON)');

  let data = a.data;
  if (!data) {
    data = path.join('bench-results', 'tmp', 'digits');
    if (!fs.existsSync(data)) {
      if (!py) throw new FewShotError('--images without --data generates the digits corpus with scikit-learn, and no python3 with scikit-learn was found', { fix: 'set FEWSHOT_PYTHON to a python with scikit-learn, or pass --data <image folder>' });
      log(`== generating ${data} (scripts/bench/images_corpus.py)`);
      const r = spawnSync(py.exe, [path.join('scripts', 'bench', 'images_corpus.py'), '--out', data], { stdio: ['ignore', 'inherit', 'inherit'] });
      if (r.status !== 0) throw new FewShotError(`scripts/bench/images_corpus.py failed (exit ${r.status})`, { file: data, fix: 'see its message above; or pass --data <image folder>' });
    }
  }
  const ds = await loadImageDataset(data);
  for (const i of ds.issues.filter((x) => x.severity !== 'info').slice(0, 5)) log(`  ${i.severity}: ${i.message}`);
  const split = imageSplit(ds.train, ds.test, ds.testSource === 'given', a.testPerClass);
  const labels = ds.labels;
  const byFile = new Map([...ds.train, ...ds.test].map((s) => [s.file, s]));
  const yOf = (items: Item[]) => items.map((i) => labels.indexOf(i.label));
  const minPool = Math.min(...labels.map((l) => split.pool.filter((i) => i.label === l).length));
  log(`== ${path.basename(path.resolve(data))}: ${labels.length} classes, test ${split.test.length}, pool ${split.pool.length} (smallest class ${minPool})`);
  if (a.ks.some((k) => k > minPool)) log(`  warning: K=${Math.max(...a.ks)} is more than the smallest class's pool (${minPool}); such classes get all their images`);

  // The training images of every K and seed, then their augmented variants (fixed per image: seeded by its bytes).
  const trains = new Map<string, Item[]>();
  for (const k of a.ks) for (let seed = 0; seed < a.seeds; seed++) trains.set(`${k}/${seed}`, sampleK(split.pool, k, seed));
  const trainFiles = [...new Set([...trains.values()].flat().map((i) => i.text))].sort();
  const bytes = new Map<string, Buffer>(); // key (sha256) -> image bytes to embed
  const keyOf = new Map<string, string>(); // file -> key
  for (const f of [...split.test.map((i) => i.text), ...trainFiles]) {
    const s = byFile.get(f)!;
    keyOf.set(f, s.sha256);
    bytes.set(s.sha256, fs.readFileSync(f));
  }
  const variants = new Map<string, string[]>();
  const tAug = performance.now();
  for (const f of a.augment ? trainFiles : []) {
    const key = keyOf.get(f)!;
    const out = await augmentImage(bytes.get(key)!, a.augment, { ...DEFAULT_AFFINE, seed: parseInt(key.slice(0, 8), 16) });
    variants.set(key, out.map((o) => { const k = sha256Hex(o.png); bytes.set(k, o.png); return k; }));
  }
  const augMs = performance.now() - tAug;
  log(`  ${trainFiles.length} training images across K and seeds, ${a.augment} variants each (${(augMs / 1000).toFixed(1)} s)`);

  // Embeddings: memory, then the disk cache, then the encoder.
  const enc = await createImageEncoder(a.encoder);
  const cacheDir = path.join('.cache', 'bench', 'image-embeddings', enc.id);
  if (a.cache) fs.mkdirSync(cacheDir, { recursive: true });
  const vecs = new Map<string, Float32Array>();
  const missing: string[] = [];
  for (const k of bytes.keys()) {
    const f = path.join(cacheDir, `${k}.f32`);
    if (a.cache && fs.existsSync(f)) {
      const b = fs.readFileSync(f);
      vecs.set(k, new Float32Array(b.buffer, b.byteOffset, b.byteLength / 4).slice());
    } else missing.push(k);
  }
  log(`  ${bytes.size} images to embed: ${bytes.size - missing.length} cached, ${missing.length} to compute`);
  let lastLog = 0;
  const tEmbed = performance.now();
  for (let i = 0; i < missing.length; i += 256) {
    const chunk = missing.slice(i, i + 256);
    const out = await enc.embedImages(chunk.map((k) => ({ name: k, data: bytes.get(k)! })));
    chunk.forEach((k, j) => {
      vecs.set(k, out[j]);
      if (a.cache) fs.writeFileSync(path.join(cacheDir, `${k}.f32`), Buffer.from(out[j].buffer, out[j].byteOffset, out[j].byteLength));
    });
    if (Date.now() - lastLog > 10_000) { lastLog = Date.now(); log(`  embedded ${i + chunk.length}/${missing.length}`); }
  }
  const embedMs = performance.now() - tEmbed;

  // Throughput: the first 64 test images (+ one warm-up batch of 16), straight from the files, no cache.
  const speedFiles = split.test.slice(0, 80).map((i) => i.text);
  await enc.embedImages(speedFiles.slice(0, 16));
  const tSpeed = performance.now();
  await enc.embedImages(speedFiles.slice(16));
  const imagesPerSec = (speedFiles.length - 16) / ((performance.now() - tSpeed) / 1000);
  enc.dispose();

  // Raw pixels: grayscale, resized nearest-neighbour to pixels × pixels, 0–1.
  const sharp = await loadSharp();
  const pixels = new Map<string, Float32Array>();
  for (const f of keyOf.keys()) {
    const raw = await sharp(bytes.get(keyOf.get(f)!)!).greyscale().resize(a.pixels, a.pixels, { fit: 'fill', kernel: 'nearest' }).raw().toBuffer();
    pixels.set(f, Float32Array.from(raw.subarray(0, a.pixels * a.pixels), (v) => v / 255));
  }

  const colDefault = 'FSL default', colAug = 'FSL default + augment', colLr = `LR ${a.encoder}`, colPx = `LR raw pixels ${a.pixels}×${a.pixels}`;
  const table = new Map<string, Map<string, Cell>>();
  const record = (row: string, col: string, v: number, ms: number) => {
    const r = table.get(row) ?? table.set(row, new Map()).get(row)!;
    const c = r.get(col) ?? r.set(col, { scores: [], ms: [] }).get(col)!;
    c.scores.push(v);
    c.ms.push(ms);
  };
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'fewshot-images-'));
  const jobs: { row: string; col: string; job: Record<string, unknown> }[] = [];
  const f32 = (xs: Float32Array[], file: string) => {
    const buf = new Float32Array(xs.length * xs[0].length);
    xs.forEach((x, i) => buf.set(x, i * x.length));
    fs.writeFileSync(file, Buffer.from(buf.buffer));
    return file;
  };
  const argmax = (p: number[]) => p.indexOf(Math.max(...p));
  const yTest = yOf(split.test);
  const xTest = split.test.map((i) => vecs.get(keyOf.get(i.text)!)!);
  const pTest = split.test.map((i) => pixels.get(i.text)!);
  for (const k of a.ks) {
    const row = `${path.basename(path.resolve(data))} @ K=${k}`;
    for (let seed = 0; seed < a.seeds; seed++) {
      const train = trains.get(`${k}/${seed}`)!;
      const y = yOf(train);
      const keys = train.map((i) => keyOf.get(i.text)!);
      const rows = trainingRows(keys, y, variants, (key) => vecs.get(key)!, EXTRA_ROW_WEIGHT);
      let t0 = performance.now();
      const plain = await fitFewShot(rows.x, y, { labels, encoderId: enc.id });
      const f1 = macroF1(yTest, plain.predict(xTest).map(argmax), labels.length);
      record(row, colDefault, f1, performance.now() - t0);
      let line = `  ${row} seed ${seed}: default ${f1.toFixed(3)}`;
      if (a.augment) {
        t0 = performance.now();
        const aug = await fitFewShot(rows.x, y, { labels, encoderId: enc.id, extraX: rows.extraX, extraY: rows.extraY, extraWeights: rows.extraWeights });
        const f1a = macroF1(yTest, aug.predict(xTest).map(argmax), labels.length);
        record(row, colAug, f1a, performance.now() - t0);
        line += `, + augment ${f1a.toFixed(3)}`;
      }
      log(line);
      if (py) {
        for (const [col, xtr, xte, dim] of [[colLr, rows.x, xTest, enc.dim], [colPx, train.map((i) => pixels.get(i.text)!), pTest, a.pixels ** 2]] as const) {
          const id = `j${jobs.length}`;
          jobs.push({ row, col, job: { id, dim, nclasses: labels.length, ytrain: y, ytest: yTest, train: f32([...xtr], path.join(work, `${id}-train.f32`)), test: f32([...xte], path.join(work, `${id}-test.f32`)) } });
        }
      }
    }
  }
  if (py && jobs.length) {
    log(`== scikit-learn LogisticRegression on ${jobs.length} matrices (${py.exe}, scikit-learn ${py.version})`);
    const r = spawnSync(py.exe, [path.join('scripts', 'bench', 'sklearn_probe.py')], {
      input: JSON.stringify(jobs.map((j) => j.job)), encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, env: { ...process.env, OPENBLAS_NUM_THREADS: '1' },
    });
    if (r.status !== 0) log(`scikit-learn probe failed: ${r.stderr}`);
    for (const line of r.stdout.split('\n').filter(Boolean)) {
      const o = JSON.parse(line) as { id: string; macro_f1: number; fit_s: number };
      const j = jobs.find((x) => x.job.id === o.id)!;
      record(j.row, j.col, o.macro_f1, o.fit_s * 1000);
    }
  }
  fs.rmSync(work, { recursive: true, force: true });

  // ---- report
  const cols = [colDefault, colAug, colLr, colPx].filter((c) => [...table.values()].some((r) => r.has(c)));
  const load1 = os.loadavg();
  const machine = machineInfo('n/a');
  const md: string[] = [];
  md.push(`# Few-Shot Lab image benchmark — ${new Date().toISOString().slice(0, 10)}`, '');
  md.push(`Command: \`npm run bench -- --images ${argv.join(' ')}\`. Machine: ${machine.cpus} × ${machine.cpu}, ${machine.memGiB} GiB, ${machine.platform}; load average ${load0[0].toFixed(2)} at the start, ${load1[0].toFixed(2)} at the end. Versions: ${Object.entries(nodeVersions()).map(([k, v]) => `${k} ${v}`).join(', ')}; scikit-learn ${py ? py.version : 'not run'}.`, '');
  md.push(`Data: ${data} (${labels.length} classes; ${split.test.length} test images, ≤${a.testPerClass} per class, fixed; training pool ${split.pool.length}). Protocol: K training images per class, ${a.seeds} seeds, macro-F1 mean±std on the fixed test set. Encoder: ${enc.id} (${enc.dim}-d). "${colDefault}" = fitFewShot (the default few-shot head) on the embeddings; "${colAug}" = the same with ${a.augment} RandomAffine(degrees=${DEFAULT_AFFINE.degrees}, translate=(${DEFAULT_AFFINE.translate.join(', ')}), scale=(${DEFAULT_AFFINE.scale.join(', ')})) variants per training image as extra rows of weight ${EXTRA_ROW_WEIGHT}; LR = scikit-learn LogisticRegression(max_iter=2000) on the identical embedding matrices, and on the raw pixels (grayscale, nearest-neighbour ${a.pixels}×${a.pixels}, 0–1).`, '');
  md.push(`| data @ K | ${cols.join(' | ')} |`, `|---|${cols.map(() => '---').join('|')}|`);
  for (const [row, r] of table) {
    const best = Math.max(...cols.map((c) => (r.get(c) ? mean(r.get(c)!.scores) : -1)));
    md.push(`| ${row} | ${cols.map((c) => { const s = r.get(c)?.scores; if (!s) return 'n/a'; return mean(s) === best ? `**${fmt(s)}**` : fmt(s); }).join(' | ')} |`);
  }
  md.push('', 'Seconds per fit (mean over seeds; FSL: fit + predict on the cached embeddings; LR: scikit-learn fit):', '');
  md.push(`| data @ K | ${cols.join(' | ')} |`, `|---|${cols.map(() => '---').join('|')}|`);
  for (const [row, r] of table) md.push(`| ${row} | ${cols.map((c) => (r.get(c) ? (mean(r.get(c)!.ms) / 1000).toFixed(2) : 'n/a')).join(' | ')} |`);
  md.push('', `Embedding: **${imagesPerSec.toFixed(1)} images/s** (${speedFiles.length - 16} test images from their files: decode, resize/crop, normalise, CNN; batch 16, after a warm-up batch; onnxruntime-node CPU, its default threads). This run computed ${missing.length} embeddings in ${(embedMs / 1000).toFixed(1)} s${missing.length ? ` (${(missing.length / (embedMs / 1000)).toFixed(1)} images/s)` : ''} and read ${bytes.size - missing.length} from the cache; augmenting ${trainFiles.length} images × ${a.augment} took ${(augMs / 1000).toFixed(1)} s. Wall time ${((Date.now() - started) / 1000).toFixed(0)} s.`);
  const json = {
    date: new Date().toISOString(), args: a, data, machine, loadavg: { start: load0, end: load1 }, versions: nodeVersions(), sklearn: py ?? null,
    encoder: { id: enc.id, dim: enc.dim }, labels, test: split.test.length, pool: split.pool.length, trainImages: trainFiles.length,
    quality: Object.fromEntries([...table].map(([r, m]) => [r, Object.fromEntries([...m].map(([c, v]) => [c, { mean: mean(v.scores), std: std(v.scores), scores: v.scores, msPerRun: mean(v.ms) }]))])),
    imagesPerSec, embedded: { computed: missing.length, cached: bytes.size - missing.length, ms: embedMs }, augmentMs: augMs, wallS: (Date.now() - started) / 1000,
  };
  writeReport(a.out, 'bench-images-', md.join('\n') + '\n', json);
}
