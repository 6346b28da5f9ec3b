/**
 * The dashboard and Train with Options speak English and Simplified Chinese: every string the dashboard
 * webview shows is in the table the host translates (DASHBOARD_STRINGS), and every entry of that table
 * and every vscode.l10n.t() text of the train feature has a translation in a feature's l10n.zh-cn.json.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ALGORITHM_LABELS, DASHBOARD_STRINGS, PROGRESS_UNIT_LABELS } from '../../src/protocol/webview';

function repo(): string {
  let dir = __dirname;
  for (let i = 0; i < 6; i++) {
    if (fs.existsSync(path.join(dir, 'src', 'extension', 'dashboard'))) return dir;
    dir = path.dirname(dir);
  }
  throw new Error('repository root not found');
}
const root = repo();
const read = (p: string) => fs.readFileSync(path.join(root, p), 'utf8');
const literals = (text: string, re: RegExp) => [...text.matchAll(re)].map((m) => m[1]);

/** The merged translation bundle, as the build makes it (every src/extension/<feature>/l10n.zh-cn.json). */
function zhBundle(): Record<string, string> {
  const out: Record<string, string> = {};
  const dir = path.join(root, 'src', 'extension');
  for (const f of fs.readdirSync(dir)) {
    const p = path.join(dir, f, 'l10n.zh-cn.json');
    if (fs.existsSync(p)) Object.assign(out, JSON.parse(fs.readFileSync(p, 'utf8')));
  }
  return out;
}

describe('dashboard and train: English and Simplified Chinese strings', () => {
  const zh = zhBundle();
  const table = new Set<string>(DASHBOARD_STRINGS);

  it('sends every string the dashboard webview looks up in its table', () => {
    const main = read('webviews/dashboard/main.ts');
    const used = new Set(literals(main, /\bT\('((?:[^'\\]|\\.)*)'/g));
    // The per-sample table (webviews/dashboard/samples.ts): its t('…') calls and its column headers and titles.
    const view = read('webviews/dashboard/samples.ts');
    for (const s of literals(view, /\bt\('((?:[^'\\]|\\.)*)'/g)) used.add(s.replace(/\\'/g, "'"));
    const headers = view.slice(view.indexOf('const HEADERS'), view.indexOf('export interface SampleView'));
    for (const s of literals(headers, /: '((?:[^'\\]|\\.)*)',/g)) used.add(s.replace(/\\'/g, "'"));
    const problems = main.slice(main.indexOf('const PROBLEM_TEXT'), main.indexOf('};', main.indexOf('const PROBLEM_TEXT')));
    for (const s of literals(problems, /: '([^']+)'/g)) used.add(s);
    for (const s of [...Object.values(ALGORITHM_LABELS), ...Object.values(PROGRESS_UNIT_LABELS)]) used.add(s);
    assert.ok(used.size > 40, `only ${used.size} strings found`);
    assert.deepEqual([...used].filter((s) => !table.has(s)), []);
  });

  it('translates every dashboard string and every train/dashboard host string', () => {
    assert.deepEqual([...table].filter((s) => !(s in zh)), []);
    const host = new Set<string>();
    for (const f of ['train/config.ts', 'train/manager.ts', 'train/index.ts', 'dashboard/panel.ts']) {
      for (const s of literals(read(`src/extension/${f}`), /l10n\.t\('((?:[^'\\]|\\.)*)'/g)) host.add(s);
    }
    assert.ok(host.size > 30);
    assert.deepEqual([...host].filter((s) => !(s in zh)), []);
  });

  it('keeps placeholders intact and writes Chinese in the dashboard and train translations', () => {
    for (const f of ['dashboard', 'train']) {
      const own = JSON.parse(read(`src/extension/${f}/l10n.zh-cn.json`)) as Record<string, string>;
      for (const [en, cn] of Object.entries(own)) {
        const ph = (s: string) => (s.match(/\{\d+\}/g) ?? []).sort().join();
        assert.equal(ph(cn), ph(en), `placeholders differ in "${en}"`);
        assert.ok(/[\u4e00-\u9fff]/.test(cn) || /^[A-Za-z0-9 ().,:/-]+$/.test(cn), `"${en}" → "${cn}" is not Chinese`);
      }
    }
  });
});
