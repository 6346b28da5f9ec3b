/**
 * Heads: small classifiers on top of frozen embeddings.
 * Training runs in tfjs (backend chosen by selectBackend); prediction is plain JS.
 */
export { selectBackend, ensureBackend, loadTf } from './backend';
export { trainHead, inverseFrequencyWeights, rng, DEFAULT_L2, DEFAULT_STANDARDIZE, DEFAULT_HIDDEN, DEFAULT_INPUT_SCALE, defaultHidden } from './train';
export type { HeadTrainOptions, HeadTrainResult } from './train';
export { predictProba, predictProbaSync, compileHead } from './predict';
export { predictProbaTf } from './tfpredict';
