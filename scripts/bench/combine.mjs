#!/usr/bin/env node
// Combines the JSON reports of several `npm run bench` runs (e.g. one per corpus) into one Markdown table:
//   node scripts/bench/combine.mjs bench-results/s4/bench-*.json [--cols "FSL default,LR minilm,…"] [--times]
// Each row keeps the numbers of the run that measured it (mean ± std over its seeds, and how many seeds when runs
// differ); nothing is recomputed. --times adds a second table: seconds per run of the same columns (msPerRun).
import { readFileSync } from 'node:fs';

const argv = process.argv.slice(2);
const ci = argv.indexOf('--cols');
const wanted = ci >= 0 ? argv.splice(ci, 2)[1].split(',').map((s) => s.trim()) : null;
const ti = argv.indexOf('--times');
const times = ti >= 0 && argv.splice(ti, 1).length > 0;
const rows = new Map();
const lang = {};
const files = [];
for (const f of argv) {
  const d = JSON.parse(readFileSync(f, 'utf8'));
  files.push(`${f.split('/').pop()} (${d.wallS ? `${Math.round(d.wallS)} s` : '?'})`);
  for (const [row, cols] of Object.entries(d.quality)) { rows.set(row, cols); lang[row] = d.rowLanguage?.[row]; }
}
const all = [...new Set([...rows.values()].flatMap((c) => Object.keys(c)))];
const cols = wanted ?? all;
const fmt = (c) => (c && c.scores?.length ? (c.scores.length > 1 ? `${c.mean.toFixed(3)}±${c.std.toFixed(3)}` : c.mean.toFixed(3)) : 'n/a');
const out = [`| corpus @ K | ${cols.join(' | ')} |`, `|---|${cols.map(() => '---').join('|')}|`];
const gains = { best: [], zh: [], lib: [] };
const LIB = 'setfit library default';
const seedCounts = new Set([...rows.values()].map((c) => c['FSL default']?.scores?.length).filter(Boolean));
for (const [row, c] of rows) {
  const means = cols.map((k) => c[k]?.mean ?? -1);
  const top = Math.max(...means);
  const seeds = seedCounts.size > 1 && c['FSL default'] ? ` (${c['FSL default'].scores.length} seeds)` : '';
  out.push(`| ${row}${seeds} | ${cols.map((k, i) => (means[i] === top && top >= 0 ? `**${fmt(c[k])}**` : fmt(c[k]))).join(' | ')} |`);
  const lr = Object.entries(c).filter(([k]) => k.startsWith('LR ') && !k.includes('TF-IDF')).map(([, v]) => v.mean);
  if (c['FSL default'] && lr.length) gains.best.push([row, (c['FSL default'].mean - Math.max(...lr)) * 100]);
  const anchor = Object.entries(c).find(([k]) => k.includes('TF-IDF'))?.[1];
  if (lang[row] !== 'zh' && c[LIB]?.scores?.length && c['FSL default']) gains.lib.push([row, (c['FSL default'].mean - c[LIB].mean) * 100]);
  if (lang[row] === 'zh' && anchor && c['FSL default']) gains.zh.push([row, (c['FSL default'].mean - anchor.mean) * 100]);
}
const line = (xs, what) => xs.length ? `${what}: ${(xs.reduce((s, [, g]) => s + g, 0) / xs.length).toFixed(1)} pts on average (${xs.map(([r, g]) => `${r} ${g >= 0 ? '+' : ''}${g.toFixed(1)}`).join(', ')})` : `${what}: no rows`;
if (times) {
  const sec = (c) => (c?.msPerRun != null ? (c.msPerRun / 1000).toFixed(c.msPerRun < 1000 ? 2 : c.msPerRun < 10000 ? 1 : 0) : 'n/a');
  out.push('', 'Seconds per run (mean over seeds; see each report for what a column\'s time includes):', '', `| corpus @ K | ${cols.join(' | ')} |`, `|---|${cols.map(() => '---').join('|')}|`);
  for (const [row, c] of rows) out.push(`| ${row} | ${cols.map((k) => sec(c[k])).join(' | ')} |`);
}
out.push('', line(gains.best, 'FSL default vs the best scikit-learn LR column on the same features'), '', line(gains.lib, `English: FSL default vs the ${LIB} on the same body`), '', line(gains.zh, 'Chinese: FSL default vs the character TF-IDF anchor'), '', `Runs: ${files.join(', ')}`);
process.stdout.write(out.join('\n') + '\n');
