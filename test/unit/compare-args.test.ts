import * as assert from 'node:assert/strict';
import { parseCompareArgs, runIdOf } from '../../src/extension/compare/args';
import { ema, normaliseRows, sortTable } from '../../webviews/compare/series';
import type { TableRow } from '../../src/protocol/compare';

describe('compare: command arguments', () => {
  const A = '20261101-100000-news-a1b2';
  const B = '20261101-110000-news-c3d4';
  it('takes the multi-selection of the Runs view (clicked item, selected items)', () => {
    const items = [{ runId: A, label: 'x' }, { id: B }];
    assert.deepEqual(parseCompareArgs([items[0], items]), { ids: [A, B], complete: true });
  });
  it('reads run ids from resourceUri / dir / record and ignores things that are not runs', () => {
    assert.equal(runIdOf({ resourceUri: { fsPath: `/ws/.fewshot/runs/${A}` } }), A);
    assert.equal(runIdOf({ resourceUri: { fsPath: `/ws/.fewshot/runs/${A}/run.json` } }), A);
    assert.equal(runIdOf({ dir: `/ws/.fewshot/runs/${B}/` }), B);
    assert.equal(runIdOf({ record: { id: B } }), B);
    assert.equal(runIdOf({ id: '../etc' }), undefined);
    assert.equal(runIdOf(42), undefined);
  });
  it('opens a plain id list directly, but asks for more when only one run is clicked', () => {
    assert.deepEqual(parseCompareArgs([[A, B, A]]), { ids: [A, B], complete: true });
    assert.deepEqual(parseCompareArgs([{ runIds: [B] }]), { ids: [B], complete: true });
    assert.deepEqual(parseCompareArgs([A]), { ids: [A], complete: false });
    assert.deepEqual(parseCompareArgs([{ runId: A }, [{ runId: A }]]), { ids: [A], complete: false });
    assert.deepEqual(parseCompareArgs([]), { ids: [], complete: false });
  });
});

describe('compare: webview helpers', () => {
  it('smooths with a debiased EMA and leaves the series alone at 0', () => {
    const pts = [{ x: 1, y: 1 }, { x: 2, y: 0 }, { x: 3, y: 1 }];
    assert.deepEqual(ema(pts, 0), pts);
    const s = ema(pts, 0.5);
    assert.equal(s[0].y, 1); // debiased: first point unchanged
    assert.ok(Math.abs(s[1].y - 1 / 3) < 1e-12); // (0.5*0.5*1 + 0.5*0) / (1-0.25)
    assert.ok(Math.abs(s[2].y - (0.125 * 1 + 0.25 * 0 + 0.5 * 1) / (1 - 0.125)) < 1e-12);
    assert.deepEqual(s.map((p) => p.x), [1, 2, 3]);
  });
  it('normalises confusion rows and keeps empty rows at 0', () => {
    assert.deepEqual(normaliseRows([[3, 1], [0, 0]]), [[0.75, 0.25], [0, 0]]);
  });
  it('sorts table rows with missing values last in both directions', () => {
    const row = (id: string, v: number | null) => ({ id, name: id, testMacroF1: v } as unknown as TableRow);
    const rows = [row('a', 0.5), row('b', null), row('c', 0.9)];
    assert.deepEqual(sortTable(rows, 'testMacroF1', true).map((r) => r.id), ['c', 'a', 'b']);
    assert.deepEqual(sortTable(rows, 'testMacroF1', false).map((r) => r.id), ['a', 'c', 'b']);
  });
});
