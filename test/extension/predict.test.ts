/**
 * Predict Selection / Predict Each Line / Select Model Run / Serve Model inside
 * the real extension host (code-server). A small run is trained in setup with
 * the CLI (`fewshot train … --encoder hashing`), like a user would.
 */
import * as assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { PredictApi, PredictOutcome, ServeOutcome } from '../../src/extension/predict';
import type { ModelRun } from '../../src/extension/predict/runs';

const EXTENSION_ID = 'fewshot-lab.fewshot-lab';
const repo = path.join(__dirname, '..', '..', '..');

function train(dataset: string, store: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [path.join(repo, 'dist', 'cli.js'), 'train', dataset, '--encoder', 'hashing', '--out', store],
      { env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' }, timeout: 120_000 },
      (err, stdout, stderr) => {
        const m = /Run (\S+) completed/.exec(stdout);
        if (err || !m) reject(new Error(`fewshot train failed: ${err?.message ?? ''}\n${stdout}\n${stderr}`));
        else resolve(m[1]);
      },
    );
  });
}

async function until<T>(what: string, f: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 20_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await f();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('predict (extension host)', function () {
  this.timeout(180_000);
  let api: PredictApi;
  let ws: string;
  let runId: string;
  let notes: vscode.Uri;
  let editor: vscode.TextEditor;

  before(async () => {
    const ext = vscode.extensions.getExtension(EXTENSION_ID);
    assert.ok(ext, 'extension not loaded');
    const exp = (await ext.activate()) as { host: { predict?: PredictApi }; ready: Promise<void> };
    await exp.ready;
    assert.ok(exp.host.predict, 'activatePredict did not expose host.predict');
    api = exp.host.predict;
    ws = vscode.workspace.workspaceFolders![0].uri.fsPath;
    runId = await train(path.join(ws, 'predict-topics', 'topics.csv'), path.join(ws, '.fewshot'));
    notes = vscode.Uri.file(path.join(ws, 'predict-topics', 'notes.txt'));
    editor = await vscode.window.showTextDocument(notes);
  });

  after(async () => {
    api?.setStoreDirOverride(undefined);
    await vscode.commands.executeCommand('fewshot.stopServer');
    if (editor?.document.isDirty) {
      await vscode.window.showTextDocument(editor.document);
      await vscode.commands.executeCommand('workbench.action.files.revert');
    }
  });

  const select = (...lines: number[]) => {
    editor.selections = lines.map((l) => {
      const r = editor.document.lineAt(l).range;
      return new vscode.Selection(r.start, r.end);
    });
  };

  it('with no run available: a clear message, no status-bar model, nothing decorated', async () => {
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'fewshot-norun-'));
    try {
      api.setStoreDirOverride(empty);
      await until('the model status item to hide', async () => (await api.activeRun()) === undefined && api.statusBarText() === undefined);
      select(0);
      const r = (await vscode.commands.executeCommand('fewshot.predictSelection')) as PredictOutcome;
      assert.equal(r.ok, false);
      assert.ok(!r.ok && r.reason === 'no-run');
      assert.match(r.message, /No trained model/);
      assert.deepEqual(api.decorations(notes), []);
      const lines = (await vscode.commands.executeCommand('fewshot.predictEachLine')) as PredictOutcome;
      assert.ok(!lines.ok && lines.reason === 'no-run');
    } finally {
      api.setStoreDirOverride(undefined);
      fs.rmSync(empty, { recursive: true, force: true });
    }
  });

  it('selects the trained run (tree item argument) and shows it in the status bar', async () => {
    const picked = (await vscode.commands.executeCommand('fewshot.selectModelRun', { runId })) as ModelRun;
    assert.equal(picked.id, runId);
    assert.equal((await api.activeRun())?.id, runId);
    assert.equal(api.statusBarText(), `$(package) ${picked.name}`);
    assert.equal(await vscode.commands.executeCommand('fewshot.selectModelRun', 'no-such-run'), undefined);
    assert.equal((await api.activeRun())?.id, runId);
  });

  it('predicts the selected text and shows label + top-3 inline and in a hover', async () => {
    select(0);
    const r = (await vscode.commands.executeCommand('fewshot.predictSelection')) as PredictOutcome;
    assert.ok(r.ok, JSON.stringify(r));
    assert.equal(r.runId, runId);
    assert.equal(r.items.length, 1);
    const it0 = r.items[0];
    assert.equal(it0.text, editor.document.lineAt(0).text);
    assert.equal(it0.label, 'sports');
    assert.equal(it0.probabilities.length, 3);
    const ps = it0.probabilities.map((p) => p.p);
    assert.ok(ps[0] >= ps[1] && ps[1] >= ps[2]);
    assert.ok(Math.abs(ps[0] + ps[1] + ps[2] - 1) < 1e-6);
    assert.match(it0.inline, /^sports \S+ · \w+ \S+ · \w+ \S+$/);
    assert.match(r.message, /→ sports/);
    const decos = api.decorations(notes);
    assert.equal(decos.length, 1);
    assert.equal(decos[0].text, `» ${it0.inline}`);
    assert.ok(decos[0].range.isEqual(editor.document.lineAt(0).range));
    assert.equal(api.predictor.running, true, 'the warm child stays up');

    const hovers = (await vscode.commands.executeCommand('vscode.executeHoverProvider', notes, new vscode.Position(0, 5))) as vscode.Hover[];
    const text = hovers.flatMap((h) => h.contents.map((c) => (typeof c === 'string' ? c : (c as vscode.MarkdownString).value))).join('\n');
    assert.match(text, /Few-Shot Lab prediction/);
    assert.match(text, /`sports`/);
    // Outside the predicted range: no hover of ours.
    const other = (await vscode.commands.executeCommand('vscode.executeHoverProvider', notes, new vscode.Position(3, 3))) as vscode.Hover[];
    assert.ok(!other.some((h) => h.contents.some((c) => /Few-Shot Lab prediction/.test(typeof c === 'string' ? c : (c as vscode.MarkdownString).value))));
  });

  it('predicts several selections as one batch in the warm child', async () => {
    const launches = api.predictor.launches;
    // A new selection elsewhere keeps the earlier inline result.
    select(2);
    const one = (await vscode.commands.executeCommand('fewshot.predictSelection')) as PredictOutcome;
    assert.ok(one.ok && one.items[0].label === 'cooking', JSON.stringify(one));
    assert.deepEqual(api.decorations(notes).map((d) => d.range.start.line), [0, 2]);
    select(3, 0, 2);
    const r = (await vscode.commands.executeCommand('fewshot.predictSelection')) as PredictOutcome;
    assert.ok(r.ok, JSON.stringify(r));
    assert.deepEqual(r.items.map((i) => i.range.start.line), [0, 2, 3]);
    assert.deepEqual(r.items.map((i) => i.label), ['sports', 'cooking', 'weather']);
    assert.equal(api.decorations(notes).length, 3);
    assert.equal(api.predictor.launches, launches, 'no new child for the same run');
    assert.match(r.message, /3 selections/);
  });

  it('labels each non-empty line and exports CSV', async () => {
    const csv = path.join(os.tmpdir(), `fewshot-lines-${process.pid}.csv`);
    try {
      const r = (await vscode.commands.executeCommand('fewshot.predictEachLine', { exportCsv: csv })) as PredictOutcome;
      assert.ok(r.ok, JSON.stringify(r));
      assert.equal(r.kind, 'lines');
      assert.deepEqual(r.items.map((i) => i.range.start.line), [0, 2, 3]);
      assert.deepEqual(r.items.map((i) => i.label), ['sports', 'cooking', 'weather']);
      assert.equal(api.decorations(notes).length, 3);
      const rows = fs.readFileSync(csv, 'utf8').trim().split(/\r\n/);
      assert.equal(rows[0], 'line,text,label,probability');
      assert.equal(rows.length, 4);
      assert.match(rows[1], /^1,The midfielder scored twice and the team won the league match\.,sports,0\.\d+$/);
      assert.match(rows[3], /^4,"Expect heavy rain, strong wind and thunderstorms tonight\.",weather,0\.\d+$/);
    } finally {
      fs.rmSync(csv, { force: true });
    }
  });

  it('labels a big file in chunks (more lines than one predictor request) and exports every line', async () => {
    const sample = ['The midfielder scored twice and the team won the league match.', 'Simmer the onions in butter until golden.', 'Expect heavy rain and strong wind tonight.'];
    const content = Array.from({ length: 1201 }, (_, i) => sample[i % 3]).join('\n');
    const big = await vscode.workspace.openTextDocument({ content, language: 'plaintext' });
    await vscode.window.showTextDocument(big);
    const csv = path.join(os.tmpdir(), `fewshot-big-${process.pid}.csv`);
    // record the size of each request the warm predictor gets
    const predictor = api.predictor;
    const original = predictor.predict;
    const sizes: number[] = [];
    predictor.predict = (dir: string, texts: string[]) => { sizes.push(texts.length); return original.call(predictor, dir, texts); };
    try {
      const r = (await vscode.commands.executeCommand('fewshot.predictEachLine', { exportCsv: csv })) as PredictOutcome;
      assert.ok(r.ok, JSON.stringify(r));
      assert.deepEqual(sizes, [500, 500, 201]);
      assert.equal(r.items.length, 1201);
      // the same text gets the same label in every chunk
      for (let i = 3; i < r.items.length; i++) assert.equal(r.items[i].label, r.items[i % 3].label, `line ${i + 1}`);
      assert.equal(fs.readFileSync(csv, 'utf8').trim().split(/\r\n/).length, 1202);
    } finally {
      predictor.predict = original;
      fs.rmSync(csv, { force: true });
      await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');
      editor = await vscode.window.showTextDocument(notes);
    }
  });

  it('puts the inline result of a long line before its text, where it is on screen', async () => {
    const long = `The midfielder scored twice ${'and the crowd sang for the whole second half '.repeat(6)}as the team won the league match.`;
    const doc = await vscode.workspace.openTextDocument({ content: `Simmer the onions in butter until golden.\n${long}`, language: 'plaintext' });
    await vscode.window.showTextDocument(doc);
    try {
      const r = (await vscode.commands.executeCommand('fewshot.predictEachLine')) as PredictOutcome;
      assert.ok(r.ok, JSON.stringify(r));
      const decos = api.decorations(doc.uri);
      assert.deepEqual(decos.map((d) => [d.at, d.position.line, d.position.character]), [['after', 0, doc.lineAt(0).text.length], ['before', 1, 0]]);
      assert.ok(long.length > 200);
      assert.equal(decos[1].text, `${r.items[1].inline} »`);
      assert.ok(decos[1].range.isEqual(doc.lineAt(1).range), 'the hover still covers the whole line');
    } finally {
      await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');
      editor = await vscode.window.showTextDocument(notes);
    }
  });

  it('serves the active run over HTTP from a child process and stops it', async () => {
    const s = (await vscode.commands.executeCommand('fewshot.serveModel', { port: 0, quiet: true })) as ServeOutcome;
    assert.ok(s?.url, 'no server');
    assert.equal(s.runId, runId);
    assert.notEqual(s.pid, process.pid);
    assert.match(s.curl, /^curl -s -X POST http:\/\/127\.0\.0\.1:\d+\/predict -H 'Content-Type: application\/json' -d '\{"text":"[^"]+"\}'$/);
    const res = await fetch(`${s.url}/predict`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ text: 'snow and freezing fog tonight' }) });
    assert.equal(res.status, 200);
    assert.equal(((await res.json()) as { label: string }).label, 'weather');
    const model = (await (await fetch(`${s.url}/model`)).json()) as { runId: string };
    assert.equal(model.runId, runId);
    assert.equal(api.server()?.url, s.url);
    assert.equal(await vscode.commands.executeCommand('fewshot.stopServer'), true);
    assert.equal(api.server(), undefined);
    await assert.rejects(fetch(`${s.url}/health`));
  });

  it('inline results go away when the document changes', async () => {
    assert.ok(api.decorations(notes).length > 0);
    await editor.edit((e) => e.insert(new vscode.Position(1, 0), 'x'));
    await until('decorations to clear', () => api.decorations(notes).length === 0);
    await vscode.commands.executeCommand('workbench.action.files.revert');
  });
});
