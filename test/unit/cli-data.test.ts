/**
 * Issue 16 (datasets, run files, empty text) as the `fewshot` CLI shows it: corrupt run files give a
 * clear message (never a TypeError) and are printed with control characters escaped; empty text is
 * refused; training names the columns it reads, the rows it skips and the test classes it leaves out.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { buildChildBundles, rmrf, runCli, tempDir, type CliResult } from './helpers/trainerFixtures';

const noStack = (r: CliResult): void => assert.ok(!/\n\s+at .+:\d+:\d+\)?/.test(r.stderr), `no stack trace in:\n${r.stderr}`);
const RUN_ID = '20260101-120000-notes-ab12';

describe('fewshot CLI: wrong data and corrupt run files', function () {
  this.timeout(120_000);
  let cli: string;
  let dir: string;
  const run = (args: string[], input?: string): Promise<CliResult> => runCli(cli, args, { cwd: dir, input });
  const runDir = () => path.join(dir, '.fewshot', 'runs', RUN_ID);
  const writeRun = (files: Record<string, string>) => {
    rmrf(runDir());
    fs.mkdirSync(runDir(), { recursive: true });
    for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(runDir(), name), text);
  };
  before(() => {
    cli = buildChildBundles().cli;
    dir = tempDir('cli-data');
  });
  after(() => rmrf(dir));

  it('predict refuses empty or whitespace-only text (exit 2), as the model server does', async () => {
    for (const text of ['', '   ', '\t\n']) {
      const r = await run(['predict', '--run', 'no-such-run', text]);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, /^error: the text is empty \(only whitespace\): there is nothing to label/m);
      assert.equal(r.stdout, '');
    }
  });

  it('report and runs on run.json of {}, [] or garbage, or a report.json of {}: a clear message naming the file, no TypeError', async () => {
    for (const bad of ['{}', '[]', 'not json', '"a string"']) {
      writeRun({ 'run.json': bad });
      const r = await run(['report', RUN_ID]);
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, new RegExp(`^error: .*${RUN_ID}/run\\.json is not`, 'm'));
      assert.match(r.stderr, /^fix: /m);
      assert.ok(!/TypeError|Cannot read properties/.test(r.stderr), r.stderr);
      noStack(r);
      const list = await run(['runs']);
      assert.equal(list.code, 0, list.stderr);
      assert.match(list.stdout, new RegExp(`${RUN_ID}\\s+unreadable`));
    }
    writeRun({ 'run.json': JSON.stringify({ config: { dataset: 'notes' }, status: 'completed' }), 'report.json': '{}' });
    const r = await run(['report', RUN_ID]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /report\.json is not a Few-Shot Lab test report/);
    assert.ok(!/TypeError|Cannot read properties/.test(r.stderr), r.stderr);
    noStack(r);
    writeRun({ 'run.json': JSON.stringify({ config: { dataset: 'notes' }, status: 'completed' }), 'report.json': JSON.stringify({ labels: ['a'], perClass: {}, macro: {} }) });
    const noText = await run(['report', RUN_ID]);
    assert.equal(noText.code, 1);
    assert.match(noText.stderr, /has no report text: .*report\.txt is missing and .*report\.json holds no "text"/);
    noStack(noText);
  });

  it('a run.json with malformed fields (hand-edited, damaged) still lists and reports clearly', async () => {
    writeRun({ 'run.json': JSON.stringify({ config: { dataset: 'notes' }, status: 'failed', error: 5, name: 7, encoder: 'x', testMacroF1: 'high', dataProblems: 'many' }) });
    const list = await run(['runs']);
    assert.equal(list.code, 0, list.stderr);
    assert.match(list.stdout, new RegExp(`${RUN_ID}\\s+failed`));
    const r = await run(['report', RUN_ID]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, new RegExp(`^error: Run ${RUN_ID} has no report \\(the run is failed\\)`, 'm'));
    assert.ok(!/TypeError|Cannot read properties/.test(r.stderr), r.stderr);
    noStack(r);
  });

  it('control characters from run files are escaped before printing (report, runs, errors)', async () => {
    const evil = 'notes\u001b[2J\u001b]0;owned\u0007\b';
    const report = { labels: ['a', 'b'], perClass: {}, accuracy: 1, macro: {}, weighted: {}, confusion: [[1, 0], [0, 1]], split: 'test', text: `report\u001b[31m red\n  macro avg\n` };
    writeRun({
      'run.json': JSON.stringify({ config: { dataset: evil, encoder: `hashing\u001b[1m` }, status: 'completed', name: `nice\u009b6n`, createdAt: '2026-01-01T12:00:00Z' }),
      'report.json': JSON.stringify(report),
    });
    const rep = await run(['report', RUN_ID]);
    assert.equal(rep.code, 0, rep.stderr);
    assert.ok(!/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/.test(rep.stdout), JSON.stringify(rep.stdout));
    assert.match(rep.stdout, /notes\\u\{1b\}\[2J\\u\{1b\}\]0;owned\\u\{7\}\\u\{8\}/);
    assert.match(rep.stdout, /report\\u\{1b\}\[31m red\n {2}macro avg\n/, 'line ends of the report are kept');
    const list = await run(['runs']);
    assert.equal(list.code, 0);
    assert.ok(!/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/.test(list.stdout), JSON.stringify(list.stdout));
    assert.match(list.stdout, /nice\\u\{9b\}6n/);
    writeRun({ 'run.json': JSON.stringify({ config: { dataset: evil }, status: 'failed', error: { message: 'boom\u001b[2J' } }) });
    const failed = await run(['report', RUN_ID]);
    assert.equal(failed.code, 1);
    assert.ok(!/\u001b/.test(failed.stderr), JSON.stringify(failed.stderr));
  });

  it('train names the columns it reads, skips a row with an unbalanced quote by its line, and counts test classes left out', async () => {
    const rows = (label: string, split: string, n: number) => Array.from({ length: n }, (_, i) => `${split} ${label} complaint number ${i + 1} with ${label} words,${label},${split}`);
    const csv = ['text,label,split', ...rows('cardiology', 'train', 6), '"chest pain, radiating,cardiology,train', ...rows('neurology', 'train', 6),
      ...rows('cardiology', 'test', 2), ...rows('neurology', 'test', 2), ...rows('dermatology', 'test', 3)].join('\n') + '\n';
    fs.writeFileSync(path.join(dir, 'notes.csv'), csv);
    const r = await run(['train', 'notes.csv', '--encoder', 'hashing:1024', '--verbose']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /^Columns read from .*notes\.csv: text column "text", label column "label"$/m, 'the info log (VS Code\'s Output) says it too');
    assert.match(r.stderr, /^load: 12 training and 4 test examples, 2 labels; text column "text", label column "label"$/m);
    assert.match(r.stderr, /^warn: .*notes\.csv:8: the quote opened on line 8 is never closed; the row was skipped/m);
    assert.match(r.stderr, /^warn: Data problem: 1 test class\(es\) have no training examples \(dermatology: 3\); their 3 test example\(s\) were left out of the evaluation\.$/m);
    assert.match(r.stdout, /- 1 test class\(es\) have no training examples \(dermatology: 3\)/, 'and in the report');
  });
});
