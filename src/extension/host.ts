/**
 * Services shared by the extension's feature folders. Kept tiny and free of ML
 * imports: the extension host must stay thin and lazy.
 */
import * as vscode from 'vscode';
import * as path from 'node:path';
import type { DatasetSummary } from '../protocol/diagnostics';

export interface Host {
  context: vscode.ExtensionContext;
  /** Output channel "Few-Shot Lab" (trainer logs, predictor logs, server logs). */
  output: vscode.OutputChannel;
  /** Fired by any feature after runs were created, changed or deleted. */
  runsChanged: vscode.EventEmitter<void>;
  /**
   * Dataset summaries from the diagnostics language server (`fewshot/datasetSummaries`).
   * The diagnostics client fires it with every notification; the Datasets tree
   * uses it for class warning icons. `latestDatasetSummaries` keeps the last value.
   */
  datasetSummaries: vscode.EventEmitter<DatasetSummary[]>;
  latestDatasetSummaries(): DatasetSummary[] | undefined;
  /** `<first workspace folder>/.fewshot`, or undefined without a folder. */
  storeDir(): string | undefined;
  /** Absolute path of a bundled script in dist/ (trainer.js, predictor.js, server.js, cli.js). */
  distPath(file: string): string;
}

export function createHost(context: vscode.ExtensionContext): Host {
  const output = vscode.window.createOutputChannel('Few-Shot Lab', { log: false } as never);
  const runsChanged = new vscode.EventEmitter<void>();
  const datasetSummaries = new vscode.EventEmitter<DatasetSummary[]>();
  let latest: DatasetSummary[] | undefined;
  context.subscriptions.push(output, runsChanged, datasetSummaries, datasetSummaries.event((s) => { latest = s; }));
  return {
    context,
    output,
    runsChanged,
    datasetSummaries,
    latestDatasetSummaries: () => latest,
    storeDir() {
      const folder = vscode.workspace.workspaceFolders?.[0];
      return folder ? path.join(folder.uri.fsPath, '.fewshot') : undefined;
    },
    distPath(file: string) {
      return path.join(context.extensionPath, 'dist', file);
    },
  };
}
