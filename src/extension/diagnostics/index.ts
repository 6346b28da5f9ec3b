/**
 * Dataset diagnostics client: starts the language server (dist/server.js over
 * IPC), forwards dataset summaries to the Datasets view and the Explorer
 * badges, and implements the client-side quick-fix commands (with undo).
 */
import * as vscode from 'vscode';
import * as path from 'node:path';
import { LanguageClient, TransportKind, type LanguageClientOptions, type ServerOptions } from 'vscode-languageclient/node';
import type { Host } from '../host';
import {
  DatasetSummariesNotification, DiagnosticCommands, PlanTestSplitRequest, ServerInfoRequest,
  type DatasetSummariesParams, type DatasetSummary, type DiagnosticsInitializationOptions, type ServerInfo,
} from '../../protocol/diagnostics';
import { ClassFolderDecorations } from './decorations';
import { applyMoves, FixUndoStack, setSetting, silence } from './fixes';

export interface DiagnosticsApi {
  client: LanguageClient;
  decorations: ClassFolderDecorations;
  undo: FixUndoStack;
  summaries(): DatasetSummary[];
}

let current: DiagnosticsApi | undefined;
/** Test hook (same process): the running diagnostics client. */
export function diagnosticsApi(): DiagnosticsApi | undefined {
  return current;
}

function offerUndo(stack: FixUndoStack, message: string): void {
  const undo = vscode.l10n.t('Undo');
  void vscode.window.showInformationMessage(message, undo).then(async (choice) => {
    if (choice === undo) await vscode.commands.executeCommand(DiagnosticCommands.undo);
  });
}

export async function activateDiagnostics(host: Host): Promise<void> {
  const { context } = host;
  const module = host.distPath('server.js');
  const serverOptions: ServerOptions = {
    run: { module, transport: TransportKind.ipc },
    debug: { module, transport: TransportKind.ipc, options: { execArgv: ['--nolazy', '--inspect=6019'] } },
  };
  const watcher = vscode.workspace.createFileSystemWatcher('**/*');
  context.subscriptions.push(watcher);
  const clientOptions: LanguageClientOptions = {
    documentSelector: [{ scheme: 'file', pattern: '**/*.{csv,tsv,jsonl,txt}' }],
    synchronize: { fileEvents: watcher, configurationSection: 'fewshot' },
    initializationOptions: { locale: vscode.env.language } satisfies DiagnosticsInitializationOptions,
    diagnosticCollectionName: 'fewshot-datasets',
  };
  const client = new LanguageClient('fewshotDatasets', vscode.l10n.t('Few-Shot Lab Datasets'), serverOptions, clientOptions);
  const decorations = new ClassFolderDecorations();
  const undo = new FixUndoStack();
  let latest: DatasetSummary[] = [];
  context.subscriptions.push(vscode.window.registerFileDecorationProvider(decorations), decorations);

  client.onNotification(DatasetSummariesNotification, (p: DatasetSummariesParams) => {
    latest = p.datasets;
    decorations.update(p.datasets);
    host.datasetSummaries.fire(p.datasets);
  });

  const reg = (id: string, fn: (...args: never[]) => unknown) => context.subscriptions.push(vscode.commands.registerCommand(id, fn));

  reg(DiagnosticCommands.open, async (uri: string, range?: { start: { line: number; character: number }; end: { line: number; character: number } }) => {
    const selection = range ? new vscode.Range(range.start.line, range.start.character, range.end.line, range.end.character) : undefined;
    try {
      return await vscode.window.showTextDocument(vscode.Uri.parse(uri), { selection, preview: true });
    } catch {
      // an image (the other file of an image duplicate): the default editor, i.e. the image preview
      return vscode.commands.executeCommand('vscode.open', vscode.Uri.parse(uri), { preview: true });
    }
  });

  reg(DiagnosticCommands.createTestSplit, async (root: string, opts?: { confirmed?: boolean; fraction?: number }) => {
    const plan = await client.sendRequest(PlanTestSplitRequest, { root, fraction: opts?.fraction });
    const name = path.basename(root);
    if (!plan.moves.length) {
      void vscode.window.showInformationMessage(vscode.l10n.t('Nothing to move: every class in {0} already has enough test files.', name));
      return [];
    }
    if (!opts?.confirmed) {
      const move = vscode.l10n.t('Move files');
      const classes = new Set(plan.moves.map((m) => path.basename(path.dirname(m.from))));
      const choice = await vscode.window.showWarningMessage(
        vscode.l10n.t('Move {0} files from train/ to test/ in {1}?', plan.moves.length, name),
        { modal: true, detail: vscode.l10n.t('A stratified sample of {0} class(es) moves to test/<class>. You can undo this.', classes.size) },
        move,
      );
      if (choice !== move) return [];
    }
    const ok = await applyMoves(undo, vscode.l10n.t('Create a stratified test split'), plan.moves);
    if (!ok) {
      void vscode.window.showErrorMessage(vscode.l10n.t('Could not move the files into {0}. Check that the test files do not exist yet.', path.join(name, 'test')));
      return [];
    }
    offerUndo(undo, vscode.l10n.t('Moved {0} files to {1}.', plan.moves.length, path.join(name, 'test')));
    return plan.moves;
  });

  reg(DiagnosticCommands.useClassWeighting, async () => {
    await setSetting(undo, vscode.l10n.t('Use class weighting for this dataset'), 'fewshot.train', 'classWeighting', true);
    offerUndo(undo, vscode.l10n.t('Training now uses class weighting (fewshot.train.classWeighting).'));
  });

  reg(DiagnosticCommands.silence, async (datasetKey: string, code: string) => {
    await silence(undo, datasetKey, code);
    offerUndo(undo, vscode.l10n.t('{0} is silenced for {1}.', code, datasetKey));
  });

  reg(DiagnosticCommands.undo, async () => {
    try {
      const e = await undo.undo();
      if (!e) void vscode.window.showInformationMessage(vscode.l10n.t('There is no dataset fix to undo.'));
      return e?.title;
    } catch (err) {
      void vscode.window.showErrorMessage(err instanceof Error ? err.message : String(err));
      return undefined;
    }
  });

  reg(DiagnosticCommands.serverInfo, async (): Promise<ServerInfo | undefined> => {
    if (!client.isRunning()) return undefined;
    return client.sendRequest(ServerInfoRequest);
  });

  current = { client, decorations, undo, summaries: () => latest };
  context.subscriptions.push({ dispose: () => { current = undefined; void client.stop(); } });
  await client.start();
}
