/**
 * Browser e2e, images: the Datasets view lists an image dataset (samples/shapes) with its counts and a thumbnail on
 * hover → right-click → "Train Few-Shot Model" → the dashboard shows the completed report (macro-F1, per-class
 * recall), the augmented-sample grid and, in the confusion drill-down, thumbnails that open the image in VS Code.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Frame, Page } from 'playwright-core';
import {
  Browser, CodeServer, assertNotBlank, chooseContextMenuItem, cleanUpSuite, expectUi, launchBrowser, makeScratchWorkspace,
  openWorkbench, repoRoot, screenshot, startCodeServer, waitForTitle, webviewFrame,
} from '../harness';
import type { AugmentedPreview, ClassificationReport, RunRecord } from '../../src/protocol/run';
import { RUN_FILES } from '../../src/core/runs';

const AUGMENT = 2;

describe('e2e: image dataset → Train → dashboard', function () {
  this.timeout(300_000);
  let server: CodeServer | undefined;
  let browser: Browser | undefined;
  let workspace = '';
  let page: Page;
  let frame: Frame;

  before(async () => {
    workspace = makeScratchWorkspace('images-e2e', { only: [], copy: { shapes: path.join(repoRoot, 'samples', 'shapes') } });
    server = await startCodeServer({
      name: 'images-e2e',
      workspace,
      // a text encoder in the settings: Train on an image dataset must use the image encoder anyway
      settings: { 'fewshot.train.encoder': 'hashing', 'fewshot.train.augment': AUGMENT },
    });
    browser = await launchBrowser('images-e2e');
    page = browser.page;
    await openWorkbench(page, server.workbenchUrl({ extensionDevelopmentPath: repoRoot }));
    await waitForTitle(page, '[Extension Development Host]');
  });

  cleanUpSuite('images-e2e', () => ({ browser, server, workspace }));

  const datasetsPane = () => page.locator('.part.sidebar .pane', { has: page.locator('.pane-header', { hasText: /datasets/i }) });
  const treeRow = (name: RegExp) => datasetsPane().locator('.monaco-list-row', { has: page.locator('.label-name', { hasText: name }) }).first();

  it('lists the image dataset with its counts per class and shows a thumbnail on hover', async () => {
    const item = page.locator('.part.activitybar .action-item a[aria-label^="Few-Shot Lab"]');
    await expectUi(page, 'no Few-Shot Lab container in the activity bar', item.waitFor({ state: 'visible', timeout: 60_000 }));
    await item.click();
    const row = treeRow(/^shapes$/);
    await expectUi(page, 'the Datasets view does not list "shapes"', row.waitFor({ state: 'visible', timeout: 60_000 }));
    assert.match(await row.innerText(), /images · shapes/);
    await row.click();
    const train = datasetsPane().locator('.monaco-list-row', { hasText: /48 images, 4 classes/ }).first();
    await expectUi(page, 'the train split (48 images, 4 classes) is not shown', train.waitFor({ state: 'visible', timeout: 30_000 }));
    assert.ok(await datasetsPane().locator('.monaco-list-row', { hasText: /24 images, 4 classes/ }).count(), 'the test split (24 images) is not shown');
    await train.click();
    const circle = treeRow(/^circle$/);
    await expectUi(page, 'the class "circle" is not listed', circle.waitFor({ state: 'visible', timeout: 30_000 }));
    assert.match(await circle.innerText(), /circle\s*12/);
    // the class's tooltip: a thumbnail of its first image, loaded by the workbench
    // the row's label carries the workbench's managed hover; Playwright's pointer moves alone did not open it in
    // headless Chromium, the label's own mouse events do (after the hover delay)
    const hover = page.locator('.monaco-hover, .workbench-hover').filter({ hasText: /circle/ }).first();
    const label = circle.locator('.monaco-icon-label[custom-hover]').first();
    // a busy workbench can drop one hover attempt (the pointer leaves before the delay, a re-render): point again
    // until the tooltip shows, each attempt waiting on the tooltip itself
    const showHover = async () => {
      for (let attempt = 1; ; attempt++) {
        await page.mouse.move(0, 0);
        await circle.hover();
        for (const type of ['mouseenter', 'mouseover', 'mousemove']) await label.dispatchEvent(type);
        try { await hover.waitFor({ state: 'visible', timeout: 5_000 }); return; } catch (e) { if (attempt >= 6) throw e; }
      }
    };
    await expectUi(page, 'no tooltip on the class row', showHover());
    const thumb = hover.locator('img').first();
    await expectUi(page, 'no thumbnail in the class tooltip', thumb.waitFor({ state: 'visible', timeout: 30_000 }));
    await expectUi(page, 'the thumbnail did not load', thumb.evaluate((img: HTMLImageElement) => new Promise<void>((resolve, reject) => {
      const check = () => (img.complete ? (img.naturalWidth > 0 ? resolve() : reject(new Error(`thumbnail failed to load: ${img.src}`))) : setTimeout(check, 50));
      check();
    })));
    assert.match(await thumb.getAttribute('src') ?? '', /circle_01\.png/);
    assertNotBlank(await screenshot(page, 'images-dataset-hover'));
    await page.mouse.move(0, 0);
  });

  it('right-click → Train Few-Shot Model → the dashboard shows the report with per-class recall', async () => {
    await chooseContextMenuItem(page, treeRow(/^shapes$/), /^Train Few-Shot Model$/);
    frame = await expectUi(page, 'the dashboard webview did not open', webviewFrame(page, { hasText: /Validation macro-F1 and accuracy/, timeoutMs: 120_000 }));
    await expectUi(page, 'no report on the dashboard', frame.locator('#report-table').waitFor({ state: 'visible', timeout: 180_000 }));
    assert.match(await frame.locator('#run-status').innerText(), /completed/i);
    const runsDir = path.join(workspace, '.fewshot', 'runs');
    const runId = fs.readdirSync(runsDir).find((d) => !d.startsWith('.'))!;
    const rec = JSON.parse(fs.readFileSync(path.join(runsDir, runId, 'run.json'), 'utf8')) as RunRecord;
    assert.equal(rec.dataset?.format, 'images');
    assert.equal(rec.encoder?.id, 'efficientnet-lite0-imagenet-1280', 'the image encoder, not the text encoder of the settings');
    const report = JSON.parse(fs.readFileSync(path.join(runsDir, runId, 'report.json'), 'utf8')) as ClassificationReport;
    const rows = await frame.locator('#report-table tbody tr').allInnerTexts();
    const macro = rows.find((r) => /macro avg/.test(r));
    assert.ok(macro?.includes(report.macro.f1.toFixed(4)), `macro-F1 ${report.macro.f1.toFixed(4)} not in "${macro}"`);
    for (const l of ['circle', 'square', 'star', 'triangle']) {
      const r = rows.find((x) => x.trim().startsWith(l));
      assert.ok(r?.includes(report.perClass[l].recall.toFixed(4)), `recall of ${l} (${report.perClass[l].recall.toFixed(4)}) not in "${r}"`);
    }
  });

  it('shows the augmented-sample grid with the real RandomAffine parameters and seed', async () => {
    const runsDir = path.join(workspace, '.fewshot', 'runs');
    const runId = fs.readdirSync(runsDir).find((d) => !d.startsWith('.'))!;
    const index = JSON.parse(fs.readFileSync(path.join(runsDir, runId, RUN_FILES.augmentedIndex), 'utf8')) as AugmentedPreview;
    await expectUi(page, 'no augmented-sample grid', frame.locator('#augmented-grid').waitFor({ state: 'visible', timeout: 30_000 }));
    assert.equal((await frame.locator('#augmented-title').innerText()).trim(),
      `What the model sees (RandomAffine(degrees=15, translate=(0.1, 0.1), scale=(0.9, 1.1)), seed ${index.seed})`);
    const imgs = frame.locator('#augmented-grid img');
    assert.equal(await imgs.count(), index.rows.length * (1 + AUGMENT));
    await frame.waitForFunction(() => [...document.querySelectorAll<HTMLImageElement>('#augmented-grid img')].every((i) => i.complete && i.naturalWidth > 0), undefined, { timeout: 30_000 });
    await frame.locator('#augmented-grid').scrollIntoViewIfNeeded();
    assertNotBlank(await screenshot(page, 'images-augmented-grid'));
  });

  it('drills down a confusion cell to thumbnails; clicking one opens the image', async () => {
    const off = frame.locator('#confusion button.cell:not(.diag):not([data-count="0"])');
    const cell = (await off.count()) ? off.first() : frame.locator('#confusion button.cell:not([data-count="0"])').first();
    const n = Number(await cell.getAttribute('data-count'));
    await cell.click();
    const thumbs = frame.locator('#sample-thumbs button.thumb');
    await expectUi(page, 'no thumbnails in the drill-down', thumbs.first().waitFor({ state: 'visible', timeout: 30_000 }));
    assert.equal(await thumbs.count(), n);
    await frame.waitForFunction(() => [...document.querySelectorAll<HTMLImageElement>('#sample-thumbs img')].every((i) => i.complete && i.naturalWidth > 0), undefined, { timeout: 30_000 });
    const file = (await thumbs.first().getAttribute('data-file'))!;
    assert.ok(fs.existsSync(file), file);
    assertNotBlank(await screenshot(page, 'images-drilldown'));
    await thumbs.first().click();
    const tab = page.locator('.tabs-container .tab', { hasText: path.basename(file) });
    await expectUi(page, `the image ${path.basename(file)} did not open`, tab.first().waitFor({ state: 'visible', timeout: 30_000 }));
  });
});
