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

const WORDS = 'the a model data review service product quality delivery price support screen battery phone app update account order refund shipping fast slow great poor broken works love hate never always again today week month customer team store online'.split(' ');
let seed = 12345;
const rand = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 4294967296);
const sentence = (n) => Array.from({ length: n }, () => WORDS[Math.floor(rand() * WORDS.length)]).join(' ') + '.';

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

const rows = [];
for (const n of sizes) {
  const ws = join(work, `ws-${n}`);
  const ds = join(ws, `dataset-${n}`);
  generate(ds, n);
  const ix = new DatasetIndex([ws]);
  let t = performance.now();
  await ix.analyseAll();
  const full = performance.now() - t;
  const res = ix.results.get(ds);
  // incremental: median of 5 single-file edits
  const changeTimes = [];
  let reread = 0;
  for (let k = 0; k < 5; k++) {
    const changed = join(ds, 'train', 'class7', `s${String(1 + k * 10).padStart(6, '0')}.txt`);
    writeFileSync(changed, `an edited sample ${k} about refunds and the store\n`);
    const readsBefore = ix.reads;
    t = performance.now();
    await ix.applyChanges([changed]);
    changeTimes.push(performance.now() - t);
    reread = Math.max(reread, ix.reads - readsBefore);
  }
  const change = changeTimes.sort((a, b) => a - b)[2];
  const settingTimes = [];
  for (let k = 0; k < 3; k++) {
    t = performance.now();
    ix.settings = { ...ix.settings, imbalanceRatio: 4 + k };
    await ix.reanalyseCached();
    settingTimes.push(performance.now() - t);
  }
  const settings = settingTimes.sort((a, b) => a - b)[1];
  rows.push({ files: n, fullMs: Math.round(full), changeMs: Math.round(change), filesReread: reread, settingsMs: Math.round(settings), issues: res.issues.length });
  rmSync(ws, { recursive: true, force: true });
}
rmSync(work, { recursive: true, force: true });
console.table(rows);
console.log(JSON.stringify(rows));
