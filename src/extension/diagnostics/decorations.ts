/** Explorer badges on class folders, from the server's dataset summaries. */
import * as vscode from 'vscode';
import type { DatasetSummary } from '../../protocol/diagnostics';

export class ClassFolderDecorations implements vscode.FileDecorationProvider, vscode.Disposable {
  private readonly emitter = new vscode.EventEmitter<vscode.Uri[]>();
  readonly onDidChangeFileDecorations = this.emitter.event;
  private byUri = new Map<string, vscode.FileDecoration>();

  update(datasets: DatasetSummary[]): void {
    const next = new Map<string, vscode.FileDecoration>();
    for (const ds of datasets) {
      for (const c of ds.classes) {
        // One badge per class folder, with only the problems that belong to that folder
        // (a train-size problem never marks test/<class>). Note: VS Code replaces a folder's own
        // badge by its "contains emphasized items" dot when a file inside carries problems.
        for (const b of c.badges ?? []) {
          const tooltip = b.problems.length > 1
            ? vscode.l10n.t('{0} dataset problems: {1}', b.problems.length, b.problems[0])
            : b.problems[0];
          const d = new vscode.FileDecoration('!', tooltip, new vscode.ThemeColor(b.severity === 'error' ? 'list.errorForeground' : 'list.warningForeground'));
          d.propagate = false;
          next.set(vscode.Uri.file(b.folder).toString(), d);
        }
      }
    }
    const changed = new Set<string>([...this.byUri.keys(), ...next.keys()]);
    this.byUri = next;
    this.emitter.fire([...changed].map((u) => vscode.Uri.parse(u)));
  }

  provideFileDecoration(uri: vscode.Uri): vscode.FileDecoration | undefined {
    return this.byUri.get(uri.toString());
  }

  /** Test hook: the decorated folders. */
  decorated(): string[] {
    return [...this.byUri.keys()];
  }

  dispose(): void {
    this.emitter.dispose();
  }
}
