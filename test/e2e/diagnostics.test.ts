/**
 * Browser e2e: code-server + chromium. The dataset language server flags the
 * class imbalance of test/fixtures/workspace/diag-imbalance: the warning shows
 * in the Problems panel and the class folder gets a '!' badge in the Explorer.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import type { Page } from 'playwright-core';
import {
  cleanUpSuite,
  assertNotBlank, Browser, CodeServer, expectUi, launchBrowser, makeScratchWorkspace, openWorkbench, repoRoot,
  runCommand, screenshot, startCodeServer, waitForTitle,
} from '../harness';

/** Explorer row of a file or folder by its name. */
function explorerRow(page: Page, name: string) {
  return page.locator('.explorer-folders-view .monaco-list-row').filter({ has: page.locator('.label-name', { hasText: new RegExp(`^${name}$`) }) }).first();
}

describe('diagnostics e2e: class imbalance in the Problems panel and the Explorer', function () {
  this.timeout(300_000);
  let server: CodeServer | undefined;
  let browser: Browser | undefined;
  let workspace = '';
  let page: Page;

  before(async () => {
    workspace = makeScratchWorkspace('diagnostics', { only: ['diag-imbalance'] });
    server = await startCodeServer({ name: 'diagnostics', workspace });
    browser = await launchBrowser('diagnostics');
    page = browser.page;
    await openWorkbench(page, server.workbenchUrl({ extensionDevelopmentPath: repoRoot }));
    await waitForTitle(page, '[Extension Development Host]');
  });

  cleanUpSuite('diagnostics', () => ({ browser, server, workspace }));

  it('shows a "!" badge with the problem as tooltip on the under-represented class folder in the Explorer', async () => {
    await runCommand(page, 'Show Explorer');
    const root = explorerRow(page, 'diag-imbalance');
    await expectUi(page, 'the dataset folder in the Explorer', root.waitFor({ state: 'visible', timeout: 60_000 }));
    await root.click();
    // test/negative: no file inside carries a problem, so VS Code shows our own badge
    // (train/negative shows VS Code's "contains problems" dot instead: bubbled child
    // decorations replace a folder's own badge).
    const test = explorerRow(page, 'test');
    await test.waitFor({ state: 'visible', timeout: 30_000 });
    await test.click();
    const negative = explorerRow(page, 'negative');
    await negative.waitFor({ state: 'visible', timeout: 30_000 });
    const badgeOf = (name: string) => page.evaluate((n) => {
      const rows = Array.from(document.querySelectorAll('.explorer-folders-view .monaco-list-row'));
      const row = rows.find((r) => r.querySelector('.label-name')?.textContent === n);
      if (!row) return null;
      for (const el of Array.from(row.querySelectorAll('*'))) {
        const c = getComputedStyle(el, '::after').content;
        if (c && c !== 'none' && c !== 'normal' && c !== '""') return c;
      }
      return '';
    }, name);
    await expectUi(page, 'the "!" badge on test/negative', page.waitForFunction(() => {
      const rows = Array.from(document.querySelectorAll('.explorer-folders-view .monaco-list-row'));
      const row = rows.find((r) => r.querySelector('.label-name')?.textContent === 'negative');
      return !!row && Array.from(row.querySelectorAll('*')).some((el) => getComputedStyle(el, '::after').content === '"!"');
    }, undefined, { timeout: 60_000 }));
    assert.equal(await badgeOf('positive'), '', 'the large class has no badge');
    // the badge's tooltip names the problem
    await negative.hover();
    const hover = page.locator('.monaco-hover, .workbench-hover').filter({ hasText: /imbalanced|training samples/ }).first();
    await expectUi(page, 'the badge tooltip', hover.waitFor({ state: 'visible', timeout: 20_000 }));
    await screenshot(page, 'diagnostics-explorer-badge');
  });

  it('lists the class-imbalance warning in the Problems panel', async () => {
    await runCommand(page, 'Focus on Problems View');
    const panel = page.locator('.part.panel');
    await expectUi(page, 'the Problems panel', panel.waitFor({ state: 'visible', timeout: 30_000 }));
    const warning = panel.getByText(/Classes are imbalanced: 'positive' has 12 training samples but 'negative' has only 3/).first();
    await expectUi(page, 'the class-imbalance warning', warning.waitFor({ state: 'visible', timeout: 60_000 }));
    // the file it is on (first file of the smallest class) heads its group
    await panel.getByText('neg-01.txt').first().waitFor({ state: 'visible', timeout: 10_000 });
    const file = await screenshot(page, 'diagnostics-class-imbalance');
    assert.ok(fs.statSync(file).size > 5_000);
    assertNotBlank(file);
  });
});
