/** The image encoders that ship under models/ (specs and ids only: no ML package is loaded by this module). */
export interface ImageModel {
  /** What users write: `efficientnet-lite0`. */
  spec: string;
  /** Stable encoder id (embedding cache, saved models); a new conversion gets a new id. */
  id: string;
  /** Folder under models/. */
  folder: string;
  dim: number;
  description: string;
}

export const IMAGE_MODELS: readonly ImageModel[] = [
  {
    spec: 'efficientnet-lite0',
    id: 'efficientnet-lite0-imagenet-1280',
    folder: 'efficientnet-lite0',
    dim: 1280,
    description: 'EfficientNet-Lite0 ImageNet CNN (1280-d pooled features; ONNX, weights shipped as fp16 + int8 residual, Apache-2.0)',
  },
];

export function imageModel(specOrId: string): ImageModel | undefined {
  return IMAGE_MODELS.find((m) => m.spec === specOrId || m.id === specOrId);
}
