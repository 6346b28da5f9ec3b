/**
 * Browser e2e: the dashboard of a saved 16-class run (built by the test from the 3-class fixture run).
 * The confusion matrix fits the panel without scrolling sideways, the recall legend names only the
 * lowest class (so it does not crowd out its chart), and the probability beside a misclassified
 * sample is labelled ("p = 0.83"). Screenshot: test-results/screenshots/dashboard-16-classes.png.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Frame, Page } from 'playwright-core';
import { chooseMenuItem, cleanUpSuite, Browser, CodeServer, expectUi, launchBrowser, makeScratchWorkspace, openWorkbench, repoRoot, resultsDir, startCodeServer, waitForTitle, webviewFrame } from '../harness';

const BASE = '20261101-100000-news-a1b2';
const ID = '20261110-100000-sixteen-b16c';
const LABELS = Array.from({ length: 16 }, (_, i) => `diagnosis-category-${String(i + 1).padStart(2, '0')}`);

/** A completed 16-class run: the fixture's run.json with 16 labels, a report, metrics and test predictions, all consistent. */
function sixteenClassRun(): Record<string, string> {
  const base = JSON.parse(fs.readFileSync(path.join(repoRoot, 'test', 'fixtures', 'runs', BASE, 'run.json'), 'utf8')) as Record<string, unknown> & { dataset: Record<string, unknown>; config: Record<string, unknown> };
  const n = LABELS.length;
  // Class i: 10 test samples, 8 right, 2 predicted as the next class (class 6 only 4 right: the lowest recall).
  const confusion = LABELS.map((_, i) => LABELS.map((__, j) => (j === i ? (i === 6 ? 4 : 8) : j === (i + 1) % n ? (i === 6 ? 6 : 2) : 0)));
  const perClass: Record<string, { precision: number; recall: number; f1: number; support: number }> = {};
  LABELS.forEach((l, i) => {
    const tp = confusion[i][i];
    const col = confusion.reduce((s, r) => s + r[i], 0);
    const precision = tp / col, recall = tp / 10;
    perClass[l] = { precision, recall, f1: (2 * precision * recall) / (precision + recall), support: 10 };
  });
  const avg = (k: 'precision' | 'recall' | 'f1') => LABELS.reduce((s, l) => s + perClass[l][k], 0) / n;
  const macro = { precision: avg('precision'), recall: avg('recall'), f1: avg('f1'), support: 10 * n };
  const accuracy = LABELS.reduce((s, _, i) => s + confusion[i][i], 0) / (10 * n);
  const report = { labels: LABELS, perClass, accuracy, macro, weighted: macro, confusion, split: 'test' };
  const counts = Object.fromEntries(LABELS.map((l) => [l, 10]));
  const run = { ...base, id: ID, name: undefined, createdAt: '2026-11-10T10:00:00.000Z', finishedAt: '2026-11-10T10:00:05.000Z', testMacroF1: macro.f1, testAccuracy: accuracy,
    config: { ...base.config, dataset: '/data/sixteen' }, dataset: { ...base.dataset, path: '/data/sixteen', labels: LABELS, counts: { train: counts, test: counts } } };
  const metrics = [1, 2, 3].map((epoch) => JSON.stringify({ epoch, loss: 1 / epoch, valLoss: 1.1 / epoch, valMacroF1: 0.5 + epoch / 10, valAccuracy: 0.5 + epoch / 10,
    perClassRecall: Object.fromEntries(LABELS.map((l, i) => [l, i === 6 ? 0.2 + epoch / 20 : 0.5 + epoch / 10])), elapsedMs: 200 * epoch }));
  const predictions: string[] = [];
  LABELS.forEach((l, i) => confusion[i].forEach((count, j) => {
    for (let k = 0; k < count; k++) {
      predictions.push(JSON.stringify({ index: predictions.length, text: `Sample ${k + 1} of ${l}`, label: l, predicted: LABELS[j], probabilities: { [LABELS[j]]: 0.83, [l]: j === i ? 0.83 : 0.17 } }));
    }
  }));
  const dir = `.fewshot/runs/${ID}`;
  return {
    [`${dir}/run.json`]: JSON.stringify(run, null, 2),
    [`${dir}/report.json`]: JSON.stringify(report, null, 2),
    [`${dir}/metrics.jsonl`]: metrics.join('\n') + '\n',
    [`${dir}/predictions.jsonl`]: predictions.join('\n') + '\n',
  };
}

describe('e2e: dashboard of a 16-class run', function () {
  this.timeout(300_000);
  let server: CodeServer | undefined;
  let browser: Browser | undefined;
  let workspace = '';
  let page: Page;
  let frame: Frame;

  before(async () => {
    workspace = makeScratchWorkspace('dashboard-many', { only: [], files: sixteenClassRun() });
    server = await startCodeServer({ name: 'dashboard-many', workspace });
    browser = await launchBrowser('dashboard-many');
    page = browser.page;
    await openWorkbench(page, server.workbenchUrl({ extensionDevelopmentPath: repoRoot }));
    await waitForTitle(page, '[Extension Development Host]');
  });

  cleanUpSuite('dashboard-many', () => ({ browser, server, workspace }));

  it('fits the confusion matrix in the panel, names only the lowest class in the recall legend, and labels sample probabilities', async () => {
    const item = page.locator('.part.activitybar .action-item a[aria-label^="Few-Shot Lab"]');
    await item.waitFor({ state: 'visible', timeout: 60_000 });
    await item.click();
    const runsPane = page.locator('.part.sidebar .pane', { has: page.locator('.pane-header', { hasText: /^runs/i }) });
    await runsPane.first().waitFor({ state: 'visible', timeout: 30_000 });
    const header = runsPane.locator('.pane-header').first();
    if ((await header.getAttribute('aria-expanded')) === 'false') await header.click();
    const row = runsPane.locator('.monaco-list-row', { hasText: ID }).first();
    await expectUi(page, 'the Runs view did not list the 16-class run', row.waitFor({ state: 'visible', timeout: 60_000 }));
    await row.click({ button: 'right' });
    await chooseMenuItem(page, /^Open Dashboard/);
    frame = await expectUi(page, 'the dashboard did not open', webviewFrame(page, { hasText: /Confusion matrix/, timeoutMs: 60_000 }));
    const cm = frame.locator('#confusion');
    await cm.waitFor({ state: 'visible', timeout: 30_000 });
    await cm.scrollIntoViewIfNeeded();
    const fit = await frame.evaluate(() => {
      const table = document.getElementById('confusion')!;
      const card = table.closest('.card')!;
      return { table: table.getBoundingClientRect().width, card: card.clientWidth, scroll: card.scrollWidth, page: document.documentElement.scrollWidth, view: document.documentElement.clientWidth, cells: table.querySelectorAll('button.cell').length };
    });
    assert.equal(fit.cells, 256);
    assert.ok(fit.scroll <= fit.card + 1 && fit.page <= fit.view + 1, `the matrix scrolls sideways: ${JSON.stringify(fit)}`);
    const legend = await frame.locator('#recall-chart').getAttribute('data-legend');
    assert.equal(legend, `▼ ${LABELS[6]}`);
    // A misclassified cell: its samples show a labelled probability.
    await frame.locator(`#confusion button[data-i="6"][data-j="7"]`).click();
    const conf = frame.locator('#samples .sample-conf').first();
    await conf.waitFor({ state: 'visible', timeout: 30_000 });
    assert.equal((await conf.innerText()).trim(), 'p = 0.83');
    assert.match(String(await conf.getAttribute('title')), new RegExp(`${LABELS[7]}: 0\\.8300`));
    const dir = path.join(resultsDir, 'screenshots');
    fs.mkdirSync(dir, { recursive: true });
    await page.screenshot({ path: path.join(dir, 'dashboard-16-classes.png') });
  });
});
