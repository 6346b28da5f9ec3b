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
import type { DashboardRenderSummary, HostToDashboard } from '../../src/protocol/webview';
import { PROGRESS_UNIT_LABELS, type ClassificationReport, type ModelFile, type RunRecord } from '../../src/protocol/run';
import type { DashboardPanel } from '../../src/extension/dashboard/panel';
import { EXTENSION_ID, getApi, until, wsRoot } from './helpers';

/** The default head (auto: the few-shot ensemble), fast encoder. Its points are whatever the trainer computes. */
const FAST = { encoder: 'hashing' } as const;
/** A head that trains in epochs (tfjs logistic regression), for what needs epochs (cancel between epochs, crash at epoch 2). */
const EPOCHS = { encoder: 'hashing', head: 'logreg', epochs: 6, patience: 0 } as const;
/** A saved few-shot ensemble run (points = CV-scored candidate configurations, one data problem). */
const FS = '20261105-090000-news-fs01';

function firstEpoch(s: TrainingSession): Promise<void> {
  return new Promise((resolve) => {
    if (s.epochs.length) return resolve();
    const sub = s.onDidChange((e) => { if (e.kind === 'epoch' || e.kind === 'done') { sub.dispose(); resolve(); } });
  });
}

function readRecord(runDir: string): RunRecord {
  return JSON.parse(fs.readFileSync(path.join(runDir, 'run.json'), 'utf8')) as RunRecord;
}

/** What the dashboard webview reports on screen, once `pred` holds. */
function rendered(panel: DashboardPanel, what: string, pred: (s: DashboardRenderSummary) => boolean): Promise<DashboardRenderSummary> {
  return until(what, 30_000, () => (panel.lastRender && pred(panel.lastRender) ? panel.lastRender : undefined));
}

/** Accept each quick pick / input box of Train with Options with its default until a new training starts. */
async function trainWithOptionsDefaults(api: FewShotApi, dataset: string): Promise<TrainingSession> {
  const before = new Set(api.train.manager.running());
  let session: TrainingSession | undefined;
  const sub = api.train.manager.onDidChangeSessions(() => {
    session ??= api.train.manager.running().find((x) => !before.has(x));
  });
  try {
    const cmd = vscode.commands.executeCommand('fewshot.trainWithOptions', vscode.Uri.file(dataset));
    const t0 = Date.now();
    while (!session) {
      if (Date.now() - t0 > 30_000) throw new Error('trainWithOptions did not start a training');
      await vscode.commands.executeCommand('workbench.action.acceptSelectedQuickOpenItem');
      await new Promise((r) => setTimeout(r, 250));
    }
    await cmd;
    return session;
  } finally {
    sub.dispose();
  }
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

  it('trains train-tiny to a completed run with live progress points, a report and a live dashboard titled by the unit', async () => {
    const t0 = Date.now();
    const session = api.train.startTraining(dataset, FAST);
    assert.ok(session, 'training did not start');
    const r = await session.done;
    assert.equal(r.status, 'completed', `status ${r.status}: ${r.error ?? ''}\n${r.lastLog.join('\n')}`);
    assert.ok(r.runId && r.runDir, 'no run id/dir');
    completedRunId = r.runId;
    const rec = readRecord(r.runDir);
    // Live progress points, in order, in the run's unit (configurations for the few-shot ensemble,
    // epochs for tfjs heads and for trainers that do not record a unit yet).
    const n = session.epochs.length;
    assert.ok(n >= 1, 'no progress point arrived');
    assert.deepEqual(session.epochs.map((e) => e.epoch), Array.from({ length: n }, (_, i) => i + 1));
    assert.equal(session.unit, rec.progress?.unit ?? 'epoch');
    if (rec.progress) assert.equal(n, rec.progress.total, 'points planned vs received');
    for (const e of session.epochs) {
      assert.ok(Number.isFinite(e.loss), 'loss is not a number');
      assert.ok(e.valMacroF1 !== null && e.valMacroF1 >= 0 && e.valMacroF1 <= 1, `valMacroF1 ${e.valMacroF1}`);
      assert.deepEqual(Object.keys(e.perClassRecall).sort(), ['billing', 'shipping', 'tech']);
    }
    // On disk: run.json completed, metrics.jsonl with the same points, report with 12 test samples.
    assert.equal(rec.status, 'completed');
    assert.equal(rec.config.encoder, 'hashing');
    const lines = fs.readFileSync(path.join(r.runDir, 'metrics.jsonl'), 'utf8').trim().split('\n');
    assert.equal(lines.length, n);
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
    assert.equal(done.epochs.length, n);
    assert.equal(done.run.unit, session.unit);
    // The webview titles its x axis by the run's unit and draws one tick per point.
    const unitTitle = vscode.l10n.t(PROGRESS_UNIT_LABELS[session.unit]);
    const shown = await rendered(panel, `the dashboard to draw ${n} points on a "${unitTitle}" axis`, (x) => x.xTitle === unitTitle && x.xLabels.length === n);
    assert.deepEqual(shown.xLabels, session.epochs.map((e) => String(e.epoch)));
    console.log(`    train-tiny: ${n} points (${session.unit}), completed in ${Date.now() - t0} ms`);
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
    const metricsFile = path.join(wsRoot(), '.fewshot', 'runs', completedRunId, 'metrics.jsonl');
    assert.equal(init.state.epochs.length, fs.readFileSync(metricsFile, 'utf8').trim().split('\n').length);
    assert.equal(init.state.run.unit, readRecord(path.dirname(metricsFile)).progress?.unit ?? 'epoch');
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
    const session = api.train.startTraining(dataset, { ...EPOCHS, epochs: 1000 }, { showDashboard: false });
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

  it('moves the progress notification with every epoch and leaves it at the last one (issue 16: stuck at "epoch 1/60")', async function () {
    this.timeout(120_000);
    // VS Code has no API to read a notification: the session records every message it gave the notification.
    const epochs = 30;
    const session = api.train.startTraining(dataset, { ...EPOCHS, epochs }, { showDashboard: false });
    assert.ok(session);
    const r = await session.done;
    assert.equal(r.status, 'completed');
    const msgs = session.notificationMessages;
    const shown = msgs.map((m) => new RegExp(`^epoch (\\d+)/${epochs}\\b`).exec(m)).filter((m): m is RegExpExecArray => !!m).map((m) => Number(m[1]));
    assert.ok(shown.length >= 2, `notification messages: ${JSON.stringify(msgs)}`);
    assert.ok(new Set(shown).size > 1 && shown.some((n) => n > 1), `the notification never went past epoch 1: ${JSON.stringify(msgs)}`);
    for (let i = 1; i < shown.length; i++) assert.ok(shown[i] >= shown[i - 1], `the notification went back from epoch ${shown[i - 1]} to ${shown[i]}`);
    // the stages after the last epoch (refit, evaluation, saving) keep naming it
    const last = msgs[msgs.length - 1];
    assert.match(last, new RegExp(`^epoch ${epochs}/${epochs}\\b`), `last notification message: ${last}`);
    assert.equal(session.epochs.length, epochs);
  });

  it('reports a trainer crash as failed with the log, without hanging, and keeps working', async () => {
    const session = api.train.startTraining(dataset, { ...EPOCHS, epochs: 5 }, {
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
    const again = await api.train.train(dataset, { ...EPOCHS, epochs: 2 }, { showDashboard: false });
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

  it('titles two dashboards of one dataset apart by their run', async () => {
    const a = api.train.startTraining(dataset, FAST);
    const b = api.train.startTraining(dataset, FAST);
    assert.ok(a && b);
    try {
      const [ra, rb] = await Promise.all([a.done, b.done]);
      const titles = [ra.runId, rb.runId].map((id) => api.train.dashboards.find(id!)?.panel.title);
      const name = path.basename(dataset);
      for (const [i, t] of titles.entries()) {
        const id = [ra.runId, rb.runId][i]!;
        assert.equal(t, `Training: ${name} (${id.slice(0, 15)}-${id.slice(-4)})`);
      }
      assert.notEqual(titles[0], titles[1]);
    } finally {
      for (const s of [a, b]) api.train.dashboards.find(s.runId ?? s.key)?.panel.dispose();
    }
  });

  it('Train with Options: head auto (the default) asks for no epochs, learning rate or batch size, and remembers the choices', async () => {
    const cfg = vscode.workspace.getConfiguration('fewshot.train');
    await cfg.update('encoder', 'hashing', vscode.ConfigurationTarget.Workspace);
    try {
      const session = await trainWithOptionsDefaults(api, dataset);
      assert.equal(session.config.head, 'auto');
      assert.equal(session.config.encoder, 'hashing');
      assert.equal(session.config.dataset, dataset);
      const r = await session.done;
      assert.equal(r.status, 'completed', r.error);
      const remembered = api.host.context.workspaceState.get<Record<string, Record<string, unknown>>>('fewshot.train.lastOptions')?.[dataset];
      assert.ok(remembered, 'choices not remembered for the dataset');
      // What the wizard asked for, and nothing else: head, encoder, the ensemble's own settings, seed.
      assert.deepEqual(Object.keys(remembered).sort(), ['augment', 'classNames', 'encoder', 'head', 'minRecall', 'passages', 'seed']);
      assert.equal(remembered.head, 'auto');
      assert.equal(remembered.seed, 42);
      assert.deepEqual(remembered.minRecall, {}, 'the recall step was skipped (no targets)');
      assert.equal(session.config.minRecall, undefined);
    } finally {
      await cfg.update('encoder', undefined, vscode.ConfigurationTarget.Workspace);
    }
  });

  it('Train with Options: a recall target from fewshot.minRecall is offered by the recall step and reaches the dashboard\'s report', async () => {
    const train = vscode.workspace.getConfiguration('fewshot.train');
    const root = vscode.workspace.getConfiguration('fewshot');
    await train.update('encoder', 'hashing', vscode.ConfigurationTarget.Workspace);
    await root.update('minRecall', { tech: 1 }, vscode.ConfigurationTarget.Workspace);
    await api.host.context.workspaceState.update('fewshot.train.lastOptions', undefined);
    try {
      // the wizard's recall step starts from the setting ("tech=1"); accepting it keeps the target
      const session = await trainWithOptionsDefaults(api, dataset);
      assert.deepEqual(session.config.minRecall, { tech: 1 });
      const r = await session.done;
      assert.equal(r.status, 'completed', r.error);
      const model = JSON.parse(fs.readFileSync(path.join(r.runDir!, 'model', 'head.json'), 'utf8')) as ModelFile;
      assert.ok(model.decision && typeof model.decision.thresholds.tech === 'number', 'the model file has the threshold');
      const report = JSON.parse(fs.readFileSync(path.join(r.runDir!, 'report.json'), 'utf8')) as ClassificationReport;
      const row = report.recallTargets?.find((x) => x.label === 'tech');
      assert.ok(row && row.target === 1, 'report.json has the target row');
      // the dashboard shows the target table, with the numbers of report.json
      const panel = api.train.dashboards.find(r.runId!);
      assert.ok(panel, 'no dashboard panel for the run');
      const fmt = (v: number) => v.toFixed(4);
      const want = ['tech', '1', fmt(row.threshold!), fmt(row.recall), fmt(row.precision), fmt(row.argmaxRecall), fmt(row.argmaxPrecision)].join(' | ');
      const shown = await rendered(panel, 'the dashboard to show the recall-target table', (x) => (x.recallTargets ?? []).includes(want));
      assert.equal(shown.recallTargets!.length, 3, 'one row per class');
    } finally {
      await train.update('encoder', undefined, vscode.ConfigurationTarget.Workspace);
      await root.update('minRecall', undefined, vscode.ConfigurationTarget.Workspace);
      await api.host.context.workspaceState.update('fewshot.train.lastOptions', undefined);
    }
  });

  it('Train with Options: head logreg (tfjs, Adam) asks for epochs, learning rate and batch size', async () => {
    const cfg = vscode.workspace.getConfiguration('fewshot.train');
    await cfg.update('encoder', 'hashing', vscode.ConfigurationTarget.Workspace);
    await cfg.update('head', 'logreg', vscode.ConfigurationTarget.Workspace);
    await cfg.update('epochs', 3, vscode.ConfigurationTarget.Workspace);
    // The last choices for a dataset win over the settings: start from the settings.
    await api.host.context.workspaceState.update('fewshot.train.lastOptions', undefined);
    try {
      const session = await trainWithOptionsDefaults(api, dataset);
      assert.equal(session.config.head, 'logreg');
      assert.equal(session.config.epochs, 3);
      const r = await session.done;
      assert.equal(r.status, 'completed', r.error);
      const remembered = api.host.context.workspaceState.get<Record<string, Record<string, unknown>>>('fewshot.train.lastOptions')?.[dataset];
      assert.deepEqual(Object.keys(remembered ?? {}).sort(), ['augment', 'batchSize', 'encoder', 'epochs', 'head', 'learningRate', 'seed']);
      assert.equal(remembered?.epochs, 3);
      assert.equal(session.unit, 'epoch');
      assert.equal(session.epochs.length, 3);
    } finally {
      for (const k of ['encoder', 'head', 'epochs']) await cfg.update(k, undefined, vscode.ConfigurationTarget.Workspace);
      await api.host.context.workspaceState.update('fewshot.train.lastOptions', undefined);
    }
  });
});

describe('dashboard: a SetFit run counts contrastive pair steps, then its head\'s configurations', function () {
  this.timeout(90_000);
  const id = '20261130-070000-news-sf01';
  let api: FewShotApi;
  let runDir = '';

  before(async () => {
    api = await getApi();
    const ext = vscode.extensions.getExtension(EXTENSION_ID)!;
    runDir = path.join(wsRoot(), '.fewshot', 'runs', id);
    fs.cpSync(path.join(ext.extensionPath, 'test', 'fixtures', 'runs-fewshot', FS), runDir, { recursive: true });
    // An interrupted SetFit run: 3 pair steps recorded, then the head's 6 configurations from the fixture
    // (numbered 1… too), with run.json's unit still 'pair-step'.
    const rec = JSON.parse(fs.readFileSync(path.join(runDir, 'run.json'), 'utf8')) as Record<string, unknown>;
    Object.assign(rec, { id, algorithm: 'setfit-contrastive', progress: { unit: 'pair-step', total: 3, validation: 'none for the pairs' } });
    fs.writeFileSync(path.join(runDir, 'run.json'), JSON.stringify(rec));
    const steps = [1, 2, 3].map((n) => JSON.stringify({ epoch: n, unit: 'pair-step', label: `pair step ${n} of 3`, loss: 0.3 / n, valLoss: null, valMacroF1: null, valAccuracy: null, perClassRecall: {}, elapsedMs: 100 * n }));
    fs.writeFileSync(path.join(runDir, 'metrics.jsonl'), steps.join('\n') + '\n' + fs.readFileSync(path.join(runDir, 'metrics.jsonl'), 'utf8'));
  });

  after(async () => {
    api?.train.dashboards.find(id)?.panel.dispose();
    if (runDir) fs.rmSync(runDir, { recursive: true, force: true });
  });

  it('titles the x axis "contrastive pair step" and plots only the pair steps', async () => {
    await vscode.commands.executeCommand('fewshot.openDashboard', id);
    const panel = api.train.dashboards.find(id);
    assert.ok(panel, 'openDashboard did not open a panel');
    // a webview loads only once visible: a dashboard that an earlier suite's training opens afterwards may cover it
    await until('the dashboard to be visible', 30_000, () => { if (!panel.panel.visible) panel.panel.reveal(); return panel.panel.visible; });
    const init = await until('init', 30_000, () => panel.posted.find((m): m is Extract<HostToDashboard, { type: 'init' }> => m.type === 'init'));
    assert.equal(init.state.run.unit, 'pair-step');
    const s = await rendered(panel, 'the dashboard to render the pair steps', (x) => x.xLabels.length > 0);
    assert.equal(s.xTitle, vscode.l10n.t('contrastive pair step'));
    assert.deepEqual(s.xLabels, ['1', '2', '3']);
    assert.equal(s.meta.algorithm, vscode.l10n.t('SetFit (contrastive pair steps on the sentence-transformer body, then the head)'));
  });
});

describe('dashboard: units, algorithm, validation and data problems of a saved few-shot run', function () {
  this.timeout(90_000);
  let api: FewShotApi;
  let runDir = '';

  before(async () => {
    api = await getApi();
    const ext = vscode.extensions.getExtension(EXTENSION_ID)!;
    runDir = path.join(wsRoot(), '.fewshot', 'runs', FS);
    fs.cpSync(path.join(ext.extensionPath, 'test', 'fixtures', 'runs-fewshot', FS), runDir, { recursive: true });
  });

  after(async () => {
    api?.train.dashboards.find(FS)?.panel.dispose();
    if (runDir) fs.rmSync(runDir, { recursive: true, force: true });
  });

  it('titles the x axis "candidate configuration", names the algorithm and the validation, and shows the data-problems banner', async () => {
    await vscode.commands.executeCommand('fewshot.openDashboard', FS);
    const panel = api.train.dashboards.find(FS);
    assert.ok(panel, 'openDashboard did not open a panel');
    const init = await until('init', 30_000, () => panel.posted.find((m): m is Extract<HostToDashboard, { type: 'init' }> => m.type === 'init'));
    assert.equal(init.state.run.unit, 'configuration');
    assert.equal(init.state.run.algorithm, 'fewshot-ensemble');
    assert.equal(init.state.compute.headOnTfjs, false);
    const s = await rendered(panel, 'the dashboard to render the saved run', (x) => x.xLabels.length === 6);
    assert.equal(s.xTitle, vscode.l10n.t('candidate configuration (CV-scored)'));
    assert.deepEqual(s.xLabels, ['1', '2', '3', '4', '5', '6']);
    assert.equal(s.lossPoints, 12); // training and validation loss of 6 configurations
    assert.equal(s.meta.algorithm, vscode.l10n.t('Few-shot ensemble (CV-scored logistic regressions, L-BFGS)'));
    assert.equal(s.meta.compute, vscode.l10n.t('CPU (JavaScript)'));
    assert.doesNotMatch(s.computeNote, /trains on/);
    assert.match(s.validation, /4-fold out-of-fold predictions on the training split/);
    assert.deepEqual(s.banner, ['test-train-overlap']);
    // "Show in Problems" runs the workbench command; a file link opens only a file the problem names.
    await (panel as unknown as { onMessage(m: unknown): Promise<void> }).onMessage({ type: 'openFile', file: path.join(wsRoot(), 'train-tiny', 'train', 'billing', 'billing-01.txt') });
    assert.notEqual(vscode.window.activeTextEditor?.document.uri.fsPath, path.join(wsRoot(), 'train-tiny', 'train', 'billing', 'billing-01.txt'));
  });

  it('shows the banner for a real run on a dataset whose test split repeats a training text', async function () {
    // A small dataset made here: one test text is a copy of a training text.
    const ds = path.join(wsRoot(), 'overlap-tmp');
    const src = path.join(wsRoot(), 'train-tiny');
    fs.cpSync(src, ds, { recursive: true });
    try {
      const dup = fs.readFileSync(path.join(ds, 'train', 'billing', 'billing-01.txt'));
      fs.writeFileSync(path.join(ds, 'test', 'billing', 'billing-dup.txt'), dup);
      const r = await api.train.train(ds, FAST);
      assert.equal(r.status, 'completed', r.error);
      const rec = readRecord(r.runDir!);
      const overlap = rec.dataProblems?.find((p) => p.code === 'test-train-overlap');
      // Tolerated until the trainer records data problems (issue 12, item 7: another branch); then this asserts.
      if (!rec.dataProblems) this.skip();
      assert.ok(overlap && overlap.count >= 1, `no test-train-overlap in ${JSON.stringify(rec.dataProblems)}`);
      const panel = api.train.dashboards.find(r.runId!);
      assert.ok(panel);
      const s = await rendered(panel, 'the banner', (x) => x.banner.includes('test-train-overlap'));
      assert.ok(s.banner.length >= 1);
    } finally {
      api.train.dashboards.all().filter((p) => p.panel.title.includes('overlap-tmp')).forEach((p) => p.panel.dispose());
      fs.rmSync(ds, { recursive: true, force: true });
    }
  });
});

describe('train: image datasets take the image encoder', function () {
  this.timeout(30_000);
  const cfg = () => vscode.workspace.getConfiguration('fewshot.train');
  const dataset = () => path.join(wsRoot(), 'images');

  afterEach(async () => {
    for (const k of ['encoder', 'textColumn']) await cfg().update(k, undefined, vscode.ConfigurationTarget.Workspace);
  });

  it('a text encoder in the settings gives way to auto, with a log line; text-only settings are named as ignored', async () => {
    const { imageOverrides } = await import('../../src/extension/train/config');
    await cfg().update('encoder', 'minilm', vscode.ConfigurationTarget.Workspace);
    await cfg().update('textColumn', 'body', vscode.ConfigurationTarget.Workspace);
    const r = imageOverrides(dataset(), { augment: 2 });
    assert.deepEqual(r.overrides, { augment: 2, encoder: 'auto' });
    assert.equal(r.notes.length, 2);
    assert.match(r.notes[0], /"minilm"/);
    assert.match(r.notes[1], /fewshot\.train\.textColumn/);
    // an encoder chosen for this training (Train with Options) is kept: the trainer says why a text one cannot work
    assert.equal(imageOverrides(dataset(), { encoder: 'minilm' }).overrides.encoder, 'minilm');
    await cfg().update('encoder', 'efficientnet-lite0', vscode.ConfigurationTarget.Workspace);
    await cfg().update('textColumn', undefined, vscode.ConfigurationTarget.Workspace);
    assert.deepEqual(imageOverrides(dataset(), {}), { overrides: {}, notes: [] });
  });

  it('Train with Options on an image folder offers the image encoders, asks for the flip, not for passages or class names, and trains', async function () {
    this.timeout(180_000);
    const api = await getApi();
    const root = path.join(wsRoot(), 'images-options');
    fs.cpSync(path.join(vscode.extensions.getExtension(EXTENSION_ID)!.extensionPath, 'samples', 'shapes'), root, { recursive: true });
    await cfg().update('encoder', 'hashing', vscode.ConfigurationTarget.Workspace);
    try {
      const session = await trainWithOptionsDefaults(api, root);
      assert.equal(session.config.encoder, 'auto', 'the wizard starts from the image encoder, not the text one of the settings');
      const r = await session.done;
      assert.equal(r.status, 'completed', r.error);
      const remembered = api.host.context.workspaceState.get<Record<string, Record<string, unknown>>>('fewshot.train.lastOptions')?.[root];
      assert.deepEqual(Object.keys(remembered ?? {}).sort(), ['augment', 'augmentFlip', 'encoder', 'head', 'minRecall', 'seed']);
      assert.equal(remembered?.augmentFlip, false);
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });
});
