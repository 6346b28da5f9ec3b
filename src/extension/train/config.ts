/**
 * Training settings: `fewshot.train.*` defaults, per-dataset "last used"
 * choices (workspaceState) and the "Train with Options…" quick-input flow.
 */
import * as vscode from 'vscode';
import * as path from 'node:path';
import type { TrainConfig } from '../../protocol/run';
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

/**
 * Ask for encoder, head, epochs, learning rate, batch size, augmentation and
 * seed. Starts from the last choices for this dataset (else the settings).
 * Returns undefined when the user pressed Escape.
 */
export async function askTrainOptions(memento: vscode.Memento, dataset: string): Promise<TrainOverrides | undefined> {
  const base = configFromSettings(dataset, lastOptions(memento, dataset) ?? {});
  const name = path.basename(dataset);
  const steps = 7;
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

  const encoders: PickItem<string>[] = [
    { label: 'auto', value: 'auto', detail: vscode.l10n.t('A cached Hugging Face model if configured, else the best offline built-in for the language') },
    { label: 'hashing', value: 'hashing', detail: vscode.l10n.t('Character n-gram hashing: fast, offline, any language (Chinese included)') },
    { label: 'use', value: 'use', detail: vscode.l10n.t('Universal Sentence Encoder lite: offline, English only') },
    { label: 'combo:use+hashing', value: 'combo:use+hashing', detail: vscode.l10n.t('Both, concatenated') },
    { label: vscode.l10n.t('Hugging Face model…'), value: 'hf:', detail: vscode.l10n.t('hf:<model id or local folder>') },
  ];
  if (!encoders.some((e) => e.value === base.encoder)) encoders.unshift({ label: base.encoder, value: base.encoder });
  let encoder = await pick(1, vscode.l10n.t('Encoder (turns texts into vectors)'), encoders, base.encoder);
  if (encoder === undefined) return undefined;
  if (encoder === 'hf:') {
    const id = await vscode.window.showInputBox({
      title: title(1), prompt: vscode.l10n.t('Hugging Face model id or local folder'), ignoreFocusOut: true,
      value: base.encoder.startsWith('hf:') ? base.encoder.slice(3) : '',
      validateInput: (s) => (s.trim() ? undefined : vscode.l10n.t('Enter a model id such as Xenova/all-MiniLM-L6-v2, or a folder.')),
    });
    if (id === undefined) return undefined;
    encoder = `hf:${id.trim()}`;
  }
  const head = await pick<TrainConfig['head']>(2, vscode.l10n.t('Classifier head'), [
    { label: 'auto', value: 'auto', detail: vscode.l10n.t('Centroid for tiny classes, else logistic regression') },
    { label: 'logreg', value: 'logreg', detail: vscode.l10n.t('Softmax logistic regression') },
    { label: 'mlp', value: 'mlp', detail: vscode.l10n.t('One hidden layer') },
    { label: 'centroid', value: 'centroid', detail: vscode.l10n.t('Nearest centroid (no training)') },
  ], base.head);
  if (head === undefined) return undefined;
  const epochs = await num(3, vscode.l10n.t('Maximum number of epochs'), base.epochs, int(1, 1000));
  if (epochs === undefined) return undefined;
  const learningRate = await num(4, vscode.l10n.t('Learning rate (Adam)'), base.learningRate, (n) => (n > 0 && n <= 10 ? undefined : vscode.l10n.t('Enter a number above 0 and at most 10.')));
  if (learningRate === undefined) return undefined;
  const batchSize = await num(5, vscode.l10n.t('Mini-batch size'), base.batchSize, int(1, 65536));
  if (batchSize === undefined) return undefined;
  const augment = await pick<number>(6, vscode.l10n.t('Augmentation: synonym variants per training text'), [0, 1, 2, 3, 5, 10].map((n) => ({
    label: String(n), value: n, detail: n === 0 ? vscode.l10n.t('Off') : undefined,
  })), base.augment);
  if (augment === undefined) return undefined;
  const seed = await num(7, vscode.l10n.t('Random seed (the same seed gives the same run)'), base.seed, int(0, 0xffffffff));
  if (seed === undefined) return undefined;
  const chosen: TrainOverrides = { encoder, head, epochs, learningRate, batchSize, augment, seed };
  await rememberOptions(memento, dataset, chosen);
  return chosen;
}
