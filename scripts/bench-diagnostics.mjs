#!/usr/bin/env node
// Benchmark of the dataset diagnostics analysis (src/server/analysis).
// Generates folder datasets of 1,000 and 10,000 files in a temp dir and times:
//   full    — discovery + reading + checks with a cold cache (server startup)
//   change  — one file edited → applyChanges (what a file-watcher event costs)
//   settings— a setting changed → re-run the checks on cached files
// Usage: node scripts/bench-diagnostics.mjs [sizes…]   (default: 1000 10000)
import * as esbuild from 'esbuild';
import { mkdtempSync, mkdirSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';

const root = new URL('..', import.meta.url).pathname;
const sizes = process.argv.slice(2).map(Number).filter((n) => n > 0);
if (!sizes.length) sizes.push(1000, 10000);

const work = mkdtempSync(join(tmpdir(), 'fewshot-bench-diag-'));
const bundle = join(work, 'analysis.cjs');
await esbuild.build({ entryPoints: [join(root, 'src/server/analysis/index.ts')], bundle: true, platform: 'node', format: 'cjs', target: 'node20', outfile: bundle, logLevel: 'warning' });
const { DatasetIndex } = createRequire(import.meta.url)(bundle);

let seed = 12345;
const rand = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 4294967296);
// A 3,000-word pseudo vocabulary with a Zipf-like draw (real text is neither
// uniform nor tiny-vocabulary; both make every pair look alike).
const SYL = ['ka', 'lo', 'mi', 'ten', 'ra', 'su', 'vel', 'dor', 'an', 'pi', 'que', 'zo', 'ber', 'lin', 'ost', 'ew', 'ni', 'cha', 'gu', 'fy'];
const WORDS = Array.from({ length: 3000 }, () => Array.from({ length: 1 + Math.floor(rand() * 3) }, () => SYL[Math.floor(rand() * SYL.length)]).join(''));
const word = () => WORDS[Math.min(WORDS.length - 1, Math.floor(Math.pow(rand(), 2.5) * WORDS.length))];
const sentence = (n) => Array.from({ length: n }, word).join(' ') + '.';

function generate(dir, files) {
  const classes = 10;
  const texts = [];
  for (let i = 0; i < files; i++) {
    const split = i % 5 === 0 ? 'test' : 'train';
    const cls = `class${(i * 7) % classes}`;
    let text = `${sentence(20 + Math.floor(rand() * 40))} #${i}`;
    if (i % 97 === 0 && texts.length) text = texts[Math.floor(rand() * texts.length)]; // exact duplicates / leakage
    else if (i % 89 === 0 && texts.length) text = texts[Math.floor(rand() * texts.length)] + ' ok'; // near duplicates
    texts.push(text);
    const d = join(dir, split, cls);
    mkdirSync(d, { recursive: true });
    writeFileSync(join(d, `s${String(i).padStart(6, '0')}.txt`), text + '\n');
  }
}

// CPU time (user+system) of this process: robust against other load on a shared machine.
const cpuMs = (start) => { const d = process.cpuUsage(start); return Math.round((d.user + d.system) / 1000); };
const rows = [];
for (const n of sizes) {
  const ws = join(work, `ws-${n}`);
  const ds = join(ws, `dataset-${n}`);
  generate(ds, n);
  const ix = new DatasetIndex([ws]);
  let t = performance.now();
  let c = process.cpuUsage();
  await ix.analyseAll();
  const full = performance.now() - t;
  const fullCpu = cpuMs(c);
  const res = ix.results.get(ds);
  // incremental: median of 5 single-file edits
  const changeTimes = [];
  const changeCpu = [];
  let reread = 0;
  for (let k = 0; k < 5; k++) {
    const changed = join(ds, 'train', 'class7', `s${String(1 + k * 10).padStart(6, '0')}.txt`);
    writeFileSync(changed, `an edited sample ${k} about refunds and the store\n`);
    const readsBefore = ix.reads;
    t = performance.now();
    c = process.cpuUsage();
    await ix.applyChanges([changed]);
    changeTimes.push(performance.now() - t);
    changeCpu.push(cpuMs(c));
    reread = Math.max(reread, ix.reads - readsBefore);
  }
  const change = changeTimes.sort((a, b) => a - b)[2];
  const changeCpuMs = changeCpu.sort((a, b) => a - b)[2];
  const settingTimes = [];
  for (let k = 0; k < 3; k++) {
    t = performance.now();
    ix.settings = { ...ix.settings, imbalanceRatio: 4 + k };
    await ix.reanalyseCached();
    settingTimes.push(performance.now() - t);
  }
  const settings = settingTimes.sort((a, b) => a - b)[1];
  rows.push({ files: n, fullMs: Math.round(full), fullCpuMs: fullCpu, changeMs: Math.round(change), changeCpuMs, filesReread: reread, settingsMs: Math.round(settings), issues: res.issues.length });
  rmSync(ws, { recursive: true, force: true });
}
rmSync(work, { recursive: true, force: true });
console.table(rows);
console.log(`load average: ${(await import('node:os')).loadavg().map((x) => x.toFixed(1)).join(' ')} on ${(await import('node:os')).cpus().length} CPUs`);
console.log(JSON.stringify(rows));
