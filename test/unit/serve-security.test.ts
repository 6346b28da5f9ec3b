/**
 * The model server is safe on a developer's laptop (issue 16, "Serve"): Host
 * header (DNS rebinding), browser origins, Content-Type, a character cap per
 * request, small requests answered while a big one runs, and the workspace-trust
 * manifest entries of every setting a cloned repository could abuse.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import { hostAllowed, hostHeaderName, startModelServer, DEFAULT_MAX_REQUEST_CHARS, ModelServer, ServePredictor } from '../../src/core/serve';
import { isFewShotError } from '../../src/core/errors';
import { makeTinyModel, TinyModel } from './helpers/serveModel';
import { repoRoot } from './helpers/trainerFixtures';

interface Reply { status: number; headers: http.IncomingHttpHeaders; body: any; raw: string }

function request(url: string, opts: { method?: string; path?: string; body?: string; headers?: Record<string, string> } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request(new URL(opts.path ?? '/', url), { method: opts.method ?? 'GET', headers: opts.headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        let body: unknown;
        try { body = raw ? JSON.parse(raw) : undefined; } catch { body = raw; }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body, raw });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

const JSON_TYPE = { 'Content-Type': 'application/json' };
const post = (url: string, body: unknown, headers: Record<string, string> = JSON_TYPE) => request(url, { method: 'POST', path: '/predict', body: JSON.stringify(body), headers });
const tick = () => new Promise((r) => setImmediate(r));

describe('model server: safe on a laptop (src/core/serve.ts)', function () {
  this.timeout(20000);
  let tiny: TinyModel;
  let server: ModelServer | undefined;

  before(async () => { tiny = await makeTinyModel(); });
  after(() => { tiny?.predictor.dispose(); tiny?.cleanup(); });
  afterEach(async () => { await server?.close(); server = undefined; });

  describe('Host header (DNS rebinding)', () => {
    it('refuses a request addressed to another name with 421 and a clear JSON error', async () => {
      server = await startModelServer({ runDir: tiny.runDir, port: 0, predictor: tiny.predictor });
      for (const route of ['/model', '/health']) {
        const r = await request(server.url, { path: route, headers: { Host: `evil.example.com:${server.port}` } });
        assert.equal(r.status, 421, `${route}: ${r.raw}`);
        assert.match(r.body.error, /only answers requests addressed to localhost, 127\.0\.0\.1, \[::1\].*evil\.example\.com.*DNS rebinding/);
      }
      const p = await post(server.url, { text: 'rain' }, { ...JSON_TYPE, Host: 'evil.example.com' });
      assert.equal(p.status, 421);
      assert.equal(p.body.label, undefined);
    });

    it('answers loopback names on any port', async () => {
      server = await startModelServer({ runDir: tiny.runDir, port: 0, predictor: tiny.predictor });
      for (const h of [`localhost:${server.port}`, `127.0.0.1:${server.port}`, `[::1]:${server.port}`, 'LOCALHOST', 'localhost:8080']) {
        const r = await request(server.url, { path: '/model', headers: { Host: h } });
        assert.equal(r.status, 200, h);
      }
    });

    it('answers the configured host, and IP literals for a wildcard bind, never other names', () => {
      assert.ok(hostAllowed('myhost.lan:5000', 'myhost.lan'));
      assert.ok(!hostAllowed('evil.example.com:5000', 'myhost.lan'));
      assert.ok(hostAllowed('192.168.1.5:5000', '0.0.0.0'));
      assert.ok(hostAllowed('[fe80::1]:5000', '::'));
      assert.ok(!hostAllowed('evil.example.com', '0.0.0.0'));
      assert.ok(!hostAllowed('192.168.1.5', '127.0.0.1'));
      assert.ok(!hostAllowed('', '127.0.0.1'));
      assert.ok(!hostAllowed('localhost.evil.example.com', '127.0.0.1'));
      assert.equal(hostHeaderName('[::1]:80'), '::1');
      assert.equal(hostHeaderName('Example.COM.:80'), 'example.com');
    });

    it('a wildcard bind with a token answers its IP address but not a rebinding name', async () => {
      server = await startModelServer({ runDir: tiny.runDir, host: '0.0.0.0', port: 0, predictor: tiny.predictor, token: 'tok' });
      const auth = { Authorization: 'Bearer tok' };
      const url = `http://127.0.0.1:${server.port}`;
      assert.equal((await request(url, { path: '/health', headers: { ...auth, Host: `10.1.2.3:${server.port}` } })).status, 200);
      assert.equal((await request(url, { path: '/health', headers: { ...auth, Host: `evil.example.com:${server.port}` } })).status, 421);
    });
  });

  describe('browser origins', () => {
    it('403 for a page of another origin, on every route (no CORS header)', async () => {
      server = await startModelServer({ runDir: tiny.runDir, port: 0, predictor: tiny.predictor });
      const origin = { Origin: 'http://evil.example.com' };
      const m = await request(server.url, { path: '/model', headers: origin });
      assert.equal(m.status, 403);
      assert.match(m.body.error, /origin "http:\/\/evil\.example\.com" are not allowed.*--allow-origin.*fewshot\.serve\.allowedOrigins/);
      assert.equal(m.headers['access-control-allow-origin'], undefined);
      assert.equal((await post(server.url, { text: 'rain' }, { ...JSON_TYPE, ...origin })).status, 403);
      assert.equal((await request(server.url, { method: 'OPTIONS', path: '/predict', headers: { ...origin, 'Access-Control-Request-Method': 'POST' } })).status, 403);
      assert.equal((await request(server.url, { path: '/model', headers: { Origin: 'null' } })).status, 403);
      // A no-cors load from another site (an <img> or <script>) has no Origin but says where it comes from.
      assert.equal((await request(server.url, { path: '/model', headers: { 'Sec-Fetch-Site': 'cross-site' } })).status, 403);
      assert.equal((await request(server.url, { path: '/model', headers: { 'Sec-Fetch-Site': 'none' } })).status, 200);
    });

    it('allows its own loopback origin and the configured allow-list, with CORS headers and a preflight', async () => {
      server = await startModelServer({ runDir: tiny.runDir, port: 0, predictor: tiny.predictor, allowedOrigins: ['http://LocalHost:3000/'] });
      const own = await request(server.url, { path: '/model', headers: { Origin: `http://127.0.0.1:${server.port}` } });
      assert.equal(own.status, 200);
      const pre = await request(server.url, { method: 'OPTIONS', path: '/predict', headers: { Origin: 'http://localhost:3000', 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'content-type' } });
      assert.equal(pre.status, 204);
      assert.equal(pre.headers['access-control-allow-origin'], 'http://localhost:3000');
      assert.match(String(pre.headers['access-control-allow-methods']), /POST/);
      assert.match(String(pre.headers['access-control-allow-headers']), /Content-Type/);
      const p = await post(server.url, { text: 'heavy rain and wind' }, { ...JSON_TYPE, Origin: 'http://localhost:3000' });
      assert.equal(p.status, 200, p.raw);
      assert.equal(p.body.label, 'weather');
      assert.equal(p.headers['access-control-allow-origin'], 'http://localhost:3000');
      assert.equal(p.headers.vary, 'Origin');
      // Another port of localhost is another origin.
      assert.equal((await request(server.url, { path: '/model', headers: { Origin: 'http://localhost:3001' } })).status, 403);
    });

    it('an invalid allowed origin is a clear error at start', async () => {
      await assert.rejects(startModelServer({ runDir: tiny.runDir, port: 0, predictor: tiny.predictor, allowedOrigins: ['localhost:3000'] }), (e: unknown) => {
        assert.ok(isFewShotError(e));
        assert.equal(e.code, 'serve-bad-origin');
        assert.match(e.message, /Invalid allowed origin "localhost:3000"/);
        assert.match(e.fix ?? '', /http:\/\/localhost:3000/);
        return true;
      });
    });
  });

  it('POST /predict needs Content-Type: application/json (415 otherwise, before reading the body)', async () => {
    server = await startModelServer({ runDir: tiny.runDir, port: 0, predictor: tiny.predictor });
    const body = { text: 'heavy rain' };
    const plain = await post(server.url, body, { 'Content-Type': 'text/plain;charset=UTF-8' });
    assert.equal(plain.status, 415);
    assert.match(plain.body.error, /needs the header "Content-Type: application\/json" \(got "text\/plain"\)/);
    const form = await post(server.url, body, { 'Content-Type': 'application/x-www-form-urlencoded' });
    assert.equal(form.status, 415);
    assert.equal((await post(server.url, body, {})).status, 415);
    const ok = await post(server.url, body, { 'Content-Type': 'Application/JSON; charset=utf-8' });
    assert.equal(ok.status, 200, ok.raw);
  });

  it('caps the characters of a request (413 naming the cap and the flag), all texts together', async () => {
    assert.equal(DEFAULT_MAX_REQUEST_CHARS, 100_000);
    server = await startModelServer({ runDir: tiny.runDir, port: 0, predictor: tiny.predictor, maxRequestChars: 50 });
    const one = await post(server.url, { text: 'r'.repeat(51) });
    assert.equal(one.status, 413);
    assert.match(one.body.error, /has 51 characters; the limit is 50 per request.*--max-request-chars.*fewshot\.serve\.maxRequestChars/);
    const many = await post(server.url, { texts: ['a'.repeat(30), 'b'.repeat(21)] });
    assert.equal(many.status, 413);
    const atCap = await post(server.url, { texts: ['rain '.repeat(5), 'snow '.repeat(5)] });
    assert.equal(atCap.status, 200, atCap.raw);
    await assert.rejects(startModelServer({ runDir: tiny.runDir, port: 0, predictor: tiny.predictor, maxRequestChars: 0 }), /Invalid character limit 0/);
  });

  it('default cap: a request of more than 100,000 characters is refused', async () => {
    server = await startModelServer({ runDir: tiny.runDir, port: 0, predictor: tiny.predictor });
    const r = await post(server.url, { texts: Array.from({ length: 11 }, () => 'w'.repeat(10_000)) });
    assert.equal(r.status, 413);
    assert.match(r.body.error, /110000 characters; the limit is 100000/);
  });

  it('a small request is answered while a big one still runs (the big one is cut into chunks)', async () => {
    const SMALL = 'snow storm tonight';
    const calls: string[][] = [];
    const events: string[] = [];
    let release!: () => void;
    const firstCallHeld = new Promise<void>((r) => (release = r));
    let smallAnswered!: () => void;
    const smallSeen = new Promise<void>((r) => (smallAnswered = r));
    const gated: ServePredictor = {
      labels: tiny.predictor.labels,
      async predict(texts) {
        calls.push(texts);
        if (calls.length === 1) await firstCallHeld;
        // Once the small text went through, hold the rest of the big request until its answer arrived,
        // so the order below does not depend on timing.
        else if (calls.slice(0, -1).some((c) => c.includes(SMALL))) await smallSeen;
        return tiny.predictor.predict(texts);
      },
    };
    server = await startModelServer({ runDir: tiny.runDir, port: 0, predictor: gated, maxBatch: 4 });
    const bigTexts = Array.from({ length: 40 }, (_, i) => `${['rain and wind', 'bake the bread', 'the team won'][i % 3]} ${i}`);
    const big = post(server.url, { texts: bigTexts }).then((r) => { events.push('big'); return r; });
    while (calls.length === 0) await tick();
    assert.deepEqual(calls[0], bigTexts.slice(0, 4), 'the big request goes to the predictor in chunks of maxBatch');
    const small = post(server.url, { text: SMALL }).then((r) => { events.push('small'); smallAnswered(); return r; });
    while (server.pendingRequests < 2) await tick();
    release();
    const s = await small;
    assert.equal(s.status, 200, s.raw);
    assert.equal(s.body.label, 'weather');
    const b = await big;
    assert.deepEqual(events, ['small', 'big']);
    assert.equal(calls[1][0], SMALL, 'the small request goes first in the next predictor call');
    assert.equal(b.status, 200, b.raw);
    assert.deepEqual(b.body.predictions, await tiny.predictor.predict(bigTexts), 'chunked predictions come back whole and in order');
    assert.ok(calls.every((c) => c.length <= 4));
  });

  it('a predictor call also stays under maxBatchChars (a longer single text goes alone)', async () => {
    const calls: string[][] = [];
    const spy: ServePredictor = { labels: tiny.predictor.labels, predict: (t) => { calls.push(t); return tiny.predictor.predict(t); } };
    server = await startModelServer({ runDir: tiny.runDir, port: 0, predictor: spy, maxBatchChars: 100 });
    const texts = ['a'.repeat(60), 'b'.repeat(60), 'c'.repeat(150), 'd'.repeat(30), 'e'.repeat(30)];
    const r = await post(server.url, { texts });
    assert.equal(r.status, 200, r.raw);
    assert.deepEqual(calls.map((c) => c.map((t) => t[0]).join('')), ['a', 'b', 'c', 'de']);
  });
});

describe('workspace trust: restricted settings (package.json)', () => {
  const pkg = JSON.parse(fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8'));
  const conf = pkg.contributes.configuration;
  const keys: string[] = (Array.isArray(conf) ? conf : [conf]).flatMap((c: { properties: object }) => Object.keys(c.properties));
  const restricted: string[] = pkg.capabilities?.untrustedWorkspaces?.restrictedConfigurations ?? [];

  it('lists every setting a cloned repository could abuse (hosts, ports, paths, folders, remote models, Python, models, origins)', () => {
    // The words of a key ("fewshot.huggingface.cacheDir" → huggingface, cache, dir).
    const words = (k: string) => k.replace(/^fewshot\./, '').split(/\.|(?=[A-Z])/).map((w) => w.toLowerCase());
    const rule = /^(hosts?|ports?|paths?|dirs?|folders?|remote|python|models?|origins?|cache|encoder|urls?|exec|command)$/;
    const risky = keys.filter((k) => words(k).some((w) => rule.test(w)));
    for (const k of ['fewshot.serve.host', 'fewshot.serve.port', 'fewshot.huggingface.allowRemoteModels', 'fewshot.huggingface.cacheDir', 'fewshot.python.path', 'fewshot.finetune.model']) {
      assert.ok(risky.includes(k), `the rule misses ${k}`);
    }
    const missing = risky.filter((k) => !restricted.includes(k));
    assert.deepEqual(missing, [], `add to capabilities.untrustedWorkspaces.restrictedConfigurations: ${missing.join(', ')}`);
  });

  it('lists only settings that exist', () => {
    assert.deepEqual(restricted.filter((k) => !keys.includes(k)), []);
  });
});
