/**
 * Runs the mocha suites of out/test/extension/ INSIDE code-server's real
 * extension host: opens the workbench with an extensionDevelopmentPath +
 * extensionTestsPath payload in chromium, then waits for the results file that
 * test/extension/index.ts writes.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { launchBrowser, saveFailureArtifacts, Browser } from './browser';
import { startCodeServer, CodeServer } from './codeServer';
import { extensionTestsIndex, removeDir, repoRoot, scratchDir } from './paths';
import { readResults, SuiteResult } from './results';
import { makeScratchWorkspace } from './workspace';

/** Options handed to test/extension/index.ts (file next to it, and env). */
export interface ExtensionTestOptions {
  resultsFile: string;
  startedFile: string;
  grep?: string;
  timeoutMs?: number;
  workspace: string;
}
export const OPTIONS_FILE_NAME = 'test-options.json';

export interface RunExtensionTestsOptions {
  grep?: string;
  /** Overall limit (default 10 min, or FEWSHOT_EXT_TIMEOUT_MS). */
  timeoutMs?: number;
  /** Per-test mocha timeout inside the host (default 60 s). */
  testTimeoutMs?: number;
  /** Workspace to open (default: a scratch copy of test/fixtures/workspace). */
  workspace?: string;
  log?: (line: string) => void;
}

export async function runExtensionTests(opts: RunExtensionTestsOptions = {}): Promise<SuiteResult> {
  const log = opts.log ?? ((l: string) => process.stdout.write(l + '\n'));
  const t0 = Date.now();
  const overall = opts.timeoutMs ?? Number(process.env.FEWSHOT_EXT_TIMEOUT_MS ?? 600_000);
  if (!fs.existsSync(extensionTestsIndex)) throw new Error(`${extensionTestsIndex} is missing: run \`node scripts/build.mjs --tests\``);
  if (!fs.existsSync(path.join(repoRoot, 'dist', 'extension.js'))) throw new Error('dist/extension.js is missing: run `node scripts/build.mjs`');

  const scratch = scratchDir('exthost');
  const workspace = opts.workspace ?? makeScratchWorkspace('extension');
  const options: ExtensionTestOptions = {
    resultsFile: path.join(scratch, 'results.json'),
    startedFile: path.join(scratch, 'started'),
    grep: opts.grep,
    timeoutMs: opts.testTimeoutMs,
    workspace,
  };
  // The extension host inherits code-server's environment, so FEWSHOT_TEST_OPTIONS
  // points it at this run's own options file (parallel runs do not collide).
  const optionsFile = path.join(scratch, OPTIONS_FILE_NAME);
  fs.writeFileSync(optionsFile, JSON.stringify(options, null, 2));

  let server: CodeServer | undefined;
  let browser: Browser | undefined;
  let ok = false;
  try {
    server = await startCodeServer({ name: 'extension', workspace, env: { FEWSHOT_TEST_OPTIONS: optionsFile } });
    log(`extension: code-server on ${server.baseUrl} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
    browser = await launchBrowser('extension');
    const url = server.workbenchUrl({ extensionDevelopmentPath: repoRoot, extensionTestsPath: extensionTestsIndex });
    await browser.page.goto(url, { waitUntil: 'domcontentloaded', timeout: 90_000 });

    const deadline = t0 + overall;
    const startMs = Number(process.env.FEWSHOT_EXT_START_TIMEOUT_MS ?? 300_000);
    const startDeadline = Date.now() + startMs;
    let started = false;
    for (;;) {
      if (fs.existsSync(options.resultsFile)) break;
      if (!started && fs.existsSync(options.startedFile)) {
        started = true;
        log(`extension: tests started in the extension host (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
      }
      if (!started && Date.now() > startDeadline) throw new Error(`the extension host did not start the tests within ${Math.round(startMs / 1000)} s (see the logs in test-results/failures/extension-host)`);
      if (Date.now() > deadline) throw new Error(`extension tests did not finish within ${Math.round(overall / 1000)} s`);
      if (server.process.exitCode !== null) throw new Error(`code-server exited (${server.process.exitCode}) before the tests finished`);
      await new Promise((r) => setTimeout(r, 250));
    }
    const result = readResults(options.resultsFile);
    result.durationMs = Date.now() - t0;
    ok = result.failed === 0 && !result.error;
    return result;
  } catch (e) {
    return {
      suite: 'extension',
      passed: 0,
      failed: 1,
      skipped: 0,
      durationMs: Date.now() - t0,
      tests: [],
      error: e instanceof Error ? e.message : String(e),
    };
  } finally {
    if (!ok) {
      const dest = await saveFailureArtifacts('extension-host', browser, server);
      log(`extension: screenshot and logs saved in ${path.relative(process.cwd(), dest) || dest}`);
    }
    await browser?.close();
    await server?.stop();
    removeDir(scratch);
    if (!opts.workspace) removeDir(path.dirname(workspace));
  }
}
