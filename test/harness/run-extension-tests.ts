/**
 * CLI used by scripts/test.mjs: runs the extension-host suite and writes the
 * shared result JSON. Usage:
 *   node out/test/harness/run-extension-tests.js [--grep X] [--results FILE]
 */
import { formatResults, writeResults } from './results';
import { runExtensionTests } from './extensionHost';

async function main(): Promise<number> {
  const argv = process.argv.slice(2);
  const arg = (name: string) => {
    const i = argv.indexOf(name);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const grep = arg('--grep') ?? process.env.FEWSHOT_TEST_GREP;
  const resultsFile = arg('--results');
  const result = await runExtensionTests({ grep: grep || undefined });
  console.log(formatResults(result));
  if (resultsFile) writeResults(resultsFile, result);
  return result.failed > 0 || result.error ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (e) => {
    console.error(e instanceof Error ? e.stack : e);
    process.exit(1);
  },
);
