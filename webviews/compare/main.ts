/**
 * Compare Runs webview: overlaid curves, metrics table, per-class bars,
 * confusion matrices, settings diff, run annotations and exports. The host
 * (src/extension/compare/panel.ts) sends the model; everything else lives here.
 */
import './compare.css';
import type { Chart as ChartT } from 'chart.js';
import { getWebviewApi, onHostMessage } from '../shared/vscode';
import { onThemeChange, readThemeColors, withAlpha, type ThemeColors } from '../shared/theme';
import { applyChartDefaults, createChart, heat, pointCount } from '../shared/chart';
import { clear, h } from '../shared/dom';
import { createTranslator, type Translate } from '../shared/strings';
import { PROGRESS_UNIT_LABELS, type ProgressUnit } from '../../src/protocol/run';
import { headUsesTfjs } from '../../src/protocol/webview';
import {
  COMPARE_PROTOCOL_VERSION, NUMERIC_COLUMNS, SETTING_NOT_USED, TABLE_COLUMNS,
  type CompareModel, type CompareRun, type CompareToHost, type CompareUiState, type CurvePoint, type HostToCompare, type TableColumn, type TableRow,
} from '../../src/protocol/compare';
import { ema, fmtNum, fmtSeconds, normaliseRows, sortTable } from './series';

const vscode = getWebviewApi<CompareToHost, CompareUiState>();
const app = document.getElementById('app') as HTMLElement;

let model: CompareModel | undefined;
let t: Translate = createTranslator(undefined);
let ui: CompareUiState = { runIds: [], ...(vscode.getState() ?? {}) };
let theme: ThemeColors = readThemeColors();
const charts = new Map<string, ChartT>();
let matrixObserver: IntersectionObserver | undefined;
let matricesDrawn = new Set<string>();
let statusEl: HTMLElement | undefined;

function post(m: CompareToHost): void { vscode.post(m); }

function saveState(): void {
  if (model) {
    ui.runIds = model.runIds;
    ui.colours = Object.fromEntries(model.runs.map((r) => [r.id, r.colourSlot]));
  }
  vscode.setState(ui);
  post({ type: 'state', state: ui });
}

// ------------------------------------------------------------------ messages

onHostMessage<HostToCompare>((m) => {
  switch (m.type) {
    case 'init':
      t = createTranslator(m.strings);
      // the host's copy is the newest: it follows every change and survives window reloads
      ui = { ...(vscode.getState() ?? {}), ...m.state, runIds: m.model.runIds };
      model = m.model;
      render();
      break;
    case 'model':
      model = m.model;
      render();
      break;
    case 'exported':
      setStatus(m.clipboard ? t('Copied to the clipboard.') : t('Saved {0}', m.file ?? m.what));
      break;
    case 'error':
      setStatus(m.message, true);
      break;
    case 'busy':
      app.setAttribute('aria-busy', String(m.busy));
      break;
  }
});

window.addEventListener('error', (e) => post({ type: 'log', level: 'error', message: `${e.message} (${e.filename}:${e.lineno})` }));

onThemeChange((c) => {
  theme = c;
  applyChartDefaults(theme);
  if (model) render();
});

function setStatus(text: string, error = false): void {
  if (!statusEl) return;
  statusEl.textContent = text;
  statusEl.classList.toggle('error', error);
}

// ------------------------------------------------------------------ rendering

function swatch(run: CompareRun): HTMLElement {
  const s = h('span', { class: 'swatch', 'aria-hidden': 'true' });
  s.style.setProperty('background', run.colour);
  return s;
}

function destroyCharts(): void {
  for (const c of charts.values()) c.destroy();
  charts.clear();
  matrixObserver?.disconnect();
  matrixObserver = undefined;
  matricesDrawn = new Set();
}

/** Full render. Keeps keyboard focus (and caret) on the same control across re-renders. */
/** Re-renders one section in place (sorting the table or toggling the diff must not rebuild the charts). */
function replaceSection(oldId: string, build: () => HTMLElement): void {
  const old = document.getElementById(oldId);
  const focusKey = document.hasFocus() ? document.activeElement?.getAttribute('data-focus') : null;
  const next = build();
  if (old) old.replaceWith(next);
  if (focusKey) app.querySelector<HTMLElement>(`[data-focus="${CSS.escape(focusKey)}"]`)?.focus({ preventScroll: true });
  saveState();
  reportRendered();
}

let lastRenderMs = 0;
function render(): void {
  if (!model) return;
  const t0 = performance.now();
  // Only give focus back when this webview has it: never steal it from the workbench (e.g. the command palette).
  const active = document.hasFocus() ? document.activeElement as (HTMLElement & { selectionStart?: number | null; selectionEnd?: number | null }) | null : null;
  const focusKey = active?.getAttribute?.('data-focus');
  const sel = active && 'selectionStart' in active ? [active.selectionStart, active.selectionEnd] : undefined;
  // A name or note being typed survives a refresh (e.g. a compared run finished an epoch meanwhile).
  const editing = focusKey && /^(name|note):/.test(focusKey) ? (active as HTMLInputElement | HTMLTextAreaElement).value : undefined;
  const scroll = window.scrollY;

  destroyCharts();
  applyChartDefaults(theme);
  clear(app);
  app.setAttribute('aria-busy', 'false');
  const m = model;
  app.append(
    renderHeader(m),
    ...renderNotices(m),
    m.runs.length ? renderRuns(m) : h('p', { class: 'muted' }, t('No runs to compare. Add runs to start.')),
  );
  if (m.runs.length) {
    app.append(renderCurvesSection(m), renderTableSection(m), renderBarsSection(m), renderMatricesSection(m), renderSettingsSection(m));
    drawCurves();
    drawBars();
    observeMatrices();
  }
  if (focusKey) {
    const el = app.querySelector<HTMLElement>(`[data-focus="${CSS.escape(focusKey)}"]`);
    if (el) {
      if (editing !== undefined && 'value' in el) (el as HTMLInputElement).value = editing;
      el.focus({ preventScroll: true });
      if (sel && 'setSelectionRange' in el && sel[0] !== null && sel[0] !== undefined) {
        try { (el as HTMLInputElement).setSelectionRange(sel[0], sel[1] ?? sel[0]); } catch { /* not a text field */ }
      }
    }
  }
  window.scrollTo(0, scroll);
  saveState();
  lastRenderMs = Math.round(performance.now() - t0);
  reportRendered();
}

let renderReportPending = false;
function reportRendered(): void {
  if (renderReportPending) return;
  renderReportPending = true;
  requestAnimationFrame(() => {
    renderReportPending = false;
    if (!model) return;
    const curves = charts.get('curves');
    const bars = charts.get('bars');
    post({
      type: 'rendered',
      summary: {
        runs: model.runs.length,
        tableRows: app.querySelectorAll('table.metrics tbody tr').length,
        curveDatasets: curves?.data.datasets.length ?? 0,
        curvePoints: curves ? pointCount(curves) : 0,
        barDatasets: bars?.data.datasets.length ?? 0,
        matricesDrawn: matricesDrawn.size,
        matricesTotal: app.querySelectorAll('canvas.matrix').length,
        settingsRows: app.querySelectorAll('table.settings tbody tr').length,
        curveAxes: curveAxes(model),
        notices: app.querySelectorAll('.notices li').length,
        theme: theme.kind,
        renderMs: lastRenderMs,
      },
    });
  });
}

function renderHeader(m: CompareModel): HTMLElement {
  statusEl = h('div', { class: 'status', role: 'status', 'aria-live': 'polite' });
  const exportBtn = (label: string, format: 'csv' | 'markdown', target: 'file' | 'clipboard') =>
    h('button', { type: 'button', onclick: () => post({ type: 'exportTable', format, target, sort: ui.sort }) }, label);
  return h('header', { class: 'top' },
    h('div', { class: 'toolbar' },
      h('h1', {}, t('Compare runs ({0})', m.runs.length)),
      h('span', { class: 'spacer' }),
      h('button', { type: 'button', class: 'primary', onclick: () => post({ type: 'addRuns' }) }, t('Add runs…')),
      h('span', { class: 'muted' }, t('Export')),
      exportBtn(t('Copy CSV'), 'csv', 'clipboard'),
      exportBtn(t('Save CSV…'), 'csv', 'file'),
      exportBtn(t('Copy Markdown'), 'markdown', 'clipboard'),
      exportBtn(t('Save Markdown…'), 'markdown', 'file'),
    ),
    statusEl,
  );
}

function shortFp(fp: string): string {
  return fp ? (fp.length > 12 ? fp.slice(0, 12) + '…' : fp) : '?';
}

function renderNotices(m: CompareModel): HTMLElement[] {
  const out: HTMLElement[] = [];
  if (m.datasetMismatch) {
    const byId = new Map(m.runs.map((r) => [r.id, r]));
    out.push(h('div', { class: 'banner mismatch', role: 'alert' },
      h('strong', {}, `⚠ ${t('Different data')}`),
      t('These runs were trained on different data: their test figures are not comparable.'),
      h('ul', {}, m.datasetGroups.map((g, i) => h('li', {},
        `${t('Group {0}', i + 1)} — ${t('Dataset fingerprint')} ${shortFp(g.fingerprint)}: `,
        g.runIds.map((id) => byId.get(id)?.name ?? id).join(', '))))));
  }
  const notices = m.notices.filter((n) => !(m.datasetMismatch && !n.runId && n.severity === 'warning' && /different data/.test(n.message)));
  if (notices.length) {
    const details = h('details', { class: 'notices', open: notices.some((n) => n.severity !== 'info') || notices.length <= 3 },
      h('summary', {}, t('Problems ({0})', notices.length)),
      h('ul', {}, notices.map((n) => h('li', { class: n.severity },
        h('span', { class: 'sr-only' }, `${n.severity}: `),
        n.message,
        n.fix ? h('span', { class: 'fix' }, t('Fix: {0}', n.fix)) : null))));
    out.push(details);
  }
  return out;
}

function healthBadge(r: CompareRun): HTMLElement | null {
  const label = r.status === 'running' ? t('still training') : r.status === 'failed' ? t('failed') : r.status === 'cancelled' ? t('cancelled') : r.status === 'interrupted' ? t('interrupted')
    : r.health === 'older-format' ? t('older format') : r.health === 'newer-format' ? t('newer format') : r.health === 'partial' ? t('partial') : '';
  return label ? h('span', { class: 'badge' }, label) : null;
}

function renderRuns(m: CompareModel): HTMLElement {
  return h('section', { class: 'lazy', 'aria-labelledby': 'runs-h' },
    h('h2', { id: 'runs-h', class: 'sr-only' }, t('Run')),
    h('ul', { class: 'runs' }, m.runs.map((r) => {
      const star = h('button', {
        type: 'button', class: 'icon star', 'aria-pressed': String(r.starred), 'data-focus': `star:${r.id}`,
        title: r.starred ? t('Unstar') : t('Star'), 'aria-label': `${r.starred ? t('Unstar') : t('Star')} ${r.name}`,
        onclick: () => post({ type: 'setStar', id: r.id, starred: !r.starred }),
      }, r.starred ? '★' : '☆');
      const name = h('input', { class: 'name', type: 'text', value: r.name, 'aria-label': `${t('Name')} (${r.id})`, 'data-focus': `name:${r.id}`, title: r.id });
      name.addEventListener('change', () => post({ type: 'rename', id: r.id, name: name.value }));
      name.addEventListener('keydown', (e) => { if ((e as KeyboardEvent).key === 'Enter') name.blur(); });
      const note = h('textarea', { rows: 1, placeholder: t('Note'), 'aria-label': `${t('Note')} (${r.name})`, 'data-focus': `note:${r.id}` });
      note.value = r.note;
      note.addEventListener('change', () => post({ type: 'setNote', id: r.id, note: note.value }));
      return h('li', { class: 'run-card', 'data-run': r.id },
        h('div', { class: 'head' }, swatch(r), star, name, healthBadge(r),
          h('button', { type: 'button', class: 'icon', title: t('Open dashboard'), 'aria-label': `${t('Open dashboard')}: ${r.name}`, 'data-focus': `open:${r.id}`, onclick: () => post({ type: 'openRun', id: r.id }) }, '↗'),
          h('button', { type: 'button', class: 'icon', title: t('Remove'), 'aria-label': t('Remove {0} from the comparison', r.name), 'data-focus': `rm:${r.id}`, onclick: () => post({ type: 'removeRun', id: r.id }) }, '✕')),
        h('div', { class: 'meta' }, [r.encoder, r.head, headUsesTfjs(r.algorithm, r.head) ? r.backend : '', `${t('Dataset fingerprint')} ${shortFp(r.datasetFingerprint ?? '')}`, r.createdAt.replace('T', ' ').slice(0, 16)].filter(Boolean).join(' · ')),
        note);
    })));
}

// ------------------------------------------------------------------ curves

function pngButton(name: () => string, canvas: () => HTMLCanvasElement | null): HTMLElement {
  return h('button', {
    type: 'button',
    onclick: () => {
      const c = canvas();
      if (c) post({ type: 'exportPng', chart: name(), dataUrl: c.toDataURL('image/png') });
    },
  }, t('Save PNG…'));
}

/** Paints the theme background under a chart so that exported PNGs are not transparent. */
const backgroundPlugin = {
  id: 'fewshotBackground',
  beforeDraw(chart: ChartT) {
    const { ctx, width, height } = chart;
    ctx.save();
    ctx.globalCompositeOperation = 'destination-over';
    ctx.fillStyle = theme.background;
    ctx.fillRect(0, 0, width, height);
    ctx.restore();
  },
};

const AXIS_ID: Record<ProgressUnit, string> = { epoch: 'x', configuration: 'xConfiguration', 'pair-step': 'xPairStep' };

/** Units of the compared runs' curves, epochs first. */
function unitsOf(m: CompareModel): ProgressUnit[] {
  const set = new Set(m.runs.map((r) => r.unit ?? 'epoch'));
  return (['epoch', 'configuration'] as const).filter((u) => set.has(u));
}

function curveAxes(m: CompareModel): string[] {
  return charts.get('curves') ? unitsOf(m).map((u) => t(PROGRESS_UNIT_LABELS[u])) : [];
}

function renderCurvesSection(m: CompareModel): HTMLElement {
  const curve = ui.curve ?? 'valMacroF1';
  const metric = h('select', { id: 'curve-metric', 'data-focus': 'curve-metric' },
    h('option', { value: 'loss', selected: curve === 'loss' }, t('Loss')),
    h('option', { value: 'valMacroF1', selected: curve === 'valMacroF1' }, t('Validation macro-F1')),
    h('option', { value: 'recall', selected: curve === 'recall' }, t('Per-class recall')));
  metric.addEventListener('change', () => { ui.curve = metric.value as CompareUiState['curve']; classSel.hidden = ui.curve !== 'recall'; classLabel.hidden = classSel.hidden; drawCurves(); saveState(); reportRendered(); });
  const cls = ui.recallClass && m.classes.includes(ui.recallClass) ? ui.recallClass : m.classes[0];
  ui.recallClass = cls;
  const classSel = h('select', { id: 'curve-class', 'data-focus': 'curve-class' }, m.classes.map((c) => h('option', { value: c, selected: c === cls }, c)));
  classSel.addEventListener('change', () => { ui.recallClass = classSel.value; drawCurves(); saveState(); reportRendered(); });
  const classLabel = h('label', { for: 'curve-class' }, t('Class'));
  classSel.hidden = curve !== 'recall';
  classLabel.hidden = classSel.hidden;
  const smooth = h('input', { id: 'curve-smoothing', type: 'range', min: 0, max: 0.95, step: 0.05, value: ui.smoothing ?? 0, 'data-focus': 'curve-smoothing' });
  const out = h('output', { for: 'curve-smoothing' }, (ui.smoothing ?? 0).toFixed(2));
  smooth.addEventListener('input', () => { ui.smoothing = Number(smooth.value); out.textContent = ui.smoothing.toFixed(2); drawCurves(); });
  smooth.addEventListener('change', () => { saveState(); reportRendered(); });
  return h('section', { 'aria-labelledby': 'curves-h' },
    h('h2', { id: 'curves-h' }, t('Curves')),
    h('div', { class: 'toolbar' },
      h('label', { for: 'curve-metric' }, t('Metric')), metric,
      classLabel, classSel,
      h('label', { for: 'curve-smoothing' }, t('Smoothing')), smooth, out,
      h('span', { class: 'spacer' }),
      pngButton(() => `curves-${ui.curve ?? 'valMacroF1'}${ui.curve === 'recall' ? '-' + (ui.recallClass ?? '') : ''}`, () => document.getElementById('curves-canvas') as HTMLCanvasElement)),
    unitsOf(m).length > 1
      ? h('p', { class: 'muted', id: 'curves-units-note' }, t('These runs count progress in different units (epochs, candidate configurations): each unit has its own x axis, and their points do not line up.'))
      : null,
    h('div', { class: 'chart-box' }, h('canvas', { id: 'curves-canvas', class: 'chart', role: 'img', 'aria-label': t('Curves') })));
}

function drawCurves(): void {
  const m = model;
  const canvas = document.getElementById('curves-canvas') as HTMLCanvasElement | null;
  if (!m || !canvas) return;
  const curve = ui.curve ?? 'valMacroF1';
  const w = ui.smoothing ?? 0;
  const datasets: { label: string; data: CurvePoint[]; borderColor: string; backgroundColor: string; borderDash?: number[]; borderWidth: number; pointRadius: number; pointHoverRadius: number; parsing: false; normalized: true; spanGaps: true; xAxisID: string; showLine: boolean }[] = [];
  let unit: ProgressUnit = 'epoch';
  // Epochs are a sequence (smoothed and joined when asked); candidate configurations are separate
  // points on their own axis: never smoothed, never joined, never on the epoch axis.
  const line = (label: string, data: CurvePoint[], colour: string, dash?: number[]) => datasets.push({
    label, data: unit === 'epoch' ? ema(data, w) : data.slice(), borderColor: colour, backgroundColor: colour, borderDash: dash, borderWidth: 1.6,
    pointRadius: unit !== 'epoch' ? 3 : data.length === 1 ? 3 : 0, pointHoverRadius: 4, parsing: false, normalized: true, spanGaps: true,
    xAxisID: AXIS_ID[unit], showLine: unit === 'epoch',
  });
  for (const r of m.runs) {
    unit = r.unit ?? 'epoch';
    if (curve === 'loss') {
      line(`${r.name} · ${t('training')}`, r.curves.loss, r.colour);
      if (r.curves.valLoss.length) line(`${r.name} · ${t('validation')}`, r.curves.valLoss, withAlpha(r.colour, 0.8), [6, 4]);
    } else if (curve === 'valMacroF1') {
      line(r.name, r.curves.valMacroF1, r.colour);
    } else {
      line(r.name, r.curves.recall[ui.recallClass ?? ''] ?? [], r.colour);
    }
  }
  const yTitle = curve === 'loss' ? t('Loss') : curve === 'valMacroF1' ? t('Validation macro-F1') : `${t('Recall')} — ${ui.recallClass ?? ''}`;
  const existing = charts.get('curves');
  if (existing) {
    existing.data.datasets = datasets as never;
    const y = existing.options.scales?.y as { title?: { text?: string }; max?: number; min?: number } | undefined;
    if (y?.title) y.title.text = yTitle;
    if (y) { y.min = curve === 'loss' ? undefined : 0; y.max = curve === 'loss' ? undefined : 1; }
    existing.update('none');
    return;
  }
  charts.set('curves', createChart(canvas, {
    type: 'line',
    data: { datasets: datasets as never },
    options: {
      animation: false,
      parsing: false,
      normalized: true,
      interaction: { mode: 'nearest', intersect: false },
      plugins: { legend: { position: 'bottom', labels: { color: theme.foreground } } },
      scales: {
        // One x axis per unit present (epochs at the bottom, candidate configurations at the top when both).
        ...Object.fromEntries(unitsOf(m).map((u, i) => [AXIS_ID[u], {
          type: 'linear', position: i === 0 ? 'bottom' : 'top',
          title: { display: true, text: t(PROGRESS_UNIT_LABELS[u]), color: theme.foreground },
          ticks: { color: theme.foreground, precision: 0 }, grid: { color: withAlpha(theme.grid, 0.5), display: i === 0 },
        }])),
        y: { min: curve === 'loss' ? undefined : 0, max: curve === 'loss' ? undefined : 1, title: { display: true, text: yTitle, color: theme.foreground }, ticks: { color: theme.foreground }, grid: { color: withAlpha(theme.grid, 0.5) } },
      },
    },
    plugins: [backgroundPlugin],
  } as never));
}

// ------------------------------------------------------------------ table

const COLUMN_LABEL: Record<TableColumn, string> = {
  name: 'Run', testMacroF1: 'Test macro-F1', testWeightedF1: 'Test weighted-F1', testAccuracy: 'Test accuracy', minRecall: 'Min recall',
  bestEpoch: 'Best epoch', bestValMacroF1: 'Best validation macro-F1', lastEpoch: 'Last epoch', lastValMacroF1: 'Val macro-F1 (last)', trainMs: 'Train time', backend: 'Backend',
};

/** The header of a column; the validation columns say what validation was when every run did the same. */
function columnLabel(c: TableColumn, m: CompareModel): string {
  const validations = new Set(m.rows.map((r) => r.validation ?? ''));
  const shared = validations.size === 1 ? [...validations][0] : '';
  if (c === 'bestValMacroF1' && shared) return t('Best validation macro-F1 ({0})', shared);
  if ((c === 'bestEpoch' || c === 'lastEpoch') && m.rows.some((r) => r.unit === 'configuration')) return c === 'bestEpoch' ? t('Best epoch / configuration') : t('Last epoch / configuration');
  return t(COLUMN_LABEL[c]);
}

function cellText(r: TableRow, c: TableColumn): string {
  switch (c) {
    case 'name': return r.name;
    case 'backend': return r.backend || '—';
    case 'trainMs': return fmtSeconds(r.trainMs);
    case 'bestEpoch': case 'lastEpoch': return r[c] === null ? '—' : r.unit === 'configuration' ? t('configuration {0}', r[c] as number) : String(r[c]);
    default: return fmtNum(r[c] as number | null);
  }
}

function renderTableSection(m: CompareModel): HTMLElement {
  const sort = ui.sort;
  const rows = sort ? sortTable(m.rows, sort.column, sort.descending) : m.rows;
  const byId = new Map(m.runs.map((r) => [r.id, r]));
  const numeric = (c: TableColumn) => c !== 'name' && c !== 'backend';
  const head = h('tr', {}, TABLE_COLUMNS.map((c) => {
    const active = sort?.column === c;
    const label = columnLabel(c, m);
    const btn = h('button', {
      type: 'button', class: 'sort', 'data-focus': `sort:${c}`, 'data-column': c,
      'aria-label': t('Sort by {0}', label),
      onclick: () => {
        const descending = active ? !sort?.descending : NUMERIC_COLUMNS[c] === 'max';
        ui.sort = { column: c, descending };
        if (model) replaceSection('sec-table', () => renderTableSection(model as CompareModel));
      },
    }, label, active ? (sort?.descending ? ' ▼' : ' ▲') : '');
    return h('th', { scope: 'col', class: numeric(c) ? 'num' : '', 'aria-sort': active ? (sort?.descending ? 'descending' : 'ascending') : 'none' }, btn);
  }));
  const body = rows.map((r) => h('tr', { 'data-run': r.id }, TABLE_COLUMNS.map((c) => {
    if (c === 'name') {
      const run = byId.get(r.id);
      return h('th', { scope: 'row' }, run ? swatch(run) : null, ' ', run?.starred ? '★ ' : '', r.name);
    }
    const run = byId.get(r.id);
    // The TensorFlow.js backend says nothing about a head that TensorFlow.js does not fit.
    if (c === 'backend' && run && r.backend && !headUsesTfjs(run.algorithm, run.head)) {
      return h('td', { 'data-column': c, title: t('TensorFlow.js ({0}) did not fit this head', r.backend) }, t('n/a'));
    }
    const v = r[c as keyof TableRow];
    const isBest = NUMERIC_COLUMNS[c] !== undefined && typeof v === 'number' && m.best[c] === v && m.rows.length > 1;
    return h('td', { class: `${numeric(c) ? 'num' : ''}${isBest ? ' best' : ''}`, 'data-column': c },
      cellText(r, c),
      c === 'minRecall' && r.minRecallClass ? h('span', { class: 'sub' }, ` (${r.minRecallClass})`) : null,
      // Runs validated differently: each cell says on what.
      c === 'bestValMacroF1' && r.validation && new Set(m.rows.map((x) => x.validation ?? '')).size > 1 ? h('span', { class: 'sub validation' }, ` (${r.validation})`) : null,
      isBest ? h('span', { class: 'sr-only' }, ` (${t('best')})`) : null);
  })));
  return h('section', { id: 'sec-table', class: 'lazy', 'aria-labelledby': 'table-h' },
    h('h2', { id: 'table-h' }, t('Metrics')),
    h('div', { class: 'table-wrap' }, h('table', { class: 'metrics' }, h('thead', {}, head), h('tbody', {}, body))));
}

// ------------------------------------------------------------------ bars

function renderBarsSection(m: CompareModel): HTMLElement {
  const metric = ui.barMetric ?? 'recall';
  const sel = h('select', { id: 'bar-metric', 'data-focus': 'bar-metric' },
    h('option', { value: 'recall', selected: metric === 'recall' }, t('Recall')),
    h('option', { value: 'f1', selected: metric === 'f1' }, t('F1')));
  sel.addEventListener('change', () => { ui.barMetric = sel.value as 'recall' | 'f1'; drawBars(); saveState(); reportRendered(); });
  void m;
  return h('section', { 'aria-labelledby': 'bars-h' },
    h('h2', { id: 'bars-h' }, t('Per-class recall and F1')),
    h('div', { class: 'toolbar' }, h('label', { for: 'bar-metric' }, t('Metric')), sel, h('span', { class: 'spacer' }),
      pngButton(() => `per-class-${ui.barMetric ?? 'recall'}`, () => document.getElementById('bars-canvas') as HTMLCanvasElement)),
    h('div', { class: 'chart-box bars' }, h('canvas', { id: 'bars-canvas', class: 'chart', role: 'img', 'aria-label': t('Per-class recall and F1') })));
}

function drawBars(): void {
  const m = model;
  const canvas = document.getElementById('bars-canvas') as HTMLCanvasElement | null;
  if (!m || !canvas) return;
  const metric = ui.barMetric ?? 'recall';
  const datasets = m.runs.filter((r) => r.report).map((r) => ({
    label: r.name,
    data: m.classes.map((c) => r.report?.perClass[c]?.[metric] ?? null),
    backgroundColor: withAlpha(r.colour, 0.85),
    borderColor: r.colour,
    borderWidth: 1,
  }));
  const existing = charts.get('bars');
  if (existing) {
    existing.data.datasets = datasets as never;
    existing.update('none');
    return;
  }
  charts.set('bars', createChart(canvas, {
    type: 'bar',
    data: { labels: m.classes, datasets: datasets as never },
    options: {
      animation: false,
      plugins: { legend: { position: 'bottom', labels: { color: theme.foreground } } },
      scales: {
        x: { ticks: { color: theme.foreground }, grid: { display: false } },
        y: { min: 0, max: 1, ticks: { color: theme.foreground }, grid: { color: withAlpha(theme.grid, 0.5) } },
      },
    },
    plugins: [backgroundPlugin],
  } as never));
}

// ------------------------------------------------------------------ confusion matrices

function renderMatricesSection(m: CompareModel): HTMLElement {
  const withReport = m.runs.filter((r) => r.report && r.report.confusion?.length);
  return h('section', { class: 'lazy', 'aria-labelledby': 'matrices-h' },
    h('h2', { id: 'matrices-h' }, t('Confusion matrices')),
    withReport.length ? h('div', { class: 'matrices' }, withReport.map((r) => {
      const n = r.report!.labels.length;
      const size = matrixLayout(n);
      const canvas = h('canvas', { class: 'matrix', 'data-run': r.id, role: 'img', 'aria-label': `${t('Confusion matrices')}: ${r.name}`, width: size.width, height: size.height });
      canvas.style.setProperty('width', `${size.width}px`);
      canvas.style.setProperty('height', `${size.height}px`);
      return h('figure', {},
        h('figcaption', {}, swatch(r), h('span', { class: 'name', title: r.name }, r.name),
          pngButton(() => `confusion-${r.id}`, () => canvas)),
        canvas);
    })) : h('p', { class: 'muted' }, t('No test report.')));
}

function matrixLayout(n: number): { cell: number; left: number; top: number; bottom: number; width: number; height: number } {
  const cell = Math.max(12, Math.min(40, Math.floor(240 / Math.max(1, n))));
  const left = 90, top = 8, bottom = 70;
  return { cell, left, top, bottom, width: left + cell * n + 8, height: top + cell * n + bottom };
}

function observeMatrices(): void {
  const canvases = [...app.querySelectorAll<HTMLCanvasElement>('canvas.matrix')];
  if (!canvases.length) return;
  if (typeof IntersectionObserver === 'undefined') { canvases.forEach(drawMatrix); return; }
  matrixObserver = new IntersectionObserver((entries) => {
    for (const e of entries) {
      if (!e.isIntersecting) continue;
      drawMatrix(e.target as HTMLCanvasElement);
      matrixObserver?.unobserve(e.target);
    }
    reportRendered();
  }, { rootMargin: '200px' });
  for (const c of canvases) matrixObserver.observe(c);
}

function ellipsize(ctx: CanvasRenderingContext2D, s: string, max: number): string {
  if (ctx.measureText(s).width <= max) return s;
  let out = s;
  while (out.length > 1 && ctx.measureText(out + '…').width > max) out = out.slice(0, -1);
  return out + '…';
}

function drawMatrix(canvas: HTMLCanvasElement): void {
  const run = model?.runs.find((r) => r.id === canvas.dataset.run);
  const rep = run?.report;
  if (!run || !rep) return;
  const n = rep.labels.length;
  const L = matrixLayout(n);
  const dpr = window.devicePixelRatio || 1;
  canvas.width = Math.round(L.width * dpr);
  canvas.height = Math.round(L.height * dpr);
  const ctx = canvas.getContext('2d');
  if (!ctx) return;
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.fillStyle = theme.background;
  ctx.fillRect(0, 0, L.width, L.height);
  const norm = normaliseRows(rep.confusion);
  const font = Math.max(9, Math.min(12, L.cell * 0.45));
  ctx.font = `${font}px ${theme.fontFamily}`;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      const x = L.left + j * L.cell, y = L.top + i * L.cell;
      ctx.fillStyle = withAlpha(theme.grid, 0.15);
      ctx.fillRect(x, y, L.cell - 1, L.cell - 1);
      ctx.fillStyle = heat(run.colour, norm[i][j]);
      ctx.fillRect(x, y, L.cell - 1, L.cell - 1);
      if (L.cell >= 18) {
        ctx.fillStyle = norm[i][j] > 0.55 ? theme.background : theme.foreground;
        ctx.textAlign = 'center';
        ctx.textBaseline = 'middle';
        ctx.fillText(String(rep.confusion[i][j]), x + L.cell / 2, y + L.cell / 2);
      }
    }
  }
  ctx.fillStyle = theme.foreground;
  ctx.textAlign = 'right';
  ctx.textBaseline = 'middle';
  for (let i = 0; i < n; i++) ctx.fillText(ellipsize(ctx, rep.labels[i], L.left - 8), L.left - 4, L.top + i * L.cell + L.cell / 2);
  for (let j = 0; j < n; j++) {
    ctx.save();
    ctx.translate(L.left + j * L.cell + L.cell / 2, L.top + n * L.cell + 4);
    ctx.rotate(-Math.PI / 4);
    ctx.textAlign = 'right';
    ctx.fillText(ellipsize(ctx, rep.labels[j], L.bottom - 10), 0, 0);
    ctx.restore();
  }
  ctx.fillStyle = theme.muted;
  ctx.textAlign = 'left';
  ctx.textBaseline = 'bottom';
  ctx.fillText(`${t('true')} ↓ · ${t('predicted')} →`, 4, L.height - 2);
  matricesDrawn.add(run.id);
}

// ------------------------------------------------------------------ settings diff

function renderSettingsSection(m: CompareModel): HTMLElement {
  const only = ui.onlyDiffering ?? true;
  const box = h('input', { type: 'checkbox', id: 'only-diff', checked: only, 'data-focus': 'only-diff' });
  box.addEventListener('change', () => { ui.onlyDiffering = box.checked; replaceSection('sec-settings', () => renderSettingsSection(m)); });
  const rows = only ? m.settings.filter((s) => s.differs) : m.settings;
  return h('section', { id: 'sec-settings', class: 'lazy', 'aria-labelledby': 'settings-h' },
    h('h2', { id: 'settings-h' }, t('Settings')),
    h('div', { class: 'toolbar' }, box, h('label', { for: 'only-diff' }, t('Only what differs'))),
    !m.datasetMismatch && m.runs.length > 1 && m.datasetGroups.length === 1 && m.datasetGroups[0].fingerprint ? h('p', { class: 'muted' }, t('Same dataset for all runs.')) : null,
    rows.length
      ? h('div', { class: 'table-wrap' }, h('table', { class: 'settings' },
        h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, t('Setting')), m.runs.map((r) => h('th', { scope: 'col' }, swatch(r), ' ', r.name)))),
        h('tbody', {}, rows.map((s) => h('tr', { class: `${s.differs ? 'differs' : ''}${s.key === 'dataset.fingerprint' ? ' fingerprint' + (m.datasetMismatch ? ' mismatch' : '') : ''}`, 'data-key': s.key },
          h('td', { class: 'setting-key' }, s.key === 'dataset.fingerprint' ? `${m.datasetMismatch ? '⚠ ' : ''}${s.key}` : s.key),
          s.values.map((v) => h('td', { class: v === SETTING_NOT_USED ? 'value not-used' : 'value', title: v === SETTING_NOT_USED ? t('not used by the algorithm of this run') : undefined }, v === SETTING_NOT_USED ? t('n/a') : v || '—')))))))
      : h('p', { class: 'muted' }, t('No differences.')));
}

// ------------------------------------------------------------------ start

applyChartDefaults(theme);
post({ type: 'ready', protocol: COMPARE_PROTOCOL_VERSION });
