/**
 * Training settings: `fewshot.train.*` defaults, per-dataset "last used"
 * choices (workspaceState) and the "Train with Options…" quick-input flow.
 */
import * as vscode from 'vscode';
import * as path from 'node:path';
import { HEAD_SETTINGS, type TrainConfig } from '../../protocol/run';
import { DEFAULT_CONFIG, validateConfig } from '../../core/config';

export type TrainOverrides = Partial<Omit<TrainConfig, 'dataset'>>;

const LAST_KEY = 'fewshot.train.lastOptions';

/** Settings (scoped to the dataset's folder) merged over the engine defaults, then `overrides`. */
export function configFromSettings(dataset: string, overrides: TrainOverrides = {}): TrainConfig {
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
    passages: s.get<boolean>('passages'),
    classNames: s.get<boolean>('classNames'),
    classWeighting: s.get<boolean>('classWeighting'),
    patience: s.get<number>('patience'),
    backend: s.get<string>('backend'),
  };
  const merged = { ...DEFAULT_CONFIG, ...dropUndefined(fromSettings), ...dropUndefined(overrides), dataset } as TrainConfig;
  validateConfig(merged, vscode.l10n.t('the fewshot.train settings'));
  return merged;
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
export const ASKED_SETTINGS = ['epochs', 'learningRate', 'batchSize', 'augment', 'passages', 'classNames'] as const;

/** The settings Train with Options asks for with `head` (besides head, encoder and seed, which every head uses). */
export function askedSettings(head: TrainConfig['head']): (typeof ASKED_SETTINGS)[number][] {
  return ASKED_SETTINGS.filter((k) => HEAD_SETTINGS[head].includes(k));
}

/**
 * Ask for the head first, then the encoder, then only the settings that head
 * uses (HEAD_SETTINGS: no epochs, learning rate or batch size for the few-shot
 * ensemble), then the seed. Starts from the last choices for this dataset (else
 * the settings). Returns undefined when the user pressed Escape.
 */
export async function askTrainOptions(memento: vscode.Memento, dataset: string): Promise<TrainOverrides | undefined> {
  const base = configFromSettings(dataset, lastOptions(memento, dataset) ?? {});
  const name = path.basename(dataset);
  let steps = 3 + askedSettings(base.head).length;
  const title = (i: number) => vscode.l10n.t('Train {0} with options ({1}/{2})', name, i, steps);
  const lastTag = vscode.l10n.t('last used');

  const pick = async <T>(i: number, placeHolder: string, items: PickItem<T>[], current: T): Promise<T | undefined> => {
    for (const it of items) if (it.value === current) it.description = it.description ? `${it.description} · ${lastTag}` : lastTag;
    const qp = vscode.window.createQuickPick<PickItem<T>>();
    qp.title = title(i);
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
  };
  const num = async (i: number, prompt: string, current: number, check: (n: number) => string | undefined): Promise<number | undefined> => {
    const v = await vscode.window.showInputBox({
      title: title(i), prompt, value: String(current), ignoreFocusOut: true,
      validateInput: (s) => {
        const n = Number(s.trim());
        if (!s.trim() || !Number.isFinite(n)) return vscode.l10n.t('Enter a number.');
        return check(n);
      },
    });
    return v === undefined ? undefined : Number(v.trim());
  };
  const int = (min: number, max: number) => (n: number) =>
    Number.isInteger(n) && n >= min && n <= max ? undefined : vscode.l10n.t('Enter a whole number from {0} to {1}.', min, max);
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
  const asked = askedSettings(head);
  steps = 3 + asked.length;

  const encoders: PickItem<string>[] = [
    { label: 'auto', value: 'auto', detail: vscode.l10n.t('A cached Hugging Face model if configured, else the best offline built-in for the language') },
    { label: 'hashing', value: 'hashing', detail: vscode.l10n.t('Character n-gram hashing: fast, offline, any language (Chinese included)') },
    { label: 'use', value: 'use', detail: vscode.l10n.t('Universal Sentence Encoder lite: offline, English only') },
    { label: 'combo:use+hashing', value: 'combo:use+hashing', detail: vscode.l10n.t('Both, concatenated') },
    { label: vscode.l10n.t('Hugging Face model…'), value: 'hf:', detail: vscode.l10n.t('hf:<model id or local folder>') },
  ];
  if (!encoders.some((e) => e.value === base.encoder)) encoders.unshift({ label: base.encoder, value: base.encoder });
  let encoder = await pick(2, vscode.l10n.t('Encoder (turns texts into vectors)'), encoders, base.encoder);
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
    let v: number | boolean | undefined;
    switch (key) {
      case 'epochs': v = await num(i, vscode.l10n.t('Maximum number of epochs'), base.epochs, int(1, 1000)); break;
      case 'learningRate': v = await num(i, vscode.l10n.t('Learning rate (Adam)'), base.learningRate, (n) => (n > 0 && n <= 10 ? undefined : vscode.l10n.t('Enter a number above 0 and at most 10.'))); break;
      case 'batchSize': v = await num(i, vscode.l10n.t('Mini-batch size'), base.batchSize, int(1, 65536)); break;
      case 'augment':
        v = await pick<number>(i, vscode.l10n.t('Augmentation: synonym variants per training text'), [0, 1, 2, 3, 5, 10].map((n) => ({
          label: String(n), value: n, detail: n === 0 ? vscode.l10n.t('Off') : undefined,
        })), base.augment);
        break;
      case 'passages': v = await onOff(i, vscode.l10n.t('Also train on passages of long texts (800+ characters)'), base.passages ?? true); break;
      case 'classNames': v = await onOff(i, vscode.l10n.t('Use each class name as a prior example'), base.classNames ?? true); break;
    }
    if (v === undefined) return undefined;
    (chosen as Record<string, unknown>)[key] = v;
    i++;
  }
  const seed = await num(i, vscode.l10n.t('Random seed (the same seed gives the same run)'), base.seed, int(0, 0xffffffff));
  if (seed === undefined) return undefined;
  chosen.seed = seed;
  await rememberOptions(memento, dataset, chosen);
  return chosen;
}
