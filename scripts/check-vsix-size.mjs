#!/usr/bin/env node
// Size budget of the packaged extension (issue 16: ≤ 60 MB including the offline encoder models).
//   node scripts/check-vsix-size.mjs [FILE.vsix] [--max-mb N]
// Without FILE it packages one first (node scripts/package.mjs --no-build, which also verifies
// that the runtime dependencies load from the unpacked copy) into test-results/.
// Prints the size and the largest parts (compressed, as stored in the .vsix); exit 1 above the budget.
// MB here is 2^20 bytes, as vsce prints it.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(fileURLToPath(new URL('..', import.meta.url)));
const args = process.argv.slice(2);
const maxIdx = args.indexOf('--max-mb');
const maxMb = maxIdx >= 0 ? Number(args[maxIdx + 1]) : 60;
if (!(maxMb > 0)) {
  console.error(`check-vsix-size: --max-mb needs a positive number of MB, got "${args[maxIdx + 1]}"`);
  process.exit(2);
}
const positional = args.filter((a, i) => !a.startsWith('--') && (maxIdx < 0 || i !== maxIdx + 1));
let vsix = positional[0] ? resolve(positional[0]) : undefined;
if (!vsix) {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  mkdirSync(join(root, 'test-results'), { recursive: true });
  vsix = join(root, 'test-results', `${pkg.name}-${pkg.version}-linux-x64.vsix`);
  const r = spawnSync(process.execPath, [join(root, 'scripts', 'package.mjs'), '--no-build', '--out', vsix], { stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8' });
  // vsce's file tree is long: keep our own summary lines
  process.stdout.write(r.stdout.split('\n').filter((l) => l.startsWith('package:') || /ERROR|WARNING/.test(l)).join('\n') + '\n');
  if (r.status !== 0) {
    console.error('check-vsix-size: packaging failed (see above)');
    process.exit(1);
  }
}
if (!existsSync(vsix)) {
  console.error(`check-vsix-size: ${vsix} does not exist\n  fix: give the path of a .vsix, or run without one to package it`);
  process.exit(2);
}

const bytes = statSync(vsix).size;
const mb = (b) => (b / 1024 / 1024).toFixed(1);
// Compressed size per part: extension/<top folder>, or node_modules/<package>.
const list = spawnSync('unzip', ['-v', vsix], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
if (list.status !== 0) {
  console.error(`check-vsix-size: unzip -v ${vsix} failed: ${list.stderr || list.error}`);
  process.exit(1);
}
const parts = new Map();
for (const line of list.stdout.split('\n')) {
  const m = /^\s*\d+\s+\S+\s+(\d+)\s+\S+\s+\S+\s+\S+\s+[0-9a-f]{8}\s+(extension\/.+)$/.exec(line);
  if (!m) continue;
  const p = m[2].split('/');
  const key = p[1] === 'node_modules' ? `node_modules/${p[2].startsWith('@') ? `${p[2]}/${p[3]}` : p[2]}` : p.length > 2 ? `${p[1]}/` : p[1];
  parts.set(key, (parts.get(key) ?? 0) + Number(m[1]));
}
const top = [...parts].sort((a, b) => b[1] - a[1]).slice(0, 10);
console.log(`check-vsix-size: ${vsix}: ${mb(bytes)} MB (${bytes} bytes), budget ${maxMb} MB`);
for (const [k, v] of top) console.log(`  ${mb(v).padStart(6)} MB  ${k}`);
if (bytes > maxMb * 1024 * 1024) {
  console.error(`check-vsix-size: the .vsix is ${mb(bytes)} MB, over the ${maxMb} MB budget\n  fix: leave out what the product never loads (.vscodeignore, scripts/build.mjs), or shrink the largest parts above`);
  process.exit(1);
}
