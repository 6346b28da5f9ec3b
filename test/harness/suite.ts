/** Shared mocha hooks for browser suites. */
import * as path from 'node:path';
import { saveFailureArtifacts, type Browser } from './browser';
import type { CodeServer } from './codeServer';
import { removeDir } from './paths';

/**
 * Registers the teardown every browser suite needs: failure artifacts (screenshot,
 * console, logs) for each failed test under `<prefix>-<title>`, then the browser
 * and code-server stopped and the scratch workspace removed — also after a failure.
 * `state` is read when the hooks run, so suites can fill their variables in `before`.
 */
export function cleanUpSuite(prefix: string, state: () => { browser?: Browser; server?: CodeServer; workspace?: string }): void {
  afterEach(async function () {
    const s = state();
    if (this.currentTest?.state === 'failed') await saveFailureArtifacts(`${prefix}-${this.currentTest.title}`, s.browser, s.server);
  });
  after(async () => {
    const s = state();
    await s.browser?.close();
    await s.server?.stop();
    if (s.workspace) removeDir(path.dirname(s.workspace));
  });
}
