/** The same forward pass as predict.ts, in tfjs (used to cross-check the plain-JS path). */
import type { ModelFile } from '../../protocol/run';
import { ensureBackend, loadTf } from './backend';

export async function predictProbaTf(model: ModelFile, x: Float32Array[]): Promise<number[][]> {
  await ensureBackend();
  const tf = loadTf();
  const w = (name: string) => {
    const m = model.weights.find((v) => v.name === name);
    if (!m) throw new Error(`model file has no weight '${name}'`);
    return tf.tensor(m.values, m.shape);
  };
  const d = x[0]?.length ?? 0;
  const out = tf.tidy(() => {
    let X: import('@tensorflow/tfjs-core').Tensor = tf.tensor2d(Float32Array.from(x.flatMap((v) => Array.from(v))), [x.length, d]);
    if (model.normalisation) X = tf.div(tf.sub(X, tf.tensor1d(model.normalisation.mean)), tf.tensor1d(model.normalisation.std.map((s) => (s > 0 ? s : 1))));
    let z: import('@tensorflow/tfjs-core').Tensor;
    if (model.head === 'centroid') {
      const scale = model.weights.find((v) => v.name === 'scale')?.values[0] ?? 20;
      const Xn = tf.div(X, tf.maximum(tf.norm(X, 'euclidean', 1, true), tf.scalar(1e-30)));
      z = tf.mul(tf.matMul(Xn, w('centroids'), false, true), tf.scalar(scale));
    } else if (model.head === 'mlp') {
      z = tf.add(tf.matMul(tf.relu(tf.add(tf.matMul(X, w('W1')), w('b1'))), w('W2')), w('b2'));
    } else {
      z = tf.add(tf.matMul(X, w('W')), w('b'));
    }
    return tf.softmax(z);
  });
  const arr = (await out.array()) as number[][];
  out.dispose();
  return arr;
}
