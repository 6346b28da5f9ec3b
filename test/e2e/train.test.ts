/**
 * Browser e2e: right-click the dataset folder in the Explorer → "Train Few-Shot
 * Model" → the dashboard webview fills its charts epoch by epoch and shows the
 * final report. Measures click → first epoch point and click → final report.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Frame, Locator, Page } from 'playwright-core';
import {
  cleanUpSuite,
  chooseContextMenuItem, chooseMenuItem,
  Browser,
  CodeServer,
  assertNotBlank,
  decodePng,
  expectUi,
  launchBrowser,
  makeScratchWorkspace,
  openWorkbench,
  repoRoot,
  resultsDir,
  reloadWindow,
  runCommand,
  screenshot,
  startCodeServer,
  waitForTitle,
  webviewFrame,
} from '../harness';
import { PROGRESS_UNIT_LABELS, type RunRecord } from '../../src/protocol/run';
import { ALGORITHM_LABELS } from '../../src/protocol/webview';

const EPOCHS = 40;

/** Pixels of a chart canvas that differ from its most common colour (read inside the webview). */
async function chartInk(frame: Frame, id: string): Promise<{ ink: number; points: number; w: number; h: number }> {
  return frame.evaluate((canvasId) => {
    const c = document.getElementById(canvasId) as HTMLCanvasElement | null;
    if (!c || !c.width || !c.height) return { ink: 0, points: 0, w: 0, h: 0 };
    const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
    const counts = new Map<number, number>();
    for (let i = 0; i < d.length; i += 4) {
      const k = (d[i] << 24) ^ (d[i + 1] << 16) ^ (d[i + 2] << 8) ^ d[i + 3];
      counts.set(k, (counts.get(k) ?? 0) + 1);
    }
    const bg = Math.max(...counts.values());
    return { ink: d.length / 4 - bg, points: Number(c.getAttribute('data-points') ?? 0), w: c.width, h: c.height };
  }, id);
}

/** Non-background pixels of an element screenshot (PNG decoded by the harness). */
async function screenshotInk(el: Locator, file: string): Promise<number> {
  await el.screenshot({ path: file });
  const png = decodePng(file);
  const counts = new Map<number, number>();
  for (let i = 0; i < png.data.length; i += png.channels) {
    const k = (png.data[i] << 16) | (png.data[i + 1] << 8) | png.data[i + 2];
    counts.set(k, (counts.get(k) ?? 0) + 1);
  }
  return png.width * png.height - Math.max(...counts.values());
}


describe('e2e: train from the Explorer context menu', function () {
  this.timeout(420_000);
  let server: CodeServer | undefined;
  let browser: Browser | undefined;
  let workspace = '';
  let page: Page;
  let frame: Frame;
  let tClick = 0;
  let tFirstMs = 0;
  /** Progress points of the finished run (metrics.jsonl lines). */
  let points = 0;
  const shots = path.join(resultsDir, 'screenshots');

  before(async () => {
    workspace = makeScratchWorkspace('train-e2e', { only: ['train-tiny'] });
    server = await startCodeServer({
      name: 'train-e2e',
      workspace,
      // head logreg (tfjs, in epochs): the default head's points are CV-scored configurations, not epochs
      settings: { 'fewshot.train.encoder': 'hashing', 'fewshot.train.head': 'logreg', 'fewshot.train.epochs': EPOCHS, 'fewshot.train.patience': 0 },
    });
    browser = await launchBrowser('train-e2e');
    page = browser.page;
    await openWorkbench(page, server.workbenchUrl({ extensionDevelopmentPath: repoRoot }));
    await waitForTitle(page, '[Extension Development Host]');
    fs.mkdirSync(shots, { recursive: true });
  });

  cleanUpSuite('train-e2e', () => ({ browser, server, workspace }));

  it('right-clicks train-tiny in the Explorer and runs "Train Few-Shot Model"', async () => {
    await page.keyboard.press('Control+Shift+E');
    const row = page.locator('.explorer-folders-view .monaco-list-row', { hasText: /^train-tiny$/ }).first();
    await expectUi(page, 'train-tiny is not in the Explorer', row.waitFor({ state: 'visible', timeout: 60_000 }));
    // The extension contributes the menu item once it is active (onStartupFinished): retry the menu until it shows.
    await chooseContextMenuItem(page, row, /^Train Few-Shot Model$/);
    tClick = Date.now(); // the menu item was just chosen
  });

  it('opens the dashboard, whose charts fill in epoch by epoch', async () => {
    frame = await expectUi(page, 'the dashboard webview did not open', webviewFrame(page, { hasText: /Validation macro-F1 and accuracy/, timeoutMs: 120_000 }));
    await frame.waitForFunction(() => Number(document.getElementById('loss-chart')?.getAttribute('data-points') ?? 0) > 0, undefined, { timeout: 120_000, polling: 50 });
    const tFirst = Date.now() - tClick;
    const live = await chartInk(frame, 'loss-chart');
    const liveShot = await screenshot(page, 'train-dashboard-live');
    assertNotBlank(liveShot);
    assert.ok(live.points >= 2, `loss chart has ${live.points} points`);
    assert.ok(live.ink > 500, `the loss chart canvas is blank (${JSON.stringify(live)})`);
    console.log(`      timing: click → first epoch point on the dashboard: ${tFirst} ms`);
    tFirstMs = tFirst;
  });

  it('shows the final report and confusion matrix, with every chart drawn', async () => {
    await frame.locator('#report-table').waitFor({ state: 'visible', timeout: 180_000 });
    const tReport = Date.now() - tClick;
    console.log(`      timing: click → final report on the dashboard: ${tReport} ms`);
    // What the trainer itself measured (from its start), to separate child/UI overhead from training.
    const runsDir = path.join(workspace, '.fewshot', 'runs');
    const runId = fs.readdirSync(runsDir).find((d) => !d.startsWith('.'))!;
    const rec = JSON.parse(fs.readFileSync(path.join(runsDir, runId, 'run.json'), 'utf8')) as RunRecord;
    points = fs.readFileSync(path.join(runsDir, runId, 'metrics.jsonl'), 'utf8').trim().split('\n').length;
    const timings = { clickToFirstEpochMs: tFirstMs, clickToReportMs: tReport, points, unit: rec.progress?.unit ?? 'epoch', trainer: rec.timings };
    console.log(`      trainer timings: ${JSON.stringify(rec.timings)}`);
    fs.writeFileSync(path.join(shots, 'train-dashboard-timings.json'), JSON.stringify(timings, null, 2));
    const status = await frame.locator('#run-status').innerText();
    assert.match(status, /completed/i);
    // The x axis is titled by the run's unit; the summary names the algorithm; "validation" says what it is.
    const unit = rec.progress?.unit ?? 'epoch';
    assert.equal(await frame.locator('#loss-chart').getAttribute('data-x-title'), PROGRESS_UNIT_LABELS[unit]);
    if (rec.algorithm) assert.equal((await frame.locator('#meta-algorithm').innerText()).trim(), ALGORITHM_LABELS[rec.algorithm]);
    if (rec.progress) assert.equal((await frame.locator('#validation-note').innerText()).trim(), `Validation: ${rec.progress.validation}`);
    if (rec.algorithm && !rec.algorithm.startsWith('tfjs')) assert.doesNotMatch(await frame.locator('#compute-note').innerText(), /trains on/);
    // Data problems of the run (train-tiny has 4 test samples per class) appear as a banner when recorded.
    assert.equal(await frame.locator('#data-problems li').count(), rec.dataProblems?.length ?? 0);
    const rows = await frame.locator('#report-table tbody tr').allInnerTexts();
    assert.ok(rows.some((r) => /macro avg/.test(r)) && rows.some((r) => /weighted avg/.test(r)), `report rows: ${rows.join(' | ')}`);
    assert.ok(rows.some((r) => /\b0\.\d{4}\b|\b1\.0000\b/.test(r)), 'no 4-digit values in the report');
    for (const id of ['loss-chart', 'score-chart', 'recall-chart']) {
      const ink = await chartInk(frame, id);
      assert.ok(ink.points >= 2, `${id}: ${ink.points} points`);
      assert.ok(ink.ink > 500, `${id} looks blank: ${JSON.stringify(ink)}`);
      const px = await screenshotInk(frame.locator(`#${id}`), path.join(shots, `train-${id}.png`));
      assert.ok(px > 500, `${id} screenshot has only ${px} non-background pixels`);
    }
    // Per-class recall names its lowest class.
    assert.match(await frame.locator('#recall-caption').innerText(), /Lowest recall: \S+/);
    const finalShot = await screenshot(page, 'train-dashboard-final');
    assertNotBlank(finalShot);
    const cells = await frame.locator('#confusion button.cell').count();
    assert.equal(cells, 9);
  });

  it('lists the samples of a confusion-matrix cell and opens one in the editor', async () => {
    // Prefer an off-diagonal (misclassified) cell; fall back to any non-empty one.
    const cell = (await frame.locator('#confusion button.cell:not(.diag):not([data-count="0"])').count())
      ? frame.locator('#confusion button.cell:not(.diag):not([data-count="0"])').first()
      : frame.locator('#confusion button.cell:not([data-count="0"])').first();
    const n = Number(await cell.getAttribute('data-count'));
    await cell.focus();
    await page.keyboard.press('Enter');
    const list = frame.locator('#samples .sample-list button.sample');
    await list.first().waitFor({ state: 'visible', timeout: 30_000 });
    assert.equal(await list.count(), n);
    const where = (await list.first().locator('.sample-where').innerText()).trim();
    await list.first().click();
    const tab = page.locator('.tabs-container .tab', { hasText: where });
    await expectUi(page, `the sample ${where} did not open in an editor`, tab.first().waitFor({ state: 'visible', timeout: 30_000 }));
    await screenshot(page, 'train-dashboard-sample-opened');
  });

  it('redraws the charts with the new colours when the theme changes', async () => {
    const before = await frame.evaluate(() => (window as unknown as { Chart: { defaults: { color: string } } }).Chart.defaults.color);
    const wasLight = await frame.evaluate(() => document.body.classList.contains('vscode-light'));
    const target = wasLight ? 'Dark Modern' : 'Light Modern';
    await runCommand(page, 'Preferences: Color Theme');
    const input = page.locator('.quick-input-widget input').first();
    await input.fill(target);
    await page.locator('.quick-input-widget .monaco-list-row', { hasText: new RegExp(`^${target}`) }).first().waitFor({ state: 'visible' });
    await page.keyboard.press('Enter');
    await frame.waitForFunction((cls) => document.body.classList.contains(cls), wasLight ? 'vscode-dark' : 'vscode-light', { timeout: 30_000 });
    await frame.waitForFunction((old) => {
      const c = (window as unknown as { Chart: { defaults: { color: string } } }).Chart.defaults.color;
      const fg = getComputedStyle(document.body).getPropertyValue('--vscode-editor-foreground').trim();
      return c !== old && c === fg;
    }, before, { timeout: 30_000 });
    for (const id of ['loss-chart', 'score-chart', 'recall-chart']) {
      const ink = await chartInk(frame, id);
      assert.ok(ink.ink > 500, `${id} blank after the theme change: ${JSON.stringify(ink)}`);
    }
    assertNotBlank(await screenshot(page, 'train-dashboard-theme-changed'));
  });

  it('restores the dashboard with its charts and report after a window reload', async () => {
    // Bring the dashboard back to the front (the sample opened beside it).
    await page.locator('.tabs-container .tab', { hasText: /^Training: train-tiny/ }).first().click();
    await reloadWindow(page);
    frame = await expectUi(page, 'the dashboard was not restored after reload', webviewFrame(page, { hasText: /Validation macro-F1 and accuracy/, timeoutMs: 120_000 }));
    await frame.locator('#report-table').waitFor({ state: 'visible', timeout: 60_000 });
    await frame.waitForFunction((n) => Number(document.getElementById('loss-chart')?.getAttribute('data-points') ?? 0) === 2 * n, points, { timeout: 60_000 });
    const ink = await chartInk(frame, 'recall-chart');
    assert.ok(ink.ink > 500, `recall chart blank after reload: ${JSON.stringify(ink)}`);
    assertNotBlank(await screenshot(page, 'train-dashboard-restored'));
  });

  it('lists the run in the Runs view, renames it and deletes it after a modal confirmation', async () => {
    const item = page.locator('.part.activitybar .action-item a[aria-label^="Few-Shot Lab"]');
    await item.click();
    const sidebar = page.locator('.part.sidebar');
    const runsPane = sidebar.locator('.pane', { has: page.locator('.pane-header', { hasText: /^\s*Runs/i }) });
    const row = runsPane.locator('.monaco-list-row', { hasText: /train-tiny/ }).first();
    await expectUi(page, 'the run is not in the Runs view', row.waitFor({ state: 'visible', timeout: 30_000 }));
    assert.match(await row.innerText(), /hashing/);
    assert.ok(await row.locator('.codicon-pass').count(), 'no completed icon on the run');
    // Rename
    await row.click({ button: 'right' });
    await chooseMenuItem(page, /^Rename Run…$/);
    const input = page.locator('.quick-input-widget input').first();
    await input.waitFor({ state: 'visible' });
    await input.fill('my first model');
    await page.keyboard.press('Enter');
    const renamed = runsPane.locator('.monaco-list-row', { hasText: /my first model/ }).first();
    await expectUi(page, 'the renamed run does not show', renamed.waitFor({ state: 'visible', timeout: 30_000 }));
    // Delete (modal). code-server renders modal messages as the workbench's own dialog. The menu's
    // Enter is occasionally swallowed while the workbench moves focus; the run is only deleted after
    // the dialog's confirmation, so choosing the menu item again is safe.
    const dialog = page.locator('.monaco-dialog-box');
    for (let attempt = 1; ; attempt++) {
      await renamed.click({ button: 'right' });
      await chooseMenuItem(page, /^Delete Run$/);
      const shown = await dialog.waitFor({ state: 'visible', timeout: 10_000 }).then(() => true, () => false);
      if (shown) break;
      if (attempt === 3) { await expectUi(page, 'no confirmation dialog for "Delete Run"', dialog.waitFor({ state: 'visible', timeout: 10_000 })); break; }
    }
    assert.match(await dialog.innerText(), /removed from disk/);
    await dialog.locator('.monaco-button', { hasText: /^Delete$/ }).click();
    await expectUi(page, 'the deleted run is still listed', renamed.waitFor({ state: 'detached', timeout: 30_000 }));
    assert.equal(fs.readdirSync(path.join(workspace, '.fewshot', 'runs')).filter((d) => !d.startsWith('.')).length, 0);
  });
});
