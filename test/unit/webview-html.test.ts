/**
 * The webview page factory (src/extension/webview/html.ts) used by the dashboard
 * and compare panels: CSP with a fresh nonce, no inline or eval scripts, only
 * the page's local resource roots.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type * as vscode from 'vscode';
import { COMPARE_PAGE, DASHBOARD_PAGE, escapeHtml, webviewHtml, webviewOptions, type WebviewPage, type WebviewTarget } from '../../src/extension/webview/html';
import { repoRoot } from './helpers/trainerFixtures';

/** A file URI with the two members the factory uses (VS Code's Uri is not available outside the editor). */
class FileUri {
  readonly scheme = 'file';
  constructor(readonly path: string) {}
  with(change: { path: string }): FileUri { return new FileUri(change.path); }
  toString(): string { return `file://${this.path}`; }
}
const ORIGIN = 'https://file+.vscode-resource.vscode-cdn.net';
/** Maps file URIs the way VS Code's webviews do. */
const webview = {
  cspSource: ORIGIN,
  asWebviewUri: (u: FileUri) => ({ toString: () => `${ORIGIN}${u.path}` }),
} as unknown as WebviewTarget;
const ext = new FileUri('/home/u/.vscode/extensions/fewshot-lab') as unknown as vscode.Uri;

function cspOf(html: string): Map<string, string[]> {
  const m = /<meta http-equiv="Content-Security-Policy" content="([^"]*)">/.exec(html);
  assert.ok(m, 'the page has a CSP meta tag');
  return new Map(m[1].split(';').map((d) => d.trim().split(/\s+/)).map(([name, ...sources]) => [name, sources]));
}

describe('webview html: one page factory for the dashboard and compare panels', () => {
  for (const [name, page] of [['dashboard', DASHBOARD_PAGE], ['compare', COMPARE_PAGE]] as const) {
    it(`${name}: the CSP allows scripts only with the page's nonce, and styles/images/fonts only from the resource origin`, () => {
      const html = webviewHtml(webview, ext, { ...page, lang: 'en', title: 'T', body: '<main></main>' }, 'abc123');
      const csp = cspOf(html);
      assert.deepEqual(csp.get('default-src'), ["'none'"]);
      assert.deepEqual(csp.get('script-src'), ["'nonce-abc123'"]);
      assert.doesNotMatch(html, /unsafe-inline|unsafe-eval/);
      assert.deepEqual(csp.get('style-src'), [ORIGIN, "'nonce-abc123'"]);
      assert.deepEqual(csp.get('img-src'), [ORIGIN, 'data:']);
      assert.deepEqual(csp.get('font-src'), [ORIGIN]);
      assert.deepEqual([...csp.keys()].sort(), ['default-src', 'font-src', 'img-src', 'script-src', 'style-src']);
      // Every script is an external file of the page, in order, with the nonce; no inline script.
      const scripts = [...html.matchAll(/<script([^>]*)>([\s\S]*?)<\/script>/g)];
      assert.deepEqual(scripts.map((s) => s[1]), page.scripts.map((f) => ` nonce="abc123" src="${ORIGIN}/home/u/.vscode/extensions/fewshot-lab/${f}"`));
      assert.ok(scripts.every((s) => s[2] === ''));
      assert.deepEqual([...html.matchAll(/<link rel="stylesheet" href="([^"]+)"/g)].map((m) => m[1]), page.styles.map((f) => `${ORIGIN}/home/u/.vscode/extensions/fewshot-lab/${f}`));
    });

    it(`${name}: the webview reads only the page's roots, and every file of the page is there after the build`, () => {
      const opts = webviewOptions(ext, page);
      assert.equal(opts.enableScripts, true);
      assert.deepEqual(opts.localResourceRoots?.map((u) => u.path), page.roots.map((r) => `/home/u/.vscode/extensions/fewshot-lab/${r}`));
      for (const f of [...page.scripts, ...page.styles]) {
        assert.ok(page.roots.some((r) => f.startsWith(`${r}/`)), `${f} is under the page's roots`);
        assert.ok(fs.existsSync(path.join(repoRoot, f)), `${f} exists (built by node scripts/build.mjs)`);
      }
    });
  }

  it('uses a fresh 128-bit nonce for each page', () => {
    const page: WebviewPage = { ...COMPARE_PAGE, lang: 'en', title: 'T', body: '' };
    const nonces = [webviewHtml(webview, ext, page), webviewHtml(webview, ext, page)].map((h) => cspOf(h).get('script-src')?.[0]);
    for (const n of nonces) assert.match(n ?? '', /^'nonce-[0-9a-f]{32}'$/);
    assert.notEqual(nonces[0], nonces[1]);
  });

  it('refuses a file outside the page roots, and escapes the title and language', () => {
    assert.throws(() => webviewHtml(webview, ext, { ...COMPARE_PAGE, scripts: ['media/evil.js'], lang: 'en', title: 'T', body: '' }), /media\/evil\.js is outside the page's roots \(dist\/webviews\)/);
    assert.throws(() => webviewHtml(webview, ext, { ...COMPARE_PAGE, styles: ['dist/webviews-other/x.css'], lang: 'en', title: 'T', body: '' }), /outside the page's roots/);
    const html = webviewHtml(webview, ext, { ...DASHBOARD_PAGE, lang: 'en"><script>', title: '<b>"run" & \'x\'</b>', body: '' });
    assert.match(html, /<html lang="en&quot;&gt;&lt;script&gt;">/);
    assert.match(html, /<title>&lt;b&gt;&quot;run&quot; &amp; &#39;x&#39;&lt;\/b&gt;<\/title>/);
    assert.equal(escapeHtml('a<b>&"\''), 'a&lt;b&gt;&amp;&quot;&#39;');
  });
});
