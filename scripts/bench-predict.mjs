#!/usr/bin/env node
// Prediction latency and server throughput, per built-in encoder.
//
//   node scripts/bench-predict.mjs [--encoders hashing,use] [--warm 50] [--requests 400] [--clients 10] [--json out.json]
//
// For each encoder it trains a small run on test/fixtures/workspace/predict-topics
// with the CLI (like a user), then measures:
//   1. the warm predictor child (dist/predictor.js, through the same WarmPredictor
//      the extension uses): first prediction of a 200-character selection (child
//      start + model load + predict), then p50/p95 of `--warm` further predictions;
//   2. `fewshot serve` (dist/cli.js, a child process as "Serve Model Locally" runs
//      it): requests/s on 127.0.0.1 with `--clients` concurrent keep-alive clients,
//      `--requests` POST /predict requests in total (one 200-character text each).
// Needs `node scripts/build.mjs` first. Prints a table; --json also writes the numbers.
import * as esbuild from 'esbuild';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { createRequire } from 'node:module';

const root = new URL('..', import.meta.url).pathname;
process.chdir(root);
const args = process.argv.slice(2);
const opt = (name, def) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : def;
};
const encoders = opt('encoders', 'hashing,use').split(',').map((s) => s.trim()).filter(Boolean);
const warmN = Number(opt('warm', 50));
const totalRequests = Number(opt('requests', 400));
const clients = Number(opt('clients', 10));
const jsonOut = opt('json', undefined);

for (const f of ['dist/cli.js', 'dist/predictor.js']) {
  if (!fs.existsSync(f)) { console.error(`bench-predict: ${f} is missing: run node scripts/build.mjs first`); process.exit(2); }
}

// Bundle the parent-side code the extension uses (no vscode in it).
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'fewshot-bench-predict-'));
const entry = path.join(tmp, 'entry.ts');
fs.writeFileSync(entry, `export { WarmPredictor } from ${JSON.stringify(path.join(root, 'src/extension/predict/warm'))};\nexport { launchPredictor } from ${JSON.stringify(path.join(root, 'src/trainer/launch'))};\nexport { startServeChild } from ${JSON.stringify(path.join(root, 'src/extension/predict/serveProcess'))};\n`);
await esbuild.build({ entryPoints: [entry], outfile: path.join(tmp, 'entry.js'), bundle: true, platform: 'node', target: 'node20', format: 'cjs', logLevel: 'warning' });
const { WarmPredictor, launchPredictor, startServeChild } = createRequire(import.meta.url)(path.join(tmp, 'entry.js'));

const dataset = path.join(root, 'test/fixtures/workspace/predict-topics/topics.csv');
const base = 'The home side scored a late goal after heavy rain made the pitch slow, and the coach praised the defence, while fans waited for the bus. ';
const selection = (i) => (`(${i}) ` + base.repeat(3)).slice(0, 200);

const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
};
const ms = (t0) => Number(process.hrtime.bigint() - t0) / 1e6;

function post(agent, url, body) {
  return new Promise((resolve, reject) => {
    const req = http.request(`${url}/predict`, { method: 'POST', agent, headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) } }, (res) => {
      res.resume();
      res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`HTTP ${res.statusCode}`))));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const results = [];
try {
  for (const enc of encoders) {
    const store = path.join(tmp, `store-${enc}`);
    const t0 = process.hrtime.bigint();
    const out = execFileSync(process.execPath, ['dist/cli.js', 'train', dataset, '--encoder', enc, '--out', store], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ORT_DISABLE_TELEMETRY: '1' } });
    const runId = /Run (\S+) completed/.exec(out)?.[1];
    if (!runId) throw new Error(`training with ${enc} failed:\n${out}`);
    const runDir = path.join(store, 'runs', runId);
    const trainMs = ms(t0);

    // 1. warm predictor child
    const warm = new WarmPredictor({ launch: (dir, onExit) => launchPredictor(dir, { predictorScript: path.resolve('dist/predictor.js'), onExit: (i) => onExit(i.lastLog) }) });
    let first, lat;
    try {
      const t1 = process.hrtime.bigint();
      await warm.predict(runDir, [selection(0)]);
      first = ms(t1);
      lat = [];
      for (let i = 1; i <= warmN; i++) {
        const t = process.hrtime.bigint();
        await warm.predict(runDir, [selection(i)]);
        lat.push(ms(t));
      }
    } finally {
      warm.dispose();
    }

    // 2. server child, 10 concurrent keep-alive clients
    const server = await startServeChild({ cliPath: path.resolve('dist/cli.js'), runDir, host: '127.0.0.1', port: 0 });
    let rps, reqLat;
    try {
      const agent = new http.Agent({ keepAlive: true, maxSockets: clients });
      await post(agent, server.url, JSON.stringify({ text: selection(-1) })); // warm-up
      let next = 0;
      reqLat = [];
      const t2 = process.hrtime.bigint();
      await Promise.all(Array.from({ length: clients }, async () => {
        for (;;) {
          const i = next++;
          if (i >= totalRequests) return;
          const t = process.hrtime.bigint();
          await post(agent, server.url, JSON.stringify({ text: selection(i) }));
          reqLat.push(ms(t));
        }
      }));
      rps = totalRequests / (ms(t2) / 1000);
      agent.destroy();
    } finally {
      await server.stop();
    }
    const r = {
      encoder: enc, runId, trainMs: Math.round(trainMs),
      firstMs: +first.toFixed(1), p50Ms: +pct(lat, 50).toFixed(2), p95Ms: +pct(lat, 95).toFixed(2),
      serverRequests: totalRequests, clients, requestsPerSec: +rps.toFixed(1), serverP50Ms: +pct(reqLat, 50).toFixed(2), serverP95Ms: +pct(reqLat, 95).toFixed(2),
    };
    results.push(r);
    console.error(`bench-predict: ${enc} done`);
  }
} finally {
  fs.rmSync(tmp, { recursive: true, force: true });
}

const cpu = os.cpus();
console.log(`\nPrediction of a 200-character selection (warm child) and fewshot serve on loopback — ${cpu.length}× ${cpu[0]?.model ?? 'cpu'}, Node ${process.version}`);
console.log('encoder  | first (cold child) | warm p50 | warm p95 | server req/s (' + clients + ' clients, ' + totalRequests + ' req) | server p50 | server p95');
for (const r of results) {
  console.log(`${r.encoder.padEnd(8)} | ${String(r.firstMs + ' ms').padStart(18)} | ${String(r.p50Ms + ' ms').padStart(8)} | ${String(r.p95Ms + ' ms').padStart(8)} | ${String(r.requestsPerSec).padStart(36)} | ${String(r.serverP50Ms + ' ms').padStart(10)} | ${String(r.serverP95Ms + ' ms').padStart(10)}`);
}
if (jsonOut) fs.writeFileSync(jsonOut, JSON.stringify({ date: new Date().toISOString(), cpus: cpu.length, node: process.version, results }, null, 2) + '\n');
