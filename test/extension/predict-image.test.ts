/**
 * Predict Image / Predict Folder inside the real extension host (code-server). An image run is trained in setup with
 * the CLI on a copy of samples/shapes, into a store of its own (so the text suites keep their default run).
 */
import * as assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { PredictApi } from '../../src/extension/predict';
import type { ImagePredictOutcome } from '../../src/extension/predict/images';
import { getApi } from './helpers';

const repo = path.join(__dirname, '..', '..', '..');

function train(dataset: string, store: string, extra: string[] = []): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [path.join(repo, 'dist', 'cli.js'), 'train', dataset, '--out', store, ...extra],
      { env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' }, timeout: 120_000 },
      (err, stdout, stderr) => {
        const m = /Run (\S+) completed/.exec(stdout);
        if (err || !m) reject(new Error(`fewshot train failed: ${err?.message ?? ''}\n${stdout}\n${stderr}`));
        else resolve(m[1]);
      });
  });
}

describe('predict image / folder (extension host)', function () {
  this.timeout(180_000);
  let api: PredictApi;
  let tmp: string;
  let store: string;
  let runId: string;
  const testImage = (label: string, n = 1) => vscode.Uri.file(path.join(tmp, 'shapes', 'test', label, `${label}_0${n}.png`));

  before(async () => {
    const exp = await getApi() as unknown as { host: { predict?: PredictApi } };
    assert.ok(exp.host.predict);
    api = exp.host.predict;
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'fewshot-predict-image-'));
    fs.cpSync(path.join(repo, 'samples', 'shapes'), path.join(tmp, 'shapes'), { recursive: true });
    store = path.join(tmp, 'store');
    runId = await train(path.join(tmp, 'shapes'), store);
    api.setStoreDirOverride(store);
  });
  after(() => {
    api?.setStoreDirOverride(undefined);
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('Predict Image labels an image file with its class and the top-3 probabilities, in the warm child', async () => {
    const uri = testImage('star');
    const r = (await vscode.commands.executeCommand('fewshot.predictImage', uri, [uri])) as ImagePredictOutcome;
    assert.ok(r.ok, JSON.stringify(r));
    assert.equal(r.runId, runId);
    assert.equal(r.items.length, 1);
    assert.equal(r.items[0].label, 'star');
    const ps = r.items[0].probabilities!.map((p) => p.p);
    assert.equal(ps.length, 4);
    assert.ok(ps[0] >= ps[1] && ps[1] >= ps[2] && ps[2] >= ps[3]);
    // the notification: file → label p · second p · third p (model …)
    assert.match(r.message, /^star_01\.png → star \S+ · \w+ \S+ · \w+ \S+ \(model /);
    assert.equal(api.predictor.running, true);
  });

  it('a multi-selection predicts each image; the same images again reuse the warm child and their embeddings', async () => {
    const uris = [testImage('circle', 2), testImage('square', 3), testImage('triangle', 4)];
    const launches = api.predictor.launches;
    const r = (await vscode.commands.executeCommand('fewshot.predictImage', uris[0], uris)) as ImagePredictOutcome;
    assert.ok(r.ok, JSON.stringify(r));
    assert.deepEqual(r.items.map((it) => it.label), ['circle', 'square', 'triangle']);
    const again = (await vscode.commands.executeCommand('fewshot.predictImage', uris[0], uris)) as ImagePredictOutcome;
    assert.ok(again.ok);
    assert.equal(again.cacheHits, 3);
    assert.deepEqual(again.items, r.items);
    assert.equal(api.predictor.launches, launches, 'no new predictor child');
  });

  it('a file that is not an image (by content) gets a clear message naming it', async () => {
    const fake = path.join(tmp, 'fake.png');
    fs.writeFileSync(fake, 'just text');
    const r = (await vscode.commands.executeCommand('fewshot.predictImage', vscode.Uri.file(fake))) as ImagePredictOutcome;
    assert.ok(!r.ok && r.reason === 'no-image');
    assert.match(r.message, /fake\.png is not a PNG, JPEG, WebP, BMP or TIFF image/);
  });

  it('Predict Folder labels every image into a CSV (error rows for bad images) and opens it', async () => {
    const folder = path.join(tmp, 'shapes', 'test');
    fs.writeFileSync(path.join(folder, 'circle', 'cut.png'), fs.readFileSync(testImage('circle').fsPath).subarray(0, 80));
    const out = path.join(tmp, 'out', 'test-predictions.csv');
    const r = (await vscode.commands.executeCommand('fewshot.predictFolder', vscode.Uri.file(folder), { out })) as ImagePredictOutcome;
    assert.ok(r.ok, JSON.stringify(r));
    assert.equal(r.csvFile, out);
    assert.equal(r.errors, 1);
    assert.match(r.message, /Labelled 24 images in test .*1 images could not be read/);
    const lines = fs.readFileSync(out, 'utf8').trimEnd().split('\r\n');
    assert.equal(lines[0], 'file,label,p_label,top2,p_top2,top3,p_top3,error');
    assert.equal(lines.length, 26);
    const rows = lines.slice(1).map((l) => l.split(','));
    const cut = rows.find((c) => c[0] === 'circle/cut.png');
    assert.ok(cut && cut[1] === '' && /Could not read the image/.test(cut.slice(7).join(',')), String(cut));
    for (const c of rows.filter((x) => x !== cut)) assert.equal(c[1], c[0].split('/')[0], c.join(','));
    assert.equal(vscode.window.activeTextEditor?.document.uri.fsPath, out);
  });

  it('a workspace with only text runs gets a message that says the run classifies texts', async () => {
    const textStore = path.join(tmp, 'text-store');
    await train(path.join(vscode.workspace.workspaceFolders![0].uri.fsPath, 'predict-topics', 'topics.csv'), textStore, ['--encoder', 'hashing']);
    api.setStoreDirOverride(textStore);
    try {
      const r = (await vscode.commands.executeCommand('fewshot.predictImage', testImage('star'))) as ImagePredictOutcome;
      assert.ok(!r.ok && r.reason === 'text-run', JSON.stringify(r));
      assert.match(r.message, /classifies texts, not images/);
    } finally {
      api.setStoreDirOverride(store);
    }
  });
});
