/**
 * The one factory for webview pages (dashboard, compare): options with the
 * panel's local resource roots, and the HTML with its Content-Security-Policy
 * and nonce. No runtime 'vscode' import, so unit tests can call it.
 */
import type * as vscode from 'vscode';
import { randomBytes } from 'node:crypto';

export interface WebviewPage {
  /** Folders of the extension the page may load from (e.g. 'dist/webviews'): its localResourceRoots, nothing else. */
  roots: readonly string[];
  /** Scripts (paths in the extension folder, under `roots`), loaded in this order, each with the nonce. */
  scripts: readonly string[];
  /** Style sheets (paths in the extension folder, under `roots`). */
  styles: readonly string[];
  /** Document language (BCP 47). */
  lang: string;
  title: string;
  /** Markup of <body> before the scripts. Trusted: put text through escapeHtml. */
  body: string;
}

/** The two pages of the extension (their files exist after `node scripts/build.mjs`). */
export const DASHBOARD_PAGE = { roots: ['dist/webviews', 'media'], scripts: ['dist/webviews/chart.umd.js', 'dist/webviews/dashboard.js'], styles: ['media/dashboard.css'] } as const;
export const COMPARE_PAGE = { roots: ['dist/webviews'], scripts: ['dist/webviews/chart.umd.js', 'dist/webviews/compare.js'], styles: ['dist/webviews/compare.css'] } as const;

/** The parts of vscode.Webview the factory uses. */
export type WebviewTarget = Pick<vscode.Webview, 'cspSource' | 'asWebviewUri'>;

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);
}

/** A fresh CSP nonce (128 random bits, hex). */
function createNonce(): string {
  return randomBytes(16).toString('hex');
}

function inExtension(extensionUri: vscode.Uri, rel: string): vscode.Uri {
  return extensionUri.with({ path: `${extensionUri.path.replace(/\/+$/, '')}/${rel.replace(/^\/+/, '')}` });
}

/** Webview options for a page: scripts on, and only the page's roots readable. */
export function webviewOptions(extensionUri: vscode.Uri, page: Pick<WebviewPage, 'roots'>): vscode.WebviewOptions {
  return { enableScripts: true, localResourceRoots: page.roots.map((r) => inExtension(extensionUri, r)) };
}

/**
 * The page's HTML. Scripts run only with the nonce (no inline or eval); styles,
 * images and fonts come only from the webview's resource origin (the roots).
 * Throws if a script or style is outside the page's roots (it could not load).
 */
export function webviewHtml(webview: WebviewTarget, extensionUri: vscode.Uri, page: WebviewPage, nonce = createNonce()): string {
  const uri = (rel: string) => {
    if (!page.roots.some((r) => rel.startsWith(`${r.replace(/\/+$/, '')}/`))) throw new Error(`webview resource ${rel} is outside the page's roots (${page.roots.join(', ')})`);
    return escapeHtml(webview.asWebviewUri(inExtension(extensionUri, rel)).toString());
  };
  const csp = [
    "default-src 'none'",
    `img-src ${webview.cspSource} data:`,
    `style-src ${webview.cspSource} 'nonce-${nonce}'`,
    `font-src ${webview.cspSource}`,
    `script-src 'nonce-${nonce}'`,
  ].join('; ');
  return `<!DOCTYPE html>
<html lang="${escapeHtml(page.lang)}">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
${page.styles.map((s) => `<link rel="stylesheet" href="${uri(s)}" nonce="${nonce}">`).join('\n')}
<title>${escapeHtml(page.title)}</title>
</head>
<body>
${page.body}
${page.scripts.map((s) => `<script nonce="${nonce}" src="${uri(s)}"></script>`).join('\n')}
</body>
</html>`;
}
