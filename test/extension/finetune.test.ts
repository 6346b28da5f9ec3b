/**
 * Fine-tuning in VS Code, inside the real extension host (code-server):
 *  - the manifest (command, settings, untrusted-workspace restriction) and the interpreter order;
 *  - "Set Up Fine-Tuning": the set-up child's lines stream, its failure and its cancel (a stand-in CLI script,
 *    since the real set-up pip-installs PyTorch);
 *  - Train with Options → Fine-tune transformer with an interpreter without torch: the message names what is
 *    missing and offers "Set Up Fine-Tuning";
 *  - the model picker (workspace model folders);
 *  - the dashboard of a saved fine-tuning run: stage markers on the epoch axis, trainable parameters, device,
 *    samples/s; a failed one shows the last log lines;
 *  - end to end (needs the PyTorch worker and FEWSHOT_PYTHON = a venv with torch, as .ci/run exports): Train with
 *    Options → Fine-tune transformer → the tiny model made by python/scripts/make_tiny_model.py → a completed run
 *    with algorithm finetune-transformer, real epochs and stage markers in the dashboard.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import * as vscode from 'vscode';
import type { FewShotApi } from '../../src/extension/extension';
import type { TrainingSession } from '../../src/extension/train/manager';
import type { DashboardRenderSummary } from '../../src/protocol/webview';
import type { EpochMetrics, RunRecord } from '../../src/protocol/run';
import type { DashboardPanel } from '../../src/extension/dashboard/panel';
import { choosePython, parseCliEnv, runSetup, venvPython } from '../../src/extension/finetune/python';
import { findModelFolders, isModelFolder } from '../../src/extension/finetune';
import { EXTENSION_ID, getApi, until, wsRoot } from './helpers';

const LAST_KEY = 'fewshot.train.lastOptions';

function rendered(panel: DashboardPanel, what: string, pred: (s: DashboardRenderSummary) => boolean): Promise<DashboardRenderSummary> {
  return until(what, 30_000, () => (panel.lastRender && pred(panel.lastRender) ? panel.lastRender : undefined));
}

/** Keeps accepting the visible quick pick / input box (its default) until `done()` holds. */
async function acceptUntil<T>(what: string, ms: number, done: () => T | undefined): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = done();
    if (v) return v;
    if (Date.now() - t0 > ms) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await vscode.commands.executeCommand('workbench.action.acceptSelectedQuickOpenItem');
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** Runs `fn` with process.env[k] = v (the extension host's own environment), restored after. */
async function withEnv<T>(vars: Record<string, string | undefined>, fn: () => Promise<T>): Promise<T> {
  const old: Record<string, string | undefined> = {};
  for (const k of Object.keys(vars)) { old[k] = process.env[k]; if (vars[k] === undefined) delete process.env[k]; else process.env[k] = vars[k]; }
  try {
    return await fn();
  } finally {
    for (const [k, v] of Object.entries(old)) { if (v === undefined) delete process.env[k]; else process.env[k] = v; }
  }
}

/** A folder dataset the tiny model can learn: texts of 3–6 topic words of their class (as fewshot_worker.tiny makes them). */
function writeTopicDataset(dir: string, labels: string[], perClass: { train: number; test: number }): void {
  let seed = 7;
  const rnd = () => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed / 2147483648; };
  const topic = (label: string) => Array.from({ length: 40 }, (_, i) => `${label}${String.fromCharCode(97 + Math.floor(i / 26))}${String.fromCharCode(97 + (i % 26))}`);
  const common = 'the my a an is was it this please help today again now very so and or but with for to of in on'.split(' ');
  for (const split of ['train', 'test'] as const) {
    for (const label of labels) {
      fs.mkdirSync(path.join(dir, split, label), { recursive: true });
      for (let i = 0; i < perClass[split]; i++) {
        const words = [...Array(3 + Math.floor(rnd() * 4))].map(() => topic(label)[Math.floor(rnd() * 40)])
          .concat([...Array(2 + Math.floor(rnd() * 3))].map(() => common[Math.floor(rnd() * common.length)]));
        fs.writeFileSync(path.join(dir, split, label, `${label}-${i}.txt`), words.join(' ') + '\n');
      }
    }
  }
}

describe('finetune: manifest, interpreter, set-up, missing torch, model picker', function () {
  this.timeout(120_000);
  let api: FewShotApi;
  let tmp = '';

  before(async () => {
    api = await getApi();
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'fewshot-ft-'));
  });

  after(() => {
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('contributes Set Up Fine-Tuning, fewshot.python.path (machine-overridable, restricted when untrusted) and the fine-tuning defaults', async () => {
    const all = new Set(await vscode.commands.getCommands(true));
    assert.ok(all.has('fewshot.setupFinetuning'), 'fewshot.setupFinetuning is not registered');
    const pkg = vscode.extensions.getExtension(EXTENSION_ID)!.packageJSON as {
      contributes: { configuration: { properties: Record<string, { default?: unknown; scope?: string }> } };
      capabilities: { untrustedWorkspaces: { restrictedConfigurations?: string[] } };
    };
    const props = pkg.contributes.configuration.properties;
    assert.equal(props['fewshot.python.path']?.scope, 'machine-overridable');
    assert.ok(pkg.capabilities.untrustedWorkspaces.restrictedConfigurations?.includes('fewshot.python.path'));
    const ft = vscode.workspace.getConfiguration('fewshot.finetune');
    assert.deepEqual(
      ['unfreezeTop', 'fullFinetuneAbove', 'headEpochs', 'precision', 'device', 'maxLength', 'epochs', 'batchSize', 'learningRate'].map((k) => ft.get(k)),
      [3, 500, 3, 'auto', 'auto', 128, 20, 8, 2e-5],
    );
  });

  it('chooses the interpreter: FEWSHOT_PYTHON, then fewshot.python.path, then the set-up venv, then python3 on PATH', async () => {
    const venv = path.join(tmp, 'venv');
    const cfg = vscode.workspace.getConfiguration('fewshot.python');
    await withEnv({ FEWSHOT_PYTHON: undefined, FEWSHOT_VENV: venv }, async () => {
      try {
        // Nothing given, no venv: python3 on PATH (or the Python extension's, when that extension is active).
        const none = await choosePython();
        assert.ok(['PATH', 'python-extension'].includes(none.source), none.source);
        // The venv of the set-up, once it exists.
        fs.mkdirSync(path.dirname(venvPython(venv)), { recursive: true });
        fs.symlinkSync(process.execPath, venvPython(venv));
        assert.deepEqual(await choosePython(), { path: venvPython(venv), source: 'venv' });
        // The setting wins over the venv (even a path that does not exist: the probe then says so).
        await cfg.update('path', path.join(tmp, 'no-such-python'), vscode.ConfigurationTarget.Global);
        assert.deepEqual(await choosePython(), { path: path.join(tmp, 'no-such-python'), source: 'setting' });
        // FEWSHOT_PYTHON wins over everything.
        process.env.FEWSHOT_PYTHON = '/opt/py/bin/python';
        assert.deepEqual(await choosePython(), { path: '/opt/py/bin/python', source: 'FEWSHOT_PYTHON' });
      } finally {
        await cfg.update('path', undefined, vscode.ConfigurationTarget.Global);
      }
    });
  });

  it("reads the CLI's `env --json` probe (missing packages, readiness) and refuses other output", () => {
    assert.deepEqual(parseCliEnv(JSON.stringify({ version: '3.11.9', missing: ['torch', 'onnx'], finetuneReady: false })),
      { version: '3.11.9', missing: ['torch', 'onnx'], ready: false });
    assert.deepEqual(parseCliEnv(`note: probing\n${JSON.stringify({ python: { version: '3.11.9', missing: [], finetuneReady: true } })}\n`),
      { version: '3.11.9', missing: [], ready: true });
    // `fewshot env --json` as the CLI writes it.
    assert.deepEqual(parseCliEnv(JSON.stringify({
      python: { version: '3.11.2', missing: ['torch', 'transformers', 'onnx'], finetuneReady: false }, venv: { dir: '/root/.fewshot/venv', exists: false },
      methods: { quick: { available: true }, finetune: { available: false, reason: 'torch missing' } }, problem: { message: 'torch missing' },
    }, null, 2)), { version: '3.11.2', missing: ['torch', 'transformers', 'onnx'], ready: false });
    assert.deepEqual(parseCliEnv(JSON.stringify({ python: null, methods: { finetune: { available: false } }, problem: { message: 'No Python interpreter at /x.' } })),
      { missing: ['torch', 'transformers', 'onnx'], ready: false, unusable: 'No Python interpreter at /x.' });
    assert.equal(parseCliEnv('usage: fewshot <command>'), undefined);
    assert.equal(parseCliEnv('{"unrelated": 1}'), undefined);
  });

  it('Set Up Fine-Tuning streams the set-up lines, reports a failure with its last lines, and cancel stops the child', async () => {
    // Stand-in for `dist/cli.js setup` (the real one pip-installs PyTorch): prints pip-like lines, then exits with $CODE.
    const cli = path.join(tmp, 'fake-cli.js');
    fs.writeFileSync(cli, [
      "if (process.argv[2] !== 'setup') { console.error('expected setup, got ' + process.argv[2]); process.exit(9); }",
      "console.log('Creating venv');",
      "console.error('Collecting torch==2.15.0');",
      "process.stdout.write('Successfully installed torch');",
      'if (process.env.HANG) { setInterval(() => {}, 1000); } else process.exit(Number(process.env.CODE || 0));',
    ].join('\n'));
    const ok = await api.finetune.setup({ cliScript: cli, env: { CODE: '0' } });
    assert.equal(ok.status, 'completed');
    assert.deepEqual([...api.finetune.lastSetupLines].sort(), ['Collecting torch==2.15.0', 'Creating venv', 'Successfully installed torch']);

    const bad = await api.finetune.setup({ cliScript: cli, env: { CODE: '3' } });
    assert.equal(bad.status, 'failed');
    assert.equal(bad.exitCode, 3);
    assert.ok(bad.lastLines.includes('Successfully installed torch'));

    const cts = new vscode.CancellationTokenSource();
    const lines: string[] = [];
    const t0 = Date.now();
    let tCancel = 0;
    const hung = runSetup(api.host, cts.token, {
      cliScript: cli, env: { HANG: '1' },
      onLine: (l) => { lines.push(l); if (l.startsWith('Creating') && !tCancel) { tCancel = Date.now(); cts.cancel(); } },
    });
    const r = await hung;
    assert.equal(r.status, 'cancelled');
    assert.ok(Date.now() - tCancel < 2500, `cancel took ${Date.now() - tCancel} ms`);
    assert.ok(Date.now() - t0 < 20_000);
  });

  it('Train with Options → Fine-tune transformer with a Python without torch: says what is missing and offers Set Up Fine-Tuning', async () => {
    // An interpreter that surely lacks torch: a fresh venv without pip.
    const bare = path.join(tmp, 'bare-venv');
    const mk = spawnSync('python3', ['-m', 'venv', '--without-pip', bare], { encoding: 'utf8' });
    assert.equal(mk.status, 0, `python3 -m venv failed: ${mk.stderr}`);
    const py = venvPython(bare);
    const dataset = path.join(wsRoot(), 'train-tiny');
    await api.host.context.workspaceState.update(LAST_KEY, { [dataset]: { method: 'finetune' } });
    const started = api.train.manager.running().length;
    api.finetune.lastMissingMessage = undefined;
    try {
      await withEnv({ FEWSHOT_PYTHON: py }, async () => {
        const cmd = vscode.commands.executeCommand('fewshot.trainWithOptions', vscode.Uri.file(dataset));
        const msg = await acceptUntil('the missing-torch message', 60_000, () => api.finetune.lastMissingMessage);
        await cmd;
        assert.ok(msg.text.includes(py), msg.text);
        assert.match(msg.text, /torch/);
        assert.equal(msg.actions[0], vscode.l10n.t('Set Up Fine-Tuning'));
      });
      const methodPick = api.finetune.shownPicks.filter((p) => p.items.some((i) => i.value === 'finetune')).pop();
      assert.ok(methodPick, 'no method pick was shown');
      assert.deepEqual(methodPick.items.map((i) => i.value), ['quick', 'finetune', 'setfit']);
      assert.deepEqual(methodPick.items.map((i) => i.label), [vscode.l10n.t('Quick (frozen encoder + logistic regression)'), vscode.l10n.t('Fine-tune transformer'), vscode.l10n.t('SetFit (contrastive fine-tuning + head)')]);
      assert.equal(api.train.manager.running().length, started, 'a training started although torch is missing');
    } finally {
      await api.host.context.workspaceState.update(LAST_KEY, undefined);
    }
  });

  it('finds model folders in the workspace (config.json + a tokenizer file), not other folders with a config.json', async () => {
    const good = path.join(wsRoot(), 'ft-models', 'mini');
    const noTok = path.join(wsRoot(), 'ft-models', 'settings-only');
    fs.mkdirSync(good, { recursive: true });
    fs.mkdirSync(noTok, { recursive: true });
    try {
      fs.writeFileSync(path.join(good, 'config.json'), '{"model_type":"bert"}');
      fs.writeFileSync(path.join(good, 'vocab.txt'), '[PAD]\n[UNK]\n');
      fs.writeFileSync(path.join(noTok, 'config.json'), '{}');
      assert.equal(isModelFolder(good), true);
      assert.equal(isModelFolder(noTok), false);
      const found = await findModelFolders();
      assert.ok(found.includes(good), `not found: ${good} in ${found.join(', ')}`);
      assert.ok(!found.includes(noTok));
    } finally {
      fs.rmSync(path.join(wsRoot(), 'ft-models'), { recursive: true, force: true });
    }
  });
});

describe('finetune: dashboard of a saved fine-tuning run (stage markers, parameters, device, samples/s, crash log)', function () {
  this.timeout(90_000);
  let api: FewShotApi;
  const ids = { ok: '20261120-100000-ft-ok01', failed: '20261120-110000-ft-oom1' };

  function writeRun(id: string, rec: Partial<RunRecord>, epochs: EpochMetrics[]): void {
    const dir = path.join(wsRoot(), '.fewshot', 'runs', id);
    fs.mkdirSync(dir, { recursive: true });
    const base: RunRecord = {
      formatVersion: 1, id, status: 'completed', createdAt: '2026-11-20T10:00:00.000Z', finishedAt: '2026-11-20T10:01:00.000Z',
      config: {
        dataset: path.join(wsRoot(), 'train-tiny'), encoder: 'auto', head: 'auto', epochs: 6, learningRate: 2e-5, batchSize: 8, seed: 42,
        augment: 0, classWeighting: true, patience: 5, validationFraction: 0.2, backend: 'auto', method: 'finetune',
        finetune: { model: '/models/tiny-bert', unfreezeTop: 3, fullFinetuneAbove: 500, headEpochs: 2, precision: 'auto', device: 'auto', weightDecay: 0.01, warmupRatio: 0.1, maxLength: 128 },
      },
      versions: {}, timings: {}, algorithm: 'finetune-transformer', progress: { unit: 'epoch', total: 6, validation: 'stratified 20% hold-out of the training split (4 examples)' },
      ...rec,
    };
    fs.writeFileSync(path.join(dir, 'run.json'), JSON.stringify(base, null, 2));
    fs.writeFileSync(path.join(dir, 'metrics.jsonl'), epochs.map((e) => JSON.stringify(e)).join('\n') + '\n');
  }

  const epoch = (n: number, stage: 1 | 2): EpochMetrics => ({
    epoch: n, unit: 'epoch', loss: 1.1 - n * 0.1, valLoss: 1.2 - n * 0.1, valMacroF1: 0.3 + n * 0.1, valAccuracy: 0.35 + n * 0.1,
    perClassRecall: { billing: 0.5, tech: 0.6 }, elapsedMs: n * 900, stage, samplesPerSecond: 40 + n,
  });

  before(async () => {
    api = await getApi();
    writeRun(ids.ok, {
      finetune: {
        device: { kind: 'cuda', name: 'NVIDIA H200', count: 1, precision: 'bf16', reason: 'CUDA available' },
        python: { python: '3.11.9', torch: '2.15.0' },
        stages: [
          { stage: 1, name: 'head only', trainableParameters: 99, firstEpoch: 1, lastEpoch: 2 },
          { stage: 2, name: 'top 3 layers', trainableParameters: 12_675, firstEpoch: 3, lastEpoch: 6 },
        ],
        onnxMaxAbsDiff: 3e-6,
      },
      bestEpoch: 5, epochsRun: 6,
    }, [1, 2, 3, 4, 5, 6].map((n) => epoch(n, n <= 2 ? 1 : 2)));
    writeRun(ids.failed, {
      status: 'failed',
      error: {
        message: 'CUDA out of memory while training stage 2 (batch size 64).',
        fix: 'Lower the batch size (e.g. 16) or the maximum length.',
        detail: 'epoch 3: allocating 2.00 GiB\ntorch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB',
      },
    }, [1, 2].map((n) => epoch(n, 1)));
    api.host.runsChanged.fire();
  });

  after(() => {
    for (const id of Object.values(ids)) {
      api?.train.dashboards.find(id)?.panel.dispose();
      fs.rmSync(path.join(wsRoot(), '.fewshot', 'runs', id), { recursive: true, force: true });
    }
  });

  it('draws a stage marker where stage 2 begins and lists the stages with their trainable parameters, the device and samples/s', async () => {
    await vscode.commands.executeCommand('fewshot.openDashboard', ids.ok);
    const panel = api.train.dashboards.find(ids.ok);
    assert.ok(panel, 'openDashboard did not open a panel');
    const s = await rendered(panel, 'the saved fine-tuning run', (x) => x.xLabels.length === 6);
    assert.equal(s.xTitle, vscode.l10n.t('epoch'));
    assert.deepEqual(s.stageMarkers, [3]);
    assert.equal(s.stages?.length, 2);
    assert.match(s.stages![0], /99/);
    assert.match(s.stages![1], /12[,.\s]?675/);
    assert.match(s.stages![1], /3–6/);
    assert.equal(s.meta.algorithm, vscode.l10n.t('Fine-tuned transformer (PyTorch, AdamW, staged unfreezing, epochs)'));
    assert.equal(s.meta.compute, 'GPU · NVIDIA H200 · bf16');
    assert.equal(s.meta.head, undefined); // no separate head row for a fine-tuned transformer
    assert.match(s.meta.throughput ?? '', /46\.0/); // samples/s of the last epoch
    assert.doesNotMatch(s.computeNote, /JavaScript/);
  });

  it('shows the error, its fix and the last log lines of a run that ran out of memory', async () => {
    await vscode.commands.executeCommand('fewshot.openDashboard', ids.failed);
    const panel = api.train.dashboards.find(ids.failed);
    assert.ok(panel);
    const s = await rendered(panel, 'the failed run', (x) => !!x.errorLog?.length);
    assert.deepEqual(s.errorLog, ['epoch 3: allocating 2.00 GiB', 'torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB']);
    const init = panel.posted.find((m) => m.type === 'init');
    assert.ok(init && init.type === 'init');
    assert.match(init.state.run.error ?? '', /Lower the batch size/);
  });
});

describe('finetune: Train with Options → Fine-tune transformer → tiny model, end to end (needs the PyTorch worker)', function () {
  this.timeout(600_000);
  let api: FewShotApi;
  let model = '';
  let dataset = '';

  before(async function () {
    api = await getApi();
    const python = process.env.FEWSHOT_PYTHON;
    assert.ok(python, 'FEWSHOT_PYTHON is not set: point it to a venv with python/requirements.txt (.ci/run exports one)');
    const ext = vscode.extensions.getExtension(EXTENSION_ID)!;
    const script = path.join(ext.extensionPath, 'python', 'scripts', 'make_tiny_model.py');
    assert.ok(fs.existsSync(script), `${script} is missing (the fine-tuning worker's tiny-model script)`);
    model = path.join(wsRoot(), 'ft-e2e-models', 'tiny-bert');
    const labels = ['billing', 'shipping', 'technical'];
    const r = spawnSync(python, [script, '--out', model, '--labels', labels.join(',')], { encoding: 'utf8', timeout: 180_000 });
    assert.equal(r.status, 0, `make_tiny_model.py failed: ${r.stderr}`);
    dataset = path.join(wsRoot(), 'ft-e2e-data');
    writeTopicDataset(dataset, labels, { train: 10, test: 4 });
  });

  after(async () => {
    await vscode.workspace.getConfiguration('fewshot.finetune').update('headEpochs', undefined, vscode.ConfigurationTarget.Workspace);
    await vscode.workspace.getConfiguration('fewshot.finetune').update('epochs', undefined, vscode.ConfigurationTarget.Workspace);
    await api?.host.context.workspaceState.update(LAST_KEY, undefined);
    for (const p of api?.train.dashboards.all() ?? []) if (p.panel.title.includes('ft-e2e-data')) p.panel.dispose();
    for (const d of [model && path.dirname(model), dataset]) if (d) fs.rmSync(d, { recursive: true, force: true });
  });

  it('fine-tunes the tiny model to a completed run with real epochs, two stages and a stage marker on the dashboard', async () => {
    const ft = vscode.workspace.getConfiguration('fewshot.finetune');
    await ft.update('epochs', 5, vscode.ConfigurationTarget.Workspace);
    await ft.update('headEpochs', 2, vscode.ConfigurationTarget.Workspace);
    // Last used: method fine-tune, this model; the wizard's defaults are then accepted one by one.
    await api.host.context.workspaceState.update(LAST_KEY, { [dataset]: { method: 'finetune', finetune: { model } } });
    const before = new Set(api.train.manager.running());
    let session: TrainingSession | undefined;
    const sub = api.train.manager.onDidChangeSessions(() => { session ??= api.train.manager.running().find((x) => !before.has(x)); });
    try {
      const cmd = vscode.commands.executeCommand('fewshot.trainWithOptions', vscode.Uri.file(dataset));
      await acceptUntil('Train with Options to start a fine-tuning', 90_000, () => session);
      await cmd;
    } finally {
      sub.dispose();
    }
    const s = session!;
    const modelPick = api.finetune.shownPicks.filter((p) => p.items.some((i) => (i.value as { model?: string })?.model === model)).pop();
    assert.ok(modelPick, 'the model picker did not offer the tiny model folder');
    assert.equal(s.config.method, 'finetune');
    assert.equal(s.config.finetune?.model, model);
    assert.equal(s.config.epochs, 5);
    const r = await s.done;
    assert.equal(r.status, 'completed', `status ${r.status}: ${r.error ?? ''}\n${r.lastLog.join('\n')}`);
    const rec = JSON.parse(fs.readFileSync(path.join(r.runDir!, 'run.json'), 'utf8')) as RunRecord;
    assert.equal(rec.algorithm, 'finetune-transformer');
    assert.ok((rec.epochsRun ?? 0) >= 3, `epochsRun ${rec.epochsRun}`);
    assert.ok(rec.finetune && rec.finetune.stages.length >= 2, `stages ${JSON.stringify(rec.finetune?.stages)}`);
    const stage2 = rec.finetune.stages.find((x) => x.stage === 2)!;
    assert.equal(stage2.firstEpoch, 3);
    assert.ok(stage2.trainableParameters > rec.finetune.stages[0].trainableParameters);
    const lines = fs.readFileSync(path.join(r.runDir!, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as EpochMetrics);
    assert.equal(lines.length, rec.epochsRun);
    assert.ok(lines.every((e, i) => e.epoch === i + 1 && Number.isFinite(e.loss)));
    const panel = api.train.dashboards.find(r.runId!);
    assert.ok(panel, 'no dashboard for the run');
    const shown = await rendered(panel, 'the stage marker', (x) => x.xLabels.length === lines.length && !!x.stageMarkers?.includes(3));
    assert.equal(shown.xTitle, vscode.l10n.t('epoch'));
    assert.ok(shown.stages?.some((t) => /2/.test(t)));
  });
});
