#!/usr/bin/env node
// Test runner. `npm test` runs everything in order:
//   build (node scripts/build.mjs --tests) → type-check (tsc) → lint (ESLint, eslint.config.mjs) → unit → python → extension → package → e2e
// `python` is pytest on python/tests (the fine-tuning worker) with the interpreter FEWSHOT_PYTHON (else python3;
// .ci/run exports its venv); pytest's exit 5 ("no tests collected") counts as a failure.
// `package` packages the .vsix into test-results/ (scripts/check-vsix-size.mjs: it must load from the unpacked
// copy and stay within the size budget); the e2e suite then installs that file (FEWSHOT_VSIX) instead of packaging again.
// `npm test -- unit|python|extension|e2e [more suites] [--grep X]` runs only those suites
// (after the build; no type-check or lint unless `typecheck` / `lint` is named; `typecheck`
// and `lint` alone skip the build).
// Each suite writes test-results/<suite>.json; a summary line per suite and a
// final `N passed, N failed[, N skipped]` line end the output. Exit 1 on any failure.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(fileURLToPath(new URL('..', import.meta.url)));
process.chdir(root);
const results = join(root, 'test-results');
const SUITES = ['unit', 'python', 'extension', 'package', 'e2e'];

const argv = process.argv.slice(2);
let grep = process.env.FEWSHOT_TEST_GREP || undefined;
const chosen = [];
let noBuild = false;
for (let i = 0; i < argv.length; i++) {
  const a = argv[i];
  if (a === '--grep' || a === '-g') grep = argv[++i];
  else if (a.startsWith('--grep=')) grep = a.slice(7);
  else if (a === '--no-build') noBuild = true;
  else if (SUITES.includes(a) || a === 'typecheck' || a === 'lint') chosen.push(a);
  else if (a === '--help' || a === '-h') {
    console.log('usage: node scripts/test.mjs [typecheck|lint|unit|python|extension|package|e2e …] [--grep PATTERN] [--no-build]');
    process.exit(0);
  } else {
    console.error(`test: unknown argument ${a} (expected typecheck, lint, unit, python, extension, package, e2e, --grep X, --no-build)`);
    process.exit(2);
  }
}
const runAll = chosen.length === 0;
const steps = runAll ? ['typecheck', 'lint', ...SUITES] : chosen;
// Type-check, lint and pytest read the sources, not the bundles.
if (steps.every((s) => s === 'typecheck' || s === 'lint' || s === 'python')) noBuild = true;

function secs(ms) {
  return `${(ms / 1000).toFixed(1)} s`;
}

function findTests(dir) {
  if (!existsSync(dir)) return [];
  const out = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...findTests(p));
    else if (name.endsWith('.test.js')) out.push(p);
  }
  return out.sort();
}

function runChild(cmd, args, env = {}) {
  return new Promise((resolvePromise) => {
    const child = spawn(cmd, args, { stdio: 'inherit', env: { ...process.env, ...env } });
    const forward = (sig) => child.kill(sig);
    process.on('SIGINT', forward);
    process.on('SIGTERM', forward);
    child.on('exit', (code, signal) => {
      process.off('SIGINT', forward);
      process.off('SIGTERM', forward);
      resolvePromise(code ?? (signal ? 128 : 1));
    });
  });
}

function readSuiteResult(file) {
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    return undefined;
  }
}

const summary = [];
function record(name, r) {
  summary.push({ name, ...r });
}

// 1. Build
if (!noBuild) {
  const t = Date.now();
  console.log('\n== build: node scripts/build.mjs --tests');
  // Drop compiled tests whose source is gone (not all of out/: other runs may be using it).
  for (const suite of ['unit', 'extension', 'e2e']) {
    for (const f of findTests(join(root, 'out', 'test', suite))) {
      const src = join(root, 'test', suite, relative(join(root, 'out', 'test', suite), f)).replace(/\.js$/, '.ts');
      if (!existsSync(src)) {
        rmSync(f, { force: true });
        rmSync(`${f}.map`, { force: true });
      }
    }
  }
  const r = spawnSync(process.execPath, ['scripts/build.mjs', '--tests'], { stdio: 'inherit' });
  // A failed bundle fails the run, but the suites still run on what did build
  // (esbuild writes the bundles that compiled), so one broken feature does not
  // hide every other result.
  record('build', { passed: 0, failed: r.status === 0 ? 0 : 1, skipped: 0, ms: Date.now() - t, note: r.status === 0 ? 'ok' : 'failed' });
  console.log(`build: ${r.status === 0 ? 'ok' : 'FAILED'} (${secs(Date.now() - t)})`);
}
mkdirSync(results, { recursive: true });

for (const step of steps) {
  const t = Date.now();
  if (step === 'typecheck') {
    console.log('\n== typecheck: tsc -p . --noEmit');
    const code = await runChild(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', '.', '--noEmit']);
    record('typecheck', { passed: 0, failed: code === 0 ? 0 : 1, skipped: 0, ms: Date.now() - t, note: code === 0 ? 'ok' : 'type errors' });
    continue;
  }

  if (step === 'lint') {
    // Layer import rules and a modest recommended set (see eslint.config.mjs); counts as one test.
    console.log('\n== lint: eslint .');
    const code = await runChild(process.execPath, [join(root, 'node_modules', 'eslint', 'bin', 'eslint.js'), '.']);
    record('lint', { passed: code === 0 ? 1 : 0, failed: code === 0 ? 0 : 1, skipped: 0, ms: Date.now() - t, note: code === 0 ? 'no problems' : `eslint exited ${code}` });
    continue;
  }

  if (step === 'package') {
    // A budget check, counted as one test: packaging, loading from the unpacked copy, size.
    console.log('\n== package: node scripts/check-vsix-size.mjs');
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
    const vsix = join(results, `${pkg.name}-${pkg.version}-linux-x64.vsix`);
    rmSync(vsix, { force: true });
    const code = await runChild(process.execPath, [join(root, 'scripts', 'check-vsix-size.mjs')]);
    if (existsSync(vsix)) process.env.FEWSHOT_VSIX = vsix;
    record('package', { passed: code === 0 ? 1 : 0, failed: code === 0 ? 0 : 1, skipped: 0, ms: Date.now() - t, note: code === 0 ? undefined : 'packaging or size budget failed' });
    continue;
  }

  if (step === 'python') {
    const r = await runPytest(grep);
    record('python', { ...r, ms: Date.now() - t });
    continue;
  }

  if (step === 'unit' || step === 'e2e') {
    const files = findTests(join(root, 'out', 'test', step));
    console.log(`\n== ${step}: mocha (${files.length} file${files.length === 1 ? '' : 's'})${grep ? ` --grep ${grep}` : ''}`);
    if (files.length === 0) {
      console.log(`${step}: no tests found in out/test/${step}`);
      record(step, { passed: 0, failed: 0, skipped: 0, ms: 0, note: 'no tests found' });
      continue;
    }
    const resultFile = join(results, `${step}.json`);
    rmSync(resultFile, { force: true });
    const args = [
      join(root, 'node_modules', 'mocha', 'bin', 'mocha.js'),
      '--reporter', join(root, 'out', 'test', 'harness', 'reporter.js'),
      '--timeout', step === 'e2e' ? '300000' : '20000',
      ...(step === 'e2e' ? ['--slow', '30000'] : []),
      '--exit',
      ...(grep ? ['--grep', grep] : []),
      ...files.map((f) => relative(root, f)),
    ];
    const code = await runChild(process.execPath, args, { FEWSHOT_RESULTS_FILE: resultFile, FEWSHOT_SUITE: step });
    const r = readSuiteResult(resultFile);
    if (!r) record(step, { passed: 0, failed: 1, skipped: 0, ms: Date.now() - t, note: `mocha exited ${code} without results` });
    else record(step, { passed: r.passed, failed: r.failed + (code !== 0 && r.failed === 0 ? 1 : 0), skipped: r.skipped, ms: Date.now() - t });
    continue;
  }

  if (step === 'extension') {
    const files = findTests(join(root, 'out', 'test', 'extension'));
    console.log(`\n== extension: mocha inside code-server's extension host (${files.length} file${files.length === 1 ? '' : 's'})${grep ? ` --grep ${grep}` : ''}`);
    if (files.length === 0) {
      console.log('extension: no tests found in out/test/extension');
      record(step, { passed: 0, failed: 0, skipped: 0, ms: 0, note: 'no tests found' });
      continue;
    }
    const setup = spawnSync(process.execPath, ['scripts/setup-code-server.mjs'], { stdio: 'inherit' });
    if (setup.status !== 0) {
      record(step, { passed: 0, failed: 1, skipped: 0, ms: Date.now() - t, note: 'code-server setup failed' });
      continue;
    }
    const resultFile = join(results, 'extension.json');
    rmSync(resultFile, { force: true });
    const code = await runChild(process.execPath, [
      join(root, 'out', 'test', 'harness', 'run-extension-tests.js'),
      '--results', resultFile,
      ...(grep ? ['--grep', grep] : []),
    ]);
    const r = readSuiteResult(resultFile);
    if (!r) record(step, { passed: 0, failed: 1, skipped: 0, ms: Date.now() - t, note: `runner exited ${code} without results` });
    else record(step, { passed: r.passed, failed: r.failed + (code !== 0 && r.failed === 0 ? 1 : 0), skipped: r.skipped, ms: Date.now() - t, note: r.error });
  }
}

/**
 * pytest on python/tests with FEWSHOT_PYTHON (else python3), PYTHONPATH=python. Counts come from its JUnit
 * XML (tests, failures, errors, skipped); exit 5 (no tests collected) and a missing pytest are failures.
 */
async function runPytest(pattern) {
  const python = process.env.FEWSHOT_PYTHON || 'python3';
  const tests = join(root, 'python', 'tests');
  console.log(`\n== python: pytest python/tests -q (${python})${pattern ? ` -k ${pattern}` : ''}`);
  if (!existsSync(tests)) {
    console.log('python: python/tests does not exist');
    return { passed: 0, failed: 1, skipped: 0, note: 'python/tests missing' };
  }
  const probe = spawnSync(python, ['-c', 'import pytest'], { encoding: 'utf8' });
  if (probe.status !== 0) {
    const why = probe.error ? probe.error.message : (probe.stderr || '').trim().split('\n').pop();
    console.log(`python: cannot run pytest with ${python}: ${why}\n  fix: set FEWSHOT_PYTHON to a venv with python/requirements-dev.txt (.ci/run makes one), or run \`fewshot setup\``);
    return { passed: 0, failed: 1, skipped: 0, note: `no pytest in ${python}` };
  }
  const xml = join(results, 'python.xml');
  rmSync(xml, { force: true });
  const code = await runChild(python, ['-m', 'pytest', tests, '-q', '-p', 'no:cacheprovider', `--junitxml=${xml}`, ...(pattern ? ['-k', pattern] : [])], {
    PYTHONPATH: [join(root, 'python'), process.env.PYTHONPATH].filter(Boolean).join(process.platform === 'win32' ? ';' : ':'),
    PYTHONDONTWRITEBYTECODE: '1',
  });
  let counts = { tests: 0, failures: 0, errors: 0, skipped: 0 };
  try {
    const text = readFileSync(xml, 'utf8');
    const suites = [...text.matchAll(/<testsuite\b([^>]*)>/g)].map((m) => m[1]);
    for (const attrs of suites) {
      for (const k of Object.keys(counts)) {
        const v = new RegExp(`\\b${k}="(\\d+)"`).exec(attrs);
        if (v) counts[k] += Number(v[1]);
      }
    }
  } catch { /* no XML: counted below */ }
  const failed = counts.failures + counts.errors;
  const passed = Math.max(0, counts.tests - failed - counts.skipped);
  if (code === 5) return { passed, failed: failed || 1, skipped: counts.skipped, note: 'pytest collected no tests (exit 5)' };
  if (code !== 0 && failed === 0) return { passed, failed: 1, skipped: counts.skipped, note: `pytest exited ${code}` };
  return { passed, failed, skipped: counts.skipped };
}

console.log('\n== summary');
let passed = 0;
let failed = 0;
let skipped = 0;
for (const s of summary) {
  passed += s.passed;
  failed += s.failed;
  skipped += s.skipped;
  const counts = s.name === 'typecheck' || s.name === 'build' ? s.note : `${s.passed} passed, ${s.failed} failed${s.skipped ? `, ${s.skipped} skipped` : ''}`;
  const note = s.note && s.name !== 'typecheck' && s.name !== 'build' ? ` (${s.note})` : '';
  console.log(`${s.name}: ${counts}${note} [${secs(s.ms)}]`);
}
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(failed > 0 ? 1 : 0);
