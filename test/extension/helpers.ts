/** Helpers shared by the extension-host suites (they run inside the real VS Code). */
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { FewShotApi } from '../../src/extension/extension';

export const EXTENSION_ID = 'fewshot-lab.fewshot-lab';

/** The test workspace's folder. */
export function wsRoot(): string {
  const f = vscode.workspace.workspaceFolders?.[0];
  assert.ok(f, 'the test workspace has no folder');
  return f.uri.fsPath;
}

/** The activated extension's test API, once it is ready. */
export async function getApi(): Promise<FewShotApi> {
  const ext = vscode.extensions.getExtension<FewShotApi>(EXTENSION_ID);
  assert.ok(ext, `${EXTENSION_ID} not found`);
  const api = await ext.activate();
  await api.ready;
  return api;
}

/** Resolves when `pred` holds (checked every 100 ms); rejects after `ms`. */
export function until<T>(what: string, ms: number, pred: () => T | undefined | false): Promise<T> {
  return new Promise((resolve, reject) => {
    const t0 = Date.now();
    const tick = () => {
      let v: T | undefined | false;
      try { v = pred(); } catch (e) { return reject(e); }
      if (v) return resolve(v);
      if (Date.now() - t0 > ms) return reject(new Error(`timed out after ${ms} ms waiting for ${what}`));
      setTimeout(tick, 100);
    };
    tick();
  });
}
