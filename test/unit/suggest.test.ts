/** What to label next: rankUnlabelled's methods, and `fewshot suggest` (human and --json output, bad input). */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { rankUnlabelled } from '../../src/core/labels';
import type { SuggestResult } from '../../src/protocol/labels';
import { buildChildBundles, rmrf, runCli, tempDir, type CliResult } from './helpers/trainerFixtures';

/** A unit 2-d vector at `deg` degrees. */
const at = (deg: number) => Float32Array.of(Math.cos((deg * Math.PI) / 180), Math.sin((deg * Math.PI) / 180));

describe('rankUnlabelled', () => {
  // three tight groups (around 0°, 90°, 180°) of 5 texts, and one outlier at 300°
  const x = [0, 2, 4, 6, 8, 90, 92, 94, 96, 98, 180, 182, 184, 186, 188, 300].map(at);
  const sure = [0.98, 0.01, 0.01];
  const unsure = [0.4, 0.35, 0.25];

  it('cluster (default): one text per group, the least sure of the typical ones; never the lone outlier first', () => {
    const probs = x.map((_, i) => ([3, 6, 12, 15].includes(i) ? unsure : sure));
    const r = rankUnlabelled(probs, x, [], 3);
    assert.equal(r.length, 3);
    const groups = r.map((p) => Math.floor(p.index / 5)).sort();
    assert.deepEqual(groups, [0, 1, 2], `one pick per group: ${JSON.stringify(r)}`);
    assert.deepEqual(r.map((p) => p.index).sort((a, b) => a - b), [3, 6, 12], 'the unsure text of each group');
    assert.deepEqual(r.map((p) => p.rank), [0, 1, 2]);
    assert.ok(r.every((p) => p.groupSize! >= 5 && Math.abs(p.margin - 0.05) < 1e-9));
  });

  it('cluster: within a group, away from the texts already labelled (novelty); without novelty the typical text', () => {
    const group = [0, 2, 4, 6, 8].map(at);
    const probs = group.map(() => unsure);
    assert.equal(rankUnlabelled(probs, group, [at(0)], 1)[0].index, 4, 'the 8° text, farthest from the labelled 0°');
    assert.equal(rankUnlabelled(probs, group, [at(0)], 1, { novelty: false })[0].index, 2, 'the 4° text, the centre');
  });

  it('cluster on a large pool (groups fitted on a sample, then every text assigned; novelty on the best candidates)', () => {
    const big = Array.from({ length: 3000 }, (_, i) => at((i % 3) * 120 + ((i * 7) % 11)));
    const labelled = Array.from({ length: 1500 }, (_, i) => at(((i * 13) % 11) + 120));
    const r = rankUnlabelled(big.map(() => unsure), big, labelled, 3);
    assert.deepEqual(r.map((p) => p.index % 3).sort(), [0, 1, 2], 'one pick per group');
    assert.deepEqual(r.map((p) => p.groupSize), [1000, 1000, 1000]);
  });

  it('is deterministic, and asks for no more than there are texts', () => {
    const probs = x.map(() => unsure);
    assert.deepEqual(rankUnlabelled(probs, x, [], 4), rankUnlabelled(probs, x, [], 4));
    assert.equal(rankUnlabelled(probs.slice(0, 2), x.slice(0, 2), [], 10).length, 2);
    assert.deepEqual(rankUnlabelled([], [], [], 5), []);
  });

  it('kcentre: the uncertain text farthest from the labelled ones first', () => {
    const probs = x.map((_, i) => (i === 0 || i === 10 ? unsure : sure));
    const r = rankUnlabelled(probs, x, [at(1)], 1, { method: 'kcentre', poolFactor: 2 });
    assert.equal(r[0].index, 10, 'the unsure text at 180° is far from the labelled one at 1°');
  });
});

describe('fewshot suggest', function () {
  this.timeout(120_000);
  let cli: string;
  let dir: string;
  const run = (args: string[]): Promise<CliResult> => runCli(cli, args, { cwd: dir });
  before(() => {
    cli = buildChildBundles().cli;
    dir = tempDir('cli-suggest');
    const write = (rel: string, text: string) => { fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true }); fs.writeFileSync(path.join(dir, rel), text); };
    const heart = ['chest pain on exertion', 'palpitations and fainting', 'high blood pressure reading', 'irregular heartbeat noted', 'heart murmur on exam', 'angina at rest'];
    const lung = ['persistent dry cough', 'shortness of breath climbing stairs', 'wheezing at night', 'asthma attack last week', 'sputum with blood', 'low oxygen saturation'];
    heart.forEach((t, i) => write(`notes/cardiology/c${i}.txt`, t));
    lung.forEach((t, i) => write(`notes/respiratory/r${i}.txt`, t));
    ['cough and chest pain together', 'heartbeat racing after a cough', 'wheezing and palpitations', 'blood pressure fine, cough gone'].forEach((t, i) => write(`notes/unlabeled/u${i}.txt`, t));
    write('rows.csv', `text,label\n${heart.map((t) => `${t},cardiology`).join('\n')}\n${lung.map((t) => `${t},respiratory`).join('\n')}\nwheezing with chest pain,\n`);
    write('labelled/cardiology/c.txt', heart[0]); write('labelled/cardiology/d.txt', heart[1]);
    write('labelled/respiratory/r.txt', lung[0]); write('labelled/respiratory/s.txt', lung[1]);
  });
  after(() => rmrf(dir));

  it('lists the top N of an unlabeled/ folder: rank, file, predicted (p), margin, text', async () => {
    const r = await run(['suggest', 'notes', '--n', '2', '--encoder', 'hashing']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^2 of 4 unlabelled texts to label next/m);
    const rows = r.stdout.split('\n').filter((l) => /^\d+\s+notes[/\\]unlabeled[/\\]u\d\.txt\s/.test(l));
    assert.equal(rows.length, 2, r.stdout);
    assert.match(rows[0], /^1\s+\S+\s+(cardiology|respiratory) \(0\.\d\d\)\s+\d\.\d\d\s+\S/);
  });

  it('--json prints a SuggestResult; a CSV row with an empty label is a suggestion with its line', async () => {
    const r = await run(['suggest', 'rows.csv', '--json', '--encoder', 'hashing']);
    assert.equal(r.code, 0, r.stderr);
    const s = JSON.parse(r.stdout) as SuggestResult;
    assert.equal(s.unlabeled, 1);
    assert.equal(s.suggestions.length, 1);
    const [one] = s.suggestions;
    assert.equal(one.line, 14);
    assert.equal(one.text, 'wheezing with chest pain');
    const p = Object.values(one.probabilities).sort((a, b) => b - a);
    assert.ok(Math.abs(one.margin - (p[0] - p[1])) < 1e-9 && one.probabilities[one.predicted] === p[0]);
    assert.equal(s.dataset, path.join(dir, 'rows.csv'));
  });

  it('bad input: no unlabelled texts says where to put them; --n 0 is a usage error', async () => {
    const none = await run(['suggest', 'labelled', '--encoder', 'hashing']);
    assert.equal(none.code, 1);
    assert.match(none.stderr, /^error: .*labelled has no unlabelled texts to suggest from\.$/m);
    assert.match(none.stderr, /^fix: Put unlabelled texts .* in .*labelled[/\\]unlabeled[/\\]/m);
    const zero = await run(['suggest', 'notes', '--n', '0']);
    assert.equal(zero.code, 2);
    assert.match(zero.stderr, /--n must be at least 1/);
  });
});
