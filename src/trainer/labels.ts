/**
 * Label-tools child process (dist/labels.js): Check Labels and Suggest What to Label Next run here, not in the
 * extension host (embedding and the out-of-fold fits take seconds). Protocol: src/protocol/labelsWorker.ts.
 */
import { LABELS_WORKER_PROTOCOL_VERSION, type LabelsToParent, type ParentToLabels } from '../protocol/labelsWorker';
import { auditDataset, suggestForDataset, type LabelSessionOptions } from '../core/labels';
import { errorMessage, isFewShotError } from '../core/errors';

const send = (m: LabelsToParent): Promise<void> => new Promise((resolve) => {
  if (!process.send || !process.connected) return resolve();
  try { process.send(m, undefined, {}, () => resolve()); } catch { resolve(); }
});

const controller = new AbortController();
let running = false;

async function run(msg: Extract<ParentToLabels, { type: 'run' }>): Promise<void> {
  if (running) return;
  running = true;
  if (msg.protocol !== LABELS_WORKER_PROTOCOL_VERSION) {
    await send({ type: 'error', message: `Label tools protocol mismatch: the parent speaks version ${msg.protocol}, this process version ${LABELS_WORKER_PROTOCOL_VERSION}.`, fix: 'Rebuild the extension (npm run build) and reload the window.' });
    process.exit(1);
  }
  const r = msg.request;
  const o: LabelSessionOptions = {
    storeDir: r.storeDir, encoder: r.encoder, hf: r.hf, signal: controller.signal, textColumn: r.textColumn, labelColumn: r.labelColumn,
    onProgress: (message, done, total) => { void send({ type: 'progress', message, done, total }); },
  };
  let code = 0;
  try {
    if (r.kind === 'audit') await send({ type: 'audit', result: await auditDataset(r.dataset, o) });
    else await send({ type: 'suggest', result: await suggestForDataset(r.dataset, r.n ?? 20, o) });
  } catch (e) {
    code = 1;
    const cancelled = controller.signal.aborted || (e instanceof Error && e.name === 'AbortError');
    await send(isFewShotError(e)
      ? { type: 'error', message: e.message, fix: e.opts.fix, file: e.opts.file, line: e.opts.line, cancelled }
      : { type: 'error', message: errorMessage(e), cancelled });
  }
  process.exit(code);
}

process.on('message', (raw: unknown) => {
  const msg = raw as ParentToLabels;
  if (!msg || typeof msg !== 'object') return;
  if (msg.type === 'run') void run(msg);
  else if (msg.type === 'cancel') {
    controller.abort();
    setTimeout(() => process.exit(0), 700).unref();
  }
});
process.on('disconnect', () => { controller.abort(); setTimeout(() => process.exit(0), 300).unref(); });
process.on('uncaughtException', (e) => { void send({ type: 'error', message: errorMessage(e) }).then(() => process.exit(1)); });

console.log = (...args: unknown[]) => process.stderr.write(args.map(String).join(' ') + '\n');
console.info = console.log;

if (!process.send) {
  process.stderr.write('dist/labels.js is a child process: the extension starts it (src/extension/labels).\n');
  process.exit(2);
}
void send({ type: 'ready', protocol: LABELS_WORKER_PROTOCOL_VERSION, pid: process.pid });
