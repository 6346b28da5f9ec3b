/**
 * Mocha runner that VS Code loads INSIDE the extension host (extensionTestsPath).
 * It runs every out/test/extension/**\/*.test.js file and writes the results as
 * JSON for the harness (test/harness/extensionHost.ts) to read.
 *
 * Options come from a JSON file the harness writes next to this file
 * (test-options.json), or from the file named by FEWSHOT_TEST_OPTIONS:
 *   { resultsFile, startedFile, grep?, timeoutMs? }
 * FEWSHOT_TEST_GREP in the environment also works when the host carries it.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import Mocha from 'mocha';
import { collectResults, writeResults, SuiteResult } from '../harness/results';

interface Options {
  resultsFile?: string;
  startedFile?: string;
  grep?: string;
  timeoutMs?: number;
}

function readOptions(): Options {
  const candidates = [process.env.FEWSHOT_TEST_OPTIONS, path.join(__dirname, 'test-options.json')].filter(Boolean) as string[];
  for (const file of candidates) {
    try {
      return JSON.parse(fs.readFileSync(file, 'utf8')) as Options;
    } catch {
      /* try the next one */
    }
  }
  return {};
}

function findTests(dir: string): string[] {
  const out: string[] = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...findTests(p));
    else if (entry.name.endsWith('.test.js')) out.push(p);
  }
  return out.sort();
}

export async function run(): Promise<void> {
  const opts = readOptions();
  const resultsFile = opts.resultsFile ?? path.join(__dirname, '..', '..', '..', 'test-results', 'extension-host-results.json');
  if (opts.startedFile) fs.writeFileSync(opts.startedFile, String(process.pid));
  const grep = process.env.FEWSHOT_TEST_GREP || opts.grep;
  const mocha = new Mocha({ ui: 'bdd', color: false, reporter: 'spec', timeout: opts.timeoutMs ?? 60_000, ...(grep ? { grep } : {}) });
  const files = findTests(__dirname);
  for (const f of files) mocha.addFile(f);
  let result: SuiteResult;
  try {
    await mocha.loadFilesAsync();
    const runner = mocha.run();
    result = await collectResults(runner, 'extension').done;
    if (files.length === 0) result.error = 'no extension-host tests found';
  } catch (e) {
    result = {
      suite: 'extension',
      passed: 0,
      failed: 1,
      skipped: 0,
      durationMs: 0,
      tests: [],
      error: `could not load the extension-host tests: ${e instanceof Error ? e.stack : String(e)}`,
    };
  }
  writeResults(resultsFile, result);
  if (result.failed > 0) throw new Error(`${result.failed} extension-host test(s) failed`);
}
