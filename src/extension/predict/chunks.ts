/** Predict Each Line on big files: the lines go to the predictor in chunks. No 'vscode'. */

/**
 * Lines per predictor request: progress and cancel between requests, and no single request that
 * holds the warm predictor (and Predict Selection behind it) for long.
 */
export const LINE_CHUNK = 500;

/**
 * Predicts `texts` chunk by chunk, in order. `onChunk` after each chunk (lines done, total);
 * `cancelled()` is asked before each chunk: once it is true no further chunk is sent and the
 * result holds the predictions so far with `cancelled: true`.
 */
export async function predictInChunks<P>(
  texts: string[],
  predict: (chunk: string[]) => Promise<{ predictions: P[]; ms: number }>,
  o: { chunk?: number; onChunk?(done: number, total: number): void; cancelled?(): boolean } = {},
): Promise<{ predictions: P[]; ms: number; cancelled: boolean }> {
  const size = Math.max(1, o.chunk ?? LINE_CHUNK);
  const predictions: P[] = [];
  let ms = 0;
  for (let i = 0; i < texts.length; i += size) {
    if (o.cancelled?.()) return { predictions, ms, cancelled: true };
    const chunk = texts.slice(i, i + size);
    const r = await predict(chunk);
    if (r.predictions.length !== chunk.length) throw new Error(`the predictor returned ${r.predictions.length} predictions for ${chunk.length} lines`);
    predictions.push(...r.predictions);
    ms += r.ms;
    o.onChunk?.(predictions.length, texts.length);
  }
  return { predictions, ms, cancelled: false };
}
