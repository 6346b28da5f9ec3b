/**
 * "Label Review" view (in the Few-Shot Lab container, under Datasets and Runs): per dataset, the likely label errors
 * of the last check and the texts suggested to label next. Click opens the file or row; the context menu relabels,
 * marks reviewed or labels.
 */
import * as vscode from 'vscode';
import * as path from 'node:path';
import type { LabelSuggestion } from '../../protocol/labels';
import type { LabelsState, ShownSuspect } from './state';

export type ReviewNode =
  | { kind: 'dataset'; dataset: string }
  | { kind: 'group'; dataset: string; group: 'suspects' | 'suggestions' }
  | { kind: 'suspect'; dataset: string; shown: ShownSuspect }
  | { kind: 'suggestion'; dataset: string; suggestion: LabelSuggestion }
  | { kind: 'message'; text: string };

function preview(t: string): string {
  const s = t.replace(/\s+/g, ' ').trim();
  return s.length > 60 ? s.slice(0, 60) + '…' : s;
}

export function openArgs(file: string, line?: number): [vscode.Uri, vscode.TextDocumentShowOptions] {
  const pos = new vscode.Position(Math.max(0, (line ?? 1) - 1), 0);
  return [vscode.Uri.file(file), { selection: new vscode.Range(pos, pos), preview: true }];
}

export class LabelReviewProvider implements vscode.TreeDataProvider<ReviewNode>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<ReviewNode | undefined | void>();
  readonly onDidChangeTreeData = this.changed.event;
  private readonly sub: vscode.Disposable;

  constructor(private readonly state: LabelsState) {
    this.sub = state.onDidChange(() => this.changed.fire());
  }

  getParent(): undefined { return undefined; }

  getChildren(node?: ReviewNode): ReviewNode[] {
    if (!node) {
      const list = this.state.datasets();
      if (!list.length) return [{ kind: 'message', text: vscode.l10n.t('Run Check Labels or Suggest What to Label Next on a dataset.') }];
      return list.map((dataset) => ({ kind: 'dataset', dataset }));
    }
    if (node.kind === 'dataset') {
      const out: ReviewNode[] = [];
      if (this.state.audit(node.dataset)) out.push({ kind: 'group', dataset: node.dataset, group: 'suspects' });
      if (this.state.suggest(node.dataset)) out.push({ kind: 'group', dataset: node.dataset, group: 'suggestions' });
      return out;
    }
    if (node.kind === 'group') {
      if (node.group === 'suspects') {
        const shown = this.state.shownOf(node.dataset);
        return shown.length ? shown.map((s) => ({ kind: 'suspect', dataset: node.dataset, shown: s })) : [{ kind: 'message', text: vscode.l10n.t('No likely label errors.') }];
      }
      const list = this.state.suggest(node.dataset)?.suggestions ?? [];
      return list.length ? list.map((s) => ({ kind: 'suggestion', dataset: node.dataset, suggestion: s })) : [{ kind: 'message', text: vscode.l10n.t('Every suggested text is labelled.') }];
    }
    return [];
  }

  getTreeItem(node: ReviewNode): vscode.TreeItem {
    const C = vscode.TreeItemCollapsibleState;
    switch (node.kind) {
      case 'dataset': {
        const it = new vscode.TreeItem(path.basename(node.dataset), C.Expanded);
        it.id = `labels:${node.dataset}`;
        it.description = vscode.workspace.asRelativePath(node.dataset, false);
        it.iconPath = new vscode.ThemeIcon('folder-library');
        it.contextValue = 'labelsDataset';
        return it;
      }
      case 'group': {
        const suspects = node.group === 'suspects';
        const n = suspects ? this.state.shownOf(node.dataset).length : this.state.suggest(node.dataset)?.suggestions.length ?? 0;
        const it = new vscode.TreeItem(suspects ? vscode.l10n.t('Likely label errors') : vscode.l10n.t('Label next'), C.Expanded);
        it.id = `labels:${node.dataset}:${node.group}`;
        it.description = String(n);
        it.iconPath = new vscode.ThemeIcon(suspects ? 'warning' : 'tag');
        const a = this.state.audit(node.dataset);
        const r = this.state.suggest(node.dataset);
        it.tooltip = suspects && a
          ? vscode.l10n.t('{0} of {1} training examples flagged by {2}; {3} reviewed left out.', n, a.examples, a.method, a.reviewedSkipped)
          : r ? vscode.l10n.t('{0} of {1} unlabelled texts, ranked by {2}.', n, r.unlabeled, r.method) : undefined;
        return it;
      }
      case 'suspect': {
        const s = node.shown.suspect;
        const it = new vscode.TreeItem(preview(s.text), C.None);
        it.id = `labels:suspect:${s.file}:${s.line ?? ''}:${s.textHash}`;
        it.description = vscode.l10n.t("Probably '{0}', not '{1}' ({2})", s.suggested, s.given, s.pSuggested.toFixed(2));
        it.tooltip = `${s.text}\n\n${vscode.workspace.asRelativePath(s.file, false)}${s.line ? `:${s.line}` : ''}`;
        it.iconPath = new vscode.ThemeIcon('question');
        it.contextValue = 'labelSuspect';
        it.command = { title: vscode.l10n.t('Open'), command: 'vscode.open', arguments: openArgs(s.file, node.shown.range.start.line + 1) };
        return it;
      }
      case 'suggestion': {
        const s = node.suggestion;
        const it = new vscode.TreeItem(preview(s.text), C.None);
        it.id = `labels:suggestion:${s.file}:${s.line ?? ''}:${s.textHash}`;
        it.description = vscode.l10n.t("#{0} · guess '{1}' · margin {2}", s.rank + 1, s.predicted, s.margin.toFixed(2));
        it.tooltip = `${s.text}\n\n${s.reason}\n${vscode.workspace.asRelativePath(s.file, false)}${s.line ? `:${s.line}` : ''}`;
        it.iconPath = new vscode.ThemeIcon('circle-large-outline');
        it.contextValue = 'labelSuggestion';
        it.command = { title: vscode.l10n.t('Open'), command: 'vscode.open', arguments: openArgs(s.file, s.line) };
        return it;
      }
      case 'message': {
        const it = new vscode.TreeItem(node.text, C.None);
        it.iconPath = new vscode.ThemeIcon('info');
        return it;
      }
    }
  }

  dispose(): void {
    this.sub.dispose();
    this.changed.dispose();
  }
}
