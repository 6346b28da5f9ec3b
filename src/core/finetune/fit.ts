/**
 * The fit stage of method 'finetune' (called by src/core/train.ts): find and probe Python, write the
 * job (examples already split by TypeScript), run the worker and turn its messages into progress
 * points (EpochMetrics, unit 'epoch', label "stage 2 · top 3 layers"), progress events and logs.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { FINETUNE_PROTOCOL_VERSION, type FinetuneJob, type ImageFinetuneJob, type WorkerMessage } from '../../protocol/finetune';
import type { EpochMetrics, TrainConfig } from '../../protocol/run';
import type { TrainPhase, TrainRequest } from '../../protocol/trainer';
import { assertFinetuneReady, describeProbe, findPython, probePython, type PythonProbe } from './python';
import { progressQueue, runWorker, writeJob, type FinetuneDone, type StartedMessage } from './worker';

export interface FinetuneFitArgs {
  runDir: string;
  labels: string[];
  /** Texts, or with `image` the absolute paths of image files. */
  train: { text: string; label: number }[];
  val: { text: string; label: number }[];
  test: string[];
  /** An image dataset: the job is of kind 'image' (a CNN, one process), with this preprocessing and augmentation. */
  image?: ImageFinetuneJob['image'];
  config: TrainConfig;
  allowRemote: boolean;
  python?: TrainRequest['python'];
  signal?: AbortSignal;
  log(m: string, level?: 'info' | 'warn' | 'error'): void;
  progress(phase: TrainPhase, done: number, total: number, message?: string): void;
  onEpoch(m: EpochMetrics): Promise<void>;
  /** The worker started (device known). */
  onStarted?(m: StartedMessage, probe: PythonProbe): Promise<void> | void;
  env?: NodeJS.ProcessEnv;
}

export interface FinetuneFit {
  probe: PythonProbe;
  started: StartedMessage;
  done: FinetuneDone;
  /** Folder of the fine-tuned model (relative to the run folder). */
  modelPath: string;
}

/** Where the worker writes the model, relative to the run folder (ModelFile.transformer.path). */
export const FINETUNED_DIR = 'model/finetuned';

function classWeights(y: number[], n: number): number[] {
  const counts = new Array<number>(n).fill(0);
  for (const c of y) counts[c]++;
  return counts.map((k) => (k ? y.length / (n * k) : 0));
}

export function stageLabel(stage: number, name: string | undefined): string {
  const n = (name ?? '').trim();
  return n && !/^stage\b/i.test(n) ? `stage ${stage} · ${n}` : n || `stage ${stage}`;
}

export async function fitFinetune(a: FinetuneFitArgs): Promise<FinetuneFit> {
  const c = a.config;
  const ft = c.finetune!;
  a.progress('train', 0, c.epochs, 'Checking the Python environment');
  const candidate = findPython({ env: a.env, settingPath: a.python?.settingPath, extensionPath: a.python?.extensionPath });
  const probe = await probePython(candidate, { env: a.env, signal: a.signal });
  for (const l of describeProbe(probe)) a.log(l);
  assertFinetuneReady(probe);

  const wantsCuda = ft.device === 'auto' || ft.device === 'cuda';
  const nproc = wantsCuda && probe.cuda.available && probe.cuda.count > 1 && !a.image ? probe.cuda.count : 1;
  const common = {
    protocol: FINETUNE_PROTOCOL_VERSION,
    labels: a.labels,
    outputDir: path.join(a.runDir, FINETUNED_DIR),
    settings: {
      model: ft.model, allowRemote: a.allowRemote, epochs: c.epochs, batchSize: c.batchSize, learningRate: c.learningRate,
      weightDecay: ft.weightDecay, warmupRatio: ft.warmupRatio, patience: c.patience, unfreezeTop: ft.unfreezeTop,
      fullFinetuneAbove: ft.fullFinetuneAbove, headEpochs: ft.headEpochs, precision: ft.precision, device: ft.device,
      maxLength: ft.maxLength, seed: c.seed,
      ...(c.classWeighting ? { classWeights: classWeights(a.train.map((e) => e.label), a.labels.length) } : {}),
    },
  };
  const files = (rows: { text: string; label: number }[]): { file: string; label: number }[] => rows.map((e) => ({ file: e.text, label: e.label }));
  const job: FinetuneJob | ImageFinetuneJob = a.image
    ? { ...common, kind: 'image', train: files(a.train), val: files(a.val), test: a.test.map((file) => ({ file })), image: a.image }
    : { ...common, train: a.train, val: a.val, test: a.test.map((text) => ({ text })) };
  fs.mkdirSync(job.outputDir, { recursive: true });
  const jobFile = await writeJob(a.runDir, job);
  a.log(`Fine-tuning worker: ${probe.python.path} -m fewshot_worker${nproc > 1 ? ` through torch.distributed.run on ${nproc} GPUs` : ''} (job ${jobFile})`);
  a.progress('train', 0, c.epochs, `Starting the fine-tuning worker (${ft.model})`);

  const stageNames = new Map<number, string>();
  let device = '';
  let started: StartedMessage | undefined;
  // EpochMetrics.elapsedMs is the time since training started (the worker's own elapsedMs is per epoch)
  let tStart = Date.now();
  // epochs are stored and emitted in order, each before the next is handled
  const queue = progressQueue(a.log);
  const then = queue.then;
  const onMessage = (m: WorkerMessage): void => {
    switch (m.type) {
      case 'started':
        started = m;
        tStart = Date.now();
        device = `${m.device.kind}${m.device.name ? ` · ${m.device.name}` : ''}${m.device.count > 1 ? ` ×${m.device.count}` : ''}`;
        a.log(`Device: ${device}, precision ${m.device.precision} (${m.device.reason}); model ${m.model.name}: ${m.model.layers} layers, ${m.model.parameters.toLocaleString('en-US')} parameters`);
        then(() => a.onStarted?.(m, probe));
        break;
      case 'stage':
        stageNames.set(m.stage, m.name);
        a.log(`${stageLabel(m.stage, m.name)}: ${m.trainableParameters.toLocaleString('en-US')} of ${m.totalParameters.toLocaleString('en-US')} parameters trainable, ${m.epochs} epoch(s)${m.cachedLayers ? `, outputs of ${m.cachedLayers} frozen layer(s) cached` : ''}`);
        a.progress('train', 0, c.epochs, `${stageLabel(m.stage, m.name)} (${m.trainableParameters.toLocaleString('en-US')} trainable parameters)`);
        break;
      case 'epoch': {
        const point: EpochMetrics = {
          epoch: m.epoch, unit: 'epoch', label: stageLabel(m.stage, stageNames.get(m.stage)),
          loss: m.loss, valLoss: m.valLoss, valMacroF1: m.valMacroF1, valAccuracy: m.valAccuracy,
          perClassRecall: m.perClassRecall, elapsedMs: Date.now() - tStart,
          stage: m.stage, samplesPerSecond: m.samplesPerSecond,
          ...(m.deviceMemoryMiB !== undefined ? { deviceMemoryMiB: m.deviceMemoryMiB } : {}),
          ...(device ? { device } : {}),
        };
        then(() => a.onEpoch(point));
        a.progress('train', m.epoch, m.epochs || c.epochs, `epoch ${m.epoch}: ${point.label}${m.best ? ' (best so far)' : ''}`);
        break;
      }
      case 'log':
        a.log(`worker: ${m.message}`, m.level);
        break;
      default:
        break;
    }
  };
  const done = await runWorker({
    python: probe.python.path, jobFile, nproc, signal: a.signal, env: a.env, batchSize: c.batchSize,
    packageDir: (a.env ?? process.env).FEWSHOT_WORKER_DIR || undefined,
    onMessage, onText: (l) => a.log(`worker: ${l}`),
  });
  await queue.idle();
  if (!started) throw new Error('The fine-tuning worker finished without a started message.');
  return { probe, started, done, modelPath: FINETUNED_DIR };
}
