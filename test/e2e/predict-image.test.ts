/**
 * Browser e2e: in code-server, right-click an image file in the Explorer → "Predict Image", and see its label and
 * top-3 probabilities in the notification; then the same from the image preview's title bar.
 * The image run is trained in setup with the CLI on samples/shapes, like a user would.
 */
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as path from 'node:path';
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
});
