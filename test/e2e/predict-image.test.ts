/**
 * Browser e2e: in code-server, right-click an image file in the Explorer → "Predict Image", and see its label and
 * top-3 probabilities in the notification; then the same from the image preview's title bar. Right-click a folder →
 * "Predict Folder" → the save dialog → the CSV opens; on a big folder, Cancel in the progress notification stops it.
 * The image run is trained in setup with the CLI on samples/shapes, like a user would.
 */
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { shapeImage, type Shape } from '../unit/helpers/images';
import type { Page } from 'playwright-core';
import {
  cleanUpSuite,
  chooseContextMenuItem,
  Browser,
  CodeServer,
  expectUi,
  launchBrowser,
  makeScratchWorkspace,
  openWorkbench,
  repoRoot,
  screenshot,
  startCodeServer,
  waitForTitle,
} from '../harness';

describe('e2e: predict image from the Explorer', function () {
  this.timeout(300_000);
  let server: CodeServer | undefined;
  let browser: Browser | undefined;
  let workspace = '';
  let page: Page;
  let runId = '';

  before(async () => {
    const shapes = path.join(repoRoot, 'samples', 'shapes');
    workspace = makeScratchWorkspace('predict-image', { only: [], copy: { 'scan.png': path.join(shapes, 'test', 'star', 'star_02.png'), 'photo.PNG': path.join(shapes, 'test', 'square', 'square_05.png') } });
    // a folder of a few images and a truncated one; a big folder of distinct images (no embedding cache hits)
    fs.mkdirSync(path.join(workspace, 'scans'));
    for (const l of ['circle', 'triangle']) fs.copyFileSync(path.join(shapes, 'test', l, `${l}_03.png`), path.join(workspace, 'scans', `${l}.png`));
    fs.writeFileSync(path.join(workspace, 'scans', 'cut.png'), fs.readFileSync(path.join(shapes, 'test', 'star', 'star_01.png')).subarray(0, 80));
    fs.mkdirSync(path.join(workspace, 'many'));
    const kinds: Shape[] = ['circle', 'square', 'triangle', 'star'];
    for (let i = 0; i < 500; i++) {
      fs.writeFileSync(path.join(workspace, 'many', `img${String(i).padStart(3, '0')}.png`),
        await shapeImage(kinds[i % 4], 'png', 96, { dx: (i % 21) - 10, fill: `#${(0x202020 + i * 2741).toString(16).slice(-6)}` }));
    }
    const out = execFileSync(process.execPath, [path.join(repoRoot, 'dist', 'cli.js'), 'train', shapes, '--out', path.join(workspace, '.fewshot')], { encoding: 'utf8', timeout: 120_000, stdio: ['ignore', 'pipe', 'pipe'] });
    runId = /Run (\S+) completed/.exec(out)?.[1] ?? '';
    assert.ok(runId, `training failed:\n${out}`);
    server = await startCodeServer({ name: 'predict-image', workspace });
    browser = await launchBrowser('predict-image');
    page = browser.page;
    await openWorkbench(page, server.workbenchUrl({ extensionDevelopmentPath: repoRoot }));
    await waitForTitle(page, '[Extension Development Host]');
  });

  cleanUpSuite('predict-image', () => ({ browser, server, workspace }));

  /** The notification of a prediction of `file`, its message text (whitespace collapsed). */
  const toastFor = async (file: string): Promise<string> => {
    const toast = page.locator('.notifications-toasts .notification-list-item', { hasText: `${file} →` }).first();
    await expectUi(page, `no prediction notification for ${file}`, toast.waitFor({ state: 'visible', timeout: 90_000 }));
    return (await toast.locator('.notification-list-item-message').innerText()).replace(/\s+/g, ' ');
  };

  it('right-clicks scan.png in the Explorer → Predict Image: the label and the top-3 probabilities', async () => {
    await page.keyboard.press('Control+Shift+E');
    const row = page.locator('.explorer-folders-view .monaco-list-row', { hasText: /^scan\.png$/ }).first();
    await expectUi(page, 'scan.png is not in the Explorer', row.waitFor({ state: 'visible', timeout: 60_000 }));
    await chooseContextMenuItem(page, row, /^Predict Image$/);
    const message = await toastFor('scan.png');
    // label p · second p · third p, then the model
    assert.match(message, /scan\.png → star (\d\.\d\d|>0\.99) · (circle|square|triangle) (\d\.\d\d|<0\.01) · (circle|square|triangle) (\d\.\d\d|<0\.01) \(model /);
    await screenshot(page, 'predict-image-explorer');
  });

  it('the image preview\'s title bar has Predict Image too (upper-case extension)', async () => {
    const row = page.locator('.explorer-folders-view .monaco-list-row', { hasText: /^photo\.PNG$/ }).first();
    await row.dblclick();
    const button = page.locator('.editor-actions .action-label[aria-label^="Predict Image"]').first();
    await expectUi(page, 'no Predict Image button in the image preview\'s title bar', button.waitFor({ state: 'visible', timeout: 60_000 }));
    await button.click();
    assert.match(await toastFor('photo.PNG'), /photo\.PNG → square /);
    await screenshot(page, 'predict-image-preview');
  });

  /** Right-click `folder` → Predict Folder → accept the proposed `<folder>-predictions.csv` in the save dialog. */
  const predictFolder = async (folder: string): Promise<void> => {
    const row = page.locator('.explorer-folders-view .monaco-list-row', { hasText: new RegExp(`^${folder}$`) }).first();
    await expectUi(page, `${folder} is not in the Explorer`, row.waitFor({ state: 'visible', timeout: 60_000 }));
    await chooseContextMenuItem(page, row, /^Predict Folder$/);
    const input = page.locator('.quick-input-widget input').first();
    await expectUi(page, 'the save dialog did not open', input.waitFor({ state: 'visible', timeout: 30_000 }));
    const proposed = await page.waitForFunction((f) => {
      const v = (document.querySelector('.quick-input-widget input') as HTMLInputElement | null)?.value ?? '';
      return v.endsWith(`${f}-predictions.csv`) ? v : undefined;
    }, folder, { timeout: 15_000 }).then((h) => h.jsonValue() as Promise<string>).catch(async () => `(still ${await input.inputValue()})`);
    assert.match(proposed, new RegExp(`workspace[\\\\/]${folder}-predictions\\.csv$`));
    await input.press('Enter');
  };

  it('right-clicks a folder → Predict Folder: every image in a CSV (a bad one as an error row), opened', async () => {
    await predictFolder('scans');
    const toast = page.locator('.notifications-toasts .notification-list-item', { hasText: /Labelled 2 images in scans/ }).first();
    await expectUi(page, 'no Predict Folder notification', toast.waitFor({ state: 'visible', timeout: 90_000 }));
    assert.match((await toast.innerText()).replace(/\s+/g, ' '), /1 images could not be read/);
    await expectUi(page, 'the CSV did not open', page.locator('.tabs-container .tab', { hasText: 'scans-predictions.csv' }).first().waitFor({ state: 'visible', timeout: 30_000 }));
    const csv = fs.readFileSync(path.join(workspace, 'scans-predictions.csv'), 'utf8').trimEnd().split('\r\n');
    assert.equal(csv[0], 'file,label,p_label,top2,p_top2,top3,p_top3,error');
    assert.match(csv[1], /^circle\.png,circle,/);
    assert.match(csv[2], /^cut\.png,,,,,,,Could not read the image /);
    assert.match(csv[3], /^triangle\.png,triangle,/);
    await screenshot(page, 'predict-folder-csv');
  });

  it('Cancel in the progress notification stops Predict Folder within a second; no CSV is written', async () => {
    await predictFolder('many');
    const progress = page.locator('.notifications-toasts .notification-list-item', { hasText: /of 500 images/ }).first();
    await expectUi(page, 'no progress notification', progress.waitFor({ state: 'visible', timeout: 90_000 }));
    const cancel = progress.locator('.monaco-button', { hasText: /^Cancel$/ });
    await cancel.click();
    const t0 = Date.now();
    const done = page.locator('.notifications-toasts .notification-list-item', { hasText: /Predict Folder was cancelled after \d+ of 500 images/ }).first();
    await expectUi(page, 'no cancelled message', done.waitFor({ state: 'visible', timeout: 10_000 }));
    const ms = Date.now() - t0;
    assert.ok(ms < 1000, `the cancel took ${ms} ms`);
    assert.equal(fs.existsSync(path.join(workspace, 'many-predictions.csv')), false);
    await screenshot(page, 'predict-folder-cancelled');
  });
});
