/**
 * "Predict Folder" without ML code (shared by the extension host and `fewshot predict --run R <folder>`): the image
 * files of a folder, told by content, and the predictions CSV. The predictions themselves come from a predictor.
 */
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import type { Prediction } from '../../protocol/run';
import { isImageFile } from '../datasets/sniff';

/** One CSV field (RFC 4180): quoted when it holds a comma, quote, CR or LF, or starts/ends with a space. */
export function csvField(v: string | number): string {
  const s = typeof v === 'number' ? (Number.isFinite(v) ? String(Math.round(v * 1e6) / 1e6) : '') : v;
  return /[",\r\n]|^\s|\s$/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/**
 * The image files under `folder` (recursively; PNG, JPEG, WebP, BMP, TIFF by their first bytes, whatever their
 * names), sorted by path. Hidden entries (".git", ".fewshot") and node_modules are skipped, links are not followed.
 * Stops early (returning what it found) when `cancelled()` turns true.
 */
export async function listImageFiles(folder: string, cancelled: () => boolean = () => false): Promise<string[]> {
  const out: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    if (cancelled()) return;
    const entries = (await fsp.readdir(dir, { withFileTypes: true })).filter((e) => !e.name.startsWith('.') && e.name !== 'node_modules');
    const files = entries.filter((e) => e.isFile()).map((e) => path.join(dir, e.name));
    for (let i = 0; i < files.length && !cancelled(); i += 32) {
      const chunk = files.slice(i, i + 32);
      const ok = await Promise.all(chunk.map((f) => isImageFile(f)));
      out.push(...chunk.filter((_, j) => ok[j]));
    }
    for (const e of entries) if (e.isDirectory()) await walk(path.join(dir, e.name));
  };
  await walk(folder);
  return out.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/** One row of a folder's predictions: the file and its prediction, or why it could not be labelled. */
export interface ImageRow {
  file: string;
  prediction?: Prediction;
  error?: string;
}

/** How many "topN" column pairs a CSV for `labels` classes has (top2, top3). */
const topColumns = (nLabels: number): number => Math.max(0, Math.min(3, nLabels) - 1);

/**
 * CSV of a folder's predictions: file (relative to `folder`, "/"-separated), label (the decided label), p_label (its
 * probability; the most probable class's for "uncertain"), then the next most probable classes top2, p_top2, top3,
 * p_top3, and error (why an image could not be read; its other fields are empty).
 */
export function imageRowsCsv(folder: string, rows: readonly ImageRow[], nLabels: number): string {
  const k = topColumns(nLabels);
  const header = ['file', 'label', 'p_label', ...Array.from({ length: k }, (_, i) => [`top${i + 2}`, `p_top${i + 2}`]).flat(), 'error'];
  const lines = [header.join(',')];
  for (const r of rows) {
    const rel = path.relative(folder, r.file).split(path.sep).join('/');
    const cells: (string | number)[] = [rel];
    if (r.prediction) {
      const probs = [...r.prediction.probabilities].sort((a, b) => b.p - a.p);
      const own = probs.find((x) => x.label === r.prediction!.label) ?? probs[0];
      const rest = probs.filter((x) => x !== own);
      cells.push(r.prediction.label, own?.p ?? NaN);
      for (let i = 0; i < k; i++) cells.push(rest[i]?.label ?? '', rest[i]?.p ?? NaN);
      cells.push('');
    } else {
      cells.push('', NaN, ...Array.from({ length: 2 * k }, () => ''), r.error ?? 'not labelled');
    }
    lines.push(cells.map(csvField).join(','));
  }
  return lines.join('\r\n') + '\r\n';
}

/** Where a folder's predictions go by default: `<folder>-predictions.csv` next to the folder. */
export function defaultFolderCsv(folder: string): string {
  const f = path.resolve(folder);
  return `${f}-predictions.csv`;
}
