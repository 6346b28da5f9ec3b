/**
 * Browser e2e: the dashboard's per-sample table. The test writes a completed run of a small folder dataset (test
 * predictions and out-of-fold training predictions, through RunStore.saveResults) → the table lists every row →
 * sort by probability (both ways) → "errors only" → Export CSV through the save dialog (file content asserted) →
 * clicking the suspect row opens its file. Screenshot: test-results/screenshots/dashboard-sample-table.png.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Frame, Page } from 'playwright-core';
import { chooseMenuItem, cleanUpSuite, Browser, CodeServer, expectUi, launchBrowser, makeScratchWorkspace, openWorkbench, repoRoot, screenshot, startCodeServer, waitForTitle, webviewFrame } from '../harness';
import { RunStore } from '../../src/core/runs';
import type { TrainPrediction } from '../../src/protocol/labels';
import type { ClassificationReport, ModelFile, TestPrediction } from '../../src/protocol/run';

const BASE = '20261101-100000-news-a1b2';
const ID = '20261130-100000-notes-5a7b';
/** The same run without out-of-fold predictions (a head that computed none). */
const ID_NO_OOF = '20261130-110000-notes-0f0f';
const LABELS = ['cardiology', 'gastro'];

/** The dataset's files: 8 training and 3 test notes per class. */
function datasetFiles(): Record<string, string> {
  const files: Record<string, string> = {};
  for (const l of LABELS) {
    for (let i = 0; i < 8; i++) files[`notes/train/${l}/${l[0]}${i}.txt`] = `${l} training note ${i}\n`;
    for (let i = 0; i < 3; i++) files[`notes/test/${l}/${l[0]}t${i}.txt`] = `${l} test note ${i}\n`;
  }
  return files;
}

const probs = (pCard: number) => ({ cardiology: pCard, gastro: Math.round((1 - pCard) * 100) / 100 });

/** A completed run of notes/: test predictions with 2 errors, out-of-fold predictions with one flipped label (train/gastro/g4.txt). */
async function writeRun(workspace: string, id: string, name: string, withOof: boolean): Promise<void> {
  const root = path.join(workspace, 'notes');
  const test: TestPrediction[] = [];
  const testP = [0.91, 0.42, 0.88, 0.12, 0.67, 0.2]; // cardiology ct1 → gastro (0.58); gastro gt1 → cardiology (0.67)
  LABELS.forEach((l, c) => [0, 1, 2].forEach((i) => {
    const p = testP[c * 3 + i];
    test.push({ index: test.length, text: `${l} test note ${i}`, label: l, predicted: p >= 0.5 ? 'cardiology' : 'gastro', probabilities: probs(p), file: path.join(root, 'test', l, `${l[0]}t${i}.txt`) });
  }));
  const oof: TrainPrediction[] = [];
  LABELS.forEach((l, c) => [0, 1, 2, 3, 4, 5, 6, 7].forEach((i) => {
    const p = l === 'gastro' && i === 4 ? 0.93 : c === 0 ? 0.9 - (i % 4) * 0.02 : 0.1 + (i % 4) * 0.02;
    oof.push({ index: oof.length, text: `${l} training note ${i}`, label: l, predicted: p >= 0.5 ? 'cardiology' : 'gastro', probabilities: probs(p), file: path.join(root, 'train', l, `${l[0]}${i}.txt`) });
  }));
  const confusion = LABELS.map((g) => LABELS.map((p) => test.filter((t) => t.label === g && t.predicted === p).length));
  const per = (tp: number, fp: number, fn: number) => ({ precision: tp / (tp + fp), recall: tp / (tp + fn), f1: (2 * tp) / (2 * tp + fp + fn), support: tp + fn });
  const perClass = { cardiology: per(2, 1, 1), gastro: per(2, 1, 1) };
  const report: ClassificationReport = { labels: LABELS, perClass, accuracy: 4 / 6, macro: { ...perClass.cardiology, support: 6 }, weighted: { ...perClass.cardiology, support: 6 }, confusion, split: 'test', text: '' };
  const base = JSON.parse(fs.readFileSync(path.join(repoRoot, 'test', 'fixtures', 'runs', BASE, 'run.json'), 'utf8')) as Record<string, unknown> & { dataset: Record<string, unknown>; config: Record<string, unknown> };
  const record = { ...base, id, name, createdAt: '2026-11-30T10:00:00.000Z', finishedAt: '2026-11-30T10:00:03.000Z', testMacroF1: report.macro.f1, testAccuracy: report.accuracy,
    config: { ...base.config, dataset: root, head: 'auto' }, dataset: { ...base.dataset, path: root, labels: LABELS, counts: { train: { cardiology: 8, gastro: 8 }, test: { cardiology: 3, gastro: 3 } } } };
  const store = new RunStore(path.join(workspace, '.fewshot'));
  fs.mkdirSync(store.dirOf(id), { recursive: true });
  fs.writeFileSync(path.join(store.dirOf(id), 'run.json'), JSON.stringify(record, null, 2));
  fs.writeFileSync(path.join(store.dirOf(id), 'metrics.jsonl'), JSON.stringify({ epoch: 1, loss: 0.5, valLoss: null, valMacroF1: 0.8, valAccuracy: 0.8, elapsedMs: 100 }) + '\n');
  const model = { formatVersion: 1, labels: LABELS, encoder: { id: 'hashing-char-1-4-2048', requested: 'hashing', dim: 2048, reason: 'test' }, head: 'logreg', weights: [] } as unknown as ModelFile;
  await store.saveResults(id, { model, predictions: test, report, ...(withOof ? { oof } : {}) });
}

async function cellTexts(frame: Frame, col: string): Promise<string[]> {
  return (await frame.locator(`#samples-rows tbody td.col-${col}`).allInnerTexts()).map((s) => s.trim());
}

/** Runs view → right-click the run → Open Dashboard. */
async function openDashboard(page: Page, name: RegExp): Promise<void> {
  const item = page.locator('.part.activitybar .action-item a[aria-label^="Few-Shot Lab"]');
  const runsPane = page.locator('.part.sidebar .pane', { has: page.locator('.pane-header', { hasText: /^runs/i }) });
  // A second click on the active view's icon would close the side bar.
  if (!(await runsPane.first().isVisible())) {
    await item.waitFor({ state: 'visible', timeout: 60_000 });
    await item.click();
  }
  await runsPane.first().waitFor({ state: 'visible', timeout: 30_000 });
  const header = runsPane.locator('.pane-header').first();
  if ((await header.getAttribute('aria-expanded')) === 'false') await header.click();
  const row = runsPane.locator('.monaco-list-row', { hasText: name }).first();
  await expectUi(page, `the Runs view did not list ${name}`, row.waitFor({ state: 'visible', timeout: 60_000 }));
  await row.click({ button: 'right' });
  await chooseMenuItem(page, /^Open Dashboard/);
}

describe('e2e: dashboard per-sample table', function () {
  this.timeout(300_000);
  let server: CodeServer | undefined;
  let browser: Browser | undefined;
  let workspace = '';
  let page: Page;
  let frame: Frame;

  before(async () => {
    workspace = makeScratchWorkspace('dashboard-samples', { only: [], files: datasetFiles() });
    await writeRun(workspace, ID, 'notes with oof', true);
    await writeRun(workspace, ID_NO_OOF, 'notes without oof', false);
    server = await startCodeServer({ name: 'dashboard-samples', workspace });
    browser = await launchBrowser('dashboard-samples');
    page = browser.page;
    await openWorkbench(page, server.workbenchUrl({ extensionDevelopmentPath: repoRoot }));
    await waitForTitle(page, '[Extension Development Host]');
  });

  cleanUpSuite('dashboard-samples', () => ({ browser, server, workspace }));

  it('lists test and out-of-fold rows, sorts by probability, filters errors, exports CSV and opens a row', async () => {
    await openDashboard(page, /notes with oof/);
    frame = await expectUi(page, 'the dashboard did not show the per-sample table', webviewFrame(page, { hasText: /Per-sample predictions/, timeoutMs: 60_000 }));

    // Every row: 6 test predictions + 16 out-of-fold training predictions, one of them a suspect.
    await expectUi(page, 'the table did not list 22 rows', frame.locator('#samples-count', { hasText: 'Showing 1–22 of 22' }).waitFor({ timeout: 30_000 }));
    assert.equal(await frame.locator('#samples-rows tbody tr').count(), 22);
    assert.match(await frame.locator('#samples-totals').innerText(), /6 test rows, 16 training rows \(out-of-fold\), suspects: 1/);
    assert.equal(await frame.locator('#samples-no-oof').count(), 0);

    // Sort by probability: ascending, then descending (aria-sort follows).
    const probHeader = frame.locator('#samples-rows th[data-col="probability"]');
    await probHeader.locator('button').click();
    await frame.locator('#samples-rows th[data-col="probability"][aria-sort="ascending"]').waitFor({ timeout: 15_000 });
    const asc = (await cellTexts(frame, 'probability')).map(Number);
    assert.deepEqual(asc, asc.slice().sort((a, b) => a - b));
    await probHeader.locator('button').click();
    await frame.locator('#samples-rows th[data-col="probability"][aria-sort="descending"]').waitFor({ timeout: 15_000 });
    const desc = (await cellTexts(frame, 'probability')).map(Number);
    assert.deepEqual(desc, desc.slice().sort((a, b) => b - a));
    assert.equal(desc[0], 0.93);

    // Errors only: the 2 test errors and the flipped training label.
    await frame.locator('#samples-errors').check();
    await expectUi(page, 'errors only did not leave 3 rows', frame.locator('#samples-count', { hasText: 'Showing 1–3 of 3' }).waitFor({ timeout: 15_000 }));
    assert.deepEqual(await cellTexts(frame, 'probability'), ['0.9300', '0.6700', '0.5800']);
    assert.deepEqual(await cellTexts(frame, 'suspect'), ['⚑ cardiology', '', '']);
    assert.deepEqual(await cellTexts(frame, 'split'), ['train (OOF)', 'test', 'test']);
    await frame.locator('#sample-table').scrollIntoViewIfNeeded();
    await screenshot(page, 'dashboard-sample-table');

    // Export CSV: the save dialog proposes samples.csv in the run folder; every filtered row, in the shown order.
    await frame.locator('#samples-export').click();
    const input = page.locator('.quick-input-widget input').first();
    await expectUi(page, 'the save dialog did not open', input.waitFor({ state: 'visible', timeout: 30_000 }));
    // The simple file dialog fills in the folder first, then the proposed name.
    const proposed = await page.waitForFunction(() => {
      const v = (document.querySelector('.quick-input-widget input') as HTMLInputElement | null)?.value ?? '';
      return /samples\.csv$/.test(v) ? v : undefined;
    }, undefined, { timeout: 15_000 }).then((h) => h.jsonValue() as Promise<string>).catch(async () => `(still ${await input.inputValue()})`);
    assert.match(proposed, new RegExp(`${ID}[\\\\/]samples\\.csv$`));
    await input.press('Enter');
    const csvFile = path.join(workspace, '.fewshot', 'runs', ID, 'samples.csv');
    await expectUi(page, 'the export was not confirmed', frame.locator('#samples-status', { hasText: 'Exported 3 rows to' }).waitFor({ timeout: 30_000 }));
    const csv = fs.readFileSync(csvFile, 'utf8');
    const root = path.join(workspace, 'notes');
    assert.equal(csv, '\ufeff' + [
      'split,index,text,gold,predicted,probability,margin,suspect,suggested,file,line',
      // margin = the saved top probability minus the second, as JavaScript computes it
      `train,12,gastro training note 4,gastro,cardiology,0.93,${0.93 - 0.07},yes,cardiology,${path.join(root, 'train', 'gastro', 'g4.txt')},`,
      `test,4,gastro test note 1,gastro,cardiology,0.67,${0.67 - 0.33},no,,${path.join(root, 'test', 'gastro', 'gt1.txt')},`,
      `test,1,cardiology test note 1,cardiology,gastro,0.58,${0.58 - 0.42},no,,${path.join(root, 'test', 'cardiology', 'ct1.txt')},`,
    ].join('\r\n') + '\r\n');

    // The text box filters on top of the toggles (text, gold or predicted).
    await frame.locator('#samples-filter').fill('TRAINING NOTE');
    await expectUi(page, 'the text filter did not leave the suspect', frame.locator('#samples-count', { hasText: 'Showing 1–1 of 1' }).waitFor({ timeout: 15_000 }));
    assert.deepEqual(await cellTexts(frame, 'text'), ['gastro training note 4']);

    // Clicking the suspect row opens its file.
    await frame.locator('#samples-rows tbody tr.suspect-row').first().click();
    const tab = page.locator('.tabs-container .tab', { hasText: 'g4.txt' });
    await expectUi(page, 'the row did not open g4.txt', tab.first().waitFor({ state: 'visible', timeout: 30_000 }));
  });

  it('shows only the test rows of a run without out-of-fold predictions, and says why', async () => {
    await openDashboard(page, /notes without oof/);
    const f = await expectUi(page, 'the dashboard did not say why there are no training rows',
      webviewFrame(page, { hasText: /this run's head computed no out-of-fold predictions/, timeoutMs: 60_000 }));
    await f.locator('#samples-count', { hasText: 'Showing 1–6 of 6' }).waitFor({ timeout: 30_000 });
    assert.deepEqual([...new Set(await cellTexts(f, 'split'))], ['test']);
    assert.match(await f.locator('#samples-totals').innerText(), /6 test rows, 0 training rows/);
  });
});
