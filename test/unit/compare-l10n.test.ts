import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';

function repo(): string {
  let dir = __dirname;
  for (let i = 0; i < 6; i++) {
    if (fs.existsSync(path.join(dir, 'src', 'extension', 'compare'))) return dir;
    dir = path.dirname(dir);
  }
  throw new Error('repository root not found');
}
const root = repo();
const read = (p: string) => fs.readFileSync(path.join(root, p), 'utf8');
const literals = (text: string, re: RegExp) => [...text.matchAll(re)].map((m) => m[1]);

describe('compare: English and Simplified Chinese strings', () => {
  const zh = JSON.parse(read('src/extension/compare/l10n.zh-cn.json')) as Record<string, string>;
  const stringsTs = read('src/extension/compare/strings.ts');
  const table = literals(stringsTs.slice(stringsTs.indexOf('WEBVIEW_STRINGS'), stringsTs.indexOf('as const')), /'([^']+)'/g);

  it('translates every host string (vscode.l10n.t) of the compare feature', () => {
    const used = new Set<string>();
    for (const f of ['index.ts', 'panel.ts', 'strings.ts']) for (const s of literals(read(`src/extension/compare/${f}`), /l10n\.t\('((?:[^'\\]|\\.)*)'/g)) used.add(s);
    assert.ok(used.size > 10);
    assert.deepEqual([...used].filter((s) => !(s in zh)), []);
  });

  it('sends every string the webview uses in its table, and translates each', () => {
    const main = read('webviews/compare/main.ts');
    const used = new Set(literals(main, /\bt\('((?:[^'\\]|\\.)*)'/g));
    const labels = main.slice(main.indexOf('const COLUMN_LABEL'), main.indexOf('};', main.indexOf('const COLUMN_LABEL')));
    for (const s of literals(labels, /: '([^']+)'/g)) used.add(s);
    assert.ok(used.size > 30);
    assert.deepEqual([...used].filter((s) => !table.includes(s)), []);
    assert.deepEqual(table.filter((s) => !(s in zh)), []);
  });

  it('translates the export headers and keeps placeholders intact', async () => {
    const { DEFAULT_EXPORT_HEADERS } = await import('../../src/core/compare');
    assert.deepEqual(Object.values(DEFAULT_EXPORT_HEADERS).filter((s) => !(s in zh)), []);
    for (const [en, cn] of Object.entries(zh)) {
      const ph = (s: string) => (s.match(/\{\d+\}/g) ?? []).sort().join();
      assert.equal(ph(cn), ph(en), `placeholders differ in "${en}"`);
      assert.ok(/[\u4e00-\u9fff]/.test(cn) || /^[A-Za-z0-9 -]+$/.test(cn), `"${en}" → "${cn}" is not Chinese`);
    }
  });
});
