/**
 * Browser e2e: in code-server, open a text file, select a line, run "Predict
 * Selection" from the command palette and from the editor context menu, and see
 * the result inline (the decoration's `::after` text), in the notification and in
 * the status bar's model item.
 */
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as path from 'node:path';
import type { Page } from 'playwright-core';
import {
  cleanUpSuite,
  chooseMenuItem,
  Browser,
  CodeServer,
  expectUi,
  focusWorkbench,
  launchBrowser,
  makeScratchWorkspace,
  openWorkbench,
  repoRoot,
  runCommand,
  screenshot,
  startCodeServer,
  waitForTitle,
} from '../harness';

/** `::after` texts of the editor's decorations whose content mentions `needle`. */
async function inlineTexts(page: Page, needle: string): Promise<string[]> {
  return page.evaluate((n) => {
    const out: string[] = [];
    for (const el of Array.from(document.querySelectorAll('.monaco-editor .view-lines span'))) {
      const c = getComputedStyle(el, '::after').content;
      if (c && c !== 'none' && c.includes(n)) out.push(c);
    }
    return out;
  }, needle);
}

describe('e2e: predict selection in the editor', function () {
  this.timeout(300_000);
  let server: CodeServer | undefined;
  let browser: Browser | undefined;
  let workspace = '';
  let page: Page;
  let runId = '';

  before(async () => {
    workspace = makeScratchWorkspace('predict', { only: ['predict-topics'] });
    // A real run, trained like a user would with the CLI.
    const out = execFileSync(process.execPath, [path.join(repoRoot, 'dist', 'cli.js'), 'train', path.join(workspace, 'predict-topics', 'topics.csv'), '--encoder', 'hashing', '--out', path.join(workspace, '.fewshot')], { encoding: 'utf8', timeout: 120_000, stdio: ['ignore', 'pipe', 'pipe'] });
    runId = /Run (\S+) completed/.exec(out)?.[1] ?? '';
    assert.ok(runId, `training failed:\n${out}`);
    server = await startCodeServer({ name: 'predict', workspace });
    browser = await launchBrowser('predict');
    page = browser.page;
    await openWorkbench(page, server.workbenchUrl({ extensionDevelopmentPath: repoRoot }));
    await waitForTitle(page, '[Extension Development Host]');
  });

  cleanUpSuite('predict', () => ({ browser, server, workspace }));

  it('shows the active model run in the status bar', async () => {
    const item = page.locator('.part.statusbar .statusbar-item', { hasText: runId });
    await expectUi(page, 'the model status-bar item did not appear', item.first().waitFor({ state: 'visible', timeout: 60_000 }));
    assert.equal(await item.first().locator('.codicon-package').count(), 1);
    // Clicking it opens "Select Model Run" with the run and its test macro-F1.
    await item.first().click();
    const row = page.locator('.quick-input-widget .monaco-list-row', { hasText: runId }).first();
    await expectUi(page, 'the Select Model Run quick pick did not open', row.waitFor({ state: 'visible', timeout: 30_000 }));
    assert.match(await row.innerText(), /test macro-F1 \d\.\d{4}/);
    await page.keyboard.press('Escape');
    await page.locator('.quick-input-widget').waitFor({ state: 'hidden' });
  });

  it('predicts the selected text from the command palette and shows it inline', async () => {
    await runCommand(page, 'Go to File...').catch(async () => {
      await focusWorkbench(page);
      await page.keyboard.press('Control+P');
    });
    const input = page.locator('.quick-input-widget input').first();
    await input.waitFor({ state: 'visible' });
    await input.fill('notes.txt');
    await page.locator('.quick-input-widget .monaco-list-row', { hasText: 'notes.txt' }).first().click();
    const editor = page.locator('.editor-instance .monaco-editor').first();
    const line1 = editor.locator('.view-line', { hasText: 'The midfielder scored twice' });
    await line1.waitFor({ state: 'visible', timeout: 30_000 });
    // Select the first line: click into it, then Home, Shift+End.
    await line1.click();
    await page.keyboard.press('Home');
    await page.keyboard.press('Shift+End');
    await editor.locator('.selected-text').first().waitFor({ state: 'visible' });

    await runCommand(page, 'Predict Selection');
    const toast = page.locator('.notifications-toasts .notification-list-item', { hasText: /→ sports/ });
    await expectUi(page, 'no prediction notification', toast.first().waitFor({ state: 'visible', timeout: 60_000 }));
    const message = (await toast.first().locator('.notification-list-item-message').innerText()).replace(/\s+/g, ' ');
    assert.match(message, /"The midfielder scored twice[^"]*" → sports \S+ · \w+ \S+ · \w+ \S+ \(model /);
    assert.equal(await toast.first().locator('.monaco-button', { hasText: /^Copy$/ }).count(), 1, 'Copy button');

    // The inline text is the `::after` of a span with a generated decoration class.
    const inline = await expectUi(page, 'no inline decoration', page.waitForFunction(() => {
      for (const el of Array.from(document.querySelectorAll('.monaco-editor .view-lines span'))) {
        const c = getComputedStyle(el, '::after').content;
        if (c && c.includes('» sports')) return c;
      }
      return false;
    }, undefined, { timeout: 30_000 }));
    assert.match(String(await inline.jsonValue()), /» sports \d?\.?\S* · \w+ \S+ · \w+ \S+/);
    await screenshot(page, 'predict-selection-inline');
  });

  it('predicts from the editor context menu', async () => {
    const editor = page.locator('.editor-instance .monaco-editor').first();
    const line = editor.locator('.view-line', { hasText: 'Expect heavy rain' });
    await line.click();
    await page.keyboard.press('Home');
    await page.keyboard.press('Shift+End');
    await editor.locator('.selected-text').first().waitFor({ state: 'visible' });
    await line.click({ button: 'right', position: { x: 20, y: 5 } });
    await chooseMenuItem(page, /^Predict Selection/);
    await expectUi(page, 'no inline weather prediction', page.waitForFunction(() => {
      return Array.from(document.querySelectorAll('.monaco-editor .view-lines span')).some((el) => getComputedStyle(el, '::after').content.includes('» weather'));
    }, undefined, { timeout: 60_000 }));
    assert.ok((await inlineTexts(page, '» weather')).length >= 1);
    await screenshot(page, 'predict-context-menu');
  });
});
