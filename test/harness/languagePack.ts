/**
 * A minimal VS Code language pack, built offline as a .vsix for code-server's `--install-extension`.
 *
 * code-server resolves the display language (`--locale`, argv.json) to a language pack listed in
 * <user-data>/languagepacks.json, which VS Code fills when an extension that contributes
 * `localizations` is installed. Without one the workbench stays English — and so do
 * `vscode.env.language`, the extension's package.nls.<lang>.json and its vscode.l10n bundle. The pack
 * needs a `translations` file for the id `vscode`: `{ contents: { <module>: { <key>: text } } }`, with
 * the module names and keys of code-server's lib/vscode/out/nls.keys.json; untranslated keys stay English.
 * `code-server --install-extension` installs the pack but does not list it in languagepacks.json (only the
 * running server's install does), so `registerLanguagePacks` writes that file as VS Code's language-pack
 * cache would, before the workbench page is loaded (code-server reads it per page load).
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';

/** Core workbench strings a test can look for (module → key → text), Simplified Chinese. */
export const ZH_CORE_STRINGS: Record<string, Record<string, string>> = {
  'vs/workbench/contrib/markers/browser/markers.contribution': { problems: '问题', 'status.problems': '问题' },
  'vs/workbench/contrib/markers/browser/messages': { 'markers.panel.title.problems': '问题' },
  'vs/workbench/contrib/files/browser/explorerViewlet': { explore: '资源管理器' },
};

/**
 * Writes `<dir>/<name>.vsix`: a language pack for `languageId` with `strings` as its core translations.
 * Uses the `zip` command (installed by .ci/run). Returns the file.
 */
export function buildLanguagePack(dir: string, opts: { languageId: string; languageName: string; localizedName: string; strings: Record<string, Record<string, string>> }): string {
  const root = fs.mkdtempSync(path.join(dir, 'langpack-'));
  const ext = path.join(root, 'extension');
  fs.mkdirSync(path.join(ext, 'translations'), { recursive: true });
  const name = `test-language-pack-${opts.languageId}`;
  const manifest = {
    name, publisher: 'fewshot-test', displayName: `Test language pack (${opts.languageName})`, version: '1.0.0',
    engines: { vscode: '^1.100.0' }, categories: ['Language Packs'],
    contributes: {
      localizations: [{
        languageId: opts.languageId, languageName: opts.languageName, localizedLanguageName: opts.localizedName,
        translations: [{ id: 'vscode', path: './translations/main.i18n.json' }],
      }],
    },
  };
  fs.writeFileSync(path.join(ext, 'package.json'), JSON.stringify(manifest, null, 2));
  fs.writeFileSync(path.join(ext, 'translations', 'main.i18n.json'), JSON.stringify({ version: '1.0.0', contents: opts.strings }, null, 2));
  const vsix = path.join(dir, `${name}.vsix`);
  fs.rmSync(vsix, { force: true });
  const r = spawnSync('zip', ['-q', '-r', vsix, 'extension'], { cwd: root, encoding: 'utf8' });
  if (r.error || r.status !== 0) throw new Error(`buildLanguagePack: zip failed (${r.error?.message ?? r.stderr}); install it: apt-get install zip`);
  fs.rmSync(root, { recursive: true, force: true });
  return vsix;
}

/**
 * Lists the language packs installed in `extensionsDir` in `<userDataDir>/languagepacks.json`, in the format of
 * VS Code's LanguagePacksCache (hash = md5 of the extension ids and versions; translations by id, absolute paths).
 */
export function registerLanguagePacks(server: { extensionsDir: string; userDataDir: string }): string[] {
  const packs: Record<string, { hash: string; extensions: { extensionIdentifier: { id: string }; version: string }[]; translations: Record<string, string>; label: string }> = {};
  for (const name of fs.readdirSync(server.extensionsDir)) {
    const dir = path.join(server.extensionsDir, name);
    const file = path.join(dir, 'package.json');
    if (!fs.existsSync(file)) continue;
    const m = JSON.parse(fs.readFileSync(file, 'utf8')) as { name: string; publisher: string; version: string; contributes?: { localizations?: { languageId: string; languageName?: string; localizedLanguageName?: string; translations: { id: string; path: string }[] }[] } };
    for (const loc of m.contributes?.localizations ?? []) {
      const id = `${m.publisher}.${m.name}`.toLowerCase();
      const entry = (packs[loc.languageId] ??= { hash: '', extensions: [], translations: {}, label: loc.localizedLanguageName ?? loc.languageName ?? loc.languageId });
      entry.extensions.push({ extensionIdentifier: { id }, version: m.version });
      for (const tr of loc.translations) entry.translations[tr.id] = path.join(dir, tr.path);
    }
  }
  for (const p of Object.values(packs)) {
    const h = createHash('md5');
    for (const e of p.extensions) h.update(e.extensionIdentifier.id).update(e.version);
    p.hash = h.digest('hex');
  }
  fs.writeFileSync(path.join(server.userDataDir, 'languagepacks.json'), JSON.stringify(packs));
  return Object.keys(packs);
}
