/**
 * The dashboard's per-sample table, pure logic (src/core/labels/samples.ts and the webview's helpers in
 * webviews/dashboard/layout.ts): rows from test and out-of-fold predictions, the suspect flag, sorting, filtering,
 * paging and CSV quoting. A run folder written through RunStore.saveResults({..., oof}) is read back into the table.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { RunStore } from '../../src/core/runs';
import type { TrainPrediction } from '../../src/protocol/labels';
import type { TestPrediction } from '../../src/protocol/run';
import { SAMPLE_PAGE_SIZE, SAMPLE_TEXT_CHARS } from '../../src/protocol/webview';
import { SampleTable, confidenceOf, csvField, samplesToCsv, sortRows } from '../../src/core/labels/samples';
import { nextSort, numberText, pageRange } from '../../webviews/dashboard/layout';

const LABELS = ['cardiology', 'gastro'];

function test(index: number, label: string, predicted: string, p: number, extra: Partial<TestPrediction> = {}): TestPrediction {
  const other = LABELS.find((l) => l !== predicted)!;
  return { index, text: `test note ${index}`, label, predicted, probabilities: { [predicted]: p, [other]: 1 - p }, ...extra };
}

/** 8 training examples per class with clear out-of-fold probabilities; train index 3 (labelled gastro) looks like cardiology. */
function oofRows(): TrainPrediction[] {
  const rows: TrainPrediction[] = [];
  for (let i = 0; i < 16; i++) {
    const label = i < 8 ? 'cardiology' : 'gastro';
    let pCard = label === 'cardiology' ? 0.9 - (i % 4) * 0.02 : 0.1 + (i % 4) * 0.02;
    if (i === 11) pCard = 0.93; // labelled gastro, but the model is sure it is cardiology
    rows.push({ index: i, text: `train note ${i}`, label, predicted: pCard >= 0.5 ? 'cardiology' : 'gastro', probabilities: { cardiology: pCard, gastro: 1 - pCard }, file: `/data/train/${label}/${i}.txt` });
  }
  return rows;
}

describe('dashboard: per-sample table', () => {
  it('shows the saved probability of the predicted class and the margin between the top two', () => {
    const c = confidenceOf({ a: 0.6, b: 0.3, c: 0.1 }, 'a');
    assert.equal(c.probability, 0.6);
    assert.ok(Math.abs(c.margin! - 0.3) < 1e-12);
    // A prediction outside the saved classes (e.g. "uncertain") has no probability of its own, but a margin.
    assert.deepEqual(confidenceOf({ a: 0.5, b: 0.5 }, 'uncertain'), { probability: null, margin: 0 });
    assert.deepEqual(confidenceOf(undefined, 'a'), { probability: null, margin: null });
  });

  it('flags the mislabelled training example from the out-of-fold probabilities, and only training rows', () => {
    const t = new SampleTable([test(0, 'gastro', 'cardiology', 0.97)], oofRows(), LABELS);
    const suspects = t.rows.filter((r) => r.suspect);
    assert.deepEqual(suspects.map((r) => [r.split, r.index, r.suggested]), [['train', 11, 'cardiology']]);
    assert.equal(suspects[0].pSuggested, 0.93);
    assert.equal(t.suspects, 1);
    assert.equal(t.page({}).noOof, false);
  });

  it('says when the run has no out-of-fold predictions and shows its test rows', () => {
    const t = new SampleTable([test(0, 'gastro', 'gastro', 0.8), test(1, 'cardiology', 'gastro', 0.6)], []);
    const p = t.page({});
    assert.equal(p.noOof, true);
    assert.deepEqual([p.test, p.train, p.suspects, p.matched], [2, 0, 0, 2]);
  });

  it('sorts by every column, both ways, ties in file order, rows without a number last', () => {
    const preds = [test(0, 'gastro', 'gastro', 0.7), test(1, 'cardiology', 'gastro', 0.9), test(2, 'cardiology', 'cardiology', 0.7),
      { index: 3, text: 'no probabilities', label: 'gastro', predicted: 'gastro', probabilities: {} }];
    const t = new SampleTable(preds, oofRows(), LABELS);
    const ids = (col: Parameters<typeof sortRows>[1], desc = false) => sortRows(t.rows.slice(0, 4), col, desc).map((r) => r.id);
    assert.deepEqual(ids('probability'), [0, 2, 1, 3]);
    assert.deepEqual(ids('probability', true), [1, 0, 2, 3]);
    assert.deepEqual(ids('gold'), [1, 2, 0, 3]);
    assert.deepEqual(ids('gold', true), [0, 3, 1, 2]);
    assert.deepEqual(ids('text'), [3, 0, 1, 2]);
    assert.deepEqual(ids(undefined), [0, 1, 2, 3]);
    // Across splits: suspect first when descending, test before train by split.
    assert.equal(t.filtered({ sort: 'suspect', descending: true })[0].index, 11);
    assert.equal(t.filtered({ sort: 'split', descending: true })[0].split, 'train');
    const margins = t.filtered({ sort: 'margin' }).map((r) => r.margin);
    assert.equal(margins[margins.length - 1], null);
    const shown = margins.filter((m): m is number => m !== null);
    assert.deepEqual(shown, shown.slice().sort((a, b) => a - b));
  });

  it('filters by text, gold or predicted (any case), errors only, suspects only and split', () => {
    const t = new SampleTable([test(0, 'gastro', 'cardiology', 0.97), test(1, 'gastro', 'gastro', 0.8)], oofRows(), LABELS);
    assert.deepEqual(t.filtered({ text: 'TRAIN NOTE 1' }).map((r) => r.index), [1, 10, 11, 12, 13, 14, 15]);
    assert.equal(t.filtered({ text: 'Gastro' }).length, 2 + 8); // both test rows (gold gastro) + the 8 gastro training rows
    assert.deepEqual(t.filtered({ errorsOnly: true }).map((r) => [r.split, r.index]), [['test', 0], ['train', 11]]);
    assert.deepEqual(t.filtered({ suspectsOnly: true }).map((r) => r.index), [11]);
    assert.equal(t.filtered({ split: 'test' }).length, 2);
    assert.equal(t.filtered({ split: 'train', errorsOnly: true, text: 'note 11' }).length, 1);
    assert.equal(t.filtered({ split: 'test', suspectsOnly: true }).length, 0);
  });

  it('pages 100,000 rows 200 at a time and clamps the offset', () => {
    const many = Array.from({ length: 100_000 }, (_, i) => test(i, i % 3 ? 'gastro' : 'cardiology', 'gastro', 0.5 + (i % 50) / 100));
    const t = new SampleTable(many, []);
    const first = t.page({ sort: 'probability', descending: true, limit: SAMPLE_PAGE_SIZE });
    assert.equal(first.rows.length, 200);
    assert.equal(first.matched, 100_000);
    assert.equal(first.rows[0].probability, 0.99);
    const errors = t.page({ errorsOnly: true, offset: 10_000_000 });
    assert.equal(errors.matched, 33_334);
    assert.equal(errors.offset, 33_200);
    assert.equal(errors.rows.length, 134);
    assert.deepEqual(pageRange(errors.offset, errors.rows.length, errors.matched), { from: 33_201, to: 33_334, of: 33_334 });
    assert.equal(pageRange(0, 0, 0), undefined);
  });

  it('sends at most SAMPLE_TEXT_CHARS of a text to the webview and names the file and line', () => {
    const long = 'x'.repeat(SAMPLE_TEXT_CHARS + 5);
    const t = new SampleTable([test(0, 'gastro', 'gastro', 0.8, { text: long, file: '/data/notes.csv', line: 12 })], []);
    const [row] = t.page({}).rows;
    assert.equal(row.text.length, SAMPLE_TEXT_CHARS);
    assert.equal(row.truncated, true);
    assert.equal(row.where, 'notes.csv:12');
    assert.equal(t.byId(0)?.text, long);
  });

  it('quotes CSV fields that hold commas, quotes, line breaks or edge spaces, and exports every filtered row', () => {
    assert.equal(csvField('plain'), 'plain');
    assert.equal(csvField('a,b'), '"a,b"');
    assert.equal(csvField('say "hi"'), '"say ""hi"""');
    assert.equal(csvField('two\nlines'), '"two\nlines"');
    assert.equal(csvField(' lead'), '" lead"');
    assert.equal(csvField(null), '');
    assert.equal(csvField(0.25), '0.25');
    const preds = Array.from({ length: 450 }, (_, i) => test(i, 'gastro', i % 2 ? 'gastro' : 'cardiology', 0.75, { text: `note ${i}, "quoted"\nsecond line`, file: '/data/t.csv', line: i + 2 }));
    const t = new SampleTable(preds, oofRows(), LABELS);
    const csv = samplesToCsv(t.filtered({ errorsOnly: true, sort: 'probability' }));
    const lines = csv.split('\r\n');
    assert.equal(lines[0], 'split,index,text,gold,predicted,probability,margin,suspect,suggested,file,line');
    // 225 test errors + the suspect training example, each one record (the text's line break is inside quotes).
    assert.equal(lines.length - 2, 226);
    // Sorted by probability: the test errors (0.75) in file order, then the suspect (0.93).
    assert.equal(lines[1], 'test,0,"note 0, ""quoted""\nsecond line",gastro,cardiology,0.75,0.5,no,,/data/t.csv,2');
    assert.equal(lines[lines.length - 2], 'train,11,train note 11,gastro,cardiology,0.93,0.8600000000000001,yes,cardiology,/data/train/gastro/11.txt,');
    assert.equal(lines[lines.length - 1], '');
  });

  it('sorts a new column ascending and flips the same column; writes missing numbers as a dash', () => {
    assert.deepEqual(nextSort({}, 'probability'), { sort: 'probability', descending: false });
    assert.deepEqual(nextSort({ sort: 'probability', descending: false }, 'probability'), { sort: 'probability', descending: true });
    assert.deepEqual(nextSort({ sort: 'probability', descending: true }, 'margin'), { sort: 'margin', descending: false });
    assert.equal(numberText(0.83), '0.8300');
    assert.equal(numberText(null), '—');
  });

  it('reads a run folder written by RunStore.saveResults with out-of-fold predictions', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fewshot-samples-'));
    try {
      const store = new RunStore(dir);
      const id = '20261130-100000-notes-ab12';
      fs.mkdirSync(store.dirOf(id), { recursive: true });
      const model = { formatVersion: 1, labels: LABELS, encoder: { id: 'hashing' }, head: 'logreg', weights: [] } as never;
      await store.saveResults(id, { model, predictions: [test(0, 'gastro', 'cardiology', 0.97)], report: null, oof: oofRows() });
      const t = new SampleTable(await store.readPredictions(id), await store.readOof(id), LABELS);
      assert.deepEqual([t.test, t.train, t.suspects], [1, 16, 1]);
      assert.equal(t.filtered({ suspectsOnly: true })[0].file, '/data/train/gastro/11.txt');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
