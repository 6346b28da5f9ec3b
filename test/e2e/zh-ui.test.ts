/**
 * Browser e2e: the whole Chinese UI in a real VS Code (code-server in zh-CN). A minimal language pack is
 * built offline in the test (test/harness/languagePack.ts) and installed, so code-server really switches
 * its display language — the workbench, the extension's package.nls.zh-cn.json, its vscode.l10n bundle,
 * the language server's messages and the dashboard webview. Checks, in Chinese: the Few-Shot Lab views,
 * their context menus, the Train with Options wizard, a Problems message and the dashboard after a
 * training run. Screenshots: test-results/screenshots/zh-*.png (the dashboard's always).
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Frame, Page } from 'playwright-core';
import {
  assertNotBlank, Browser, buildLanguagePack, chooseMenuItem, cleanUpSuite, CodeServer, expectUi, launchBrowser,
  makeScratchWorkspace, openWorkbench, registerLanguagePacks, repoRoot, runCommand, screenshot, scratchDir, startCodeServer, waitForTitle,
  webviewFrame, ZH_CORE_STRINGS,
} from '../harness';

/** The extension's Chinese strings: package.nls (contributions) and the vscode.l10n bundle (everything else). */
const nls = JSON.parse(fs.readFileSync(path.join(repoRoot, 'package.nls.zh-cn.json'), 'utf8')) as Record<string, string>;
const zh = JSON.parse(fs.readFileSync(path.join(repoRoot, 'l10n', 'bundle.l10n.zh-cn.json'), 'utf8')) as Record<string, string>;
const HAN = /[\u4e00-\u9fff]/;

/** The Chinese text of an l10n key, with its {n} placeholders filled; fails when the key has no translation. */
function t(key: string, ...args: (string | number)[]): string {
  const s = zh[key];
  assert.ok(s && HAN.test(s), `no Simplified Chinese for ${JSON.stringify(key)} in l10n/bundle.l10n.zh-cn.json`);
  return s.replace(/\{(\d+)\}/g, (_, i: string) => String(args[+i]));
}

/** A regexp of an l10n template whose placeholders match anything. */
function pattern(key: string): RegExp {
  t(key);
  return new RegExp(`^${zh[key].split(/\{\d+\}/).map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('.+')}$`);
}

const EPOCHS = 30;

describe('e2e: the Chinese UI (code-server in zh-CN with a language pack built offline)', function () {
  this.timeout(420_000);
  let server: CodeServer | undefined;
  let browser: Browser | undefined;
  let workspace = '';
  let page: Page;
  let frame: Frame;

  before(async () => {
    workspace = makeScratchWorkspace('zh-ui', { only: ['train-tiny', 'train-small'] });
    const pack = buildLanguagePack(scratchDir('zh-langpack'), { languageId: 'zh-cn', languageName: 'Chinese Simplified', localizedName: '中文(简体)', strings: ZH_CORE_STRINGS });
    server = await startCodeServer({
      name: 'zh-ui', workspace, locale: 'zh-cn', installVsix: [pack],
      settings: { 'fewshot.train.encoder': 'hashing', 'fewshot.train.head': 'logreg', 'fewshot.train.epochs': EPOCHS, 'fewshot.train.patience': 0 },
    });
    assert.deepEqual(registerLanguagePacks(server), ['zh-cn']);
    browser = await launchBrowser('zh-ui');
    page = browser.page;
    await openWorkbench(page, server.workbenchUrl({ extensionDevelopmentPath: repoRoot }));
    await waitForTitle(page, '[Extension Development Host]');
  });

  cleanUpSuite('zh-ui', () => ({ browser, server, workspace }));

  it('runs the workbench in Simplified Chinese (the language pack is in effect)', async () => {
    // core strings of the pack: the Explorer's title, the Problems panel (and the command named after it)
    await page.keyboard.press('Control+Shift+E');
    await expectUi(page, 'the Explorer titled 资源管理器', page.locator('.part.sidebar .composite.title', { hasText: '资源管理器' }).waitFor({ state: 'visible', timeout: 30_000 }));
    await runCommand(page, 'Focus on 问题 View');
    const panel = page.locator('.part.panel');
    await expectUi(page, 'the Problems tab titled 问题', panel.locator('.composite-bar .action-label, .pane-header', { hasText: '问题' }).first().waitFor({ state: 'visible', timeout: 30_000 }));
  });

  it('titles the Few-Shot Lab views in Chinese and shows the datasets', async () => {
    const item = page.locator('.part.activitybar .action-item a[aria-label^="Few-Shot Lab"]');
    await expectUi(page, 'the Few-Shot Lab activity bar item', item.waitFor({ state: 'visible', timeout: 60_000 }));
    await item.click();
    const sidebar = page.locator('.part.sidebar');
    await expectUi(page, `the ${nls['view.datasets']} view`, sidebar.locator('.pane-header', { hasText: nls['view.datasets'] }).waitFor({ state: 'visible', timeout: 30_000 }));
    await sidebar.locator('.pane-header', { hasText: nls['view.runs'] }).waitFor({ state: 'visible', timeout: 30_000 });
    await expectUi(page, 'train-tiny in the Datasets view', sidebar.locator('.monaco-list-row', { hasText: /train-tiny/ }).first().waitFor({ state: 'visible', timeout: 60_000 }));
    assertNotBlank(await screenshot(page, 'zh-views'));
  });

  it('offers Train… in Chinese in the Datasets view\'s context menu', async () => {
    const row = page.locator('.part.sidebar .monaco-list-row', { hasText: /train-tiny/ }).first();
    await row.click({ button: 'right' });
    const menu = page.locator('.context-view .monaco-menu');
    await expectUi(page, 'the dataset context menu', menu.waitFor({ state: 'visible', timeout: 10_000 }));
    const labels = (await menu.locator('.action-label').allInnerTexts()).map((s) => s.trim()).filter(Boolean);
    assert.ok(labels.includes(nls['command.train']), `menu: ${labels.join(' | ')}`);
    assert.ok(labels.includes(nls['command.trainWithOptions']), `menu: ${labels.join(' | ')}`);
    await screenshot(page, 'zh-datasets-menu');
    await page.keyboard.press('Escape');
    await menu.waitFor({ state: 'hidden', timeout: 10_000 });
  });

  it('lists the language server\'s too-few-examples warning in Chinese in the Problems panel', async () => {
    await runCommand(page, 'Focus on 问题 View');
    const panel = page.locator('.part.panel');
    // train-small/train/tech has 2 training files (src/server/analysis/messages.ts: tooFewTrain)
    const warning = panel.getByText(/类别 'tech' 只有 2 个训练样本（至少需要 \d+ 个）。请至少再添加 \d+ 个。/).first();
    await expectUi(page, 'the Chinese too-few-examples warning', warning.waitFor({ state: 'visible', timeout: 90_000 }));
    assertNotBlank(await screenshot(page, 'zh-problems'));
  });

  it('walks the Train with Options wizard in Chinese from the Explorer context menu, and trains', async () => {
    await page.keyboard.press('Control+Shift+E');
    const row = page.locator('.explorer-folders-view .monaco-list-row', { hasText: /^train-tiny$/ }).first();
    await expectUi(page, 'train-tiny in the Explorer', row.waitFor({ state: 'visible', timeout: 60_000 }));
    await row.click({ button: 'right' });
    const menu = page.locator('.context-view .monaco-menu');
    await menu.waitFor({ state: 'visible', timeout: 10_000 });
    const labels = (await menu.locator('.action-label').allInnerTexts()).map((s) => s.trim());
    assert.ok(labels.includes(nls['command.train']), `Explorer menu: ${labels.join(' | ')}`);
    // every text the progress notification's toast shows, in order (the walkthrough saw it stuck at "epoch 1/60")
    await page.evaluate(() => {
      const w = window as unknown as { __toasts: string[] };
      w.__toasts = [];
      const read = () => document.querySelectorAll<HTMLElement>('.notifications-toasts .notification-list-item-message').forEach((el) => {
        const text = el.innerText.replace(/\s+/g, ' ').trim();
        if (text && w.__toasts[w.__toasts.length - 1] !== text) w.__toasts.push(text);
      });
      new MutationObserver(read).observe(document.body, { subtree: true, childList: true, characterData: true });
    });
    await chooseMenuItem(page, new RegExp(`^${nls['command.trainWithOptions'].replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`));

    // Each step: a Chinese title ("使用选项训练 train-tiny（i/n）" after the method) and a Chinese question; Enter keeps the default.
    const widget = page.locator('.quick-input-widget');
    const titleOf = () => widget.locator('.quick-input-title').innerText().catch(() => '');
    const seen: { title: string; question: string }[] = [];
    const stepTitle = pattern('Train {0} with options ({1}/{2})');
    for (let step = 0; step < 12; step++) {
      await expectUi(page, `wizard step ${step + 1}`, widget.waitFor({ state: 'visible', timeout: 30_000 }));
      const title = (await titleOf()).trim();
      const question = step === 0 || (await widget.locator('.quick-input-list .monaco-list-row').count()) > 0
        ? await widget.locator('input').first().getAttribute('placeholder') ?? ''
        : await widget.locator('.quick-input-message').innerText();
      seen.push({ title, question: question.trim() });
      if (step === 0) {
        assert.equal(title, t('Train {0} with options', 'train-tiny'));
        assert.equal(question.trim(), t('Training method'));
        const items = await widget.locator('.quick-input-list .monaco-list-row .label-name').allInnerTexts();
        assert.ok(items.includes(t('Quick (frozen encoder + logistic regression)')), `methods: ${items.join(' | ')}`);
        await screenshot(page, 'zh-wizard-method');
      } else {
        assert.match(title, stepTitle, `step ${step + 1}: ${JSON.stringify(seen[step])}`);
        assert.match(question, HAN, `step ${step + 1} asks in English: ${JSON.stringify(seen[step])}`);
      }
      await page.keyboard.press('Enter');
      // next step (a shown widget with another title), or the training started (its dashboard tab);
      // between two steps the widget may be hidden for a moment
      const started = await page.waitForFunction(([prev, tab]) => {
        if (Array.from(document.querySelectorAll('.tabs-container .tab')).some((e) => (e.textContent ?? '').includes(tab))) return 'started';
        const w = document.querySelector<HTMLElement>('.quick-input-widget');
        const shown = !!w && w.style.display !== 'none' && w.offsetParent !== null;
        return shown && (w.querySelector('.quick-input-title')?.textContent ?? '').trim() !== prev ? 'next' : false;
      }, [title, t('Training: {0}', 'train-tiny')] as const, { timeout: 60_000 });
      if (await started.jsonValue() === 'started') break;
    }
    assert.ok(seen.length >= 4, `wizard steps: ${JSON.stringify(seen)}`);
    console.log(`      wizard steps: ${seen.map((s) => `${s.title} — ${s.question}`).join(' · ')}`);
  });

  it('shows the dashboard of the run in Chinese: headings, axis titles, status, report', async () => {
    frame = await expectUi(page, 'the dashboard', webviewFrame(page, { hasText: t('Validation macro-F1 and accuracy'), timeoutMs: 120_000 }));
    const tab = page.locator('.tabs-container .tab', { hasText: t('Training: {0}', 'train-tiny') }).first();
    await expectUi(page, 'the dashboard tab titled in Chinese', tab.waitFor({ state: 'visible', timeout: 30_000 }));
    await frame.locator('#report-table').waitFor({ state: 'visible', timeout: 180_000 });
    assert.equal((await frame.locator('#run-status').innerText()).trim(), t('completed'));
    assert.equal((await frame.locator('#loss-title').innerText()).trim(), `${t('Training loss')} / ${t('Validation loss')}`);
    assert.equal((await frame.locator('#score-title').innerText()).trim(), t('Validation macro-F1 and accuracy'));
    assert.equal((await frame.locator('#recall-title').innerText()).trim(), t('Per-class recall (validation)'));
    assert.equal(await frame.locator('#loss-chart').getAttribute('data-x-title'), t('epoch'));
    // the axis titles Chart.js draws on the canvases
    const axes = await frame.evaluate(() => {
      const C = (window as unknown as { Chart: { getChart(c: HTMLCanvasElement): { options: { scales: Record<string, { title?: { text?: string } }> } } | undefined } }).Chart;
      return ['loss-chart', 'score-chart', 'recall-chart'].map((id) => {
        const s = C.getChart(document.getElementById(id) as HTMLCanvasElement)?.options.scales ?? {};
        return [s.x?.title?.text ?? '', s.y?.title?.text ?? ''];
      });
    });
    assert.deepEqual(axes, [[t('epoch'), t('Loss')], [t('epoch'), t('Score')], [t('epoch'), t('Recall')]]);
    assert.equal((await frame.locator('#validation-note').innerText()).trim(), t('Validation: {0}', t('stratified {0}% hold-out of the training split ({1} examples)', 20, 6)));
    const points = Number(await frame.locator('#loss-chart').getAttribute('data-points'));
    assert.ok(points >= 2, `loss chart has ${points} points`);
    const shot = await screenshot(page, 'zh-dashboard');
    assertNotBlank(shot);
  });

  it('moved the progress notification, in Chinese, up to the last epoch', async () => {
    const toasts = await page.evaluate(() => (window as unknown as { __toasts: string[] }).__toasts);
    const title = t('Training {0}', 'train-tiny');
    const point = new RegExp(`^${title.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: ${t('epoch {0}/{1}', 'X', EPOCHS).replace('X', '(\\d+)')}`);
    const shown = toasts.map((s) => point.exec(s)).filter((m): m is RegExpExecArray => !!m).map((m) => Number(m[1]));
    console.log(`      notification: ${shown.length} texts with an epoch, ${JSON.stringify(shown)}; last: ${toasts[toasts.length - 1]}`);
    assert.ok(shown.length > 0, `no notification named an epoch in Chinese: ${JSON.stringify(toasts)}`);
    for (let i = 1; i < shown.length; i++) assert.ok(shown[i] >= shown[i - 1], `the notification went back: ${JSON.stringify(shown)}`);
    assert.equal(shown[shown.length - 1], EPOCHS, `the notification stopped at epoch ${shown[shown.length - 1]}: ${JSON.stringify(toasts)}`);
    // the trainer's stages (src/extension/train/stages.ts) are shown in Chinese too
    const english = toasts.filter((s) => /Loading |Embedding \d+ texts|cached, \d+ computed|Refitting|Evaluating on|Saving model/.test(s));
    assert.deepEqual(english, [], 'stage messages in English');
  });
});
