/** Runs inside the extension host (see test/extension/index.ts). */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';

const EXTENSION_ID = 'fewshot-lab.fewshot-lab';
// Module paths the extension host must never load (ML runs in child processes).
const FORBIDDEN = /@huggingface[\\/]transformers|onnxruntime|@tensorflow[\\/]|@energetic-ai[\\/]/;

function repoPackageJson(): { name: string; version: string; publisher: string; contributes: { commands: { command: string }[] } } {
  // out/test/extension/ → repository root
  return JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', '..', 'package.json'), 'utf8'));
}

describe('activation', () => {
  let ext: vscode.Extension<unknown> | undefined;

  before(async function () {
    this.timeout(120_000);
    ext = vscode.extensions.getExtension(EXTENSION_ID);
    if (!ext) return;
    const api = (await ext.activate()) as { ready?: Promise<void> } | undefined;
    if (api && api.ready) await api.ready;
  });

  it(`finds the extension ${EXTENSION_ID} from this repository and activates it`, () => {
    assert.ok(ext, `extension ${EXTENSION_ID} is not loaded`);
    const pkg = repoPackageJson();
    assert.equal(`${pkg.publisher}.${pkg.name}`, EXTENSION_ID);
    assert.equal(fs.realpathSync(ext.extensionPath), fs.realpathSync(path.join(__dirname, '..', '..', '..')));
    assert.equal((ext.packageJSON as { version: string }).version, pkg.version);
    assert.equal(ext.isActive, true);
  });

  it('registers every fewshot.* command contributed in package.json', async () => {
    const contributed = repoPackageJson()
      .contributes.commands.map((c) => c.command)
      .filter((c) => c.startsWith('fewshot.'));
    assert.ok(contributed.length > 0, 'package.json contributes no fewshot.* command');
    const registered = new Set(await vscode.commands.getCommands(true));
    const missing = contributed.filter((c) => !registered.has(c));
    assert.ok(missing.length === 0, `commands contributed but not registered: ${missing.join(', ')}`);
  });

  it('keeps ML libraries out of the extension host', () => {
    const loaded = Object.keys(require.cache).filter((p) => FORBIDDEN.test(p));
    assert.ok(loaded.length === 0, `the extension host loaded: ${loaded.slice(0, 5).join(', ')}`);
  });
});
