/**
 * The trainer's stage messages (English, as the CLI prints them) are shown in the UI language by the
 * notification, the status bar and the dashboard: the stages a real training reports are recognised,
 * and every template has a Simplified Chinese text with the same placeholders.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { STAGE_TEMPLATES, stageKey } from '../../src/extension/train/stages';
import { DEFAULT_CONFIG } from '../../src/core/config';
import { runTraining } from '../../src/core/train';
import type { TrainConfig } from '../../src/protocol/run';

const root = path.resolve(__dirname, '..', '..', '..');
const zh = JSON.parse(fs.readFileSync(path.join(root, 'src', 'extension', 'train', 'l10n.zh-cn.json'), 'utf8')) as Record<string, string>;
const fill = (s: string, args: string[]) => s.replace(/\{(\d+)\}/g, (_, i: string) => args[+i]);

describe('train: stage messages in the UI language', () => {
  it('has a Chinese text with the same placeholders for every template', () => {
    for (const [, key] of STAGE_TEMPLATES) {
      assert.ok(zh[key] && /[\u4e00-\u9fff]/.test(zh[key]), `no zh-cn for ${key}`);
      assert.deepEqual(zh[key].match(/\{\d+\}/g)?.sort() ?? [], key.match(/\{\d+\}/g)?.sort() ?? [], key);
    }
  });

  it('recognises every stage a tfjs training and a few-shot training report', async function () {
    this.timeout(120_000);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fewshot-stages-'));
    try {
      const rows: string[] = ['text,label'];
      for (let i = 0; i < 40; i++) rows.push(`"${i % 2 ? 'chest pain and palpitations' : 'itchy red rash on the arm'} case ${i}",${i % 2 ? 'cardiology' : 'dermatology'}`);
      fs.writeFileSync(path.join(dir, 'notes.csv'), rows.join('\n') + '\n');
      const messages = new Set<string>();
      for (const over of [{ head: 'logreg', epochs: 3, patience: 0 }, { head: 'auto' }] as Partial<TrainConfig>[]) {
        const config: TrainConfig = { ...DEFAULT_CONFIG, dataset: path.join(dir, 'notes.csv'), encoder: 'hashing:1024', ...over };
        const rec = await runTraining({ config, storeDir: path.join(dir, 'store') }, { onEvent: (e) => { if (e.type === 'progress' && e.message) messages.add(e.message); } });
        assert.equal(rec.status, 'completed');
      }
      // the few-shot solver's own lines ("candidate fit 3 of 27: …", "final fit (…): L-BFGS iteration 3 …") stay as sent
      const stages = [...messages].filter((m) => !/^(candidate fit|final fit|final member)\b/.test(m));
      assert.ok(stages.length >= 6, `stages: ${stages.join(' | ')}`);
      for (const m of stages) {
        const k = stageKey(m);
        assert.ok(k, `stage not recognised: ${m}`);
        assert.equal(fill(k.key, k.args), m);
      }
      const refit = stageKey('Refitting on all 30 training examples (12 epochs)')!;
      assert.equal(fill(zh[refit.key], refit.args), '正在用全部 30 个训练样本重新训练（12 轮）');
      assert.equal(stageKey('final fit (IDF on · C=10): L-BFGS iteration 3 (primal form)'), undefined);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
