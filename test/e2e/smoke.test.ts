/**
 * Browser smoke test: code-server + Debian chromium with the extension loaded
 * from this repository (Extension Development Host).
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import type { Page } from 'playwright-core';
import {
  cleanUpSuite,
  assertNotBlank,
  expectUi,
  Browser,
  CodeServer,
  launchBrowser,
  makeScratchWorkspace,
  openWorkbench,
  repoRoot,
  runCommand,
  screenshot,
  startCodeServer,
  waitForTitle,
} from '../harness';

describe('smoke: workbench with Few-Shot Lab', function () {
  this.timeout(300_000);
  let server: CodeServer | undefined;
  let browser: Browser | undefined;
  let workspace = '';
  let page: Page;

  before(async () => {
    workspace = makeScratchWorkspace('smoke');
    server = await startCodeServer({ name: 'smoke', workspace });
    browser = await launchBrowser('smoke');
    page = browser.page;
    await openWorkbench(page, server.workbenchUrl({ extensionDevelopmentPath: repoRoot }));
  });

  cleanUpSuite('smoke', () => ({ browser, server, workspace }));

  it('loads the workbench as an Extension Development Host on the scratch workspace', async () => {
    await waitForTitle(page, '[Extension Development Host]');
    assert.match(await page.title(), /workspace/);
  });

  it('shows the Few-Shot Lab container in the activity bar with its Datasets and Runs views', async () => {
    const item = page.locator('.part.activitybar .action-item a[aria-label^="Few-Shot Lab"]');
    await item.waitFor({ state: 'visible', timeout: 60_000 });
    await item.click();
    const sidebar = page.locator('.part.sidebar');
    await sidebar.locator('.composite.title', { hasText: /few-shot lab/i }).waitFor({ state: 'visible' });
    await sidebar.locator('.pane-header', { hasText: /datasets/i }).waitFor({ state: 'visible' });
    await sidebar.locator('.pane-header', { hasText: /runs/i }).waitFor({ state: 'visible' });
  });

  it('runs "Few-Shot Lab: Show Training Log" from the command palette and shows the Few-Shot Lab output', async () => {
    await runCommand(page, 'Few-Shot Lab: Show Training Log');
    // The panel opens on the Output view with our channel selected in its picker.
    await expectUi(
      page,
      'the Few-Shot Lab output channel is not shown',
      page.waitForFunction(
        () => {
          const panel = document.querySelector<HTMLElement>('.part.panel');
          if (!panel || panel.offsetParent === null) return false;
          const selects = Array.from(panel.querySelectorAll<HTMLSelectElement>('select.monaco-select-box'));
          return selects.some((s) => s.selectedIndex >= 0 && s.options[s.selectedIndex]?.text === 'Few-Shot Lab');
        },
        undefined,
        { timeout: 30_000 },
      ),
    );
  });

  it('writes a screenshot that is not blank', async () => {
    const file = await screenshot(page, 'smoke-workbench');
    assert.ok(fs.statSync(file).size > 5_000, `${file} is suspiciously small`);
    const stats = assertNotBlank(file);
    const size = page.viewportSize();
    assert.equal(stats.width, size?.width);
    assert.equal(stats.height, size?.height);
  });
});
