import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadPredictor, predictImagesEach, type Predictor } from '../../src/core/predict';
import { defaultFolderCsv, imageRowsCsv, listImageFiles } from '../../src/core/util/imageFolder';
import { shapeImage } from './helpers/images';
import { shapeTestImages, trainShapesRun } from './helpers/imageRun';
import { buildChildBundles, repoRoot, rmrf, runCli, tempDir } from './helpers/trainerFixtures';

/** A folder to label: test images (some renamed without an image extension, one in a subfolder), a truncated PNG, a text file. */
function writeFolder(dir: string): { folder: string; expected: Map<string, string> } {
  const folder = path.join(dir, 'scans');
  fs.mkdirSync(path.join(folder, 'ward 2'), { recursive: true });
  fs.mkdirSync(path.join(folder, '.hidden'), { recursive: true });
  const expected = new Map<string, string>();
  shapeTestImages().filter((_, i) => i % 3 === 0).forEach(({ label, file }, i) => {
    const rel = i === 1 ? `ward 2/${label}-${i}.dat` : `${label}-${i}.png`;
    fs.copyFileSync(file, path.join(folder, rel));
    expected.set(rel, label);
  });
  const png = fs.readFileSync(shapeTestImages()[0].file);
  fs.writeFileSync(path.join(folder, 'cut.png'), png.subarray(0, 80));
  fs.copyFileSync(shapeTestImages()[0].file, path.join(folder, '.hidden', 'skipped.png'));
  fs.writeFileSync(path.join(folder, 'notes.png'), 'not an image');
  return { folder, expected };
}

const parseCsv = (csv: string) => csv.trimEnd().split('\r\n').map((l) => l.split(','));

describe('predict images: folder CSV, per-image outcomes, embedding cache', function () {
  this.timeout(180_000);
  let dir: string;
  let runDir: string;
  let predictor: Predictor;
  before(async () => {
    dir = tempDir('predict-images');
    runDir = await trainShapesRun(path.join(dir, 'store'));
    predictor = await loadPredictor(runDir);
  });
  after(() => { predictor?.dispose(); rmrf(dir); });

  it('lists a folder\'s images by content (recursively, not hidden folders), sorted', async () => {
    const { folder, expected } = writeFolder(path.join(dir, 'list'));
    const files = (await listImageFiles(folder)).map((f) => path.relative(folder, f).split(path.sep).join('/'));
    assert.deepEqual(files, [...expected.keys(), 'cut.png'].sort());
    assert.equal(defaultFolderCsv(folder + path.sep), `${folder}-predictions.csv`);
  });

  it('one bad image is an error row naming it; the others are labelled with their class', async () => {
    const { folder, expected } = writeFolder(path.join(dir, 'each'));
    const files = await listImageFiles(folder);
    const outcomes = await predictImagesEach(predictor, files);
    const rows = files.map((file, i) => ({ file, prediction: outcomes[i].prediction, error: outcomes[i].error }));
    const csv = parseCsv(imageRowsCsv(folder, rows, predictor.labels.length));
    assert.deepEqual(csv[0], ['file', 'label', 'p_label', 'top2', 'p_top2', 'top3', 'p_top3', 'error']);
    for (const r of csv.slice(1)) {
      if (r[0] === 'cut.png') {
        assert.equal(r[1], '');
        assert.match(r.slice(7).join(','), /Could not read the image .*cut\.png/);
        continue;
      }
      assert.equal(r[1], expected.get(r[0].replace(/^"|"$/g, '')), r.join(','));
      const [p1, p2, p3] = [Number(r[2]), Number(r[4]), Number(r[6])];
      assert.ok(p1 >= p2 && p2 >= p3 && p3 > 0 && p1 <= 1, r.join(','));
      assert.notEqual(r[3], r[1]);
      assert.equal(r[7], '');
    }
    assert.equal(csv.length, expected.size + 2);
  });

  it('a repeated image reuses its cached embedding (same bytes, any name) and gets the same prediction', async () => {
    const file = shapeTestImages()[7].file;
    const copy = path.join(dir, 'copy-of-image.bin');
    fs.copyFileSync(file, copy);
    const first = (await predictor.predictImages!([file]))[0];
    const before = { ...predictor.imageCache! };
    const again = await predictor.predictImages!([copy, fs.readFileSync(file)]);
    assert.equal(predictor.imageCache!.hits, before.hits + 2);
    assert.equal(predictor.imageCache!.misses, before.misses);
    assert.deepEqual(again[0], first);
    assert.deepEqual(again[1], first);
    // a new image is a miss
    await predictor.predictImages!([await shapeImage('star', 'png', 80, { fill: '#123456' })]);
    assert.equal(predictor.imageCache!.misses, before.misses + 1);
  });

  it('fewshot predict --run R <folder> --out writes the CSV atomically and warns about bad images', async () => {
    const { folder, expected } = writeFolder(path.join(dir, 'cli'));
    const cli = buildChildBundles().cli;
    const out = path.join(dir, 'cli', 'out.csv');
    const env = { FEWSHOT_MODELS_DIR: path.join(repoRoot, 'models') };
    const r = await runCli(cli, ['predict', '--run', runDir, folder, '--out', out], { cwd: dir, env });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /warning: Could not read the image .*cut\.png/);
    assert.match(r.stderr, new RegExp(`Labelled ${expected.size} of ${expected.size + 1} image\\(s\\).*1 could not be read`));
    const csv = parseCsv(fs.readFileSync(out, 'utf8'));
    assert.equal(csv.length, expected.size + 2);
    assert.deepEqual(fs.readdirSync(path.dirname(out)).filter((f) => f.endsWith('.tmp')), []);
    const toStdout = await runCli(cli, ['predict', '--run', runDir, folder], { cwd: dir, env });
    assert.equal(toStdout.stdout, fs.readFileSync(out, 'utf8'));
    const text = await runCli(cli, ['predict', '--run', runDir, folder, 'extra'], { cwd: dir, env });
    assert.equal(text.code, 2);
    assert.match(text.stderr, /is a folder: give one folder alone/);
  });
});
