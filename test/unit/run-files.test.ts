/**
 * One run store: only src/core/runs.ts (and the types in src/protocol) may name the files of a
 * run folder. Every other module reads and writes runs through RunStore and its helpers
 * (runFile, runFileExists, readModel, …), and messages name files with RUN_FILES / runFile.
 * The scan reads string literals and template text from the TypeScript syntax tree, so comments
 * may still mention run.json; a string that names a run file is a finding wherever it is.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { repoRoot } from './helpers/trainerFixtures';
import { RUN_FILES } from '../../src/core/runs';

// Loaded from the repository at run time (not bundled into out/).
const ts = createRequire(path.join(repoRoot, 'package.json'))('typescript') as typeof import('typescript');

/** Base names of the files of a run folder (the heartbeat's name is a plain word: left out). */
const NAMES = Object.entries(RUN_FILES).filter(([k]) => k !== 'heartbeat').map(([, f]) => path.basename(f));
const NAME_RE = new RegExp(`(^|[^\\w.])(${NAMES.map((n) => n.replace(/\./g, '\\.')).join('|')})(?![\\w.])`);

/** Modules allowed to name run files: the run store, and the run format's types. */
const ALLOWED = /^src\/(core\/runs\.ts$|protocol\/)/;

/** `file:line: "text"` for each string literal or template text of `code` that names a run file. */
function runFileStrings(file: string, code: string): string[] {
  const sf = ts.createSourceFile(file, code, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const out: string[] = [];
  const visit = (n: import('typescript').Node): void => {
    if (ts.isStringLiteralLike(n) || ts.isTemplateHead(n) || ts.isTemplateMiddle(n) || ts.isTemplateTail(n)) {
      if (NAME_RE.test(n.text)) out.push(`${file}:${sf.getLineAndCharacterOfPosition(n.getStart(sf)).line + 1}: ${JSON.stringify(n.text)}`);
    }
    ts.forEachChild(n, visit);
  };
  visit(sf);
  return out;
}

function tsFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? tsFiles(p) : e.name.endsWith('.ts') ? [p] : [];
  });
}

describe('one run store: run file names only in src/core/runs.ts', () => {
  it('the scan finds run file names in strings and templates, not in comments or longer names', () => {
    assert.deepEqual(NAMES.sort(), ['augment-preview', 'confusion.json', 'head.json', 'metrics.jsonl', 'oof.jsonl', 'predictions.jsonl', 'preview.json', 'report.json', 'report.txt', 'run.json']);
    const planted = [
      "const a = path.join(dir, 'run.json');",
      'const b = `${dir}/model/head.json`;',
      'const c = `${dir} has no metrics.jsonl yet (${n})`;',
      'const d = "see report.txt";',
      "const e = [dir, 'predictions.jsonl'];",
      "const f = { file: 'confusion.json' };",
      "const g = 'report.json';",
    ].join('\n');
    assert.deepEqual(runFileStrings('planted.ts', planted).map((s) => s.split(':')[1]), ['1', '2', '3', '4', '5', '6', '7']);
    const clean = [
      '// reads run.json and metrics.jsonl through the store',
      '/** model/head.json */',
      "const a = runFile(dir, 'record');",
      "const b = 'my-run.json5';",
      "const c = 'report.jsonl';",
      'const d = `${RUN_FILES.report} is missing`;',
    ].join('\n');
    assert.deepEqual(runFileStrings('clean.ts', clean), []);
  });

  it('no module under src/ but the run store and the protocol types names a run file', () => {
    const found = tsFiles(path.join(repoRoot, 'src'))
      .map((f) => path.relative(repoRoot, f).split(path.sep).join('/'))
      .filter((rel) => !ALLOWED.test(rel))
      .flatMap((rel) => runFileStrings(rel, fs.readFileSync(path.join(repoRoot, rel), 'utf8')));
    assert.deepEqual(found, [], 'read and write run folders through src/core/runs.ts (RunStore, runFile, RUN_FILES):\n' + found.join('\n'));
  });
});
