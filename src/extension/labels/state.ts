/**
 * What Check Labels and Suggest What to Label Next found, per dataset, and the Information diagnostics of the
 * suspects. A suspect shows while its file or row still holds the text and the label the audit saw: editing the
 * text, moving the file to another class folder or changing the label cell hides it (re-checked on every change;
 * moving it back shows it again); the next audit replaces the list.
 */
import * as vscode from 'vscode';
import * as path from 'node:path';
import { promises as fsp } from 'node:fs';
import type { AuditResult, LabelSuggestion, LabelSuspect, SuggestResult } from '../../protocol/labels';
import { readTable, sampleText, tableFormatOf, type DatasetFormat } from '../../core/datasets';

export const SUSPECT_CODE = 'fewshot.label-suspect';
export const SOURCE = 'Few-Shot Lab';

export interface ShownSuspect { dataset: string; suspect: LabelSuspect; range: vscode.Range }

export function formatOfDataset(dataset: string, file?: string): DatasetFormat {
  return tableFormatOf(file ?? dataset) ?? 'folders';
}

/** The column settings training uses (the loader's options). */
export function columnOptions(dataset: string): { textColumn?: string; labelColumn?: string } {
  const cfg = vscode.workspace.getConfiguration('fewshot.train', vscode.Uri.file(dataset));
  return { textColumn: cfg.get<string>('textColumn') || undefined, labelColumn: cfg.get<string>('labelColumn') || undefined };
}

async function currentText(file: string): Promise<string | undefined> {
  const doc = vscode.workspace.textDocuments.find((d) => d.uri.scheme === 'file' && d.uri.fsPath === file);
  if (doc) return doc.getText();
  try { return (await fsp.readFile(file, 'utf8')).replace(/^\uFEFF/, ''); } catch { return undefined; }
}

function lineRange(text: string, line0: number): vscode.Range {
  const lines = text.split(/\r\n|\n|\r/);
  return new vscode.Range(line0, 0, line0, (lines[line0] ?? '').length);
}

export class LabelsState implements vscode.Disposable {
  readonly diagnostics = vscode.languages.createDiagnosticCollection('fewshot-labels');
  private readonly audits = new Map<string, AuditResult>();
  private readonly suggestions = new Map<string, SuggestResult>();
  /** Suspects shown now, by file, with where they are. */
  private shown = new Map<string, ShownSuspect[]>();
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChange = this.changed.event;
  private readonly disposables: vscode.Disposable[] = [];
  private pending = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private validating: Promise<void> = Promise.resolve();

  constructor() {
    const watcher = vscode.workspace.createFileSystemWatcher('**/*');
    const touch = (uri: vscode.Uri) => this.touched(uri.fsPath);
    this.disposables.push(
      this.diagnostics, this.changed, watcher, watcher.onDidCreate(touch), watcher.onDidDelete(touch), watcher.onDidChange(touch),
      vscode.workspace.onDidChangeTextDocument((e) => { if (e.contentChanges.length) touch(e.document.uri); }),
      vscode.workspace.onDidRenameFiles((e) => e.files.forEach((f) => { touch(f.oldUri); touch(f.newUri); })),
      vscode.workspace.onDidDeleteFiles((e) => e.files.forEach((f) => touch(f))),
    );
  }

  datasets(): string[] {
    return [...new Set([...this.audits.keys(), ...this.suggestions.keys()])].sort();
  }
  audit(dataset: string): AuditResult | undefined { return this.audits.get(path.resolve(dataset)); }
  suggest(dataset: string): SuggestResult | undefined { return this.suggestions.get(path.resolve(dataset)); }

  /** Suspects of a dataset shown now (their file or row still holds what the audit saw). */
  shownOf(dataset: string): ShownSuspect[] {
    const root = path.resolve(dataset);
    return [...this.shown.values()].flat().filter((s) => s.dataset === root).sort((a, b) => b.suspect.score - a.suspect.score);
  }
  /** The suspect behind a diagnostic at this file and line. */
  suspectAt(file: string, line0: number): ShownSuspect | undefined {
    return this.shown.get(file)?.find((s) => s.range.start.line === line0);
  }

  async setAudit(a: AuditResult): Promise<void> {
    this.audits.set(path.resolve(a.dataset), a);
    await this.validate();
  }

  /** Leaves a suspect out (marked reviewed), or puts it back (`on`: undo). */
  async setSuspect(dataset: string, s: LabelSuspect, on: boolean): Promise<void> {
    const a = this.audits.get(path.resolve(dataset));
    if (!a) return;
    const same = (x: LabelSuspect) => x.textHash === s.textHash && x.given === s.given && x.file === s.file;
    const suspects = a.suspects.filter((x) => !same(x));
    if (on) suspects.push(s);
    suspects.sort((x, y) => y.score - x.score);
    this.audits.set(path.resolve(dataset), { ...a, suspects });
    await this.validate();
  }

  setSuggestions(r: SuggestResult): void {
    this.suggestions.set(path.resolve(r.dataset), r);
    this.changed.fire();
  }

  /** Drops a labelled suggestion from the list. */
  removeSuggestion(dataset: string, s: LabelSuggestion): void {
    const r = this.suggestions.get(path.resolve(dataset));
    if (!r) return;
    this.suggestions.set(path.resolve(dataset), { ...r, suggestions: r.suggestions.filter((x) => !(x.file === s.file && x.line === s.line && x.textHash === s.textHash)) });
    this.changed.fire();
  }

  private touched(file: string): void {
    this.pending.add(file);
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      const files = [...this.pending];
      this.pending.clear();
      const ours = [...this.audits.values()].some((a) => a.suspects.some((s) => files.includes(s.file)));
      if (ours) void this.validate();
    }, 250);
  }

  /** Re-checks every suspect against its file (serialised) and republishes the diagnostics. */
  validate(): Promise<void> {
    this.validating = this.validating.then(() => this.validateNow(), () => this.validateNow());
    return this.validating;
  }

  private async validateNow(): Promise<void> {
    const shown = new Map<string, ShownSuspect[]>();
    const texts = new Map<string, Promise<string | undefined>>();
    const read = (f: string) => { let p = texts.get(f); if (!p) texts.set(f, (p = currentText(f))); return p; };
    for (const [dataset, a] of this.audits) {
      const format = formatOfDataset(dataset);
      const tables = new Map<string, ReturnType<typeof readTable> | null>();
      for (const s of a.suspects) {
        const text = await read(s.file);
        if (text === undefined) continue;
        let range: vscode.Range | undefined;
        if (format === 'folders') {
          if (path.basename(path.dirname(s.file)).normalize('NFC') === s.given && sampleText(text) === s.text) range = lineRange(text, 0);
        } else {
          let t = tables.get(s.file);
          if (t === undefined) {
            try { t = readTable(text, formatOfDataset(dataset, s.file), s.file, columnOptions(dataset)); } catch { t = null; }
            tables.set(s.file, t);
          }
          const rows = t?.rows.filter((r) => r.sample.text === s.text && r.sample.label === s.given) ?? [];
          const row = rows.find((r) => r.sample.line === s.line) ?? rows[0];
          if (row?.sample.line) range = lineRange(text, row.sample.line - 1);
        }
        if (!range) continue;
        const list = shown.get(s.file) ?? [];
        list.push({ dataset, suspect: range.start.line + 1 === s.line || s.line === undefined ? s : { ...s, line: range.start.line + 1 }, range });
        shown.set(s.file, list);
      }
    }
    this.shown = shown;
    this.diagnostics.clear();
    for (const [file, list] of shown) {
      this.diagnostics.set(vscode.Uri.file(file), list.map(({ suspect: s, range }) => {
        const d = new vscode.Diagnostic(range, vscode.l10n.t("Probably '{0}', not '{1}' ({2})", s.suggested, s.given, s.pSuggested.toFixed(2)), vscode.DiagnosticSeverity.Information);
        d.source = SOURCE;
        d.code = SUSPECT_CODE;
        return d;
      }));
    }
    this.changed.fire();
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    for (const d of this.disposables.splice(0)) d.dispose();
  }
}
