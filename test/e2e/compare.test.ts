/**
 * Browser e2e: in code-server, select two saved runs in the Runs view
 * (ctrl-click), open "Compare Runs" from the context menu, and check the
 * comparison webview: overlaid curves and the metrics table are drawn (element
 * screenshots in test-results/screenshots/, asserted not blank), the table sorts
 * from the keyboard.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Frame, Locator, Page } from 'playwright-core';
import {
  cleanUpSuite,
  chooseMenuItem,
  assertNotBlank,
  Browser,
  CodeServer,
  expectUi,
  launchBrowser,
  makeScratchWorkspace,
  openWorkbench,
  repoRoot,
  resultsDir,
  reloadWindow,
  runCommand,
  startCodeServer,
  waitForTitle,
  webviewFrame,
} from '../harness';

const A = '20261101-100000-news-a1b2'; // named "baseline hashing"
const B = '20261101-110000-news-c3d4';
const C = '20261102-090000-news-e5f6'; // trained on different data
const FS = '20261105-090000-news-fs01'; // few-shot ensemble, named "few-shot ensemble": points are candidate configurations
const fixtures = path.join(repoRoot, 'test', 'fixtures', 'runs');

/** Whether a quick-pick row is ticked (its checkbox, native or VS Code's custom one). */
function isTicked(row: Locator): Promise<boolean> {
  return row.evaluate((el) => {
    if (el.getAttribute('aria-checked') === 'true') return true;
    const cb = el.querySelector('input[type="checkbox"], .monaco-checkbox, .quick-input-list-checkbox');
    if (!cb) return false;
    if (cb instanceof HTMLInputElement) return cb.checked;
    return cb.getAttribute('aria-checked') === 'true' || cb.classList.contains('checked');
  });
}

/**
 * Ticks quick-pick rows one at a time. A click is only repeated while its row still reads
 * unticked after waiting for it (on a busy machine a click can register late: clicking again
 * blindly would untick it), and at the end every row must read ticked and the badge must agree.
 */
async function tickRows(page: Page, rows: Locator[]): Promise<void> {
  const waitTicked = async (row: Locator, ms: number): Promise<boolean> => {
    const t0 = Date.now();
    for (;;) {
      if (await isTicked(row)) return true;
      if (Date.now() - t0 > ms) return false;
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  for (const [i, row] of rows.entries()) {
    for (let attempt = 1; !(await isTicked(row)); attempt++) {
      if (attempt > 3) throw new Error(`quick pick: row ${i + 1} did not get ticked`);
      await row.locator('input[type="checkbox"], .monaco-checkbox, .quick-input-list-checkbox').first().click();
      if (await waitTicked(row, 5_000)) break;
    }
  }
  for (const [i, row] of rows.entries()) if (!(await isTicked(row))) throw new Error(`quick pick: row ${i + 1} was unticked again`);
  await page.locator('.quick-input-widget .monaco-count-badge').filter({ hasText: new RegExp(`^\\s*${rows.length} Selected\\s*$`) }).first()
    .waitFor({ state: 'visible', timeout: 10_000 });
}

describe('e2e: compare runs', function () {
  this.timeout(300_000);
  let server: CodeServer | undefined;
  let browser: Browser | undefined;
  let workspace = '';
  let page: Page;
  let frame: Frame;

  before(async () => {
    workspace = makeScratchWorkspace('compare', {
      only: [],
      copy: {
        [`.fewshot/runs/${A}`]: path.join(fixtures, A),
        [`.fewshot/runs/${B}`]: path.join(fixtures, B),
        [`.fewshot/runs/${C}`]: path.join(fixtures, C),
        [`.fewshot/runs/${FS}`]: path.join(repoRoot, 'test', 'fixtures', 'runs-fewshot', FS),
      },
    });
    server = await startCodeServer({ name: 'compare', workspace });
    browser = await launchBrowser('compare');
    page = browser.page;
    await openWorkbench(page, server.workbenchUrl({ extensionDevelopmentPath: repoRoot }));
    await waitForTitle(page, '[Extension Development Host]');
  });

  cleanUpSuite('compare', () => ({ browser, server, workspace }));

  it('selects two runs in the Runs view and opens the comparison from the context menu', async () => {
    const item = page.locator('.part.activitybar .action-item a[aria-label^="Few-Shot Lab"]');
    await item.waitFor({ state: 'visible', timeout: 60_000 });
    await item.click();
    const sidebar = page.locator('.part.sidebar');
    const runsPane = sidebar.locator('.pane', { has: page.locator('.pane-header', { hasText: /^runs/i }) });
    await runsPane.first().waitFor({ state: 'visible', timeout: 30_000 });
    const header = runsPane.locator('.pane-header').first();
    if ((await header.getAttribute('aria-expanded')) === 'false') await header.click();
    const rowA = runsPane.locator('.monaco-list-row', { hasText: 'baseline hashing' }).first();
    const rowB = runsPane.locator('.monaco-list-row', { hasText: B }).first();
    await expectUi(page, 'the Runs view does not list the fixture runs', Promise.all([rowA.waitFor({ state: 'visible', timeout: 60_000 }), rowB.waitFor({ state: 'visible', timeout: 60_000 })]));
    await rowA.click({ modifiers: ['Control'] });
    await rowB.click({ modifiers: ['Control'] });
    await expectUi(page, 'both rows selected', page.waitForFunction(() => {
      const rows = Array.from(document.querySelectorAll('.part.sidebar .monaco-list-row.selected'));
      return rows.length >= 2;
    }, undefined, { timeout: 10_000 }));
    await rowB.click({ button: 'right' });
    await chooseMenuItem(page, /^Compare Runs/);
    frame = await expectUi(page, 'the comparison webview did not open', webviewFrame(page, { hasText: /Compare runs \(2\)/, timeoutMs: 60_000 }));
    await frame.locator('table.metrics tbody tr').nth(1).waitFor({ state: 'visible', timeout: 30_000 });
    const names = await frame.locator('table.metrics tbody tr th').allInnerTexts();
    assert.equal(names.length, 2);
    assert.ok(names.some((n) => n.includes('baseline hashing')), names.join(' | '));
    assert.ok(names.some((n) => n.includes(B)), names.join(' | '));
    const cells = await frame.locator('table.metrics tbody tr td[data-column="testMacroF1"]').allInnerTexts();
    assert.deepEqual(cells.map((c) => c.trim().slice(0, 6)).sort(), ['0.8347', '0.8982']);
    assert.equal(await frame.locator('table.metrics td.best[data-column="testMacroF1"]').innerText().then((s) => s.trim().slice(0, 6)), '0.8982');
  });

  it('draws the overlaid curves and the table (screenshots not blank)', async () => {
    const dir = path.join(resultsDir, 'screenshots');
    fs.mkdirSync(dir, { recursive: true });
    const canvas = frame.locator('#curves-canvas');
    await canvas.scrollIntoViewIfNeeded();
    // chart.js has drawn when the canvas has a backing store and the legend lists both runs (via the render summary in the DOM)
    await frame.waitForFunction(() => {
      const c = document.getElementById('curves-canvas') as HTMLCanvasElement | null;
      return !!c && c.width > 100 && c.height > 100;
    }, undefined, { timeout: 30_000 });
    const curvesFile = path.join(dir, 'compare-curves.png');
    await canvas.screenshot({ path: curvesFile });
    const curves = assertNotBlank(curvesFile, { distinctColors: 8, lumaStdDev: 2 });
    assert.ok(curves.width > 300, `curves screenshot is ${curves.width}px wide`);
    const table = frame.locator('table.metrics');
    await table.scrollIntoViewIfNeeded();
    const tableFile = path.join(dir, 'compare-table.png');
    await table.screenshot({ path: tableFile });
    assertNotBlank(tableFile, { distinctColors: 8, lumaStdDev: 2 });
    // the whole panel too, for the humans
    await page.screenshot({ path: path.join(dir, 'compare-panel.png') });
  });

  it('sorts the table from the keyboard (Enter on a column header)', async () => {
    const sortBtn = frame.locator('th button.sort[data-column="testMacroF1"]');
    await sortBtn.focus();
    await page.keyboard.press('Enter');
    await frame.waitForFunction(() => document.querySelector('th[aria-sort="descending"] button[data-column="testMacroF1"]') !== null, undefined, { timeout: 10_000 });
    const first = await frame.locator('table.metrics tbody tr').first().getAttribute('data-run');
    assert.equal(first, B);
    await frame.locator('th button.sort[data-column="testMacroF1"]').focus();
    await page.keyboard.press('Enter');
    await frame.waitForFunction(() => document.querySelector('th[aria-sort="ascending"] button[data-column="testMacroF1"]') !== null, undefined, { timeout: 10_000 });
    assert.equal(await frame.locator('table.metrics tbody tr').first().getAttribute('data-run'), A);
  });

  it('keeps its state when hidden and restores itself after a window reload', async () => {
    const sortedAsc = () => frame.waitForFunction(() => document.querySelector('th[aria-sort="ascending"] button[data-column="testMacroF1"]') !== null, undefined, { timeout: 30_000 });
    await sortedAsc();
    // hide the panel behind another editor, then bring it back
    await runCommand(page, 'New Untitled Text File');
    await page.locator('.tabs-container .tab.active', { hasText: /Untitled/ }).waitFor({ state: 'visible', timeout: 15_000 });
    await page.locator('.tabs-container .tab', { hasText: 'Compare Runs (2)' }).click();
    frame = await webviewFrame(page, { hasText: /Compare runs \(2\)/, timeoutMs: 30_000 });
    await sortedAsc();
    assert.equal(await frame.locator('table.metrics tbody tr').first().getAttribute('data-run'), A);
    // reload the window: the serializer brings the panel back with its runs and sort
    await reloadWindow(page);
    await page.locator('.tabs-container .tab', { hasText: 'Compare Runs' }).first().click({ timeout: 60_000 });
    frame = await expectUi(page, 'the comparison did not come back after reload', webviewFrame(page, { hasText: /Compare runs \(2\)/, timeoutMs: 90_000 }));
    await frame.locator('table.metrics tbody tr').nth(1).waitFor({ state: 'visible', timeout: 30_000 });
    await sortedAsc();
  });

  it('opens from the command palette: a multi-select list with the figures beside each run', async () => {
    await runCommand(page, 'Few-Shot Lab: Compare Runs');
    const widget = page.locator('.quick-input-widget');
    const rowA = widget.locator('.monaco-list-row', { hasText: 'baseline hashing' }).first();
    const rowC = widget.locator('.monaco-list-row', { hasText: C }).first();
    await expectUi(page, 'the run picker did not open', rowA.waitFor({ state: 'visible', timeout: 30_000 }));
    const textA = (await rowA.innerText()).replace(/\s+/g, ' ');
    assert.match(textA, /best validation macro-F1 0\.8000 · test macro-F1 0\.8347/);
    assert.match(textA, /hashing-char-1-4-2048 · logreg · 2026-11-01 10:00/);
    await tickRows(page, [rowA, rowC]);
    await page.keyboard.press('Enter');
    frame = await expectUi(page, 'the comparison of A and C did not show', webviewFrame(page, { hasText: /Different data/, timeoutMs: 60_000 }));
    await frame.locator('.banner.mismatch[role="alert"]').waitFor({ state: 'visible', timeout: 30_000 });
    const rows = await frame.locator('table.metrics tbody tr').evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-run')));
    assert.deepEqual([...rows].sort(), [A, C].sort());
    const dir = path.join(resultsDir, 'screenshots');
    await page.screenshot({ path: path.join(dir, 'compare-different-data.png') });
  });

  it('compares an epoch run with a few-shot run: separate x axes with a note, n/a for unused settings', async () => {
    await runCommand(page, 'Few-Shot Lab: Compare Runs');
    const widget = page.locator('.quick-input-widget');
    const rowA = widget.locator('.monaco-list-row', { hasText: 'baseline hashing' }).first();
    const rowFs = widget.locator('.monaco-list-row', { hasText: 'few-shot ensemble' }).first();
    await expectUi(page, 'the run picker did not open', rowFs.waitFor({ state: 'visible', timeout: 30_000 }));
    await tickRows(page, [rowA, rowFs]);
    await page.keyboard.press('Enter');
    frame = await expectUi(page, 'the comparison of A and the few-shot run did not show', webviewFrame(page, { hasText: /few-shot ensemble/, timeoutMs: 60_000 }));
    await frame.locator('#curves-units-note').waitFor({ state: 'visible', timeout: 30_000 });
    assert.match(await frame.locator('#curves-units-note').innerText(), /different units/);
    const epochs = frame.locator('table.settings tr[data-key="config.epochs"] td.value');
    await epochs.first().waitFor({ state: 'visible', timeout: 30_000 });
    assert.deepEqual((await epochs.allInnerTexts()).map((x) => x.trim()).sort(), ['60', 'n/a']);
    const best = await frame.locator(`table.metrics tr[data-run="${FS}"] td[data-column="bestEpoch"]`).innerText();
    assert.equal(best.trim(), 'configuration 4');
    // The few-shot head is not fitted by TensorFlow.js: its recorded backend is not shown as the head's.
    assert.equal((await frame.locator(`table.metrics tr[data-run="${FS}"] td[data-column="backend"]`).innerText()).trim(), 'n/a');
    assert.equal((await frame.locator(`table.metrics tr[data-run="${A}"] td[data-column="backend"]`).innerText()).trim(), 'wasm');
    await page.screenshot({ path: path.join(resultsDir, 'screenshots', 'compare-units.png') });
  });

  it('keeps every "Save PNG" button of the confusion matrices whole, even beside a long run name', async () => {
    const long = 'few-shot ensemble, sixteen candidate configurations, class weighting on, second attempt';
    const name = frame.locator(`input.name[data-focus="name:${FS}"]`);
    await name.fill(long);
    await name.press('Enter');
    await name.blur();
    const caption = frame.locator(`.matrices figure:has(canvas[data-run="${FS}"]) figcaption`);
    await expectUi(page, 'the renamed run did not reach the confusion matrices', caption.locator('.name', { hasText: long }).waitFor({ state: 'attached', timeout: 30_000 }));
    await caption.scrollIntoViewIfNeeded();
    const boxes = await frame.locator('.matrices figure').evaluateAll((figs) => figs.map((f) => {
      const b = f.querySelector('figcaption button')!;
      const fr = f.getBoundingClientRect();
      const br = b.getBoundingClientRect();
      const canvas = f.querySelector('canvas')!;
      // The figure is as wide as its matrix (a long name does not widen it), and the button stays whole inside it.
      return { run: canvas.getAttribute('data-run'), inside: br.left >= fr.left && br.right <= fr.right + 0.5, whole: b.scrollWidth <= b.clientWidth + 1, width: br.width, fitsMatrix: fr.width <= canvas.getBoundingClientRect().width + 40 };
    }));
    assert.equal(boxes.length, 2, JSON.stringify(boxes));
    for (const b of boxes) assert.ok(b.inside && b.whole && b.width > 40 && b.fitsMatrix, `Save PNG clipped: ${JSON.stringify(b)}`);
    await frame.locator('.matrices').screenshot({ path: path.join(resultsDir, 'screenshots', 'compare-matrices-long-name.png') });
  });
});
