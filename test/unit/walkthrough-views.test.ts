/**
 * Issue 16, "What the walkthrough found" (views): the pure functions behind the dashboard tab title,
 * the Compare picker, the confusion matrix layout, the inline predictions and the misclassified samples.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { runTag } from '../../src/extension/dashboard/title';
import { PICKER_FIGURES, pickerFigures } from '../../src/extension/compare/args';
import { settingsFileIsEmpty } from '../../src/extension/diagnostics/settingsFile';

function repo(): string {
  let dir = __dirname;
  for (let i = 0; i < 6; i++) {
    if (fs.existsSync(path.join(dir, 'src', 'extension', 'compare'))) return dir;
    dir = path.dirname(dir);
  }
  throw new Error('repository root not found');
}
const root = repo();
const zhOf = (feature: string) => JSON.parse(fs.readFileSync(path.join(root, 'src', 'extension', feature, 'l10n.zh-cn.json'), 'utf8')) as Record<string, string>;
const format = (table: Record<string, string>) => (m: string, ...a: string[]) => (table[m] ?? m).replace(/\{(\d+)\}/g, (_, i: string) => a[Number(i)]);

describe('walkthrough: views', () => {
  it('tells two dashboard tabs of one dataset apart by their run', () => {
    const a = runTag('20261130-082123-fortunes-en-ab12', undefined, '/data/fortunes-en');
    const b = runTag('20261130-083005-fortunes-en-0f3c', '20261130-083005-fortunes-en-0f3c', '/data/fortunes-en');
    assert.equal(a, '20261130-082123-ab12');
    assert.equal(b, '20261130-083005-0f3c');
    assert.notEqual(a, b);
    // A renamed run shows its name; an id of another shape is kept whole; no id yet: nothing to add.
    assert.equal(runTag('20261130-082123-fortunes-en-ab12', 'baseline', '/data/fortunes-en'), 'baseline');
    assert.equal(runTag('my-run', undefined, '/data/fortunes-en'), 'my-run');
    assert.equal(runTag('20261130-082123-other-ab12', undefined, '/data/fortunes-en'), '20261130-082123-other-ab12');
    assert.equal(runTag(undefined, undefined, '/data/fortunes-en'), undefined);
    const zh = zhOf('dashboard');
    assert.equal(format(zh)('Training: {0} ({1})', 'fortunes-en', a!), '训练：fortunes-en（20261130-082123-ab12）');
  });

  it('says the best macro-F1 in the Compare picker is a validation figure, in English and Chinese', () => {
    const d = { bestValMacroF1: 0.8, testMacroF1: 0.83466 };
    assert.equal(pickerFigures(d, format({})), 'best validation macro-F1 0.8000 · test macro-F1 0.8347');
    assert.equal(pickerFigures({ bestValMacroF1: null, testMacroF1: null }, format({})), 'best validation macro-F1 — · test macro-F1 —');
    const zh = zhOf('compare');
    assert.ok(zh[PICKER_FIGURES], 'the picker text has a Chinese translation');
    assert.match(pickerFigures(d, format(zh)), /^最佳验证集宏平均 F1 0\.8000 · 测试集宏平均 F1 0\.8347$/);
  });

  it('knows when a settings file left by undo holds nothing (so undo can remove it)', () => {
    for (const t of ['', '{}', '{\n}\n', '\uFEFF{ }', '// settings\n{\n  /* none */\n}']) assert.ok(settingsFileIsEmpty(t), JSON.stringify(t));
    for (const t of ['{"a": 1}', '{\n  // kept\n  "fewshot.train.classWeighting": false\n}', '{"u": "http://x"}', '{"c": "/* x */"}']) assert.ok(!settingsFileIsEmpty(t), JSON.stringify(t));
  });
});
