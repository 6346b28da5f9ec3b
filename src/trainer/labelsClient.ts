/**
 * Parent side of the label-tools child (dist/labels.js): one request, progress, one result. Imports neither
 * 'vscode' nor any ML library (the extension host calls it).
 */
import type { ChildProcess } from 'node:child_process';
import { LABELS_WORKER_PROTOCOL_VERSION, type LabelsRequest, type LabelsToParent } from '../protocol/labelsWorker';
import type { AuditResult, SuggestResult } from '../protocol/labels';
import { CANCEL_GRACE_MS, findChildScript, forkChild, LogTail } from './launch';

/** A failure of the child, with the fix it suggested (`cancelled`: the caller's signal stopped it). */
export class LabelsError extends Error {
  constructor(message: string, readonly fix?: string, readonly file?: string, readonly cancelled = false) {
    super(message);
    this.name = 'LabelsError';
  }
}

export interface LabelsRunOptions {
  signal?: AbortSignal;
  onProgress?(message: string, done?: number, total?: number): void;
  /** Default: dist/labels.js next to this bundle. */
  script?: string;
  execPath?: string;
  env?: NodeJS.ProcessEnv;
}

export function runLabels(req: LabelsRequest & { kind: 'audit' }, o?: LabelsRunOptions): Promise<AuditResult>;
export function runLabels(req: LabelsRequest & { kind: 'suggest' }, o?: LabelsRunOptions): Promise<SuggestResult>;
export function runLabels(req: LabelsRequest, o: LabelsRunOptions = {}): Promise<AuditResult | SuggestResult> {
  const tail = new LogTail();
  return new Promise((resolve, reject) => {
    let child: ChildProcess;
    try { child = forkChild(o.script ?? findChildScript('labels.js'), o.execPath, o.env, tail); } catch (e) { return reject(e); }
    let settled = false;
    let result: AuditResult | SuggestResult | undefined;
    let error: LabelsError | undefined;
    const onAbort = () => {
      if (child.connected) { try { child.send({ type: 'cancel' }); } catch { /* gone */ } }
      setTimeout(() => { if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL'); }, CANCEL_GRACE_MS).unref();
    };
    if (o.signal?.aborted) onAbort();
    o.signal?.addEventListener('abort', onAbort, { once: true });
    child.on('message', (raw: unknown) => {
      const m = raw as LabelsToParent;
      if (!m || typeof m !== 'object') return;
      if (m.type === 'ready') {
        if (m.protocol !== LABELS_WORKER_PROTOCOL_VERSION) {
          error = new LabelsError(`The label tools process speaks protocol version ${String(m.protocol)}, this extension version ${LABELS_WORKER_PROTOCOL_VERSION}.`, 'Rebuild the extension (npm run build) and reload the window.');
          child.kill('SIGKILL');
        } else if (o.signal?.aborted) child.kill('SIGKILL');
        else if (child.connected) child.send({ type: 'run', protocol: LABELS_WORKER_PROTOCOL_VERSION, request: req });
      } else if (m.type === 'progress') o.onProgress?.(m.message, m.done, m.total);
      else if (m.type === 'audit' || m.type === 'suggest') result = m.result;
      else if (m.type === 'error') error = new LabelsError(m.message, m.fix, m.file, !!m.cancelled || !!o.signal?.aborted);
    });
    const finish = (code: number | null, signal: NodeJS.Signals | null) => {
      if (settled) return;
      settled = true;
      o.signal?.removeEventListener('abort', onAbort);
      tail.end();
      if (result !== undefined) return resolve(result);
      if (error) return reject(error);
      if (o.signal?.aborted) return reject(new LabelsError('Cancelled.', undefined, undefined, true));
      const last = tail.lines.slice(-10);
      reject(new LabelsError(`The label tools process ${signal ? `was killed by ${signal}` : `exited with code ${code}`} before finishing.${last.length ? `\nLast log lines:\n${last.join('\n')}` : ''}`));
    };
    child.on('exit', finish);
    child.on('error', (e) => { if (child.pid === undefined) { tail.push(e.message); finish(null, null); } });
  });
}
