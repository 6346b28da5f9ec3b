/**
 * Datasets view on the fixture workspace (test/fixtures/workspace/train-*),
 * inside the real extension host.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { DatasetNode, DatasetsTreeProvider } from '../../src/extension/views/datasetsTree';
import { getApi, wsRoot } from './helpers';

async function children(p: DatasetsTreeProvider, n?: DatasetNode): Promise<DatasetNode[]> {
  return (await p.getChildren(n)) ?? [];
}

function label(p: DatasetsTreeProvider, n: DatasetNode): string {
  const l = p.getTreeItem(n).label;
  return typeof l === 'string' ? l : l?.label ?? '';
}

async function dataset(p: DatasetsTreeProvider, root: string): Promise<DatasetNode> {
  const roots = await children(p);
  const hit = roots.find((n) => n.kind === 'dataset' && n.ref.root === root);
  assert.ok(hit, `dataset ${root} not in the tree (have: ${roots.map((n) => (n.kind === 'dataset' ? n.ref.root : n.kind)).join(', ')})`);
  return hit;
}

async function byLabel(p: DatasetsTreeProvider, parent: DatasetNode, text: string): Promise<DatasetNode> {
  const kids = await children(p, parent);
  const hit = kids.find((n) => label(p, n) === text);
  assert.ok(hit, `no child "${text}" (have: ${kids.map((n) => label(p, n)).join(', ')})`);
  return hit;
}

async function waitFor<T>(what: string, ms: number, f: () => Promise<T | undefined>): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = await f();
    if (v) return v;
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 150));
  }
}

describe('views: Datasets tree', function () {
  this.timeout(60_000);
  let p: DatasetsTreeProvider;
  const made: string[] = [];

  before(async () => {
    p = (await getApi()).train.datasetsProvider;
    p.refresh();
  });

  after(() => {
    for (const d of made) fs.rmSync(d, { recursive: true, force: true });
  });

  it('lists the fixture datasets (folders and CSV) with contextValue "dataset"', async () => {
    const tiny = await dataset(p, path.join(wsRoot(), 'train-tiny'));
    const table = await dataset(p, path.join(wsRoot(), 'train-table', 'tickets.csv'));
    assert.equal(p.getTreeItem(tiny).contextValue, 'dataset');
    assert.equal(p.getTreeItem(table).contextValue, 'dataset');
    assert.equal(tiny.kind === 'dataset' && tiny.ref.format, 'folders');
    assert.equal(table.kind === 'dataset' && table.ref.format, 'csv');
  });

  it('drills down dataset → split → class (count) → files that open on click', async () => {
    const tiny = await dataset(p, path.join(wsRoot(), 'train-tiny'));
    // after the splits, a trained dataset may list its label checks (earlier suites train train-tiny)
    const under = await children(p, tiny);
    const splits = under.filter((n) => n.kind === 'split');
    assert.deepEqual(splits.map((s) => label(p, s)), [vscode.l10n.t('train'), vscode.l10n.t('test')]);
    assert.deepEqual(under.slice(0, 2), splits, 'the splits come first');
    assert.ok(under.slice(2).every((n) => n.kind === 'group'), `only label lists follow the splits (got ${under.map((n) => n.kind).join(', ')})`);
    const train = splits[0];
    const classes = await children(p, train);
    assert.deepEqual(classes.map((c) => label(p, c)), ['billing', 'shipping', 'tech']);
    for (const c of classes) {
      const item = p.getTreeItem(c);
      assert.equal(item.description, '10');
      assert.notEqual((item.iconPath as vscode.ThemeIcon).id, 'warning', `${label(p, c)} should not warn`);
    }
    const files = await children(p, classes[0]);
    assert.equal(files.length, 10);
    const fileItem = p.getTreeItem(files[0]);
    assert.equal(fileItem.command?.command, 'vscode.open');
    const uri = fileItem.command?.arguments?.[0] as vscode.Uri;
    assert.equal(uri.fsPath, path.join(wsRoot(), 'train-tiny', 'train', 'billing', 'billing-01.txt'));
    const test = await children(p, splits[1]);
    assert.deepEqual(test.map((c) => p.getTreeItem(c).description), ['4', '4', '4']);
  });

  it('warns about a small and imbalanced class with an icon and a tooltip', async () => {
    const small = await dataset(p, path.join(wsRoot(), 'train-small'));
    const train = await byLabel(p, small, vscode.l10n.t('train'));
    const tech = await byLabel(p, train, 'tech');
    const item = p.getTreeItem(tech);
    assert.equal((item.iconPath as vscode.ThemeIcon).id, 'warning');
    const tip = (item.tooltip as vscode.MarkdownString).value;
    assert.match(tip, /2/);
    assert.match(tip, new RegExp(vscode.l10n.t('Only {0} training samples (fewer than {1}).', 2, 8).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
    assert.match(tip, /6\.0/); // 12 / 2 = 6× > imbalanceRatio 3
    const billing = p.getTreeItem(await byLabel(p, train, 'billing'));
    assert.notEqual((billing.iconPath as vscode.ThemeIcon).id, 'warning');
  });

  it('lists CSV records with their line and opens them at that line', async () => {
    const table = await dataset(p, path.join(wsRoot(), 'train-table', 'tickets.csv'));
    const train = await byLabel(p, table, vscode.l10n.t('train'));
    const classes = await children(p, train);
    assert.deepEqual(classes.map((c) => p.getTreeItem(c).description), ['9', '9', '9']);
    const rows = await children(p, classes[0]);
    assert.equal(rows.length, 9);
    const first = rows[0];
    assert.equal(first.kind, 'file');
    assert.ok(first.kind === 'file' && first.line && first.line >= 2, 'no line number');
    const item = p.getTreeItem(first);
    assert.match(String(item.description), /^tickets\.csv:\d+$/);
    const opts = item.command?.arguments?.[1] as { selection?: vscode.Range };
    assert.ok(opts.selection, 'no selection to open at');
    assert.equal(opts.selection.start.line, (first as { line: number }).line - 1);
  });

  it('caps long file lists with "… N more" and picks up new datasets from the file watcher', async () => {
    const root = path.join(wsRoot(), 'train-generated');
    made.push(root);
    for (const cls of ['alpha', 'beta']) {
      const dir = path.join(root, 'train', cls);
      fs.mkdirSync(dir, { recursive: true });
      const n = cls === 'alpha' ? 150 : 12;
      for (let i = 0; i < n; i++) fs.writeFileSync(path.join(dir, `${cls}-${String(i).padStart(3, '0')}.txt`), `${cls} sample number ${i}\n`);
    }
    // No manual refresh: the FileSystemWatcher (debounced) must bring it in.
    const node = await waitFor('the generated dataset to appear', 20_000, async () =>
      (await children(p)).find((n) => n.kind === 'dataset' && n.ref.root === root));
    const train = await byLabel(p, node, vscode.l10n.t('train'));
    const alpha = await byLabel(p, train, 'alpha');
    assert.equal(p.getTreeItem(alpha).description, '150');
    const kids = await children(p, alpha);
    assert.equal(kids.length, 101);
    const more = kids[100];
    assert.equal(more.kind, 'more');
    assert.equal(label(p, more), vscode.l10n.t('… {0} more', 50));
  });

  it('never shows an unlabeled/ folder (unlabelled texts) as a class', async () => {
    const root = path.join(wsRoot(), 'train-with-unlabeled');
    made.push(root);
    const write = (rel: string, text: string) => { fs.mkdirSync(path.dirname(path.join(root, rel)), { recursive: true }); fs.writeFileSync(path.join(root, rel), text); };
    for (const cls of ['alpha', 'beta']) for (let i = 0; i < 3; i++) write(`train/${cls}/${cls}-${i}.txt`, `${cls} sample ${i}\n`);
    write('train/unlabeled/u-0.txt', 'not labelled yet\n');
    write('train/Unlabelled/u-1.txt', 'not labelled either\n');
    p.refresh();
    const node = await waitFor('the dataset with unlabelled texts', 20_000, async () => (await children(p)).find((n) => n.kind === 'dataset' && n.ref.root === root));
    const train = await byLabel(p, node, vscode.l10n.t('train'));
    assert.deepEqual((await children(p, train)).map((c) => label(p, c)), ['alpha', 'beta']);
  });

  it('shows an image dataset: "images", counts per class, a thumbnail on hover, skipped images as warnings', async () => {
    const root = path.join(wsRoot(), 'images-shapes');
    made.push(root);
    const shapes = path.join(__dirname, '..', '..', '..', 'samples', 'shapes'); // out/test/extension → repo root
    fs.cpSync(shapes, root, { recursive: true });
    const empty = path.join(root, 'train', 'circle', 'zz-empty.png');
    fs.writeFileSync(empty, '');
    const notImage = path.join(root, 'train', 'circle', 'zz-notes.png');
    fs.writeFileSync(notImage, 'a note, not a picture\n');
    p.refresh();
    const node = await waitFor('the image dataset', 20_000, async () => (await children(p)).find((n) => n.kind === 'dataset' && n.ref.root === root));
    const item = p.getTreeItem(node);
    assert.equal(item.contextValue, 'dataset', 'right-click Train needs the dataset context value');
    assert.equal((item.iconPath as vscode.ThemeIcon).id, 'file-media');
    assert.match(String(item.description), new RegExp(`^${vscode.l10n.t('images')} · `));
    const splits = await children(p, node);
    assert.deepEqual(splits.map((s) => label(p, s)), [vscode.l10n.t('train'), vscode.l10n.t('test')]);
    const classes = await children(p, splits[0]);
    assert.deepEqual(classes.map((c) => label(p, c)), ['circle', 'square', 'star', 'triangle']);
    assert.deepEqual(classes.map((c) => p.getTreeItem(c).description), [vscode.l10n.t('{0} · {1} skipped', 12, 2), '12', '12', '12']);
    assert.deepEqual((await children(p, splits[1])).map((c) => p.getTreeItem(c).description), ['6', '6', '6', '6']);
    // the class with the bad files warns and names them; every class shows its first image
    const circle = p.getTreeItem(classes[0]);
    assert.equal((circle.iconPath as vscode.ThemeIcon).id, 'warning');
    const tip = (circle.tooltip as vscode.MarkdownString).value;
    assert.ok(tip.includes(vscode.l10n.t('{0} images skipped, {1} with warnings:', 2, 0)), tip);
    assert.ok(tip.includes(empty) && tip.includes(notImage), tip);
    assert.ok(tip.includes(`${vscode.Uri.file(path.join(root, 'train', 'circle', 'circle_01.png')).toString()}|width=96)`), tip);
    assert.notEqual((p.getTreeItem(classes[1]).iconPath as vscode.ThemeIcon).id, 'warning');
    // an image: size and format, a thumbnail tooltip, opens on click
    const files = await children(p, classes[1]);
    assert.equal(files.length, 12);
    const f = p.getTreeItem(files[0]);
    assert.match(String(f.description), /^PNG · \d+\.\d KB$/);
    const img = path.join(root, 'train', 'square', 'square_01.png');
    const fileTip = (f.tooltip as vscode.MarkdownString).value;
    assert.ok(fileTip.includes(`![square\\_01.png](${vscode.Uri.file(img).toString()}|width=160)`), fileTip);
    assert.equal((f.command?.arguments?.[0] as vscode.Uri).fsPath, img);
  });
});
