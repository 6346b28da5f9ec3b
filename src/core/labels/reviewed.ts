/**
 * The label files of a workspace store (`<store>/labels/`, see src/protocol/labels.ts): "reviewed" marks and the
 * last audit of each dataset. The one owner of these files; the CLI, the extension and the server call it.
 */
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { LABELS_FORMAT_VERSION, type AuditResult, type ReviewedFile } from '../../protocol/labels';
import { writeJsonAtomic } from '../util/fs';
import { sha256Hex } from '../util/hash';

export const LABEL_FILES = { reviewed: 'reviewed.json', audits: 'audit.json' } as const;

/** sha256 of a text as the label files key it (a mark holds while the text is unchanged). */
export function textHash(text: string): string {
  return sha256Hex(text);
}

async function readJson<T>(file: string): Promise<T | undefined> {
  let raw: string;
  try { raw = await fsp.readFile(file, 'utf8'); } catch { return undefined; }
  try { return JSON.parse(raw) as T; } catch { return undefined; /* a corrupt file is rewritten on the next write */ }
}

export class LabelStore {
  readonly dir: string;
  /** `storeDir`: the workspace store, e.g. `<workspace>/.fewshot`. */
  constructor(storeDir: string) { this.dir = path.join(storeDir, 'labels'); }

  private file(which: keyof typeof LABEL_FILES): string { return path.join(this.dir, LABEL_FILES[which]); }

  async readReviewed(): Promise<ReviewedFile> {
    const f = await readJson<ReviewedFile>(this.file('reviewed'));
    return f && typeof f.reviewed === 'object' && f.reviewed ? f : { formatVersion: LABELS_FORMAT_VERSION, reviewed: {} };
  }

  /** Whether the text was marked reviewed with this label. */
  static isReviewed(f: ReviewedFile, text: string, label: string): boolean {
    return Object.prototype.hasOwnProperty.call(f.reviewed, `${textHash(text)}:${label}`);
  }

  /** Marks (or with `on` false, unmarks) an example as reviewed with its label. */
  async setReviewed(text: string, label: string, on = true, file?: string): Promise<void> {
    const f = await this.readReviewed();
    const key = `${textHash(text)}:${label}`;
    if (on) f.reviewed[key] = { at: new Date().toISOString(), ...(file ? { file } : {}) };
    else delete f.reviewed[key];
    await fsp.mkdir(this.dir, { recursive: true });
    await writeJsonAtomic(this.file('reviewed'), f);
  }

  /** The last audit of each dataset (absolute path → result). */
  async readAudits(): Promise<Record<string, AuditResult>> {
    const f = await readJson<{ audits?: Record<string, AuditResult> }>(this.file('audits'));
    return f?.audits && typeof f.audits === 'object' ? f.audits : {};
  }

  async readAudit(dataset: string): Promise<AuditResult | undefined> {
    return (await this.readAudits())[path.resolve(dataset)];
  }

  async writeAudit(a: AuditResult): Promise<void> {
    const all = await this.readAudits();
    all[path.resolve(a.dataset)] = a;
    await fsp.mkdir(this.dir, { recursive: true });
    await writeJsonAtomic(this.file('audits'), { formatVersion: LABELS_FORMAT_VERSION, audits: all });
  }
}
