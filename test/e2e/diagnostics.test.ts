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

  it('marks the under-represented class folder under train/ (not under test/) in the Explorer, with the problem as tooltip', async () => {
    await runCommand(page, 'Show Explorer');
    const root = explorerRow(page, 'diag-imbalance');
    await expectUi(page, 'the dataset folder in the Explorer', root.waitFor({ state: 'visible', timeout: 60_000 }));
    await root.click();
    const badgeOf = (parent: string, name: string) => page.evaluate(([p, n]) => {
      // the row named n that follows the row named p (the Explorer lists children under their parent)
      const rows = Array.from(document.querySelectorAll('.explorer-folders-view .monaco-list-row'));
      const at = rows.findIndex((r) => r.querySelector('.label-name')?.textContent === p);
      const row = rows.slice(at + 1).find((r) => r.querySelector('.label-name')?.textContent === n);
      if (at < 0 || !row) return null;
      for (const el of Array.from(row.querySelectorAll('*'))) {
        const c = getComputedStyle(el, '::after').content;
        if (c && c !== 'none' && c !== 'normal' && c !== '""') return c;
      }
      return '';
    }, [parent, name]);
    // The class-imbalance problem is about the TRAINING samples: it belongs to train/negative. VS Code shows our "!" or,
    // because a file inside carries the diagnostic, its own bubbled problem marker there; test/negative carries nothing.
    for (const split of ['train', 'test']) {
      const row = explorerRow(page, split);
      await row.waitFor({ state: 'visible', timeout: 30_000 });
      await row.click();
    }
    await expectUi(page, 'a problem marker on train/negative', page.waitForFunction(() => {
      const rows = Array.from(document.querySelectorAll('.explorer-folders-view .monaco-list-row'));
      const at = rows.findIndex((r) => r.querySelector('.label-name')?.textContent === 'train');
      const row = rows.slice(at + 1).find((r) => r.querySelector('.label-name')?.textContent === 'negative');
      return !!row && Array.from(row.querySelectorAll('*')).some((el) => { const c = getComputedStyle(el, '::after').content; return !!c && c !== 'none' && c !== 'normal' && c !== '""'; });
    }, undefined, { timeout: 60_000 }));
    assert.equal(await badgeOf('test', 'negative'), '', 'the test folder carries no training-size problem');
    assert.equal(await badgeOf('test', 'positive'), '', 'the large class has no badge');
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
