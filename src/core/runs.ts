/**
 * The run store: `<workspace>/.fewshot/runs/<id>/` (layout in src/protocol/run.ts).
 * Every whole-file write is atomic (tmp file in the same folder + fsync + rename);
 * metrics.jsonl is appended per epoch and a torn last line is ignored on read.
 */
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { FewShotError, errorMessage } from './errors';
import { writeFileAtomic, writeJsonAtomic } from './util/fs';
import {
  RUN_FORMAT_VERSION,
  type ClassificationReport, type EpochMetrics, type ModelFile, type RunRecord, type TestPrediction, type TrainConfig,
} from '../protocol/run';

export { writeJsonAtomic, writeFileAtomic };

export const RUN_FILES = {
  record: 'run.json',
  metrics: 'metrics.jsonl',
  report: 'report.json',
  reportText: 'report.txt',
  confusion: 'confusion.json',
  predictions: 'predictions.jsonl',
  model: path.join('model', 'head.json'),
} as const;

function pad(n: number, w = 2): string { return String(n).padStart(w, '0'); }

/** A file-name-safe dataset name: letters/digits (any script), '_' and '-', at most 40 characters. */
export function datasetSlug(datasetPath: string): string {
  const base = path.basename(datasetPath.replace(/[\\/]+$/, '')).replace(/\.(csv|tsv|tab|jsonl|ndjson)$/i, '');
  const slug = base.normalize('NFC').replace(/[^\p{L}\p{N}_-]+/gu, '-').replace(/-+/g, '-').replace(/^[-_]+|[-_]+$/g, '');
  return [...slug].slice(0, 40).join('') || 'dataset';
}

/** `YYYYMMDD-HHMMSS-<dataset name>-<4 hex>` (UTC, so ids sort the same on every machine). */
export function makeRunId(datasetPath: string, date = new Date()): string {
  const ts = `${date.getUTCFullYear()}${pad(date.getUTCMonth() + 1)}${pad(date.getUTCDate())}-${pad(date.getUTCHours())}${pad(date.getUTCMinutes())}${pad(date.getUTCSeconds())}`;
  return `${ts}-${datasetSlug(datasetPath)}-${randomBytes(2).toString('hex')}`;
}

export const RUN_ID_PATTERN = /^\d{8}-\d{6}-.+-[0-9a-f]{4}$/u;

function checkId(id: string): void {
  if (!id || id === '.' || id === '..' || /[\\/\0]/.test(id) || id.startsWith('.')) {
    throw new FewShotError(`"${id}" is not a valid run id.`, { code: 'bad-run-id', fix: 'Use a run id as listed by `fewshot runs` (e.g. 20250101-120000-notes-ab12).' });
  }
}

async function readJsonFile<T>(file: string, what: string): Promise<T> {
  let text: string;
  try { text = await fsp.readFile(file, 'utf8'); } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new FewShotError(code === 'ENOENT' ? `${file} does not exist.` : `Cannot read ${file}: ${errorMessage(e)}`, {
      file, code: code === 'ENOENT' ? 'run-file-missing' : 'run-file-unreadable', fix: `The ${what} is missing or unreadable; run training again, or delete this run.` });
  }
  try { return JSON.parse(text) as T; } catch {
    throw new FewShotError(`${file} is not valid JSON (the ${what} may be half-written).`, {
      file, code: 'run-file-corrupt', fix: 'Run training again, or delete this run.' });
  }
}

/** JSON Lines reader that skips blank and unparsable lines (a torn last line after a crash). */
export function parseJsonLines<T>(text: string): T[] {
  const out: T[] = [];
  for (const line of text.split('\n')) {
    const l = line.trim();
    if (!l) continue;
    try { out.push(JSON.parse(l) as T); } catch { /* torn or corrupt line */ }
  }
  return out;
}

async function readJsonLines<T>(file: string): Promise<T[]> {
  let text: string;
  try { text = await fsp.readFile(file, 'utf8'); } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
  return parseJsonLines<T>(text);
}

type Raw = Record<string, unknown>;
const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

/**
 * Accept run.json files written before format version 1 (no `formatVersion`,
 * `settings` with snake_case keys instead of `config`) and map them onto RunRecord.
 */
export function normaliseRecord(raw: unknown, id: string): RunRecord | null {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) return null;
  const r = raw as Raw;
  if (r.config && typeof r.config === 'object' && typeof r.status === 'string') return r as unknown as RunRecord;
  const st = r.settings as Raw | undefined;
  if (!st || typeof st !== 'object') return null;
  const config = {
    dataset: String(st.dataset_path ?? st.dataset ?? ''),
    encoder: String(st.encoder ?? 'auto'),
    head: (st.head ?? 'auto') as TrainConfig['head'],
    epochs: num(st.epochs) ?? 0,
    learningRate: num(st.lr) ?? num(st.learning_rate) ?? 0,
    batchSize: num(st.batch_size) ?? 0,
    seed: num(st.seed) ?? 0,
    augment: num(st.augment) ?? 0,
    passages: false,
    classNames: false,
    classWeighting: Boolean(st.class_weighting ?? false),
    patience: num(st.patience) ?? 0,
    validationFraction: num(st.validation_fraction) ?? 0,
    backend: String(st.backend ?? 'auto'),
  } as TrainConfig;
  const rec: RunRecord = {
    formatVersion: num(r.formatVersion) ?? 0,
    id: typeof r.id === 'string' ? r.id : id,
    status: (typeof r.status === 'string' ? r.status : 'completed') as RunRecord['status'],
    createdAt: String(r.createdAt ?? r.created_at ?? ''),
    config,
    versions: (r.versions as Record<string, string>) ?? {},
    timings: { trainMs: num(r.train_ms), totalMs: num(r.total_ms) },
  };
  if (typeof r.name === 'string') rec.name = r.name;
  if (typeof r.encoder_id === 'string') rec.encoder = { id: r.encoder_id, requested: config.encoder, dim: 0, reason: 'older run format' };
  const be = num(r.best_epoch); if (be !== undefined) rec.bestEpoch = be;
  const bv = num(r.best_val_f1); if (bv !== undefined) rec.bestValMacroF1 = bv;
  const tf = num(r.test_f1); if (tf !== undefined) rec.testMacroF1 = tf;
  const ta = num(r.test_acc); if (ta !== undefined) rec.testAccuracy = ta;
  for (const k of Object.keys(rec.timings) as (keyof RunRecord['timings'])[]) if (rec.timings[k] === undefined) delete rec.timings[k];
  return rec;
}

/** EpochMetrics from a metrics.jsonl line, also accepting the older snake_case keys. */
export function normaliseEpoch(raw: unknown): EpochMetrics | null {
  if (!raw || typeof raw !== 'object') return null;
  const r = raw as Raw;
  if (typeof r.epoch !== 'number') return null;
  if ('valMacroF1' in r || 'elapsedMs' in r) return r as unknown as EpochMetrics;
  return {
    epoch: r.epoch,
    loss: num(r.loss) ?? NaN,
    valLoss: num(r.val_loss) ?? null,
    valMacroF1: num(r.val_f1) ?? num(r.val_macro_f1) ?? null,
    valAccuracy: num(r.val_acc) ?? num(r.val_accuracy) ?? null,
    perClassRecall: (r.per_class_recall as Record<string, number>) ?? {},
    elapsedMs: num(r.elapsed_ms) ?? 0,
  };
}

/** UTC timestamp at the start of a run id (YYYYMMDD-HHMMSS-…), or NaN. */
export function timeOfRunId(id: string): number {
  const m = /^(\d{4})(\d{2})(\d{2})-(\d{2})(\d{2})(\d{2})-/.exec(id);
  if (!m) return NaN;
  return Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]);
}

export interface RunListEntry { record?: RunRecord; dir: string; id: string; error?: string; }

export class RunStore {
  readonly runsDir: string;
  /** Serialises read-modify-write updates of one run inside this process. */
  private readonly locks = new Map<string, Promise<unknown>>();

  constructor(public readonly storeDir: string) {
    this.runsDir = path.join(storeDir, 'runs');
  }

  dirOf(id: string): string {
    checkId(id);
    return path.join(this.runsDir, id);
  }

  private withLock<T>(id: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.locks.get(id) ?? Promise.resolve();
    const next = prev.then(fn, fn);
    const tail = next.catch(() => undefined);
    this.locks.set(id, tail);
    void tail.then(() => { if (this.locks.get(id) === tail) this.locks.delete(id); });
    return next;
  }

  /** All runs, newest first. Runs whose run.json is missing or broken come back with `error`. */
  async list(): Promise<RunListEntry[]> {
    let ents;
    try { ents = await fsp.readdir(this.runsDir, { withFileTypes: true }); } catch { return []; }
    const rows = await Promise.all(ents.filter((e) => e.isDirectory() && !e.name.startsWith('.')).map(async (e) => {
      const dir = path.join(this.runsDir, e.name);
      let sortKey = timeOfRunId(e.name);
      if (Number.isNaN(sortKey)) { try { sortKey = (await fsp.stat(dir)).mtimeMs; } catch { sortKey = 0; } }
      try {
        const record = normaliseRecord(await readJsonFile<unknown>(path.join(dir, RUN_FILES.record), 'run record'), e.name);
        if (!record) throw new Error(`${path.join(dir, RUN_FILES.record)} is not a Few-Shot Lab run record`);
        const t = Date.parse(record.createdAt);
        if (!Number.isNaN(t)) sortKey = t;
        return { entry: { record, dir, id: e.name } as RunListEntry, sortKey };
      } catch (err) {
        return { entry: { dir, id: e.name, error: errorMessage(err) } as RunListEntry, sortKey };
      }
    }));
    rows.sort((a, b) => b.sortKey - a.sortKey || (a.entry.id < b.entry.id ? 1 : a.entry.id > b.entry.id ? -1 : 0));
    return rows.map((r) => r.entry);
  }

  async read(id: string): Promise<RunRecord> {
    const file = path.join(this.dirOf(id), RUN_FILES.record);
    const rec = normaliseRecord(await readJsonFile<unknown>(file, 'run record'), id);
    if (!rec) throw new FewShotError(`${file} is not a Few-Shot Lab run record.`, { file, code: 'run-file-corrupt', fix: 'Delete this run folder.' });
    return rec;
  }

  async readMetrics(id: string): Promise<EpochMetrics[]> {
    const rows = await readJsonLines<unknown>(path.join(this.dirOf(id), RUN_FILES.metrics));
    return rows.map(normaliseEpoch).filter((m): m is EpochMetrics => m !== null);
  }

  async readReport(id: string): Promise<ClassificationReport | null> {
    const file = path.join(this.dirOf(id), RUN_FILES.report);
    try { await fsp.access(file); } catch { return null; }
    return readJsonFile<ClassificationReport>(file, 'test report');
  }

  readPredictions(id: string): Promise<TestPrediction[]> {
    return readJsonLines<TestPrediction>(path.join(this.dirOf(id), RUN_FILES.predictions));
  }

  /** Create the run folder and a 'running' run.json. Throws if the id is taken. */
  async create(config: TrainConfig, id?: string): Promise<{ id: string; dir: string; record: RunRecord }> {
    await fsp.mkdir(this.runsDir, { recursive: true });
    let runId = id ?? makeRunId(config.dataset);
    let dir = this.dirOf(runId);
    for (let attempt = 0; ; attempt++) {
      try { await fsp.mkdir(dir); break; } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
        if (id !== undefined) {
          throw new FewShotError(`A run named ${id} already exists in ${this.runsDir}.`, { file: dir, code: 'run-exists', fix: 'Choose another run id or leave it empty.' });
        }
        if (attempt > 20) throw e;
        runId = makeRunId(config.dataset);
        dir = this.dirOf(runId);
      }
    }
    const record: RunRecord = {
      formatVersion: RUN_FORMAT_VERSION,
      id: runId,
      status: 'running',
      createdAt: new Date().toISOString(),
      config,
      versions: { node: process.versions.node },
      timings: {},
    };
    await writeJsonAtomic(path.join(dir, RUN_FILES.record), record);
    await fsp.writeFile(path.join(dir, RUN_FILES.metrics), '');
    return { id: runId, dir, record };
  }

  /** Atomic read-merge-write of run.json (`timings` and `versions` are merged key by key). */
  update(id: string, patch: Partial<RunRecord>): Promise<RunRecord> {
    return this.withLock(id, async () => {
      const cur = await this.read(id);
      const next: RunRecord = { ...cur, ...patch, id: cur.id, formatVersion: cur.formatVersion };
      if (patch.timings) next.timings = { ...cur.timings, ...patch.timings };
      if (patch.versions) next.versions = { ...cur.versions, ...patch.versions };
      for (const k of Object.keys(next) as (keyof RunRecord)[]) if (next[k] === undefined) delete next[k];
      await writeJsonAtomic(path.join(this.dirOf(id), RUN_FILES.record), next);
      return next;
    });
  }

  /** Append one line to metrics.jsonl (a torn last line from a crash is closed first). */
  appendEpoch(id: string, m: EpochMetrics): Promise<void> {
    return this.withLock(id, async () => {
      const file = path.join(this.dirOf(id), RUN_FILES.metrics);
      const fh = await fsp.open(file, 'a+');
      try {
        const { size } = await fh.stat();
        let prefix = '';
        if (size > 0) {
          const last = Buffer.alloc(1);
          await fh.read(last, 0, 1, size - 1);
          if (last[0] !== 0x0a) prefix = '\n';
        }
        await fh.appendFile(prefix + JSON.stringify(m) + '\n');
        await fh.datasync();
      } finally { await fh.close(); }
    });
  }

  rename(id: string, name: string): Promise<RunRecord> {
    const n = name.trim();
    return this.update(id, { name: n || undefined });
  }

  async delete(id: string): Promise<void> {
    const dir = this.dirOf(id);
    await fsp.rm(dir, { recursive: true, force: true });
  }

  /** report.json (+ report.txt and confusion.json). */
  async writeReport(id: string, report: ClassificationReport): Promise<void> {
    const dir = this.dirOf(id);
    await writeJsonAtomic(path.join(dir, RUN_FILES.report), report);
    await writeFileAtomic(path.join(dir, RUN_FILES.reportText), report.text);
    await writeJsonAtomic(path.join(dir, RUN_FILES.confusion), { labels: report.labels, matrix: report.confusion });
  }

  /** predictions.jsonl, one TestPrediction per line (written atomically as a whole). */
  async writePredictions(id: string, preds: TestPrediction[]): Promise<void> {
    await writeFileAtomic(path.join(this.dirOf(id), RUN_FILES.predictions), preds.map((p) => JSON.stringify(p) + '\n').join(''));
  }

  /** model/head.json */
  async writeModel(id: string, model: ModelFile): Promise<void> {
    await writeJsonAtomic(path.join(this.dirOf(id), RUN_FILES.model), model);
  }
}

/** Read `<runDir>/model/head.json` (also accepts the model folder or the head.json path itself). */
export async function readModel(dir: string): Promise<ModelFile> {
  let file = path.join(dir, RUN_FILES.model);
  if (dir.endsWith('.json')) file = dir;
  else {
    try { await fsp.access(file); } catch {
      try { await fsp.access(path.join(dir, 'head.json')); file = path.join(dir, 'head.json'); } catch { /* keep the run-dir path for the message */ }
    }
  }
  let model: ModelFile;
  try { model = await readJsonFile<ModelFile>(file, 'model'); } catch (e) {
    if (e instanceof FewShotError) {
      throw new FewShotError(`${file}: no saved model (${e.message})`, { file, code: 'model-missing', fix: 'Pick a completed run, or train again.' });
    }
    throw e;
  }
  if (!model || !Array.isArray(model.labels) || !Array.isArray(model.weights) || !model.head) {
    throw new FewShotError(`${file} is not a Few-Shot Lab model file.`, { file, code: 'model-invalid', fix: 'Pick a completed run, or train again.' });
  }
  if (typeof model.formatVersion === 'number' && model.formatVersion > RUN_FORMAT_VERSION) {
    throw new FewShotError(`${file} was written by a newer Few-Shot Lab (format ${model.formatVersion}).`, { file, code: 'model-too-new', fix: 'Update the Few-Shot Lab extension.' });
  }
  return model;
}
