/**
 * The dashboard shows a run's validation description (recorded in English in run.json) in the UI language:
 * every template the engine writes is recognised, with its numbers, and has a Simplified Chinese text.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { VALIDATION_TEMPLATES, validationKey } from '../../src/extension/dashboard/validation';
import { fitFewShot } from '../../src/core/fewshot';
import { createHashingEncoder } from '../../src/core/encoders/hashing';

const root = path.resolve(__dirname, '..', '..', '..');
const zh = JSON.parse(fs.readFileSync(path.join(root, 'src', 'extension', 'dashboard', 'l10n.zh-cn.json'), 'utf8')) as Record<string, string>;
const fill = (s: string, args: string[]) => s.replace(/\{(\d+)\}/g, (_, i: string) => args[+i]);

describe('dashboard: the validation description in the UI language', () => {
  it('has a Chinese text with the same placeholders for every template', () => {
    for (const [, key] of VALIDATION_TEMPLATES) {
      assert.ok(zh[key] && /[\u4e00-\u9fff]/.test(zh[key]), `no zh-cn for ${key}`);
      assert.deepEqual(zh[key].match(/\{\d+\}/g)?.sort() ?? [], key.match(/\{\d+\}/g)?.sort() ?? [], key);
    }
  });

  it('recognises what the engine records, numbers included, and leaves anything else as recorded', async () => {
    const cases: [string, string][] = [
      ['stratified 20% hold-out of the training split (6 examples)', '从训练集分层留出 20%（6 个样本）'],
      ['3-fold CV over the training split, mean over folds', '在训练集上做 3 折交叉验证，取各折平均'],
      ['none (training-set metrics: no validation data)', '无（训练集指标：没有验证数据）'],
      ['none (10000 training texts, more than 5000: IDF stays on and nothing is cross-validated)', '无（10000 条训练文本，超过 5000 条：IDF 保持开启，不做交叉验证）'],
    ];
    // and what the few-shot head really plans on a small set (CV-scored)
    const enc = createHashingEncoder({ dim: 1024 });
    const texts = Array.from({ length: 24 }, (_, i) => `${i % 2 ? 'heart chest pain' : 'skin rash itch'} case ${i}`);
    const y = texts.map((_, i) => i % 2);
    const r = await fitFewShot(await enc.embed(texts), y, { labels: ['a', 'b'], encoderId: enc.id });
    assert.ok(r.plan.validation);
    const m = validationKey(r.plan.validation);
    assert.ok(m, `not recognised: ${r.plan.validation}`);
    assert.equal(fill(m.key, m.args), r.plan.validation);
    for (const [en, expected] of cases) {
      const k = validationKey(en);
      assert.ok(k, en);
      assert.equal(fill(k.key, k.args), en);
      assert.equal(fill(zh[k.key], k.args), expected);
    }
    assert.equal(validationKey('something a future engine writes'), undefined);
  });
});
