/**
 * Result format shared by every suite (unit, extension host, e2e): the mocha
 * reporter and the extension-host runner write it, scripts/test.mjs reads it.
 * Pure module (no playwright, no vscode) so the extension-host runner can use it.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type * as Mocha from 'mocha';

export interface TestResult {
  title: string;
  fullTitle: string;
  file?: string;
  state: 'passed' | 'failed' | 'pending';
  durationMs?: number;
  error?: { message: string; stack?: string };
}

export interface SuiteResult {
  suite: string;
  passed: number;
  failed: number;
  skipped: number;
  durationMs: number;
  tests: TestResult[];
  /** Set when the suite could not run at all (no tests collected for it). */
  error?: string;
}

/** Collects pass/fail/pending events from a mocha Runner. */
export function collectResults(
  runner: Mocha.Runner,
  suite: string,
  onEnd?: (r: SuiteResult) => void,
): { result: SuiteResult; done: Promise<SuiteResult> } {
  const t0 = Date.now();
  const result: SuiteResult = { suite, passed: 0, failed: 0, skipped: 0, durationMs: 0, tests: [] };
  const rec = (t: Mocha.Test | Mocha.Hook, state: TestResult['state'], err?: unknown) => {
    const e = err as { message?: string; stack?: string } | undefined;
    result.tests.push({
      title: t.title,
      fullTitle: t.fullTitle(),
      file: t.file,
      state,
      durationMs: t.duration,
      error: e ? { message: String(e.message ?? e), stack: e.stack } : undefined,
    });
    if (state === 'passed') result.passed++;
    else if (state === 'failed') result.failed++;
    else result.skipped++;
  };
  const done = new Promise<SuiteResult>((resolve) => {
    runner.on('pass', (t) => rec(t, 'passed'));
    runner.on('fail', (t, err) => rec(t, 'failed', err));
    runner.on('pending', (t) => rec(t, 'pending'));
    runner.once('end', () => {
      result.durationMs = Date.now() - t0;
      // Synchronously: mocha --exit may end the process right after 'end'.
      onEnd?.(result);
      resolve(result);
    });
  });
  return { result, done };
}

export function writeResults(file: string, result: SuiteResult): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify(result, null, 2));
  fs.renameSync(tmp, file);
}

export function readResults(file: string): SuiteResult {
  return JSON.parse(fs.readFileSync(file, 'utf8')) as SuiteResult;
}

/** Human-readable per-test lines (used for the extension-host suite, whose output happens elsewhere). */
export function formatResults(r: SuiteResult): string {
  const lines: string[] = [];
  for (const t of r.tests) {
    const mark = t.state === 'passed' ? '  ✓' : t.state === 'failed' ? '  ✗' : '  -';
    const ms = t.durationMs !== undefined && t.state !== 'pending' ? ` (${t.durationMs} ms)` : '';
    lines.push(`${mark} ${t.fullTitle}${ms}`);
    if (t.error) {
      lines.push(`      ${t.error.message.split('\n').join('\n      ')}`);
      const stack = (t.error.stack ?? '').split('\n').filter((l) => /^\s+at /.test(l)).slice(0, 6);
      if (stack.length) lines.push(stack.map((l) => `    ${l.trim()}`).map((l) => `      ${l}`).join('\n'));
    }
  }
  if (r.error) lines.push(`  ! ${r.error}`);
  return lines.join('\n');
}
