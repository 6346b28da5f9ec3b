/**
 * Keeps one warm predictor child for the active run: launches it on first use,
 * relaunches it when the run changes or after it crashed, and puts timeouts on
 * loading and predicting so a broken model never hangs the editor.
 * No 'vscode' import.
 */
import type { Prediction } from '../../protocol/run';
import type { ImageOutcome } from '../../protocol/trainer';
import type { PredictorClient, PredictorInfo } from '../../trainer/launch';

type WarmErrorKind = 'load' | 'load-timeout' | 'predict-timeout' | 'crash' | 'predict';

export class WarmPredictorError extends Error {
  constructor(
    message: string,
    readonly kind: WarmErrorKind,
    readonly fix?: string,
    /** Consecutive crashes/timeouts so far (for "keeps crashing"). */
    readonly failures = 0,
    readonly lastLog: string[] = [],
  ) {
    super(message);
    this.name = 'WarmPredictorError';
  }
}

interface WarmPredictorOptions {
  launch(runDir: string, onExit: (lastLog: string[]) => void): PredictorClient;
  /** Max wait for the model to load (default 120 s). */
  readyTimeoutMs?: number;
  /** Max wait for one predict call: base + per text (default 30 s + 50 ms/text). */
  predictTimeoutMs?: number;
  predictTimeoutPerTextMs?: number;
  log?(m: string): void;
}

interface WarmResult {
  predictions: Prediction[];
  ms: number;
  /** True when this call started (or restarted) the child. */
  launched: boolean;
  info: PredictorInfo;
  /** True when the child had crashed and was relaunched for this call. */
  restarted?: boolean;
}

function withTimeout<T>(p: Promise<T>, ms: number, onTimeout: () => Error): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const t = setTimeout(() => reject(onTimeout()), ms);
    p.then((v) => { clearTimeout(t); resolve(v); }, (e) => { clearTimeout(t); reject(e); });
  });
}

interface WarmImageResult extends Omit<WarmResult, 'predictions'> {
  outcomes: ImageOutcome[];
  cacheHits: number;
}

/** An image counts as this many texts in the predict time limit (decode + a CNN pass). */
const IMAGE_COST = 10;

export class WarmPredictor {
  private client: PredictorClient | undefined;
  private runDir: string | undefined;
  /** Consecutive crashes or timeouts; reset by a successful prediction. */
  failures = 0;
  /** Number of children launched so far (for tests and logs). */
  launches = 0;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly opts: WarmPredictorOptions) {}

  get activeRunDir(): string | undefined { return this.runDir; }
  get running(): boolean { return !!this.client && !this.client.exited; }

  /** Load `runDir` in a fresh child (disposing the old one) without predicting. */
  warm(runDir: string): Promise<PredictorInfo> {
    return this.serial(async () => (await this.ensure(runDir)).info);
  }

  /** Predict a batch with the model of `runDir`; requests are served one at a time. */
  predict(runDir: string, texts: string[]): Promise<WarmResult> {
    return this.retried(async () => {
      const r = await this.doPredict(runDir, texts.length, (c) => c.predict(texts));
      return { predictions: r.value, ms: r.ms, launched: r.launched, info: r.info };
    });
  }

  /** Label image files with the (image) model of `runDir`: one outcome per file; cacheHits = embeddings reused. */
  predictImages(runDir: string, files: string[]): Promise<WarmImageResult> {
    return this.retried(async () => {
      const r = await this.doPredict(runDir, files.length * IMAGE_COST, (c) => c.predictImages(files));
      return { outcomes: r.value.outcomes, cacheHits: r.value.cacheHits, ms: r.ms, launched: r.launched, info: r.info };
    });
  }

  private retried<T extends { launched: boolean; restarted?: boolean }>(fn: () => Promise<T>): Promise<T> {
    return this.serial(async () => {
      try {
        return await fn();
      } catch (e) {
        // A child that died under us is relaunched once, transparently.
        if (e instanceof WarmPredictorError && e.kind === 'crash') {
          (this.opts.log ?? (() => undefined))(`predictor: crashed (${e.message.split('\n')[0]}); relaunching`);
          const r = await fn();
          return { ...r, launched: true, restarted: true };
        }
        throw e;
      }
    });
  }

  /** Stop the child (e.g. the active run changed); the next call launches a new one. */
  reset(): void {
    const c = this.client;
    this.client = undefined;
    this.runDir = undefined;
    c?.dispose();
  }

  dispose(): void { this.reset(); }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.queue.then(fn, fn);
    this.queue = next.catch(() => undefined);
    return next;
  }

  private async ensure(runDir: string): Promise<{ client: PredictorClient; info: PredictorInfo; launched: boolean }> {
    let launched = false;
    if (!this.client || this.client.exited || this.runDir !== runDir) {
      this.reset();
      this.launches++;
      launched = true;
      const log = this.opts.log ?? (() => undefined);
      log(`predictor: loading ${runDir}`);
      const client = this.opts.launch(runDir, (lastLog) => {
        log(`predictor: child exited unexpectedly${lastLog.length ? `\n${lastLog.slice(-10).join('\n')}` : ''}`);
      });
      this.client = client;
      this.runDir = runDir;
    }
    const client = this.client!;
    const readyMs = this.opts.readyTimeoutMs ?? 120_000;
    try {
      const info = await withTimeout(client.ready, readyMs, () => new WarmPredictorError(`The model did not load within ${Math.round(readyMs / 1000)} s.`, 'load-timeout'));
      return { client, info, launched };
    } catch (e) {
      const lastLog = client.lastLog();
      this.reset();
      if (e instanceof WarmPredictorError) {
        this.failures++;
        throw new WarmPredictorError(e.message, e.kind, undefined, this.failures, lastLog);
      }
      const err = e as Error & { fix?: string };
      // The child answered with an error (e.g. encoder not cached): a model problem, not a crash —
      // unless it died while loading.
      const crashed = client.exited && /predictor process/i.test(err.message ?? '');
      if (crashed) this.failures++;
      throw new WarmPredictorError(err.message ?? String(e), crashed ? 'crash' : 'load', err.fix, this.failures, lastLog);
    }
  }

  /** One request on the warm child; `units` = texts (an image counts IMAGE_COST texts) for the time limit. */
  private async doPredict<T>(runDir: string, units: number, call: (c: PredictorClient) => Promise<T>): Promise<{ value: T; ms: number; launched: boolean; info: PredictorInfo }> {
    const { client, info, launched } = await this.ensure(runDir);
    const t0 = Date.now();
    const limit = (this.opts.predictTimeoutMs ?? 30_000) + (this.opts.predictTimeoutPerTextMs ?? 50) * units;
    try {
      const value = await withTimeout(call(client), limit, () => new WarmPredictorError(`The model did not answer within ${Math.round(limit / 1000)} s.`, 'predict-timeout'));
      this.failures = 0;
      return { value, ms: Date.now() - t0, launched, info };
    } catch (e) {
      const lastLog = client.lastLog();
      if (e instanceof WarmPredictorError) {
        // Stuck child: kill it; the next call starts a fresh one.
        this.reset();
        this.failures++;
        throw new WarmPredictorError(e.message, e.kind, undefined, this.failures, lastLog);
      }
      const err = e as Error & { fix?: string };
      if (client.exited) {
        this.reset();
        this.failures++;
        throw new WarmPredictorError(err.message, 'crash', err.fix, this.failures, lastLog);
      }
      throw new WarmPredictorError(err.message ?? String(e), 'predict', err.fix, this.failures, lastLog);
    }
  }
}
