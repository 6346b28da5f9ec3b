/**
 * Fine-tuning, TypeScript side: interpreter discovery order, the worker's JSON-lines parser and the
 * parent's handling of the protocol (mismatch, error, crash, cancel) against small Python workers
 * written by the test (real child processes of the machine's python3).
 * The end-to-end fine-tune with the real worker lives in finetune-e2e.test.ts.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { FINETUNE_PROTOCOL_VERSION, type WorkerMessage } from '../../src/protocol/finetune';
import { findPython, pythonCandidates, probePython, assertFinetuneReady, whichOnPath, venvPython } from '../../src/core/finetune/python';
import { JsonLineParser, runWorker, workerArgs } from '../../src/core/finetune/worker';
import { MARKER as MARKER_NAME, requirementsHash } from '../../src/core/finetune/setup';
import { resolveConfig, unusedSettings } from '../../src/core/config';
import { isFewShotError } from '../../src/core/errors';
import { rmrf, tempDir } from './helpers/trainerFixtures';

function fakeInterpreter(file: string): string {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, '#!/bin/sh\nexit 0\n', { mode: 0o755 });
  return file;
}

function parseAll(chunks: (string | Buffer)[]): { messages: WorkerMessage[]; texts: string[] } {
  const messages: WorkerMessage[] = [];
  const texts: string[] = [];
  const p = new JsonLineParser((m) => messages.push(m), (t) => texts.push(t));
  for (const c of chunks) p.push(c);
  p.end();
  return { messages, texts };
}

const python3 = whichOnPath(process.platform === 'win32' ? 'python' : 'python3');

describe('finetune: interpreter discovery', () => {
  let dir: string;
  beforeEach(() => { dir = tempDir('ft-py'); });
  afterEach(() => rmrf(dir));

  it('follows FEWSHOT_PYTHON, the setting, the setup venv, the Python extension, then PATH', function () {
    if (process.platform === 'win32') this.skip();
    const envPy = fakeInterpreter(path.join(dir, 'env', 'python'));
    const setting = fakeInterpreter(path.join(dir, 'setting', 'python'));
    const venv = path.join(dir, 'venv');
    fakeInterpreter(venvPython(venv));
    const ext = fakeInterpreter(path.join(dir, 'ext', 'python'));
    const onPath = fakeInterpreter(path.join(dir, 'bin', 'python3'));
    const base = { PATH: path.join(dir, 'bin'), FEWSHOT_VENV: venv };
    const all = pythonCandidates({ env: { ...base, FEWSHOT_PYTHON: envPy }, settingPath: setting, extensionPath: ext });
    assert.deepEqual(all.map((c) => c.source), ['FEWSHOT_PYTHON', 'setting', 'venv', 'python-extension', 'PATH']);
    assert.deepEqual(all.map((c) => c.path), [envPy, setting, venvPython(venv), ext, onPath]);

    assert.equal(findPython({ env: { ...base, FEWSHOT_PYTHON: envPy }, settingPath: setting, extensionPath: ext }).path, envPy);
    assert.equal(findPython({ env: base, settingPath: setting, extensionPath: ext }).path, setting);
    assert.equal(findPython({ env: base, extensionPath: ext }).source, 'venv');
    fs.rmSync(path.join(venv), { recursive: true });
    assert.equal(findPython({ env: base, extensionPath: ext }).path, ext);
    assert.equal(findPython({ env: base }).path, onPath);
    // FEWSHOT_HOME moves the default venv
    fakeInterpreter(venvPython(path.join(dir, 'home', 'venv')));
    assert.equal(findPython({ env: { PATH: base.PATH, FEWSHOT_HOME: path.join(dir, 'home') } }).path, venvPython(path.join(dir, 'home', 'venv')));
  });

  it('refuses an explicit interpreter that does not exist instead of silently using another, and says what to do when none exists', () => {
    const missing = path.join(dir, 'nope', 'python');
    assert.throws(() => findPython({ env: { PATH: '', FEWSHOT_VENV: path.join(dir, 'v'), FEWSHOT_PYTHON: missing } }),
      (e: unknown) => isFewShotError(e) && e.message.includes(missing) && /FEWSHOT_PYTHON/.test(e.message) && e.opts.code === 'python-missing');
    assert.throws(() => findPython({ env: { PATH: '', FEWSHOT_VENV: path.join(dir, 'v') }, settingPath: missing }),
      (e: unknown) => isFewShotError(e) && /fewshot\.python\.path/.test(e.message + (e.opts.fix ?? '')));
    assert.throws(() => findPython({ env: { PATH: '', FEWSHOT_VENV: path.join(dir, 'v') } }),
      (e: unknown) => isFewShotError(e) && /fewshot setup/.test(e.opts.fix ?? ''));
  });

  it('probes a real interpreter in one child process and names what is missing', async function () {
    this.timeout(120_000);
    if (!python3) this.skip();
    const probe = await probePython({ path: python3!, source: 'PATH' });
    assert.match(probe.version, /^3\.\d+\.\d+$/);
    assert.ok(probe.executable);
    assert.equal(typeof probe.cuda.available, 'boolean');
    assert.deepEqual(probe.missing, (['torch', 'transformers', 'onnx'] as const).filter((k) => !probe[k]));
    if (probe.missing.length) {
      assert.throws(() => assertFinetuneReady(probe), (e: unknown) => isFewShotError(e)
        && e.message.includes(`Python ${probe.version} found at ${python3}`) && probe.missing.every((m) => e.message.includes(m)) && /fewshot setup/.test(e.opts.fix ?? ''));
    } else {
      assert.doesNotThrow(() => assertFinetuneReady(probe));
    }
  });

  it('reports an interpreter that cannot run', async () => {
    const broken = path.join(dir, 'broken');
    fs.writeFileSync(broken, '#!/bin/sh\necho "boom: cannot start" >&2\nexit 3\n', { mode: 0o755 });
    await assert.rejects(probePython({ path: broken, source: 'setting' }), (e: unknown) => isFewShotError(e) && e.message.includes(broken) && /boom: cannot start/.test(e.message) && e.opts.code === 'python-broken');
  });
});

describe('finetune: JSON-lines parser', () => {
  const started = { type: 'log', protocol: 1, level: 'info', message: '日本語 ok' };

  it('joins lines split across chunks, also inside a multi-byte character', () => {
    const bytes = Buffer.from(JSON.stringify(started) + '\n' + JSON.stringify({ type: 'cancelled', protocol: 1 }) + '\n', 'utf8');
    const cut = bytes.indexOf(Buffer.from('本')) + 1; // inside the 3-byte character
    const { messages, texts } = parseAll([bytes.subarray(0, 5), bytes.subarray(5, cut), bytes.subarray(cut)]);
    assert.deepEqual(texts, []);
    assert.deepEqual(messages, [started, { type: 'cancelled', protocol: 1 }]);
  });

  it('passes non-JSON lines, JSON that is not a message, and CRLF lines through as text; keeps a last line without newline', () => {
    const { messages, texts } = parseAll([
      'Loading weights:   0%\rLoading weights: 100%\r\n', '{"not":"a message"}\n', '{"type":"epoch"}\n', '{broken json}\n', '\n',
      '{"type":"log","protocol":1,"level":"warn","message":"x"}\r\n', '{"type":"done","protocol":1', ',"bestEpoch":2}',
    ]);
    assert.deepEqual(texts, ['Loading weights: 100%', '{"not":"a message"}', '{"type":"epoch"}', '{broken json}']);
    assert.deepEqual(messages.map((m) => m.type), ['log', 'done']);
    assert.equal((messages[1] as { bestEpoch: number }).bestEpoch, 2);
  });

  it('launches one process per GPU through torch.distributed.run', () => {
    assert.deepEqual(workerArgs('/r/job.json'), ['-m', 'fewshot_worker', '--job', '/r/job.json']);
    assert.deepEqual(workerArgs('/r/job.json', 2), ['-m', 'torch.distributed.run', '--standalone', '--nproc_per_node', '2', '-m', 'fewshot_worker', '--job', '/r/job.json']);
  });
});

/** A stand-in worker package (fewshot_worker/__main__.py) that runs `body` after reading the job. */
function fakeWorker(root: string, body: string): string {
  const pkg = path.join(root, 'pkg', 'fewshot_worker');
  fs.mkdirSync(pkg, { recursive: true });
  fs.writeFileSync(path.join(pkg, '__init__.py'), '');
  fs.writeFileSync(path.join(pkg, '__main__.py'), `import json, os, sys, time, signal, threading
job = json.load(open(sys.argv[sys.argv.index('--job') + 1]))
def send(**m):
    m.setdefault('protocol', ${FINETUNE_PROTOCOL_VERSION}); sys.stdout.write(json.dumps(m) + '\\n'); sys.stdout.flush()
${body}
`);
  const jobFile = path.join(root, 'job.json');
  fs.writeFileSync(jobFile, JSON.stringify({ protocol: FINETUNE_PROTOCOL_VERSION, labels: ['a', 'b'], train: [], val: [], test: [], outputDir: root, settings: {} }));
  return jobFile;
}

const DEVICE = "{'kind': 'cpu', 'name': 'CPU', 'count': 1, 'precision': 'fp32', 'reason': 'test'}";
const STARTED = `send(type='started', pid=os.getpid(), device=${DEVICE}, versions={}, model={'name': 'm', 'layers': 1, 'parameters': 1})`;

describe('finetune: worker process', function () {
  this.timeout(60_000);
  let dir: string;
  before(function () { if (!python3) this.skip(); });
  beforeEach(() => { dir = tempDir('ft-worker'); });
  afterEach(() => rmrf(dir));
  const run = (body: string, o: Partial<Parameters<typeof runWorker>[0]> = {}) => {
    const jobFile = fakeWorker(dir, body);
    return runWorker({ python: python3!, jobFile, packageDir: path.join(dir, 'pkg'), ...o });
  };

  it('maps messages in order and resolves with done; other lines are text', async () => {
    const seen: string[] = [];
    const texts: string[] = [];
    const done = await run(`${STARTED}
print('a plain line')
sys.stderr.write('a warning\\n')
send(type='stage', stage=1, name='head only', trainableParameters=10, totalParameters=100, epochs=1, cachedLayers=0)
send(type='epoch', epoch=1, stage=1, epochs=1, loss=0.5, valLoss=0.4, valMacroF1=0.75, valAccuracy=0.8, perClassRecall={'a': 1, 'b': 0.5}, samplesPerSecond=10, elapsedMs=5, best=True)
send(type='done', bestEpoch=1, epochsRun=1, bestValMacroF1=0.75, testProbabilities=[], onnx='onnx/model.onnx', onnxMaxAbsDiff=0, stages=[])`, {
      onMessage: (m) => seen.push(m.type), onText: (l, s) => texts.push(`${s}:${l}`),
    });
    assert.deepEqual(seen, ['started', 'stage', 'epoch', 'done']);
    assert.deepEqual(texts.sort(), ['stderr:a warning', 'stdout:a plain line']);
    assert.equal(done.bestValMacroF1, 0.75);
  });

  it('stops a worker that does not exit after its result, and keeps the result', async () => {
    const t0 = Date.now();
    const done = await run(`signal.signal(signal.SIGTERM, signal.SIG_IGN)
${STARTED}
send(type='done', bestEpoch=2, epochsRun=3, bestValMacroF1=0.5, testProbabilities=[], onnx='onnx/model.onnx', onnxMaxAbsDiff=0, stages=[])
while True: time.sleep(0.05)`, { exitGraceMs: 200 });
    assert.equal(done.bestEpoch, 2);
    assert.ok(Date.now() - t0 < 5000);
  });

  it('keeps the result of a worker that exits on SIGTERM after it', async () => {
    const done = await run(`${STARTED}
send(type='done', bestEpoch=1, epochsRun=1, bestValMacroF1=0.5, testProbabilities=[], onnx='onnx/model.onnx', onnxMaxAbsDiff=0, stages=[])
while True: time.sleep(0.05)`, { exitGraceMs: 100 });
    assert.equal(done.epochsRun, 1);
  });

  it('refuses a worker of another protocol version', async () => {
    await assert.rejects(run(`send(type='started', protocol=${FINETUNE_PROTOCOL_VERSION + 1}, pid=os.getpid(), device=${DEVICE}, versions={}, model={})
time.sleep(30)`), (e: unknown) => isFewShotError(e) && e.opts.code === 'worker-protocol' && e.message.includes(`version ${FINETUNE_PROTOCOL_VERSION + 1}`) && e.message.includes(`version ${FINETUNE_PROTOCOL_VERSION}`));
  });

  it('turns an out-of-memory error into a fix that names a smaller batch', async () => {
    await assert.rejects(run(`${STARTED}
send(type='error', message='CUDA out of memory', code='oom')
sys.exit(1)`, { batchSize: 8 }), (e: unknown) => isFewShotError(e) && /out of memory/.test(e.message) && /--batch-size 4/.test(e.opts.fix ?? '') && e.opts.code === 'worker-oom');
  });

  it('reports a crash (exit without an error message) with the last 20 stderr lines', async () => {
    await assert.rejects(run(`${STARTED}
for i in range(30): sys.stderr.write('trace line %d\\n' % i)
os._exit(7)`), (e: unknown) => {
      if (!isFewShotError(e) || e.opts.code !== 'worker-crash') return false;
      const lines = (e.opts.detail ?? '').split('\n');
      return /exited with code 7/.test(e.message) && lines.length === 20 && lines[0] === 'trace line 10' && lines[19] === 'trace line 29';
    });
  });

  it('cancels a cooperative worker through {"type":"cancel"} on stdin', async () => {
    const ac = new AbortController();
    const t0 = { at: 0 };
    const p = run(`${STARTED}
for line in sys.stdin:
    if json.loads(line).get('type') == 'cancel':
        send(type='cancelled'); sys.exit(0)`, { signal: ac.signal, onStarted: () => { t0.at = Date.now(); ac.abort(); } });
    await assert.rejects(p, (e: unknown) => e instanceof Error && e.name === 'AbortError');
    assert.ok(Date.now() - t0.at < 1000, `cancelled in ${Date.now() - t0.at} ms`);
  });

  it('ends a worker that ignores cancel and SIGTERM within 2 s (SIGKILL)', async () => {
    const ac = new AbortController();
    let at = 0;
    const p = run(`signal.signal(signal.SIGTERM, signal.SIG_IGN)
sys.stdin.close()
${STARTED}
while True: time.sleep(0.05)`, { signal: ac.signal, onStarted: () => { at = Date.now(); ac.abort(); } });
    await assert.rejects(p, (e: unknown) => e instanceof Error && e.name === 'AbortError');
    const ms = Date.now() - at;
    assert.ok(ms >= 1900 && ms < 2600, `ended after ${ms} ms`);
  });
});

describe('finetune: settings', () => {
  let dir: string;
  before(() => { dir = tempDir('ft-cfg'); fs.writeFileSync(path.join(dir, 'config.json'), '{}'); });
  after(() => rmrf(dir));

  it('uses the seed\'s defaults (20 epochs, lr 2e-5, batch 8, patience 5) unless given, and resolves the model folder', () => {
    const c = resolveConfig({ dataset: 'd', method: 'finetune', finetune: { model: '.' } as never }, { cwd: dir });
    assert.equal(c.epochs, 20); assert.equal(c.learningRate, 2e-5); assert.equal(c.batchSize, 8); assert.equal(c.patience, 5);
    assert.deepEqual({ ...c.finetune, model: undefined }, { model: undefined, unfreezeTop: 3, fullFinetuneAbove: 500, headEpochs: 3, precision: 'auto', device: 'auto', weightDecay: 0.01, warmupRatio: 0.1, maxLength: 128 });
    assert.equal(c.finetune!.model, dir);
    const d = resolveConfig({ dataset: 'd', method: 'finetune', epochs: 4, finetune: { model: 'bert-base-chinese', unfreezeTop: 1 } as never }, { cwd: dir });
    assert.equal(d.epochs, 4); assert.equal(d.finetune!.unfreezeTop, 1); assert.equal(d.finetune!.model, 'bert-base-chinese');
    assert.equal(resolveConfig({ dataset: 'd' }).epochs, 60); // quick defaults unchanged
  });

  it('refuses bad fine-tuning settings and quick-only settings', () => {
    assert.throws(() => resolveConfig({ dataset: 'd', method: 'finetune' }), /needs a model/);
    assert.throws(() => resolveConfig({ dataset: 'd', method: 'finetune', finetune: { model: 'bert', precision: 'fp8' } as never }), /precision "fp8"/);
    assert.throws(() => resolveConfig({ dataset: 'd', method: 'finetune', finetune: { model: path.join(dir, 'nothing-here') } as never }), /has no config\.json/);
    assert.deepEqual(unusedSettings('auto', { method: 'finetune', head: 'mlp', augment: 1, epochs: 3, finetune: { model: 'x' } as never }), ['head', 'augment']);
    assert.deepEqual(unusedSettings('auto', { finetune: { model: 'x' } as never }), ['finetune']);
  });

  it('hashes the requirements files for the setup marker (content-sensitive)', () => {
    const a = path.join(dir, 'requirements.txt');
    fs.writeFileSync(a, 'torch==2.15.0\n');
    const h1 = requirementsHash([a]);
    fs.writeFileSync(a, 'torch==2.15.1\n');
    assert.notEqual(requirementsHash([a]), h1);
    fs.writeFileSync(a, 'torch==2.15.0\n');
    assert.equal(requirementsHash([a]), h1);
  });
});

describe('finetune: setup (venv + requirements)', function () {
  this.timeout(180_000);
  let dir: string;
  before(function () { if (!python3) this.skip(); });
  beforeEach(() => { dir = tempDir('ft-setup'); });
  afterEach(() => rmrf(dir));

  it('creates the venv, runs pip on the requirements, skips when unchanged and reinstalls when they change', async () => {
    const { setupVenv, MARKER } = await import('../../src/core/finetune/setup');
    const req = path.join(dir, 'requirements.txt');
    // no packages: pip really runs (offline) on a requirements file that lists nothing
    fs.writeFileSync(req, '# the worker\'s requirements (none for this test)\n');
    const venvDir = path.join(dir, 'venv');
    const lines: string[] = [];
    const first = await setupVenv({ venvDir, requirements: req, basePython: python3, onLine: (l) => lines.push(l) });
    assert.deepEqual({ created: first.created, installed: first.installed }, { created: true, installed: true });
    assert.ok(fs.existsSync(first.python), first.python);
    assert.equal(fs.readFileSync(path.join(venvDir, MARKER), 'utf8').trim(), requirementsHash([req]));
    assert.ok(lines.some((l) => /^Creating the virtual environment/.test(l)) && lines.some((l) => /^Installing requirements\.txt/.test(l)), lines.join('\n'));
    lines.length = 0;
    const again = await setupVenv({ venvDir, requirements: req, basePython: python3, onLine: (l) => lines.push(l) });
    assert.deepEqual({ created: again.created, installed: again.installed }, { created: false, installed: false });
    assert.ok(lines.some((l) => /already installed/.test(l)));
    fs.appendFileSync(req, '# changed\n');
    const changed = await setupVenv({ venvDir, requirements: req, basePython: python3 });
    assert.deepEqual({ created: changed.created, installed: changed.installed }, { created: false, installed: true });
  });

  it('is cancellable and names a missing requirements file', async () => {
    const { setupVenv } = await import('../../src/core/finetune/setup');
    await assert.rejects(setupVenv({ venvDir: path.join(dir, 'v'), requirements: path.join(dir, 'missing.txt'), basePython: python3 }),
      (e: unknown) => isFewShotError(e) && e.message.includes(path.join(dir, 'missing.txt')));
    const req = path.join(dir, 'requirements.txt');
    fs.writeFileSync(req, '\n');
    const ac = new AbortController();
    let t0 = 0;
    // abort once `python -m venv` is running (it is spawned right after this line is reported)
    const p = setupVenv({ venvDir: path.join(dir, 'v'), requirements: req, basePython: python3, signal: ac.signal, onLine: () => { t0 = Date.now(); setImmediate(() => ac.abort()); } });
    await assert.rejects(p, (e: unknown) => e instanceof Error && e.name === 'AbortError');
    assert.ok(Date.now() - t0 < 2500, `stopped after ${Date.now() - t0} ms`);
    assert.ok(!fs.existsSync(path.join(dir, 'v', MARKER_NAME)));
  });
});

describe('finetune: CLI progress lines', () => {
  it('show the stage, samples/s and the device of an epoch', async () => {
    const { pointText } = await import('../../src/cli/progress');
    const text = pointText({
      epoch: 2, unit: 'epoch', label: 'stage 2 · top 3 layers', loss: 0.5, valLoss: 0.4, valMacroF1: 0.75, valAccuracy: 0.8,
      perClassRecall: {}, elapsedMs: 2000, stage: 2, samplesPerSecond: 123.45, device: 'cuda · NVIDIA H200', deviceMemoryMiB: 2048.4,
    }, 20);
    assert.equal(text, 'epoch 2/20 · stage 2 · top 3 layers · loss 0.5000 · val loss 0.4000 · val macro-F1 0.7500 · val acc 0.8000 · 123.5 samples/s · cuda · NVIDIA H200 2048 MiB · about 18 s left');
  });
});
