/**
 * Compare Runs inside the real extension host: fixture runs are copied into the
 * workspace's .fewshot/runs, the panel is driven through its test API
 * (command `fewshot.compare._api`) and its webview reports what it rendered.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { CompareApi } from '../../src/extension/compare';
import type { CompareModel, RenderSummary } from '../../src/protocol/compare';
import type { FewShotApi } from '../../src/extension/extension';
import type { HostToDashboard } from '../../src/protocol/webview';
import { RunStore } from '../../src/core/runs';
import { spawn, spawnSync } from 'node:child_process';

const EXTENSION_ID = 'fewshot-lab.fewshot-lab';
const A = '20261101-100000-news-a1b2';
const B = '20261101-110000-news-c3d4';
const C = '20261102-090000-news-e5f6';
const DEAD = '20261102-120000-news-dead';
const HALF = '20261103-080000-news-beef';
const OLD = '20250301-090000-legacy-0001';
const LIVE = '20261104-080000-news-live'; // a copy of HALF that the tests finish and delete
const FS = '20261105-090000-news-fs01'; // a few-shot ensemble run: points are candidate configurations (test/fixtures/runs-fewshot)

async function until<T>(what: string, fn: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('compare runs (extension host)', () => {
  let api: CompareApi;
  let runsDir: string;
  let fixtures: string;
  const copied: string[] = [];
  let tmp: string;

  before(async function () {
    this.timeout(120_000);
    const ext = vscode.extensions.getExtension(EXTENSION_ID);
    assert.ok(ext, 'extension not found');
    const exp = (await ext.activate()) as { ready?: Promise<void> };
    await exp?.ready;
    const folder = vscode.workspace.workspaceFolders?.[0];
    assert.ok(folder, 'the test workspace has no folder');
    runsDir = path.join(folder.uri.fsPath, '.fewshot', 'runs');
    fixtures = path.join(ext.extensionPath, 'test', 'fixtures', 'runs');
    fs.mkdirSync(runsDir, { recursive: true });
    for (const id of [A, B, C, DEAD, HALF, OLD]) {
      fs.cpSync(path.join(fixtures, id), path.join(runsDir, id), { recursive: true });
      copied.push(id);
    }
    fs.cpSync(path.join(path.dirname(fixtures), 'runs-fewshot', FS), path.join(runsDir, FS), { recursive: true });
    copied.push(FS);
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'fewshot-compare-ext-'));
    api = (await vscode.commands.executeCommand(COMPARE_API)) as CompareApi;
    assert.ok(api && typeof api.open === 'function', 'compare test API missing');
  });

  after(() => {
    api?.close();
    for (const id of [...copied, LIVE]) fs.rmSync(path.join(runsDir, id), { recursive: true, force: true });
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  const COMPARE_API = 'fewshot.compare._api';

  async function rendered(pred: (s: RenderSummary) => boolean, what: string): Promise<RenderSummary> {
    return until(what, () => {
      const s = api.lastRender();
      return s && pred(s) ? s : undefined;
    }, 30_000);
  }

  it('opens two runs: settings diff, best vs last epoch, and the webview draws curves, table and bars', async () => {
    await api.open([A, B]);
    const model = api.model() as CompareModel;
    assert.deepEqual(model.runs.map((r) => r.id), [A, B]);
    assert.equal(model.datasetMismatch, false);
    const differing = model.settings.filter((s) => s.differs).map((s) => s.key);
    assert.deepEqual(differing, ['config.encoder', 'config.head', 'config.learningRate', 'encoder.id', 'backend.name']);
    const lr = model.settings.find((s) => s.key === 'config.learningRate');
    assert.deepEqual(lr?.values, ['0.01', '0.005']);
    const [ra, rb] = model.rows;
    assert.deepEqual([ra.bestEpoch, ra.bestValMacroF1, ra.lastEpoch, ra.lastValMacroF1], [8, 0.8, 12, 0.7667]);
    assert.deepEqual([rb.bestEpoch, rb.bestValMacroF1, rb.lastEpoch, rb.lastValMacroF1], [15, 0.86, 15, 0.86]);
    assert.equal(ra.minRecallClass, 'politics');
    assert.equal(rb.minRecallClass, 'tech');
    assert.notEqual(model.runs[0].colour, model.runs[1].colour);
    // the real webview got the model and rendered it
    const s = await rendered((x) => x.tableRows === 2, 'the webview to render two table rows');
    assert.equal(s.runs, 2);
    assert.equal(s.curveDatasets, 2);
    assert.equal(s.curvePoints, 12 + 15); // validation macro-F1 per epoch of both runs
    assert.equal(s.barDatasets, 2);
    assert.equal(s.matricesTotal, 2);
    assert.ok(api.posted().some((m) => m.type === 'init' && Object.keys(m.strings).length > 20));
  });

  it('keeps epochs and candidate configurations on separate x axes and shows n/a for settings an algorithm does not use', async () => {
    await api.open([A, FS]);
    const model = api.model() as CompareModel;
    assert.deepEqual(model.runs.map((r) => r.unit), ['epoch', 'configuration']);
    assert.equal(model.datasetMismatch, false);
    const epochs = model.settings.find((s) => s.key === 'config.epochs');
    assert.deepEqual(epochs?.values, ['60', 'n/a']);
    assert.deepEqual(model.settings.find((s) => s.key === 'config.learningRate')?.values, ['0.01', 'n/a']);
    const row = model.rows.find((r) => r.id === FS);
    assert.deepEqual([row?.unit, row?.bestEpoch, row?.bestValMacroF1, row?.validation], ['configuration', 4, 0.84, '4-fold out-of-fold predictions on the training split']);
    const s = await rendered((x) => x.tableRows === 2 && x.curveAxes.length === 2, 'the webview to draw two x axes');
    assert.deepEqual(s.curveAxes, [vscode.l10n.t('epoch'), vscode.l10n.t('candidate configuration (CV-scored)')]);
    assert.equal(s.curvePoints, 12 + 6); // validation macro-F1 of 12 epochs and of 6 configurations, none made up
    await api.open([FS]);
    const one = await rendered((x) => x.runs === 1 && x.curveAxes.length === 1, 'the webview to draw the configuration axis alone');
    assert.deepEqual(one.curveAxes, [vscode.l10n.t('candidate configuration (CV-scored)')]);
  });

  it('exports the metrics table as CSV and Markdown with the exact figures', async () => {
    await api.open([A, B]);
    const csvFile = path.join(tmp, 'table.csv');
    await api.exportTable('csv', csvFile);
    const csv = fs.readFileSync(csvFile, 'utf8');
    assert.equal(csv,
      '\ufeffRun,Id,Test macro-F1,Test weighted-F1,Test accuracy,Min recall,Min recall class,Best epoch,Val macro-F1 (best),Last epoch,Val macro-F1 (last),Train time (s),Backend\r\n' +
      'baseline hashing,20261101-100000-news-a1b2,0.8347,0.8347,0.8333,0.8000,politics,8,0.8000,12,0.7667,2.40,wasm\r\n' +
      '20261101-110000-news-c3d4,20261101-110000-news-c3d4,0.8982,0.8982,0.9000,0.8000,tech,15,0.8600,15,0.8600,5.10,cpu\r\n');
    const mdFile = path.join(tmp, 'table.md');
    await api.exportTable('markdown', mdFile);
    const md = fs.readFileSync(mdFile, 'utf8').split('\n');
    assert.equal(md[0], '| Run | Id | Test macro-F1 | Test weighted-F1 | Test accuracy | Min recall | Min recall class | Best epoch | Val macro-F1 (best) | Last epoch | Val macro-F1 (last) | Train time (s) | Backend |');
    assert.equal(md[3], '| 20261101-110000-news-c3d4 | 20261101-110000-news-c3d4 | **0.8982** | **0.8982** | **0.9000** | **0.8000** | tech | 15 | **0.8600** | 15 | **0.8600** | 5.10 | cpu |');
    // "Copy Markdown" from the webview puts the same text on the clipboard
    await api.send({ type: 'exportTable', format: 'markdown', target: 'clipboard' });
    assert.equal(await vscode.env.clipboard.readText(), fs.readFileSync(mdFile, 'utf8'));
    assert.ok(api.posted().some((m) => m.type === 'exported' && m.clipboard === true));
    // the table's sort (sent by the webview) decides the row order of the export
    await api.send({ type: 'state', state: { runIds: [], sort: { column: 'testMacroF1', descending: true } } });
    assert.deepEqual(api.tableText('csv').split('\r\n').slice(1, 3).map((l) => l.split(',')[1]), [B, A]);
    await api.send({ type: 'state', state: { runIds: [], sort: { column: 'trainMs', descending: false } } });
    assert.deepEqual(api.tableText('csv').split('\r\n').slice(1, 3).map((l) => l.split(',')[1]), [A, B]);
  });

  it('saves a chart PNG sent by the webview and refuses anything that is not a PNG', async () => {
    await api.open([A, B]);
    // 1×1 PNG
    const png = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==';
    const file = path.join(tmp, 'curves.png');
    await api.exportPng('curves', `data:image/png;base64,${png}`, file);
    assert.deepEqual(fs.readFileSync(file), Buffer.from(png, 'base64'));
    await assert.rejects(api.exportPng('curves', 'data:text/html;base64,PGgxPg==', path.join(tmp, 'x.png')), /not a PNG/);
    assert.equal(fs.existsSync(path.join(tmp, 'x.png')), false);
  });

  it('stars, renames and annotates a run in its run.json', async () => {
    await api.open([A, B]);
    const file = path.join(runsDir, A, 'run.json');
    const before = JSON.parse(fs.readFileSync(file, 'utf8'));
    await api.send({ type: 'setStar', id: A, starred: true });
    await api.send({ type: 'rename', id: A, name: '基线 hashing' });
    await api.send({ type: 'setNote', id: A, note: 'keep this one' });
    const after = JSON.parse(fs.readFileSync(file, 'utf8'));
    assert.equal(after.starred, true);
    assert.equal(after.name, '基线 hashing');
    assert.equal(after.note, 'keep this one');
    assert.deepEqual(after.config, before.config);
    assert.equal(after.testMacroF1, before.testMacroF1);
    const run = api.model()?.runs.find((r) => r.id === A);
    assert.equal(run?.name, '基线 hashing');
    assert.equal(run?.starred, true);
    assert.equal(run?.note, 'keep this one');
    // restore the fixture
    fs.writeFileSync(file, JSON.stringify(before, null, 2) + '\n');
  });

  it('shows corrupt, half-written and older-format runs as notices and keeps working', async () => {
    await api.open([A, DEAD, HALF, OLD]);
    const model = api.model() as CompareModel;
    assert.deepEqual(model.runs.map((r) => r.id), [A, HALF, OLD]);
    assert.deepEqual(model.missing, [DEAD]);
    const corrupt = model.notices.find((n) => n.runId === DEAD);
    assert.equal(corrupt?.severity, 'error');
    assert.match(corrupt?.message ?? '', /run\.json is not valid JSON/);
    assert.ok(model.notices.some((n) => n.runId === HALF && /incomplete/.test(n.message)));
    assert.ok(model.notices.some((n) => n.runId === OLD && /older run format/.test(n.message)));
    assert.equal(model.runs.find((r) => r.id === HALF)?.health, 'partial');
    assert.equal(model.runs.find((r) => r.id === OLD)?.health, 'older-format');
    const s = await rendered((x) => x.tableRows === 3 && x.notices >= 3, 'the webview to render three rows and the notices');
    assert.equal(s.matricesTotal, 1); // only the completed run has a report
    // the panel still works afterwards
    await api.send({ type: 'removeRun', id: DEAD });
    assert.deepEqual(api.runIds(), [A, HALF, OLD]);
    assert.deepEqual(api.model()?.missing, []);
  });

  it('flags runs trained on different data', async () => {
    await api.open([A, C]);
    const model = api.model() as CompareModel;
    assert.equal(model.datasetMismatch, true);
    assert.equal(model.settings[0].key, 'dataset.fingerprint');
    assert.deepEqual(model.settings[0].values, ['fp-news-1111', 'fp-news-2222']);
    assert.match(model.notices[0].message, /different data/);
  });

  it('updates itself when a compared run finishes and when it is deleted', async function () {
    this.timeout(90_000);
    fs.cpSync(path.join(fixtures, HALF), path.join(runsDir, LIVE), { recursive: true });
    const rec = JSON.parse(fs.readFileSync(path.join(runsDir, LIVE, 'run.json'), 'utf8'));
    rec.id = LIVE;
    fs.writeFileSync(path.join(runsDir, LIVE, 'run.json'), JSON.stringify(rec, null, 2));
    // this process trains it (owner + heartbeat): it reads 'running' however slow the machine is
    const claim = await new RunStore(path.dirname(runsDir)).claim(LIVE);
    try {
    await api.open([A, LIVE]);
    assert.equal(api.model()?.runs.find((r) => r.id === LIVE)?.status, 'running');
    // the "trainer" finishes: complete metrics, report and run.json (atomic rename)
    const src = path.join(fixtures, B);
    fs.copyFileSync(path.join(src, 'metrics.jsonl'), path.join(runsDir, LIVE, 'metrics.jsonl'));
    fs.copyFileSync(path.join(src, 'report.json'), path.join(runsDir, LIVE, 'report.json'));
    const done = { ...rec, status: 'completed', finishedAt: '2026-11-04T08:00:10.000Z', bestEpoch: 15, epochsRun: 15, bestValMacroF1: 0.86, timings: { trainMs: 5000 } };
    const tmpFile = path.join(runsDir, LIVE, '.run.json.tmp');
    fs.writeFileSync(tmpFile, JSON.stringify(done, null, 2));
    fs.renameSync(tmpFile, path.join(runsDir, LIVE, 'run.json'));
    } finally { claim.stop(); }
    const finished = await until('the panel to see the finished run', () => {
      const r = api.model()?.runs.find((x) => x.id === LIVE);
      return r?.status === 'completed' && r.report ? r : undefined;
    }, 30_000);
    assert.equal(finished.health, 'ok');
    assert.equal(api.model()?.rows.find((r) => r.id === LIVE)?.lastEpoch, 15);
    // deleted from disk → leaves the comparison
    fs.rmSync(path.join(runsDir, LIVE), { recursive: true, force: true });
    await until('the panel to drop the deleted run', () => !api.runIds().includes(LIVE) && api.model()?.runs.every((r) => r.id !== LIVE), 30_000);
    assert.ok(api.model()?.notices.some((n) => n.message.includes(LIVE)));
  });

  it('a run whose training process died reads interrupted in the Runs view and in Compare, at once and on its own', async function () {
    this.timeout(90_000);
    const ext = vscode.extensions.getExtension<FewShotApi>(EXTENSION_ID)!;
    const runs = (await ext.activate()).train.runsProvider;
    const plant = (id: string, pid: number) => {
      fs.cpSync(path.join(fixtures, HALF), path.join(runsDir, id), { recursive: true });
      const rec = JSON.parse(fs.readFileSync(path.join(runsDir, id, 'run.json'), 'utf8'));
      Object.assign(rec, { id, owner: { pid, host: os.hostname(), startedAt: new Date().toISOString() } });
      fs.writeFileSync(path.join(runsDir, id, 'run.json'), JSON.stringify(rec, null, 2));
      fs.writeFileSync(path.join(runsDir, id, 'heartbeat'), new Date().toISOString());
      copied.push(id);
    };
    const item = async (id: string) => {
      const node = (await runs.getChildren()).find((n) => n.id === id);
      return node && runs.getTreeItem(node);
    };
    const iconOf = (it: vscode.TreeItem | undefined) => (it?.iconPath as vscode.ThemeIcon | undefined)?.id;
    // 1. planted with a pid that has exited: interrupted at once (fresh files, so the pid decides)
    const GONE = '20261105-080000-news-gone';
    const exited = spawnSync(process.execPath, ['-e', '']);
    plant(GONE, exited.pid!);
    runs.refresh();
    const gone = await item(GONE);
    assert.equal(iconOf(gone), 'debug-disconnect');
    assert.match(String(gone?.description), /^interrupted · /);
    await api.open([A, GONE]);
    assert.equal(api.model()?.runs.find((r) => r.id === GONE)?.status, 'interrupted');
    assert.ok(api.model()?.notices.some((n) => n.runId === GONE && /interrupted/.test(n.message)));
    // the dashboard, opened on it, reads it through the same store
    const fsl = await ext.activate();
    await vscode.commands.executeCommand('fewshot.openDashboard', GONE);
    const dash = fsl.train.dashboards.find(GONE);
    assert.ok(dash, 'openDashboard did not open a panel');
    try {
      const init = await until('init from the dashboard', () => dash.posted.find((m): m is Extract<HostToDashboard, { type: 'init' }> => m.type === 'init'), 30_000);
      assert.equal(init.state.run.status, 'interrupted');
      assert.match(init.state.run.error ?? '', /interrupted/);
    } finally { dash.panel.dispose(); }
    // 2. owner alive, then killed: both views flip without a refresh or any file event
    const DYING = '20261105-090000-news-dying';
    const owner = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1e9)'], { stdio: 'ignore' });
    try {
      plant(DYING, owner.pid!);
      runs.refresh();
      assert.equal(iconOf(await item(DYING)), 'sync~spin');
      await api.open([A, DYING]);
      assert.equal(api.model()?.runs.find((r) => r.id === DYING)?.status, 'running');
      owner.kill('SIGKILL');
      await until('the Runs view to show the killed run interrupted', async () => iconOf(await item(DYING)) === 'debug-disconnect', 20_000);
      await until('Compare to show the killed run interrupted', () => api.model()?.runs.find((r) => r.id === DYING)?.status === 'interrupted', 20_000);
    } finally {
      if (owner.exitCode === null && owner.signalCode === null) owner.kill('SIGKILL');
    }
  });

  it('stays responsive with 50 runs of 300 epochs: decimated curves, lazy confusion matrices', async function () {
    this.timeout(120_000);
    const ids: string[] = [];
    const rec = JSON.parse(fs.readFileSync(path.join(fixtures, A, 'run.json'), 'utf8'));
    const report = fs.readFileSync(path.join(fixtures, A, 'report.json'));
    for (let i = 0; i < 50; i++) {
      const id = `20261201-${String(100000 + i)}-bulk-${i.toString(16).padStart(4, '0')}`;
      const dir = path.join(runsDir, id);
      fs.mkdirSync(dir, { recursive: true });
      const lines: string[] = [];
      for (let e = 1; e <= 300; e++) {
        const f1 = Math.min(0.95, 0.4 + 0.5 * (1 - Math.exp(-e / (20 + i))) + 0.01 * Math.sin(e + i));
        lines.push(JSON.stringify({ epoch: e, loss: 1 / e, valLoss: 1.1 / e, valMacroF1: f1, valAccuracy: f1, perClassRecall: { politics: f1, sport: f1, tech: f1 }, elapsedMs: e * 10 }));
      }
      fs.writeFileSync(path.join(dir, 'metrics.jsonl'), lines.join('\n') + '\n');
      fs.writeFileSync(path.join(dir, 'report.json'), report);
      fs.writeFileSync(path.join(dir, 'run.json'), JSON.stringify({ ...rec, id, name: `bulk ${i}`, bestEpoch: undefined, epochsRun: 300 }));
      ids.push(id);
      copied.push(id);
    }
    const t0 = Date.now();
    await api.open(ids);
    const s = await rendered((x) => x.tableRows === 50, 'the webview to render 50 rows');
    const ms = Date.now() - t0;
    assert.ok(ms < 20_000, `50 runs took ${ms} ms to build and render`);
    assert.ok(s.renderMs < 5_000, `the webview took ${s.renderMs} ms to render 50 runs`);
    console.log(`      50 runs: ${ms} ms from open to rendered, webview render ${s.renderMs} ms`);
    assert.equal(s.curveDatasets, 50);
    assert.equal(s.matricesTotal, 50);
    assert.ok(s.matricesDrawn < 50, `all ${s.matricesDrawn} confusion matrices were drawn eagerly`);
    const model = api.model() as CompareModel;
    assert.equal(new Set(model.runs.map((r) => r.colour)).size, 50);
    // 300 epochs per curve are decimated to at most 200 points with many runs (first and last epoch kept)
    const f1 = model.runs[0].curves.valMacroF1;
    assert.ok(f1.length <= 200 && f1.length > 100, `${f1.length} points`);
    assert.deepEqual([f1[0].x, f1[f1.length - 1].x], [1, 300]);
    assert.ok(s.curvePoints <= 50 * 200, `${s.curvePoints} points drawn`);
    api.close();
  });

  it('takes the Runs view selection, id lists and keeps UI state for the serializer', async () => {
    await vscode.commands.executeCommand('fewshot.compareRuns', { runId: A }, [{ runId: A }, { resourceUri: vscode.Uri.file(path.join(runsDir, B)) }]);
    await until('the panel to show A and B', () => api.runIds().join() === [A, B].join());
    await vscode.commands.executeCommand('fewshot.compareRuns', [C, A]);
    await until('the panel to show C and A', () => api.runIds().join() === [C, A].join());
    await api.send({ type: 'state', state: { runIds: ['ignored'], curve: 'loss', smoothing: 0.3, onlyDiffering: false } });
    const st = api.uiState();
    assert.deepEqual(st?.runIds, [C, A]);
    assert.equal(st?.curve, 'loss');
    assert.equal(st?.smoothing, 0.3);
    assert.deepEqual(Object.keys(st?.colours ?? {}).sort(), [A, C].sort());
  });
});
