/**
 * Debian chromium driven by playwright-core, plus helpers for the VS Code
 * workbench (command palette, screenshots, webviews). No fixed sleeps: every
 * helper waits on visible state.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { BrowserContext, Frame, FrameLocator, Locator, Page } from 'playwright-core';
import { removeDir, resultsDir, sanitize, scratchDir } from './paths';

export const CHROMIUM_PATH = process.env.FEWSHOT_CHROMIUM ?? '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-dev-shm-usage',
];

export interface Browser {
  context: BrowserContext;
  page: Page;
  /** Console messages and page errors, in order (written to test-results on failure). */
  consoleLines: string[];
  close(): Promise<void>;
}

export async function launchBrowser(name: string, opts: { viewport?: { width: number; height: number } } = {}): Promise<Browser> {
  // Required lazily so that importing the harness never needs playwright.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { chromium } = require('playwright-core') as typeof import('playwright-core');
  const profile = scratchDir(`chromium-${name}`);
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: opts.viewport ?? { width: 1400, height: 900 },
    locale: 'en-US',
  });
  const page = context.pages()[0] ?? (await context.newPage());
  const consoleLines: string[] = [];
  const attach = (p: Page) => {
    p.on('console', (m) => consoleLines.push(`[${new Date().toISOString()}] ${m.type()}: ${m.text()}`));
    p.on('pageerror', (e) => consoleLines.push(`[${new Date().toISOString()}] pageerror: ${e.message}`));
  };
  attach(page);
  context.on('page', attach);
  return {
    context,
    page,
    consoleLines,
    async close() {
      await context.close().catch(() => undefined);
      removeDir(profile);
    },
  };
}

/** Opens the workbench and waits until it is usable (workbench + status bar rendered). */
export async function openWorkbench(page: Page, url: string, opts: { timeoutMs?: number } = {}): Promise<void> {
  const timeout = opts.timeoutMs ?? 90_000;
  await page.goto(url, { waitUntil: 'domcontentloaded', timeout });
  await page.locator('.monaco-workbench').waitFor({ state: 'visible', timeout });
  await page.locator('.part.statusbar').waitFor({ state: 'visible', timeout });
  await page.locator('.part.activitybar').waitFor({ state: 'visible', timeout });
}

/** Waits until the window title (document.title) contains `text`, e.g. "[Extension Development Host]". */
export async function waitForTitle(page: Page, text: string, timeoutMs = 60_000): Promise<void> {
  await page.waitForFunction((t) => document.title.includes(t), text, { timeout: timeoutMs });
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Gives the workbench keyboard focus without triggering anything. */
export async function focusWorkbench(page: Page): Promise<void> {
  // Clicking an empty part of the status bar (its middle) fixes a focus flake with F1.
  const bar = page.locator('.part.statusbar');
  const box = await bar.boundingBox();
  if (box) await page.mouse.click(box.x + box.width / 2, box.y + box.height / 2);
  await page.keyboard.press('Escape');
}


/**
 * Reloads the window as VS Code's "Developer: Reload Window" does: the workbench first saves its
 * state (open editors, webview state) and waits for the save, then reloads. A browser reload
 * (page.reload) cannot wait for that save in VS Code for the web, so what comes back would depend
 * on when the last periodic save ran.
 */
export async function reloadWindow(page: Page): Promise<void> {
  const navigated = page.waitForEvent('framenavigated', { predicate: (f) => f === page.mainFrame(), timeout: 90_000 });
  await runCommand(page, 'Reload Window');
  await navigated;
  await page.waitForLoadState('domcontentloaded');
  await page.locator('.monaco-workbench').waitFor({ state: 'visible', timeout: 90_000 });
}

/**
 * Runs a command from the command palette: F1, type `>title`, pick the row whose
 * label is `title` or `<Category>: title`, wait for the palette to close.
 */
export async function runCommand(page: Page, title: string, opts: { timeoutMs?: number } = {}): Promise<void> {
  const timeout = opts.timeoutMs ?? 30_000;
  const widget = page.locator('.quick-input-widget');
  const input = widget.locator('input.input, .quick-input-box input').first();
  const deadline = Date.now() + timeout;
  for (let attempt = 0; ; attempt++) {
    await focusWorkbench(page);
    await page.keyboard.press('F1');
    try {
      await input.waitFor({ state: 'visible', timeout: Math.min(5_000, Math.max(1, deadline - Date.now())) });
      // the palette sometimes closes again right after opening (focus moving in the workbench):
      // typing is part of the retried step
      await input.fill(`>${title}`, { timeout: 5_000 });
      break;
    } catch (e) {
      if (Date.now() > deadline || attempt >= 4) throw new Error(`runCommand(${title}): command palette did not open or closed before the title was typed: ${e}`);
    }
  }
  const label = new RegExp(`^(?:[^:]+: )?${escapeRegExp(title)}$`);
  const row = widget.locator('.monaco-list-row').filter({ has: page.locator('.label-name', { hasText: label }) }).first();
  try {
    await row.waitFor({ state: 'visible', timeout: Math.max(1, deadline - Date.now()) });
  } catch {
    const seen = await widget.locator('.monaco-list-row .label-name').allTextContents().catch(() => []);
    await page.keyboard.press('Escape');
    throw new Error(`runCommand: no command "${title}" in the palette (saw: ${seen.slice(0, 10).join(' | ') || 'nothing'})`);
  }
  await row.click();
  await widget.waitFor({ state: 'hidden', timeout: Math.max(1, deadline - Date.now()) }).catch(() => undefined);
}

/**
 * Texts of visible modal dialogs and notification toasts, e.g. "command 'fewshot.x'
 * not found". Useful in assertion messages when an expected UI state never comes.
 */
export async function workbenchMessages(page: Page): Promise<string[]> {
  const texts = await page
    .locator('.monaco-dialog-box .dialog-message-container, .notifications-toasts .notification-list-item-message')
    .allInnerTexts()
    .catch(() => [] as string[]);
  return texts.map((t) => t.replace(/\s+/g, ' ').trim()).filter(Boolean);
}

/** Waits for `what` (a promise from a waitFor…); on timeout, the error names visible dialogs/notifications. */
export async function expectUi<T>(page: Page, what: string, wait: Promise<T>): Promise<T> {
  try {
    return await wait;
  } catch (e) {
    const msgs = await workbenchMessages(page);
    throw new Error(`${what}: ${e instanceof Error ? e.message.split('\n')[0] : e}${msgs.length ? `\n  workbench says: ${msgs.join(' | ')}` : ''}`);
  }
}

/** Screenshot of the page to test-results/screenshots/<name>.png; returns the path. */
export async function screenshot(page: Page, name: string): Promise<string> {
  const dir = path.join(resultsDir, 'screenshots');
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${sanitize(name)}.png`);
  await page.screenshot({ path: file });
  return file;
}

/** Waits until `text` is visible in a page, frame or webview. Returns the locator. */
export async function waitForText(scope: Page | Frame | FrameLocator, text: string | RegExp, timeoutMs = 30_000): Promise<Locator> {
  const loc = scope.getByText(text).first();
  await loc.waitFor({ state: 'visible', timeout: timeoutMs });
  return loc;
}

/**
 * The content of a webview (panel or view). VS Code nests two iframes: the outer
 * `iframe.webview` (its host page) and the inner `#active-frame` (your HTML).
 * `index` picks among several webviews (DOM order), `hasText` picks the first whose
 * content contains that text.
 */
export async function webviewFrame(page: Page, opts: { index?: number; hasText?: string | RegExp; timeoutMs?: number } = {}): Promise<Frame> {
  const deadline = Date.now() + (opts.timeoutMs ?? 30_000);
  for (;;) {
    const inner: Frame[] = [];
    for (const f of page.frames()) {
      if (f.name() === 'active-frame' || /\/fake\.html/.test(f.url())) inner.push(f);
      else if (f.parentFrame() && f.parentFrame() !== page.mainFrame() && f.parentFrame()!.url().includes('webview')) inner.push(f);
    }
    const unique = [...new Set(inner)].filter((f) => !f.isDetached());
    if (opts.hasText === undefined) {
      const f = unique[opts.index ?? 0];
      if (f) {
        const hasBody = await f.locator('body *').first().count().catch(() => 0);
        if (hasBody) return f;
      }
    } else {
      for (const f of unique) {
        const ok = await f.getByText(opts.hasText).first().isVisible().catch(() => false);
        if (ok) return f;
      }
    }
    if (Date.now() > deadline) throw new Error(`webviewFrame: no webview${opts.hasText ? ` containing ${opts.hasText}` : ''} (frames: ${page.frames().map((f) => f.url().slice(0, 80)).join(', ')})`);
    await page.waitForTimeout(200);
  }
}

/** FrameLocator form of the same thing, for chaining: webview(page).getByRole(…). */
export function webview(page: Page, index = 0): FrameLocator {
  return page.frameLocator('iframe.webview').nth(index).frameLocator('#active-frame');
}

/** Saves a screenshot, the console log and code-server logs for a failed test. */
export async function saveFailureArtifacts(
  name: string,
  b: Browser | undefined,
  server?: { collectLogs(dest: string): void },
): Promise<string> {
  const dest = path.join(resultsDir, 'failures', sanitize(name));
  removeDir(dest); // only this run's artifacts
  fs.mkdirSync(dest, { recursive: true });
  if (b) {
    await b.page.screenshot({ path: path.join(dest, 'screenshot.png') }).catch(() => undefined);
    fs.writeFileSync(path.join(dest, 'browser-console.log'), b.consoleLines.join('\n') + '\n');
  }
  server?.collectLogs(dest);
  return dest;
}

/**
 * Chooses an item of the open context menu. VS Code's menu ignores mouse-up for
 * the first 100 ms after it is drawn ("avoid accidental clicks"), so a fast
 * click can be dropped: hover the item, wait until the menu marks it focused,
 * press Enter and wait for the menu to close.
 */
/**
 * Right-clicks `row` until its context menu offers `label` (the extension contributes its items once it is active,
 * which may be after the Explorer shows), then chooses it. Fails after `timeoutMs` naming the item.
 */
export async function chooseContextMenuItem(page: Page, row: Locator, label: RegExp, timeoutMs = 60_000): Promise<void> {
  const item = page.locator('.context-view .monaco-menu .action-item', { has: page.locator('.action-label', { hasText: label }) }).first();
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    await row.click({ button: 'right' });
    try {
      await item.waitFor({ state: 'visible', timeout: 3_000 });
      break;
    } catch (e) {
      await page.keyboard.press('Escape');
      if (Date.now() > deadline) throw new Error(`no ${label} in the context menu: ${e}`);
    }
  }
  await chooseMenuItem(page, label);
}

export async function chooseMenuItem(page: Page, label: RegExp): Promise<void> {
  const menu = page.locator('.context-view .monaco-menu');
  const item = menu.locator('.action-item', { has: page.locator('.action-label', { hasText: label }) }).first();
  await expectUi(page, `no ${label} in the context menu`, item.waitFor({ state: 'visible', timeout: 30_000 }));
  await item.hover();
  await menu.locator('.action-item.focused', { has: page.locator('.action-label', { hasText: label }) }).waitFor({ state: 'visible', timeout: 10_000 });
  await page.keyboard.press('Enter');
  await menu.waitFor({ state: 'hidden', timeout: 10_000 });
}
