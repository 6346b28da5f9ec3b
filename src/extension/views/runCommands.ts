/** Commands on items of the Runs view: rename, delete, reveal, copy path. */
import * as vscode from 'vscode';
import type { Host } from '../host';
import type { RunNode } from './runsTree';
import type { TrainingManager } from '../train/manager';
import type { DashboardManager } from '../dashboard/panel';
import { runStore } from '../train/store';

function ids(arg: unknown, many?: unknown): string[] {
  const pick = (x: unknown) => (typeof x === 'string' ? x : (x as RunNode | undefined)?.id);
  if (Array.isArray(many) && many.length) return many.map(pick).filter((x): x is string => !!x);
  const one = pick(arg);
  return one ? [one] : [];
}

export function registerRunCommands(host: Host, manager: TrainingManager, dashboards: DashboardManager, viewSelection: () => string[]): vscode.Disposable[] {
  const store = () => {
    const s = runStore(host);
    if (!s) void vscode.window.showErrorMessage(vscode.l10n.t('Open a folder first: runs are saved in <folder>/.fewshot/runs.'));
    return s;
  };
  // Without an argument (keyboard shortcut, palette) the commands act on the view's selection.
  const selected = (arg: unknown, many: unknown): string[] => {
    const list = ids(arg, many);
    return list.length ? list : viewSelection();
  };

  return [
    vscode.commands.registerCommand('fewshot.renameRun', async (arg?: unknown) => {
      const [id] = selected(arg, undefined);
      const s = store();
      if (!id || !s) return;
      let current = id;
      try { current = (await s.read(id)).name ?? id; } catch { /* unreadable: keep id */ }
      const name = await vscode.window.showInputBox({
        title: vscode.l10n.t('Rename Run'),
        prompt: vscode.l10n.t('New name for run {0}', id),
        value: current,
        validateInput: (v) => (v.trim() ? undefined : vscode.l10n.t('The name cannot be empty.')),
      });
      if (name === undefined || name.trim() === current) return;
      try {
        await s.rename(id, name.trim());
      } catch (e) {
        void vscode.window.showErrorMessage(vscode.l10n.t('Cannot rename run {0}: {1}', id, e instanceof Error ? e.message : String(e)));
      }
      host.runsChanged.fire();
    }),

    vscode.commands.registerCommand('fewshot.deleteRun', async (arg?: unknown, many?: unknown) => {
      const list = selected(arg, many);
      const s = store();
      if (!list.length || !s) return;
      const del = vscode.l10n.t('Delete');
      const msg = list.length === 1
        ? vscode.l10n.t('Delete run {0}? Its model, metrics and report are removed from disk.', list[0])
        : vscode.l10n.t('Delete {0} runs? Their models, metrics and reports are removed from disk.', list.length);
      const ok = await vscode.window.showWarningMessage(msg, { modal: true }, del);
      if (ok !== del) return;
      for (const id of list) {
        const live = manager.find(id);
        if (live?.status === 'running') {
          live.cancel();
          await live.done;
        }
        dashboards.find(id)?.panel.dispose();
        try {
          await s.delete(id);
        } catch (e) {
          void vscode.window.showErrorMessage(vscode.l10n.t('Cannot delete run {0}: {1}', id, e instanceof Error ? e.message : String(e)));
        }
      }
      host.runsChanged.fire();
    }),

    vscode.commands.registerCommand('fewshot.revealRun', async (arg?: unknown) => {
      const [id] = selected(arg, undefined);
      const s = store();
      if (!id || !s) return;
      const uri = vscode.Uri.file(s.dirOf(id));
      // Desktop: the OS file manager; remote/web (code-server): the Explorer.
      if (vscode.env.remoteName === undefined && vscode.env.uiKind === vscode.UIKind.Desktop) {
        await vscode.commands.executeCommand('revealFileInOS', uri);
      } else {
        await vscode.commands.executeCommand('revealInExplorer', uri);
      }
    }),

    vscode.commands.registerCommand('fewshot.copyRunPath', async (arg?: unknown) => {
      const [id] = selected(arg, undefined);
      const s = store();
      if (!id || !s) return;
      await vscode.env.clipboard.writeText(s.dirOf(id));
      vscode.window.setStatusBarMessage(vscode.l10n.t('Copied {0}', s.dirOf(id)), 3000);
    }),
  ];
}
