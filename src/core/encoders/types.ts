import type { EncoderInfo } from '../../protocol/run';

export type { EncoderInfo };

/**
 * A vector as its non-zero entries: dims `idx` (ascending) with float32 values `val`, of length `dim`.
 * Feature-hashing encoders return these from `embedSparse` (a 100-character text has a few hundred
 * of 16k–64k dims), so that 100,000 texts fit in memory.
 */
export interface SparseVec { dim: number; idx: Int32Array; val: Float32Array }

/** Turns texts into fixed-size vectors. Every vector it returns is L2-normalised (unless all-zero). */
export interface Encoder {
  /** Stable id: the same id must always produce the same vectors (it keys the embedding cache). */
  id: string;
  dim: number;
  /** Texts are cut to this many characters (code points) before encoding. */
  maxChars: number;
  embed(texts: string[], onProgress?: (done: number, total: number) => void): Promise<Float32Array[]>;
  /** The same vectors as `embed`, as sparse rows (the same float32 values): only on encoders whose vectors are mostly zeros. */
  embedSparse?(texts: string[], onProgress?: (done: number, total: number) => void): Promise<SparseVec[]>;
  dispose?(): void;
  /**
   * false when recomputing is cheaper than reading from disk (the hashing encoder):
   * `withEmbeddingCache` then passes calls straight through. Default true.
   */
  cacheable?: boolean;
  /** Lazy encoders (USE-lite, Hugging Face): load the model now instead of on the first embed that needs it. */
  preload?(): Promise<void>;
  /** Set on combo encoders: the weighted parts (withEmbeddingCache caches each part separately). */
  parts?: { encoder: Encoder; weight: number }[];
}

export interface HfOptions {
  /** Folder of downloaded hub models (`<cacheDir>/<org>/<name>/…`). */
  cacheDir?: string;
  /** Allow downloads from the Hugging Face hub. Default false (privacy: no network). */
  allowRemote?: boolean;
  /** A local model folder used by 'auto' (config.json, tokenizer.json, tokenizer_config.json, onnx/model.onnx). */
  localModelPath?: string;
  /** ONNX weights to read: 'fp32' → onnx/model.onnx, 'q8' → onnx/model_quantized.onnx. Default: fp32, or q8 when only the quantized file exists. */
  dtype?: 'fp32' | 'fp16' | 'q8' | 'int8' | 'uint8' | 'q4';
  /** Texts per inference call. Default 16. */
  batchSize?: number;
}

export interface EncoderOptions {
  /** Embedding cache folder (used by callers with `withEmbeddingCache`; createEncoder does not wrap). */
  cacheDir?: string;
  hf?: HfOptions;
  /** Dataset language ('en' | 'zh' | 'other'): only used by 'auto'. */
  language?: string;
  log?: (m: string) => void;
  /** Max characters per text (default 2000). */
  maxChars?: number;
  /** Dimension of the hashing encoder (power of two, 2^10..2^18; default 2^14). */
  hashingDim?: number;
  /**
   * Load model-backed encoders (USE-lite, Hugging Face) in createEncoder instead of on the first
   * embed() that needs them (warm predictors). Default false: with a warm embedding cache the
   * model is never loaded at all.
   */
  eager?: boolean;
  /**
   * Awaited once before a TensorFlow.js encoder (USE-lite) loads its model, i.e. on its first embedding-cache miss
   * (or at once when `eager`): lets the caller choose the shared tfjs engine's backend first, and only when tfjs runs.
   */
  beforeTfjsLoad?: () => Promise<void>;
}

export const DEFAULT_MAX_CHARS = 2000;
