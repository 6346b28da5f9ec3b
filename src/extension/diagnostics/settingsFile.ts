/**
 * Undoing a settings fix must not leave behind a `.vscode/settings.json` that the fix created and
 * that now holds nothing. No vscode import (unit-testable).
 */
import * as path from 'node:path';

/** True when a settings file (JSON with comments) holds no setting: empty, `{}`, or only comments around `{}`. */
export function settingsFileIsEmpty(text: string): boolean {
  const bare = text.replace(/^\uFEFF/, '').replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/[^\n]*/g, '').replace(/\s+/g, '');
  return bare === '' || bare === '{}';
}

/** The workspace settings file of a single-folder workspace, and its folder. */
export function workspaceSettingsPaths(folder: string): { dir: string; file: string } {
  const dir = path.join(folder, '.vscode');
  return { dir, file: path.join(dir, 'settings.json') };
}
