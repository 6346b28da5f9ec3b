import * as assert from 'node:assert/strict';
import { fork } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { launchPredictor, launchTrainer, PredictorError, type TrainerResult } from '../../src/trainer/launch';
import { DEFAULT_CONFIG } from '../../src/core/config';
import { TRAINER_PROTOCOL_VERSION, type PredictorToParent, type TrainerToParent } from '../../src/protocol/trainer';
import type { EpochMetrics, RunRecord, TestPrediction, TrainConfig } from '../../src/protocol/run';
import { buildChildBundles, bundleEnv, readJsonl, rmrf, tempDir, writeCsvDataset } from './helpers/trainerFixtures';

describe('trainer child (launchTrainer)', function () {
  this.timeout(120_000);
  let dir: string;
  let csv: string;
  let bins: ReturnType<typeof buildChildBundles>;
  before(() => {
    bins = buildChildBundles();
    dir = tempDir('trainer');
    csv = writeCsvDataset(path.join(dir, 'ds'), 15, 6);
  });
  after(() => rmrf(dir));

  const config = (over: Partial<TrainConfig> = {}): TrainConfig => ({ ...DEFAULT_CONFIG, dataset: csv, encoder: 'hashing:1024', epochs: 8, ...over });
  const readRecord = (store: string, id: string): RunRecord => JSON.parse(fs.readFileSync(path.join(store, 'runs', id, 'run.json'), 'utf8'));

  it('runs a training job in a child process and forwards typed messages', async () => {
    const store = path.join(dir, 'ok');
    const msgs: TrainerToParent[] = [];
    const h = launchTrainer({ config: config({ patience: 0 }), storeDir: store }, { onMessage: (m) => msgs.push(m), trainerScript: bins.trainer, env: bundleEnv });
    const res = await h.done;
    assert.equal(res.status, 'completed', res.error + '\n' + res.lastLog.join('\n'));
    assert.equal(res.exitCode, 0);
    assert.equal(msgs[0].type, 'ready');
    assert.equal((msgs[0] as { pid: number }).pid, h.pid);
    assert.equal(msgs[1].type, 'started');
    const done = msgs.find((m): m is Extract<TrainerToParent, { type: 'done' }> => m.type === 'done');
    assert.ok(done);
    assert.equal(h.runId, done.runId);
    assert.equal(res.runDir, done.runDir);
    // head auto: one point per CV-scored configuration (IDF on/off × C 1, 10, 100), not per --epochs
    const points = msgs.filter((m): m is Extract<TrainerToParent, { type: 'epoch' }> => m.type === 'epoch');
    assert.equal(points.length, 6);
    assert.ok(points.every((m) => m.unit === 'configuration' && m.totalEpochs === 6 && m.metrics.unit === 'configuration'));
    const rec = readRecord(store, h.runId!);
    assert.equal(rec.status, 'completed');
    assert.equal(rec.algorithm, 'fewshot-ensemble');
    assert.equal(rec.progress?.total, 6);
    assert.ok(res.lastLog.some((l) => l.includes('Encoder') || l.includes('encoder')), 'log lines are kept');
    assert.ok(res.lastLog.length <= 50);
  });

  it('a crashing child ends the run failed with the last log lines, and fixes run.json', async () => {
    const store = path.join(dir, 'crash');
    const msgs: TrainerToParent[] = [];
    const h = launchTrainer({ config: config({ patience: 0 }), storeDir: store }, {
      onMessage: (m) => msgs.push(m), trainerScript: bins.trainer, env: { ...bundleEnv, NODE_ENV: 'test', FEWSHOT_TEST_CRASH_AT: 'epoch:2' },
    });
    const res: TrainerResult = await h.done;
    assert.equal(res.status, 'failed');
    assert.equal(res.exitCode, 3);
    assert.match(res.error!, /exited with code 3/);
    assert.match(res.error!, /Last log lines/);
    assert.ok(res.lastLog.length > 0);
    assert.ok(h.runId, 'run id known from the started message');
    const rec = readRecord(store, h.runId!);
    assert.equal(rec.status, 'failed');
    assert.match(rec.error!.message, /exited with code 3/);
    assert.ok(readJsonl<EpochMetrics>(path.join(store, 'runs', h.runId!, 'metrics.jsonl')).length >= 1);
    const last = msgs[msgs.length - 1];
    assert.equal(last.type, 'error', 'the parent reports the crash as an error message');
  });

  it('the crash hook is ignored outside NODE_ENV=test', async () => {
    const store = path.join(dir, 'nocrash');
    const h = launchTrainer({ config: config({ epochs: 3, patience: 0 }), storeDir: store }, {
      onMessage: () => undefined, trainerScript: bins.trainer, env: { ...bundleEnv, NODE_ENV: 'production', FEWSHOT_TEST_CRASH_AT: 'epoch:2' },
    });
    assert.equal((await h.done).status, 'completed');
  });

  it('cancel() stops the child within about a second and the run ends cancelled', async () => {
    const store = path.join(dir, 'cancel');
    let epochAt = 0;
    const h = launchTrainer({ config: config({ epochs: 1000, patience: 0 }), storeDir: store }, {
      trainerScript: bins.trainer, env: bundleEnv,
      onMessage: (m) => { if (m.type === 'epoch' && m.metrics.epoch === 2) { epochAt = Date.now(); h.cancel(); } },
    });
    const res = await h.done;
    const took = Date.now() - epochAt;
    assert.equal(res.status, 'cancelled');
    assert.ok(epochAt > 0);
    assert.ok(took < 1000, `stopped ${took} ms after cancel`);
    const rec = readRecord(store, h.runId!);
    assert.equal(rec.status, 'cancelled');
    assert.ok(readJsonl<EpochMetrics>(path.join(store, 'runs', h.runId!, 'metrics.jsonl')).length < 1000);
  });

  it('cancel() during a tfjs head stops the child within a second', async () => {
    const store = path.join(dir, 'cancel-tfjs');
    let epochAt = 0;
    const h = launchTrainer({ config: config({ head: 'logreg', epochs: 1000, patience: 0, batchSize: 4 }), storeDir: store }, {
      trainerScript: bins.trainer, env: bundleEnv,
      onMessage: (m) => { if (m.type === 'epoch' && m.metrics.epoch === 2) { epochAt = Date.now(); h.cancel(); } },
    });
    const res = await h.done;
    const took = Date.now() - epochAt;
    assert.equal(res.status, 'cancelled');
    assert.ok(epochAt > 0);
    assert.ok(took < 1000, `stopped ${took} ms after cancel`);
    assert.notEqual(res.signal, 'SIGKILL', 'the child stopped by itself');
    assert.equal(readRecord(store, h.runId!).status, 'cancelled');
  });

  it('the parent refuses a trainer child of another protocol version, with a clear message', async () => {
    const fake = path.join(dir, 'old-trainer.js');
    fs.writeFileSync(fake, `process.send({ type: 'ready', protocol: 1, pid: process.pid });
process.on('message', (m) => { if (m.type === 'train') require('fs').writeFileSync(${JSON.stringify(path.join(dir, 'old-trainer-got-train'))}, ''); });
setInterval(() => {}, 1000);\n`);
    const msgs: TrainerToParent[] = [];
    const h = launchTrainer({ config: config(), storeDir: path.join(dir, 'old') }, { onMessage: (m) => msgs.push(m), trainerScript: fake });
    const res = await h.done;
    assert.equal(res.status, 'failed');
    assert.equal(res.error, `The trainer process (${fake}) speaks protocol version 1, this extension version ${TRAINER_PROTOCOL_VERSION}; it was stopped.`);
    assert.match(res.fix!, /Rebuild the extension/);
    const err = msgs.find((m): m is Extract<TrainerToParent, { type: 'error' }> => m.type === 'error');
    assert.equal(err?.message, res.error);
    assert.ok(!fs.existsSync(path.join(dir, 'old-trainer-got-train')), 'no request was sent to it');
  });

  it('the trainer child refuses a train request of another protocol version', async () => {
    const msgs: TrainerToParent[] = [];
    const child = fork(bins.trainer, [], { env: { ...process.env, ...bundleEnv }, stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
    const code = await new Promise<number | null>((resolve) => {
      child.on('message', (m: TrainerToParent) => {
        msgs.push(m);
        if (m.type === 'ready') child.send({ type: 'train', protocol: TRAINER_PROTOCOL_VERSION + 1, request: { config: config(), storeDir: path.join(dir, 'newer') } });
      });
      child.on('exit', resolve);
    });
    assert.equal(code, 1);
    const err = msgs.find((m): m is Extract<TrainerToParent, { type: 'error' }> => m.type === 'error');
    assert.equal(err?.message, `Trainer protocol mismatch: the parent speaks version ${TRAINER_PROTOCOL_VERSION + 1}, this trainer version ${TRAINER_PROTOCOL_VERSION}.`);
    assert.ok(!msgs.some((m) => m.type === 'started'), 'no run was started');
    assert.ok(!fs.existsSync(path.join(dir, 'newer')));
  });

  it('cancel() kills a child that is stuck (no event loop) after 1 s; the parent marks the run cancelled', async () => {
    const store = path.join(dir, 'hang');
    let cancelAt = 0;
    const h = launchTrainer({ config: config({ epochs: 1000, patience: 0 }), storeDir: store }, {
      trainerScript: bins.trainer, env: { ...bundleEnv, NODE_ENV: 'test', FEWSHOT_TEST_HANG_AT: 'epoch:2' },
      onMessage: (m) => { if (m.type === 'epoch' && m.metrics.epoch === 2) { cancelAt = Date.now(); h.cancel(); } },
    });
    const res = await h.done;
    const took = Date.now() - cancelAt;
    assert.ok(cancelAt > 0, 'epoch 2 arrived before the child blocked');
    assert.equal(res.status, 'cancelled');
    assert.equal(res.signal, 'SIGKILL');
    assert.ok(took >= 900 && took < 3000, `killed ${took} ms after cancel`);
    assert.ok(res.lastLog.some((l) => l.includes('killed')));
    const rec = readRecord(store, h.runId!);
    assert.equal(rec.status, 'cancelled');
  });

  it('a missing trainer script fails cleanly', async () => {
    const msgs: TrainerToParent[] = [];
    const h = launchTrainer({ config: config(), storeDir: path.join(dir, 'x') }, { onMessage: (m) => msgs.push(m), trainerScript: path.join(dir, 'nope.js') });
    const res = await h.done;
    assert.equal(res.status, 'failed');
    assert.match(res.error!, /nope\.js/);
  });

  describe('warm predictor child (launchPredictor)', () => {
    let runDir: string;
    before(async () => {
      const store = path.join(dir, 'pred');
      const h = launchTrainer({ config: config({ epochs: 10 }), storeDir: store }, { onMessage: () => undefined, trainerScript: bins.trainer, env: bundleEnv });
      const res = await h.done;
      assert.equal(res.status, 'completed', res.error);
      runDir = res.runDir!;
    });

    it('loads a run and answers predictions like the trainer did', async () => {
      const client = launchPredictor(runDir, { predictorScript: bins.predictor, env: bundleEnv });
      try {
        const info = await client.ready;
        assert.equal(info.runDir, runDir);
        assert.deepEqual(info.labels, ['cooking', 'finance', 'sports']);
        assert.ok(info.encoder.startsWith('hashing-'));
        const expected = readJsonl<TestPrediction>(path.join(runDir, 'predictions.jsonl'));
        const [a, b] = await Promise.all([
          client.predict(expected.slice(0, 5).map((p) => p.text)),
          client.predict(expected.slice(5).map((p) => p.text)),
        ]);
        assert.deepEqual([...a, ...b].map((p) => p.label), expected.map((p) => p.predicted));
        assert.deepEqual(await client.predict([]), []);
      } finally {
        client.dispose();
      }
      assert.equal(client.exited || (await waitFor(() => client.exited, 3000)), true);
    });

    it('reports a run without a model as a clear error instead of hanging', async () => {
      const empty = path.join(dir, 'empty-run');
      fs.mkdirSync(empty, { recursive: true });
      const client = launchPredictor(empty, { predictorScript: bins.predictor, env: bundleEnv });
      try {
        await assert.rejects(client.ready, (e: PredictorError) => e.message.includes(path.join('model', 'head.json')) && !!e.fix);
        await assert.rejects(client.predict(['x']));
      } finally {
        client.dispose();
      }
    });

    it('the parent refuses a predictor of another protocol version; the predictor refuses a load of another version', async () => {
      const fake = path.join(dir, 'old-predictor.js');
      fs.writeFileSync(fake, `process.send({ type: 'ready', protocol: 99, pid: process.pid });\nsetInterval(() => {}, 1000);\n`);
      const client = launchPredictor(runDir, { predictorScript: fake });
      try {
        await assert.rejects(client.ready, (e: PredictorError) => e.message === `The predictor process (${fake}) speaks protocol version 99, this extension version ${TRAINER_PROTOCOL_VERSION}; it was stopped.` && /Rebuild/.test(e.fix ?? ''));
        assert.ok(await waitFor(() => client.exited, 3000), 'the child was stopped');
      } finally {
        client.dispose();
      }
      const child = fork(bins.predictor, [], { env: { ...process.env, ...bundleEnv }, stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
      try {
        const err = await new Promise<PredictorToParent>((resolve) => child.on('message', (m: PredictorToParent) => {
          if (m.type === 'ready') child.send({ type: 'load', protocol: 1, runDir });
          else resolve(m);
        }));
        assert.deepEqual(err.type === 'error' && err.message, `Predictor protocol mismatch: the parent speaks version 1, this predictor version ${TRAINER_PROTOCOL_VERSION}.`);
      } finally {
        child.kill();
      }
    });

    it('rejects pending requests when the child dies', async () => {
      let exitInfo: { code: number | null } | undefined;
      const c2 = launchPredictor(runDir, { predictorScript: bins.predictor, env: bundleEnv, onExit: (i) => { exitInfo = i; } });
      try {
        const info = await c2.ready;
        process.kill(info.pid, 'SIGKILL');
        await assert.rejects(c2.predict(['some text about stock markets']), /killed by SIGKILL|not running/);
        assert.ok(await waitFor(() => exitInfo !== undefined, 3000));
        assert.equal(c2.exited, true);
      } finally {
        c2.dispose();
      }
    });
  });
});

async function waitFor(cond: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (cond()) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return cond();
}
