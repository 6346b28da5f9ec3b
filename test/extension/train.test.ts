/**
 * "Train from the editor", inside the real extension host (code-server).
 * Trains on test/fixtures/workspace/train-tiny with the hashing encoder (fast).
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { FewShotApi } from '../../src/extension/extension';
import type { TrainingSession } from '../../src/extension/train/manager';
import type { HostToDashboard } from '../../src/protocol/webview';
import type { RunRecord } from '../../src/protocol/run';

const EXTENSION_ID = 'fewshot-lab.fewshot-lab';
// head logreg (tfjs, in epochs): the default head has no epochs (its points are CV-scored configurations)
const FAST = { encoder: 'hashing', head: 'logreg', epochs: 6, patience: 0 } as const;

function wsRoot(): string {
  const f = vscode.workspace.workspaceFolders?.[0];
  assert.ok(f, 'the test workspace has no folder');
  return f.uri.fsPath;
}

async function getApi(): Promise<FewShotApi> {
  const ext = vscode.extensions.getExtension<FewShotApi>(EXTENSION_ID);
  assert.ok(ext, `${EXTENSION_ID} not found`);
  const api = await ext.activate();
  await api.ready;
  return api;
}

/** Resolves when `pred` holds, checking on every event and every 100 ms; rejects after `ms`. */
function until<T>(what: string, ms: number, pred: () => T | undefined | false): Promise<T> {
  return new Promise((resolve, reject) => {
    const t0 = Date.now();
    const tick = () => {
      let v: T | undefined | false;
      try { v = pred(); } catch (e) { return reject(e); }
      if (v) return resolve(v);
      if (Date.now() - t0 > ms) return reject(new Error(`timed out after ${ms} ms waiting for ${what}`));
      setTimeout(tick, 100);
    };
    tick();
  });
}

function firstEpoch(s: TrainingSession): Promise<void> {
  return new Promise((resolve) => {
    if (s.epochs.length) return resolve();
    const sub = s.onDidChange((e) => { if (e.kind === 'epoch' || e.kind === 'done') { sub.dispose(); resolve(); } });
  });
}

function readRecord(runDir: string): RunRecord {
  return JSON.parse(fs.readFileSync(path.join(runDir, 'run.json'), 'utf8')) as RunRecord;
}

describe('train: commands, training, cancel, crash', function () {
  this.timeout(120_000);
  let api: FewShotApi;
  let dataset: string;
  let completedRunId: string | undefined;

  before(async () => {
    api = await getApi();
    dataset = path.join(wsRoot(), 'train-tiny');
    assert.ok(fs.existsSync(dataset), `fixture ${dataset} is missing`);
  });

  after(async () => {
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  it('registers the training, dashboard and run commands', async () => {
    const all = new Set(await vscode.commands.getCommands(true));
    const mine = ['fewshot.train', 'fewshot.trainWithOptions', 'fewshot.cancelTraining', 'fewshot.showLog', 'fewshot.refreshDatasets',
      'fewshot.refreshRuns', 'fewshot.openDashboard', 'fewshot.renameRun', 'fewshot.deleteRun', 'fewshot.revealRun', 'fewshot.copyRunPath'];
    const missing = mine.filter((c) => !all.has(c));
    assert.deepEqual(missing, [], `not registered: ${missing.join(', ')}`);
    assert.equal(typeof api.train.train, 'function');
  });

  it('trains train-tiny to a completed run with per-epoch metrics, a report and a live dashboard', async () => {
    const t0 = Date.now();
    const session = api.train.startTraining(dataset, FAST);
    assert.ok(session, 'training did not start');
    const r = await session.done;
    assert.equal(r.status, 'completed', `status ${r.status}: ${r.error ?? ''}\n${r.lastLog.join('\n')}`);
    assert.ok(r.runId && r.runDir, 'no run id/dir');
    completedRunId = r.runId;
    // Live epoch messages, one per epoch, in order.
    assert.equal(session.epochs.length, FAST.epochs);
    assert.deepEqual(session.epochs.map((e) => e.epoch), [1, 2, 3, 4, 5, 6]);
    for (const e of session.epochs) {
      assert.ok(Number.isFinite(e.loss), 'loss is not a number');
      assert.ok(e.valMacroF1 !== null && e.valMacroF1 >= 0 && e.valMacroF1 <= 1, `valMacroF1 ${e.valMacroF1}`);
      assert.deepEqual(Object.keys(e.perClassRecall).sort(), ['billing', 'shipping', 'tech']);
    }
    // On disk: run.json completed, metrics.jsonl with the same epochs, report with 12 test samples.
    const rec = readRecord(r.runDir);
    assert.equal(rec.status, 'completed');
    assert.equal(rec.config.encoder, 'hashing');
    const lines = fs.readFileSync(path.join(r.runDir, 'metrics.jsonl'), 'utf8').trim().split('\n');
    assert.equal(lines.length, FAST.epochs);
    const report = JSON.parse(fs.readFileSync(path.join(r.runDir, 'report.json'), 'utf8'));
    assert.equal(report.macro.support, 12);
    // The dashboard opened as soon as training started, and its webview did the ready → init handshake.
    const panel = api.train.dashboards.find(r.runId);
    assert.ok(panel, 'no dashboard panel for the run');
    await until('the dashboard webview to post ready and get init', 30_000, () => panel.posted.some((m) => m.type === 'init'));
    await until('the dashboard to get the done message', 10_000, () => panel.posted.some((m) => m.type === 'done'));
    const done = panel.posted.find((m): m is Extract<HostToDashboard, { type: 'done' }> => m.type === 'done')!;
    assert.equal(done.run.status, 'completed');
    assert.ok(done.report && done.report.labels.length === 3, 'done message without the report');
    assert.equal(done.epochs.length, FAST.epochs);
    console.log(`    train-tiny: ${FAST.epochs} epochs, completed in ${Date.now() - t0} ms`);
  });

  it('lists the new run first in the Runs view with status, dataset, encoder and F1', async () => {
    assert.ok(completedRunId, 'needs the completed run of the previous test');
    api.train.runsProvider.refresh();
    const runs = await api.train.runsProvider.getChildren();
    assert.ok(runs.length >= 1);
    assert.equal(runs[0].id, completedRunId, 'newest run is not first');
    const item = api.train.runsProvider.getTreeItem(runs[0]);
    assert.equal(item.contextValue, 'run');
    assert.equal((item.iconPath as vscode.ThemeIcon).id, 'pass');
    const desc = String(item.description);
    assert.match(desc, /train-tiny/);
    assert.match(desc, /hashing/);
    assert.match(desc, /F1 [01]\.\d{4}/);
    assert.equal(item.command?.command, 'fewshot.openDashboard');
  });

  it('opens a finished run from disk with the same charts data and report, and lists confusion-cell samples', async () => {
    assert.ok(completedRunId);
    api.train.dashboards.find(completedRunId)?.panel.dispose();
    await vscode.commands.executeCommand('fewshot.openDashboard', completedRunId);
    const panel = api.train.dashboards.find(completedRunId);
    assert.ok(panel, 'openDashboard did not open a panel');
    const init = await until('init from the reopened dashboard', 30_000, () =>
      panel.posted.find((m): m is Extract<HostToDashboard, { type: 'init' }> => m.type === 'init'));
    assert.equal(init.state.run.status, 'completed');
    assert.equal(init.state.epochs.length, FAST.epochs);
    assert.ok(init.state.report, 'no report from report.json');
    assert.equal(init.state.run.live, false);
    assert.equal(init.strings['Compare with…'], vscode.l10n.t('Compare with…'));
    // The host answers a cell click with the test samples of that cell (from predictions.jsonl).
    const rep = init.state.report!;
    const total = rep.confusion.flat().reduce((a, b) => a + b, 0);
    assert.equal(total, 12);
    let i = 0, j = 0;
    outer: for (; i < rep.labels.length; i++) for (j = 0; j < rep.labels.length; j++) if (rep.confusion[i][j] > 0) break outer;
    await (panel as unknown as { onMessage(m: unknown): Promise<void> }).onMessage({ type: 'requestSamples', requestId: 7, trueLabel: rep.labels[i], predicted: rep.labels[j] });
    const samples = panel.posted.find((m): m is Extract<HostToDashboard, { type: 'samples' }> => m.type === 'samples' && m.requestId === 7);
    assert.ok(samples, 'no samples reply');
    assert.equal(samples.total, rep.confusion[i][j]);
    for (const s of samples.samples) assert.ok(s.file && fs.existsSync(s.file), `sample file ${s.file} missing`);
  });

  it('cancels a running training within a second and marks the run cancelled', async () => {
    const session = api.train.startTraining(dataset, { encoder: 'hashing', epochs: 1000, patience: 0 }, { showDashboard: false });
    assert.ok(session);
    await firstEpoch(session);
    assert.equal(session.status, 'running', 'training ended before it could be cancelled');
    const t0 = Date.now();
    await vscode.commands.executeCommand('fewshot.cancelTraining', session.runId);
    const r = await session.done;
    const ms = Date.now() - t0;
    assert.equal(r.status, 'cancelled');
    assert.ok(ms < 1500, `cancel took ${ms} ms`);
    assert.ok(session.epochs.length < 1000, 'all epochs ran');
    assert.ok(r.runDir);
    assert.equal(readRecord(r.runDir).status, 'cancelled');
    console.log(`    cancel: child stopped ${ms} ms after fewshot.cancelTraining`);
  });

  it('reports a trainer crash as failed with the log, without hanging, and keeps working', async () => {
    const session = api.train.startTraining(dataset, { ...FAST, epochs: 5 }, {
      showDashboard: false, env: { NODE_ENV: 'test', FEWSHOT_TEST_CRASH_AT: 'epoch:2' },
    });
    assert.ok(session);
    const r = await session.done;
    assert.equal(r.status, 'failed');
    assert.match(r.error ?? '', /exited with code 3|before finishing/);
    assert.equal(session.epochs.length, 2);
    assert.ok(r.runDir);
    assert.equal(readRecord(r.runDir).status, 'failed');
    // The extension still trains afterwards.
    const again = await api.train.train(dataset, { ...FAST, epochs: 2 }, { showDashboard: false });
    assert.equal(again.status, 'completed');
  });

  it('fails cleanly when the trainer script does not exist', async () => {
    const r = await api.train.train(dataset, FAST, { showDashboard: false, trainerScript: path.join(wsRoot(), 'no-such-trainer.js') });
    assert.equal(r.status, 'failed');
    assert.match(r.error ?? '', /does not exist/);
    assert.equal(api.train.manager.running().length, 0);
  });

  it('refuses invalid settings with a message instead of starting a child', async () => {
    await assert.rejects(api.train.train(dataset, { epochs: 0 }, { showDashboard: false }), /could not start/);
    assert.equal(api.train.manager.running().length, 0);
  });

  it('runs two trainings side by side, each with its own run', async () => {
    const a = api.train.startTraining(dataset, FAST, { showDashboard: false });
    const b = api.train.startTraining(path.join(wsRoot(), 'train-table', 'tickets.csv'), FAST, { showDashboard: false });
    assert.ok(a && b);
    assert.equal(api.train.manager.running().length, 2);
    const [ra, rb] = await Promise.all([a.done, b.done]);
    assert.equal(ra.status, 'completed', ra.error);
    assert.equal(rb.status, 'completed', rb.error);
    assert.notEqual(ra.runId, rb.runId);
  });

  it('trainWithOptions walks through the 7 steps (defaults from settings) and remembers the choices per dataset', async () => {
    const cfg = vscode.workspace.getConfiguration('fewshot.train');
    await cfg.update('encoder', 'hashing', vscode.ConfigurationTarget.Workspace);
    await cfg.update('epochs', 3, vscode.ConfigurationTarget.Workspace);
    try {
      const before = new Set(api.train.manager.running());
      const started = new Promise<TrainingSession>((resolve) => {
        const sub = api.train.manager.onDidChangeSessions(() => {
          const s = api.train.manager.running().find((x) => !before.has(x));
          if (s) { sub.dispose(); resolve(s); }
        });
      });
      const cmd = vscode.commands.executeCommand('fewshot.trainWithOptions', vscode.Uri.file(dataset));
      // Accept each quick pick / input box with its default (the value from the settings) until the training starts.
      let session: TrainingSession | undefined;
      void started.then((s) => { session = s; });
      const t0 = Date.now();
      while (!session) {
        if (Date.now() - t0 > 30_000) throw new Error('trainWithOptions did not start a training');
        await vscode.commands.executeCommand('workbench.action.acceptSelectedQuickOpenItem');
        await new Promise((r) => setTimeout(r, 250));
      }
      await cmd;
      assert.equal(session.config.encoder, 'hashing');
      assert.equal(session.config.epochs, 3);
      assert.equal(session.config.dataset, dataset);
      const r = await session.done;
      assert.equal(r.status, 'completed', r.error);
      const remembered = api.host.context.workspaceState.get<Record<string, { encoder?: string; epochs?: number; seed?: number }>>('fewshot.train.lastOptions');
      assert.ok(remembered?.[dataset], 'choices not remembered for the dataset');
      assert.equal(remembered[dataset].encoder, 'hashing');
      assert.equal(remembered[dataset].epochs, 3);
      assert.equal(remembered[dataset].seed, 42);
    } finally {
      await cfg.update('encoder', undefined, vscode.ConfigurationTarget.Workspace);
      await cfg.update('epochs', undefined, vscode.ConfigurationTarget.Workspace);
    }
  });
});
