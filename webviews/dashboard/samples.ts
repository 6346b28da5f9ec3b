/**
 * The dashboard's per-sample table (issue 15): test predictions and out-of-fold training predictions, one page at a
 * time. The host filters, sorts and pages (src/extension/dashboard/sampleTable.ts); this view sends the query and
 * draws the page it gets back, so 100,000 rows never become 100,000 DOM rows.
 */
import { SAMPLE_COLUMNS, SAMPLE_PAGE_SIZE } from '../../src/protocol/webview';
import type { DashboardToHost, HostToDashboard, SampleColumn, SampleQuery, SampleRow, SampleTablePage } from '../../src/protocol/webview';
import type { Translate } from '../shared/strings';
import { clear, h } from '../shared/dom';
import { nextSort, numberText, pageRange } from './layout';

const HEADERS: Record<SampleColumn, string> = {
  split: 'Split',
  text: 'Text',
  gold: 'Gold',
  predicted: 'Predicted',
  probability: 'Probability',
  margin: 'Margin',
  suspect: 'Suspect',
};

const HEADER_TITLES: Record<SampleColumn, string> = {
  split: 'test: a test prediction; train (OOF): a training example predicted by a model that did not see it',
  text: 'Text',
  gold: 'The label the dataset gives',
  predicted: 'The class the model predicted',
  probability: 'Saved probability of the predicted class (out-of-fold for training rows)',
  margin: 'Largest minus second-largest saved probability',
  suspect: 'A training label that confident learning on this run\'s out-of-fold probabilities flags as likely wrong',
};

export interface SampleView {
  element: HTMLElement;
  /** Show the table for a finished run (queries the first page once per run), or hide it. */
  show(runId: string | undefined): void;
  onMessage(m: Extract<HostToDashboard, { type: 'sampleTable' | 'sampleExport' }>): void;
  /** Redraw with the current strings. */
  render(): void;
}

export function createSampleView(T: () => Translate, post: (m: DashboardToHost) => void): SampleView {
  const element = h('section', { class: 'card sample-table-card', id: 'sample-table', 'aria-labelledby': 'sample-table-title', hidden: true });
  let runId: string | undefined;
  let query: SampleQuery = { split: 'all', offset: 0, limit: SAMPLE_PAGE_SIZE };
  let page: SampleTablePage | undefined;
  let seq = 0;
  let status = '';
  let filterTimer: ReturnType<typeof setTimeout> | undefined;

  const request = (changes: Partial<SampleQuery>, keepOffset = false) => {
    query = { ...query, ...changes, ...(keepOffset ? {} : { offset: 0 }) };
    post({ type: 'querySamples', requestId: ++seq, query });
  };

  // Controls live across renders (the filter box keeps its focus and caret while the rows change).
  const filter = h('input', { id: 'samples-filter', type: 'search', class: 'sample-filter' });
  filter.addEventListener('input', () => {
    if (filterTimer) clearTimeout(filterTimer);
    filterTimer = setTimeout(() => request({ text: filter.value }), 200);
  });
  const errors = h('input', { id: 'samples-errors', type: 'checkbox', onchange: () => request({ errorsOnly: errors.checked }) });
  const suspects = h('input', { id: 'samples-suspects', type: 'checkbox', onchange: () => request({ suspectsOnly: suspects.checked }) });
  const split = h('select', { id: 'samples-split', onchange: () => request({ split: split.value as SampleQuery['split'] }) });
  const exportBtn = h('button', { id: 'samples-export', class: 'secondary', onclick: () => post({ type: 'exportSamples', query }) });
  const body = h('div', { class: 'sample-body' });

  function render(): void {
    const t = T();
    element.hidden = !runId;
    clear(element);
    if (!runId) return;
    filter.placeholder = t('Filter by text, gold or predicted');
    filter.setAttribute('aria-label', t('Filter by text, gold or predicted'));
    exportBtn.textContent = t('Export CSV');
    exportBtn.title = t('Every row that passes the filter, with the full text, file and line');
    clear(split);
    for (const [v, label] of [['all', t('All splits')], ['test', t('test')], ['train', t('train (OOF)')]] as const) {
      split.append(h('option', { value: v, selected: (query.split ?? 'all') === v }, label));
    }
    split.setAttribute('aria-label', t('Split'));
    element.append(
      h('h2', { id: 'sample-table-title' }, t('Per-sample predictions')),
      h('p', { class: 'note', id: 'samples-note' }, t('Test rows: the saved test predictions. Training rows: out-of-fold probabilities, each from a model that did not see the example. Suspect: a training label that confident learning on these probabilities flags as likely wrong.')),
      h('div', { class: 'sample-controls' },
        filter,
        h('label', {}, errors, ' ', t('Errors only')),
        h('label', {}, suspects, ' ', t('Suspects only')),
        split,
        exportBtn),
      body,
    );
    renderBody();
  }

  function renderBody(): void {
    const t = T();
    clear(body);
    if (!page) {
      body.append(h('p', { class: 'note' }, t('Loading…')));
      return;
    }
    if (page.error) body.append(h('p', { class: 'error', id: 'samples-error', role: 'alert' }, t('Some rows could not be read: {0}', page.error)));
    if (page.noOof) body.append(h('p', { class: 'note', id: 'samples-no-oof' }, t('Only test rows: this run\'s head computed no out-of-fold predictions.')));
    const range = pageRange(page.offset, page.rows.length, page.matched);
    const lang = document.documentElement.lang || undefined;
    const n = (v: number) => v.toLocaleString(lang);
    body.append(h('div', { class: 'sample-pager' },
      h('span', { id: 'samples-count', role: 'status' }, range ? t('Showing {0}–{1} of {2}', n(range.from), n(range.to), n(range.of)) : t('No rows match the filter.')),
      h('span', { class: 'note', id: 'samples-totals' }, t('{0} test rows, {1} training rows (out-of-fold), suspects: {2}', n(page.test), n(page.train), n(page.suspects))),
      h('button', { id: 'samples-prev', class: 'secondary', disabled: page.offset <= 0, onclick: () => request({ offset: Math.max(0, page!.offset - (query.limit ?? SAMPLE_PAGE_SIZE)) }, true) }, t('Previous')),
      h('button', { id: 'samples-next', class: 'secondary', disabled: page.offset + page.rows.length >= page.matched, onclick: () => request({ offset: page!.offset + (query.limit ?? SAMPLE_PAGE_SIZE) }, true) }, t('Next'))));
    const head = h('tr', {}, SAMPLE_COLUMNS.map((c) => h('th', {
      scope: 'col', 'data-col': c, class: `col-${c}`,
      'aria-sort': query.sort === c ? (query.descending ? 'descending' : 'ascending') : 'none',
    }, h('button', { class: 'sort', title: t(HEADER_TITLES[c]), onclick: () => request(nextSort(query, c)) },
      t(HEADERS[c]), query.sort === c ? (query.descending ? ' ▼' : ' ▲') : ''))));
    const rows = h('tbody', {}, page.rows.map((r) => rowOf(r, t)));
    body.append(h('div', { class: 'sample-scroll' }, h('table', { class: 'sample-rows', id: 'samples-rows' }, h('thead', {}, head), rows)));
    if (status) body.append(h('p', { class: 'note', id: 'samples-status', role: 'status' }, status));
  }

  function rowOf(r: SampleRow, t: Translate): HTMLElement {
    const open = () => post({ type: 'openRow', id: r.id });
    const error = r.gold !== r.predicted;
    return h('tr', {
      'data-id': r.id, 'data-split': r.split, class: `${error ? 'error-row' : ''}${r.suspect ? ' suspect-row' : ''}${r.where ? ' clickable' : ''}`,
      tabindex: r.where ? 0 : undefined, title: r.where ? t('Open {0}', r.where) : undefined,
      onclick: r.where ? open : undefined,
      onkeydown: r.where ? (e: Event) => { if ((e as KeyboardEvent).key === 'Enter') open(); } : undefined,
    },
    h('td', { class: 'col-split' }, r.split === 'test' ? t('test') : t('train (OOF)')),
    h('td', { class: 'col-text', title: r.text + (r.truncated ? '…' : '') }, r.text),
    h('td', { class: 'col-gold' }, r.gold),
    h('td', { class: `col-predicted${error ? ' wrong' : ''}` }, r.predicted),
    h('td', { class: 'col-probability num' }, numberText(r.probability)),
    h('td', { class: 'col-margin num' }, numberText(r.margin)),
    h('td', { class: 'col-suspect', title: r.suspect && r.suggested !== undefined ? t('Probably {0} ({1}), not {2}', r.suggested, numberText(r.pSuggested), r.gold) : undefined },
      r.suspect ? `⚑ ${r.suggested ?? ''}` : ''));
  }

  return {
    element,
    show(id) {
      if (id === runId) return;
      runId = id;
      page = undefined;
      status = '';
      render();
      if (id) request({}, true);
    },
    onMessage(m) {
      const t = T();
      if (m.type === 'sampleTable') {
        if (m.requestId !== seq) return;
        page = m.page;
        query = { ...query, offset: m.page.offset };
      } else {
        status = m.error ? m.error : m.file ? t('Exported {0} rows to {1}', (m.rows ?? 0).toLocaleString(document.documentElement.lang || undefined), m.file) : '';
      }
      renderBody();
    },
    render,
  };
}
