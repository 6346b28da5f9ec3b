/**
 * Mocha reporter used by scripts/test.mjs: the usual `spec` output on the
 * console, plus a JSON result file (FEWSHOT_RESULTS_FILE) in the shared format.
 * Usage: mocha --reporter out/test/harness/reporter.js …
 */
import * as Mocha from 'mocha';
import { collectResults, writeResults } from './results';

class FewShotReporter extends Mocha.reporters.Spec {
  constructor(runner: Mocha.Runner, options?: Mocha.MochaOptions) {
    super(runner, options);
    const file = process.env.FEWSHOT_RESULTS_FILE;
    const suite = process.env.FEWSHOT_SUITE ?? 'mocha';
    if (!file) return;
    collectResults(runner, suite, (r) => writeResults(file, r));
  }
}

module.exports = FewShotReporter;
