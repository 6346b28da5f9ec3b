/**
 * Training dashboard webview. Receives the run's state from the host (see
 * src/protocol/webview.ts) and draws three live charts, the test report and a
 * clickable confusion matrix. No network, no eval: chart.js comes from a local
 * <script> tag, everything else is built with DOM calls.
 */
import type { Chart as ChartJs } from 'chart.js';
import { ALGORITHM_LABELS, PHASE_STRINGS, PROGRESS_UNIT_LABELS } from '../../src/protocol/webview';
import type {
  DashboardStage,
  DashboardPersistedState,
  DashboardRenderSummary,
  DataProblem,
  DashboardState,
  DashboardToHost,
  EpochMetrics,
  HostToDashboard,
  MisclassifiedSample,
  StringTable,
} from '../../src/protocol/webview';
import { getWebviewApi, onHostMessage } from '../shared/vscode';
import { onThemeChange, readThemeColors, withAlpha, type ThemeColors } from '../shared/theme';
import { applyChartDefaults, createChart, heat, pointCount, restyleChart } from '../shared/chart';
import { createTranslator, type Translate } from '../shared/strings';
import { clear, formatDuration, h } from '../shared/dom';
import { confusionLayout, probabilityText, recallLegendLabels } from './layout';
import { createSampleView } from './samples';

const api = getWebviewApi<DashboardToHost, DashboardPersistedState>();
let state: DashboardState | undefined;
let strings: StringTable | undefined;
let T: Translate = createTranslator(undefined);
let theme: ThemeColors = readThemeColors();
let requestSeq = 0;
let selectedCell: { i: number; j: number } | undefined;
let lastSamples: Extract<HostToDashboard, { type: 'samples' }> | undefined;

const charts: { loss?: ChartJs<'line'>; score?: ChartJs<'line'>; recall?: ChartJs<'line'> } = {};
const root = document.getElementById('fewshot-dashboard')!;

function post(m: DashboardToHost): void {
  api.post(m);
}

function persist(): void {
  api.setState({ runId: state?.run.runId, state, strings });
}

// ------------------------------------------------------------------ layout

const el = {
  title: h('h1', { id: 'run-title' }),
  status: h('span', { id: 'run-status', class: 'badge', role: 'status' }),
  actions: h('div', { class: 'actions' }),
  meta: h('dl', { class: 'meta', id: 'meta' }),
  computeNote: h('p', { class: 'note', id: 'compute-note', 'aria-live': 'polite' }),
  phase: h('p', { class: 'phase', id: 'phase', 'aria-live': 'polite' }),
  error: h('p', { class: 'error', id: 'run-error', role: 'alert' }),
  errorLog: h('div', { class: 'error-log', id: 'run-error-log' }),
  stages: h('section', { class: 'stages', id: 'stages', 'aria-label': 'stages' }),
  banner: h('div', { class: 'banner data-problems', id: 'data-problems', role: 'alert' }),
  validation: h('p', { class: 'note', id: 'validation-note' }),
  charts: h('section', { class: 'charts', id: 'charts' }),
  report: h('section', { class: 'report', id: 'report', 'aria-label': 'report' }),
  augmented: h('section', { class: 'augmented', id: 'augmented', 'aria-label': 'augmented samples' }),
};

function chartCard(id: string): { card: HTMLElement; canvas: HTMLCanvasElement; caption: HTMLElement; heading: HTMLElement } {
  const heading = h('h2', { id: `${id}-title` });
  const canvas = h('canvas', { id: `${id}-chart`, role: 'img', 'data-points': 0, 'aria-labelledby': `${id}-title` });
  const caption = h('p', { class: 'caption', id: `${id}-caption`, 'aria-live': 'polite' });
  const card = h('div', { class: 'card chart-card', tabindex: 0, 'aria-labelledby': `${id}-title` }, heading, h('div', { class: 'canvas-box' }, canvas), caption);
  return { card, canvas, caption, heading };
}

const cards = { loss: chartCard('loss'), score: chartCard('score'), recall: chartCard('recall') };
/** The per-sample table (test + out-of-fold training predictions) of a completed run. */
const sampleView = createSampleView(() => T, post);

root.append(
  h('header', { class: 'top' }, h('div', { class: 'title-row' }, el.title, el.status), el.actions),
  el.meta,
  el.computeNote,
  el.phase,
  el.error,
  el.errorLog,
  el.banner,
  el.validation,
  el.stages,
  el.charts,
  el.report,
  el.augmented,
  sampleView.element,
);
el.charts.append(cards.loss.card, cards.score.card, cards.recall.card);

// ------------------------------------------------------------------ header

function statusText(s: string): string {
  return T(s);
}

function formatCost(ms: number): string {
  if (!state) return '—';
  const rate = state.compute.hourlyRate;
  if (!rate) return T('free');
  const cost = (ms / 3_600_000) * rate;
  try {
    return new Intl.NumberFormat(undefined, { style: 'currency', currency: state.compute.currency, maximumFractionDigits: 4 }).format(cost);
  } catch {
    return `${cost.toFixed(4)} ${state.compute.currency}`;
  }
}

function elapsedMs(): number {
  if (!state) return 0;
  const end = state.run.finishedAt ?? (state.run.status === 'running' ? Date.now() : state.run.startedAt);
  return Math.max(0, end - state.run.startedAt);
}

/**
 * Time left, extrapolated from the points that really happened (mean time per point × points left).
 * None before the first point, after the last planned one (only unmeasured stages remain) or when not running.
 */
function timeLeftMs(): number | undefined {
  if (!state || state.run.status !== 'running') return undefined;
  const shown = points();
  const last = shown[shown.length - 1];
  if (!last || last.epoch <= 0 || last.epoch >= state.run.totalEpochs || !Number.isFinite(last.elapsedMs)) return undefined;
  return Math.max(0, ((state.run.totalEpochs - last.epoch) * last.elapsedMs) / last.epoch);
}

/** The points of the run's current unit (a SetFit run counts pair steps, then its head's configurations). */
function points(): EpochMetrics[] {
  if (!state) return [];
  const unit = state.run.unit;
  return state.epochs.filter((e) => e.unit === undefined || unit === undefined || e.unit === unit);
}

function unitTitle(): string {
  return T(PROGRESS_UNIT_LABELS[state?.run.unit ?? 'epoch'] ?? 'epoch');
}

function renderMeta(): void {
  if (!state) return;
  const r = state.run;
  const c = state.compute;
  const left = timeLeftMs();
  // The tfjs backend describes the head's compute only when TensorFlow.js fits the head.
  // Fine-tuning: the PyTorch worker's device and precision (the tfjs backend plays no part).
  const computeText = c.device ? [/^(cpu|gpu)\b/i.test(c.device.name) ? '' : c.device.kind === 'cpu' ? 'CPU' : 'GPU', c.device.name, c.device.precision].filter(Boolean).join(' · ')
    : r.finetune ? T('detecting…')
    : !c.headOnTfjs ? T('CPU (JavaScript)')
    : c.backend ? `${c.gpu ? 'GPU' : 'CPU'} · ${c.backend}${c.gpuName ? ` · ${c.gpuName}` : ''}` : T('detecting…');
  const rows: [string, string, string][] = [
    ['dataset', T('Dataset'), r.datasetName],
    ['encoder', T('Encoder'), r.encoder],
    // A fine-tuned transformer has no separate head: the algorithm row says what was trained.
    ...(r.finetune ? [] : [['head', T('Head'), r.head] as [string, string, string]]),
    ...(r.algorithm ? [['algorithm', T('Algorithm'), T(ALGORITHM_LABELS[r.algorithm] ?? r.algorithm)] as [string, string, string]] : []),
    ['compute', T('Compute'), computeText],
    ['elapsed', T('Elapsed'), formatDuration(elapsedMs())],
  ];
  const ft = r.finetune;
  if (ft?.samplesPerSecond !== undefined) {
    rows.push(['throughput', T('Throughput'), T('{0} samples/s', ft.samplesPerSecond.toFixed(1)) +
      (ft.deviceMemoryMiB !== undefined ? ` · ${T('{0} MiB peak', Math.round(ft.deviceMemoryMiB))}` : '')]);
  }
  if (r.status === 'running') rows.push(['left', T('Time left'), left === undefined ? '—' : T('about {0}', formatDuration(left))]);
  rows.push(['cost', T('Cost'), formatCost(elapsedMs())]);
  clear(el.meta);
  for (const [id, k, v] of rows) {
    el.meta.append(h('div', { class: 'meta-item' }, h('dt', {}, k), h('dd', { id: `meta-${id}`, title: id === 'dataset' ? r.dataset : undefined }, v)));
  }
  // GPU line: what the head runs on is said only for what really runs it.
  const notTfjs = c.headOnTfjs || r.finetune ? '' : T('The head is fitted in plain JavaScript on the CPU; TensorFlow.js ({0}) does not run it.', c.backend ?? '—');
  if (c.sample) {
    el.computeNote.textContent = T('GPU: {0}% busy, {1} / {2} MiB', c.sample.utilization, c.sample.memoryUsed, c.sample.memoryTotal) +
      (c.headOnTfjs && c.backend && !c.gpu ? ` — ${T('NVIDIA GPU present, but the head trains on {0}', c.backend)}` : notTfjs ? ` — ${notTfjs}` : '');
  } else if (r.finetune) {
    el.computeNote.textContent = c.device?.kind === 'cpu' && c.nvidiaSmi === false ? T('No NVIDIA GPU detected — running on CPU ({0})', c.device.name) : '';
  } else if (!c.headOnTfjs) {
    el.computeNote.textContent = c.backend ? notTfjs : '';
  } else if (c.nvidiaSmi === false) {
    el.computeNote.textContent = T('No NVIDIA GPU detected — running on CPU ({0})', c.backend ?? T('detecting…'));
  } else {
    el.computeNote.textContent = '';
  }
}

function renderHeader(): void {
  if (!state) return;
  const r = state.run;
  document.title = r.name;
  el.title.textContent = r.name;
  el.status.textContent = statusText(r.status);
  el.status.className = `badge status-${r.status}`;
  clear(el.actions);
  if (r.live && r.status === 'running') {
    el.actions.append(h('button', { id: 'btn-cancel', class: 'secondary', onclick: () => post({ type: 'cancel' }) }, T('Cancel Training')));
  }
  if (r.runId) el.actions.append(h('button', { id: 'btn-compare', onclick: () => post({ type: 'compare' }) }, T('Compare with…')));
  el.actions.append(h('button', { id: 'btn-log', class: 'secondary', onclick: () => post({ type: 'showLog' }) }, T('Show Log')));
  if (r.status === 'running' && r.phase) {
    // A point just arrived: name it in its unit. Any other stage (e.g. the ensemble's final member fits) as it is.
    const shown = points();
    const last = shown[shown.length - 1];
    const atPoint = r.phase.name === 'train' && !r.phase.message && !!last && r.phase.done === last.epoch && r.phase.total === r.totalEpochs;
    el.phase.textContent = atPoint && last
      ? pointText(last.epoch, r.totalEpochs) + (last.label ? ` — ${last.label}` : '')
      : T('Phase: {0} {1}/{2}', T(PHASE_STRINGS[r.phase.name] ?? r.phase.name), r.phase.done, r.phase.total) + (r.phase.message ? ` — ${r.phase.message}` : '');
  } else if (r.status !== 'running' && r.testMacroF1 !== undefined) {
    el.phase.textContent = T('Test macro-F1 {0}, accuracy {1}', r.testMacroF1.toFixed(4), (r.testAccuracy ?? NaN).toFixed(4));
  } else {
    el.phase.textContent = '';
  }
  el.error.textContent = r.error ?? '';
  el.error.hidden = !r.error;
  clear(el.errorLog);
  el.errorLog.hidden = !r.errorLog?.length;
  if (r.errorLog?.length) el.errorLog.append(h('p', { class: 'note' }, T('Last lines of the log:')), h('pre', {}, r.errorLog.join('\n')));
  renderStages();
  el.validation.textContent = r.validation ? T('Validation: {0}', r.validation) : '';
  el.validation.hidden = !r.validation;
  renderBanner(r.dataProblems ?? []);
  renderMeta();
  reportRendered();
}

/** Fine-tuning: one line per unfreezing stage (its epochs and trainable parameters). */
function stageLine(st: DashboardStage): string {
  const name = st.name ? T('Stage {0}: {1}', st.stage, st.name) : T('Stage {0}', st.stage);
  const parts = [name, T('epochs {0}–{1}', st.firstEpoch, st.lastEpoch)];
  if (st.trainableParameters !== undefined) parts.push(T('{0} trainable parameters', st.trainableParameters.toLocaleString(document.documentElement.lang || undefined)));
  return parts.join(' — ');
}

function renderStages(): void {
  clear(el.stages);
  const stages = state?.run.finetune?.stages ?? [];
  el.stages.hidden = stages.length === 0;
  if (!stages.length) return;
  el.stages.append(h('h2', {}, T('Unfreezing stages')), h('ul', {}, stages.map((st) => h('li', { 'data-stage': st.stage }, stageLine(st)))));
}

/** Epochs where a later stage begins: the vertical markers on the epoch axis. */
function stageMarkers(): { epoch: number; stage: number }[] {
  const stages = state?.run.finetune?.stages ?? [];
  return stages.slice(1).map((st) => ({ epoch: st.firstEpoch, stage: st.stage }));
}

/** Chart.js plugin: a dashed vertical line and "Stage N" where each later stage begins (at that epoch's tick). */
const stagePlugin = {
  id: 'fewshotStages',
  afterDatasetsDraw(chart: ChartJs) {
    const markers = stageMarkers();
    if (!markers.length || !state) return;
    const x = chart.scales.x;
    const area = chart.chartArea;
    if (!x || !area) return;
    const ctx = chart.ctx;
    ctx.save();
    ctx.strokeStyle = theme.foreground;
    ctx.fillStyle = theme.foreground;
    ctx.globalAlpha = 0.7;
    ctx.setLineDash([4, 4]);
    ctx.lineWidth = 1;
    ctx.font = `${Math.max(10, theme.fontSize - 2)}px ${theme.fontFamily}`;
    for (const m of markers) {
      const idx = state.epochs.findIndex((e) => e.epoch === m.epoch);
      if (idx < 0) continue;
      // Between the last epoch of the previous stage and the first of this one.
      const px = idx > 0 ? (x.getPixelForValue(idx - 1) + x.getPixelForValue(idx)) / 2 : x.getPixelForValue(idx);
      ctx.beginPath();
      ctx.moveTo(px, area.top);
      ctx.lineTo(px, area.bottom);
      ctx.stroke();
      ctx.fillText(T('Stage {0}', m.stage), px + 3, area.top + 10);
    }
    ctx.restore();
  },
};

function pointText(n: number, total: number): string {
  const unit = state?.run.unit;
  return unit === 'configuration' ? T('Configuration {0} of {1} (CV-scored)', n, total)
    : unit === 'pair-step' ? T('Pair step {0} of {1}', n, total) : T('Epoch {0} of {1}', n, total);
}

const PROBLEM_TEXT: Record<DataProblem['code'], string> = {
  'test-train-overlap': '{0} test texts also occur in the training split',
  'small-test-class': '{0} classes have fewer than 5 test samples',
  'files-skipped': '{0} files were skipped',
  'test-class-not-in-train': '{0} test classes have no training data',
};

/** Data problems next to the results: counts, a link to the Problems panel and the files. */
function renderBanner(problems: DataProblem[]): void {
  clear(el.banner);
  el.banner.hidden = problems.length === 0;
  if (!problems.length) return;
  el.banner.append(h('strong', {}, `⚠ ${T('Data problems: read these results with care')}`));
  el.banner.append(h('ul', {}, problems.map((p) => h('li', { 'data-code': p.code, title: p.message },
    PROBLEM_TEXT[p.code] ? T(PROBLEM_TEXT[p.code], p.count) : p.message,
    (p.files ?? []).map((f) => h('button', { class: 'link problem-file', title: f, onclick: () => post({ type: 'openFile', file: f }) },
      T('Open {0}', f.split(/[\\/]/).pop() ?? f)))))));
  el.banner.append(h('button', { id: 'btn-problems', class: 'secondary', onclick: () => post({ type: 'showProblems' }) }, T('Show in Problems')));
}

// ------------------------------------------------------------------ charts

/**
 * Epochs are a sequence: joined by a line. Candidate configurations are separate fits: drawn as points only
 * (a line between two candidates would suggest values in between), never smoothed.
 */
function lineDataset(label: string, data: (number | null)[], color: string, extra: Record<string, unknown> = {}) {
  const points = state?.run.unit === 'configuration';
  return {
    label, data, borderColor: color, backgroundColor: points ? color : withAlpha(color, 0.25), pointRadius: points ? 3.5 : 2, borderWidth: 2,
    tension: points ? 0 : 0.15, spanGaps: !points, showLine: !points, ...extra, ...(points ? { pointRadius: 3.5 } : {}),
  };
}

function axis(title: string, opts: Record<string, unknown> = {}) {
  return {
    title: { display: true, text: title, color: theme.foreground },
    ticks: { color: theme.foreground },
    grid: { color: withAlpha(theme.grid, 0.6) },
    ...opts,
  };
}

function recallLabels(epochs: EpochMetrics[]): string[] {
  const set = new Set<string>();
  for (const e of epochs) for (const k of Object.keys(e.perClassRecall ?? {})) set.add(k);
  if (state?.report) for (const l of state.report.labels) set.add(l);
  return [...set].sort();
}

function lowestRecall(epochs: EpochMetrics[]): { label: string; recall: number } | undefined {
  const last = epochs[epochs.length - 1];
  if (!last) return undefined;
  let best: { label: string; recall: number } | undefined;
  for (const [label, recall] of Object.entries(last.perClassRecall ?? {})) {
    if (recall === null || recall === undefined) continue;
    if (!best || recall < best.recall) best = { label, recall };
  }
  return best;
}

/** The recall series the legend names (see recallLegendLabels). */
let recallLegend = new Set<string>();

function updateCharts(): void {
  if (!state) return;
  const epochs = points();
  // A category axis: one tick per computed point (configurations are candidates 1…N, not a time line).
  const labels = epochs.map((e) => String(e.epoch));
  const common = {
    type: 'line' as const,
    options: {
      animation: false as const,
      responsive: true,
      maintainAspectRatio: false,
      interaction: { mode: 'index' as const, intersect: false },
      plugins: {
        legend: { labels: { color: theme.foreground } },
        tooltip: {
          callbacks: {
            title: (items: { dataIndex: number }[]) => {
              const e = items.length ? state?.epochs[items[0].dataIndex] : undefined;
              return e ? `${unitTitle()} ${e.epoch}${e.label ? ` — ${e.label}` : ''}` : '';
            },
          },
        },
      },
    },
  };
  const lossData = {
    labels,
    datasets: [
      lineDataset(T('Training loss'), epochs.map((e) => e.loss), theme.blue),
      lineDataset(T('Validation loss'), epochs.map((e) => e.valLoss), theme.orange),
    ],
  };
  const scoreData = {
    labels,
    datasets: [
      lineDataset(T('Validation macro-F1'), epochs.map((e) => e.valMacroF1), theme.green),
      lineDataset(T('Validation accuracy'), epochs.map((e) => e.valAccuracy), theme.purple),
    ],
  };
  const classes = recallLabels(epochs);
  const low = lowestRecall(epochs);
  const recallData = {
    labels,
    datasets: classes.map((c, i) => {
      const isLow = low?.label === c;
      const color = theme.series[i % theme.series.length];
      return lineDataset(isLow ? `▼ ${c}` : c, epochs.map((e) => (e.perClassRecall?.[c] ?? null)), isLow ? theme.red : color, {
        borderWidth: isLow ? 4 : 1.5,
        pointRadius: isLow ? 3 : 1.5,
        borderDash: isLow ? [] : [],
        order: isLow ? 0 : 1,
      });
    }),
  };
  const set = (key: keyof typeof charts, card: ReturnType<typeof chartCard>, data: typeof lossData, yTitle: string, yOpts: Record<string, unknown> = {}) => {
    const existing = charts[key];
    if (existing) {
      existing.data = data as never;
      const x = existing.options.scales?.x as { title?: { text?: string } } | undefined;
      if (x?.title) x.title.text = unitTitle();
      existing.update('none');
    } else {
      const plugins = key !== 'recall' ? common.options.plugins
        : { ...common.options.plugins, legend: { labels: { color: theme.foreground, filter: (item: { text: string }) => recallLegend.has(item.text) } } };
      charts[key] = createChart(card.canvas, {
        ...common,
        plugins: [stagePlugin as never],
        data: data as never,
        options: { ...common.options, plugins, scales: { x: axis(unitTitle()), y: axis(yTitle, yOpts) } } as never,
      });
    }
    card.canvas.setAttribute('data-points', String(pointCount(charts[key]! as never)));
  };
  cards.loss.heading.textContent = T('Training loss') + ' / ' + T('Validation loss');
  cards.score.heading.textContent = T('Validation macro-F1 and accuracy');
  cards.recall.heading.textContent = T('Per-class recall (validation)');
  set('loss', cards.loss, lossData, T('Loss'), { beginAtZero: true });
  set('score', cards.score, scoreData, T('Score'), { min: 0, max: 1 });
  // Many classes: the legend names only the lowest class, so it does not crowd out the chart (the tooltip lists all).
  recallLegend = new Set(recallLegendLabels(classes, low?.label).map((c) => (c === low?.label ? `▼ ${c}` : c)));
  set('recall', cards.recall, recallData, T('Recall'), { min: 0, max: 1 });
  cards.recall.canvas.setAttribute('data-legend', [...recallLegend].join('\n'));
  cards.loss.canvas.setAttribute('data-x-title', unitTitle());
  cards.loss.canvas.setAttribute('data-stage-markers', stageMarkers().map((m) => m.epoch).join(','));
  const waiting = epochs.length === 0 ? T(state.run.unit === 'configuration' ? 'Waiting for the first scored configuration…' : state.run.unit === 'pair-step' ? 'Waiting for the first pair step…' : 'Waiting for the first epoch…') : '';
  const last = epochs[epochs.length - 1];
  cards.loss.caption.textContent = waiting || `${T('Training loss')} ${last.loss.toFixed(4)}` + (last.valLoss !== null ? ` · ${T('Validation loss')} ${last.valLoss.toFixed(4)}` : '');
  cards.score.caption.textContent = waiting || (last.valMacroF1 !== null ? `${T('Validation macro-F1')} ${last.valMacroF1.toFixed(4)}` : '') + (last.valAccuracy !== null ? ` · ${T('Validation accuracy')} ${last.valAccuracy.toFixed(4)}` : '');
  cards.recall.caption.textContent = waiting || (low ? T('Lowest recall: {0} ({1})', low.label, low.recall.toFixed(4)) : '') + (classes.length > recallLegend.size ? ` · ${T('Hover over the chart for every class.')}` : '');
  cards.recall.caption.classList.toggle('low', !!low);
  if (low) cards.recall.canvas.setAttribute('data-lowest', low.label);
}

// ------------------------------------------------------------------ report + confusion

function fmt(v: number): string {
  return Number.isFinite(v) ? v.toFixed(4) : '—';
}

function renderReport(): void {
  clear(el.report);
  if (!state) return;
  const rep = state.report;
  if (!rep) {
    if (state.run.status === 'completed') el.report.append(h('p', { class: 'note', id: 'no-report' }, T('No test split: no classification report for this run.')));
    return;
  }
  const head = h('tr', {}, h('th', { scope: 'col' }, T('Class')), h('th', { scope: 'col' }, T('Precision')), h('th', { scope: 'col' }, T('Recall')), h('th', { scope: 'col' }, T('F1-score')), h('th', { scope: 'col' }, T('Support')));
  const body = h('tbody', {});
  const low = rep.labels.reduce<string | undefined>((a, l) => (a === undefined || rep.perClass[l].recall < rep.perClass[a].recall ? l : a), undefined);
  for (const l of rep.labels) {
    const m = rep.perClass[l];
    body.append(h('tr', { class: l === low ? 'lowest' : undefined }, h('th', { scope: 'row' }, l), h('td', {}, fmt(m.precision)), h('td', {}, fmt(m.recall)), h('td', {}, fmt(m.f1)), h('td', {}, m.support)));
  }
  const total = rep.macro.support;
  body.append(h('tr', { class: 'sep' }, h('th', { scope: 'row' }, T('accuracy')), h('td', {}), h('td', {}), h('td', {}, fmt(rep.accuracy)), h('td', {}, total)));
  body.append(h('tr', {}, h('th', { scope: 'row' }, T('macro avg')), h('td', {}, fmt(rep.macro.precision)), h('td', {}, fmt(rep.macro.recall)), h('td', {}, fmt(rep.macro.f1)), h('td', {}, rep.macro.support)));
  body.append(h('tr', {}, h('th', { scope: 'row' }, T('weighted avg')), h('td', {}, fmt(rep.weighted.precision)), h('td', {}, fmt(rep.weighted.recall)), h('td', {}, fmt(rep.weighted.f1)), h('td', {}, rep.weighted.support)));
  const table = h('table', { class: 'report-table', id: 'report-table' }, h('caption', {}, T('Test-set classification report') + (rep.split && rep.split !== 'test' ? ` (${rep.split})` : '')), h('thead', {}, head), body);
  const targets = recallTargetsCard(rep);

  // Confusion matrix heatmap (buttons in cells: Tab/arrow keys + Enter).
  const max = Math.max(1, ...rep.confusion.flat());
  // Many classes: smaller cells and vertical column headers, so the matrix fits the panel's width.
  const layout = confusionLayout(rep.labels.length, el.report.clientWidth || window.innerWidth);
  const cm = h('table', { class: `confusion${layout.rotate ? ' rotated' : ''}${layout.compact ? ' compact' : ''}`, id: 'confusion', role: 'grid', 'data-cell': layout.cell });
  cm.style.setProperty('--cell-w', `${layout.cell}px`);
  cm.style.setProperty('--cell-h', `${layout.cellHeight}px`);
  cm.style.setProperty('--row-header', `${layout.rowHeader}px`);
  cm.append(h('caption', {}, T('Confusion matrix (rows: true label, columns: predicted)')));
  cm.append(h('thead', {}, h('tr', {}, h('th', {}), ...rep.labels.map((l) => h('th', { scope: 'col', title: l }, l)))));
  const cmBody = h('tbody', {});
  rep.confusion.forEach((row, i) => {
    cmBody.append(h('tr', {}, h('th', { scope: 'row', title: rep.labels[i] }, rep.labels[i]), ...row.map((n, j) => {
      const btn = h('button', {
        class: `cell${i === j ? ' diag' : ''}${selectedCell?.i === i && selectedCell?.j === j ? ' selected' : ''}`,
        'data-i': i, 'data-j': j, 'data-count': n,
        'aria-label': T('True {0}, predicted {1}: {2} samples', rep.labels[i], rep.labels[j], n),
        title: T('True {0}, predicted {1}: {2} samples', rep.labels[i], rep.labels[j], n),
        onclick: () => selectCell(i, j),
        onkeydown: (e: Event) => moveFocus(e as KeyboardEvent, i, j, rep.labels.length),
      }, n);
      btn.style.background = heat(i === j ? theme.blue : theme.red, n / max);
      if (n / max > 0.55) btn.classList.add('strong');
      return h('td', {}, btn);
    })));
  });
  cm.append(cmBody);
  const samples = h('div', { id: 'samples', class: 'samples', 'aria-live': 'polite' });
  el.report.append(h('div', { class: 'card' }, table, ...targets), h('div', { class: `card confusion-card${layout.wide ? ' wide' : ''}` }, cm, h('p', { class: 'note' }, T('Select a cell to list its test samples.')), samples));
  if (lastSamples) renderSamples(lastSamples);
}

function moveFocus(e: KeyboardEvent, i: number, j: number, n: number): void {
  const d: Record<string, [number, number]> = { ArrowUp: [-1, 0], ArrowDown: [1, 0], ArrowLeft: [0, -1], ArrowRight: [0, 1] };
  const mv = d[e.key];
  if (!mv) return;
  e.preventDefault();
  const ni = Math.min(n - 1, Math.max(0, i + mv[0]));
  const nj = Math.min(n - 1, Math.max(0, j + mv[1]));
  (document.querySelector(`#confusion button[data-i="${ni}"][data-j="${nj}"]`) as HTMLButtonElement | null)?.focus();
}

function selectCell(i: number, j: number): void {
  if (!state?.report) return;
  selectedCell = { i, j };
  document.querySelectorAll('#confusion button.selected').forEach((b) => b.classList.remove('selected'));
  document.querySelector(`#confusion button[data-i="${i}"][data-j="${j}"]`)?.classList.add('selected');
  post({ type: 'requestSamples', requestId: ++requestSeq, trueLabel: state.report.labels[i], predicted: state.report.labels[j] });
}

function renderSamples(m: Extract<HostToDashboard, { type: 'samples' }>): void {
  const box = document.getElementById('samples');
  if (!box) return;
  clear(box);
  const images = m.samples.some((s) => s.image);
  box.append(h('h3', {}, T(images ? 'Test images with true label {0} predicted as {1} ({2})' : 'Test samples with true label {0} predicted as {1} ({2})', m.trueLabel, m.predicted, m.total)));
  if (!m.samples.length) {
    box.append(h('p', { class: 'note' }, T('No samples in this cell.')));
    return;
  }
  const list = h('ul', { class: images ? 'sample-thumbs' : 'sample-list', id: images ? 'sample-thumbs' : undefined });
  for (const s of m.samples) list.append(h('li', {}, s.image ? thumbnailButton(s, m.predicted) : sampleButton(s, m.predicted)));
  box.append(list);
  if (m.total > m.samples.length) box.append(h('p', { class: 'note' }, T('and {0} more', m.total - m.samples.length)));
}

function sampleButton(s: MisclassifiedSample, predicted: string): HTMLElement {
  const p = probabilityText(s.confidence);
  const where = s.file ? `${s.file.split(/[\\/]/).pop()}${s.line ? `:${s.line}` : ''}` : '';
  const text = s.text.length > 200 ? s.text.slice(0, 200) + '…' : s.text;
  return h('button', {
    class: 'sample link',
    disabled: !s.file,
    title: s.file ? `${T('Open')} ${s.file}${s.line ? `:${s.line}` : ''}` : undefined,
    onclick: () => s.file && post({ type: 'openSample', file: s.file, line: s.line }),
  }, h('span', { class: 'sample-text' }, text), where ? h('span', { class: 'sample-where' }, where) : null,
  p ? h('span', { class: 'sample-conf', title: T('Probability the model gave to {0}: {1}', predicted, s.confidence!.toFixed(4)) }, p) : null);
}

/** An image of the drill-down: its thumbnail (the file itself), name and probability; a click opens it in VS Code. */
function thumbnailButton(s: MisclassifiedSample, predicted: string): HTMLElement {
  const p = probabilityText(s.confidence);
  const name = s.file ? s.file.split(/[\\/]/).pop()! : s.text;
  return h('button', {
    class: 'thumb link', 'data-file': s.file,
    title: `${T('Open')} ${s.file ?? s.text}${s.confidence !== undefined ? `\n${T('Probability the model gave to {0}: {1}', predicted, s.confidence.toFixed(4))}` : ''}`,
    onclick: () => s.file && post({ type: 'openSample', file: s.file }),
  }, h('img', { src: s.image, alt: name, width: 96, height: 96, loading: 'lazy' }), h('span', { class: 'thumb-name' }, name), p ? h('span', { class: 'sample-conf' }, p) : null);
}

// ------------------------------------------------------------------ augmented samples

/** "RandomAffine(degrees=15, translate=(0.1, 0.1), scale=(0.9, 1.1))" (+ the flip): the run's real parameters. */
function transformText(t: NonNullable<DashboardState['augmented']>['transform']): string {
  const affine = `RandomAffine(degrees=${t.degrees}, translate=(${t.translate[0]}, ${t.translate[1]}), scale=(${t.scale[0]}, ${t.scale[1]}))`;
  return t.flip ? `RandomHorizontalFlip(p=0.5) + ${affine}` : affine;
}

/** The grid of what the model sees: per row a training image, then its augmented copies with their drawn parameters. */
function renderAugmented(): void {
  clear(el.augmented);
  const g = state?.augmented;
  if (!g?.rows.length) return;
  const body = h('tbody', {});
  for (const r of g.rows) {
    body.append(h('tr', {},
      h('th', { scope: 'row' }, r.label),
      h('td', {}, h('figure', {}, h('img', { src: r.original, alt: r.name, title: r.name }), h('figcaption', {}, T('original')))),
      ...r.copies.map((c) => {
        const what = T('rotated {0}°, shifted ({1}, {2}) px, scaled ×{3}', c.angle.toFixed(1), c.tx, c.ty, c.scale.toFixed(3)) + (c.flipped ? `, ${T('flipped left–right')}` : '');
        return h('td', {}, h('figure', {}, h('img', { src: c.src, alt: what, title: what }), h('figcaption', {}, `${c.angle.toFixed(0)}°${c.flipped ? ' ⇋' : ''}`)));
      })));
  }
  el.augmented.append(h('div', { class: 'card' },
    h('h2', { id: 'augmented-title' }, T('What the model sees ({0}, seed {1})', transformText(g.transform), g.seed)),
    h('p', { class: 'note' }, T('Training images (left) and augmented copies the model was trained on, drawn with the seed of the run.')),
    h('table', { class: 'augmented-grid', id: 'augmented-grid' }, body)));
}

// ------------------------------------------------------------------ messages

function renderAll(): void {
  renderHeader();
  updateCharts();
  renderReport();
  renderAugmented();
  sampleView.render();
  showSamples();
  reportRendered();
}

/** A completed run with an id has saved predictions: show its per-sample table. */
function showSamples(): void {
  sampleView.show(state?.run.status === 'completed' ? state.run.runId : undefined);
}

/** The recall-target table (report.json recallTargets) and the abstain count, under the report table. */
function recallTargetsCard(rep: NonNullable<NonNullable<typeof state>['report']>): HTMLElement[] {
  const out: HTMLElement[] = [];
  const rows = rep.recallTargets ?? [];
  if (rows.length) {
    const cols = [T('Class'), T('Target'), T('Threshold'), T('Recall'), T('Precision'), T('Argmax recall'), T('Argmax precision')];
    const num = (v: number | null) => (v === null ? '—' : fmt(v));
    const body = h('tbody', {}, ...rows.map((r) => h('tr', {}, h('th', { scope: 'row' }, r.label), h('td', {}, r.target === null ? '—' : String(r.target)),
      h('td', {}, num(r.threshold)), h('td', {}, fmt(r.recall)), h('td', {}, fmt(r.precision)), h('td', {}, fmt(r.argmaxRecall)), h('td', {}, fmt(r.argmaxPrecision)))));
    // a scroll box of its own: seven columns do not fit a narrow report card
    out.push(h('div', { class: 'table-scroll' }, h('table', { class: 'report-table', id: 'recall-targets' }, h('caption', {}, T('Recall targets (recall and precision with the thresholds, and with the plain argmax: the difference is what a target cost)')),
      h('thead', {}, h('tr', {}, ...cols.map((c) => h('th', { scope: 'col' }, c)))), body)));
  }
  if (rep.abstained) {
    out.push(h('p', { class: 'note', id: 'uncertain-note' }, T('Uncertain (below the abstain threshold {0}): {1} of {2} texts; each counts as a miss in the recall of its class.', rep.abstained.threshold, rep.abstained.uncertain, rep.macro.support)));
  }
  return out;
}

let renderPending = false;
/** Tells the host what is on screen (once per frame): axis title, ticks, summary rows, banner. */
function reportRendered(): void {
  if (renderPending || !state) return;
  renderPending = true;
  requestAnimationFrame(() => {
    renderPending = false;
    if (!state) return;
    const meta: Record<string, string> = {};
    el.meta.querySelectorAll('dd').forEach((dd) => { meta[dd.id.replace(/^meta-/, '')] = dd.textContent ?? ''; });
    const summary: DashboardRenderSummary = {
      xTitle: unitTitle(),
      xLabels: points().map((e) => String(e.epoch)),
      lossPoints: charts.loss ? pointCount(charts.loss as never) : 0,
      phase: el.phase.textContent ?? '',
      meta,
      validation: el.validation.textContent ?? '',
      computeNote: el.computeNote.textContent ?? '',
      banner: [...el.banner.querySelectorAll('li')].map((li) => li.getAttribute('data-code') ?? ''),
      stageMarkers: stageMarkers().filter((m) => state!.epochs.some((e) => e.epoch === m.epoch)).map((m) => m.epoch),
      stages: [...el.stages.querySelectorAll('li')].map((li) => li.textContent ?? ''),
      errorLog: state.run.errorLog,
      recallTargets: [...el.report.querySelectorAll('#recall-targets tbody tr, #uncertain-note')].map((r) => (r.tagName === 'TR' ? [...r.children].map((c) => c.textContent ?? '').join(' | ') : r.textContent ?? '')),
    };
    post({ type: 'rendered', summary });
  });
}

onHostMessage<HostToDashboard>((m) => {
  switch (m.type) {
    case 'init':
      state = m.state;
      strings = m.strings;
      T = createTranslator(strings);
      document.documentElement.lang = m.locale;
      renderAll();
      break;
    case 'epoch':
      if (!state) return;
      // one point per (unit, number): a SetFit run counts pair steps, then its head's configurations
      if (!state.epochs.some((e) => e.epoch === m.metrics.epoch && e.unit === m.metrics.unit)) state.epochs.push(m.metrics);
      state.run.totalEpochs = m.totalEpochs;
      state.run.unit = m.unit ?? m.metrics.unit ?? state.run.unit;
      updateCharts();
      renderHeader();
      break;
    case 'status':
      if (!state) return;
      state.run = m.run;
      renderHeader();
      showSamples();
      if (m.run.finetune) updateCharts();
      break;
    case 'compute':
      if (!state) return;
      state.compute = m.compute;
      renderMeta();
      break;
    case 'done':
      if (!state) return;
      state.run = m.run;
      state.report = m.report;
      state.augmented = m.augmented;
      state.images = m.images;
      if (m.epochs.length >= state.epochs.length) state.epochs = m.epochs;
      renderAll();
      break;
    case 'samples':
      if (m.requestId !== requestSeq) return;
      lastSamples = m;
      renderSamples(m);
      return;
    case 'sampleTable':
    case 'sampleExport':
      sampleView.onMessage(m);
      return;
  }
  persist();
});

// Redraw with the new palette when the theme changes.
onThemeChange((t) => {
  theme = t;
  applyChartDefaults(theme);
  for (const c of Object.values(charts)) if (c) restyleChart(c as never, theme);
  updateCharts();
  renderReport();
});

setInterval(() => {
  if (state?.run.status === 'running') renderMeta();
}, 1000);

applyChartDefaults(theme);
const saved = api.getState();
if (saved?.state) {
  state = saved.state;
  strings = saved.strings;
  T = createTranslator(strings);
  renderAll();
}
post({ type: 'ready' });
