/**
 * The vscode-free parts of the predict feature: run choice, result formatting,
 * the warm predictor child (real dist/predictor.js) and the `fewshot serve` child.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { defaultModelRun, listModelRuns, runIdFromArg, ModelRun } from '../../src/extension/predict/runs';
import { copyText, csvField, inlineText, linesToCsv, formatP } from '../../src/extension/predict/format';
import { WarmPredictor, WarmPredictorError } from '../../src/extension/predict/warm';
import { checkHealth, curlExample, startServeChild, ServeStartError } from '../../src/extension/predict/serveProcess';
import { launchPredictor } from '../../src/trainer/launch';
import { spawn } from 'node:child_process';
import { SERVE_PROTOCOL_VERSION, isServeMessage, type ServeToParent } from '../../src/protocol/serve';
import { TRAINER_PROTOCOL_VERSION } from '../../src/protocol/trainer';
import { makeTinyModel, TinyModel } from './helpers/serveModel';

const repo = path.resolve(__dirname, '..', '..', '..');
const predictorJs = path.join(repo, 'dist', 'predictor.js');
const cliJs = path.join(repo, 'dist', 'cli.js');

async function until(f: () => boolean, timeoutMs = 10000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!f()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}

function run(id: string, dataset: string, createdAt: string, test?: number, val?: number): ModelRun {
  return { id, name: id, dir: `/x/${id}`, dataset, createdAt, testMacroF1: test, bestValMacroF1: val };
}

describe('predict: run choice (src/extension/predict/runs.ts)', () => {
  it('defaults to the best run of the most recent dataset', () => {
    const runs = [
      run('a', '/d/old', '2026-01-05T00:00:00Z', 0.99),
      run('b', '/d/new', '2026-01-03T00:00:00Z', 0.7),
      run('c', '/d/new', '2026-01-04T00:00:00Z', 0.81),
      run('d', '/d/new', '2026-01-06T00:00:00Z', 0.75),
      run('e', '/d/older', '2026-01-01T00:00:00Z', 1),
    ];
    // newest run is 'd' (dataset /d/new) → best of /d/new by test macro-F1 is 'c'
    assert.equal(defaultModelRun(runs)?.id, 'c');
  });

  it('falls back to validation macro-F1 when no run has a test score', () => {
    const runs = [run('a', '/d', '2026-01-01T00:00:00Z', undefined, 0.6), run('b', '/d', '2026-01-02T00:00:00Z', undefined, 0.9), run('c', '/d', '2026-01-03T00:00:00Z')];
    assert.equal(defaultModelRun(runs)?.id, 'b');
    assert.equal(defaultModelRun([]), undefined);
  });

  it('lists only completed runs that have a model file, newest first', async () => {
    const store = fs.mkdtempSync(path.join(os.tmpdir(), 'fewshot-runs-'));
    try {
      const mk = (id: string, status: string, createdAt: string, model: boolean, extra: object = {}) => {
        const dir = path.join(store, 'runs', id);
        fs.mkdirSync(path.join(dir, 'model'), { recursive: true });
        fs.writeFileSync(path.join(dir, 'run.json'), JSON.stringify({ id, status, createdAt, config: { dataset: '/data/x' }, ...extra }));
        if (model) fs.writeFileSync(path.join(dir, 'model', 'head.json'), '{}');
      };
      mk('r1', 'completed', '2026-01-01T00:00:00Z', true, { testMacroF1: 0.5, name: 'First' });
      mk('r2', 'completed', '2026-01-02T00:00:00Z', true, { bestValMacroF1: 0.4 });
      mk('r3', 'failed', '2026-01-03T00:00:00Z', false);
      mk('r4', 'running', '2026-01-04T00:00:00Z', false);
      mk('r5', 'completed', '2026-01-05T00:00:00Z', false);
      fs.mkdirSync(path.join(store, 'runs', 'junk'));
      const runs = await listModelRuns(store);
      assert.deepEqual(runs.map((r) => r.id), ['r2', 'r1']);
      assert.equal(runs[1].name, 'First');
      assert.equal(runs[1].testMacroF1, 0.5);
      assert.equal(runs[0].bestValMacroF1, 0.4);
      assert.deepEqual(await listModelRuns(path.join(store, 'nope')), []);
    } finally {
      fs.rmSync(store, { recursive: true, force: true });
    }
  });

  it('accepts tree items, ids and folders as a run argument', () => {
    assert.equal(runIdFromArg('20260101-x'), '20260101-x');
    assert.equal(runIdFromArg('/ws/.fewshot/runs/20260101-x'), '20260101-x');
    assert.equal(runIdFromArg({ runId: 'a' }), 'a');
    assert.equal(runIdFromArg({ id: 'b', label: 'x' }), 'b');
    assert.equal(runIdFromArg({ run: { id: 'c' } }), 'c');
    assert.equal(runIdFromArg({ fsPath: '/ws/.fewshot/runs/d' }), 'd');
    assert.equal(runIdFromArg(undefined), undefined);
    assert.equal(runIdFromArg({}), undefined);
  });
});

describe('predict: formatting (src/extension/predict/format.ts)', () => {
  const pred = { label: 'sports', probabilities: [{ label: 'weather', p: 0.05 }, { label: 'sports', p: 0.9134 }, { label: 'cooking', p: 0.0366 }, { label: 'x', p: 0 }] };
  it('shows the top 3 inline and copies "label (p)"', () => {
    assert.equal(inlineText(pred), 'sports 0.91 · weather 0.05 · cooking 0.04');
    assert.equal(copyText(pred), 'sports (0.91)');
    assert.equal(formatP(0.999), '>0.99');
    assert.equal(formatP(0.001), '<0.01');
  });
  it('shows the decided label first inline when a recall threshold or abstaining chose it', () => {
    const probabilities = [{ label: 'respiratory', p: 0.72 }, { label: 'cardiology', p: 0.21 }, { label: 'gastro', p: 0.06 }, { label: 'renal', p: 0.01 }];
    assert.equal(inlineText({ label: 'cardiology', probabilities }), 'cardiology 0.21 · respiratory 0.72 · gastro 0.06');
    assert.equal(copyText({ label: 'cardiology', probabilities }), 'cardiology (0.21)');
    assert.equal(inlineText({ label: 'uncertain', probabilities }), 'uncertain · respiratory 0.72 · cardiology 0.21 · gastro 0.06');
  });
  it('writes CSV with quoting', () => {
    assert.equal(csvField('a,b'), '"a,b"');
    assert.equal(csvField('say "hi"'), '"say ""hi"""');
    assert.equal(csvField('plain'), 'plain');
    const csv = linesToCsv([{ line: 3, text: 'goal, then "win"', prediction: pred }]);
    assert.equal(csv, 'line,text,label,probability\r\n3,"goal, then ""win""",sports,0.9134\r\n');
  });
  it('builds a curl command with the JSON body', () => {
    assert.equal(curlExample('http://127.0.0.1:5000', "it's fine"), `curl -s -X POST http://127.0.0.1:5000/predict -H 'Content-Type: application/json' -d '{"text":"it'\\''s fine"}'`);
    assert.match(curlExample('http://h:1', 'x', 'tok'), /-H 'Authorization: Bearer tok'/);
  });
});

describe('predict: localisation', () => {
  it('has a Simplified Chinese string for every vscode.l10n.t() text', () => {
    const src = ['index.ts', 'images.ts'].map((f) => fs.readFileSync(path.join(repo, 'src/extension/predict', f), 'utf8')).join('\n');
    const zh = JSON.parse(fs.readFileSync(path.join(repo, 'src/extension/predict/l10n.zh-cn.json'), 'utf8')) as Record<string, string>;
    const keys = [...src.matchAll(/\bt\(\s*'((?:[^'\\]|\\.)*)'/g)].map((m) => m[1].replace(/\\'/g, "'"));
    assert.ok(keys.length > 30, `found only ${keys.length} strings`);
    const missing = keys.filter((k) => !(k in zh));
    assert.deepEqual(missing, []);
    for (const k of keys) {
      const placeholders = (x: string) => (x.match(/\{\d\}/g) ?? []).sort().join();
      assert.equal(placeholders(zh[k]), placeholders(k), `placeholders differ in "${k}"`);
    }
  });
});

describe('predict: warm predictor child (dist/predictor.js)', function () {
  this.timeout(60000);
  let tiny: TinyModel;
  before(async function () {
    if (!fs.existsSync(predictorJs)) throw new Error(`${predictorJs} is missing: run node scripts/build.mjs`);
    tiny = await makeTinyModel();
  });
  after(() => { tiny?.predictor.dispose(); tiny?.cleanup(); });

  const make = (opts: Partial<ConstructorParameters<typeof WarmPredictor>[0]> = {}, script = predictorJs) => {
    const pids: number[] = [];
    const warm = new WarmPredictor({
      launch: (runDir, onExit) => {
        const c = launchPredictor(runDir, { predictorScript: script, onExit: (i) => onExit(i.lastLog) });
        void c.ready.then((i) => pids.push(i.pid), () => undefined);
        return c;
      },
      ...opts,
    });
    return { warm, pids };
  };

  it('keeps one child warm across predictions and matches in-process predictions', async () => {
    const { warm, pids } = make();
    try {
      const texts = ['the striker scored a goal', 'bake bread with butter'];
      const a = await warm.predict(tiny.runDir, texts);
      const b = await warm.predict(tiny.runDir, ['fog and showers']);
      assert.equal(a.launched, true);
      assert.equal(b.launched, false);
      assert.equal(warm.launches, 1);
      assert.deepEqual(a.predictions, await tiny.predictor.predict(texts));
      assert.equal(b.predictions[0].label, 'weather');
      assert.equal(new Set(pids).size, 1);
    } finally {
      warm.dispose();
    }
  });

  it('restarts the child when the run changes', async () => {
    const other = fs.mkdtempSync(path.join(os.tmpdir(), 'fewshot-run2-'));
    fs.cpSync(tiny.runDir, other, { recursive: true });
    const { warm, pids } = make();
    try {
      await warm.predict(tiny.runDir, ['rain']);
      const first = pids[0];
      const r = await warm.predict(other, ['bake bread']);
      assert.equal(r.launched, true);
      assert.equal(r.info.runDir, other);
      assert.equal(warm.launches, 2);
      assert.equal(warm.activeRunDir, other);
      // The old child goes away.
      await until(() => { try { process.kill(first, 0); return false; } catch { return true; } });
    } finally {
      warm.dispose();
      fs.rmSync(other, { recursive: true, force: true });
    }
  });

  it('relaunches transparently after the child was killed', async () => {
    const { warm, pids } = make();
    try {
      await warm.predict(tiny.runDir, ['rain']);
      const first = pids[0];
      process.kill(first, 'SIGKILL');
      // Wait for the exit to be seen (visible state, no fixed sleep).
      while (warm.running) await new Promise((r) => setTimeout(r, 20));
      const r = await warm.predict(tiny.runDir, ['snow storm']);
      assert.equal(r.launched, true);
      assert.equal(r.predictions[0].label, 'weather');
      assert.equal(warm.launches, 2);
      assert.notEqual(pids[1], first);
    } finally {
      warm.dispose();
    }
  });

  it('a model whose encoder cannot load is a clear error, not a hang', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fewshot-badenc-'));
    try {
      fs.mkdirSync(path.join(dir, 'model'), { recursive: true });
      const model = JSON.parse(fs.readFileSync(path.join(tiny.runDir, 'model', 'head.json'), 'utf8'));
      model.encoder = { id: 'hf:Xenova/not-cached-model', requested: 'hf:Xenova/not-cached-model', dim: 1024, reason: 'test' };
      fs.writeFileSync(path.join(dir, 'model', 'head.json'), JSON.stringify(model));
      const { warm } = make({ readyTimeoutMs: 30000 });
      try {
        await assert.rejects(warm.predict(dir, ['hello']), (e: unknown) => {
          assert.ok(e instanceof WarmPredictorError);
          assert.equal(e.kind, 'load');
          assert.match(e.message, /not-cached-model/);
          return true;
        });
      } finally {
        warm.dispose();
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('times out a child that never loads, and kills it', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fewshot-stuck-'));
    const stuck = path.join(dir, 'stuck.js');
    // A "predictor" that says ready but never answers the load request.
    fs.writeFileSync(stuck, `process.send({type:'ready',protocol:${TRAINER_PROTOCOL_VERSION},pid:process.pid}); process.on('message',()=>{}); setInterval(()=>{},1000);`);
    const { warm } = make({ readyTimeoutMs: 1500 }, stuck);
    try {
      await assert.rejects(warm.predict(tiny.runDir, ['x']), (e: unknown) => {
        assert.ok(e instanceof WarmPredictorError);
        assert.equal(e.kind, 'load-timeout');
        assert.equal(e.failures, 1);
        return true;
      });
      assert.equal(warm.running, false);
    } finally {
      warm.dispose();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reports a child that keeps crashing', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fewshot-crash-'));
    const crash = path.join(dir, 'crash.js');
    // Loads fine, dies on every predict request.
    fs.writeFileSync(crash, `process.send({type:'ready',protocol:${TRAINER_PROTOCOL_VERSION},pid:process.pid}); process.on('message',(m)=>{ if(m.type==='load') process.send({type:'loaded',runDir:m.runDir,labels:['a','b'],encoder:'x',loadMs:1}); else process.exit(3); });`);
    const { warm } = make({}, crash);
    try {
      await assert.rejects(warm.predict(tiny.runDir, ['x']), (e: unknown) => {
        assert.ok(e instanceof WarmPredictorError);
        assert.equal(e.kind, 'crash');
        assert.ok(e.failures >= 2, `failures ${e.failures}`);
        assert.match(e.message, /exited with code 3/);
        return true;
      });
      assert.equal(warm.launches, 2, 'one transparent relaunch before giving up');
    } finally {
      warm.dispose();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('predict: `fewshot serve` child (dist/cli.js)', function () {
  this.timeout(60000);
  let tiny: TinyModel;
  before(async function () {
    if (!fs.existsSync(cliJs)) throw new Error(`${cliJs} is missing: run node scripts/build.mjs`);
    tiny = await makeTinyModel();
  });
  after(() => { tiny?.predictor.dispose(); tiny?.cleanup(); });

  it('starts on a free port, answers, and stops gracefully', async () => {
    const child = await startServeChild({ cliPath: cliJs, runDir: tiny.runDir, host: '127.0.0.1', port: 0 });
    try {
      assert.match(child.url, /^http:\/\/127\.0\.0\.1:\d+$/);
      assert.equal(await checkHealth(child.url), true);
      const res = await fetch(`${child.url}/predict`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ text: 'heavy rain and wind' }) });
      assert.equal(res.status, 200);
      assert.equal(((await res.json()) as { label: string }).label, 'weather');
    } finally {
      await child.stop();
    }
    assert.equal(child.exited, true);
    assert.equal(await checkHealth(child.url), false);
  });

  it('passes a token through the environment for a non-loopback host', async () => {
    const child = await startServeChild({ cliPath: cliJs, runDir: tiny.runDir, host: '0.0.0.0', port: 0, token: 'tok-123' });
    try {
      assert.match(child.url, /^http:\/\/127\.0\.0\.1:\d+$/);
      assert.equal((await fetch(`${child.url}/model`)).status, 401);
      assert.equal((await fetch(`${child.url}/model`, { headers: { Authorization: 'Bearer tok-123' } })).status, 200);
    } finally {
      await child.stop();
    }
  });

  it('a busy port fails fast with portInUse', async () => {
    const first = await startServeChild({ cliPath: cliJs, runDir: tiny.runDir, host: '127.0.0.1', port: 0 });
    try {
      await assert.rejects(startServeChild({ cliPath: cliJs, runDir: tiny.runDir, host: '127.0.0.1', port: first.port }), (e: unknown) => {
        assert.ok(e instanceof ServeStartError);
        assert.equal(e.portInUse, true);
        assert.match(e.message, /already in use/);
        return true;
      });
    } finally {
      await first.stop();
    }
  });
  it('`fewshot serve --help` says to pass the token in FEWSHOT_SERVE_TOKEN (argv shows in ps), and documents the new limits', async () => {
    const help = await new Promise<string>((resolve) => {
      const c = spawn(process.execPath, [cliJs, 'serve', '--help'], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      c.stdout.on('data', (d) => (out += d));
      c.on('close', () => resolve(out));
    });
    assert.match(help, /FEWSHOT_SERVE_TOKEN/);
    assert.match(help, /`ps`/);
    assert.match(help, /--max-request-chars <n>/);
    assert.match(help, /--allow-origin <origin>/);
  });

  it('passes the character cap and allowed origins to the child', async () => {
    const child = await startServeChild({ cliPath: cliJs, runDir: tiny.runDir, host: '127.0.0.1', port: 0, maxRequestChars: 10, allowedOrigins: ['http://localhost:3000'] });
    try {
      const big = await fetch(`${child.url}/predict`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ text: 'heavy rain and wind' }) });
      assert.equal(big.status, 413);
      assert.match(((await big.json()) as { error: string }).error, /limit is 10 per request/);
      const cors = await fetch(`${child.url}/model`, { headers: { Origin: 'http://localhost:3000' } });
      assert.equal(cors.status, 200);
      assert.equal(cors.headers.get('access-control-allow-origin'), 'http://localhost:3000');
      assert.equal((await fetch(`${child.url}/model`, { headers: { Origin: 'http://evil.example.com' } })).status, 403);
    } finally {
      await child.stop();
    }
  });

  it('the CLI sends a typed listening message over IPC, and stops when its parent disconnects', async () => {
    const c = spawn(process.execPath, [cliJs, 'serve', '--run', tiny.runDir, '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe', 'ipc'], serialization: 'json' });
    const exited = new Promise<number | null>((resolve) => c.on('exit', (code) => resolve(code)));
    try {
      const m = await new Promise<ServeToParent>((resolve, reject) => {
        c.on('message', (x) => { if (isServeMessage(x)) resolve(x); });
        c.on('exit', (code) => reject(new Error(`exited ${code} before listening`)));
      });
      assert.equal(m.type, 'listening');
      if (m.type !== 'listening') return;
      assert.equal(m.protocol, SERVE_PROTOCOL_VERSION);
      assert.match(m.url, /^http:\/\/127\.0\.0\.1:\d+$/);
      assert.equal(m.url, `http://127.0.0.1:${m.port}`);
      assert.equal(m.runId, path.basename(tiny.runDir));
      assert.equal(m.pid, c.pid);
      assert.equal(await checkHealth(m.url), true);
      c.disconnect();
      assert.equal(await exited, 0);
    } finally {
      if (c.exitCode === null) c.kill('SIGKILL');
    }
  });

  it('start-up is the typed message, not a URL scraped from stdout; a typed serve-error says why', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fewshot-fake-serve-'));
    try {
      // Prints a decoy URL but announces another one over IPC: the parent must trust the message.
      const liar = path.join(dir, 'liar.js');
      fs.writeFileSync(liar, `const http=require('http');const s=http.createServer((q,r)=>r.end('{}'));s.listen(0,'127.0.0.1',()=>{console.log('Serving at http://127.0.0.1:1');process.send({type:'listening',protocol:${SERVE_PROTOCOL_VERSION},url:'http://127.0.0.1:'+s.address().port,host:'127.0.0.1',port:s.address().port,runId:'x',pid:process.pid});});process.on('SIGTERM',()=>process.exit(0));`);
      const child = await startServeChild({ cliPath: liar, runDir: tiny.runDir, host: '127.0.0.1', port: 0 });
      try {
        assert.notEqual(child.port, 1);
        assert.equal(child.url, `http://127.0.0.1:${child.port}`);
      } finally {
        await child.stop();
      }
      // Only prints a URL: never "started" (fails at the start timeout instead of trusting stdout).
      const mute = path.join(dir, 'mute.js');
      fs.writeFileSync(mute, `console.log('Serving at http://127.0.0.1:5000');setInterval(()=>{},1000);`);
      await assert.rejects(startServeChild({ cliPath: mute, runDir: tiny.runDir, host: '127.0.0.1', port: 0, startTimeoutMs: 1500 }), /did not start within/);
      const busy = path.join(dir, 'busy.js');
      fs.writeFileSync(busy, `process.send({type:'serve-error',protocol:${SERVE_PROTOCOL_VERSION},message:'Port 5000 on 127.0.0.1 is already in use.',fix:'Choose another port.',code:'serve-port-in-use'},()=>process.exit(1));`);
      await assert.rejects(startServeChild({ cliPath: busy, runDir: tiny.runDir, host: '127.0.0.1', port: 5000 }), (e: unknown) => {
        assert.ok(e instanceof ServeStartError);
        assert.equal(e.portInUse, true);
        assert.match(e.message, /already in use\.\nChoose another port\./);
        return true;
      });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
