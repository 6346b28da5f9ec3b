/**
 * Browser e2e: fine-tune a transformer from the UI. Right-click a dataset folder → "Train Few-Shot Model
 * with Options…" → "Fine-tune transformer" → the tiny model folder (made by python/scripts/make_tiny_model.py
 * in the workspace) → the fine-tuning settings (defaults) → the dashboard shows real epochs, a stage marker
 * on the epoch axis, the stage table and the worker's device, then the report.
 *
 * Needs the PyTorch worker and FEWSHOT_PYTHON = a venv with python/requirements.txt (.ci/run exports one).
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import type { Frame, Page } from 'playwright-core';
import {
  Browser, CodeServer, assertNotBlank, chooseContextMenuItem, cleanUpSuite, expectUi, launchBrowser, makeScratchWorkspace, openWorkbench,
  repoRoot, screenshot, startCodeServer, waitForTitle, webviewFrame,
} from '../harness';
import type { RunRecord } from '../../src/protocol/run';

const LABELS = ['billing', 'shipping', 'technical'];

/** Texts of 3–6 topic words of their class (the words fewshot_worker.tiny puts in the tiny model's vocabulary). */
function topicDataset(): Record<string, string> {
  let seed = 11;
  const rnd = () => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed / 2147483648; };
  const files: Record<string, string> = {};
  for (const [split, n] of [['train', 10], ['test', 4]] as const) {
    for (const label of LABELS) {
      for (let i = 0; i < n; i++) {
        const k = 3 + Math.floor(rnd() * 4);
        const words = [...Array(k)].map(() => { const j = Math.floor(rnd() * 40); return `${label}${String.fromCharCode(97 + Math.floor(j / 26))}${String.fromCharCode(97 + (j % 26))}`; });
        files[`ft-data/${split}/${label}/${label}-${i}.txt`] = `please ${words.join(' ')} today\n`;
      }
    }
  }
  return files;
}

describe('e2e: fine-tune a transformer from Train with Options', function () {
  this.timeout(600_000);
  let server: CodeServer | undefined;
  let browser: Browser | undefined;
  let workspace = '';
  let page: Page;
  let frame: Frame;

  before(async () => {
    const python = process.env.FEWSHOT_PYTHON;
    assert.ok(python, 'FEWSHOT_PYTHON is not set: point it to a venv with python/requirements.txt (.ci/run exports one)');
    workspace = makeScratchWorkspace('finetune-e2e', { only: [], files: topicDataset() });
    const script = path.join(repoRoot, 'python', 'scripts', 'make_tiny_model.py');
    const r = spawnSync(python, [script, '--out', path.join(workspace, 'models', 'tiny-bert'), '--labels', LABELS.join(',')], { encoding: 'utf8', timeout: 180_000 });
    assert.equal(r.status, 0, `make_tiny_model.py failed: ${r.stderr || r.error}`);
    server = await startCodeServer({
      name: 'finetune-e2e',
      workspace,
      settings: { 'fewshot.finetune.epochs': 4, 'fewshot.finetune.headEpochs': 2 },
    });
    browser = await launchBrowser('finetune-e2e');
    page = browser.page;
    await openWorkbench(page, server.workbenchUrl({ extensionDevelopmentPath: repoRoot }));
    await waitForTitle(page, '[Extension Development Host]');
  });

  cleanUpSuite('finetune-e2e', () => ({ browser, server, workspace }));

  it('picks "Fine-tune transformer", the tiny model folder and the default settings', async () => {
    await page.keyboard.press('Control+Shift+E');
    const row = page.locator('.explorer-folders-view .monaco-list-row', { hasText: /^ft-data$/ }).first();
    await expectUi(page, 'ft-data is not in the Explorer', row.waitFor({ state: 'visible', timeout: 60_000 }));
    await chooseContextMenuItem(page, row, /^Train Few-Shot Model with Options…$/);
    const qi = page.locator('.quick-input-widget');
    const method = qi.locator('.monaco-list-row', { hasText: /Fine-tune transformer/ }).first();
    await expectUi(page, 'no method pick', method.waitFor({ state: 'visible', timeout: 30_000 }));
    assert.ok(await qi.locator('.monaco-list-row', { hasText: /Quick \(frozen encoder \+ logistic regression\)/ }).count());
    await method.click();
    // The interpreter is probed, then the model picker lists the workspace's model folders.
    const model = qi.locator('.monaco-list-row', { hasText: /tiny-bert/ }).first();
    await expectUi(page, 'the model picker does not list models/tiny-bert (or the interpreter check failed)', model.waitFor({ state: 'visible', timeout: 120_000 }));
    await model.click();
    // Steps 3–8: epochs, batch size, learning rate, unfreeze top N, full fine-tune above, precision — defaults.
    for (let i = 3; i <= 8; i++) {
      const title = qi.locator('.quick-input-title', { hasText: `(${i}/8)` });
      await expectUi(page, `step ${i}/8 of Train with Options`, title.waitFor({ state: 'visible', timeout: 30_000 }));
      if (i === 3) assert.equal(await qi.locator('input').first().inputValue(), '4');
      await page.keyboard.press('Enter');
      await title.waitFor({ state: 'hidden', timeout: 30_000 });
    }
  });

  it('shows real epochs, a stage marker where stage 2 begins, the stages and the device, then the report', async () => {
    frame = await expectUi(page, 'the dashboard webview did not open', webviewFrame(page, { hasText: /Validation macro-F1 and accuracy/, timeoutMs: 120_000 }));
    await frame.locator('#report-table').waitFor({ state: 'visible', timeout: 420_000 });
    assert.match(await frame.locator('#run-status').innerText(), /completed/i);
    const runsDir = path.join(workspace, '.fewshot', 'runs');
    const runId = fs.readdirSync(runsDir).find((d) => !d.startsWith('.'))!;
    const rec = JSON.parse(fs.readFileSync(path.join(runsDir, runId, 'run.json'), 'utf8')) as RunRecord;
    assert.equal(rec.algorithm, 'finetune-transformer');
    const epochs = fs.readFileSync(path.join(runsDir, runId, 'metrics.jsonl'), 'utf8').trim().split('\n').length;
    assert.equal(epochs, rec.epochsRun);
    await frame.waitForFunction((n) => Number(document.getElementById('loss-chart')?.getAttribute('data-points') ?? 0) === 2 * n, epochs, { timeout: 30_000 });
    assert.equal(await frame.locator('#loss-chart').getAttribute('data-stage-markers'), '3');
    const stages = await frame.locator('#stages li').allInnerTexts();
    assert.equal(stages.length, rec.finetune?.stages.length);
    assert.match(stages[1], /Stage 2/);
    assert.match(stages[1], /trainable parameters/);
    assert.match(await frame.locator('#meta-compute').innerText(), new RegExp(rec.finetune!.device.name.replace(/[()]/g, '.')));
    assert.match(await frame.locator('#meta-throughput').innerText(), /samples\/s/);
    assertNotBlank(await screenshot(page, 'finetune-dashboard-final'));
  });
});
