/**
 * Predict Image (Explorer context menu on image files, the image preview's title bar) and Predict Folder (Explorer
 * context menu on folders → a CSV). The images are labelled by the warm predictor child (dist/predictor.js): nothing
 * here loads an ML library; files are told to be images by their first bytes (core/datasets/sniff).
 */
import * as vscode from 'vscode';
import * as path from 'node:path';
import { promises as fsp } from 'node:fs';
import type { Prediction } from '../../protocol/run';
import type { ImageOutcome } from '../../protocol/trainer';
import { isImageFile } from '../../core/datasets/sniff';
import { defaultFolderCsv, imageRowsCsv, listImageFiles, type ImageRow } from '../../core/util/imageFolder';
import { writeFileAtomic } from '../../core/util/fs';
import { defaultModelRun, type ModelRun } from './runs';
import type { WarmPredictor } from './warm';
import { inlineText } from './format';

export interface ImageItem {
  file: string;
  label?: string;
  probabilities?: { label: string; p: number }[];
  error?: string;
}

export type ImagePredictOutcome =
  | { ok: true; kind: 'image' | 'folder'; runId: string; runName: string; items: ImageItem[]; message: string; cacheHits: number; csvFile?: string; errors: number }
  | { ok: false; reason: 'untrusted' | 'no-run' | 'text-run' | 'no-image' | 'error' | 'cancelled'; message: string };

export interface ImageCommandsDeps {
  warm: WarmPredictor;
  listRuns(): Promise<ModelRun[]>;
  activeRun(runs: ModelRun[]): Promise<ModelRun | undefined>;
  /** undefined when trusted; else the refusal (message shown). */
  untrusted(): { ok: false; reason: 'untrusted'; message: string } | undefined;
  noRun(): { message: string };
  showPredictError(e: unknown, run: ModelRun): { message: string };
  log(m: string): void;
}

/** Images per request to the predictor child in Predict Folder (small, so that cancelling answers fast). */
const FOLDER_CHUNK = 8;

const IMAGE_PREVIEW = 'imagePreview.previewEditor';

export function registerImageCommands(context: vscode.ExtensionContext, d: ImageCommandsDeps): { lastResult(): ImagePredictOutcome | undefined } {
  const t = vscode.l10n.t;
  let last: ImagePredictOutcome | undefined;
  const fail = (reason: Extract<ImagePredictOutcome, { ok: false }>['reason'], message: string, level: 'info' | 'warn' = 'info'): ImagePredictOutcome => {
    void (level === 'warn' ? vscode.window.showWarningMessage(message) : vscode.window.showInformationMessage(message));
    return (last = { ok: false, reason, message });
  };

  /** The image run to use: the active run when it is one, else the default among the image runs. */
  const imageRun = async (): Promise<ModelRun | ImagePredictOutcome> => {
    const runs = await d.listRuns();
    const active = await d.activeRun(runs);
    if (active?.images) return active;
    const chosen = defaultModelRun(runs.filter((r) => r.images));
    if (chosen) return chosen;
    if (!active) return (last = { ok: false, reason: 'no-run', message: d.noRun().message });
    return fail('text-run', t('The model run {0} classifies texts, not images, and no run in this workspace was trained on images. Train a model on an image dataset (a folder of class folders holding images) first.', active.name), 'warn');
  };

  /** The image of the active image preview (editor title bar, Command Palette). */
  const previewUri = (): vscode.Uri | undefined => {
    const input = vscode.window.tabGroups.activeTabGroup.activeTab?.input;
    return input instanceof vscode.TabInputCustom && input.viewType === IMAGE_PREVIEW ? input.uri : undefined;
  };

  const itemOf = (file: string, o: ImageOutcome): ImageItem => (o.prediction
    ? { file, label: o.prediction.label, probabilities: o.prediction.probabilities }
    : { file, error: o.error });

  const predictImage = async (arg?: unknown, all?: unknown): Promise<ImagePredictOutcome> => {
    const blocked = d.untrusted();
    if (blocked) return (last = blocked);
    const picked = Array.isArray(all) && all.some((u) => u instanceof vscode.Uri) ? all.filter((u): u is vscode.Uri => u instanceof vscode.Uri)
      : arg instanceof vscode.Uri ? [arg] : [previewUri()].filter((u): u is vscode.Uri => !!u);
    if (!picked.length) return fail('no-image', t('Right-click an image file in the Explorer, or open it in the image preview, to predict its label.'));
    const files: string[] = [];
    for (const u of picked) {
      if (u.scheme !== 'file' || !(await isImageFile(u.fsPath))) {
        return fail('no-image', t('{0} is not a PNG, JPEG, WebP, BMP or TIFF image (told by its content). Pick an image file.', u.scheme === 'file' ? u.fsPath : u.toString()), 'warn');
      }
      files.push(u.fsPath);
    }
    const run = await imageRun();
    if (!('dir' in run)) return run;
    let res;
    try {
      res = await vscode.window.withProgress({ location: vscode.ProgressLocation.Window, title: t('Few-Shot Lab: predicting with {0}…', run.name) },
        () => d.warm.predictImages(run.dir, files));
    } catch (e) {
      return (last = { ok: false, reason: 'error', message: d.showPredictError(e, run).message });
    }
    const items = files.map((f, i) => itemOf(f, res.outcomes[i]));
    const line = (it: ImageItem) => (it.label
      ? t('{0} → {1}', path.basename(it.file), inlineText({ label: it.label, probabilities: it.probabilities! } as Prediction, 3))
      : it.error!);
    for (const it of items) d.log(line(it));
    const good = items.filter((it) => it.label);
    const errors = items.length - good.length;
    const shown = items.slice(0, 3).map(line).join('  |  ') + (items.length > 3 ? t(' (and {0} more: see the Few-Shot Lab output)', items.length - 3) : '');
    const message = t('{0} (model {1})', shown, run.name);
    if (errors) void vscode.window.showWarningMessage(message);
    else void vscode.window.showInformationMessage(message);
    return (last = { ok: true, kind: 'image', runId: run.id, runName: run.name, items, message, cacheHits: res.cacheHits, errors });
  };

  const predictFolder = async (arg?: unknown, opts?: unknown): Promise<ImagePredictOutcome> => {
    const blocked = d.untrusted();
    if (blocked) return (last = blocked);
    const o = opts && typeof opts === 'object' && !Array.isArray(opts) ? (opts as { out?: string }) : {};
    let folderUri = arg instanceof vscode.Uri ? arg : undefined;
    if (!folderUri) {
      folderUri = (await vscode.window.showOpenDialog({ canSelectFolders: true, canSelectFiles: false, openLabel: t('Predict Folder') }))?.[0];
      if (!folderUri) return (last = { ok: false, reason: 'cancelled', message: t('No folder chosen.') });
    }
    const folder = folderUri.fsPath;
    const stat = await fsp.stat(folder).catch(() => undefined);
    if (folderUri.scheme !== 'file' || !stat?.isDirectory()) return fail('no-image', t('{0} is not a folder. Right-click a folder of images to label them.', folder), 'warn');
    const run = await imageRun();
    if (!('dir' in run)) return run;
    let target = o.out;
    if (!target) {
      const picked = await vscode.window.showSaveDialog({ defaultUri: vscode.Uri.file(defaultFolderCsv(folder)), filters: { CSV: ['csv'] }, saveLabel: t('Save Predictions') });
      if (!picked) return (last = { ok: false, reason: 'cancelled', message: t('Predict Folder was cancelled: no CSV file chosen.') });
      target = picked.fsPath;
    }
    const csvFile = target;
    let result: { rows: ImageRow[]; cacheHits: number; cancelled?: { done: number; total: number } } | { none: true };
    try {
      result = await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: t('Few-Shot Lab: labelling the images in {0} with {1}', path.basename(folder), run.name), cancellable: true },
        async (progress, token) => {
          const cancelled = new Promise<'cancelled'>((resolve) => token.onCancellationRequested(() => resolve('cancelled')));
          progress.report({ message: t('looking for images…') });
          const files = await listImageFiles(folder, () => token.isCancellationRequested);
          if (token.isCancellationRequested) return { rows: [], cacheHits: 0, cancelled: { done: 0, total: files.length } };
          if (!files.length) return { none: true as const };
          const rows: ImageRow[] = [];
          let cacheHits = 0;
          for (let i = 0; i < files.length; i += FOLDER_CHUNK) {
            const chunk = files.slice(i, i + FOLDER_CHUNK);
            // A chunk in flight finishes in the child, but the command answers the cancel at once.
            const r = await Promise.race([d.warm.predictImages(run.dir, chunk), cancelled]);
            if (r === 'cancelled') return { rows, cacheHits, cancelled: { done: rows.length, total: files.length } };
            cacheHits += r.cacheHits;
            chunk.forEach((file, j) => rows.push({ file, prediction: r.outcomes[j].prediction, error: r.outcomes[j].error }));
            progress.report({ increment: (100 * chunk.length) / files.length, message: t('{0} of {1} images', rows.length, files.length) });
          }
          return { rows, cacheHits };
        },
      );
    } catch (e) {
      return (last = { ok: false, reason: 'error', message: d.showPredictError(e, run).message });
    }
    if ('none' in result) return fail('no-image', t('No images in {0}: no file in it or its subfolders is a PNG, JPEG, WebP, BMP or TIFF image.', folder));
    if (result.cancelled) {
      return fail('cancelled', t('Predict Folder was cancelled after {0} of {1} images; no CSV was written.', result.cancelled.done, result.cancelled.total));
    }
    const { rows } = result;
    try {
      await writeFileAtomic(csvFile, imageRowsCsv(folder, rows, run.labels?.length ?? 3));
    } catch (e) {
      return fail('error', t('Could not write {0}: {1}', csvFile, (e as Error).message), 'warn');
    }
    const errors = rows.filter((r) => r.error);
    for (const r of errors) d.log(r.error!);
    const counts = new Map<string, number>();
    for (const r of rows) if (r.prediction) counts.set(r.prediction.label, (counts.get(r.prediction.label) ?? 0) + 1);
    const summary = [...counts.entries()].sort((a, b) => b[1] - a[1]).map(([l, n]) => `${l} ${n}`).join(', ');
    const message = t('Labelled {0} images in {1} with model {2} ({3}) into {4}.', rows.length - errors.length, path.basename(folder), run.name, summary || '-', path.basename(csvFile))
      + (errors.length ? ` ${t('{0} images could not be read: they are error rows in the CSV (details in the Few-Shot Lab output).', errors.length)}` : '');
    await vscode.window.showTextDocument(vscode.Uri.file(csvFile), { preview: false });
    if (errors.length) void vscode.window.showWarningMessage(message);
    else void vscode.window.showInformationMessage(message);
    const items = rows.map((r) => (r.prediction ? { file: r.file, label: r.prediction.label, probabilities: r.prediction.probabilities } : { file: r.file, error: r.error }));
    return (last = { ok: true, kind: 'folder', runId: run.id, runName: run.name, items, message, cacheHits: result.cacheHits, csvFile, errors: errors.length });
  };

  context.subscriptions.push(
    vscode.commands.registerCommand('fewshot.predictImage', predictImage),
    vscode.commands.registerCommand('fewshot.predictFolder', predictFolder),
  );
  return { lastResult: () => last };
}
