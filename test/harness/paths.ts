/**
 * Paths shared by the test harness. Works from the TypeScript sources and from
 * the esbuild bundles in out/ (it looks for the repository's package.json).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

function findRepoRoot(): string {
  const starts = [__dirname, process.cwd()];
  for (const start of starts) {
    let dir = path.resolve(start);
    for (;;) {
      const pkg = path.join(dir, 'package.json');
      if (fs.existsSync(pkg)) {
        try {
          if (JSON.parse(fs.readFileSync(pkg, 'utf8')).name === 'fewshot-lab') return dir;
        } catch {
          /* keep looking */
        }
      }
      const up = path.dirname(dir);
      if (up === dir) break;
      dir = up;
    }
  }
  throw new Error('test harness: cannot find the fewshot-lab repository root (package.json)');
}

/** Repository root (the extension's folder, i.e. extensionDevelopmentPath). */
export const repoRoot = findRepoRoot();
/** Where failure screenshots, logs and result files go. */
export const resultsDir = path.join(repoRoot, 'test-results');
/** Base content for scratch workspaces. */
export const fixtureWorkspace = path.join(repoRoot, 'test', 'fixtures', 'workspace');
/** Compiled extension-host test runner. */
export const extensionTestsIndex = path.join(repoRoot, 'out', 'test', 'extension', 'index.js');
export const codeServerDir = path.join(repoRoot, '.cache', 'code-server');
export const codeServerEntry = path.join(codeServerDir, 'node_modules', 'code-server', 'out', 'node', 'entry.js');

/** A fresh, empty scratch folder under test-results/tmp (or the OS temp dir as a fallback). */
export function scratchDir(prefix: string): string {
  const base = path.join(resultsDir, 'tmp');
  try {
    fs.mkdirSync(base, { recursive: true });
    return fs.mkdtempSync(path.join(base, `${sanitize(prefix)}-`));
  } catch {
    return fs.mkdtempSync(path.join(os.tmpdir(), `fewshot-${sanitize(prefix)}-`));
  }
}

export function sanitize(name: string): string {
  return name.replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^_+|_+$/g, '').slice(0, 80) || 'x';
}

export function removeDir(dir: string): void {
  try {
    fs.rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
  } catch {
    /* best effort */
  }
}
