/**
 * Training (the CLI's loadDataset) and the diagnostics language server (src/server/analysis)
 * read datasets with the same core modules: the same fixture files must give the same
 * datasets (samples with text, label, split, file and line; labels; hold-out) and the
 * same list of datasets in a workspace.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { findDatasets, loadDataset, type Dataset, type Sample } from '../../src/core/datasets';
import { DatasetIndex } from '../../src/server/analysis';
import { DiagnosticCodes } from '../../src/protocol/diagnostics';

const FIXTURES = path.resolve(__dirname, '..', '..', '..', 'test', 'fixtures', 'agreement');

function view(s: Sample) {
  return { text: s.text, label: s.label, file: s.file, line: s.line, group: s.group };
}
function shape(ds: Dataset) {
  return {
    format: ds.format, labels: ds.labels, testSource: ds.testSource, fingerprint: ds.fingerprint, columns: ds.columns,
    train: ds.train.map(view), test: ds.test.map(view),
  };
}

describe('datasets: training and diagnostics agree on what a dataset is', function () {
  this.timeout(30_000);
  let ws = '';
  let ix: DatasetIndex;
  const at = (p: string) => path.join(ws, p);

  before(async () => {
    ws = fs.mkdtempSync(path.join(os.tmpdir(), 'fewshot-agree-'));
    fs.cpSync(FIXTURES, ws, { recursive: true });
    // Tables in folders the core walker skips (the server's old walker looked inside them).
    for (const dir of ['.venv/lib', 'bench-results', '.next', 'bower_components/pkg', '.cache']) {
      fs.mkdirSync(at(dir), { recursive: true });
      fs.writeFileSync(path.join(at(dir), 'data.csv'), 'text,label\nhello there,greet\ngoodbye now,farewell\n');
    }
    ix = new DatasetIndex([ws]);
    await ix.analyseAll();
  });
  after(() => fs.rmSync(ws, { recursive: true, force: true }));

  it('finds the same datasets in the workspace (walker, column sniffing, train/test table pairs)', async () => {
    const core = (await findDatasets(ws)).map((r) => r.root);
    assert.deepEqual([...ix.datasets.keys()], core);
    assert.deepEqual(core.map((r) => path.relative(ws, r).split(path.sep).join('/')),
      ['clinic', 'intents.jsonl', 'notes.csv', 'quoted.csv', 'reviews-train.csv', 'tickets.tsv', 'triage-gbk.csv']);
    assert.deepEqual(ix.datasets.get(at('reviews-train.csv'))!.members.map((m) => [path.basename(m.file), m.split]),
      [['reviews-train.csv', 'train'], ['reviews-test.csv', 'test']]);
  });

  for (const name of ['clinic', 'notes.csv', 'tickets.tsv', 'intents.jsonl', 'triage-gbk.csv', 'quoted.csv', 'reviews-train.csv']) {
    it(`gives identical samples, labels and splits for ${name}`, async () => {
      const cli = await loadDataset(at(name));
      const server = ix.trainingView(at(name));
      assert.ok(cli.train.length > 0 && cli.labels.length >= 2, 'the fixture is a usable dataset');
      assert.deepEqual(shape(server), shape(cli));
    });
  }

  it('the fixtures exercise what used to differ (each assertion reads the CLI side; the test above holds the server to it)', async () => {
    const clinic = await loadDataset(at('clinic'));
    assert.equal(clinic.testSource, 'given', 'Training/ and Testing/ folders are the splits');
    assert.ok(!clinic.test.some((s) => s.label === 'dermatology'), 'a test class without training data is left out');
    assert.ok(clinic.train.some((s) => s.file.endsWith('r1.md')), '.md files are samples');
    assert.ok(!clinic.train.some((s) => /scan\.pdf|empty\.txt|DS_Store/.test(s.file)), 'other files are not');
    assert.equal(clinic.train.find((s) => s.file.endsWith('c1.txt'))!.text, 'Chest pain radiating to the left arm.\nSecond line.');
    assert.deepEqual(clinic.train.filter((s) => s.group).map((s) => s.group), ['visit7', 'visit7']);
    const notes = await loadDataset(at('notes.csv'));
    assert.deepEqual(notes.columns, { text: 'note', label: 'department' });
    assert.equal(notes.testSource, 'stratified-split');
    assert.equal(notes.train.length + notes.test.length, 10, 'the unlabelled row is not trained on');
    assert.deepEqual(notes.unlabeled?.map((s) => [s.label, s.line]), [['', 12]], 'it is an unlabelled text');
    const tickets = await loadDataset(at('tickets.tsv'));
    assert.deepEqual(tickets.test.map((s) => s.line), [6, 7], '"dev" rows train, "TEST" rows test');
    const intents = await loadDataset(at('intents.jsonl'));
    assert.ok(intents.labels.includes('weather') && !intents.labels.includes('weather '), 'labels are trimmed');
    const gbk = await loadDataset(at('triage-gbk.csv'));
    assert.deepEqual(gbk.labels, ['呼吸科', '心内科']);
    const quoted = await loadDataset(at('quoted.csv'));
    assert.deepEqual(quoted.test.map((s) => [s.text, s.line]), [['Stopped working\n\nafter a week', 8], ['Sound is "crisp"', 11]]);
    const pair = await loadDataset(at('reviews-train.csv'));
    assert.equal(pair.testSource, 'given');
    assert.deepEqual(pair.test.map((s) => path.basename(s.file)), ['reviews-test.csv', 'reviews-test.csv']);
  });

  it('a note,department CSV gets diagnostics, including its unlabelled row (Information)', () => {
    const r = ix.results.get(at('notes.csv'))!;
    assert.deepEqual(r.summary.classes.map((c) => [c.label, c.train]), [['cardiology', 5], ['respiratory', 5]]);
    assert.ok(r.issues.some((i) => i.code === DiagnosticCodes.tooFewTrain));
    const skipped = r.issues.filter((i) => i.code === DiagnosticCodes.emptyLabel);
    assert.deepEqual(skipped.map((i) => [i.range.start.line, i.data.row, i.severity]), [[11, { line: 11, endLine: 12 }, 'info']]);
    assert.match(skipped[0].message, /Unlabelled text.*Suggest What to Label Next/);
    assert.ok(!r.issues.some((i) => i.code === DiagnosticCodes.emptyFile), 'not an empty-row warning');
  });

  it('positions point at the text of multi-line quoted records', () => {
    const lf = ix.cache.get(at('quoted.csv'))!;
    const s = lf.samples.find((x) => x.text.startsWith('Stopped'))!;
    assert.deepEqual(s.row, { line: 7, endLine: 10 });
    assert.deepEqual(s.range, { start: { line: 7, character: 1 }, end: { line: 9, character: 12 } });
  });
});
