import * as assert from 'node:assert/strict';
import * as http from 'node:http';
import * as net from 'node:net';
import { startModelServer, ModelServer } from '../../src/core/serve';
import { isLoopbackHost } from '../../src/core/util/net';
import { isFewShotError } from '../../src/core/errors';
import { makeTinyModel, TinyModel } from './helpers/serveModel';

interface Reply { status: number; headers: http.IncomingHttpHeaders; body: any; raw: string }

function request(url: string, opts: { method?: string; path?: string; body?: string | Buffer; headers?: Record<string, string>; chunked?: boolean; agent?: http.Agent } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const u = new URL(opts.path ?? '/', url);
    let answered = false;
    const req = http.request(u, { method: opts.method ?? 'GET', headers: opts.headers, agent: opts.agent ?? false }, (res) => {
      answered = true;
      const chunks: Buffer[] = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        let body: unknown = undefined;
        try { body = raw ? JSON.parse(raw) : undefined; } catch { body = raw; }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body, raw });
      });
      res.on('error', reject);
    });
    // The server may answer (413) and close before the whole body is written.
    req.on('error', (e) => { if (!answered) reject(e); });
    if (opts.body !== undefined) {
      if (opts.chunked) {
        const buf = Buffer.from(opts.body);
        const step = 64 * 1024;
        let i = 0;
        const pump = () => {
          while (i < buf.length) {
            const ok = req.write(buf.subarray(i, i + step));
            i += step;
            if (!ok) { req.once('drain', pump); return; }
          }
          req.end();
        };
        pump();
        return;
      }
      req.end(opts.body);
    } else req.end();
  });
}

const json = (o: unknown) => ({ body: JSON.stringify(o), headers: { 'Content-Type': 'application/json' } });

describe('model server (src/core/serve.ts)', function () {
  this.timeout(20000);
  let tiny: TinyModel;
  let server: ModelServer | undefined;

  before(async () => { tiny = await makeTinyModel(); });
  after(() => { tiny?.predictor.dispose(); tiny?.cleanup(); });
  afterEach(async () => { await server?.close(); server = undefined; });

  it('binds 127.0.0.1 by default and answers GET /health', async () => {
    server = await startModelServer({ runDir: tiny.runDir, port: 0, predictor: tiny.predictor });
    assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.ok(server.port > 0);
    const r = await request(server.url, { path: '/health' });
    assert.equal(r.status, 200);
    assert.deepEqual(r.body, { status: 'ok' });
    assert.match(String(r.headers['content-type']), /application\/json/);
  });

  it('GET /model describes the run from run.json and model/head.json', async () => {
    server = await startModelServer({ runDir: tiny.runDir, port: 0, predictor: tiny.predictor });
    const r = await request(server.url, { path: '/model' });
    assert.equal(r.status, 200);
    assert.equal(r.body.runId, tiny.record.id);
    assert.deepEqual(r.body.labels, tiny.model.labels);
    assert.equal(r.body.encoder, tiny.model.encoder.id);
    assert.equal(r.body.head, 'centroid');
    assert.equal(r.body.createdAt, tiny.record.createdAt);
    assert.equal(r.body.testMacroF1, 0.8765);
  });

  it('POST /predict {text} returns the label, sorted probabilities and ms', async () => {
    server = await startModelServer({ runDir: tiny.runDir, port: 0, predictor: tiny.predictor });
    const text = 'the goalkeeper saved a penalty in the football match';
    const r = await request(server.url, { method: 'POST', path: '/predict', ...json({ text }) });
    assert.equal(r.status, 200, r.raw);
    const [direct] = await tiny.predictor.predict([text]);
    assert.equal(r.body.label, direct.label);
    assert.equal(r.body.label, 'sports');
    assert.equal(r.body.probabilities.length, 3);
    const ps = r.body.probabilities.map((x: { p: number }) => x.p);
    assert.deepEqual(ps, [...ps].sort((a: number, b: number) => b - a));
    assert.ok(Math.abs(ps.reduce((a: number, b: number) => a + b, 0) - 1) < 1e-6);
    assert.equal(typeof r.body.ms, 'number');
    assert.ok(r.body.ms >= 0);
  });

  it('POST /predict {texts} returns one prediction per text, in order', async () => {
    server = await startModelServer({ runDir: tiny.runDir, port: 0, predictor: tiny.predictor });
    const texts = ['bake the cake with butter and sugar', 'rain and wind expected tomorrow', 'the team won the cup final', '天气'];
    const r = await request(server.url, { method: 'POST', path: '/predict', ...json({ texts }) });
    assert.equal(r.status, 200, r.raw);
    assert.equal(r.body.predictions.length, texts.length);
    assert.deepEqual(r.body.predictions.slice(0, 3).map((p: { label: string }) => p.label), ['cooking', 'weather', 'sports']);
    const direct = await tiny.predictor.predict(texts);
    assert.deepEqual(r.body.predictions, direct);
    assert.equal(typeof r.body.ms, 'number');
  });

  describe('400 for bad input', () => {
    const cases: [string, string, RegExp][] = [
      ['bad JSON', '{"text": "abc"', /not valid JSON/],
      ['empty body', '', /Empty request body/],
      ['missing text', '{"content": "abc"}', /Missing "text"/],
      ['non-string text', '{"text": 42}', /"text" must be a string, got number/],
      ['null text', '{"text": null}', /"text" must be a string, got null/],
      ['empty text', '{"text": "   "}', /"text" is empty/],
      ['array body', '["abc"]', /must be a JSON object/],
      ['texts not an array', '{"texts": "abc"}', /"texts" must be an array/],
      ['texts with a non-string', '{"texts": ["ok", 3]}', /"texts\[1\]" must be a string/],
      ['empty texts', '{"texts": []}', /"texts" is empty/],
      ['an empty item in texts (as fewshot predict "" refuses it)', '{"texts": ["ok", " "]}', /"texts\[1\]" is empty/],
    ];
    for (const [name, body, re] of cases) {
      it(name, async () => {
        server ??= await startModelServer({ runDir: tiny.runDir, port: 0, predictor: tiny.predictor });
        const r = await request(server.url, { method: 'POST', path: '/predict', body, headers: { 'Content-Type': 'application/json' } });
        assert.equal(r.status, 400, r.raw);
        assert.match(r.body.error, re);
      });
    }
  });

  it('404 for an unknown route, 405 (with Allow) for a wrong method', async () => {
    server = await startModelServer({ runDir: tiny.runDir, port: 0, predictor: tiny.predictor });
    const a = await request(server.url, { path: '/nope' });
    assert.equal(a.status, 404);
    assert.match(a.body.error, /Unknown route \/nope/);
    const b = await request(server.url, { path: '/predict' });
    assert.equal(b.status, 405);
    assert.equal(b.headers.allow, 'POST');
    const c = await request(server.url, { method: 'DELETE', path: '/health' });
    assert.equal(c.status, 405);
    assert.match(String(c.headers.allow), /GET/);
  });

  it('413 when the body is over maxBodyBytes (declared length and streamed chunks)', async () => {
    server = await startModelServer({ runDir: tiny.runDir, port: 0, predictor: tiny.predictor, maxBodyBytes: 1000 });
    const big = JSON.stringify({ text: 'x'.repeat(5000) });
    const a = await request(server.url, { method: 'POST', path: '/predict', body: big, headers: { 'Content-Type': 'application/json' } });
    assert.equal(a.status, 413);
    assert.match(a.body.error, /limit is 1000 bytes/);
    const b = await request(server.url, { method: 'POST', path: '/predict', body: big, chunked: true, headers: { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' } });
    assert.equal(b.status, 413);
    // A body under the limit still works on the same server.
    const ok = await request(server.url, { method: 'POST', path: '/predict', ...json({ text: 'snow and fog' }) });
    assert.equal(ok.status, 200);
    assert.equal(ok.body.label, 'weather');
  });

  it('default limit is 1 MiB', async () => {
    server = await startModelServer({ runDir: tiny.runDir, port: 0, predictor: tiny.predictor });
    const big = JSON.stringify({ text: 'y'.repeat(1024 * 1024 + 10) });
    const r = await request(server.url, { method: 'POST', path: '/predict', body: big, headers: { 'Content-Type': 'application/json' } });
    assert.equal(r.status, 413);
    assert.match(r.body.error, /1048576 bytes/);
  });

  it('with a token: 401 without or with a wrong bearer token, 200 with the right one', async () => {
    server = await startModelServer({ runDir: tiny.runDir, port: 0, predictor: tiny.predictor, token: 's3cret-token' });
    const none = await request(server.url, { path: '/health' });
    assert.equal(none.status, 401);
    assert.equal(none.headers['www-authenticate'], 'Bearer');
    assert.match(none.body.error, /Authorization: Bearer/);
    const wrong = await request(server.url, { method: 'POST', path: '/predict', body: JSON.stringify({ text: 'rain' }), headers: { Authorization: 'Bearer nope', 'Content-Type': 'application/json' } });
    assert.equal(wrong.status, 401);
    const basic = await request(server.url, { path: '/model', headers: { Authorization: 'Basic czNjcmV0LXRva2Vu' } });
    assert.equal(basic.status, 401);
    const good = await request(server.url, { method: 'POST', path: '/predict', body: JSON.stringify({ text: 'rain and wind' }), headers: { Authorization: 'Bearer s3cret-token', 'Content-Type': 'application/json' } });
    assert.equal(good.status, 200, good.raw);
    assert.equal(good.body.label, 'weather');
  });

  it('takes the token from FEWSHOT_SERVE_TOKEN when none is passed', async () => {
    process.env.FEWSHOT_SERVE_TOKEN = 'from-env';
    try {
      server = await startModelServer({ runDir: tiny.runDir, port: 0, predictor: tiny.predictor });
    } finally {
      delete process.env.FEWSHOT_SERVE_TOKEN;
    }
    assert.equal((await request(server.url, { path: '/health' })).status, 401);
    assert.equal((await request(server.url, { path: '/health', headers: { Authorization: 'Bearer from-env' } })).status, 200);
  });

  it('refuses a non-loopback host without a token, with a clear error', async () => {
    await assert.rejects(startModelServer({ runDir: tiny.runDir, host: '0.0.0.0', port: 0, predictor: tiny.predictor }), (e: unknown) => {
      assert.ok(isFewShotError(e));
      assert.match(e.message, /Refusing to serve .* on 0\.0\.0\.0/);
      assert.match(e.fix ?? '', /--token/);
      assert.equal(e.code, 'serve-insecure-host');
      return true;
    });
    // …and accepts it with a token.
    server = await startModelServer({ runDir: tiny.runDir, host: '0.0.0.0', port: 0, predictor: tiny.predictor, token: 'tok' });
    const r = await request(`http://127.0.0.1:${server.port}`, { path: '/health', headers: { Authorization: 'Bearer tok' } });
    assert.equal(r.status, 200);
  });

  it('knows which hosts are loopback', () => {
    for (const h of ['127.0.0.1', 'localhost', ' LocalHost ', '::1', '[::1]', '0:0:0:0:0:0:0:1', '::ffff:127.0.0.1', '127.1.2.3']) assert.ok(isLoopbackHost(h), h);
    for (const h of ['0.0.0.0', '::', '192.168.1.5', 'example.com', '10.0.0.1']) assert.ok(!isLoopbackHost(h), h);
  });

  it('a busy port is a clear error', async () => {
    const blocker = net.createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const port = (blocker.address() as net.AddressInfo).port;
    try {
      await assert.rejects(startModelServer({ runDir: tiny.runDir, port, predictor: tiny.predictor }), (e: unknown) => {
        assert.ok(isFewShotError(e));
        assert.match(e.message, new RegExp(`Port ${port} .* already in use`));
        return true;
      });
    } finally {
      await new Promise((r) => blocker.close(r));
    }
  });

  it('loads the model itself from runDir when no predictor is given', async () => {
    server = await startModelServer({ runDir: tiny.runDir, port: 0 });
    const r = await request(server.url, { method: 'POST', path: '/predict', ...json({ texts: ['whisk the eggs and bake', 'snow storm tonight'] }) });
    assert.equal(r.status, 200, r.raw);
    assert.deepEqual(r.body.predictions.map((p: { label: string }) => p.label), ['cooking', 'weather']);
    const m = await request(server.url, { path: '/model' });
    assert.equal(m.body.encoder, 'hashing-v1-char1-4-cjk3-word2x1-1024');
  });

  it('a run folder without model/head.json is a clear error', async () => {
    await assert.rejects(startModelServer({ runDir: '/nonexistent/run', port: 0 }), (e: unknown) => {
      assert.ok(isFewShotError(e));
      assert.match(e.message, /model\/head\.json is missing/);
      return true;
    });
  });

  it('batches concurrent requests and answers each with its own predictions', async () => {
    const slow = await makeTinyModel({ delayMs: 30 });
    try {
      server = await startModelServer({ runDir: slow.runDir, port: 0, predictor: slow.predictor });
      const texts = ['rain', 'bake bread', 'football goal', 'snow storm', 'garlic soup', 'tennis final', 'sunny skies', 'whisk eggs', 'basketball team', 'fog and clouds', 'pepper and salt', 'coach and defence'];
      const agent = new http.Agent({ keepAlive: true, maxSockets: 20 });
      const replies = await Promise.all(texts.map((text) => request(server!.url, { method: 'POST', path: '/predict', ...json({ text }), agent })));
      agent.destroy();
      const direct = await slow.predictor.predict(texts);
      replies.forEach((r, i) => {
        assert.equal(r.status, 200);
        assert.equal(r.body.label, direct[i].label, texts[i]);
        assert.deepEqual(r.body.probabilities, direct[i].probabilities);
      });
      const serverCalls = slow.predictor.calls.slice(0, -1);
      assert.equal(serverCalls.reduce((a, b) => a + b, 0), texts.length);
      assert.ok(serverCalls.length < texts.length, `expected batching, got ${serverCalls.length} predictor calls for ${texts.length} requests`);
    } finally {
      await server?.close();
      server = undefined;
      slow.cleanup();
    }
  });

  it('503 when too many texts are waiting', async () => {
    const slow = await makeTinyModel({ delayMs: 200 });
    try {
      server = await startModelServer({ runDir: slow.runDir, port: 0, predictor: slow.predictor, maxQueuedTexts: 3, maxBatch: 2 });
      const first = request(server.url, { method: 'POST', path: '/predict', ...json({ texts: ['a', 'b'] }) });
      while (slow.predictor.calls.length === 0) await new Promise((r) => setImmediate(r));
      // The first batch is with the predictor (nothing waiting): 4 more texts overflow a queue of 3.
      const busy = await request(server.url, { method: 'POST', path: '/predict', ...json({ texts: ['c', 'd', 'e', 'f'] }) });
      assert.equal(busy.status, 503);
      assert.match(busy.body.error, /busy/);
      assert.equal(busy.headers['retry-after'], '1');
      const queued = request(server.url, { method: 'POST', path: '/predict', ...json({ texts: ['c', 'd', 'e'] }) });
      assert.equal((await first).status, 200);
      assert.equal((await queued).status, 200);
    } finally {
      await server?.close();
      server = undefined;
      slow.predictor.dispose();
      slow.cleanup();
    }
  });

  it('a predictor failure is a 500 that does not echo the internal error (logged under the request id), and the server keeps serving', async () => {
    let fail = true;
    const flaky = { ...tiny.predictor, predict: async (t: string[]) => { if (fail) { fail = false; throw new Error('encoder crashed at /home/alice/secret/model.onnx'); } return tiny.predictor.predict(t); } };
    const logs: string[] = [];
    server = await startModelServer({ runDir: tiny.runDir, port: 0, predictor: flaky, log: (m) => logs.push(m) });
    const a = await request(server.url, { method: 'POST', path: '/predict', ...json({ text: 'rain' }) });
    assert.equal(a.status, 500);
    assert.doesNotMatch(a.raw, /encoder crashed|alice|onnx/);
    assert.match(a.body.error, /Prediction failed \(request [0-9a-f]+-\d+\)/);
    assert.equal(a.body.requestId, a.headers['x-request-id']);
    const logged = logs.find((l) => l.includes(a.body.requestId));
    assert.ok(logged, `no log line for ${a.body.requestId}: ${logs.join(' | ')}`);
    assert.match(logged, /encoder crashed at \/home\/alice/);
    const b = await request(server.url, { method: 'POST', path: '/predict', ...json({ text: 'rain' }) });
    assert.equal(b.status, 200);
  });

  it('close() finishes requests in flight, then refuses new connections', async () => {
    const slow = await makeTinyModel({ delayMs: 300 });
    try {
      const s = await startModelServer({ runDir: slow.runDir, port: 0, predictor: slow.predictor });
      const inflight = request(s.url, { method: 'POST', path: '/predict', ...json({ text: 'heavy rain tomorrow' }) });
      // Wait until the request reached the predictor (visible state, no fixed sleep).
      while (slow.predictor.calls.length === 0) await new Promise((r) => setImmediate(r));
      const closing = s.close();
      const r = await inflight;
      assert.equal(r.status, 200);
      assert.equal(r.body.label, 'weather');
      await closing;
      await assert.rejects(request(s.url, { path: '/health' }), /ECONNREFUSED/);
    } finally {
      slow.cleanup();
    }
  });
});
