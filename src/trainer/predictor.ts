/**
 * Warm predictor child (dist/predictor.js), forked by launchPredictor() in
 * src/trainer/launch.ts. Protocol (src/protocol/trainer.ts):
 *   child → {type:'ready'}; parent → {type:'load', runDir}; child → 'loaded' | 'error';
 *   parent → {type:'predict', id, texts}; child → {type:'result', id} | {type:'error', id}.
 *   parent → {type:'predictImages', id, files}; child → {type:'imageResult', id, outcomes} | {type:'error', id}
 *   (image runs; a bad image is an error outcome naming it; repeated images reuse their cached embedding).
 * Requests are answered one at a time, in order. The child exits when the parent disconnects.
 */
import { TRAINER_PROTOCOL_VERSION, type ParentToPredictor, type PredictorToParent } from '../protocol/trainer';
import { loadPredictor, predictImagesEach, type Predictor } from '../core/predict';
import { errorMessage, isFewShotError } from '../core/errors';

const send = (m: PredictorToParent): void => {
  if (m.type === 'error') process.stderr.write(`[predictor] error: ${m.message}${m.fix ? ` (fix: ${m.fix})` : ''}\n`);
  if (process.send && process.connected) {
    try { process.send(m); } catch { /* parent gone */ }
  }
};

let predictor: Predictor | undefined;
let loading: Promise<void> | undefined;
let queue: Promise<void> = Promise.resolve();

function load(msg: Extract<ParentToPredictor, { type: 'load' }>): void {
  if (msg.protocol !== TRAINER_PROTOCOL_VERSION) {
    send({ type: 'error', message: `Predictor protocol mismatch: the parent speaks version ${msg.protocol}, this predictor version ${TRAINER_PROTOCOL_VERSION}.`, fix: 'Rebuild the extension (npm run build).' });
    return;
  }
  const t0 = Date.now();
  loading = (async () => {
    try {
      predictor?.dispose();
      predictor = undefined;
      predictor = await loadPredictor(msg.runDir, { hf: msg.hf, log: (m) => process.stderr.write(`[predictor] ${m}\n`) });
      send({ type: 'loaded', runDir: predictor.runDir, labels: predictor.labels, encoder: predictor.encoderId, loadMs: Date.now() - t0, modality: predictor.modality });
    } catch (e) {
      send({ type: 'error', message: errorMessage(e), fix: isFewShotError(e) ? e.opts.fix : undefined });
    }
  })();
}

/** Runs a request after the model load and the requests before it; a failure is answered as an error of request `id`. */
function enqueue(id: Extract<ParentToPredictor, { type: 'predict' }>['id'], work: (p: Predictor, t0: number) => Promise<void>): void {
  queue = queue.then(async () => {
    const t0 = Date.now();
    try {
      await loading;
      if (!predictor) throw new Error('No model is loaded in the predictor.');
      await work(predictor, t0);
    } catch (e) {
      send({ type: 'error', id, message: errorMessage(e), fix: isFewShotError(e) ? e.opts.fix : undefined });
    }
  });
}

function predict(msg: Extract<ParentToPredictor, { type: 'predict' }>): void {
  enqueue(msg.id, async (p, t0) => {
    if (!Array.isArray(msg.texts) || msg.texts.some((t) => typeof t !== 'string')) throw new Error('predict: texts must be an array of strings.');
    const predictions = await p.predict(msg.texts);
    send({ type: 'result', id: msg.id, predictions, ms: Date.now() - t0 });
  });
}

function predictImages(msg: Extract<ParentToPredictor, { type: 'predictImages' }>): void {
  enqueue(msg.id, async (p, t0) => {
    if (!Array.isArray(msg.files) || msg.files.some((f) => typeof f !== 'string')) throw new Error('predictImages: files must be an array of paths.');
    const hits = p.imageCache?.hits ?? 0;
    const outcomes = await predictImagesEach(p, msg.files);
    send({ type: 'imageResult', id: msg.id, outcomes, ms: Date.now() - t0, cacheHits: (p.imageCache?.hits ?? 0) - hits });
  });
}

process.on('message', (raw: unknown) => {
  const msg = raw as ParentToPredictor;
  if (!msg || typeof msg !== 'object') return;
  if (msg.type === 'load') load(msg);
  else if (msg.type === 'predict') predict(msg);
  else if (msg.type === 'predictImages') predictImages(msg);
});
process.on('disconnect', () => {
  try { predictor?.dispose(); } catch { /* ignore */ }
  process.exit(0);
});
process.on('SIGTERM', () => process.exit(0));
process.on('uncaughtException', (e) => {
  send({ type: 'error', message: errorMessage(e) });
  setTimeout(() => process.exit(1), 50);
});

console.log = (...args: unknown[]) => process.stderr.write(args.map(String).join(' ') + '\n');
console.info = console.log;

if (!process.send) {
  process.stderr.write('dist/predictor.js is a child process: start it with child_process.fork (see src/trainer/launch.ts).\n');
  process.exit(2);
}
send({ type: 'ready', protocol: TRAINER_PROTOCOL_VERSION, pid: process.pid });
