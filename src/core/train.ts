/**
 * The training pipeline, shared by the trainer child (src/trainer/main.ts) and
 * the CLI: dataset → encoder (+ embedding cache) → head → metrics → run store.
 *
 * Honesty rules:
 *  - the test split is never used for model selection: the best epoch is chosen
 *    on a stratified validation hold-out of the TRAINING split, or by k-fold
 *    cross-validation over the training split when classes are tiny;
 *  - augmentation only ever touches training texts (never validation or test);
 *  - every file of a run is written atomically, so the run folder is always readable.
 *
 * `runTraining` resolves with the final RunRecord for completed, failed and
 * cancelled runs (see `record.status`); it rejects only when no run could be
 * created (invalid settings, unwritable store), after emitting an 'error' event.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { TrainRequest, TrainerToParent, TrainPhase } from '../protocol/trainer';
import type {
  Algorithm, BackendInfo, ClassificationReport, DataProblem, DatasetInfo, EncoderInfo, EpochMetrics, HeadKind, ModelFile,
  ProgressUnit, RunRecord, TestPrediction, TrainConfig,
} from '../protocol/run';
import { DEFAULT_CONFIG as CONFIG_DEFAULTS, recallTargetClassProblem, resolveConfig, resolveHead } from './config';
import { FewShotError, errorMessage, isFewShotError } from './errors';
import { IssueCodes, loadDataset, type Dataset, type Sample } from './datasets';
import { isImageDataset, loadImageDataset, type ImageDataset, type ImageSample } from './images/dataset';
import { imageModel } from './images/encoder';
import { augmentSeed, embedImageDataset } from './images/stage';
import { augmentImage, DEFAULT_AFFINE, thumbnailPng } from './images/augment';
import { createEncoder, withEmbeddingCache, type Encoder } from './encoders';
import { predictProba, selectBackend, trainHead } from './heads';
import { augmentTexts, classNameText, EXTRA_ROW_WEIGHT, PASSAGE_MAX_TRAIN_TEXTS, splitPassages } from './augment';
import { fitFewShot, type Row } from './fewshot';
import { denseOf, rowDim } from './fewshot/rows';
import { argmax, classificationReport, formatReport } from './metrics';
import { fitFinetune, FINETUNED_DIR } from './finetune/fit';
import { cnnName, imageFinetuneConfig, imageJobPart } from './finetune/images';
import { fitSetFit, resolveSetFitBody, SETFIT_BODY_DIR, type SetFitFit } from './finetune/setfit';
import { loadPredictor } from './predict';
import { RUN_FORMAT_VERSION } from '../protocol/run';
import { RUN_FILES, RunStore } from './runs';
import { abortError } from './util/async';
import { seededRandom, shuffleInPlace } from './util/rng';
import { UNCERTAIN_LABEL, type DecisionRule, type TrainPrediction } from '../protocol/labels';
import { chooseThresholds, decideIndex } from './labels/thresholds';
import { formatRecallTargets, recallTargetRows, unmetTargetMessages } from './labels/recall';

export type TrainEvent = TrainerToParent;
export const DEFAULT_CONFIG = CONFIG_DEFAULTS;

export interface RunTrainingOptions {
  onEvent(e: TrainEvent): void;
  signal?: AbortSignal;
}

/** Classes smaller than this (per class, in the training split) can't give a useful hold-out: use k-fold CV instead. */
const MIN_VAL_PER_CLASS = 2;
const MAX_FOLDS = 5;

function throwIfAborted(signal?: AbortSignal): void {
  if (signal?.aborted) throw abortError();
}

export async function runTraining(req: TrainRequest, opts: RunTrainingOptions): Promise<RunRecord> {
  const t0 = Date.now();
  const { signal } = opts;
  const emit = (e: TrainEvent): void => {
    try { opts.onEvent(e); } catch { /* a broken listener must not break training */ }
  };
  const log = (message: string, level: 'info' | 'warn' | 'error' = 'info'): void => emit({ type: 'log', level, message });

  let config: TrainConfig;
  let store: RunStore;
  let runId: string;
  let runDir: string;
  try {
    config = resolveConfig(req.config);
    store = new RunStore(req.storeDir);
    const created = await store.create(config, req.runId);
    runId = created.id;
    runDir = created.dir;
  } catch (e) {
    emit(errorEvent(e));
    throw e;
  }

  // owner + heartbeat: readers show the run as 'interrupted' if this process dies
  const claim = await store.claim(runId);
  const warnings: string[] = [];
  const warn = (m: string): void => { warnings.push(m); log(m, 'warn'); };
  const timings: RunRecord['timings'] = {};
  let record = await store.update(runId, { status: 'running', versions: libraryVersions(), timings });
  emit({ type: 'started', runId, runDir, record });
  const progress = (phase: TrainPhase, done: number, total: number, message?: string): void =>
    emit({ type: 'progress', phase, done, total, message });

  let encoder: Encoder | undefined;
  let epochsSeen = 0;
  /** The save stage, shared by every fit stage: model, predictions, report, out-of-fold rows, the final record. */
  const finish = async (r: StageResult): Promise<RunRecord> => {
    const { outcome, report, predictions, oof } = r;
    const decisionText = r.decisionText + (report && r.notApplied ? r.notApplied : '');
    progress('save', 0, 1, 'Saving model and report');
    await store.saveResults(runId, {
      model: outcome.model, predictions, report, oof,
      reportText: report ? problemBanner(r.dataProblems) + r.reportNote + '\n' + report.text + (report.text.endsWith('\n') ? '' : '\n') + (decisionText ? '\n' + decisionText : '') : undefined,
    });
    timings.totalMs = Date.now() - t0;
    record = await store.update(runId, {
      status: 'completed',
      finishedAt: new Date().toISOString(),
      timings,
      ...(outcome.bestEpoch !== undefined ? { bestEpoch: outcome.bestEpoch, epochsRun: outcome.epochsRun } : {}),
      bestValMacroF1: outcome.bestValMacroF1 ?? undefined,
      testMacroF1: report ? report.macro.f1 : undefined,
      testAccuracy: report ? report.accuracy : undefined,
      warnings: warnings.length ? warnings : undefined,
    });
    progress('save', 1, 1);
    emit({ type: 'done', runId, runDir, record, report });
    return record;
  };
  try {
    // ---------------------------------------------------------------- images: their own load and embedding stage
    if (await isImageDataset(config.dataset)) {
      return await finish(await imageStages(config, req, {
        signal, log, warn, progress, timings, runDir,
        update: async (patch) => { record = await store.update(runId, patch); },
        saveAugmented: async (preview) => { await store.saveAugmented(runId, preview); },
        writeModel: (model) => store.writeModel(runId, model),
        onEpoch: async (m, total) => {
          epochsSeen++;
          if (timings.firstEpochMs === undefined) timings.firstEpochMs = Date.now() - t0;
          await store.appendEpoch(runId, m);
          emit({ type: 'epoch', runId, metrics: m, totalEpochs: total, unit: m.unit ?? 'epoch' });
        },
      }));
    }
    // ---------------------------------------------------------------- load
    progress('load', 0, 1, `Loading ${config.dataset}`);
    const tLoad = Date.now();
    const dataset = await loadDataset(config.dataset, { textColumn: config.textColumn, labelColumn: config.labelColumn, seed: config.seed });
    timings.loadMs = Date.now() - tLoad;
    throwIfAborted(signal);
    const labels = dataset.labels;
    const labelIndex = new Map(labels.map((l, i) => [l, i] as const));
    if (labels.length < 2) {
      throw new FewShotError(`The dataset ${dataset.root} has ${labels.length} label(s); a classifier needs at least 2.`, {
        file: dataset.root, fix: 'Add examples of at least two labels (one folder per label, or a label column).', code: 'too-few-labels',
      });
    }
    if (!dataset.train.length) {
      throw new FewShotError(`The dataset ${dataset.root} has no training examples.`, { file: dataset.root, fix: 'Add training examples.', code: 'no-train' });
    }
    const targetProblem = recallTargetClassProblem(config.minRecall, labels, dataset.root);
    if (targetProblem) {
      throw new FewShotError(targetProblem.charAt(0).toUpperCase() + targetProblem.slice(1), {
        file: dataset.root, fix: `Use the class names of the dataset (${labels.join(', ')}), or remove the target.`, code: 'config-invalid',
      });
    }
    if (config.abstain !== undefined && labels.includes(UNCERTAIN_LABEL)) {
      throw new FewShotError(`The dataset ${dataset.root} has a class named "${UNCERTAIN_LABEL}", which is what an abstaining model returns.`, {
        file: dataset.root, fix: `Rename the class "${UNCERTAIN_LABEL}", or turn the abstain threshold off.`, code: 'config-invalid',
      });
    }
    if (imageModel(config.encoder)) {
      throw new FewShotError(`The encoder "${config.encoder}" is an image encoder, but ${dataset.root} holds texts.`, {
        file: dataset.root, code: 'config-invalid', fix: 'Use a text encoder (e.g. "auto") for text datasets.',
      });
    }
    const datasetInfo = describeDataset(dataset);
    for (const issue of dataset.issues ?? []) if (issue.severity === 'warning') warn(`${issue.message}${issue.file ? ` (${issue.file})` : ''}`);
    const dataProblems = findDataProblems(dataset);
    for (const p of dataProblems) warn(`Data problem: ${p.message}`);
    record = await store.update(runId, { dataset: datasetInfo, timings, ...(dataProblems.length ? { dataProblems } : {}) });
    const cols = dataset.columns ? `; text column "${dataset.columns.text}", label column "${dataset.columns.label}"` : '';
    if (cols) log(`Columns read from ${dataset.root}:${cols.slice(1)}`); // the Output log says it too, every time
    progress('load', 1, 1, `${dataset.train.length} training and ${dataset.test.length} test examples, ${labels.length} labels${cols}`);

    let outcome: { model: ModelFile; bestEpoch?: number; epochsRun?: number; bestValMacroF1: number | null };
    let report: ClassificationReport | null = null;
    let predictions: TestPrediction[] = [];
    let reportNote = '';
    let oof: TrainPrediction[] | undefined;
    /** The recall-target block of report.txt (after the scikit-learn table), and why targets were not applied. */
    let decisionText = '';
    let notApplied = '';
    if (config.method === 'finetune') {
      // no encoder or embedding stage: the worker fine-tunes the whole transformer
      const ft = await finetuneStages(dataset, config, req, runDir, {
        signal, log, warn, progress,
        update: async (patch) => { record = await store.update(runId, patch); },
        writeModel: (model) => store.writeModel(runId, model),
        onEpoch: async (m, total) => {
          epochsSeen++;
          if (timings.firstEpochMs === undefined) timings.firstEpochMs = Date.now() - t0;
          await store.appendEpoch(runId, m);
          emit({ type: 'epoch', runId, metrics: m, totalEpochs: total, unit: 'epoch' });
        },
        timings,
      });
      ({ outcome, report, predictions, reportNote, decisionText } = ft);
    } else {
      // ---------------------------------------------------------------- method setfit: the body first
      // The worker trains the sentence-transformer body on pairs and exports it to the run folder; the
      // rest of this branch (embed → few-shot head → evaluate) then runs on that body, in Node.
      let encoderSpec = config.encoder;
      let setfit: SetFitFit | undefined;
      let setfitMs = 0;
      if (config.method === 'setfit') {
        const tSetfit = Date.now();
        setfit = await setfitStage(dataset, config, req, runDir, {
          signal, log,
          update: async (patch) => { record = await store.update(runId, patch); },
          onPoint: async (m, total) => {
            if (timings.firstEpochMs === undefined) timings.firstEpochMs = Date.now() - t0;
            await store.appendEpoch(runId, m);
            emit({ type: 'epoch', runId, metrics: m, totalEpochs: total, unit: 'pair-step' });
          },
          progress,
        });
        const body = `hf:${path.resolve(setfit.bodyDir)}`;
        encoderSpec = config.setfit?.ngrams ? `combo:${body}+hashing` : body;
        setfitMs = Date.now() - tSetfit;
        throwIfAborted(signal);
      }

      // ---------------------------------------------------------------- compute backend
      // Only when TensorFlow.js runs: a tfjs head (logreg/mlp chosen explicitly: chosen now), or USE-lite
      // loading its model (chosen just before it loads, so that it runs on it too: wasm embeds several times faster
      // than tfjs' default 'cpu' backend; with every USE-lite row in the embedding cache it never loads, and no
      // backend is chosen or recorded). Head auto and centroid are plain JS.
      let backend: BackendInfo | undefined;
      let choosing: Promise<void> | undefined;
      const chooseBackend = (): Promise<void> => (choosing ??= (async () => {
        const tBackend = Date.now();
        backend = await selectBackend(config.backend);
        log(`Compute backend (TensorFlow.js): ${backend.name} (${Date.now() - tBackend} ms)${backend.skipped.length ? `; skipped: ${backend.skipped.map((s) => `${s.name}: ${s.reason}`).join('; ')}` : ''}`);
        throwIfAborted(signal);
      })());
      if (config.head === 'logreg' || config.head === 'mlp') await chooseBackend();

      // ---------------------------------------------------------------- encoder
      const tEmbed = Date.now();
      const created = await createEncoder(encoderSpec, {
        hf: setfit ? { ...req.hf, dtype: undefined } : req.hf, language: dataset.language, log: (m) => log(m), maxChars: config.maxChars,
        beforeTfjsLoad: chooseBackend,
      });
      const info: EncoderInfo = created.info;
      if (setfit) {
        // the body is this run's own: nothing to reuse from the embedding cache
        for (const part of created.encoder.parts?.map((p) => p.encoder) ?? [created.encoder]) if (part.id.startsWith('hf:')) part.cacheable = false;
        info.requested = config.setfit?.ngrams ? 'setfit body + hashing' : 'setfit body';
        info.reason = `method setfit: ${setfit.started.model.name} trained on ${setfit.done.pairs} contrastive pairs (setfit), exported to ${SETFIT_BODY_DIR}${config.setfit?.ngrams ? ', with the n-gram hashing block next to it' : ''}; predictions run its ONNX export in Node`;
      }
      const cached = withEmbeddingCache(created.encoder, path.join(req.storeDir, 'cache', 'embeddings'));
      encoder = cached;
      log(`Encoder ${info.id} (${info.dim}-d): ${info.reason}`);
      record = await store.update(runId, { encoder: info });
      throwIfAborted(signal);

      const yTrainAll = dataset.train.map((s) => labelIndex.get(s.label)!);

      // ---------------------------------------------------------------- augmentation (training texts only)
      let augmented: string[][] = dataset.train.map(() => []);
      if (config.augment > 0) {
        progress('embed', 0, 1, `Augmenting training texts (${config.augment} per text)`);
        augmented = await augmentTexts(dataset.train.map((s) => s.text), config.augment, { language: dataset.language, seed: config.seed });
        const n = augmented.reduce((a, v) => a + v.length, 0);
        log(`Augmentation: ${n} extra training texts`);
        throwIfAborted(signal);
      }

      // ------------------------------------------- few-shot recipe: passages and class names as extra rows
      const counts = labels.map((l) => dataset.train.filter((s) => s.label === l).length);
      const headChoice = resolveHead(config.head, counts);
      const recipe = config.head === 'auto' && headChoice.head === 'logreg';
      const passagesOn = recipe && config.passages !== false && dataset.train.length <= PASSAGE_MAX_TRAIN_TEXTS;
      const passages: string[][] = dataset.train.map((s) => (passagesOn ? splitPassages(s.text) : []));
      const priorTexts: { text: string; y: number }[] = [];
      if (recipe && config.classNames !== false) {
        labels.forEach((l, c) => { const t = classNameText(l, dataset.language); if (t) priorTexts.push({ text: t, y: c }); });
      }
      if (recipe) {
        const nP = passages.reduce((a, v) => a + v.length, 0);
        if (passagesOn) log(`Passages: ${nP} extra training rows from ${passages.filter((v) => v.length).length} training texts of 800+ characters`);
        else if (config.passages !== false) log(`Passages: off (${dataset.train.length} training texts, more than ${PASSAGE_MAX_TRAIN_TEXTS}: passages help with few examples and would multiply the fitting time here)`);
        if (config.classNames !== false) log(`Class names as prior examples: ${priorTexts.length ? priorTexts.map((p) => JSON.stringify(p.text)).join(', ') : 'none (the labels are codes or in another script)'}`);
      }

      // ---------------------------------------------------------------- embed
      const texts: string[] = [];
      const slot = new Map<string, number>();
      const idOf = (t: string): number => {
        let i = slot.get(t);
        if (i === undefined) { i = texts.length; texts.push(t); slot.set(t, i); }
        return i;
      };
      const trainIds = dataset.train.map((s) => idOf(s.text));
      const augIds = augmented.map((a) => a.map(idOf));
      const passageIds = passages.map((a) => a.map(idOf));
      const priorIds = priorTexts.map((p) => idOf(p.text));
      const testIds = dataset.test.map((s) => idOf(s.text));
      let lastProgress = 0;
      progress('embed', 0, texts.length, `Embedding ${texts.length} texts with ${info.id}`);
      const onEmbed = (done: number, total: number) => {
        if (signal?.aborted) throw abortError();
        const now = Date.now();
        if (done === total || now - lastProgress > 150) {
          lastProgress = now;
          progress('embed', done, total);
        }
      };
      // the few-shot recipe takes the feature-hashing encoders' sparse rows (bounded memory at 100,000 texts)
      const vectors: Row[] = recipe && cached.embedSparse ? await embedSparseInChunks(cached, texts, onEmbed) : await cached.embed(texts, onEmbed);
      throwIfAborted(signal);
      const badRow = vectors.length !== texts.length ? vectors.length : vectors.findIndex((v) => !v || rowDim(v) !== cached.dim);
      if (badRow >= 0) {
        throw new Error(`The encoder ${info.id} returned ${vectors.length} vectors for ${texts.length} texts (row ${badRow} is missing or not ${cached.dim}-d).`);
      }
      timings.embedMs = Date.now() - tEmbed;
      timings.cachedEmbeddings = cached.stats.hits;
      timings.computedEmbeddings = cached.stats.misses;
      progress('embed', texts.length, texts.length, `${cached.stats.hits} cached, ${cached.stats.misses} computed`);
      const xTrain = trainIds.map((i) => vectors[i]);
      const xAug = augIds.map((a) => a.map((i) => vectors[i]));
      // extra rows of the few-shot recipe (final fit only, never in its cross-validation)
      const extra = { x: [] as Row[], y: [] as number[], w: [] as number[] };
      passageIds.forEach((ids, i) => ids.forEach((id) => { extra.x.push(vectors[id]); extra.y.push(yTrainAll[i]); extra.w.push(EXTRA_ROW_WEIGHT); }));
      priorIds.forEach((id, j) => { extra.x.push(vectors[id]); extra.y.push(priorTexts[j].y); extra.w.push(EXTRA_ROW_WEIGHT); });
      const xTest = testIds.map((i) => vectors[i]);

      // ---------------------------------------------------------------- head
      log(headChoice.reason);
      // the tfjs backend is recorded only when TensorFlow.js ran the head or the encoder
      const tfjsHead = recipe ? false : headChoice.head !== 'centroid';
      const tfjsEncoder = /(^|[+:])use-lite/.test(info.id);
      record = await store.update(runId, { head: headChoice.head, ...(backend && (tfjsHead || tfjsEncoder) ? { backend } : {}) });

      const tTrain = Date.now();
      let plan: NonNullable<RunRecord['progress']> | undefined;
      const fitted = await fitWithSelection(xTrain, xAug, yTrainAll, labels, config, headChoice.head, {
        signal,
        warn,
        log,
        progress,
        encoderId: info.id,
        extra,
        onPlan: async (algorithm, p) => {
          plan = p;
          log(`Head: ${algorithm}; progress points: ${p.total} × ${p.unit}; validation: ${p.validation}`);
          record = await store.update(runId, { algorithm: setfit ? 'setfit-contrastive' : algorithm, progress: p });
        },
        onEpoch: async (m) => {
          epochsSeen++;
          if (timings.firstEpochMs === undefined) timings.firstEpochMs = Date.now() - t0;
          await store.appendEpoch(runId, m);
          emit({ type: 'epoch', runId, metrics: m, totalEpochs: plan?.total ?? config.epochs, unit: m.unit ?? 'epoch' });
        },
      });
      throwIfAborted(signal);
      // method setfit: the body's training (worker start to export) counts as training time too
      timings.trainMs = Date.now() - tTrain + setfitMs;
      // out-of-fold predictions of the training split (head auto): oof.jsonl, and the recall targets' thresholds.
      // Not after SetFit: its body was trained on every training text, so they would not be out-of-fold.
      if (setfit) delete fitted.oof;
      let decision: DecisionRule | undefined;
      ({ oof, decision, notApplied } = oofAndDecision(fitted, dataset.train, yTrainAll, labels, headChoice, config, warn));
      const model: ModelFile = {
        ...fitted.model, labels, encoder: info, head: headChoice.head, maxChars: cached.maxChars,
        ...(setfit ? { body: { path: SETFIT_BODY_DIR, ref: path.resolve(setfit.bodyDir) } } : {}),
        ...(decision ? { decision } : {}),
      };
      if (setfit) fitted.algorithm = 'setfit-contrastive';
      outcome = { model, bestEpoch: fitted.bestEpoch, epochsRun: fitted.epochsRun, bestValMacroF1: fitted.bestValMacroF1 };

      // ---------------------------------------------------------------- evaluate
      const tEval = Date.now();
      if (dataset.test.length) {
        progress('evaluate', 0, dataset.test.length, `Evaluating on ${dataset.test.length} test examples`);
        const proba = await predictRows(model, xTest, signal);
        predictions = dataset.test.map((s, i) => toPrediction(s, i, proba[i], labels, decision));
        ({ report, decisionText } = decidedReport(predictions, proba.map((p) => argmax(p)), labels, 'test', decision));
        reportNote = `Split: test (${dataset.test.length} examples; source: ${dataset.testSource === 'given' ? 'the dataset\'s own test split' : dataset.testSource}).\n`
          + `The test split was never used for model selection: ${fitted.selection}.\n`
          + `Algorithm: ${fitted.algorithm}. Progress points: ${fitted.progress.total} × ${fitted.progress.unit}; validation: ${fitted.progress.validation}.\n`
          + (setfit ? `SetFit body: ${setfit.started.model.name}, ${setfit.done.pairSteps} contrastive pair steps on ${setfit.done.pairs} pairs of training texts (${setfit.iterations} iteration(s)), then the head above on its ONNX export.\n` : '');
        progress('evaluate', dataset.test.length, dataset.test.length);
      } else if (dataset.testSource === 'cross-validation') {
        if (setfit) warn('Cross-validation after SetFit is optimistic: the body was trained on pairs of every training text, including each fold\'s held-out part. Add a test split for an honest score.');
        const cv = await crossValidate(xTrain, xAug, yTrainAll, dataset.train, labels, config, headChoice.head, { signal, warn, progress, encoderId: info.id }, decision);
        if (cv) {
          predictions = cv.predictions;
          ({ report, decisionText } = decidedReport(predictions, cv.argmax, labels, 'cross-validation', decision));
          reportNote = `Split: cross-validation (${cv.k}-fold, stratified, over all ${dataset.train.length} examples; the dataset has no test split).\n`
            + 'Each example was predicted by a model that never saw it; model selection inside each fold used only that fold\'s training part.\n'
            + `Indices in ${RUN_FILES.predictions} refer to the training examples.\n`
            + `Algorithm: ${fitted.algorithm}. Progress points: ${fitted.progress.total} × ${fitted.progress.unit}; validation: ${fitted.progress.validation}.\n`;
        }
      } else {
        warn(`The dataset ${dataset.root} has no test split, so no test metrics were computed. Add a test split (e.g. a test/ folder) to measure the model.`);
      }
      throwIfAborted(signal);
      timings.evalMs = Date.now() - tEval;
    }

    // ---------------------------------------------------------------- save
    return await finish({ outcome, report, predictions, reportNote, oof, decisionText, notApplied, dataProblems });
  } catch (e) {
    timings.totalMs = Date.now() - t0;
    const cancelled = signal?.aborted || (e instanceof Error && e.name === 'AbortError');
    if (cancelled) {
      record = await safeUpdate(store, runId, record, {
        status: 'cancelled', finishedAt: new Date().toISOString(), timings, ...(epochsRun(record, epochsSeen)),
        warnings: warnings.length ? warnings : undefined,
      });
      emit({ type: 'cancelled', runId, runDir });
      return record;
    }
    const ev = errorEvent(e, runId, runDir);
    record = await safeUpdate(store, runId, record, {
      status: 'failed', finishedAt: new Date().toISOString(), timings, ...(epochsRun(record, epochsSeen)),
      error: { message: ev.message, detail: ev.detail, file: ev.file, fix: ev.fix },
      warnings: warnings.length ? warnings : undefined,
    });
    emit(ev);
    return record;
  } finally {
    try { encoder?.dispose?.(); } catch { /* ignore */ }
    claim.stop();
  }
}

interface FinetuneHooks {
  signal?: AbortSignal;
  log(m: string, level?: 'info' | 'warn' | 'error'): void;
  warn(m: string): void;
  progress(phase: TrainPhase, done: number, total: number, message?: string): void;
  update(patch: Partial<RunRecord>): Promise<void>;
  /** Writes the run's model file (through the run store). */
  writeModel(model: ModelFile): Promise<void>;
  onEpoch(m: EpochMetrics, total: number): Promise<void>;
  timings: RunRecord['timings'];
}

/** What a fit stage hands to the save stage. */
interface StageResult {
  outcome: { model: ModelFile; bestEpoch?: number; epochsRun?: number; bestValMacroF1: number | null };
  report: ClassificationReport | null;
  predictions: TestPrediction[];
  reportNote: string;
  oof?: TrainPrediction[];
  /** The recall-target block of report.txt, and why targets were not applied. */
  decisionText: string;
  notApplied: string;
  dataProblems: DataProblem[];
}

interface ImageHooks {
  /** Saves the augmented-sample grid of the run (RunStore.saveAugmented). */
  saveAugmented(preview: Parameters<RunStore['saveAugmented']>[1]): Promise<void>;
  signal?: AbortSignal;
  log(m: string, level?: 'info' | 'warn' | 'error'): void;
  warn(m: string): void;
  progress(phase: TrainPhase, done: number, total: number, message?: string): void;
  update(patch: Partial<RunRecord>): Promise<void>;
  onEpoch(m: EpochMetrics, total: number): Promise<void>;
  timings: RunRecord['timings'];
  /** Method 'finetune': the run folder and the run store's model writer. */
  runDir: string;
  writeModel(model: ModelFile): Promise<void>;
}

/** A test or training image as the prediction rows show it: the file name as text, the path as file. */
const imageRow = (s: ImageSample): Sample => ({ text: path.basename(s.file), label: s.label, file: s.file });

/**
 * The quick path for an image dataset: load (bad images skipped with a warning each) → embed (the image stage:
 * src/core/images/stage.ts) → the same few-shot head as texts → evaluate on the test split (or cross-validate).
 * Augmented copies of training images are extra rows of the final fit only (never in the head's cross-validation).
 */
async function imageStages(config: TrainConfig, req: TrainRequest, h: ImageHooks): Promise<StageResult> {
  if (config.method && config.method !== 'quick' && config.method !== 'finetune') {
    throw new FewShotError(`Method "${config.method}" is not available for image datasets yet (${config.dataset}).`, {
      file: config.dataset, code: 'config-invalid', fix: 'Use the quick method (the default) or finetune for image datasets.',
    });
  }
  h.progress('load', 0, 1, `Loading the images of ${config.dataset}`);
  const tLoad = Date.now();
  const dataset = await loadImageDataset(config.dataset, { seed: config.seed, verifyCacheDir: path.join(req.storeDir, 'cache', 'images') });
  h.timings.loadMs = Date.now() - tLoad;
  throwIfAborted(h.signal);
  const labels = dataset.labels;
  const labelIndex = new Map(labels.map((l, i) => [l, i] as const));
  for (const issue of dataset.issues) if (issue.severity === 'warning') h.warn(issue.message);
  if (labels.length < 2 || !dataset.train.length) {
    throw new FewShotError(`The image dataset ${dataset.root} has ${dataset.train.length} usable training image(s) in ${labels.length} class(es); a classifier needs at least 2 classes.`, {
      file: dataset.root, fix: 'Add PNG or JPEG images to at least two class folders.', code: 'too-few-labels',
    });
  }
  const dataProblems = findImageDataProblems(dataset);
  for (const p of dataProblems) h.warn(`Data problem: ${p.message}`);
  const count = (xs: ImageSample[]): Record<string, number> => {
    const c: Record<string, number> = Object.fromEntries(labels.map((l) => [l, 0]));
    for (const s of xs) c[s.label] = (c[s.label] ?? 0) + 1;
    return c;
  };
  const datasetInfo: DatasetInfo = {
    path: dataset.root, format: 'images', fingerprint: dataset.fingerprint, labels,
    counts: { train: count(dataset.train), test: count(dataset.test) }, testSource: dataset.testSource, language: 'und',
  };
  await h.update({ dataset: datasetInfo, timings: h.timings, ...(dataProblems.length ? { dataProblems } : {}) });
  h.progress('load', 1, 1, `${dataset.train.length} training and ${dataset.test.length} test images, ${labels.length} labels`);
  if (config.method === 'finetune') {
    // the CNN itself is fine-tuned by the PyTorch worker: no embedding stage
    const c = imageFinetuneConfig(config);
    if (c !== config) {
      h.log(`Method finetune on images: learning rate ${c.learningRate} for the new classifier (the CNN body learns at a tenth of it) instead of the text default ${config.learningRate}`);
      await h.update({ config: c });
    }
    const ft = await finetuneStages(dataset, c, req, h.runDir, h);
    return { ...ft, notApplied: '', dataProblems };
  }

  // ---------------------------------------------------------------- embed (and augment)
  const tEmbed = Date.now();
  let last = 0;
  const stage = await embedImageDataset(dataset, {
    encoder: config.encoder, cacheDir: path.join(req.storeDir, 'cache', 'embeddings'), augment: config.augment, seed: config.seed,
    flip: config.augmentFlip === true, signal: h.signal, log: (m) => h.log(m),
    progress: (done, total, message) => {
      const now = Date.now();
      if (message || done === total || now - last > 150) { last = now; h.progress('embed', done, total, message); }
    },
  });
  h.timings.embedMs = Date.now() - tEmbed;
  h.timings.cachedEmbeddings = stage.cached;
  h.timings.computedEmbeddings = stage.computed;
  const info = stage.info;
  await h.update({ encoder: info });
  if (config.augment > 0) {
    try {
      await h.saveAugmented(await augmentedPreview(dataset, config));
    } catch (e) {
      h.warn(`Could not save the augmented-sample grid: ${errorMessage(e)}`); // a picture for the dashboard; the run goes on
    }
  }

  // ---------------------------------------------------------------- head: the text path's fit stage
  const y = dataset.train.map((s) => labelIndex.get(s.label)!);
  const headChoice = resolveHead(config.head, labels.map((_, c) => y.filter((v) => v === c).length));
  const recipe = config.head === 'auto' && headChoice.head === 'logreg';
  // the few-shot recipe takes augmented copies as weighted extra rows of its final fit; the other heads as training rows
  const extra = { x: [] as Row[], y: [] as number[], w: [] as number[] };
  if (recipe) stage.xAug.forEach((vs, i) => vs.forEach((v) => { extra.x.push(v); extra.y.push(y[i]); extra.w.push(EXTRA_ROW_WEIGHT); }));
  const xAug = recipe ? stage.xAug.map(() => []) : stage.xAug;
  h.log(headChoice.reason);
  await h.update({ head: headChoice.head });
  const tTrain = Date.now();
  let total = config.epochs;
  const fitted = await fitWithSelection(stage.xTrain, xAug, y, labels, config, headChoice.head, {
    signal: h.signal, warn: h.warn, log: (m) => h.log(m), progress: h.progress, encoderId: info.id, extra,
    onPlan: async (algorithm, p) => {
      total = p.total;
      h.log(`Head: ${algorithm}; progress points: ${p.total} × ${p.unit}; validation: ${p.validation}`);
      await h.update({ algorithm, progress: p });
    },
    onEpoch: (m) => h.onEpoch(m, total),
  });
  throwIfAborted(h.signal);
  h.timings.trainMs = Date.now() - tTrain;
  const samples = dataset.train.map(imageRow);
  const { oof, decision, notApplied } = oofAndDecision(fitted, samples, y, labels, headChoice, config, h.warn);
  const model: ModelFile = { ...fitted.model, labels, encoder: info, head: headChoice.head, ...(decision ? { decision } : {}) };
  const outcome = { model, bestEpoch: fitted.bestEpoch, epochsRun: fitted.epochsRun, bestValMacroF1: fitted.bestValMacroF1 };

  // ---------------------------------------------------------------- evaluate
  const tEval = Date.now();
  let report: ClassificationReport | null = null;
  let predictions: TestPrediction[] = [];
  let reportNote = '';
  let decisionText = '';
  const method = `Algorithm: ${fitted.algorithm} on ${info.id} image features${stage.xAug.some((a) => a.length) ? `, with ${config.augment} RandomAffine${config.augmentFlip ? ' (and horizontal flip)' : ''} copies per training image` : ''}. Progress points: ${fitted.progress.total} × ${fitted.progress.unit}; validation: ${fitted.progress.validation}.\n`;
  if (dataset.test.length) {
    h.progress('evaluate', 0, dataset.test.length, `Evaluating on ${dataset.test.length} test images`);
    const proba = await predictRows(model, stage.xTest, h.signal);
    predictions = dataset.test.map((s, i) => toPrediction(imageRow(s), i, proba[i], labels, decision));
    ({ report, decisionText } = decidedReport(predictions, proba.map((p) => argmax(p)), labels, 'test', decision));
    reportNote = `Split: test (${dataset.test.length} images; source: ${dataset.testSource === 'given' ? 'the dataset\'s own test split' : dataset.testSource}).\n`
      + `The test split was never used for model selection: ${fitted.selection}.\n` + method;
    h.progress('evaluate', dataset.test.length, dataset.test.length);
  } else if (dataset.testSource === 'cross-validation') {
    const cv = await crossValidate(stage.xTrain, xAug, y, samples, labels, config, headChoice.head, { signal: h.signal, warn: h.warn, progress: h.progress, encoderId: info.id }, decision);
    if (cv) {
      predictions = cv.predictions;
      ({ report, decisionText } = decidedReport(predictions, cv.argmax, labels, 'cross-validation', decision));
      reportNote = `Split: cross-validation (${cv.k}-fold, stratified, over all ${dataset.train.length} images; the dataset has no test split).\n`
        + 'Each image was predicted by a model that never saw it.\n' + method;
    }
  } else {
    h.warn(`The dataset ${dataset.root} has no test split, so no test metrics were computed. Add a test/ folder of images to measure the model.`);
  }
  throwIfAborted(h.signal);
  h.timings.evalMs = Date.now() - tEval;
  return { outcome, report, predictions, reportNote, oof, decisionText, notApplied, dataProblems };
}

/** Training images shown in the augmented-sample grid (the first of each class, at most this many) and copies per image. */
const PREVIEW_IMAGES = 3;
const PREVIEW_COPIES = 3;

/**
 * The augmented-sample grid: the first training image of up to PREVIEW_IMAGES classes and its first PREVIEW_COPIES
 * augmented copies, drawn with the image's own seed exactly as the embedding stage drew them, shrunk to ≤ 128 px.
 */
async function augmentedPreview(dataset: ImageDataset, config: TrainConfig): Promise<Parameters<RunStore['saveAugmented']>[1]> {
  const picked: number[] = [];
  for (const l of dataset.labels) {
    const i = dataset.train.findIndex((s) => s.label === l);
    if (i >= 0 && picked.length < PREVIEW_IMAGES) picked.push(i);
  }
  const flip = config.augmentFlip === true;
  const rows = [];
  for (const i of picked) {
    const s = dataset.train[i];
    const bytes = await fs.promises.readFile(s.file);
    const copies = await augmentImage(bytes, Math.min(PREVIEW_COPIES, config.augment), { seed: augmentSeed(config.seed, i), flip });
    rows.push({
      source: s.file, label: s.label, original: await thumbnailPng(bytes),
      copies: await Promise.all(copies.map(async (c) => ({ png: await thumbnailPng(c.png), ...c.params }))),
    });
  }
  return { transform: { ...DEFAULT_AFFINE, flip }, seed: config.seed, rows };
}

/** The data problems of an image dataset: test images equal (by content) to training images, small test classes, skipped files. */
function findImageDataProblems(d: ImageDataset): DataProblem[] {
  const out: DataProblem[] = [];
  const trainHashes = new Set(d.train.map((s) => s.sha256));
  const overlap = d.test.filter((s) => trainHashes.has(s.sha256));
  if (overlap.length) {
    out.push({ code: 'test-train-overlap', count: overlap.length, message: `${overlap.length} test image(s) are also in the training split (the same bytes); test scores are optimistic.`, files: overlap.slice(0, 5).map((s) => s.file) });
  }
  out.push(...splitProblems(d.labels, d.test, d.files, 'images'));
  return out;
}

/** Data problems shared by text and image datasets: classes with fewer than 5 test examples, skipped files. */
function splitProblems(labels: string[], test: { label: string }[], files: { file: string; skipped?: string }[], what: 'examples' | 'images'): DataProblem[] {
  const out: DataProblem[] = [];
  if (test.length) {
    const small = labels.map((l) => [l, test.filter((s) => s.label === l).length] as const).filter(([, c]) => c < 5);
    if (small.length) {
      out.push({ code: 'small-test-class', count: small.length, message: `${small.length} class(es) have fewer than 5 test ${what} (${small.map(([l, c]) => `${l}: ${c}`).join(', ')}); their scores are noisy.` });
    }
  }
  const skipped = files.filter((f) => f.skipped);
  if (skipped.length) {
    out.push({ code: 'files-skipped', count: skipped.length, message: `${skipped.length} file(s) were skipped (${skipped.slice(0, 3).map((f) => `${path.basename(f.file)}: ${f.skipped}`).join('; ')}${skipped.length > 3 ? '; …' : ''}).`, files: skipped.slice(0, 5).map((f) => f.file) });
  }
  return out;
}

/** Served probabilities may differ from the worker's PyTorch ones by at most this much (else a warning). */
export const SERVED_PROB_TOLERANCE = 1e-3;

/**
 * Method 'finetune': split (stratified validation hold-out of the training split) → the PyTorch
 * worker (fit) → the ONNX model evaluated on the test split in Node through loadPredictor, the
 * same code `fewshot predict` runs, and checked against the worker's PyTorch probabilities.
 * An image dataset fine-tunes a CNN (job kind 'image'; rows are image paths; ModelFile.imageCnn).
 */
async function finetuneStages(dataset: Dataset | ImageDataset, config: TrainConfig, req: TrainRequest, runDir: string, h: FinetuneHooks): Promise<{
  outcome: { model: ModelFile; bestEpoch?: number; epochsRun?: number; bestValMacroF1: number | null };
  report: ClassificationReport | null; predictions: TestPrediction[]; reportNote: string; decisionText: string;
}> {
  const labels = dataset.labels;
  const images = 'kind' in dataset && dataset.kind === 'images';
  // what the worker reads (a text or an image path) and what a prediction row shows, per sample
  const input = (s: Sample | ImageSample): string => ('text' in s ? s.text : s.file);
  const row = (s: Sample | ImageSample): Sample => ('text' in s ? s : imageRow(s));
  const algorithm = images ? 'finetune-cnn' : 'finetune-transformer';
  const labelIndex = new Map(labels.map((l, i) => [l, i] as const));
  const y = dataset.train.map((s) => labelIndex.get(s.label)!);
  const counts = labels.map((_, c) => y.filter((v) => v === c).length);
  const sizes = holdoutSizes(counts, config.validationFraction);
  let trainIdx: number[];
  let valIdx: number[];
  let validation: string;
  if (config.validationFraction > 0 && Math.min(...sizes) >= 1) {
    ({ train: trainIdx, val: valIdx } = stratifiedHoldout(y, labels.length, config.validationFraction, config.seed));
    validation = `stratified ${Math.round(config.validationFraction * 100)}% hold-out of the training split (${valIdx.length} examples)`;
  } else {
    trainIdx = y.map((_, i) => i);
    valIdx = trainIdx;
    const min = Math.min(...counts);
    const why = config.validationFraction > 0 ? `"${labels[counts.indexOf(min)]}" has only ${min} training example(s), too few for a hold-out` : 'validationFraction is 0';
    validation = `the training split itself (${y.length} examples; no hold-out: ${why}), so validation scores are training-set scores`;
    h.warn(`No validation hold-out for fine-tuning: ${why}. The best epoch is chosen on the training examples themselves.`);
  }
  const ft = config.finetune!;
  h.log(`Method finetune: model ${ft.model}; ${config.epochs} epochs; validation: ${validation}`);
  await h.update({ algorithm, progress: { unit: 'epoch', total: config.epochs, validation } });

  const imagePart = images ? imageJobPart(ft.model, config) : undefined;
  const tTrain = Date.now();
  const fit = await fitFinetune({
    runDir, labels, config,
    train: trainIdx.map((i) => ({ text: input(dataset.train[i]), label: y[i] })),
    val: valIdx.map((i) => ({ text: input(dataset.train[i]), label: y[i] })),
    test: dataset.test.map(input),
    ...(imagePart ? { image: imagePart } : {}),
    allowRemote: req.hf?.allowRemote === true, python: req.python, signal: h.signal,
    log: h.log, progress: h.progress, onEpoch: (m) => h.onEpoch(m, config.epochs),
  });
  throwIfAborted(h.signal);
  h.timings.trainMs = Date.now() - tTrain;
  const d = fit.done;
  const st = fit.started;
  const outDir = path.join(runDir, FINETUNED_DIR);
  let hidden = 0;
  try { hidden = Number((JSON.parse(fs.readFileSync(path.join(outDir, 'config.json'), 'utf8')) as { hidden_size?: number }).hidden_size) || 0; } catch { /* checked by the predictor */ }
  const encoder: EncoderInfo = {
    id: `finetuned:${ft.model}`, requested: ft.model, dim: hidden,
    reason: `method finetune: ${st.model.name} (${st.model.layers} ${images ? 'blocks' : 'layers'}, ${st.model.parameters.toLocaleString('en-US')} parameters) fine-tuned with staged unfreezing; predictions run its ONNX export in Node`,
  };
  // a fine-tuned CNN: Node preprocesses as the worker did (the job's preprocess.json, kept next to the model)
  if (imagePart) fs.writeFileSync(path.join(outDir, 'preprocess.json'), JSON.stringify(imagePart.preprocess, null, 1));
  const decision = decisionFor(config, labels, y, null, 'fine-tuning computes none', h.warn);
  const model: ModelFile = {
    formatVersion: RUN_FORMAT_VERSION, labels, encoder, head: 'logreg', weights: [],
    ...(images ? { imageCnn: { path: FINETUNED_DIR, onnx: d.onnx } } : { transformer: { path: FINETUNED_DIR, onnx: d.onnx, maxLength: ft.maxLength } }),
    ...(decision ? { decision } : {}),
  };
  await h.writeModel(model);
  const python: Record<string, string> = { python: fit.probe.version, ...st.versions };
  const finetune: NonNullable<RunRecord['finetune']> = {
    device: { kind: st.device.kind, name: st.device.name, count: st.device.count, precision: st.device.precision, reason: st.device.reason },
    python, stages: d.stages, onnxMaxAbsDiff: d.onnxMaxAbsDiff,
  };
  await h.update({ encoder, finetune });

  let report: ClassificationReport | null = null;
  let predictions: TestPrediction[] = [];
  let reportNote = '';
  let decisionText = '';
  const tEval = Date.now();
  if (dataset.test.length) {
    h.progress('evaluate', 0, dataset.test.length, `Evaluating the ONNX model on ${dataset.test.length} test ${images ? 'images' : 'examples'} in Node`);
    const predictor = await loadPredictor(runDir);
    let proba: number[][];
    try {
      const preds = images ? await predictor.predictImages!(dataset.test.map(input)) : await predictor.predict(dataset.test.map(input));
      proba = preds.map((p) => labels.map((l) => p.probabilities.find((q) => q.label === l)?.p ?? 0));
    } finally {
      predictor.dispose();
    }
    let diff = 0;
    if (d.testProbabilities.length === proba.length) {
      proba.forEach((row, i) => row.forEach((p, j) => {
        const ref = d.testProbabilities[i]?.[j];
        diff = Math.max(diff, typeof ref === 'number' && Number.isFinite(ref) ? Math.abs(p - ref) : Infinity);
      }));
    } else diff = Infinity;
    finetune.servedMaxAbsProbDiff = diff;
    if (!(diff <= SERVED_PROB_TOLERANCE)) {
      h.warn(Number.isFinite(diff)
        ? `The ONNX model served in Node and the worker's PyTorch model disagree on the test ${images ? 'images' : 'texts'}: max |Δp| = ${diff.toExponential(2)} (> ${SERVED_PROB_TOLERANCE}). The report measures the ONNX model.`
        : `The worker returned ${d.testProbabilities.length} test probabilities for ${proba.length} test ${images ? 'images' : 'texts'}; the ONNX model could not be checked against PyTorch.`);
    } else h.log(`ONNX in Node vs PyTorch on ${proba.length} test ${images ? 'images' : 'texts'}: max |Δp| = ${diff.toExponential(2)}`);
    await h.update({ finetune });
    predictions = dataset.test.map((s, i) => toPrediction(row(s), i, proba[i], labels, decision));
    ({ report, decisionText } = decidedReport(predictions, proba.map((p) => argmax(p)), labels, 'test', decision));
    reportNote = `Split: test (${dataset.test.length} ${images ? 'images' : 'examples'}; source: ${dataset.testSource === 'given' ? 'the dataset\'s own test split' : dataset.testSource}).\n`
      + `The test split was never used for model selection: the best epoch (${d.bestEpoch} of ${d.epochsRun}) was chosen by validation macro-F1 on the ${validation}.\n`
      + `Algorithm: ${images ? `finetune-cnn (${cnnName(ft.model)}` : `finetune-transformer (${st.model.name}`}, staged unfreezing: ${d.stages.map((s) => `stage ${s.stage} epochs ${s.firstEpoch}–${s.lastEpoch}, ${s.trainableParameters.toLocaleString('en-US')} trainable`).join('; ')}); device ${st.device.kind} (${st.device.name}).\n`
      + (imagePart ? `Augmentation: RandomAffine(degrees=${imagePart.augment.affine.degrees}, translate=(${imagePart.augment.affine.translate.join(', ')}), scale=(${imagePart.augment.affine.scale.join(', ')}))${imagePart.augment.flip ? ' + horizontal flip' : ''} on every training image, every epoch (torchvision).\n` : '')
      + `Measured with the ONNX export in Node (what predict serves); max |Δp| vs PyTorch: ${Number.isFinite(diff) ? diff.toExponential(2) : 'n/a'}.\n`;
    h.progress('evaluate', dataset.test.length, dataset.test.length);
  } else {
    h.warn(`The dataset ${dataset.root} has no test split, so no test metrics were computed (fine-tuning does not cross-validate). Add a test split (e.g. a test/ folder) to measure the model.`);
  }
  h.timings.evalMs = Date.now() - tEval;
  return { outcome: { model, bestEpoch: d.bestEpoch, epochsRun: d.epochsRun, bestValMacroF1: d.bestValMacroF1 }, report, predictions, reportNote, decisionText };
}

/**
 * Method 'setfit', the worker part: the body to train (the given one, or the default), the worker
 * (pair steps as progress points), and what the run records of it (algorithm, device, pairs, ONNX check).
 */
async function setfitStage(dataset: Dataset, config: TrainConfig, req: TrainRequest, runDir: string, h: {
  signal?: AbortSignal;
  log(m: string, level?: 'info' | 'warn' | 'error'): void;
  progress(phase: TrainPhase, done: number, total: number, message?: string): void;
  update(patch: Partial<RunRecord>): Promise<void>;
  onPoint(m: EpochMetrics, total: number): Promise<void>;
}): Promise<SetFitFit> {
  const labelIndex = new Map(dataset.labels.map((l, i) => [l, i] as const));
  const model = resolveSetFitBody(config.setfit?.model);
  const train = dataset.train.map((s) => ({ text: s.text, label: labelIndex.get(s.label)! }));
  const validation = 'none for the pairs (contrastive loss on pairs of training texts); the head is scored by cross-validation next';
  let planned = false;
  const fit = await fitSetFit({
    runDir, labels: dataset.labels, train, settings: { ...config.setfit, model }, seed: config.seed,
    allowRemote: req.hf?.allowRemote === true, python: req.python, signal: h.signal, log: h.log, progress: h.progress,
    onPoint: async (m, total) => {
      if (!planned) {
        planned = true;
        await h.update({ algorithm: 'setfit-contrastive', progress: { unit: 'pair-step', total, validation } });
      }
      await h.onPoint(m, total);
    },
  });
  const st = fit.started;
  const d = fit.done;
  h.log(`SetFit body trained: ${d.pairSteps} pair steps on ${d.pairs} pairs in ${(d.trainMs / 1000).toFixed(1)} s; ONNX vs PyTorch embeddings: max |Δ| = ${d.onnxMaxAbsDiff.toExponential(2)}`);
  await h.update({
    algorithm: 'setfit-contrastive',
    setfit: {
      device: { kind: st.device.kind, name: st.device.name, reason: st.device.reason }, python: { python: fit.probe.version, ...st.versions },
      body: model, iterations: fit.iterations, pairs: d.pairs, pairSteps: d.pairSteps, onnxMaxAbsDiff: d.onnxMaxAbsDiff, bodyTrainMs: d.trainMs,
    },
  });
  return fit;
}

async function safeUpdate(store: RunStore, id: string, fallback: RunRecord, patch: Partial<RunRecord>): Promise<RunRecord> {
  try { return await store.update(id, patch); } catch { return { ...fallback, ...patch }; }
}

/** An 'error' event from any thrown value: FewShotErrors carry file/fix; other errors carry their stack as detail. */
export function errorEvent(e: unknown, runId?: string, runDir?: string): Extract<TrainEvent, { type: 'error' }> {
  if (isFewShotError(e)) {
    return { type: 'error', message: e.message, file: e.opts.file, fix: e.opts.fix, ...(e.opts.detail ? { detail: e.opts.detail } : {}), runId, runDir };
  }
  return { type: 'error', message: errorMessage(e), detail: e instanceof Error ? e.stack : undefined, runId, runDir };
}

/** `epochsRun` of an unfinished run: only for algorithms with epochs. */
function epochsRun(r: RunRecord, seen: number): Partial<RunRecord> {
  return seen && r.progress?.unit === 'epoch' ? { epochsRun: seen } : {};
}

/** Problems with the data that change how the results read (banner in report.txt and the dashboard). */
export function findDataProblems(d: Dataset): DataProblem[] {
  const out: DataProblem[] = [];
  const trainTexts = new Set(d.train.map((s) => s.text.trim()));
  const overlap = d.test.filter((s) => trainTexts.has(s.text.trim()));
  if (overlap.length) {
    out.push({ code: 'test-train-overlap', count: overlap.length, message: `${overlap.length} test text(s) also occur in the training split; test scores are optimistic.`, files: [...new Set(overlap.map((s) => s.file).filter((f): f is string => !!f))].slice(0, 5) });
  }
  out.push(...splitProblems(d.labels, d.test, d.files, 'examples'));
  const missing = (d.issues ?? []).filter((i) => i.code === IssueCodes.testClassNotInTrain);
  if (missing.length) {
    const each = missing.map((i) => /"(.*)" \((\d+) example/.exec(i.message)).map((m) => ({ label: m?.[1] ?? '?', n: Number(m?.[2] ?? 0) }));
    const dropped = each.reduce((a, c) => a + c.n, 0);
    out.push({ code: 'test-class-not-in-train', count: missing.length, message: `${missing.length} test class(es) have no training examples (${each.map((c) => `${c.label}: ${c.n}`).join(', ')}); their ${dropped} test example(s) were left out of the evaluation.`, files: missing.map((i) => i.file).filter((f): f is string => !!f).slice(0, 5) });
  }
  return out;
}

/** The banner block at the top of report.txt (empty without problems). */
function problemBanner(ps: DataProblem[]): string {
  if (!ps.length) return '';
  const w = Math.max(...ps.map((p) => p.message.length)) + 4;
  return ['!'.repeat(w), `DATA PROBLEMS (${ps.length}): read the scores below with care`, ...ps.map((p) => `- ${p.message}`), '!'.repeat(w), ''].join('\n') + '\n';
}

/** A prediction row; `predicted` is the decided label with a decision rule (possibly "uncertain"), else the argmax. */
function toPrediction(s: Sample, index: number, p: number[], labels: string[], rule?: DecisionRule): TestPrediction {
  const best = rule ? decideIndex(p, labels, rule) : argmax(p);
  const probabilities: Record<string, number> = {};
  labels.forEach((l, j) => { probabilities[l] = p[j]; });
  const out: TestPrediction = { index, text: s.text, label: s.label, predicted: best < 0 ? UNCERTAIN_LABEL : labels[best], probabilities, file: s.file };
  if (s.line !== undefined) out.line = s.line;
  return out;
}

/**
 * After the fit stage: the training examples' out-of-fold predictions (oof.jsonl; head auto with CV), the decision
 * rule (recall targets, abstain) and, when targets could not be applied, the line that says why in report.txt.
 */
function oofAndDecision(
  fitted: { oof?: { proba: number[][]; description: string }; progress: { validation: string } }, samples: Sample[], y: number[], labels: string[],
  headChoice: { head: HeadKind; reason: string }, config: TrainConfig, warn: (m: string) => void,
): { oof: TrainPrediction[] | undefined; decision: DecisionRule | undefined; notApplied: string } {
  const f = fitted.oof;
  const noOof = f ? '' : headChoice.head === 'centroid'
    ? `head auto chose the nearest centroid (${headChoice.reason}), which computes no out-of-fold probabilities`
    : `the head computed no out-of-fold probabilities (${fitted.progress.validation})`;
  return {
    oof: f ? samples.map((s, i) => toPrediction(s, i, f.proba[i], labels)) : undefined,
    decision: decisionFor(config, labels, y, f ?? null, noOof, warn),
    // targets that could not be applied: the report says so too, next to the table
    notApplied: config.minRecall && Object.keys(config.minRecall).length && !f ? `Recall targets were not applied: ${noOof}.\n` : '',
  };
}

/**
 * The decision rule of a run (saved as ModelFile.decision), or undefined for the plain argmax: per-class thresholds
 * chosen on the out-of-fold probabilities of the training split for the recall targets, and the abstain threshold.
 * Unmet targets and targets without out-of-fold probabilities (`noOof` says why) are warnings of the run.
 */
function decisionFor(
  config: TrainConfig, labels: string[], y: number[], oof: { proba: number[][]; description: string } | null, noOof: string,
  warn: (m: string) => void,
): DecisionRule | undefined {
  const targets = config.minRecall && Object.keys(config.minRecall).length ? config.minRecall : undefined;
  if (targets && oof) {
    const rule = chooseThresholds(oof.proba, y, labels, targets, oof.description, config.abstain);
    for (const m of unmetTargetMessages(rule)) warn(`Recall target: ${m}.`);
    return rule;
  }
  if (targets) warn(`Minimum recall targets were not applied: ${noOof}. Predictions use the plain argmax${config.abstain !== undefined ? ' (and the abstain threshold)' : ''}.`);
  if (config.abstain === undefined) return undefined;
  return { minRecall: {}, thresholds: {}, trainRecall: {}, unmet: [], abstain: config.abstain, chosenOn: 'no recall targets (abstain threshold only)' };
}

/**
 * scikit-learn's report of the decided labels (abstentions count as misses), plus, with a decision rule, the
 * per-class recall-target rows against the plain argmax (`argmaxIdx`) and the count of "uncertain".
 */
function decidedReport(
  predictions: TestPrediction[], argmaxIdx: number[], labels: string[], split: string, rule: DecisionRule | undefined,
): { report: ClassificationReport; decisionText: string } {
  const report: ClassificationReport = classificationReport(predictions.map((p) => p.label), predictions.map((p) => p.predicted), labels, split);
  if (!rule) return { report, decisionText: '' };
  const index = new Map(labels.map((l, i) => [l, i] as const));
  const gold = predictions.map((p) => index.get(p.label) ?? -1);
  const decided = predictions.map((p) => index.get(p.predicted) ?? -1);
  const uncertain = decided.filter((d) => d < 0).length;
  if (rule.abstain !== undefined) report.abstained = { threshold: rule.abstain, uncertain };
  const hasTargets = Object.keys(rule.minRecall).length > 0;
  if (hasTargets) report.recallTargets = recallTargetRows(gold, decided, argmaxIdx, labels, rule);
  const text = hasTargets || rule.abstain !== undefined
    ? formatRecallTargets(report.recallTargets ?? [], rule, split, uncertain, predictions.length)
    : '';
  return { report, decisionText: text };
}

function describeDataset(d: Dataset): DatasetInfo {
  const count = (xs: Sample[]): Record<string, number> => {
    const c: Record<string, number> = {};
    for (const l of d.labels) c[l] = 0;
    for (const s of xs) c[s.label] = (c[s.label] ?? 0) + 1;
    return c;
  };
  return {
    path: d.root, format: d.format, fingerprint: d.fingerprint, labels: d.labels,
    counts: { train: count(d.train), test: count(d.test) }, testSource: d.testSource, language: d.language,
  };
}

// ---------------------------------------------------------------- model selection

interface FitHooks {
  signal?: AbortSignal;
  warn(m: string): void;
  log?(m: string): void;
  progress(phase: TrainPhase, done: number, total: number, message?: string): void;
  /** When the head starts: the algorithm and what its progress points will be. */
  onPlan?(algorithm: Algorithm, progress: NonNullable<RunRecord['progress']>): Promise<void>;
  onEpoch?(m: EpochMetrics): Promise<void>;
  /** Resolved encoder id (the few-shot recipe splits combo vectors into their parts). */
  encoderId?: string;
  /** Few-shot recipe only: extra weighted training rows (passages, class names) for the final fit. */
  extra?: { x: Row[]; y: number[]; w: number[] };
}

/** Texts per call of `embedSparse` (progress and cancel between calls). */
const SPARSE_EMBED_CHUNK = 4096;

/** Sparse rows of all texts, embedded chunk by chunk. */
async function embedSparseInChunks(enc: Encoder, texts: string[], onProgress: (done: number, total: number) => void): Promise<Row[]> {
  const out: Row[] = [];
  for (let i = 0; i < texts.length; i += SPARSE_EMBED_CHUNK) {
    const chunk = texts.slice(i, i + SPARSE_EMBED_CHUNK);
    out.push(...await enc.embedSparse!(chunk, (d) => onProgress(i + d, texts.length)));
    await new Promise<void>((r) => setImmediate(r));
    onProgress(out.length, texts.length);
  }
  if (!texts.length) onProgress(0, 0);
  return out;
}

/** Rows per predictProba call: sparse rows are made dense a chunk at a time. */
const PREDICT_CHUNK = 512;

/** predictProba over rows of either form, a chunk at a time (bounded memory, cancel between chunks). */
async function predictRows(model: ModelFile, x: Row[], signal?: AbortSignal): Promise<number[][]> {
  const out: number[][] = [];
  for (let i = 0; i < x.length; i += PREDICT_CHUNK) {
    throwIfAborted(signal);
    out.push(...await predictProba(model, x.slice(i, i + PREDICT_CHUNK).map(denseOf)));
    if (i + PREDICT_CHUNK < x.length) await new Promise<void>((r) => setImmediate(r));
  }
  return out;
}

interface Fitted {
  model: ModelFile;
  algorithm: Algorithm;
  progress: NonNullable<RunRecord['progress']>;
  /** Only for algorithms with epochs. */
  bestEpoch?: number;
  epochsRun?: number;
  bestValMacroF1: number | null;
  /** How the model was selected, for the report ("the best epoch was chosen on …"). */
  selection: string;
  /** Head auto: out-of-fold probabilities of the training rows (x, in order) and what they are; absent without CV. */
  oof?: { proba: number[][]; description: string };
}

function classWeightsFor(y: number[], nClasses: number, on: boolean): number[] | undefined {
  if (!on) return undefined;
  const counts = new Array(nClasses).fill(0);
  for (const c of y) counts[c]++;
  return counts.map((n) => (n ? y.length / (nClasses * n) : 0));
}

/** Training rows for the given sample indices: the originals plus their augmented variants. */
function gather(idx: number[], x: Float32Array[], xAug: Float32Array[][], y: number[]): { x: Float32Array[]; y: number[] } {
  const ox: Float32Array[] = [];
  const oy: number[] = [];
  for (const i of idx) {
    ox.push(x[i]); oy.push(y[i]);
    for (const v of xAug[i]) { ox.push(v); oy.push(y[i]); }
  }
  return { x: ox, y: oy };
}

const TFJS_ALGORITHM: Record<HeadKind, Algorithm> = { logreg: 'tfjs-adam-logreg', mlp: 'tfjs-mlp', centroid: 'centroid' };

/**
 * Fit a head on the training split with model selection inside it:
 *  - head 'auto' resolved to logistic regression: the few-shot recipe (fitFewShotHead);
 *  - stratified hold-out (validationFraction) when every class gives ≥ 2 validation examples;
 *  - otherwise stratified k-fold CV over the training split picks the epoch count,
 *    then one model is fitted on all of it;
 *  - with a class of one example (or validationFraction 0): no selection, all epochs.
 */
export async function fitWithSelection(
  xRows: Row[], xAugRows: Row[][], y: number[], labels: string[], config: TrainConfig, head: HeadKind, hooks: FitHooks,
): Promise<Fitted> {
  if (config.head === 'auto' && head === 'logreg') return fitFewShotHead(xRows, xAugRows, y, labels, config, hooks);
  // the tfjs heads and the centroid take dense vectors (sparse rows come only with the few-shot recipe)
  const x = xRows.map(denseOf);
  const xAug = xAugRows.map((a) => a.map(denseOf));
  const algorithm = TFJS_ALGORITHM[head];
  const n = labels.length;
  const counts = labels.map((_, c) => y.filter((v) => v === c).length);
  const base = {
    kind: head, epochs: config.epochs, learningRate: config.learningRate, batchSize: config.batchSize, seed: config.seed,
    patience: config.patience, signal: hooks.signal, labels,
  };
  const minCount = Math.min(...counts);
  const valSizes = holdoutSizes(counts, config.validationFraction);
  const all = y.map((_, i) => i);
  const epochUnit = (validation: string, total = head === 'centroid' ? 1 : config.epochs) => ({ unit: 'epoch' as ProgressUnit, total, validation });
  // a centroid has no epochs: its one point is the fitted centroids
  const withEpochs = (bestEpoch: number, epochsRun: number) => (head === 'centroid' ? {} : { bestEpoch, epochsRun });

  if (config.validationFraction > 0 && Math.min(...valSizes) >= MIN_VAL_PER_CLASS) {
    const split = stratifiedHoldout(y, n, config.validationFraction, config.seed);
    const progress = epochUnit(`stratified ${Math.round(config.validationFraction * 100)}% hold-out of the training split (${split.val.length} examples)`);
    await hooks.onPlan?.(algorithm, progress);
    const tr = gather(split.train, x, xAug, y);
    const res = await trainHead(tr.x, tr.y, split.val.map((i) => x[i]), split.val.map((i) => y[i]), {
      ...base, classWeights: classWeightsFor(tr.y, n, config.classWeighting), onEpoch: hooks.onEpoch,
    });
    const best = res.history.find((h) => h.epoch === res.bestEpoch) ?? null;
    const chosen = `the best epoch (${res.bestEpoch}) was chosen on a ${progress.validation}`;
    const epochs = withEpochs(res.bestEpoch, res.epochsRun);
    if (config.refit === false && head !== 'centroid') {
      return { model: res.model, algorithm, progress, ...epochs, bestValMacroF1: bestVal(res.history, best), selection: chosen };
    }
    // Refit: with a few examples per class the hold-out is precious, so the final model is
    // trained on the whole training split for the chosen number of epochs.
    if (hooks.signal?.aborted) throw abortError();
    hooks.progress('train', 0, 1, `Refitting on all ${y.length} training examples (${res.bestEpoch} epochs)`);
    const full = gather(all, x, xAug, y);
    const refit = await trainHead(full.x, full.y, [], [], {
      ...base, epochs: res.bestEpoch, patience: 0, classWeights: classWeightsFor(full.y, n, config.classWeighting),
    });
    hooks.progress('train', 1, 1);
    return {
      model: refit.model, algorithm, progress, ...epochs, bestValMacroF1: bestVal(res.history, best),
      selection: `${chosen}; the model was then refitted on all ${y.length} training examples for that many epochs`,
    };
  }

  if (config.validationFraction > 0 && minCount >= 2) {
    const k = Math.min(MAX_FOLDS, minCount);
    const progress = epochUnit(`${k}-fold CV over the training split, mean over folds`);
    await hooks.onPlan?.(algorithm, progress);
    const folds = stratifiedKFold(y, n, k, config.seed);
    const histories: EpochMetrics[][] = [];
    const tHead = Date.now();
    let sent = 0;
    // the mean point of an epoch is sent as soon as every fold reached that epoch (during the last fold)
    const sendReady = async (): Promise<void> => {
      while (histories.length === k && histories.every((h) => h.length > sent)) {
        const m = averageEpoch(histories.map((h) => h[sent]), labels, Date.now() - tHead);
        sent++;
        await hooks.onEpoch?.(m);
      }
    };
    for (let f = 0; f < k; f++) {
      if (hooks.signal?.aborted) throw abortError();
      hooks.progress('train', f, k + 1, `Cross-validating epochs: fold ${f + 1} of ${k}`);
      const val = folds[f];
      const tr = gather(complement(y.length, val), x, xAug, y);
      const history: EpochMetrics[] = [];
      histories.push(history);
      await trainHead(tr.x, tr.y, val.map((i) => x[i]), val.map((i) => y[i]), {
        ...base, patience: 0, seed: config.seed + f, classWeights: classWeightsFor(tr.y, n, config.classWeighting),
        onEpoch: async (m) => {
          history.push(m);
          hooks.progress('train', f, k + 1, `Cross-validating epochs: fold ${f + 1} of ${k}, epoch ${m.epoch}/${config.epochs}, validation macro-F1 ${m.valMacroF1?.toFixed(4) ?? '-'}`);
          await sendReady();
        },
      });
    }
    if (hooks.signal?.aborted) throw abortError();
    let bestEpoch = 1;
    let bestF1 = -1;
    const mean = Array.from({ length: sent }, (_, e) => averageEpoch(histories.map((h) => h[e]), labels, 0));
    for (const m of mean) if (m.valMacroF1 !== null && m.valMacroF1 > bestF1 + 1e-12) { bestF1 = m.valMacroF1; bestEpoch = m.epoch; }
    hooks.progress('train', k, k + 1, `Fitting the final model on all training examples (${bestEpoch} epochs)`);
    const tr = gather(all, x, xAug, y);
    const res = await trainHead(tr.x, tr.y, [], [], {
      ...base, epochs: bestEpoch, patience: 0, classWeights: classWeightsFor(tr.y, n, config.classWeighting),
    });
    hooks.progress('train', k + 1, k + 1);
    return {
      model: res.model, algorithm, progress, ...withEpochs(bestEpoch, sent), bestValMacroF1: bestF1 >= 0 ? bestF1 : null,
      selection: `classes are too small for a hold-out, so the epoch count (${bestEpoch}) was chosen by ${k}-fold stratified cross-validation over the training split, then the model was refitted on all training examples`,
    };
  }

  if (head !== 'centroid') {
    hooks.warn(config.validationFraction > 0
      ? `A class has only ${minCount} training example(s): no validation was possible, the model was trained for all ${config.epochs} epochs without model selection.`
      : `validationFraction is 0: no validation, the model was trained for all ${config.epochs} epochs.`);
  }
  const progress = epochUnit('none (training-set metrics: no validation data)');
  await hooks.onPlan?.(algorithm, progress);
  const tr = gather(all, x, xAug, y);
  const res = await trainHead(tr.x, tr.y, [], [], {
    ...base, patience: 0, classWeights: classWeightsFor(tr.y, n, config.classWeighting), onEpoch: hooks.onEpoch,
  });
  return {
    model: res.model, algorithm, progress, ...withEpochs(res.epochsRun, res.epochsRun), bestValMacroF1: null,
    selection: head === 'centroid' ? 'nearest centroid (nothing to select)' : 'no model selection was done (all epochs were used)',
  };
}

/**
 * head 'auto' (few-shot recipe, src/core/fewshot): nothing is held out. 18 convex L2 logistic
 * regressions (IDF on/off × encoder block weights × C) are scored by stratified k-fold CV log-loss
 * over the original training texts; the best 3 are fitted by L-BFGS to convergence on all of them
 * plus the extra rows (passages, class names, augmented variants) and averaged in logit space.
 * One progress point per configuration, sent when its CV score is known.
 */
async function fitFewShotHead(
  x: Row[], xAug: Row[][], y: number[], labels: string[], config: TrainConfig, hooks: FitHooks,
): Promise<Fitted> {
  if (hooks.signal?.aborted) throw abortError();
  const augX: Row[] = [];
  const augY: number[] = [];
  const augW: number[] = [];
  xAug.forEach((vs, i) => vs.forEach((v) => { augX.push(v); augY.push(y[i]); augW.push(1); }));
  if (hooks.extra) hooks.extra.x.forEach((v, j) => { augX.push(v); augY.push(hooks.extra!.y[j]); augW.push(hooks.extra!.w[j]); });
  let planned: Promise<void> = Promise.resolve();
  let progress!: Fitted['progress'];
  const r = await fitFewShot(x, y, {
    labels, encoderId: hooks.encoderId, signal: hooks.signal,
    classWeights: classWeightsFor([...y, ...augY], labels.length, config.classWeighting),
    extraX: augX, extraY: augY, extraWeights: augW,
    onPlan: (p) => {
      progress = { unit: p.unit, total: p.points, validation: p.validation ?? `none (${p.noValidation ?? 'not cross-validated'})` };
      hooks.progress('train', 0, p.fits, `Fitting the few-shot head: ${p.fits} candidate fits (${p.points ? `${p.points} configurations × ${p.folds} CV folds, then ` : ''}the final fits on all training rows)`);
      planned = hooks.onPlan?.(p.algorithm, progress) ?? Promise.resolve();
    },
    onProgress: (done, total, message) => hooks.progress('train', done, total, message),
    onPoint: async (m) => { await planned; await hooks.onEpoch?.(m); },
    onLog: (m) => hooks.log?.(m),
  });
  await planned;
  const oof = r.oofProba && r.oofDescription ? { oof: { proba: r.oofProba, description: r.oofDescription } } : {};
  const folds = r.plan.folds;
  const parts: string[] = [];
  const algorithm = r.plan.algorithm;
  if (r.plan.algorithm === 'fewshot-ensemble') {
    const desc = (m: { idf: boolean; weights: number[]; C: number }) => `IDF ${m.idf ? 'on' : 'off'}, block weights ${m.weights.map((v) => (v * v).toFixed(2)).join('/')}, C=${m.C}`;
    const pool = r.ensembleCv?.length ?? r.ensemble!.length;
    parts.push(r.ensembleCv
      ? `an ensemble of the ${r.ensemble!.length} of ${pool} L2-regularised logistic regressions (IDF on/off × encoder block weights × C 1, 10, 100) with the lowest ${folds}-fold cross-validated log-loss on the training split (${r.ensemble!.map(desc).join('; ')}), each refitted by L-BFGS to convergence, averaged in logit space`
      : `an ensemble of all ${r.ensemble!.length} L2-regularised logistic regressions (IDF on/off × encoder block weights × C 1, 10, 100; a class is too small to cross-validate), each fitted by L-BFGS to convergence, averaged in logit space`);
    if (r.bestValMacroF1 !== null) parts.push(`best ${folds}-fold out-of-fold macro-F1 of a configuration: ${r.bestValMacroF1.toFixed(4)}`);
    return {
      model: r.model, algorithm, progress, bestValMacroF1: r.bestValMacroF1, ...oof,
      selection: `few-shot recipe, nothing held out and nothing selected on the test split: ${parts.join('; ')}; all ${y.length} training texts and ${augY.length} extra rows (passages, class names, augmented variants) were used`,
    };
  }
  const w = r.blockWeights.map((v) => (v * v).toFixed(2)).join('/');
  if (r.cvConfigs) parts.push(`IDF (${r.idf ? 'on' : 'off'}) was chosen by ${folds}-fold stratified cross-validation over the training split (encoder block weights ${w})`);
  parts.push(`an L2-regularised logistic regression (C=${r.C}) was fitted by L-BFGS ${r.converged ? 'to convergence' : '(iteration limit reached before convergence)'}`);
  return {
    model: r.model, algorithm, progress, bestValMacroF1: r.bestValMacroF1, ...oof,
    selection: `few-shot recipe, nothing held out: ${parts.join('; ')}, on all ${y.length + augY.length} training rows`,
  };
}

function bestVal(history: EpochMetrics[], best: EpochMetrics | null): number | null {
  if (best && best.valMacroF1 !== null) return best.valMacroF1;
  const vals = history.map((h) => h.valMacroF1).filter((v): v is number => v !== null);
  return vals.length ? Math.max(...vals) : null;
}

/** Mean over folds of one epoch's metrics; `elapsedMs`: when the mean was computed. */
export function averageEpoch(rows: EpochMetrics[], labels: string[], elapsedMs: number): EpochMetrics {
  const mean = (xs: (number | null | undefined)[]): number | null => {
    const v = xs.filter((a): a is number => typeof a === 'number' && Number.isFinite(a));
    return v.length ? v.reduce((a, b) => a + b, 0) / v.length : null;
  };
  const perClassRecall: Record<string, number> = {};
  for (const l of labels) perClassRecall[l] = mean(rows.map((r) => r.perClassRecall?.[l])) ?? 0;
  return {
    epoch: rows[0].epoch,
    unit: 'epoch',
    loss: mean(rows.map((r) => r.loss)) ?? NaN,
    valLoss: mean(rows.map((r) => r.valLoss)),
    valMacroF1: mean(rows.map((r) => r.valMacroF1)),
    valAccuracy: mean(rows.map((r) => r.valAccuracy)),
    perClassRecall,
    elapsedMs,
  };
}

/** Out-of-fold predictions over the training split (for datasets without a test split). */
async function crossValidate(
  x: Row[], xAug: Row[][], y: number[], samples: Sample[], labels: string[], config: TrainConfig, head: HeadKind,
  hooks: FitHooks, rule?: DecisionRule,
): Promise<{ k: number; predictions: TestPrediction[]; argmax: number[] } | null> {
  const counts = labels.map((_, c) => y.filter((v) => v === c).length);
  const minCount = Math.min(...counts);
  if (minCount < 2) {
    hooks.warn(`Cross-validation needs at least 2 examples per label; "${labels[counts.indexOf(minCount)]}" has ${minCount}. No test metrics were computed.`);
    return null;
  }
  const k = Math.min(MAX_FOLDS, minCount);
  const folds = stratifiedKFold(y, labels.length, k, config.seed + 1000);
  const predictions: TestPrediction[] = new Array(y.length);
  const argmaxIdx: number[] = new Array(y.length);
  // Only the abstain threshold applies here: a dataset is cross-validated when a class has under 4 examples, where
  // head auto picks the centroid, which gives no out-of-fold probabilities to choose recall thresholds on.
  const foldRule: DecisionRule | undefined = rule && { ...rule, thresholds: {} };
  for (let f = 0; f < k; f++) {
    if (hooks.signal?.aborted) throw abortError();
    hooks.progress('evaluate', f, k, `Cross-validation fold ${f + 1} of ${k}`);
    const held = folds[f];
    const rest = complement(y.length, held);
    const sub = (idx: number[]) => ({ x: idx.map((i) => x[i]), aug: idx.map((i) => xAug[i]), y: idx.map((i) => y[i]) });
    const r = sub(rest);
    const fitted = await fitWithSelection(r.x, r.aug, r.y, labels, { ...config, seed: config.seed + f }, head, {
      signal: hooks.signal, warn: () => { /* per-fold warnings repeat the main ones */ }, progress: () => { /* quiet */ }, encoderId: hooks.encoderId,
    });
    const proba = await predictRows({ ...fitted.model, labels }, held.map((i) => x[i]), hooks.signal);
    held.forEach((i, j) => { predictions[i] = toPrediction(samples[i], i, proba[j], labels, foldRule); argmaxIdx[i] = argmax(proba[j]); });
  }
  hooks.progress('evaluate', k, k);
  return { k, predictions, argmax: argmaxIdx };
}

// ---------------------------------------------------------------- splits

/** Indices of each class (by label index), in input order. */
function indicesByClass(y: readonly number[], nClasses: number): number[][] {
  const by: number[][] = Array.from({ length: nClasses }, () => []);
  y.forEach((c, i) => by[c].push(i));
  return by;
}

/** Validation size per class for a stratified hold-out: round(n·f), at least 1 and at most n−1 (0 when n < 2). */
export function holdoutSizes(counts: readonly number[], fraction: number): number[] {
  return counts.map((n) => (n < 2 || fraction <= 0 ? 0 : Math.min(n - 1, Math.max(1, Math.round(n * fraction)))));
}

/** Stratified hold-out: `fraction` of each class goes to validation. Sorted index lists. */
export function stratifiedHoldout(y: readonly number[], nClasses: number, fraction: number, seed: number): { train: number[]; val: number[] } {
  const rand = seededRandom(seed);
  const by = indicesByClass(y, nClasses);
  const sizes = holdoutSizes(by.map((b) => b.length), fraction);
  const train: number[] = [];
  const val: number[] = [];
  by.forEach((idx, c) => {
    const s = shuffleInPlace(idx.slice(), rand);
    val.push(...s.slice(0, sizes[c]));
    train.push(...s.slice(sizes[c]));
  });
  return { train: train.sort((a, b) => a - b), val: val.sort((a, b) => a - b) };
}

/**
 * Stratified k folds: each class's shuffled indices are dealt round-robin over
 * the folds, continuing where the previous class stopped so fold sizes stay even.
 * Returns the validation indices of each fold (sorted).
 */
export function stratifiedKFold(y: readonly number[], nClasses: number, k: number, seed: number): number[][] {
  if (k < 2) throw new Error(`stratifiedKFold: k must be ≥ 2 (got ${k})`);
  const rand = seededRandom(seed);
  const folds: number[][] = Array.from({ length: k }, () => []);
  let next = 0;
  for (const idx of indicesByClass(y, nClasses)) {
    for (const i of shuffleInPlace(idx.slice(), rand)) {
      folds[next].push(i);
      next = (next + 1) % k;
    }
  }
  return folds.map((f) => f.sort((a, b) => a - b));
}

function complement(n: number, subset: readonly number[]): number[] {
  const s = new Set(subset);
  const out: number[] = [];
  for (let i = 0; i < n; i++) if (!s.has(i)) out.push(i);
  return out;
}

// ---------------------------------------------------------------- versions

/** Versions of node and the ML libraries (read from their package.json, without loading them). */
export function libraryVersions(): Record<string, string> {
  const v: Record<string, string> = { node: process.versions.node };
  const pkgs: Record<string, string> = {
    tfjs: '@tensorflow/tfjs', transformers: '@huggingface/transformers', onnxruntime: 'onnxruntime-node', fewshot: 'fewshot-lab',
  };
  for (const [key, name] of Object.entries(pkgs)) {
    const ver = findPackageVersion(name);
    if (ver) v[key] = ver;
  }
  return v;
}

function findPackageVersion(name: string): string | undefined {
  const starts = [__dirname, process.cwd()];
  for (const start of starts) {
    let dir = start;
    for (;;) {
      const candidates = name === 'fewshot-lab' ? [path.join(dir, 'package.json')] : [path.join(dir, 'node_modules', name, 'package.json')];
      for (const c of candidates) {
        try {
          const pkg = JSON.parse(fs.readFileSync(c, 'utf8')) as { name?: string; version?: string };
          if (pkg.name === name && pkg.version) return pkg.version;
        } catch { /* next */ }
      }
      const up = path.dirname(dir);
      if (up === dir) break;
      dir = up;
    }
  }
  return undefined;
}

export { formatReport };
