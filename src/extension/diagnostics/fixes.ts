/**
 * Client side of the quick fixes: every change goes through an undo stack.
 * File moves use WorkspaceEdit renames (so Explorer undo works as well) and
 * settings changes remember the previous workspace value.
 */
import * as vscode from 'vscode';
import * as path from 'node:path';
import { withSilenced } from '../../server/analysis/fixes';
import { settingsFileIsEmpty, workspaceSettingsPaths } from './settingsFile';

export type UndoEntry =
  | { kind: 'moves'; title: string; moves: { from: string; to: string }[]; createdDirs: string[] }
  | { kind: 'setting'; title: string; section: string; key: string; previous: unknown; created?: { file?: string; dir?: string } }
  /** Text edits (e.g. a label cell); `undo` = the edits that restore the file, applied and saved on undo. */
  | { kind: 'text'; title: string; file: string; undo: { range: vscode.Range; newText: string }[] };

export class FixUndoStack {
  private entries: UndoEntry[] = [];

  push(e: UndoEntry): void {
    this.entries.push(e);
    if (this.entries.length > 20) this.entries.shift();
  }
  get size(): number {
    return this.entries.length;
  }
  peek(): UndoEntry | undefined {
    return this.entries[this.entries.length - 1];
  }

  /** Undo the last fix; returns it, or undefined when there is nothing to undo. */
  async undo(): Promise<UndoEntry | undefined> {
    const e = this.entries.pop();
    if (!e) return undefined;
    if (e.kind === 'setting') {
      await vscode.workspace.getConfiguration(e.section).update(e.key, e.previous, vscode.ConfigurationTarget.Workspace);
      await removeIfEmpty(e.created);
      return e;
    }
    if (e.kind === 'text') {
      const edit = new vscode.WorkspaceEdit();
      for (const u of e.undo) edit.replace(vscode.Uri.file(e.file), u.range, u.newText);
      if (!(await vscode.workspace.applyEdit(edit))) {
        this.entries.push(e);
        throw new Error(vscode.l10n.t('Could not restore {0}.', e.file));
      }
      await (await vscode.workspace.openTextDocument(vscode.Uri.file(e.file))).save();
      return e;
    }
    const edit = new vscode.WorkspaceEdit();
    for (const m of e.moves.slice().reverse()) edit.renameFile(vscode.Uri.file(m.to), vscode.Uri.file(m.from), { overwrite: false });
    if (!(await vscode.workspace.applyEdit(edit))) {
      this.entries.push(e);
      throw new Error(vscode.l10n.t('Could not move the files back. Check that they still exist in the test folder.'));
    }
    // remove the folders the fix created, deepest first, if they are empty again
    for (const dir of e.createdDirs.slice().sort((a, b) => b.length - a.length)) {
      try {
        const entries = await vscode.workspace.fs.readDirectory(vscode.Uri.file(dir));
        if (entries.length === 0) await vscode.workspace.fs.delete(vscode.Uri.file(dir), { recursive: false, useTrash: false });
      } catch { /* already gone */ }
    }
    return e;
  }
}

async function exists(p: string): Promise<boolean> {
  try {
    await vscode.workspace.fs.stat(vscode.Uri.file(p));
    return true;
  } catch {
    return false;
  }
}

/** Apply file moves as one WorkspaceEdit; records the undo entry. */
export async function applyMoves(stack: FixUndoStack, title: string, moves: { from: string; to: string }[]): Promise<boolean> {
  const createdDirs: string[] = [];
  for (const m of moves) {
    let dir = path.dirname(m.to);
    const chain: string[] = [];
    while (!(await exists(dir)) && !createdDirs.includes(dir) && !chain.includes(dir)) {
      chain.push(dir);
      const up = path.dirname(dir);
      if (up === dir) break;
      dir = up;
    }
    createdDirs.push(...chain);
  }
  const edit = new vscode.WorkspaceEdit();
  for (const m of moves) edit.renameFile(vscode.Uri.file(m.from), vscode.Uri.file(m.to), { overwrite: false });
  const ok = await vscode.workspace.applyEdit(edit);
  if (ok) stack.push({ kind: 'moves', title, moves, createdDirs });
  return ok;
}

/** The `.vscode` folder and settings file that do not exist yet (single-folder workspaces; a .code-workspace file is never removed). */
async function missingSettings(): Promise<{ file?: string; dir?: string } | undefined> {
  const folders = vscode.workspace.workspaceFolders;
  if (vscode.workspace.workspaceFile || folders?.length !== 1 || folders[0].uri.scheme !== 'file') return undefined;
  const { dir, file } = workspaceSettingsPaths(folders[0].uri.fsPath);
  if (await exists(file)) return undefined;
  return { file, dir: (await exists(dir)) ? undefined : dir };
}

/** Remove what a fix created when it holds nothing any more: the settings file if empty, then its folder if empty. */
async function removeIfEmpty(created: { file?: string; dir?: string } | undefined): Promise<void> {
  if (!created?.file) return;
  try {
    const text = new TextDecoder().decode(await vscode.workspace.fs.readFile(vscode.Uri.file(created.file)));
    if (!settingsFileIsEmpty(text)) return;
    await vscode.workspace.fs.delete(vscode.Uri.file(created.file), { useTrash: false });
    if (created.dir && (await vscode.workspace.fs.readDirectory(vscode.Uri.file(created.dir))).length === 0) {
      await vscode.workspace.fs.delete(vscode.Uri.file(created.dir), { recursive: false, useTrash: false });
    }
  } catch { /* already gone */ }
}

/** Set a workspace setting; records the previous workspace value (and the settings file it creates) for undo. */
export async function setSetting(stack: FixUndoStack, title: string, section: string, key: string, value: unknown): Promise<void> {
  const cfg = vscode.workspace.getConfiguration(section);
  const previous = cfg.inspect(key)?.workspaceValue;
  const created = await missingSettings();
  await cfg.update(key, value, vscode.ConfigurationTarget.Workspace);
  stack.push({ kind: 'setting', title, section, key, previous, created });
}

export async function silence(stack: FixUndoStack, datasetKey: string, code: string): Promise<void> {
  const cfg = vscode.workspace.getConfiguration('fewshot.diagnostics');
  const current = cfg.inspect<Record<string, string[]>>('ignore')?.workspaceValue;
  await setSetting(stack, vscode.l10n.t('Silence {0} for {1}', code, datasetKey), 'fewshot.diagnostics', 'ignore', withSilenced(current, datasetKey, code));
}
