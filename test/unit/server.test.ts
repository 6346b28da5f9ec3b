/**
 * Drives the bundled language server (dist/server.js) over IPC like VS Code
 * does: initialize → workspace/configuration → publishDiagnostics + the
 * fewshot/datasetSummaries notification, code actions, watched-file changes,
 * open-document edits and configuration changes.
 */
import * as assert from 'node:assert/strict';
import { fork, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { createMessageConnection, IPCMessageReader, IPCMessageWriter, type MessageConnection } from 'vscode-jsonrpc/node';
import {
  DatasetSummariesNotification, DiagnosticCodes, DiagnosticCommands, PlanTestSplitRequest, ServerInfoRequest,
  type DatasetSummariesParams, type PlanTestSplitResult, type ServerInfo,
} from '../../src/protocol/diagnostics';
import { makeFixtureWorkspace, rmrf } from './analysis.fixtures';
import { makeBadImageDataset, smooth } from './imageDiagnostics.fixtures';

const SERVER = path.resolve(__dirname, '..', '..', '..', 'dist', 'server.js');

interface Diag { range: { start: { line: number; character: number } }; code: string; severity: number; message: string; source: string; data: { dataset: string; row?: unknown } }
interface Action { title: string; edit?: { changes: Record<string, { range: unknown; newText: string }[]> }; command?: { command: string; arguments: unknown[] } }

class Session {
  child: ChildProcess;
  conn: MessageConnection;
  diags = new Map<string, Diag[]>();
  summaries: DatasetSummariesParams[] = [];
  config: Record<string, unknown> = { 'fewshot.diagnostics': {}, 'fewshot.train': { classWeighting: true }, 'fewshot.datasets': { paths: [] } };
  private waiters: Array<() => void> = [];

  constructor(public ws: string) {
    this.child = fork(SERVER, ['--node-ipc'], { stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
    this.conn = createMessageConnection(new IPCMessageReader(this.child), new IPCMessageWriter(this.child));
    this.conn.onNotification('textDocument/publishDiagnostics', (p: { uri: string; diagnostics: Diag[] }) => { this.diags.set(p.uri, p.diagnostics); this.poke(); });
    this.conn.onNotification(DatasetSummariesNotification, (p: DatasetSummariesParams) => { this.summaries.push(p); this.poke(); });
    this.conn.onNotification('window/logMessage', () => undefined);
    this.conn.onRequest('workspace/configuration', (p: { items: { section: string }[] }) => p.items.map((i) => this.config[i.section] ?? null));
    this.conn.listen();
  }
  private poke() { for (const w of this.waiters.splice(0)) w(); }
  /** Wait until `pred` holds (re-checked on every server message). */
  async until(pred: () => boolean, what: string, ms = 15_000): Promise<void> {
    const end = Date.now() + ms;
    while (!pred()) {
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
      await new Promise<void>((r) => { this.waiters.push(r); setTimeout(r, 200); });
    }
  }
  async start(locale = 'en'): Promise<void> {
    await this.conn.sendRequest('initialize', {
      processId: process.pid, rootUri: null, capabilities: { workspace: { configuration: true, didChangeWatchedFiles: { dynamicRegistration: false } } },
      workspaceFolders: [{ uri: pathToFileURL(this.ws).toString(), name: 'ws' }], initializationOptions: { locale },
    });
    await this.conn.sendNotification('initialized', {});
    await this.until(() => this.summaries.length > 0, 'the first summaries');
  }
  uri(rel: string): string { return pathToFileURL(path.join(this.ws, rel)).toString(); }
  codes(rel: string): string[] { return (this.diags.get(this.uri(rel)) ?? []).map((d) => d.code).sort(); }
  async stop(): Promise<void> {
    try {
      await Promise.race([this.conn.sendRequest('shutdown'), new Promise((r) => setTimeout(r, 2000))]);
      await this.conn.sendNotification('exit');
    } catch { /* already gone */ }
    this.conn.dispose();
    if (this.child.exitCode === null) this.child.kill();
  }
}

describe('server: language server over IPC', function () {
  this.timeout(30_000);
  let ws = '';
  let s: Session;
  before(function () {
    if (!fs.existsSync(SERVER)) throw new Error(`${SERVER} is missing: run \`node scripts/build.mjs\``);
  });
  beforeEach(async () => {
    ws = makeFixtureWorkspace();
    s = new Session(ws);
    await s.start();
  });
  afterEach(async () => {
    await s.stop();
    rmrf(ws);
  });

  it('publishes diagnostics with stable codes, severities and source at startup', () => {
    assert.deepEqual(s.codes('folders/news/train/ｔｅｃｈ/x01.txt'), [
      DiagnosticCodes.classImbalance, DiagnosticCodes.classMissingFromSplit, DiagnosticCodes.classUnderrepresented,
      DiagnosticCodes.labelVariants, DiagnosticCodes.tooFewTrain,
    ].sort());
    const leak = s.diags.get(s.uri('folders/news/test/sports/t01.txt'))![0];
    assert.equal(leak.code, DiagnosticCodes.leakageExact);
    assert.equal(leak.severity, 2);
    assert.equal(leak.source, 'Few-Shot Lab');
    const bin = s.diags.get(s.uri('folders/news/train/sports/scan.txt'))![0];
    assert.equal(bin.severity, 1);
    const all = new Set([...s.diags.values()].flat().map((d) => d.code));
    // columns guessed from the content: covered by test/unit/datasets-wrong-data.test.ts (it would add a dataset here)
    // image codes: covered by the image dataset test below and test/unit/imageDiagnostics.test.ts
    assert.deepEqual(Object.values(DiagnosticCodes).filter((c) => !all.has(c) && c !== DiagnosticCodes.columnsGuessed && !c.startsWith('fewshot.image-')), []);
  });

  it('sends fewshot/datasetSummaries with per-class counts and severities', () => {
    const last = s.summaries[s.summaries.length - 1];
    assert.equal(last.datasets.length, 5);
    const news = last.datasets.find((d) => d.root === path.join(ws, 'folders', 'news'))!;
    assert.equal(news.format, 'folders');
    const politics = news.classes.find((c) => c.label === 'politics')!;
    assert.deepEqual([politics.train, politics.test, politics.severity], [2, 2, 'error']);
    assert.ok(politics.problems.length > 0);
  });

  it('offers code actions: remove the duplicate row (edit), open the duplicate, split, silence, class weighting', async () => {
    const csv = s.uri('tables/reviews.csv');
    const dup = s.diags.get(csv)!.filter((d) => d.code === DiagnosticCodes.duplicateInSplit);
    const actions = (await s.conn.sendRequest('textDocument/codeAction', { textDocument: { uri: csv }, range: dup[0].range, context: { diagnostics: dup } })) as Action[];
    const titles = actions.map((a) => a.title);
    assert.deepEqual(titles, ['Remove the duplicate row', 'Open the duplicate', 'Silence this check for this dataset (fewshot.duplicate-in-split)']);
    const edit = actions[0].edit!.changes[csv][0];
    assert.deepEqual(edit, { range: { start: { line: 3, character: 0 }, end: { line: 4, character: 0 } }, newText: '' });
    assert.equal(actions[1].command!.command, DiagnosticCommands.open);
    assert.deepEqual(actions[2].command!.arguments, ['tables/reviews.csv', DiagnosticCodes.duplicateInSplit]);

    const ns = s.uri('folders/nosplit/train/alpha/alpha-01.txt');
    const miss = s.diags.get(ns)!;
    const a2 = (await s.conn.sendRequest('textDocument/codeAction', { textDocument: { uri: ns }, range: miss[0].range, context: { diagnostics: miss } })) as Action[];
    assert.equal(a2[0].title, 'Create a stratified test split');
    assert.deepEqual(a2[0].command!.arguments, [path.join(ws, 'folders', 'nosplit')]);
    const plan: PlanTestSplitResult = await s.conn.sendRequest(PlanTestSplitRequest, { root: path.join(ws, 'folders', 'nosplit') });
    assert.equal(plan.moves.length, 6);

    // class weighting is offered only when fewshot.train.classWeighting is off
    const x01 = s.uri('folders/news/train/ｔｅｃｈ/x01.txt');
    const imb = s.diags.get(x01)!.filter((d) => d.code === DiagnosticCodes.classImbalance);
    const ask = async () => ((await s.conn.sendRequest('textDocument/codeAction', { textDocument: { uri: x01 }, range: imb[0].range, context: { diagnostics: imb } })) as Action[]).map((a) => a.title);
    assert.deepEqual(await ask(), ['Silence this check for this dataset (fewshot.class-imbalance)']);
    s.config['fewshot.train'] = { classWeighting: false };
    const n = s.summaries.length;
    await s.conn.sendNotification('workspace/didChangeConfiguration', { settings: null });
    await s.until(() => s.summaries.length > n, 'reanalysis after the configuration change');
    assert.deepEqual(await ask(), ['Use class weighting for this dataset', 'Silence this check for this dataset (fewshot.class-imbalance)']);
  });

  it('re-analyses after workspace/didChangeWatchedFiles (only the affected dataset)', async () => {
    const t01 = path.join(ws, 'folders', 'news', 'test', 'sports', 't01.txt');
    fs.writeFileSync(t01, 'A completely fresh test sentence about curling.\n');
    const n = s.summaries.length;
    await s.conn.sendNotification('workspace/didChangeWatchedFiles', { changes: [{ uri: pathToFileURL(t01).toString(), type: 2 }] });
    await s.until(() => s.summaries.length > n, 'summaries after the change');
    assert.deepEqual(s.codes('folders/news/test/sports/t01.txt'), []);
    const info: ServerInfo = await s.conn.sendRequest(ServerInfoRequest);
    assert.equal(info.pid, s.child.pid);
    assert.equal(info.datasets, 5);
  });

  it('follows unsaved edits of open table documents', async () => {
    const csv = path.join(ws, 'tables', 'intents.jsonl');
    const uri = pathToFileURL(csv).toString();
    const text = fs.readFileSync(csv, 'utf8');
    await s.conn.sendNotification('textDocument/didOpen', { textDocument: { uri, languageId: 'jsonl', version: 1, text } });
    const fixed = text.replace('"cancel my reservation" "label"', '"cancel my reservation", "label"');
    await s.conn.sendNotification('textDocument/didChange', { textDocument: { uri, version: 2 }, contentChanges: [{ text: fixed }] });
    await s.until(() => !(s.diags.get(uri) ?? []).some((d) => d.code === DiagnosticCodes.undecodableFile), 'the JSON error to disappear');
    assert.ok(fs.readFileSync(csv, 'utf8').includes('" "label"'), 'the disk still has the broken line');
  });

  it('reacts to configuration changes: thresholds, silencing and disabling', async () => {
    s.config['fewshot.diagnostics'] = { ignore: { 'folders/news': [DiagnosticCodes.classImbalance] }, maxChars: 100000 };
    await s.conn.sendNotification('workspace/didChangeConfiguration', { settings: null });
    await s.until(() => !s.codes('folders/news/train/ｔｅｃｈ/x01.txt').includes(DiagnosticCodes.classImbalance), 'silenced imbalance');
    assert.deepEqual(s.codes('folders/news/train/sports/long.txt'), []);
    s.config['fewshot.diagnostics'] = { enabled: false };
    const n = s.summaries.length;
    await s.conn.sendNotification('workspace/didChangeConfiguration', { settings: null });
    await s.until(() => s.summaries.length > n && s.summaries[s.summaries.length - 1].datasets.length === 0, 'empty summaries');
    assert.ok([...s.diags.values()].every((d) => d.length === 0), 'all diagnostics cleared');
  });
});

describe('server: locale', function () {
  this.timeout(30_000);
  it('speaks Simplified Chinese when the client locale is zh-cn', async () => {
    const ws = makeFixtureWorkspace();
    const s = new Session(ws);
    try {
      await s.start('zh-cn');
      const d = s.diags.get(s.uri('folders/news/train/ｔｅｃｈ/x01.txt'))!.find((x) => x.code === DiagnosticCodes.classImbalance)!;
      assert.match(d.message, /类别不平衡/);
      const actions = (await s.conn.sendRequest('textDocument/codeAction', { textDocument: { uri: s.uri('folders/news/train/ｔｅｃｈ/x01.txt') }, range: d.range, context: { diagnostics: [d] } })) as Action[];
      assert.deepEqual(actions.map((a) => a.title), ['对此数据集忽略此检查（fewshot.class-imbalance）']);
    } finally {
      await s.stop();
      rmrf(ws);
    }
  });
});

describe('server: image datasets', function () {
  this.timeout(60_000);
  it('publishes image diagnostics on the image files, image summaries, and follows an image added on disk', async () => {
    const ws = fs.mkdtempSync(path.join(os.tmpdir(), 'fewshot-imgserver-'));
    const s = new Session(ws);
    try {
      await makeBadImageDataset(ws);
      await s.start();
      const summary = s.summaries.at(-1)!.datasets.find((d) => d.root === path.join(ws, 'scans'))!;
      assert.equal(summary.media, 'images');
      assert.deepEqual(summary.classes.map((c) => [c.label, c.train, c.test]), [['circle', 10, 2], ['square', 3, 2]]);
      assert.deepEqual(s.codes('scans/train/circle/trunc.png'), [DiagnosticCodes.imageUnreadable]);
      assert.deepEqual(s.codes('scans/train/circle/zero.png'), [DiagnosticCodes.imageEmpty]);
      assert.deepEqual(s.codes('scans/test/circle/copy.png'), [DiagnosticCodes.leakageExact]);
      const leak = s.diags.get(s.uri('scans/test/circle/copy.png'))![0] as Diag & { relatedInformation?: { location: { uri: string } }[] };
      assert.equal(leak.relatedInformation?.[0].location.uri, s.uri('scans/train/circle/c0.png'));
      const copy = s.uri('scans/test/circle/copy.png');
      const acts = (await s.conn.sendRequest('textDocument/codeAction', { textDocument: { uri: copy }, range: leak.range, context: { diagnostics: [leak] } })) as Action[];
      assert.deepEqual(acts.map((a) => a.title), ['Open the training image', 'Silence this check for this dataset (fewshot.leakage-exact)']);
      assert.deepEqual(acts[0].command!.arguments[0], s.uri('scans/train/circle/c0.png'));
      // the split quick fix moves only images that training reads, never a file it skips
      const plan: PlanTestSplitResult = await s.conn.sendRequest(PlanTestSplitRequest, { root: path.join(ws, 'scans'), fraction: 0.5 });
      assert.ok(plan.moves.length >= 4, JSON.stringify(plan.moves));
      const skipped = /(trunc|zero|garbage|huge-header)\.|\.gif$|\.dcm$/;
      assert.deepEqual(plan.moves.filter((m) => skipped.test(m.from)), []);
      // no text diagnostic anywhere in the image dataset
      const codes = [...s.diags.entries()].filter(([u]) => u.startsWith(s.uri('scans'))).flatMap(([, d]) => d.map((x) => x.code));
      assert.deepEqual(codes.filter((c) => c === DiagnosticCodes.emptyFile || c === DiagnosticCodes.undecodableFile || c === DiagnosticCodes.unexpectedEncoding), []);
      // a corrupt image dropped into a class folder: its diagnostic appears, and the square class grows by a good one
      const broken = path.join(ws, 'scans', 'train', 'square', 'broken.jpg');
      fs.writeFileSync(broken, (await smooth(7, 'jpeg')).subarray(0, 200));
      const good = path.join(ws, 'scans', 'train', 'square', 's9.png');
      fs.writeFileSync(good, await smooth(300));
      const n = s.summaries.length;
      await s.conn.sendNotification('workspace/didChangeWatchedFiles', { changes: [broken, good].map((f) => ({ uri: pathToFileURL(f).toString(), type: 1 })) });
      await s.until(() => s.summaries.length > n, 'summaries after the change');
      assert.deepEqual(s.codes('scans/train/square/broken.jpg'), [DiagnosticCodes.imageUnreadable]);
      assert.match(s.diags.get(s.uri('scans/train/square/broken.jpg'))![0].message, /JPEG image but cannot be decoded/);
      const after = s.summaries.at(-1)!.datasets.find((d) => d.root === path.join(ws, 'scans'))!;
      assert.deepEqual(after.classes.map((c) => [c.label, c.train]), [['circle', 10], ['square', 4]]);
    } finally {
      await s.stop();
      rmrf(ws);
    }
  });
});

describe('server: bundle boundaries', function () {
  this.timeout(30_000);
  it('bundles only the core dataset modules from src/core (no encoders, heads, solver or ML packages; the image decoders for image datasets)', () => {
    const repo = path.resolve(__dirname, '..', '..', '..');
    const script = `const r = require('esbuild').buildSync({ entryPoints: ['src/server/server.ts'], bundle: true, platform: 'node', format: 'cjs',
      write: false, metafile: true, outfile: 'server.js', logLevel: 'error', external: ['sharp'] });
      process.stdout.write(JSON.stringify([...Object.keys(r.metafile.inputs), ...Object.values(r.metafile.inputs).flatMap((i) => i.imports.filter((x) => x.external && !x.path.startsWith('.') && !require('node:module').isBuiltin(x.path)).map((x) => 'node_modules/' + x.path))]));`;
    const r = spawnSync(process.execPath, ['-e', script], { cwd: repo, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const inputs = JSON.parse(r.stdout) as string[];
    const sources = inputs.filter((i) => !i.includes('node_modules/'));
    const packages = new Set(inputs.map((i) => /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(i)?.[1]).filter((p): p is string => !!p));
    assert.ok(sources.includes('src/core/datasets/load.ts'), 'the check sees the core dataset modules');
    // image datasets: the image reader, the decoders (JS/WASM, loaded lazily) and the perceptual hash with its resize
    const allowed = /^src\/(server\/|protocol\/|core\/datasets\/|core\/(errors|metrics)\.ts$|core\/util\/(hash|async|rng|fs)\.ts$|core\/images\/(dataset|phash|decode|preprocess)\.ts$)/;
    assert.deepEqual(sources.filter((s) => !allowed.test(s)), []);
    assert.deepEqual([...packages].filter((p) => !/^(vscode-(languageserver|jsonrpc)|pngjs$|jpeg-js$|@jsquash\/jpeg$|utif2$|pako$|@cwasm\/webp$|@canvas\/image-data$)/.test(p)), []);
  });
});
