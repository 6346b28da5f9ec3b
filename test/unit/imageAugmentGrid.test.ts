import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { configProblems, DEFAULT_CONFIG } from '../../src/core/config';
import { runTraining } from '../../src/core/train';
import { RUN_FILES, RunStore } from '../../src/core/runs';
import { augmentImage, encodePng, thumbnailPng } from '../../src/core/images/augment';
import { augmentSeed } from '../../src/core/images/stage';
import { loadImageDataset } from '../../src/core/images/dataset';
import type { AugmentedPreview, RunRecord, TrainConfig } from '../../src/protocol/run';
import { buildChildBundles, repoRoot, rmrf, runCli, tempDir } from './helpers/trainerFixtures';

type SharpFn = (input: Buffer, o?: object) => import('sharp').Sharp;
// eslint-disable-next-line @typescript-eslint/no-require-imports
const sharp = require('sharp') as SharpFn;

const shapesDir = (): string => {
  const up = path.join(__dirname, '..', '..', '..', 'samples', 'shapes'); // out/test/unit → repo root
  return fs.existsSync(up) ? up : path.resolve('samples', 'shapes');
};
const cfg = (dataset: string, over: Partial<TrainConfig> = {}): TrainConfig => ({ ...DEFAULT_CONFIG, dataset, ...over });
const size = async (file: string) => { const m = await sharp(fs.readFileSync(file)).metadata(); return { w: m.width!, h: m.height!, format: m.format }; };

describe('augmented-sample grid and the flip option', function () {
  this.timeout(180_000);
  let dir: string;
  before(() => { dir = tempDir('imggrid'); });
  after(() => rmrf(dir));

  it('encodePng encodes raw pixels losslessly; thumbnailPng shrinks to ≤ 128 px and never enlarges', async () => {
    const data = Buffer.alloc(300 * 200 * 3);
    for (let i = 0; i < data.length; i++) data[i] = (i * 7) % 251;
    const png = await encodePng({ data, width: 300, height: 200, channels: 3 });
    const back = await sharp(png).raw().toBuffer({ resolveWithObject: true });
    assert.deepEqual([back.info.width, back.info.height, back.info.channels], [300, 200, 3]);
    assert.ok(back.data.equals(data));
    const small = await sharp(await thumbnailPng(png)).metadata();
    assert.deepEqual([small.format, small.width, small.height], ['png', 128, 85]);
    const tiny = await sharp(await thumbnailPng(await encodePng({ data: data.subarray(0, 40 * 30 * 3), width: 40, height: 30, channels: 3 }))).metadata();
    assert.deepEqual([tiny.width, tiny.height], [40, 30]);
  });

  it('RunStore.saveAugmented writes the PNGs and preview.json; readAugmented resolves them inside its folder only', async () => {
    const store = new RunStore(path.join(dir, 'store-unit'));
    const { id, dir: runDir } = await store.create(cfg(shapesDir()));
    assert.equal(await store.readAugmented(id), undefined, 'no grid before one is saved');
    const png = await encodePng({ data: Buffer.alloc(8 * 8 * 3, 200), width: 8, height: 8, channels: 3 });
    const params = { angle: 3.5, tx: -2, ty: 1, scale: 1.05, flipped: true };
    const saved = await store.saveAugmented(id, {
      transform: { degrees: 15, translate: [0.1, 0.1], scale: [0.9, 1.1], flip: true }, seed: 7,
      rows: [{ source: '/data/a.png', label: 'a', original: png, copies: [{ png, ...params }, { png, ...params, angle: -1 }] }],
    });
    assert.deepEqual(saved.rows[0].copies.map((c) => c.file), ['r0-1.png', 'r0-2.png']);
    const files = fs.readdirSync(path.join(runDir, RUN_FILES.augmented)).sort();
    assert.deepEqual(files, ['preview.json', 'r0-1.png', 'r0-2.png', 'r0-original.png'], 'no temp files are left behind');
    const read = (await store.readAugmented(id))!;
    assert.equal(read.seed, 7);
    assert.equal(read.rows[0].original, path.join(runDir, RUN_FILES.augmented, 'r0-original.png'));
    assert.deepEqual(read.rows[0].copies[1], { file: path.join(runDir, RUN_FILES.augmented, 'r0-2.png'), ...params, angle: -1 });
    // an index naming a file outside the folder (or a missing one) loses that image, nothing else
    const index = JSON.parse(fs.readFileSync(path.join(runDir, RUN_FILES.augmentedIndex), 'utf8')) as AugmentedPreview;
    index.rows[0].copies[0].file = '../run.json';
    index.rows[0].copies[1].file = 'gone.png';
    fs.writeFileSync(path.join(runDir, RUN_FILES.augmentedIndex), JSON.stringify(index));
    assert.deepEqual((await store.readAugmented(id))!.rows[0].copies, []);
  });

  it('configProblems refuses a non-boolean augmentFlip', () => {
    assert.deepEqual(configProblems(cfg('/d', { augmentFlip: 'yes' as unknown as boolean })).map((p) => p.field), ['augmentFlip']);
    assert.deepEqual(configProblems(cfg('/d', { augmentFlip: true })), []);
  });

  describe('training on samples/shapes with augmentation', () => {
    let store: string;
    const runs: Record<string, RunRecord> = {};
    const grid = (r: RunRecord) => JSON.parse(fs.readFileSync(path.join(store, 'runs', r.id, RUN_FILES.augmentedIndex), 'utf8')) as AugmentedPreview;
    before(async () => {
      store = path.join(dir, 'store');
      for (const [name, over] of [['plain', { augment: 2 }], ['flip', { augment: 2, augmentFlip: true }], ['none', {}]] as const) {
        runs[name] = await runTraining({ config: cfg(shapesDir(), over), storeDir: store }, { onEvent: () => undefined });
        assert.equal(runs[name].status, 'completed', JSON.stringify(runs[name].error));
      }
    });

    it('saves 3 training images (one per class) × their first copies, ≤ 128 px, with the parameters the embedding stage drew', async () => {
      const g = grid(runs.plain);
      assert.deepEqual(g.transform, { degrees: 15, translate: [0.1, 0.1], scale: [0.9, 1.1], flip: false });
      assert.equal(g.seed, 42);
      assert.deepEqual(g.rows.map((r) => r.label), ['circle', 'square', 'star']);
      const runDir = path.join(store, 'runs', runs.plain.id);
      const train = (await loadImageDataset(shapesDir(), { seed: 42 })).train;
      for (const r of g.rows) {
        assert.equal(r.copies.length, 2);
        for (const f of [r.original, ...r.copies.map((c) => c.file)]) {
          const s = await size(path.join(runDir, RUN_FILES.augmented, f));
          assert.equal(s.format, 'png');
          assert.ok(s.w <= 128 && s.h <= 128, `${f}: ${s.w}×${s.h}`);
        }
        // the same parameters as the copies that were embedded (training image i, seed derived from the run's seed)
        const i = train.findIndex((x) => x.file === r.source);
        assert.equal(train[i].label, r.label);
        const drawn = await augmentImage(fs.readFileSync(r.source), 2, { seed: augmentSeed(42, i) });
        assert.deepEqual(r.copies.map(({ file: _f, ...p }) => p), drawn.map((c) => c.params));
      }
      assert.ok(g.rows.every((r) => r.copies.every((c) => !c.flipped)));
    });

    it('augmentFlip: recorded in run.json, flips some copies, and says so in the report', () => {
      assert.equal(runs.flip.config.augmentFlip, true);
      assert.equal(runs.plain.config.augmentFlip, undefined);
      const flipped = grid(runs.flip).rows.flatMap((r) => r.copies).filter((c) => c.flipped).length;
      assert.ok(flipped > 0 && flipped < 6, `${flipped} of 6 copies flipped`);
      assert.deepEqual(grid(runs.flip).transform.flip, true);
      const text = fs.readFileSync(path.join(store, 'runs', runs.flip.id, RUN_FILES.reportText), 'utf8');
      assert.match(text, /2 RandomAffine \(and horizontal flip\) copies per training image/);
      // flipped copies are other images: embedded anew, not taken from the plain run's cache
      assert.ok((runs.flip.timings?.computedEmbeddings ?? 0) > 0);
    });

    it('a run without augmentation saves no grid', () => {
      assert.ok(!fs.existsSync(path.join(store, 'runs', runs.none.id, RUN_FILES.augmented)));
    });
  });

  it('CLI: --flip sets augmentFlip (and is refused by --method finetune)', async () => {
    const cli = buildChildBundles().cli;
    const out = path.join(dir, 'cli-store');
    const env = { FEWSHOT_MODELS_DIR: path.join(repoRoot, 'models') };
    const t = await runCli(cli, ['train', shapesDir(), '--augment', '1', '--flip', '--out', out, '--json'], { cwd: dir, env });
    assert.equal(t.code, 0, t.stderr);
    const rec = (JSON.parse(t.stdout) as { record: RunRecord }).record;
    assert.equal(rec.config.augmentFlip, true);
    assert.ok(fs.existsSync(path.join(out, 'runs', rec.id, RUN_FILES.augmentedIndex)));
    const bad = await runCli(cli, ['train', shapesDir(), '--method', 'finetune', '--model', 'x', '--flip', '--out', out], { cwd: dir, env });
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--flip is not used by --method finetune/);
  });
});
