/**
 * Dataset diagnostics inside the real extension host (code-server): the
 * language server publishes diagnostics on the fixture datasets
 * (test/fixtures/workspace/diag-*), quick fixes apply and undo, and the server
 * comes back after a crash.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { DiagnosticCodes, DiagnosticCommands, type DatasetSummary, type ServerInfo } from '../../src/protocol/diagnostics';

const EXTENSION_ID = 'fewshot-lab.fewshot-lab';

function ws(): string {
  const f = vscode.workspace.workspaceFolders?.[0];
  assert.ok(f, 'no workspace folder open');
  return f.uri.fsPath;
}
const uriOf = (rel: string) => vscode.Uri.file(path.join(ws(), rel));
const codeOf = (d: vscode.Diagnostic) => (typeof d.code === 'object' ? String(d.code.value) : String(d.code));
const diagsOf = (rel: string, code?: string) => vscode.languages.getDiagnostics(uriOf(rel)).filter((d) => d.source === 'Few-Shot Lab' && (!code || codeOf(d) === code));

/** Number of our diagnostics with `code` on files under a workspace folder. */
function anyUnder(relDir: string, code: string): number {
  const dir = path.join(ws(), relDir) + path.sep;
  return vscode.languages.getDiagnostics().reduce((n, [uri, ds]) => n + (uri.fsPath.startsWith(dir) ? ds.filter((d) => d.source === 'Few-Shot Lab' && codeOf(d) === code).length : 0), 0);
}

/** Wait for a condition, re-checked on every diagnostics change and every 100 ms. */
async function until<T>(what: string, fn: () => T | undefined | false | Promise<T | undefined | false>, ms = 30_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise<void>((resolve) => {
      const sub = vscode.languages.onDidChangeDiagnostics(() => { sub.dispose(); resolve(); });
      setTimeout(() => { sub.dispose(); resolve(); }, 100);
    });
  }
}

async function actionsFor(rel: string, d: vscode.Diagnostic): Promise<vscode.CodeAction[]> {
  // the code-action command needs a loaded text model
  await vscode.workspace.openTextDocument(uriOf(rel));
  const all = await vscode.commands.executeCommand<(vscode.CodeAction | vscode.Command)[]>('vscode.executeCodeActionProvider', uriOf(rel), d.range, vscode.CodeActionKind.QuickFix.value);
  return (all ?? []).filter((a): a is vscode.CodeAction => typeof (a as vscode.CodeAction).title === 'string' && (a as vscode.CodeAction).kind !== undefined);
}

describe('diagnostics: dataset language server in the extension host', function () {
  this.timeout(120_000);
  let host: { latestDatasetSummaries(): DatasetSummary[] | undefined } | undefined;

  before(async function () {
    this.timeout(180_000);
    const ext = vscode.extensions.getExtension(EXTENSION_ID);
    assert.ok(ext, 'extension not loaded');
    const api = (await ext.activate()) as { ready?: Promise<void>; host?: typeof host };
    await api.ready;
    host = api.host;
  });

  it('publishes the class-imbalance warning on the first file of the smallest class', async () => {
    const [d] = await until('the class-imbalance diagnostic', () => {
      const x = diagsOf('diag-imbalance/train/negative/neg-01.txt', DiagnosticCodes.classImbalance);
      return x.length ? x : false;
    });
    assert.equal(d.severity, vscode.DiagnosticSeverity.Warning);
    assert.match(d.message, /'positive' has 12 training samples but 'negative' has only 3/);
    assert.ok(diagsOf('diag-imbalance/train/negative/neg-01.txt', DiagnosticCodes.tooFewTrain).length === 1);
    assert.equal(diagsOf('diag-imbalance/train/positive/pos-01.txt').length, 0, 'no problems on the big class');
    // duplicate row in the CSV fixture, placed on the row
    const [dup] = await until('the duplicate row diagnostic', () => {
      const x = diagsOf('diag-table/feedback.csv', DiagnosticCodes.duplicateInSplit);
      return x.length ? x : false;
    });
    assert.equal(dup.range.start.line, 3);
  });

  it('pushes dataset summaries to the host (Datasets view icons)', async () => {
    const s = await until('summaries', () => host?.latestDatasetSummaries()?.find((x) => x.root === path.join(ws(), 'diag-imbalance')));
    const negative = s.classes.find((c) => c.label === 'negative')!;
    assert.deepEqual([negative.train, negative.test, negative.severity], [3, 3, 'warning']);
    assert.equal(negative.folder, path.join(ws(), 'diag-imbalance', 'train', 'negative'));
  });

  it('"Remove the duplicate row" deletes the row, and undo brings it back', async () => {
    const rel = 'diag-table/feedback.csv';
    const doc = await vscode.workspace.openTextDocument(uriOf(rel));
    const editor = await vscode.window.showTextDocument(doc);
    const original = doc.getText();
    const [dup] = await until('duplicate', () => { const x = diagsOf(rel, DiagnosticCodes.duplicateInSplit); return x.length ? x : false; });
    const fix = (await until('the remove-row action', async () => (await actionsFor(rel, dup)).find((a) => a.title === 'Remove the duplicate row')))!;
    assert.ok(fix.edit, 'the quick fix carries a WorkspaceEdit');
    assert.ok(await vscode.workspace.applyEdit(fix.edit!));
    assert.equal(doc.getText(), original.replace('The app crashes when I open settings,bug\nExport', 'Export'));
    await until('the duplicate diagnostic to go away', () => diagsOf(rel, DiagnosticCodes.duplicateInSplit).length === 0);
    await vscode.window.showTextDocument(editor.document);
    await vscode.commands.executeCommand('undo');
    await until('undo to restore the row', () => doc.getText() === original);
    await until('the duplicate diagnostic to come back', () => diagsOf(rel, DiagnosticCodes.duplicateInSplit).length === 1);
    await vscode.commands.executeCommand('workbench.action.files.revert');
    await vscode.commands.executeCommand('workbench.action.closeActiveEditor');
  });

  it('"Open the duplicate" opens the first occurrence', async () => {
    const rel = 'diag-table/feedback.csv';
    const [dup] = await until('duplicate', () => { const x = diagsOf(rel, DiagnosticCodes.duplicateInSplit); return x.length ? x : false; });
    const actions = await actionsFor(rel, dup);
    const open = actions.find((a) => a.title === 'Open the duplicate');
    assert.ok(open?.command, `actions: ${actions.map((a) => a.title).join(', ')}`);
    await vscode.commands.executeCommand(open.command.command, ...(open.command.arguments ?? []));
    const ed = await until('the editor', () => vscode.window.activeTextEditor?.document.uri.fsPath === uriOf(rel).fsPath && vscode.window.activeTextEditor);
    assert.equal(ed.selection.start.line, 1);
    await vscode.commands.executeCommand('workbench.action.closeActiveEditor');
  });

  it('"Create a stratified test split" moves files into test/<class>, and undo restores them', async () => {
    const rel = 'diag-nosplit/train/cats/cats-01.txt';
    const root = path.join(ws(), 'diag-nosplit');
    const before = fs.readdirSync(path.join(root, 'train', 'cats')).length + fs.readdirSync(path.join(root, 'train', 'dogs')).length;
    const [miss] = await until('missing test split', () => { const x = diagsOf(rel, DiagnosticCodes.missingTestSplit); return x.length ? x : false; });
    const act = (await actionsFor(rel, miss)).find((a) => a.title === 'Create a stratified test split');
    assert.ok(act?.command);
    const moves = await vscode.commands.executeCommand<{ from: string; to: string }[]>(act.command.command, ...(act.command.arguments ?? []), { confirmed: true });
    assert.equal(moves.length, 6);
    for (const m of moves) assert.ok(fs.existsSync(m.to) && !fs.existsSync(m.from), `${m.to} was not moved`);
    assert.equal(fs.readdirSync(path.join(root, 'test', 'cats')).length, 3);
    await until('missing-test-split to disappear', () => anyUnder('diag-nosplit', DiagnosticCodes.missingTestSplit) === 0);
    const undone = await vscode.commands.executeCommand<string>(DiagnosticCommands.undo);
    assert.equal(undone, 'Create a stratified test split');
    for (const m of moves) assert.ok(fs.existsSync(m.from) && !fs.existsSync(m.to), `${m.from} was not restored`);
    assert.ok(!fs.existsSync(path.join(root, 'test')), 'the test/ folder the fix created is removed again');
    assert.equal(fs.readdirSync(path.join(root, 'train', 'cats')).length + fs.readdirSync(path.join(root, 'train', 'dogs')).length, before);
    await until('missing-test-split to come back', () => anyUnder('diag-nosplit', DiagnosticCodes.missingTestSplit) === 1);
  });

  it('"Use class weighting for this dataset" sets the workspace setting, and undo restores the previous value', async () => {
    const cfg = () => vscode.workspace.getConfiguration('fewshot.train');
    await cfg().update('classWeighting', false, vscode.ConfigurationTarget.Workspace);
    try {
      const rel = 'diag-imbalance/train/negative/neg-01.txt';
      const [imb] = await until('imbalance', () => { const x = diagsOf(rel, DiagnosticCodes.classImbalance); return x.length ? x : false; });
      const act = await until('the class-weighting action', async () => (await actionsFor(rel, imb)).find((a) => a.title === 'Use class weighting for this dataset'));
      await vscode.commands.executeCommand(act.command!.command, ...(act.command!.arguments ?? []));
      assert.equal(cfg().inspect('classWeighting')?.workspaceValue, true);
      await vscode.commands.executeCommand(DiagnosticCommands.undo);
      assert.equal(cfg().inspect('classWeighting')?.workspaceValue, false);
    } finally {
      await cfg().update('classWeighting', undefined, vscode.ConfigurationTarget.Workspace);
    }
  });

  it('"Silence this check for this dataset" hides the diagnostic, and undo shows it again (and removes the settings file it created)', async () => {
    const rel = 'diag-imbalance/train/negative/neg-01.txt';
    // Start without a workspace settings file (an earlier test may have left an empty one), so the fix creates it.
    const settingsDir = path.join(ws(), '.vscode');
    const settingsFile = path.join(settingsDir, 'settings.json');
    const kept = fs.existsSync(settingsFile) ? fs.readFileSync(settingsFile, 'utf8') : undefined;
    if (kept !== undefined && /^\s*\{\s*\}\s*$/.test(kept)) {
      fs.rmSync(settingsFile);
      if (!fs.readdirSync(settingsDir).length) fs.rmdirSync(settingsDir);
    }
    const createsFile = !fs.existsSync(settingsFile);
    const dirExisted = fs.existsSync(settingsDir);
    const [imb] = await until('imbalance', () => { const x = diagsOf(rel, DiagnosticCodes.classImbalance); return x.length ? x : false; });
    const act = (await actionsFor(rel, imb)).find((a) => a.title === `Silence this check for this dataset (${DiagnosticCodes.classImbalance})`);
    assert.ok(act?.command);
    await vscode.commands.executeCommand(act.command.command, ...(act.command.arguments ?? []));
    assert.deepEqual(vscode.workspace.getConfiguration('fewshot.diagnostics').inspect('ignore')?.workspaceValue, { 'diag-imbalance': [DiagnosticCodes.classImbalance] });
    await until('the imbalance warning to be silenced', () => diagsOf(rel, DiagnosticCodes.classImbalance).length === 0);
    assert.equal(diagsOf(rel, DiagnosticCodes.tooFewTrain).length, 1, 'other checks stay');
    await vscode.commands.executeCommand(DiagnosticCommands.undo);
    assert.equal(vscode.workspace.getConfiguration('fewshot.diagnostics').inspect('ignore')?.workspaceValue, undefined);
    await until('the imbalance warning to come back', () => diagsOf(rel, DiagnosticCodes.classImbalance).length === 1);
    if (createsFile) assert.ok(!fs.existsSync(settingsFile) && (dirExisted || !fs.existsSync(settingsDir)), 'undo removes the .vscode/settings.json (and .vscode folder) the fix created');
    else assert.ok(fs.existsSync(settingsFile), 'undo keeps a settings file that was there before');
  });

  it('re-analyses when a file changes on disk', async () => {
    const file = path.join(ws(), 'diag-imbalance', 'train', 'negative', 'neg-04.txt');
    const more = [4, 5, 6, 7, 8, 9].map((i) => path.join(ws(), 'diag-imbalance', 'train', 'negative', `neg-0${i}.txt`));
    try {
      for (const [k, f] of more.entries()) fs.writeFileSync(f, `Another disappointing purchase ${k}: it stopped working after ${k + 2} days.\n`);
      await until('imbalance to clear after adding files', () => diagsOf('diag-imbalance/train/negative/neg-01.txt', DiagnosticCodes.classImbalance).length === 0);
    } finally {
      for (const f of more) fs.rmSync(f, { force: true });
    }
    await until('imbalance to return after removing them', () => diagsOf('diag-imbalance/train/negative/neg-01.txt', DiagnosticCodes.classImbalance).length === 1);
    assert.ok(!fs.existsSync(file));
  });

  it('Problems names a link loop and a binary file; a note with a stray backspace is read as text', async () => {
    const root = path.join(ws(), `diag-links-${process.pid}`);
    try {
      for (const c of ['alpha', 'beta']) {
        fs.mkdirSync(path.join(root, 'train', c), { recursive: true });
        for (let i = 1; i <= 8; i++) fs.writeFileSync(path.join(root, 'train', c, `${c}-${i}.txt`), `${c} example ${i}: ${c} words number ${i * 7}\n`);
      }
      fs.writeFileSync(path.join(root, 'train', 'alpha', 'typo.txt'), 'chest pain\b\b on exertion\n');
      fs.writeFileSync(path.join(root, 'train', 'beta', 'scan.txt'), Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46, 0x00]));
      fs.symlinkSync('..', path.join(root, 'train', 'alpha', 'up'));
      const rel = (p: string) => path.relative(ws(), path.join(root, p));
      const [loop] = await until('the link-not-followed diagnostic on the loop', () => {
        const x = diagsOf(rel('train/alpha/up'), DiagnosticCodes.linkNotFollowed);
        return x.length ? x : false;
      });
      assert.equal(loop.severity, vscode.DiagnosticSeverity.Warning);
      assert.match(loop.message, /a loop/);
      assert.equal(diagsOf(rel('train/beta/scan.txt'), DiagnosticCodes.undecodableFile).length, 1, 'the binary file is in Problems');
      assert.equal(diagsOf(rel('train/alpha/typo.txt'), DiagnosticCodes.undecodableFile).length, 0, 'the backspace note is text');
      const summary = host?.latestDatasetSummaries()?.find((d) => d.root === root);
      assert.deepEqual(summary?.classes.map((c) => [c.label, c.train]), [['alpha', 9], ['beta', 8]], 'the loop adds no examples');
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
    await until('the diagnostics to go with the folder', () => diagsOf(`diag-links-${process.pid}/train/alpha/up`).length === 0);
  });

  it('Problems lists the unreadable, empty, small and leaked images of an image dataset; the training image opens in the image preview', async () => {
    const root = path.join(ws(), `diag-images-${process.pid}`);
    const shapes = path.join(vscode.extensions.getExtension(EXTENSION_ID)!.extensionPath, 'samples', 'shapes');
    const rel = (p: string) => path.relative(ws(), path.join(root, p));
    try {
      for (const split of ['train', 'test']) {
        for (const c of ['circle', 'square']) {
          fs.mkdirSync(path.join(root, split, c), { recursive: true });
          for (const f of fs.readdirSync(path.join(shapes, split, c)).slice(0, split === 'train' ? 12 : 3)) fs.copyFileSync(path.join(shapes, split, c, f), path.join(root, split, c, f));
        }
      }
      const png = fs.readFileSync(path.join(root, 'train', 'circle', 'circle_01.png'));
      fs.writeFileSync(path.join(root, 'train', 'circle', 'broken.png'), png.subarray(0, Math.floor(png.length / 2)));
      fs.writeFileSync(path.join(root, 'train', 'square', 'empty.png'), Buffer.alloc(0));
      // a 16 × 16 grey 24-bit BMP
      const bmp = Buffer.alloc(54 + 16 * 48, 0x80);
      bmp.write('BM', 0); bmp.writeUInt32LE(bmp.length, 2); bmp.writeUInt32LE(0, 6); bmp.writeUInt32LE(54, 10); bmp.writeUInt32LE(40, 14);
      bmp.writeInt32LE(16, 18); bmp.writeInt32LE(16, 22); bmp.writeUInt16LE(1, 26); bmp.writeUInt16LE(24, 28); bmp.writeUInt32LE(0, 30); bmp.writeUInt32LE(16 * 48, 34);
      bmp.fill(0, 38, 54);
      fs.writeFileSync(path.join(root, 'train', 'square', 'tiny.bmp'), bmp);
      fs.writeFileSync(path.join(root, 'test', 'circle', 'leak.png'), png);

      const [broken] = await until('the unreadable-image diagnostic on broken.png', () => {
        const x = diagsOf(rel('train/circle/broken.png'), DiagnosticCodes.imageUnreadable);
        return x.length ? x : false;
      }, 60_000);
      assert.equal(broken.severity, vscode.DiagnosticSeverity.Error);
      assert.match(broken.message, /looks like a PNG image but cannot be decoded .*corrupt or truncated/);
      const [leak] = await until('the leakage diagnostic on leak.png', () => {
        const x = diagsOf(rel('test/circle/leak.png'), DiagnosticCodes.leakageExact);
        return x.length ? x : false;
      }, 60_000);
      assert.match(leak.message, /same file, byte for byte, as the training image train\/circle\/circle_01\.png/);
      assert.equal(leak.relatedInformation?.[0].location.uri.fsPath, path.join(root, 'train', 'circle', 'circle_01.png'));
      assert.equal(diagsOf(rel('train/square/empty.png'), DiagnosticCodes.imageEmpty).length, 1);
      const [tiny] = diagsOf(rel('train/square/tiny.bmp'), DiagnosticCodes.imageSmall);
      assert.equal(tiny?.severity, vscode.DiagnosticSeverity.Information);
      assert.match(tiny.message, /only 16 × 16 px/);
      for (const code of [DiagnosticCodes.emptyFile, DiagnosticCodes.undecodableFile, DiagnosticCodes.unexpectedEncoding]) {
        assert.equal(anyUnder(path.basename(root), code), 0, `no text diagnostic ${code} in an image dataset`);
      }
      const summary = await until('the image dataset summary', () => host?.latestDatasetSummaries()?.find((d) => d.root === root && d.classes.length === 2));
      assert.equal(summary.media, 'images');
      assert.deepEqual(summary.classes.map((c) => [c.label, c.train, c.test]), [['circle', 12, 4], ['square', 13, 3]]);
      // "Open the training image" (the open command) shows an image in the default editor: the image preview
      await vscode.commands.executeCommand(DiagnosticCommands.open, leak.relatedInformation![0].location.uri.toString());
      await until('the image preview', () => {
        const input = vscode.window.tabGroups.activeTabGroup.activeTab?.input;
        return input instanceof vscode.TabInputCustom && input.uri.fsPath === path.join(root, 'train', 'circle', 'circle_01.png');
      });
      await vscode.commands.executeCommand('workbench.action.closeActiveEditor');
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
    await until('the image diagnostics to go with the folder', () => diagsOf(rel('train/circle/broken.png')).length === 0);
  });

  it('restarts the server after it is killed and publishes the diagnostics again', async () => {
    const first = await until('server info', () => Promise.resolve(vscode.commands.executeCommand<ServerInfo | undefined>(DiagnosticCommands.serverInfo)));
    assert.ok(first.pid > 0 && first.pid !== process.pid);
    process.kill(first.pid, 'SIGKILL');
    const second = await until('a new server process', async () => {
      const i = await vscode.commands.executeCommand<ServerInfo | undefined>(DiagnosticCommands.serverInfo).then((x) => x, () => undefined);
      return i && i.pid !== first.pid ? i : false;
    }, 60_000);
    assert.notEqual(second.pid, first.pid);
    await until('diagnostics after the restart', async () => {
      const i = await vscode.commands.executeCommand<ServerInfo | undefined>(DiagnosticCommands.serverInfo).then((x) => x, () => undefined);
      return !!i && i.passes > 0 && diagsOf('diag-imbalance/train/negative/neg-01.txt', DiagnosticCodes.classImbalance).length === 1;
    }, 60_000);
  });
});
