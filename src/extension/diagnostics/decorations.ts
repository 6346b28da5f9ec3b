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
        if (!c.folder || (c.severity !== 'error' && c.severity !== 'warning') || !c.problems.length) continue;
        const tooltip = c.problems.length > 1
          ? vscode.l10n.t('{0} dataset problems: {1}', c.problems.length, c.problems[0])
          : c.problems[0];
        const d = new vscode.FileDecoration('!', tooltip, new vscode.ThemeColor(c.severity === 'error' ? 'list.errorForeground' : 'list.warningForeground'));
        d.propagate = false;
        // Every folder of the class gets the badge. Note: VS Code replaces a folder's own
        // badge by its "contains emphasized items" dot when a file inside carries problems.
        for (const folder of c.folders ?? [c.folder]) next.set(vscode.Uri.file(folder).toString(), d);
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
