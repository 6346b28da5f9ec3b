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
import { INLINE_MAX_COLUMN, inlineDecorationText, inlinePlacement } from '../../src/extension/predict/format';
import { LEGEND_MAX_CLASSES, confusionLayout, probabilityText, recallLegendLabels } from '../../webviews/dashboard/layout';

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

  it('fits a 16-class confusion matrix in the panel without scrolling sideways, and keeps 3 classes roomy', () => {
    for (const width of [560, 700, 1000]) {
      const l = confusionLayout(16, width);
      // row header + 16 cells (1 px padding and border each side) + the card's padding
      const needed = l.rowHeader + 16 * (l.cell + 2) + 24;
      assert.ok(needed <= width, `16 classes need ${needed} px of ${width}`);
      assert.ok(l.rotate && l.wide, 'vertical column labels and a whole row for many classes');
      assert.ok(l.cell >= 22);
    }
    assert.ok(confusionLayout(16, 560).compact);
    const few = confusionLayout(3, 400);
    assert.deepEqual([few.cell, few.rotate, few.wide, few.compact], [44, false, false, false]);
  });

  it('names every class in the recall legend for a few classes, only the lowest one for many', () => {
    const few = ['a', 'b', 'c'];
    assert.deepEqual(recallLegendLabels(few, 'b'), few);
    const many = Array.from({ length: 16 }, (_, i) => `class-${i}`);
    assert.ok(many.length > LEGEND_MAX_CLASSES);
    assert.deepEqual(recallLegendLabels(many, 'class-7'), ['class-7']);
    assert.deepEqual(recallLegendLabels(many, undefined), []);
  });

  it('labels the number beside a misclassified sample as a probability', () => {
    assert.equal(probabilityText(0.8312), 'p = 0.83');
    assert.equal(probabilityText(undefined), undefined);
    assert.equal(probabilityText(NaN), undefined);
  });

  it('puts an inline prediction where it is on screen: after short text, before the text of a long line', () => {
    assert.deepEqual(inlinePlacement(0, 60), { at: 'after', column: 60 });
    assert.deepEqual(inlinePlacement(0, 400), { at: 'before', column: 0 });
    assert.deepEqual(inlinePlacement(12, 300), { at: 'before', column: 12 });
    assert.deepEqual(inlinePlacement(250, 300), { at: 'before', column: 0 });
    assert.deepEqual(inlinePlacement(0, 400, Infinity), { at: 'after', column: 400 }, 'wrapped lines keep it after the text');
    assert.equal(inlinePlacement(0, INLINE_MAX_COLUMN).at, 'after');
    assert.equal(inlineDecorationText('sports 0.91', 'after'), '» sports 0.91');
    assert.equal(inlineDecorationText('sports 0.91', 'before'), 'sports 0.91 »');
  });
});
