/**
 * The run store: `<workspace>/.fewshot/runs/<id>/` (layout in src/protocol/run.ts).
 * Every whole-file write is atomic (tmp file in the same folder + fsync + rename);
 * metrics.jsonl is appended per epoch and a torn last line is ignored on read.
 */
import * as fs from 'node:fs';
import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { Worker } from 'node:worker_threads';
import { FewShotError, errorMessage } from './errors';
import { writeFileAtomic, writeJsonAtomic } from './util/fs';
import type { TrainPrediction } from '../protocol/labels';
import {
  PROGRESS_UNIT_LABELS, RUN_FORMAT_VERSION, type ProgressUnit,
  type AugmentedPreview, type AugmentedRow, type ClassificationReport, type EpochMetrics, type ModelFile, type RunRecord, type TestPrediction, type TrainConfig,
} from '../protocol/run';

export { writeJsonAtomic, writeFileAtomic };

export const RUN_FILES = {
  record: 'run.json',
  metrics: 'metrics.jsonl',
  report: 'report.json',
  reportText: 'report.txt',
  confusion: 'confusion.json',
  predictions: 'predictions.jsonl',
  /** Out-of-fold predictions of the training examples (TrainPrediction, src/protocol/labels.ts), when the head computed them. */
  oof: 'oof.jsonl',
  model: path.join('model', 'head.json'),
  /** Image runs with augmentation: small PNGs of training images and their augmented copies (AugmentedPreview). */
  augmented: 'augment-preview',
  augmentedIndex: path.join('augment-preview', 'preview.json'),
  /** Rewritten every HEARTBEAT_INTERVAL_MS by the process that owns a running run (see RunStore.claim). */
  heartbeat: 'heartbeat',
} as const;

export type RunFile = keyof typeof RUN_FILES;

/** The path of one file of a run folder (`dir` is the run folder, e.g. `.fewshot/runs/<id>`). */
export function runFile(dir: string, which: RunFile): string {
  return path.join(dir, RUN_FILES[which]);
}

/** Whether a run folder holds that file (readable or not). */
export async function runFileExists(dir: string, which: RunFile): Promise<boolean> {
  try { await fsp.access(runFile(dir, which)); return true; } catch { return false; }
}

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

/** The shape makeRunId produces (runs may also be given other ids: see isRunId). */
export const RUN_ID_PATTERN = /^\d{8}-\d{6}-.+-[0-9a-f]{4}$/u;

/**
 * The one run id rule: a folder name directly under `runs/` that cannot escape it and is not
 * hidden (no '/', '\\' or NUL, does not start with '.', at most 200 characters).
 */
export function isRunId(id: string): boolean {
  return typeof id === 'string' && id.length > 0 && id.length <= 200 && !id.startsWith('.') && !/[\\/\0]/.test(id);
}

function checkId(id: string): void {
  if (!isRunId(id)) {
    throw new FewShotError(`"${id}" is not a run id.`, { code: 'bad-run-id', fix: 'Use a run id as listed by `fewshot runs` (e.g. 20250101-120000-notes-ab12).' });
  }
}

async function readJsonFile<T>(file: string, what: string): Promise<T> {
  let text: string;
  try { text = await fsp.readFile(file, 'utf8'); } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new FewShotError(code === 'ENOENT' ? `${file} does not exist.` : `Cannot read ${file}: ${errorMessage(e)}`, {
      file, code: code === 'ENOENT' ? 'run-file-missing' : 'run-file-unreadable', fix: `The ${what} is missing or unreadable; run training again, or delete this run.` });
  }
  if (!text.trim()) {
    throw new FewShotError(`${file} is empty: the ${what} was probably being written when its process stopped.`, {
      file, code: 'run-file-corrupt', fix: 'Run training again, or delete this run.' });
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

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const STATUSES: readonly RunRecord['status'][] = ['running', 'completed', 'failed', 'cancelled', 'interrupted'];

/** Setting names used before format version 1 → current names. */
const CONFIG_ALIASES: Record<string, string> = {
  dataset_path: 'dataset', learning_rate: 'learningRate', lr: 'learningRate', batch_size: 'batchSize',
  class_weighting: 'classWeighting', validation_fraction: 'validationFraction',
};

/**
 * The one "valid run" rule: a run folder is a run when its run.json parses to an object with
 * training settings (`config`, or `settings` in files written before format version 1). Such
 * a record is brought to the current RunRecord shape (older snake_case names are mapped,
 * nothing is invented; `formatVersion` stays what the file says, 0 when absent). Anything
 * else is not a run: null.
 */
export function normaliseRecord(raw: unknown, id: string): RunRecord | null {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) return null;
  const r = raw as Raw;
  const cfgRaw = (r.config ?? r.settings) as Raw | undefined;
  if (!cfgRaw || typeof cfgRaw !== 'object' || Array.isArray(cfgRaw)) return null;
  const version = num(r.formatVersion) ?? num(r.format_version) ?? 0;
  const config: Raw = {};
  for (const [k, v] of Object.entries(cfgRaw)) config[CONFIG_ALIASES[k] ?? k] ??= v;
  for (const [k, v] of Object.entries(cfgRaw)) if (!(k in CONFIG_ALIASES)) config[k] = v;
  if (typeof config.dataset !== 'string') config.dataset = '';
  if (typeof config.encoder !== 'string') config.encoder = '';
  const status = STATUSES.find((s) => s === r.status) ?? 'completed';
  const rec: RunRecord = {
    ...(r as unknown as RunRecord),
    formatVersion: version,
    id: str(r.id) ?? id,
    status,
    createdAt: str(r.createdAt) ?? str(r.created_at) ?? '',
    config: config as unknown as TrainConfig,
    versions: (r.versions && typeof r.versions === 'object' ? r.versions : {}) as Record<string, string>,
    timings: (r.timings && typeof r.timings === 'object' ? r.timings : {}) as RunRecord['timings'],
  };
  delete (rec as unknown as Raw).settings;
  dropMalformed(rec as unknown as Raw);
  if (version < 1) {
    // Before format 1: no passages / class-name priors existed, figures were snake_case.
    config.passages ??= false;
    config.classNames ??= false;
    const bv = num(r.bestValMacroF1) ?? num(r.best_val_f1); if (bv !== undefined) rec.bestValMacroF1 = bv;
    const tf = num(r.testMacroF1) ?? num(r.test_f1); if (tf !== undefined) rec.testMacroF1 = tf;
    const ta = num(r.testAccuracy) ?? num(r.test_acc); if (ta !== undefined) rec.testAccuracy = ta;
    const be = num(r.bestEpoch) ?? num(r.best_epoch); if (be !== undefined) rec.bestEpoch = be;
    const tm = num(r.train_ms); if (tm !== undefined && rec.timings.trainMs === undefined) rec.timings = { ...rec.timings, trainMs: tm };
    const tt = num(r.total_ms); if (tt !== undefined && rec.timings.totalMs === undefined) rec.timings = { ...rec.timings, totalMs: tt };
    const enc = str(r.encoder_id);
    if (!rec.encoder && enc) rec.encoder = { id: enc, requested: rec.config.encoder, dim: 0, reason: 'older run format' };
    for (const k of ['created_at', 'best_epoch', 'best_val_f1', 'test_f1', 'test_acc', 'train_ms', 'total_ms', 'encoder_id']) delete (rec as unknown as Raw)[k];
  }
  return rec;
}

/** Whether report.json parsed to the shape every reader needs (labels, per-class and macro scores). */
export function isReport(raw: unknown): raw is ClassificationReport {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) return false;
  const r = raw as Raw;
  const obj = (v: unknown) => !!v && typeof v === 'object' && !Array.isArray(v);
  return Array.isArray(r.labels) && r.labels.every((l) => typeof l === 'string') && obj(r.perClass) && obj(r.macro);
}

/**
 * Text from a run file made safe for a terminal: control characters (ANSI escapes, backspace,
 * bell, C1 codes) are shown as \\u{…} escapes; tabs and, with `multiline`, line ends are kept.
 */
export function escapeControl(s: string, multiline = false): string {
  return s.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, (c) =>
    c === '\t' || (multiline && c === '\n') ? c : `\\u{${c.charCodeAt(0).toString(16)}}`);
}

/**
 * Fields of a hand-edited or damaged run.json that readers would trip over (a number where a name
 * belongs, an error without a message, …) are dropped, so views and the CLI show the rest.
 */
function dropMalformed(r: Raw): void {
  const obj = (v: unknown): v is Raw => !!v && typeof v === 'object' && !Array.isArray(v);
  for (const k of ['name', 'finishedAt', 'algorithm', 'head'] as const) if (r[k] !== undefined && typeof r[k] !== 'string') delete r[k];
  for (const k of ['testMacroF1', 'testAccuracy', 'bestValMacroF1', 'bestEpoch', 'epochsRun'] as const) if (r[k] !== undefined && num(r[k]) === undefined) delete r[k];
  if (r.error !== undefined && !(obj(r.error) && typeof r.error.message === 'string')) r.error = { message: 'the run failed (its run.json holds no readable error message)' };
  if (r.encoder !== undefined && !(obj(r.encoder) && typeof r.encoder.id === 'string')) delete r.encoder;
  if (r.dataset !== undefined && !(obj(r.dataset) && typeof r.dataset.path === 'string' && Array.isArray(r.dataset.labels))) delete r.dataset;
  if (r.dataProblems !== undefined && !(Array.isArray(r.dataProblems) && r.dataProblems.every((p) => obj(p) && typeof p.message === 'string'))) delete r.dataProblems;
  if (r.progress !== undefined && !obj(r.progress)) delete r.progress;
}

/** EpochMetrics from a metrics.jsonl line, also accepting the older snake_case keys. */
export function normaliseEpoch(raw: unknown): EpochMetrics | null {
  if (!raw || typeof raw !== 'object') return null;
  const r = raw as Raw;
  if (typeof r.epoch !== 'number') return null;
  if ('valMacroF1' in r || 'elapsedMs' in r) {
    const { unit, label, ...rest } = r;
    return {
      ...(rest as unknown as EpochMetrics),
      ...(typeof unit === 'string' && unit in PROGRESS_UNIT_LABELS ? { unit: unit as ProgressUnit } : {}),
      ...(typeof label === 'string' ? { label } : {}),
      loss: num(r.loss) ?? NaN,
      valLoss: num(r.valLoss) ?? null,
      valMacroF1: num(r.valMacroF1) ?? null,
      valAccuracy: num(r.valAccuracy) ?? null,
      perClassRecall: r.perClassRecall && typeof r.perClassRecall === 'object' ? r.perClassRecall as Record<string, number> : {},
      elapsedMs: num(r.elapsedMs) ?? NaN,
    };
  }
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

/** A metrics.jsonl line that was skipped: `incomplete` is an unfinished last line (no newline yet: still being written, or torn by a crash). */
export interface MetricsLineProblem { line: number; problem: 'incomplete' | 'invalid-json' | 'no-epoch' }

/**
 * The one metrics.jsonl parser: EpochMetrics in file order (normaliseEpoch), and the 1-based
 * lines it skipped and why (blank lines are not problems).
 */
export function parseMetricsLines(text: string): { metrics: EpochMetrics[]; problems: MetricsLineProblem[] } {
  const metrics: EpochMetrics[] = [];
  const problems: MetricsLineProblem[] = [];
  const lines = text.split('\n');
  const endsWithNewline = text.endsWith('\n');
  lines.forEach((line, i) => {
    if (!line.trim()) return;
    let o: unknown;
    try {
      o = JSON.parse(line);
      if (!o || typeof o !== 'object') throw new Error('not an object');
    } catch {
      problems.push({ line: i + 1, problem: i === lines.length - 1 && !endsWithNewline ? 'incomplete' : 'invalid-json' });
      return;
    }
    const m = normaliseEpoch(o);
    if (m) metrics.push(m);
    else problems.push({ line: i + 1, problem: 'no-epoch' });
  });
  return { metrics, problems };
}

/** UTC timestamp at the start of a run id (YYYYMMDD-HHMMSS-…), or NaN. */
export function timeOfRunId(id: string): number {
  const m = /^(\d{4})(\d{2})(\d{2})-(\d{2})(\d{2})(\d{2})-/.exec(id);
  if (!m) return NaN;
  return Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]);
}

export interface RunListEntry { record?: RunRecord; dir: string; id: string; error?: string; }

/**
 * The one run order: newest first by `createdAt` (else the time in the id, else the folder's
 * mtime), then by id, descending. `list()` returns runs in this order.
 */
export function compareRuns(a: { id: string; record?: Pick<RunRecord, 'createdAt'> }, b: { id: string; record?: Pick<RunRecord, 'createdAt'> }): number {
  const key = (x: { id: string; record?: Pick<RunRecord, 'createdAt'> }): number => {
    const t = Date.parse(x.record?.createdAt ?? '');
    if (!Number.isNaN(t)) return t;
    const i = timeOfRunId(x.id);
    return Number.isNaN(i) ? 0 : i;
  };
  return key(b) - key(a) || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0);
}

/** Whether a run can serve predictions: it completed and its folder holds model/head.json. */
export async function isUsableForPredict(entry: { dir: string; record?: RunRecord }): Promise<boolean> {
  return entry.record?.status === 'completed' && hasModel(entry.dir);
}

/** Whether a run folder holds a saved model (model/head.json), whatever its run.json says. */
export function hasModel(dir: string): Promise<boolean> {
  return runFileExists(dir, 'model');
}

// ------------------------------------------------------------------ liveness

/** How often the owner of a running run rewrites its heartbeat file. */
export const HEARTBEAT_INTERVAL_MS = 2_000;
/** A running run with no sign of life (heartbeat, run.json or metrics.jsonl written) for this long is interrupted. */
export const HEARTBEAT_STALE_MS = 10_000;

/** Whether a process with this id exists on this machine (EPERM: it exists but belongs to someone else). */
export function pidAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try { process.kill(pid, 0); return true; } catch (e) { return (e as NodeJS.ErrnoException).code === 'EPERM'; }
}

async function mtimeOf(file: string): Promise<number> {
  try { return (await fsp.stat(file)).mtimeMs; } catch { return -Infinity; }
}

/**
 * Why a run whose run.json says 'running' is no longer running, or undefined while it may be:
 *  - its owner process (run.json `owner`, written by RunStore.claim) is on this host and gone;
 *  - or nothing in its folder (heartbeat, run.json, metrics.jsonl) was written for HEARTBEAT_STALE_MS
 *    (owner on another host, a reused pid, or a run made before owners were recorded).
 */
export async function interruption(dir: string, rec: RunRecord, now = Date.now()): Promise<string | undefined> {
  if (rec.status !== 'running') return undefined;
  const o = rec.owner;
  if (o && o.host === os.hostname() && !pidAlive(o.pid)) return `its training process (pid ${o.pid}) ended without finishing it`;
  const last = Math.max(...(await Promise.all([RUN_FILES.heartbeat, RUN_FILES.record, RUN_FILES.metrics].map((f) => mtimeOf(path.join(dir, f))))));
  if (now - last > HEARTBEAT_STALE_MS) {
    const where = o ? ` (pid ${o.pid} on ${o.host})` : '';
    return Number.isFinite(last)
      ? `its training process${where} gave no sign of life for ${Math.round((now - last) / 1000)} s`
      : `its training process${where} left no trace`;
  }
  return undefined;
}

/**
 * The record as readers show it: a 'running' run whose process is gone reads 'interrupted',
 * with `error` saying why. Derived on every read, never written back: a run that comes back to
 * life (a laptop resumed) reads 'running' again, and the trainer's own final status wins.
 */
async function withLiveness(dir: string, rec: RunRecord): Promise<RunRecord> {
  const why = await interruption(dir, rec);
  if (!why) return rec;
  return {
    ...rec,
    status: 'interrupted',
    error: rec.error ?? { message: `Run ${rec.id} was interrupted: ${why}.`, fix: 'Train again; the epochs it saved are kept in its folder.' },
  };
}

/** Heartbeat writers of this process, one per run folder (a second claim shares the first). */
const heartbeats = new Map<string, { worker?: Worker; timer?: NodeJS.Timeout; refs: number }>();

/**
 * Rewrites `file` every `ms` from a worker thread, so the beat goes on while the main thread is
 * busy in a long synchronous loop (the run is alive as long as its process is).
 */
const HEARTBEAT_WORKER = `
const { workerData } = require('node:worker_threads');
const fs = require('node:fs');
const beat = () => { try { fs.writeFileSync(workerData.file, new Date().toISOString() + '\\n'); } catch {} };
setInterval(beat, workerData.ms);
`;

export interface RunClaim { stop(): void }

/** Serialises read-modify-write updates of one run folder inside this process (shared by every RunStore). */
const locks = new Map<string, Promise<unknown>>();

export class RunStore {
  readonly runsDir: string;

  /** `opts.runsDir`: a runs folder not named `<storeDir>/runs` (tests, a run folder given by path). */
  constructor(public readonly storeDir: string, opts: { runsDir?: string } = {}) {
    this.runsDir = opts.runsDir ?? path.join(storeDir, 'runs');
  }

  /** The store and id of a run folder given by path (`…/<id>`). */
  static ofRunDir(dir: string): { store: RunStore; id: string } {
    const abs = path.resolve(dir);
    const runsDir = path.dirname(abs);
    return { store: new RunStore(path.dirname(runsDir), { runsDir }), id: path.basename(abs) };
  }

  dirOf(id: string): string {
    checkId(id);
    return path.join(this.runsDir, id);
  }

  private withLock<T>(id: string, fn: () => Promise<T>): Promise<T> {
    const key = this.dirOf(id);
    const prev = locks.get(key) ?? Promise.resolve();
    const next = prev.then(fn, fn);
    const tail = next.catch(() => undefined);
    locks.set(key, tail);
    void tail.then(() => { if (locks.get(key) === tail) locks.delete(key); });
    return next;
  }

  /** Whether `id` names a folder with a run.json (readable or not). */
  async exists(id: string): Promise<boolean> {
    if (!isRunId(id)) return false;
    return runFileExists(this.dirOf(id), 'record');
  }

  /** The path of one file of a run (for messages and watchers; read and write through the store). */
  fileOf(id: string, which: RunFile): string {
    return runFile(this.dirOf(id), which);
  }

  /**
   * A cheap change signature of a run: mtime/size of run.json, metrics.jsonl and report.json.
   * It changes when the run writes an epoch, finishes, is renamed or deleted; the heartbeat file
   * (rewritten every HEARTBEAT_INTERVAL_MS while a run trains) is left out on purpose.
   */
  async signature(id: string): Promise<string> {
    const stat = async (f: string) => { try { const st = await fsp.stat(f); return `${st.mtimeMs}/${st.size}`; } catch { return '-'; } };
    if (!isRunId(id)) return '-:-:-';
    const dir = this.dirOf(id);
    return (await Promise.all((['record', 'metrics', 'report'] as const).map((f) => stat(runFile(dir, f))))).join(':');
  }

  /**
   * All run folders, in the run order (compareRuns: newest first). Folders whose run.json is
   * missing or not a run record come back with `error`; hidden folders and files are skipped.
   * Statuses are as readers show them ('interrupted' for a dead 'running' run).
   */
  async list(): Promise<RunListEntry[]> {
    let ents;
    try { ents = await fsp.readdir(this.runsDir, { withFileTypes: true }); } catch { return []; }
    const rows = await Promise.all(ents.filter((e) => e.isDirectory() && isRunId(e.name)).map(async (e): Promise<RunListEntry> => {
      const dir = path.join(this.runsDir, e.name);
      try {
        return { record: await this.read(e.name), dir, id: e.name };
      } catch (err) {
        return { dir, id: e.name, error: errorMessage(err) };
      }
    }));
    return rows.sort(compareRuns);
  }

  /** run.json as readers show it (see withLiveness); throws a FewShotError naming the file when it is not a run. */
  async read(id: string): Promise<RunRecord> {
    return withLiveness(this.dirOf(id), await this.readStored(id));
  }

  /** run.json exactly as stored (normalised), without the liveness verdict: for writers. */
  private async readStored(id: string): Promise<RunRecord> {
    const file = path.join(this.dirOf(id), RUN_FILES.record);
    const rec = normaliseRecord(await readJsonFile<unknown>(file, 'run record'), id);
    if (!rec) throw new FewShotError(`${file} is not a Few-Shot Lab run record (it has no training settings).`, { file, code: 'run-file-corrupt', fix: 'Delete this run folder.' });
    return rec;
  }

  /**
   * Marks a running run cancelled with synchronous writes (tmp file + rename), for a process that
   * is about to exit (a second Ctrl-C): no await can run after this.
   */
  markCancelledSync(id: string): void {
    const file = path.join(this.dirOf(id), RUN_FILES.record);
    try {
      const rec = JSON.parse(fs.readFileSync(file, 'utf8')) as RunRecord;
      if (rec.status !== 'running') return;
      const tmp = `${file}.${process.pid}.tmp`;
      fs.writeFileSync(tmp, JSON.stringify({ ...rec, status: 'cancelled', finishedAt: new Date().toISOString() }, null, 2) + '\n');
      fs.renameSync(tmp, file);
    } catch { /* the run folder is gone or unreadable: nothing to mark */ }
  }

  /**
   * Marks this process as the owner of a running run: records `owner` {pid, host, startedAt} in
   * run.json and rewrites the run's heartbeat file every HEARTBEAT_INTERVAL_MS until `stop()`.
   * Readers then report the run 'interrupted' as soon as this process is gone.
   */
  async claim(id: string): Promise<RunClaim> {
    const dir = this.dirOf(id);
    const file = path.join(dir, RUN_FILES.heartbeat);
    let hb = heartbeats.get(dir);
    if (!hb) {
      await fsp.writeFile(file, new Date().toISOString() + '\n');
      hb = { refs: 0 };
      try {
        hb.worker = new Worker(HEARTBEAT_WORKER, { eval: true, workerData: { file, ms: HEARTBEAT_INTERVAL_MS } });
        hb.worker.unref();
        hb.worker.on('error', () => undefined);
      } catch {
        hb.timer = setInterval(() => { void fsp.writeFile(file, new Date().toISOString() + '\n').catch(() => undefined); }, HEARTBEAT_INTERVAL_MS);
        hb.timer.unref();
      }
      heartbeats.set(dir, hb);
      await this.update(id, { owner: { pid: process.pid, host: os.hostname(), startedAt: new Date().toISOString() } });
    }
    hb.refs++;
    const beat = hb;
    let stopped = false;
    return {
      stop: () => {
        if (stopped) return;
        stopped = true;
        if (--beat.refs > 0) return;
        void beat.worker?.terminate();
        if (beat.timer) clearInterval(beat.timer);
        if (heartbeats.get(dir) === beat) heartbeats.delete(dir);
      },
    };
  }

  /** metrics.jsonl in file order; damaged lines (a torn last line after a crash) are skipped. */
  async readMetrics(id: string): Promise<EpochMetrics[]> {
    return (await this.readMetricsWithProblems(id)).metrics;
  }

  /**
   * metrics.jsonl with the lines it skipped (parseMetricsLines), for views that report damage.
   * A missing file is no metrics and no problems; other read errors throw.
   */
  async readMetricsWithProblems(id: string): Promise<{ file: string; metrics: EpochMetrics[]; problems: MetricsLineProblem[] }> {
    const file = this.fileOf(id, 'metrics');
    let text: string;
    try { text = await fsp.readFile(file, 'utf8'); } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { file, metrics: [], problems: [] };
      throw e;
    }
    return { file, ...parseMetricsLines(text) };
  }

  async readReport(id: string): Promise<ClassificationReport | null> {
    const file = path.join(this.dirOf(id), RUN_FILES.report);
    try { await fsp.access(file); } catch { return null; }
    const raw = await readJsonFile<unknown>(file, 'test report');
    if (!isReport(raw)) {
      throw new FewShotError(`${file} is not a Few-Shot Lab test report (it lacks the labels or the scores).`, {
        file, code: 'run-file-corrupt', fix: 'Train again to rebuild the report, or delete this run.' });
    }
    return raw;
  }

  /** report.txt (the report as text, with the notes training wrote above it), or undefined when unreadable. */
  async readReportText(id: string): Promise<string | undefined> {
    try { return await fsp.readFile(this.fileOf(id, 'reportText'), 'utf8'); } catch { return undefined; }
  }

  /** oof.jsonl: the training examples' out-of-fold predictions ([] when the run has none). */
  async readOof(id: string): Promise<TrainPrediction[]> {
    return readJsonLines<TrainPrediction>(path.join(this.dirOf(id), RUN_FILES.oof));
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
      const cur = await this.readStored(id);
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

  /** confusion.json, report.json and report.txt (`text`, by default the report's own text), each atomically. */
  async writeReport(id: string, report: ClassificationReport, text = report.text): Promise<void> {
    const dir = this.dirOf(id);
    await writeJsonAtomic(runFile(dir, 'confusion'), { labels: report.labels, matrix: report.confusion });
    await writeJsonAtomic(runFile(dir, 'report'), report);
    await writeFileAtomic(runFile(dir, 'reportText'), text);
  }

  /**
   * What a finished training saves, each file atomically: model/head.json, predictions.jsonl and,
   * when there is a report, confusion.json, report.json and report.txt (`reportText`).
   */
  async saveResults(id: string, r: { model: ModelFile; predictions: TestPrediction[]; report: ClassificationReport | null; reportText?: string; oof?: TrainPrediction[] }): Promise<void> {
    await this.writeModel(id, r.model);
    await this.writePredictions(id, r.predictions);
    if (r.oof?.length) await writeFileAtomic(path.join(this.dirOf(id), RUN_FILES.oof), r.oof.map((p) => JSON.stringify(p) + '\n').join(''));
    if (r.report) await this.writeReport(id, r.report, r.reportText);
  }

  /**
   * augment-preview/: each row's original and copies as PNG files (r<i>-original.png, r<i>-<k>.png), then preview.json naming
   * them; every file written atomically, the index last (a reader never sees an index without its images).
   */
  async saveAugmented(id: string, preview: Omit<AugmentedPreview, 'rows'> & {
    rows: (Omit<AugmentedRow, 'original' | 'copies'> & { original: Buffer; copies: (Omit<AugmentedRow['copies'][number], 'file'> & { png: Buffer })[] })[];
  }): Promise<AugmentedPreview> {
    const dir = runFile(this.dirOf(id), 'augmented');
    await fsp.mkdir(dir, { recursive: true });
    const rows: AugmentedRow[] = [];
    for (const [i, r] of preview.rows.entries()) {
      const original = `r${i}-original.png`;
      await writeFileAtomic(path.join(dir, original), r.original);
      const copies: AugmentedRow['copies'] = [];
      for (const [k, { png, ...params }] of r.copies.entries()) {
        const file = `r${i}-${k + 1}.png`;
        await writeFileAtomic(path.join(dir, file), png);
        copies.push({ file, ...params });
      }
      rows.push({ source: r.source, label: r.label, original, copies });
    }
    const index: AugmentedPreview = { transform: preview.transform, seed: preview.seed, rows };
    await writeJsonAtomic(runFile(this.dirOf(id), 'augmentedIndex'), index);
    return index;
  }

  /**
   * augment-preview/preview.json with every file as an absolute path inside augment-preview/ (undefined when the run
   * has none). A name that is not a plain file name of that folder, or whose file is missing, leaves its image out.
   */
  async readAugmented(id: string): Promise<AugmentedPreview | undefined> {
    const dir = runFile(this.dirOf(id), 'augmented');
    let index: AugmentedPreview;
    try {
      index = JSON.parse(await fsp.readFile(runFile(this.dirOf(id), 'augmentedIndex'), 'utf8')) as AugmentedPreview;
    } catch {
      return undefined;
    }
    if (!index || !Array.isArray(index.rows)) return undefined;
    const inside = (name: unknown): string | undefined => {
      if (typeof name !== 'string' || !/^[\w.-]+\.png$/.test(name)) return undefined;
      const p = path.join(dir, name);
      return fs.existsSync(p) ? p : undefined;
    };
    const rows: AugmentedRow[] = [];
    for (const r of index.rows) {
      const original = inside(r?.original);
      if (!original) continue;
      const copies = (Array.isArray(r.copies) ? r.copies : []).flatMap((c) => { const file = inside(c?.file); return file ? [{ ...c, file }] : []; });
      rows.push({ ...r, original, copies });
    }
    return { ...index, rows };
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

/**
 * Read and check `<runDir>/model/head.json` synchronously, for loading a predictor: stricter than
 * readModel (a run folder only; at least 2 labels, a named encoder, weights). Throws a FewShotError
 * naming the file.
 */
export function readRunModelSync(runDir: string): ModelFile {
  const file = runFile(runDir, 'model');
  if (!fs.existsSync(runDir)) {
    throw new FewShotError(`The run folder ${runDir} does not exist.`, {
      file: runDir, fix: 'Pass the folder of a completed run (.fewshot/runs/<id>); `fewshot runs` lists them.', code: 'run-missing',
    });
  }
  let raw: string;
  try {
    raw = fs.readFileSync(file, 'utf8');
  } catch {
    throw new FewShotError(`No model in ${runDir}: ${file} is missing.`, {
      file, fix: 'Pick a run that completed (a failed or cancelled run has no model), or train one with `fewshot train <dataset>`.', code: 'model-missing',
    });
  }
  let m: ModelFile;
  try {
    m = JSON.parse(raw) as ModelFile;
  } catch (e) {
    throw new FewShotError(`The model file ${file} is not valid JSON (${errorMessage(e)}).`, { file, fix: 'Retrain the run; the file was damaged.', code: 'model-invalid' });
  }
  const bad = (what: string): never => {
    throw new FewShotError(`The model file ${file} is invalid: ${what}.`, { file, fix: 'Retrain the run with this version of Few-Shot Lab.', code: 'model-invalid' });
  };
  if (!m || typeof m !== 'object') bad('not an object');
  if (typeof m.formatVersion === 'number' && m.formatVersion > RUN_FORMAT_VERSION) {
    throw new FewShotError(`The model file ${file} was written by a newer Few-Shot Lab (format ${m.formatVersion}; this one reads ${RUN_FORMAT_VERSION}).`, {
      file, fix: 'Update Few-Shot Lab, or retrain the run with this version.', code: 'model-too-new',
    });
  }
  if (!Array.isArray(m.labels) || m.labels.length < 2) bad('it has fewer than 2 labels');
  if (!m.encoder || typeof m.encoder.id !== 'string') bad('it does not name its encoder');
  if (!Array.isArray(m.weights)) bad('it has no weights');
  if (m.decision !== undefined) {
    const d = m.decision;
    const probability = (v: unknown) => typeof v === 'number' && v >= 0 && v <= 1;
    if (!d || typeof d !== 'object' || !d.thresholds || typeof d.thresholds !== 'object') bad('its decision rule has no thresholds');
    for (const [l, t] of Object.entries(d.thresholds)) {
      if (!m.labels.includes(l) || !probability(t)) bad(`its decision rule has a bad threshold for "${l}"`);
    }
    if (d.abstain !== undefined && !probability(d.abstain)) bad('its decision rule has a bad abstain threshold');
  }
  return m;
}

/**
 * A run folder from what a user typed (CLI `predict --run`, `report`, `serve --run`):
 *  1. a path to a folder holding run.json or model/head.json (relative to `cwd`);
 *  2. a run id in the store;
 *  3. a unique prefix or suffix of a run id in the store (e.g. `20261101-10` or `a1b2`).
 * Throws a FewShotError (code 'run-ambiguous' / 'run-missing') naming the store otherwise.
 */
export async function resolveRunRef(store: RunStore, ref: string, cwd = process.cwd()): Promise<string> {
  const asPath = path.resolve(cwd, ref);
  const has = async (f: string) => { try { await fsp.access(f); return true; } catch { return false; } };
  if (await runFileExists(asPath, 'record') || await hasModel(asPath)) return asPath;
  if (isRunId(ref)) {
    if (await store.exists(ref)) return store.dirOf(ref);
    let ids: string[] = [];
    try {
      ids = (await fsp.readdir(store.runsDir, { withFileTypes: true }))
        .filter((e) => e.isDirectory() && isRunId(e.name) && (e.name.startsWith(ref) || e.name.endsWith(ref))).map((e) => e.name).sort();
    } catch { /* no store */ }
    if (ids.length === 1) return store.dirOf(ids[0]);
    if (ids.length > 1) {
      throw new FewShotError(`"${ref}" matches ${ids.length} runs in ${store.runsDir}: ${ids.slice(0, 5).join(', ')}${ids.length > 5 ? ', …' : ''}.`, {
        file: store.runsDir, fix: 'Give more of the run id, or the run folder.', code: 'run-ambiguous',
      });
    }
  }
  throw new FewShotError(`No run "${ref}": neither a run folder nor a run id in ${store.runsDir}.`, {
    file: await has(asPath) ? asPath : store.runsDir, fix: 'Pass a run folder (.fewshot/runs/<id>) or an id listed by `fewshot runs` (use --store for another store).', code: 'run-missing',
  });
}

/** run.json of a run folder given by path, as readers show it (RunStore.read). */
export function readRunAt(dir: string): Promise<RunRecord> {
  const { store, id } = RunStore.ofRunDir(dir);
  return store.read(id);
}
