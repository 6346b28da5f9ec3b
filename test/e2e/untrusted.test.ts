/**
 * Browser e2e: Few-Shot Lab in an untrusted workspace (Restricted Mode).
 *
 * code-server runs with workspace trust enabled (startCodeServer({ workspaceTrust: true })),
 * so a fresh profile asks "Do you trust the authors…"; we answer "No". Then:
 * browsing (Datasets/Runs views) still works, the trust-gated commands
 * (`enablement: isWorkspaceTrusted`) are hidden from the palette and disabled in
 * the Datasets view, and the one UI path that still reaches the train handler
 * (the Runs view's welcome button, a `command:` link) shows the product's
 * Restricted Mode message with a working "Manage Workspace Trust" button.
 */
import * as assert from 'node:assert/strict';
import type { Locator, Page } from 'playwright-core';
import {
  cleanUpSuite,
  assertNotBlank,
  Browser,
  CodeServer,
  expectUi,
  focusWorkbench,
  launchBrowser,
  makeScratchWorkspace,
  openWorkbench,
  repoRoot,
  screenshot,
  startCodeServer,
  waitForTitle,
} from '../harness';

const TRAIN_UNTRUSTED = 'Training is disabled in Restricted Mode: it starts a process that reads the files of this workspace. Trust the workspace to train (Manage Workspace Trust → Trust).';

describe('e2e: untrusted workspace (Restricted Mode)', function () {
  this.timeout(300_000);
  let server: CodeServer | undefined;
  let browser: Browser | undefined;
  let workspace = '';
  let page: Page;

  const sidebarPane = (name: RegExp): Locator =>
    page.locator('.part.sidebar .pane', { has: page.locator('.pane-header', { hasText: name }) });

  /**
   * Whether the command palette offers "Few-Shot Lab: <title>". The palette is first shown to
   * list the extension's commands (anchor), then cleared of them by a query that matches none, then
   * given the query; the row must appear within `withinMs` (an absence check has to wait a bit).
   */
  async function paletteOffers(title: string, withinMs = 3_000): Promise<{ offered: boolean; labels: string[] }> {
    const widget = page.locator('.quick-input-widget');
    const input = widget.locator('input.input, .quick-input-box input').first();
    const rows = widget.locator('.monaco-list-row');
    const rowWithLabel = (label: string) =>
      rows.filter({ has: page.locator('.label-name', { hasText: new RegExp(`^Few-Shot Lab: ${label.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`) }) }).first();
    await focusWorkbench(page);
    await page.keyboard.press('F1');
    await input.waitFor({ state: 'visible', timeout: 10_000 });
    await input.fill('>Few-Shot Lab: Refresh Datasets');
    await expectUi(page, '"Few-Shot Lab: Refresh Datasets" is not in the palette', rowWithLabel('Refresh Datasets').waitFor({ state: 'visible', timeout: 60_000 }));
    await input.fill('>qqxzjv no such command');
    // (VS Code may still list a few "similar commands", but none of ours.)
    await page.waitForFunction(
      () => ![...document.querySelectorAll('.quick-input-widget .monaco-list-row .label-name')].some((e) => e.textContent?.startsWith('Few-Shot Lab')),
      undefined,
      { timeout: 10_000 },
    );
    await input.fill(`>Few-Shot Lab: ${title}`);
    const offered = await rowWithLabel(title).waitFor({ state: 'visible', timeout: withinMs }).then(() => true, () => false);
    const labels = (await rows.locator('.label-name').allTextContents()).map((l) => l.trim());
    await page.keyboard.press('Escape');
    await widget.waitFor({ state: 'hidden', timeout: 10_000 });
    return { offered, labels };
  }

  before(async () => {
    workspace = makeScratchWorkspace('untrusted', { only: ['tickets'] });
    server = await startCodeServer({ name: 'untrusted', workspace, workspaceTrust: true });
    browser = await launchBrowser('untrusted');
    page = browser.page;
    await openWorkbench(page, server.workbenchUrl({ extensionDevelopmentPath: repoRoot }));
  });

  cleanUpSuite('untrusted', () => ({ browser, server, workspace }));

  it('asks whether to trust the authors; "No" opens the folder in Restricted Mode', async () => {
    const dialog = page.locator('.monaco-dialog-box', { hasText: /Do you trust the authors of the files in this folder\?/ });
    await expectUi(page, 'no workspace trust prompt', dialog.waitFor({ state: 'visible', timeout: 60_000 }));
    await dialog.locator('.monaco-button', { hasText: /^No, I don't trust the authors$/ }).click();
    await dialog.waitFor({ state: 'hidden', timeout: 10_000 });
    await expectUi(
      page,
      'no Restricted Mode indicator in the status bar',
      page.locator('.part.statusbar .statusbar-item', { hasText: /Restricted Mode/ }).first().waitFor({ state: 'visible', timeout: 30_000 }),
    );
    await page.locator('.part.banner', { hasText: /Restricted Mode is intended for safe code browsing/ }).waitFor({ state: 'visible', timeout: 10_000 });
    await waitForTitle(page, '[Extension Development Host]');
  });

  it('still lets you browse: the Datasets view lists and expands the dataset, the Runs view shows its welcome', async () => {
    const item = page.locator('.part.activitybar .action-item a[aria-label^="Few-Shot Lab"]');
    await item.waitFor({ state: 'visible', timeout: 60_000 });
    await item.click();
    const datasets = sidebarPane(/datasets/i);
    const row = datasets.locator('.monaco-list-row', { has: page.locator('.label-name', { hasText: /^tickets$/ }) }).first();
    await expectUi(page, 'the Datasets view does not list "tickets"', row.waitFor({ state: 'visible', timeout: 60_000 }));
    await row.click();
    // Expanded: its splits with "N samples, K classes" (computed by the extension from the files).
    await expectUi(
      page,
      'the tickets dataset did not expand into its splits',
      datasets.locator('.monaco-list-row', { hasText: /\d+ samples, \d+ classes/ }).first().waitFor({ state: 'visible', timeout: 30_000 }),
    );
    await sidebarPane(/runs/i).locator('.welcome-view-content', { hasText: /No runs yet/ }).waitFor({ state: 'visible', timeout: 30_000 });
  });

  it('disables the Train action on the dataset row (enablement: isWorkspaceTrusted)', async () => {
    const row = sidebarPane(/datasets/i).locator('.monaco-list-row', { has: page.locator('.label-name', { hasText: /^tickets$/ }) }).first();
    await row.hover();
    const action = row.locator('.actions .action-item', { has: page.locator('.action-label[aria-label="Train Few-Shot Model"]') }).first();
    await expectUi(page, 'no inline Train action on the dataset row', action.waitFor({ state: 'attached', timeout: 30_000 }));
    const state = await action.evaluate((el) => ({
      cls: el.className,
      ariaDisabled: el.querySelector('.action-label')?.getAttribute('aria-disabled') ?? null,
    }));
    assert.ok(/\bdisabled\b/.test(state.cls) || state.ariaDisabled === 'true', `the inline Train action is not disabled: ${JSON.stringify(state)}`);
  });

  it('hides Train, Predict and Serve from the command palette (but not the other commands)', async () => {
    // Control: the same lookup finds an ungated command, so an absence below is meaningful.
    const control = await paletteOffers('Refresh Runs', 30_000);
    assert.ok(control.offered, `control "Few-Shot Lab: Refresh Runs" not found (palette: ${control.labels.join(' | ')})`);
    for (const title of ['Train Few-Shot Model', 'Train Few-Shot Model with Options…', 'Predict Each Line', 'Serve Model Locally']) {
      const { offered, labels } = await paletteOffers(title);
      assert.ok(!offered, `"Few-Shot Lab: ${title}" is offered in Restricted Mode (palette: ${labels.join(' | ')})`);
    }
  });

  it('explains Restricted Mode and offers "Manage Workspace Trust" when training is started from the Runs view', async () => {
    // The welcome view's [Train Few-Shot Model](command:fewshot.train) link is not gated by
    // the command's enablement, so it reaches the extension's train handler.
    const button = sidebarPane(/runs/i).locator('.welcome-view-content .monaco-button', { hasText: /^Train Few-Shot Model$/ }).first();
    await expectUi(page, 'no Train button in the Runs welcome view', button.waitFor({ state: 'visible', timeout: 30_000 }));
    await button.click();
    const toast = page.locator('.notifications-toasts .notification-list-item', { hasText: TRAIN_UNTRUSTED }).first();
    await expectUi(page, 'no Restricted Mode message from Few-Shot Lab', toast.waitFor({ state: 'visible', timeout: 30_000 }));
    assert.equal((await toast.locator('.notification-list-item-message').innerText()).replace(/\s+/g, ' ').trim(), TRAIN_UNTRUSTED);
    // Screenshot once the toast has finished sliding in.
    await page.locator('.notifications-toasts .notification-toast.notification-fade-in-done', { hasText: TRAIN_UNTRUSTED }).waitFor({ state: 'visible', timeout: 10_000 });
    assertNotBlank(await screenshot(page, 'untrusted-train-message'));
    await toast.locator('.monaco-button', { hasText: /^Manage Workspace Trust$/ }).click();
    // The Workspace Trust editor opens, still in Restricted Mode, offering to trust.
    const editor = page.locator('.workspace-trust-editor');
    await expectUi(page, 'the Workspace Trust editor did not open', editor.waitFor({ state: 'visible', timeout: 30_000 }));
    await editor.getByText(/In Restricted Mode/).first().waitFor({ state: 'visible', timeout: 10_000 });
    await editor.locator('.monaco-button', { hasText: /^Trust/ }).first().waitFor({ state: 'visible', timeout: 10_000 });
    // No training was started: no run appeared, the Runs view still shows its welcome.
    assert.ok(await sidebarPane(/runs/i).locator('.welcome-view-content', { hasText: /No runs yet/ }).isVisible());
  });

  it('writes a screenshot of the workbench in Restricted Mode that is not blank', async () => {
    const stats = assertNotBlank(await screenshot(page, 'untrusted-workbench'));
    assert.equal(stats.width, page.viewportSize()?.width);
  });
});
