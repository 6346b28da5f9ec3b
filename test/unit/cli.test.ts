import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ClassificationReport, RunRecord, TestPrediction } from '../../src/protocol/run';
import { buildChildBundles, bundleEnv, readJsonl, repoRoot, rmrf, runCli, tempDir, writeCsvDataset, type CliResult } from './helpers/trainerFixtures';
import { SAMPLES } from './helpers/datasets-fixtures';


/** Polls `f` (visible state, no fixed sleeps) until it returns a value. */
async function until<T>(what: string, f: () => T | undefined, timeoutMs = 60_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = f();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const noStack = (r: CliResult): void => assert.ok(!/\n\s+at .+:\d+:\d+\)?/.test(r.stderr), `no stack trace in:\n${r.stderr}`);

describe('fewshot CLI', function () {
  this.timeout(180_000);
  let cli: string;
  let dir: string;
  let csv: string;
  const run = (args: string[], input?: string): Promise<CliResult> => runCli(cli, args, { cwd: dir, input });
  before(() => {
    cli = buildChildBundles().cli;
    dir = tempDir('cli');
    csv = writeCsvDataset(path.join(dir, 'ds'), 15, 6);
  });
  after(() => rmrf(dir));

  it('--help for the tool and for each command exits 0', async () => {
    const main = await run(['--help']);
    assert.equal(main.code, 0);
    for (const c of ['train', 'predict', 'runs', 'report', 'serve']) assert.ok(main.stdout.includes(c), c);
    for (const c of ['train', 'predict', 'runs', 'report', 'serve']) {
      const r = await run([c, '--help']);
      assert.equal(r.code, 0, c);
      assert.match(r.stdout, new RegExp(`^Usage: fewshot ${c}`), c);
    }
  });

  it('bad usage exits 2 with an error line', async () => {
    for (const args of [[], ['frobnicate'], ['train'], ['train', csv, '--epochs', 'many'], ['train', csv, '--epochs', '0'], ['train', csv, '--bogus'],
      ['predict', 'some text'], ['report'], ['serve'], ['serve', '--run', 'x', '--port', '70000'], ['runs', 'extra']]) {
      const r = await run(args);
      assert.equal(r.code, 2, `${args.join(' ')} → ${r.code}\n${r.stderr}`);
      assert.ok(args.length === 0 ? r.stderr.includes('Usage: fewshot') : r.stderr.startsWith('error: '), r.stderr);
      noStack(r);
    }
  });

  it('settings the head does not use are refused (exit 2), naming what the head uses', async () => {
    for (const [args, bad] of [
      [['--epochs', '5'], '--epochs'], [['--lr', '0.1', '--batch-size', '8'], '--lr, --batch-size'], [['--no-refit'], '--no-refit'],
      [['--patience', '3'], '--patience'], [['--backend', 'cpu'], '--backend'], [['--head', 'centroid', '--epochs', '5'], '--epochs'],
      [['--head', 'logreg', '--no-passages'], '--no-passages'],
    ] as [string[], string][]) {
      const r = await run(['train', csv, ...args]);
      assert.equal(r.code, 2, `${args.join(' ')}\n${r.stderr}`);
      const head = args.includes('--head') ? args[args.indexOf('--head') + 1] : 'auto';
      assert.ok(r.stderr.startsWith(`error: ${bad} ${bad.includes(',') ? 'are' : 'is'} not used by head ${head}`), r.stderr);
      assert.match(r.stderr, new RegExp(`Head ${head} uses: `));
      assert.match(r.stderr, /^fix: drop /m);
      noStack(r);
    }
    assert.ok(!fs.existsSync(path.join(dir, '.fewshot', 'runs')) || fs.readdirSync(path.join(dir, '.fewshot', 'runs')).length === 0, 'no run was created');
  });

  it('fine-tuning flags: env/setup help, refused without --method finetune, --model required, quick-only flags refused', async () => {
    const main = await run(['--help']);
    for (const c of ['env', 'setup']) assert.ok(main.stdout.includes(c), c);
    for (const c of ['env', 'setup']) {
      const r = await run([c, '--help']);
      assert.equal(r.code, 0, c);
      assert.match(r.stdout, new RegExp(`^Usage: fewshot ${c}`), c);
    }
    assert.match((await run(['train', '--help'])).stdout, /--method <m>[\s\S]*--unfreeze-top <n>[\s\S]*--full-finetune-above <n>[\s\S]*--precision <p>/);
    const noMethod = await run(['train', csv, '--model', 'm', '--unfreeze-top', '2']);
    assert.equal(noMethod.code, 2, noMethod.stderr);
    assert.match(noMethod.stderr, /--model, --unfreeze-top are only used by --method finetune/);
    const noModel = await run(['train', csv, '--method', 'finetune']);
    assert.equal(noModel.code, 2);
    assert.match(noModel.stderr, /needs --model/);
    // an image folder fine-tunes the bundled ImageNet CNN without --model (here it stops before training: no interpreter)
    const images = await run(['train', path.join(SAMPLES, 'shapes'), '--method', 'finetune', '--python', path.join(dir, 'no-such-python')]);
    assert.equal(images.code, 1, images.stderr);
    assert.doesNotMatch(images.stderr, /needs --model/);
    const imageRun = JSON.parse(fs.readFileSync(path.join(dir, '.fewshot', 'runs', fs.readdirSync(path.join(dir, '.fewshot', 'runs')).sort().pop()!, 'run.json'), 'utf8'));
    assert.equal(imageRun.config.finetune.model, 'efficientnet-lite0');
    const quickOnly = await run(['train', csv, '--method', 'finetune', '--model', 'bert-base-chinese', '--head', 'mlp', '--augment', '1']);
    assert.equal(quickOnly.code, 2);
    assert.match(quickOnly.stderr, /--head, --augment are not used by --method finetune/);
    const badPrecision = await run(['train', csv, '--method', 'finetune', '--model', 'bert-base-chinese', '--precision', 'fp8']);
    assert.equal(badPrecision.code, 2);
    assert.match(badPrecision.stderr, /precision "fp8"/);
    for (const r of [noMethod, noModel, quickOnly, badPrecision]) noStack(r);
  });

  it('env reports the interpreter, what it lacks and which methods can run (text and --json)', async function () {
    this.timeout(120_000);
    // a real interpreter without the worker's packages (python3 -S hides site-packages)
    const bare = path.join(dir, 'bare-python');
    fs.writeFileSync(bare, '#!/bin/sh\nexec python3 -S "$@"\n', { mode: 0o755 });
    const env = { FEWSHOT_PYTHON: bare, FEWSHOT_VENV: path.join(dir, 'no-venv') };
    const j = await runCli(cli, ['env', '--json'], { cwd: dir, env });
    assert.equal(j.code, 0, j.stderr);
    const out = JSON.parse(j.stdout) as { python: { version: string; python: { path: string; source: string }; missing: string[] }; venv: { dir: string; exists: boolean }; methods: Record<string, { available: boolean; reason: string }> };
    assert.equal(out.python.python.path, bare);
    assert.equal(out.python.python.source, 'FEWSHOT_PYTHON');
    assert.ok(out.python.missing.includes('torch'));
    assert.deepEqual(out.venv, { dir: path.join(dir, 'no-venv'), exists: false });
    assert.equal(out.methods.quick.available, true);
    assert.equal(out.methods.finetune.available, false);
    assert.match(out.methods.finetune.reason, /torch/);
    const t = await runCli(cli, ['env'], { cwd: dir, env });
    assert.equal(t.code, 0);
    assert.match(t.stdout, new RegExp(`Python ${out.python.version.replace(/\./g, '\\.')} at `));
    assert.match(t.stdout, /torch missing/);
    assert.match(t.stdout, /Methods: quick: yes; finetune: no/);
    assert.match(t.stdout, /fix: Run `fewshot setup`/);
    // training with it fails at once, saying what is missing and what to run
    const model = path.join(dir, 'some-model');
    fs.mkdirSync(model, { recursive: true });
    fs.writeFileSync(path.join(model, 'config.json'), '{}');
    const tr = await runCli(cli, ['train', csv, '--method', 'finetune', '--model', model, '--out', 'ft-store'], { cwd: dir, env });
    assert.equal(tr.code, 1, tr.stderr);
    assert.match(tr.stderr, new RegExp(`error: Python [\\d.]+ found at ${bare} \\(from the environment variable FEWSHOT_PYTHON\\), but torch, transformers, onnx are missing`));
    assert.match(tr.stderr, /fix: Run `fewshot setup`/);
    noStack(tr);
    const runs = fs.readdirSync(path.join(dir, 'ft-store', 'runs'));
    const rec = JSON.parse(fs.readFileSync(path.join(dir, 'ft-store', 'runs', runs[0], 'run.json'), 'utf8')) as RunRecord;
    assert.equal(rec.status, 'failed');
    assert.equal(rec.algorithm, 'finetune-transformer');
    assert.match(rec.error?.fix ?? '', /fewshot setup/);
  });

  it('Ctrl-C during fitting cancels the run within a second; a second Ctrl-C quits at once and the run still reads cancelled', async () => {
    const big = writeCsvDataset(path.join(dir, 'big'), 667, 2, 3);
    const store = path.join(dir, 'ctrl-c');
    const interrupt = async (times: 1 | 2): Promise<{ code: number | null; ms: number; record: RunRecord }> => {
      const child = spawn(process.execPath, [cli, 'train', big, '--encoder', 'hashing', '--no-passages', '--no-class-names', '--out', store], {
        cwd: dir, env: { ...process.env, ...bundleEnv }, stdio: ['ignore', 'ignore', 'pipe'],
      });
      let stderr = '';
      let sentAt = 0;
      const code = await new Promise<number | null>((resolve) => {
        child.stderr.on('data', (d) => {
          stderr += d;
          // the head has started fitting (2,000 texts: several seconds of cross-validation)
          if (!sentAt && /^train: Fitting the few-shot head/m.test(stderr)) { sentAt = Date.now(); child.kill('SIGINT'); }
          if (times === 2 && stderr.includes('Cancelling…') && child.exitCode === null && !child.killed) child.kill('SIGINT');
        });
        child.on('close', resolve);
      });
      const ms = Date.now() - sentAt;
      assert.ok(sentAt > 0, stderr);
      const id = fs.readdirSync(path.join(store, 'runs')).sort().pop()!;
      return { code, ms, record: JSON.parse(fs.readFileSync(path.join(store, 'runs', id, 'run.json'), 'utf8')) as RunRecord };
    };
    const once = await interrupt(1);
    assert.equal(once.code, 1);
    assert.equal(once.record.status, 'cancelled');
    assert.ok(once.ms < 1000 + 300, `exited ${once.ms} ms after Ctrl-C`); // + process exit
    fs.rmSync(path.join(store, 'runs'), { recursive: true });
    const twice = await interrupt(2);
    assert.ok(twice.code === 130 || twice.code === 1, String(twice.code));
    assert.equal(twice.record.status, 'cancelled');
    assert.ok(twice.record.finishedAt);
  });

  it('failures exit 1 with error and fix lines, never a stack trace', async () => {
    const missing = await run(['train', 'no-such-dataset']);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /^error: .*no-such-dataset/m);
    assert.match(missing.stderr, /^fix: /m);
    noStack(missing);

    fs.writeFileSync(path.join(dir, 'one-label.csv'), 'text,label\nfirst,a\nsecond,a\nthird,a\n');
    const bad = await run(['train', 'one-label.csv', '--encoder', 'hashing']);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /^error: .*one-label\.csv/m);
    assert.match(bad.stderr, /^fix: /m);
    noStack(bad);

    const report = await run(['report', 'nope-run']);
    assert.equal(report.code, 1);
    assert.match(report.stderr, /^error: No run "nope-run"/m);
    assert.match(report.stderr, /^fix: /m);
  });

  describe('train → runs → report → predict', () => {
    let record: RunRecord;
    let runDir: string;
    before(async () => {
      const r = await run(['train', 'ds/data.csv', '--encoder', 'hashing:1024', '--seed', '7', '--json']);
      assert.equal(r.code, 0, r.stderr);
      const out = JSON.parse(r.stdout) as { status: string; runId: string; runDir: string; record: RunRecord; report: ClassificationReport };
      assert.equal(out.status, 'completed');
      assert.equal(out.report.split, 'test');
      record = out.record;
      runDir = out.runDir;
      assert.equal(runDir, path.join(fs.realpathSync(dir), '.fewshot', 'runs', out.runId), 'default store is ./.fewshot');
      assert.equal(record.config.seed, 7);
      // head auto: the few-shot ensemble, one progress point per CV-scored configuration, no epochs
      assert.equal(record.algorithm, 'fewshot-ensemble');
      assert.equal(record.progress?.unit, 'configuration');
      assert.equal(record.bestEpoch, undefined);
      assert.equal(record.epochsRun, undefined);
      // not a TTY: a plain line per point on stderr, labelled by its unit
      const lines = r.stderr.split('\n').filter((l) => l.startsWith('configuration '));
      assert.equal(lines.length, record.progress!.total);
      assert.match(lines[0], new RegExp(`^configuration 1/${record.progress!.total} · IDF on · block weights 1\\.00 · C=1 · CV log-loss \\d\\.\\d{4} · OOF macro-F1 \\d\\.\\d{4}`));
      assert.ok(!r.stderr.includes('epoch '), r.stderr);
    });

    it('runs lists it (table and --json)', async () => {
      const t = await run(['runs']);
      assert.equal(t.code, 0);
      assert.ok(t.stdout.includes(record.id));
      assert.match(t.stdout, /completed/);
      const j = await run(['runs', '--json']);
      const list = JSON.parse(j.stdout) as { id: string; record: RunRecord }[];
      const mine = list.find((x) => x.id === record.id);
      assert.ok(mine, 'the trained run is listed');
      assert.equal(mine.record.status, 'completed');
      assert.deepEqual(mine.record, JSON.parse(fs.readFileSync(path.join(runDir, 'run.json'), 'utf8')));
      // runs of the failure test above share the store and are listed as failed
      assert.ok(list.filter((x) => x.id !== record.id).every((x) => x.record.status === 'failed'));
      const other = await run(['runs', '--store', path.join(dir, 'empty-store'), '--json']);
      assert.equal(other.code, 0);
      assert.deepEqual(JSON.parse(other.stdout), []);
    });

    it('report prints the saved report, by id, id prefix or folder', async () => {
      const byId = await run(['report', record.id]);
      assert.equal(byId.code, 0, byId.stderr);
      const txt = fs.readFileSync(path.join(runDir, 'report.txt'), 'utf8');
      assert.ok(byId.stdout.includes(txt.trim()));
      assert.match(byId.stdout, /macro avg/);
      const byDir = await run(['report', runDir, '--json']);
      const j = JSON.parse(byDir.stdout) as { record: RunRecord; report: ClassificationReport };
      assert.deepEqual(j.report, JSON.parse(fs.readFileSync(path.join(runDir, 'report.json'), 'utf8')));
      const byPrefix = await run(['report', record.id.slice(0, record.id.length - 2)]);
      assert.equal(byPrefix.code, 0);
    });

    it('report --samples prints the per-sample table: test and out-of-fold rows, filters, sort, JSON and CSV', async () => {
      const test = readJsonl<{ label: string; predicted: string }>(path.join(runDir, 'predictions.jsonl'));
      const oof = readJsonl<{ label: string; predicted: string }>(path.join(runDir, 'oof.jsonl'));
      assert.ok(oof.length > 0, 'the run wrote out-of-fold predictions');
      const all = await run(['report', record.id, '--samples', '--json']);
      assert.equal(all.code, 0, all.stderr);
      const rows = JSON.parse(all.stdout) as { split: string; gold: string; predicted: string; probability: number | null }[];
      assert.equal(rows.length, test.length + oof.length);
      assert.equal(rows.filter((r) => r.split === 'train').length, oof.length);
      const wrong = test.filter((p) => p.label !== p.predicted).length + oof.filter((p) => p.label !== p.predicted).length;
      const errs = JSON.parse((await run(['report', record.id, '--samples', '--errors', '--json'])).stdout) as typeof rows;
      assert.equal(errs.length, wrong);
      assert.ok(errs.every((r) => r.gold !== r.predicted));
      const sorted = JSON.parse((await run(['report', record.id, '--samples', '--split', 'test', '--sort', 'probability', '--desc', '--json'])).stdout) as typeof rows;
      assert.equal(sorted.length, test.length);
      for (let i = 1; i < sorted.length; i++) assert.ok(sorted[i - 1].probability! >= sorted[i].probability!, 'descending probability');
      const txt = await run(['report', record.id, '--samples']);
      assert.match(txt.stdout, new RegExp(`${rows.length} of ${rows.length} row\\(s\\) \\(${test.length} test, ${oof.length} out-of-fold training`));
      const csvOut = await run(['report', record.id, '--samples', '--csv', 'samples.csv']);
      assert.equal(csvOut.code, 0, csvOut.stderr);
      const csvText = fs.readFileSync(path.join(dir, 'samples.csv'), 'utf8');
      assert.ok(csvText.startsWith('split,index,text,gold,predicted,probability,margin,suspect,suggested,file,line\r\n'));
      assert.equal(csvText.trimEnd().split('\r\n').length, rows.length + 1);
      const bad = await run(['report', record.id, '--errors']);
      assert.equal(bad.code, 2);
      assert.match(bad.stderr, /--errors goes with --samples/);
    });

    it('predict labels an argument and stdin lines, like the test predictions', async () => {
      const preds = readJsonl<TestPrediction>(path.join(runDir, 'predictions.jsonl'));
      const one = await run(['predict', '--run', record.id, preds[0].text]);
      assert.equal(one.code, 0, one.stderr);
      assert.equal(one.stdout.split('\t')[0], preds[0].predicted);
      const many = await run(['predict', '--run', runDir, '--json'], preds.map((p) => p.text).join('\n') + '\n\n');
      assert.equal(many.code, 0, many.stderr);
      const out = JSON.parse(many.stdout) as { text: string; label: string; probabilities: { label: string; p: number }[] }[];
      assert.deepEqual(out.map((o) => o.label), preds.map((p) => p.predicted));
      assert.deepEqual(out.map((o) => o.text), preds.map((p) => p.text));
      const empty = await run(['predict', '--run', runDir], '\n  \n');
      assert.equal(empty.code, 2, 'nothing to label is bad usage');
      const noModel = await run(['predict', '--run', path.join(dir, 'ds'), 'x']);
      assert.equal(noModel.code, 1);
      assert.match(noModel.stderr, /^fix: /m);
    });
  });

  it('a killed train (kill -9) reads interrupted in `runs`, and report/predict say so', async () => {
    const store = path.join(dir, 'killed-store');
    const big = writeCsvDataset(path.join(dir, 'ds-big'), 200, 10, 3);
    const child = spawn(process.execPath, [cli, 'train', big, '--encoder', 'hashing:1024', '--head', 'mlp', '--epochs', '1000', '--patience', '0', '--out', store],
      { cwd: dir, env: { ...process.env, ...bundleEnv }, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (d) => { stderr += d; });
    const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
    try {
      // the CLI claims its run: run.json names it as the owner, and a heartbeat file is written
      const runDir = await until('the CLI to claim its run', () => {
        const runsDir = path.join(store, 'runs');
        for (const id of fs.existsSync(runsDir) ? fs.readdirSync(runsDir) : []) {
          try {
            const rec = JSON.parse(fs.readFileSync(path.join(runsDir, id, 'run.json'), 'utf8')) as RunRecord;
            if (rec.owner?.pid === child.pid && fs.existsSync(path.join(runsDir, id, 'heartbeat'))) return path.join(runsDir, id);
          } catch { /* being written */ }
        }
        if (child.exitCode !== null) throw new Error(`train ended before it was killed:\n${stderr}`);
        return undefined;
      });
      const id = path.basename(runDir);
      const live = JSON.parse((await run(['runs', '--store', store, '--json'])).stdout) as { id: string; record: RunRecord }[];
      assert.equal(live.find((x) => x.id === id)?.record.status, 'running', 'alive while the CLI runs');
      child.kill('SIGKILL');
      await exited;
      assert.equal(JSON.parse(fs.readFileSync(path.join(runDir, 'run.json'), 'utf8')).status, 'running', 'the file still says running');
      const j = await run(['runs', '--store', store, '--json']);
      assert.equal(j.code, 0, j.stderr);
      const rec = (JSON.parse(j.stdout) as { id: string; record: RunRecord }[]).find((x) => x.id === id)?.record;
      assert.equal(rec?.status, 'interrupted');
      assert.match(rec?.error?.message ?? '', new RegExp(`pid ${child.pid}`));
      const t = await run(['runs', '--store', store]);
      assert.match(t.stdout, new RegExp(`^${id}\\s+interrupted\\s`, 'm'));
      const rep = await run(['report', id.slice(-4), '--store', store]);
      assert.equal(rep.code, 1);
      assert.match(rep.stderr, /the run is interrupted/);
      const pred = await run(['predict', '--run', id, '--store', store, 'some text']);
      assert.equal(pred.code, 1);
      assert.match(pred.stderr, /is interrupted/);
      noStack(pred);
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  });

  it('train samples/clinical-notes --encoder hashing prints a classification report', async () => {
    const sample = path.join(repoRoot, 'samples', 'clinical-notes');
    assert.ok(fs.existsSync(sample), 'samples/clinical-notes exists');
    const r = await run(['train', sample, '--encoder', 'hashing', '--out', path.join(dir, 'sample-store')]);
    assert.equal(r.code, 0, r.stderr);
    for (const label of ['cardiology', 'gastro', 'neurology', 'respiratory']) assert.match(r.stdout, new RegExp(`^\\s*${label}\\s+\\d\\.\\d{4}\\s+\\d\\.\\d{4}\\s+\\d\\.\\d{4}\\s+6$`, 'm'));
    assert.match(r.stdout, /^\s*accuracy\s+\d\.\d{4}\s+24$/m);
    assert.match(r.stdout, /macro avg/);
    assert.match(r.stdout, /never used for model selection/);
    assert.match(r.stdout, /test macro-F1 \d\.\d{4}/);
  });
});
