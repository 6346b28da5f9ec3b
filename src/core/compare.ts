/**
 * Run comparison logic (no 'vscode'): load saved runs tolerantly (corrupt,
 * half-written and older-format runs become notices, never exceptions), derive
 * the metrics table, the best-vs-last epoch figures, the settings diff, and
 * export the table as CSV or Markdown. Used by the extension's Compare panel;
 * usable from the CLI and unit tests.
 */
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { FewShotError, errorMessage } from './errors';
import { RUN_FILES, RunStore, isRunId, parseMetricsLines, type MetricsLineProblem, type RunListEntry } from './runs';
import { fnv1a } from './util/hash';
import type { ClassificationReport, EpochMetrics, ProgressUnit, RunRecord, TrainConfig } from '../protocol/run';
import { ALGORITHM_SETTINGS, HEAD_SETTINGS, RUN_FORMAT_VERSION } from '../protocol/run';
import {
  MAX_CURVE_POINTS, NUMERIC_COLUMNS, SETTING_NOT_USED, TABLE_COLUMNS,
  type CompareModel, type CompareNotice, type CompareRun, type CurvePoint, type RunCurves, type RunHealth,
  type SettingsDiffRow, type TableColumn, type TableRow,
} from '../protocol/compare';

// ------------------------------------------------------------------ loading

/** Everything read from one run folder. `record` is missing when run.json could not be read. */
export interface LoadedRun {
  id: string;
  dir: string;
  record?: RunRecord;
  metrics: EpochMetrics[];
  report: ClassificationReport | null;
  health: RunHealth;
  notices: CompareNotice[];
  /** Set when the run cannot be shown at all. */
  error?: string;
}

/** A run store, or (tests, tools) the path of a runs folder. */
export type RunsSource = RunStore | string;

function storeOf(src: RunsSource): RunStore {
  return typeof src === 'string' ? new RunStore(path.dirname(src), { runsDir: src }) : src;
}

/** Run folders, in the store's run order (newest first); unreadable runs come back with `error`. */
export function listRuns(src: RunsSource): Promise<RunListEntry[]> {
  return storeOf(src).list();
}

/** Notices about a record's format version (older: best-effort; newer: some figures may be missing). */
function formatNotices(record: RunRecord, id: string, file: string): CompareNotice[] {
  const version = record.formatVersion;
  if (version > RUN_FORMAT_VERSION) {
    return [{
      severity: 'warning', runId: id, file,
      message: `Run "${id}" was saved by a newer Few-Shot Lab (format ${version}, this version reads ${RUN_FORMAT_VERSION}); some figures may be missing.`,
      fix: 'Update the Few-Shot Lab extension.',
    }];
  }
  if (version < 1) {
    return [{
      severity: 'info', runId: id, file,
      message: `Run "${id}" uses an older run format (version ${version}); figures it did not record (dataset fingerprint, some timings) are shown as "—".`,
      fix: 'Retrain the run to get every figure.',
    }];
  }
  return [];
}

/**
 * The run store's metrics.jsonl parser (parseMetricsLines) with its skipped lines as notices:
 * a damaged line is a warning; an incomplete last line (no trailing newline, typical while
 * training writes) is an info notice. Epochs come back sorted.
 */
export function parseMetricsJsonl(text: string, file: string, runId?: string): { metrics: EpochMetrics[]; notices: CompareNotice[]; partial: boolean } {
  const { metrics, problems } = parseMetricsLines(text);
  return metricsNotices(metrics, problems, file, runId);
}

function metricsNotices(metrics: EpochMetrics[], problems: MetricsLineProblem[], file: string, runId?: string): { metrics: EpochMetrics[]; notices: CompareNotice[]; partial: boolean } {
  const notices = problems.map((p): CompareNotice => {
    if (p.problem === 'incomplete') return { severity: 'info', runId, file, message: `The last line of ${file} is incomplete (still being written?); it was ignored.` };
    if (p.problem === 'invalid-json') return { severity: 'warning', runId, file, message: `${file}:${p.line} is not valid JSON; that epoch was skipped.`, fix: 'Delete the damaged line or retrain the run.' };
    return { severity: 'warning', runId, file, message: `${file}:${p.line} has no "epoch"; it was skipped.` };
  });
  return { metrics: [...metrics].sort((a, b) => a.epoch - b.epoch), notices, partial: problems.some((p) => p.problem === 'incomplete') };
}

function isReport(o: unknown): o is ClassificationReport {
  const r = o as ClassificationReport;
  return !!r && typeof r === 'object' && Array.isArray(r.labels) && !!r.perClass && typeof r.perClass === 'object' && !!r.macro;
}

/** Loads one run folder for comparison (through the run store). Never throws: problems become notices or `error`. */
export async function loadRun(src: RunsSource, id: string): Promise<LoadedRun> {
  const store = storeOf(src);
  const dir = path.join(store.runsDir, id);
  const base: LoadedRun = { id, dir, metrics: [], report: null, health: 'ok', notices: [] };
  if (!isRunId(id)) return { ...base, error: `"${id}" is not a run id.` };
  try {
    const st = await fsp.stat(dir);
    if (!st.isDirectory()) throw new Error('not a folder');
  } catch {
    const message = `Run "${id}" no longer exists (${dir}).`;
    return { ...base, error: message, notices: [{ severity: 'warning', runId: id, file: dir, message, fix: 'It was deleted; remove it from the comparison.' }] };
  }
  const rFile0 = store.fileOf(id, 'record');
  let record: RunRecord;
  try {
    record = await store.read(id);
  } catch (e) {
    const error = errorMessage(e);
    const fix = e instanceof FewShotError ? e.opts.fix : undefined;
    return { ...base, error, notices: [{ severity: 'error', runId: id, file: rFile0, message: error, fix }] };
  }
  const notices = formatNotices(record, id, rFile0);
  let health: RunHealth = record.formatVersion < 1 ? 'older-format' : record.formatVersion > RUN_FORMAT_VERSION ? 'newer-format' : 'ok';

  const mFile = store.fileOf(id, 'metrics');
  let metrics: EpochMetrics[] = [];
  try {
    const read = await store.readMetricsWithProblems(id);
    const parsed = metricsNotices(read.metrics, read.problems, read.file, id);
    metrics = parsed.metrics;
    notices.push(...parsed.notices);
    if ((parsed.partial || parsed.notices.length) && health === 'ok') health = 'partial';
  } catch (e) {
    notices.push({ severity: 'warning', runId: id, file: mFile, message: `Cannot read ${mFile}: ${errorMessage(e)}` });
  }

  let report: ClassificationReport | null = null;
  const rFile = store.fileOf(id, 'report');
  try {
    const o = await store.readReport(id);
    if (o === null) {
      if (record.status === 'completed' && record.formatVersion >= 1 && record.dataset?.testSource !== 'none') {
        notices.push({ severity: 'info', runId: id, file: rFile, message: `Run "${record.name ?? id}" has no test report (${RUN_FILES.report}); test columns are empty.` });
      }
    } else if (isReport(o)) report = o;
    else notices.push({ severity: 'warning', runId: id, file: rFile, message: `${rFile} is not a classification report; test figures are missing.`, fix: 'Retrain the run.' });
  } catch (e) {
    notices.push({ severity: 'warning', runId: id, file: rFile, message: `${rFile} is damaged (${errorMessage(e)}); test figures are missing.`, fix: 'Retrain the run.' });
    if (health === 'ok') health = 'partial';
  }
  if (record.status === 'running') {
    notices.push({ severity: 'info', runId: id, message: `Run "${record.name ?? id}" is still training; the comparison updates when it finishes.` });
    if (health === 'ok') health = 'partial';
  } else if (record.status === 'interrupted') {
    notices.push({ severity: 'warning', runId: id, message: record.error?.message ?? `Run "${record.name ?? id}" was interrupted.`, fix: record.error?.fix });
    if (health === 'ok') health = 'partial';
  } else if (record.status === 'failed' || record.status === 'cancelled') {
    notices.push({ severity: 'info', runId: id, message: `Run "${record.name ?? id}" ${record.status === 'failed' ? 'failed' : 'was cancelled'}${record.error?.message ? `: ${record.error.message}` : ''}.` });
  }
  return { id, dir, record, metrics, report, health, notices };
}

// ------------------------------------------------------------------ figures

export interface BestVsLast {
  bestEpoch: number | null;
  bestValMacroF1: number | null;
  lastEpoch: number | null;
  lastValMacroF1: number | null;
}

/**
 * Best epoch (highest validation macro-F1; run.json's `bestEpoch` wins when it
 * names an epoch in the metrics) against the last epoch that ran.
 */
export function bestVsLast(metrics: EpochMetrics[], record?: Pick<RunRecord, 'bestEpoch' | 'bestValMacroF1' | 'epochsRun'>): BestVsLast {
  const withF1 = metrics.filter((m) => m.valMacroF1 !== null && Number.isFinite(m.valMacroF1));
  let best: EpochMetrics | undefined;
  if (record?.bestEpoch !== undefined) best = withF1.find((m) => m.epoch === record.bestEpoch);
  if (!best) for (const m of withF1) if (!best || (m.valMacroF1 as number) > (best.valMacroF1 as number)) best = m;
  const last = metrics.length ? metrics[metrics.length - 1] : undefined;
  return {
    bestEpoch: best?.epoch ?? record?.bestEpoch ?? null,
    bestValMacroF1: best?.valMacroF1 ?? record?.bestValMacroF1 ?? null,
    lastEpoch: last?.epoch ?? record?.epochsRun ?? null,
    lastValMacroF1: last ? last.valMacroF1 : null,
  };
}

/** Lowest per-class recall in a report and its class (ties: first in label order). */
export function minRecall(report: ClassificationReport | null): { recall: number; label: string } | null {
  if (!report) return null;
  let out: { recall: number; label: string } | null = null;
  for (const label of report.labels) {
    const r = report.perClass[label]?.recall;
    if (typeof r !== 'number' || !Number.isFinite(r)) continue;
    if (!out || r < out.recall) out = { recall: r, label };
  }
  return out;
}

/** The run's points in its unit (a SetFit run also holds the pair steps that came before its head's configurations). */
function pointsOfUnit(run: Pick<LoadedRun, 'record' | 'metrics'>): EpochMetrics[] {
  const unit = unitOfRun(run);
  return run.metrics.every((m) => m.unit === undefined || m.unit === unit) ? run.metrics : run.metrics.filter((m) => m.unit === undefined || m.unit === unit);
}

export function tableRow(run0: LoadedRun): TableRow {
  const run = { ...run0, metrics: pointsOfUnit(run0) };
  const rec = run.record;
  const bl = bestVsLast(run.metrics, rec);
  const mr = minRecall(run.report);
  const lastElapsed = run.metrics.length ? run.metrics[run.metrics.length - 1].elapsedMs : NaN;
  return {
    id: run.id,
    name: rec?.name || run.id,
    testMacroF1: run.report?.macro.f1 ?? rec?.testMacroF1 ?? null,
    testWeightedF1: run.report?.weighted.f1 ?? null,
    testAccuracy: run.report?.accuracy ?? rec?.testAccuracy ?? null,
    minRecall: mr?.recall ?? null,
    minRecallClass: mr?.label ?? null,
    ...bl,
    // A run still training has no training time yet (its elapsed time would look "fastest").
    trainMs: rec?.timings?.trainMs ?? (rec?.status !== 'running' && rec?.status !== 'interrupted' && Number.isFinite(lastElapsed) ? lastElapsed : null),
    backend: rec?.backend?.name ?? '',
    unit: unitOfRun(run),
    ...(rec?.progress?.validation ? { validation: rec.progress.validation } : {}),
  };
}

/** Unit of a run's points: run.json's `progress.unit`, else the points' own, else 'epoch' (runs made before units). */
export function unitOfRun(run: Pick<LoadedRun, 'record' | 'metrics'>): ProgressUnit {
  return run.record?.progress?.unit ?? run.metrics.find((m) => m.unit)?.unit ?? 'epoch';
}

/** Best value per numeric column over the rows (max, or min for times). */
export function bestValues(rows: TableRow[]): Partial<Record<TableColumn, number>> {
  const best: Partial<Record<TableColumn, number>> = {};
  for (const [col, dir] of Object.entries(NUMERIC_COLUMNS) as [TableColumn, 'max' | 'min'][]) {
    for (const r of rows) {
      const v = r[col as keyof TableRow];
      if (typeof v !== 'number' || !Number.isFinite(v)) continue;
      const cur = best[col];
      if (cur === undefined || (dir === 'max' ? v > cur : v < cur)) best[col] = v;
    }
  }
  return best;
}

/** Sorts rows by a column; missing values always go last. Stable. */
export function sortRows(rows: TableRow[], column: TableColumn, descending: boolean): TableRow[] {
  const key = (r: TableRow): number | string | null => {
    const v = r[column as keyof TableRow];
    return v === null || v === undefined || v === '' ? null : (v as number | string);
  };
  return rows
    .map((r, i) => ({ r, i }))
    .sort((a, b) => {
      const ka = key(a.r), kb = key(b.r);
      if (ka === null && kb === null) return a.i - b.i;
      if (ka === null) return 1;
      if (kb === null) return -1;
      const c = typeof ka === 'number' && typeof kb === 'number' ? ka - kb : String(ka).localeCompare(String(kb));
      return (descending ? -c : c) || a.i - b.i;
    })
    .map((x) => x.r);
}

// ------------------------------------------------------------------ settings diff

function fmtSetting(v: unknown): string {
  if (v === undefined || v === null) return '';
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return JSON.stringify(v);
}

/** Settings that only some heads use (the union of HEAD_SETTINGS); the others every head uses. */
const HEAD_SPECIFIC = new Set<string>(Object.values(HEAD_SETTINGS).flat());

/**
 * Whether a run's algorithm uses a `config.*` setting: ALGORITHM_SETTINGS of its recorded algorithm,
 * else HEAD_SETTINGS of its head setting (runs made before the algorithm was recorded). Unknown head: used.
 */
export function usesSetting(rec: RunRecord, key: string): boolean {
  if (!HEAD_SPECIFIC.has(key)) return true;
  const used: readonly (keyof TrainConfig)[] | undefined = (rec.algorithm && ALGORITHM_SETTINGS[rec.algorithm]) || HEAD_SETTINGS[rec.config.head];
  return !used || used.includes(key as keyof TrainConfig);
}

/**
 * The settings of each run side by side: every `config.*` key, the resolved
 * encoder, backend, dataset fingerprint/labels/test source and library versions.
 * The dataset fingerprint comes first. A setting the run's algorithm does not use reads SETTING_NOT_USED ("n/a").
 */
export function settingsDiff(runs: LoadedRun[], onlyDiffering = false): SettingsDiffRow[] {
  const recs = runs.map((r) => r.record);
  const rows: SettingsDiffRow[] = [];
  const add = (key: string, get: (r: RunRecord) => unknown) => {
    const cfgKey = key.startsWith('config.') ? key.slice('config.'.length) : undefined;
    const values = recs.map((r) => (!r ? '' : cfgKey && !usesSetting(r, cfgKey) ? SETTING_NOT_USED : fmtSetting(get(r))));
    rows.push({ key, values, differs: values.some((v) => v !== values[0]) });
  };
  add('dataset.fingerprint', (r) => r.dataset?.fingerprint);
  add('dataset.labels', (r) => r.dataset?.labels?.join(', '));
  add('dataset.testSource', (r) => r.dataset?.testSource);
  add('dataset.train', (r) => (r.dataset?.counts ? Object.values(r.dataset.counts.train).reduce((a, b) => a + b, 0) : undefined));
  add('dataset.test', (r) => (r.dataset?.counts ? Object.values(r.dataset.counts.test).reduce((a, b) => a + b, 0) : undefined));
  const cfgKeys = new Set<string>();
  for (const r of recs) if (r) for (const k of Object.keys(r.config)) cfgKeys.add(k);
  const order = ['dataset', 'encoder', 'head', 'epochs', 'learningRate', 'batchSize', 'seed', 'augment', 'augmentFlip', 'passages', 'classNames', 'classWeighting', 'patience', 'validationFraction', 'backend'];
  const keys = [...order.filter((k) => cfgKeys.has(k)), ...[...cfgKeys].filter((k) => !order.includes(k)).sort()];
  for (const k of keys) add(`config.${k}`, (r) => (r.config as unknown as Record<string, unknown>)[k]);
  add('encoder.id', (r) => r.encoder?.id);
  add('backend.name', (r) => r.backend?.name);
  add('backend.gpu', (r) => r.backend?.gpu);
  const verKeys = new Set<string>();
  for (const r of recs) if (r) for (const k of Object.keys(r.versions ?? {})) verKeys.add(k);
  for (const k of [...verKeys].sort()) add(`versions.${k}`, (r) => r.versions?.[k]);
  return onlyDiffering ? rows.filter((r) => r.differs) : rows;
}

/** Groups run ids by dataset fingerprint; mismatch when more than one group. */
export function datasetGroups(runs: LoadedRun[]): { groups: { fingerprint: string; runIds: string[] }[]; mismatch: boolean } {
  const map = new Map<string, string[]>();
  for (const r of runs) {
    if (!r.record) continue;
    const fp = r.record.dataset?.fingerprint ?? '';
    map.set(fp, [...(map.get(fp) ?? []), r.id]);
  }
  const groups = [...map.entries()].map(([fingerprint, runIds]) => ({ fingerprint, runIds }));
  const known = groups.filter((g) => g.fingerprint !== '');
  return { groups, mismatch: known.length > 1 };
}

// ------------------------------------------------------------------ curves

/**
 * Reduces a series to at most `max` points by min/max bucketing (keeps the
 * first and last point and every bucket's extremes, so peaks survive).
 */
export function decimate(points: CurvePoint[], max = MAX_CURVE_POINTS): CurvePoint[] {
  if (points.length <= max || max < 4) return points.slice();
  const inner = points.slice(1, -1);
  const buckets = Math.floor((max - 2) / 2);
  const size = inner.length / buckets;
  const out: CurvePoint[] = [points[0]];
  for (let b = 0; b < buckets; b++) {
    const lo = Math.floor(b * size), hi = Math.min(inner.length, Math.floor((b + 1) * size));
    if (hi <= lo) continue;
    let mn = lo, mx = lo;
    for (let i = lo; i < hi; i++) {
      if (inner[i].y < inner[mn].y) mn = i;
      if (inner[i].y > inner[mx].y) mx = i;
    }
    if (mn === mx) out.push(inner[mn]);
    else out.push(inner[Math.min(mn, mx)], inner[Math.max(mn, mx)]);
  }
  out.push(points[points.length - 1]);
  return out;
}

export function curvesOf(metrics: EpochMetrics[], max = MAX_CURVE_POINTS): RunCurves {
  const series = (get: (m: EpochMetrics) => number | null | undefined) =>
    decimate(metrics.flatMap((m) => { const y = get(m); return typeof y === 'number' && Number.isFinite(y) ? [{ x: m.epoch, y }] : []; }), max);
  const labels = new Set<string>();
  for (const m of metrics) for (const k of Object.keys(m.perClassRecall ?? {})) labels.add(k);
  const recall: Record<string, CurvePoint[]> = {};
  for (const l of [...labels].sort()) recall[l] = series((m) => m.perClassRecall?.[l]);
  return { loss: series((m) => m.loss), valLoss: series((m) => m.valLoss), valMacroF1: series((m) => m.valMacroF1), recall };
}

// ------------------------------------------------------------------ colours

/** Colour-blind-friendly categorical palette, readable on light and dark themes. */
export const RUN_PALETTE = [
  '#4e79a7', '#f28e2b', '#e15759', '#59a14f', '#b07aa1', '#edc948', '#76b7b2', '#ff9da7', '#9c755f', '#8cd17d',
  '#d37295', '#499894', '#f1ce63', '#86bcb6', '#a0cbe8', '#ffbe7d', '#b6992d', '#fabfd2', '#79706e', '#d4a6c8',
];

/**
 * Keeps the slots already given (`existing`) and gives each new id the slot its
 * hash prefers, or the next free one. Slots beyond the palette get generated hues.
 */
export function assignColourSlots(ids: string[], existing: Record<string, number> = {}): Record<string, number> {
  const out: Record<string, number> = {};
  const used = new Set<number>();
  for (const id of ids) if (Number.isInteger(existing[id]) && existing[id] >= 0 && !used.has(existing[id])) { out[id] = existing[id]; used.add(existing[id]); }
  for (const id of ids) {
    if (id in out) continue;
    let slot = -1;
    const pref = fnv1a(id) % RUN_PALETTE.length;
    for (let k = 0; k < RUN_PALETTE.length; k++) { const s = (pref + k) % RUN_PALETTE.length; if (!used.has(s)) { slot = s; break; } }
    if (slot < 0) { slot = RUN_PALETTE.length; while (used.has(slot)) slot++; }
    out[id] = slot;
    used.add(slot);
  }
  return out;
}

export function colourForSlot(slot: number): string {
  if (slot < RUN_PALETTE.length) return RUN_PALETTE[slot];
  const hue = Math.round((slot * 137.508) % 360);
  return `hsl(${hue}, 60%, 55%)`;
}

// ------------------------------------------------------------------ model

/** Builds the panel model for the given run ids (order kept). */
export async function buildCompareModel(src: RunsSource, ids: string[], colourSlots: Record<string, number> = {}): Promise<{ model: CompareModel; loaded: LoadedRun[]; colourSlots: Record<string, number> }> {
  const uniq = [...new Set(ids)];
  const store = storeOf(src);
  const loaded = await Promise.all(uniq.map((id) => loadRun(store, id)));
  return { ...modelFromLoaded(loaded, colourSlots), loaded };
}

export function modelFromLoaded(loaded: LoadedRun[], colourSlots: Record<string, number> = {}): { model: CompareModel; colourSlots: Record<string, number> } {
  const ok = loaded.filter((r) => r.record);
  const slots = assignColourSlots(ok.map((r) => r.id), colourSlots);
  // Fewer points per curve when many runs are overlaid: keeps the message small and the chart fast.
  const maxPoints = ok.length > 10 ? Math.floor(MAX_CURVE_POINTS / 2) : MAX_CURVE_POINTS;
  const runs: CompareRun[] = ok.map((r) => {
    const rec = r.record as RunRecord;
    return {
      id: r.id,
      name: rec.name || r.id,
      renamed: !!rec.name && rec.name !== r.id,
      starred: rec.starred === true,
      note: rec.note ?? '',
      status: rec.status ?? 'unknown',
      createdAt: rec.createdAt,
      finishedAt: rec.finishedAt,
      formatVersion: rec.formatVersion,
      health: r.health,
      colour: colourForSlot(slots[r.id]),
      colourSlot: slots[r.id],
      encoder: rec.encoder?.id ?? rec.config.encoder ?? '',
      head: String(rec.config.head ?? ''),
      backend: rec.backend?.name ?? '',
      datasetPath: rec.dataset?.path ?? rec.config.dataset ?? '',
      datasetFingerprint: rec.dataset?.fingerprint ?? null,
      labels: rec.dataset?.labels ?? r.report?.labels ?? [],
      unit: unitOfRun(r),
      ...(rec.algorithm ? { algorithm: rec.algorithm } : {}),
      ...(rec.progress?.validation ? { validation: rec.progress.validation } : {}),
      curves: curvesOf(pointsOfUnit(r), maxPoints),
      report: r.report,
      dir: r.dir,
    };
  });
  const rows = ok.map(tableRow);
  const { groups, mismatch } = datasetGroups(ok);
  const notices: CompareNotice[] = loaded.flatMap((r) => r.notices);
  if (mismatch) {
    notices.unshift({
      severity: 'warning',
      message: `These runs used different data (${groups.filter((g) => g.fingerprint).length} dataset fingerprints): their test figures are not comparable.`,
      fix: 'Compare runs trained on the same dataset, or read the figures per group.',
    });
  }
  const unknownFp = groups.find((g) => g.fingerprint === '');
  if (unknownFp && ok.length > 1 && groups.length > 1) {
    notices.push({ severity: 'info', message: `No dataset fingerprint was saved for ${unknownFp.runIds.join(', ')}: cannot check that they used the same data.` });
  }
  const classes = new Set<string>();
  for (const r of runs) { for (const l of r.labels) classes.add(l); for (const l of Object.keys(r.curves.recall)) classes.add(l); }
  return {
    model: {
      runIds: loaded.map((r) => r.id),
      runs,
      rows,
      best: bestValues(rows),
      settings: settingsDiff(ok),
      classes: [...classes].sort(),
      datasetMismatch: mismatch,
      datasetGroups: groups,
      notices,
      missing: loaded.filter((r) => !r.record).map((r) => r.id),
    },
    colourSlots: Object.fromEntries(Object.entries({ ...colourSlots, ...slots })),
  };
}

// ------------------------------------------------------------------ export

export interface ExportHeaders {
  name: string; id: string; testMacroF1: string; testWeightedF1: string; testAccuracy: string;
  minRecall: string; minRecallClass: string; bestEpoch: string; bestValMacroF1: string;
  lastEpoch: string; lastValMacroF1: string; trainMs: string; backend: string;
}

export const DEFAULT_EXPORT_HEADERS: ExportHeaders = {
  name: 'Run', id: 'Id', testMacroF1: 'Test macro-F1', testWeightedF1: 'Test weighted-F1', testAccuracy: 'Test accuracy',
  minRecall: 'Min recall', minRecallClass: 'Min recall class', bestEpoch: 'Best epoch', bestValMacroF1: 'Val macro-F1 (best)',
  lastEpoch: 'Last epoch', lastValMacroF1: 'Val macro-F1 (last)', trainMs: 'Train time (s)', backend: 'Backend',
};

const EXPORT_ORDER: (keyof ExportHeaders)[] = [
  'name', 'id', 'testMacroF1', 'testWeightedF1', 'testAccuracy', 'minRecall', 'minRecallClass',
  'bestEpoch', 'bestValMacroF1', 'lastEpoch', 'lastValMacroF1', 'trainMs', 'backend',
];

function cell(r: TableRow, k: keyof ExportHeaders): string {
  if (k === 'trainMs') return r.trainMs === null ? '' : (r.trainMs / 1000).toFixed(2);
  const v = r[k as keyof TableRow];
  if (v === null || v === undefined) return '';
  if (typeof v === 'number') return k === 'bestEpoch' || k === 'lastEpoch' ? String(v) : v.toFixed(4);
  return String(v);
}

function csvField(s: string): string {
  return /[",\r\n]/.test(s) || /^\s|\s$/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** RFC 4180 CSV (CRLF line ends), 4-digit metrics, seconds with 2 decimals, empty cell = not available. */
export function tableToCsv(rows: TableRow[], headers: ExportHeaders = DEFAULT_EXPORT_HEADERS): string {
  const lines = [EXPORT_ORDER.map((k) => csvField(headers[k])).join(',')];
  for (const r of rows) lines.push(EXPORT_ORDER.map((k) => csvField(cell(r, k))).join(','));
  return lines.join('\r\n') + '\r\n';
}

function mdEscape(s: string): string {
  return s.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}

/** GitHub-flavoured Markdown table; the best value of each numeric column is bold; missing = "—". */
export function tableToMarkdown(rows: TableRow[], headers: ExportHeaders = DEFAULT_EXPORT_HEADERS): string {
  const best = bestValues(rows);
  const numeric = new Set<string>(['testMacroF1', 'testWeightedF1', 'testAccuracy', 'minRecall', 'bestEpoch', 'bestValMacroF1', 'lastEpoch', 'lastValMacroF1', 'trainMs']);
  const head = `| ${EXPORT_ORDER.map((k) => mdEscape(headers[k])).join(' | ')} |`;
  const sep = `|${EXPORT_ORDER.map((k) => (numeric.has(k) ? ' ---: ' : ' --- ')).join('|')}|`;
  const body = rows.map((r) => `| ${EXPORT_ORDER.map((k) => {
    const c = cell(r, k);
    if (c === '') return '—';
    const b = best[k as TableColumn];
    const v = r[k as keyof TableRow];
    return b !== undefined && v === b ? `**${mdEscape(c)}**` : mdEscape(c);
  }).join(' | ')} |`);
  return [head, sep, ...body].join('\n') + '\n';
}

// ------------------------------------------------------------------ annotations

export interface RunAnnotation { starred?: boolean; name?: string; note?: string }

/**
 * Saves star / name / note into the run's run.json through the run store (its per-run lock,
 * atomic write), keeping every other field. An empty name or note removes it.
 */
export async function annotateRun(src: RunsSource, id: string, patch: RunAnnotation): Promise<RunRecord> {
  const p: Partial<RunRecord> = {};
  if (patch.starred !== undefined) p.starred = patch.starred;
  if (patch.note !== undefined) p.note = patch.note.trim() ? patch.note : undefined;
  if (patch.name !== undefined) { const n = patch.name.trim(); p.name = n && n !== id ? n : undefined; }
  return storeOf(src).update(id, p);
}

/** Short one-line description of a run for pickers: "F1 0.8123 · test 0.7900 · hashing · logreg · 2026-11-01 10:00". */
export function describeRun(rec: RunRecord): { bestValMacroF1: number | null; testMacroF1: number | null; encoder: string; head: string; date: string } {
  return {
    bestValMacroF1: rec.bestValMacroF1 ?? null,
    testMacroF1: rec.testMacroF1 ?? null,
    encoder: rec.encoder?.id ?? rec.config.encoder ?? '',
    head: String(rec.config.head ?? ''),
    date: rec.createdAt ? rec.createdAt.replace('T', ' ').slice(0, 16) : '',
  };
}

export { TABLE_COLUMNS };
