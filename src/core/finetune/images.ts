/**
 * Method 'finetune' on an image dataset (job kind 'image', python/fewshot_worker/image_job.py): the model's own
 * preprocessing and the augmentation the worker applies, the default learning rate of a CNN, the model's name.
 */
import * as path from 'node:path';
import type { ImageFinetuneJob } from '../../protocol/finetune';
import type { TrainConfig } from '../../protocol/run';
import { FINETUNE_DEFAULTS } from '../config';
import { DEFAULT_AFFINE } from '../images/augment';
import { imageModel, imageModelFolder } from '../images/encoder';
import { readPreprocess } from '../images/preprocess';

/**
 * The learning rate of the new classifier when the run keeps the text default (2e-5, too small for a freshly
 * initialised head); the pretrained body learns at a tenth of it (the worker's BODY_LR_FACTOR).
 */
export const IMAGE_FINETUNE_LEARNING_RATE = 1e-3;

/** The config an image fine-tuning run uses: the CNN learning rate in place of the text default. */
export function imageFinetuneConfig(config: TrainConfig): TrainConfig {
  return config.learningRate === FINETUNE_DEFAULTS.learningRate ? { ...config, learningRate: IMAGE_FINETUNE_LEARNING_RATE } : config;
}

/** The model folder that holds preprocess.json: models/<name>/ for a shipped model (e.g. efficientnet-lite0), else the folder itself. */
function preprocessFolder(model: string): string {
  const m = imageModel(model);
  return m ? imageModelFolder(m) : path.resolve(model);
}

/** The job's `image` part: the model's preprocess.json, the seed's RandomAffine, and the flip when config.augmentFlip. */
export function imageJobPart(model: string, config: TrainConfig): ImageFinetuneJob['image'] {
  const p = readPreprocess(preprocessFolder(model));
  const flip = config.augmentFlip === true;
  return {
    preprocess: { inputSize: p.inputSize, resizeShorter: p.resizeShorter, centerCrop: p.centerCrop, interpolation: p.interpolation, mean: [...p.mean], std: [...p.std] },
    augment: { affine: { degrees: DEFAULT_AFFINE.degrees, translate: [...DEFAULT_AFFINE.translate], scale: [...DEFAULT_AFFINE.scale] }, flip },
  };
}

/** What the report calls the CNN: 'EfficientNet-Lite0' for the shipped one, else the folder's name. */
export function cnnName(model: string): string {
  return imageModel(model) ? model.replace(/^efficientnet-lite/, 'EfficientNet-Lite') : path.basename(path.resolve(model));
}
