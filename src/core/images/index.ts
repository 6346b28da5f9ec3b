/**
 * Images: image folder datasets, augmentation and the perceptual hash. (The ONNX image encoder lives in encoder.ts
 * and preprocess.ts.) No 'vscode' imports.
 */
export {
  loadImageDataset, isImageDataset, readImageFile, sniffImageFormat, imageFingerprint, IMAGE_DEFAULTS, IMAGE_FORMATS, ImageIssueCodes,
} from './dataset';
export type { ImageDataset, ImageSample, ImageFileInfo, ImageFormat, ImageLoadOptions, ImageRead } from './dataset';
export { augmentImage, affineWarp, drawAffineParams, DEFAULT_AFFINE } from './augment';
export type { AffineOptions, AffineParams, AugmentedImage } from './augment';
export { dHash, hammingDistance, findDuplicates, NEAR_DUPLICATE_BITS } from './phash';
export type { DuplicatePair, Duplicates, HashableImage } from './phash';
export { loadSharp, openImage } from './sharp';
export { loadImageDecoders, decodeImage, decodeBmp, imageHeader, toRgbOnWhite, pngFromRaw, applyOrientation } from './decode';
export type { RawImage, ImageHeader } from './decode';
