/**
 * The local HTTP model server behind `fewshot serve` and the "Serve Model
 * Locally" command. node:http only, no 'vscode'.
 *
 *   POST /predict  {"text": "…"}      → {label, probabilities:[{label,p}], ms}
 *                  {"texts": ["…"]}   → {predictions:[{label, probabilities}], ms}
 *   image runs:    multipart/form-data (one or more image parts), {"image": "<base64>"}, {"images": [...]}
 *                  → the same answers (a multipart part's prediction also names its `file`)
 *   GET  /health                      → {status:'ok'}
 *   GET  /model                       → {runId, labels, encoder, head, createdAt, testMacroF1, decision}
 *
 * `label` is the decided label: with the model's decision rule (recall targets' per-class thresholds, abstain
 * threshold; ModelFile.decision, shown by GET /model) it may differ from the most probable class, or be
 * "uncertain"; `probabilities` are always the model's.
 *
 * Binds 127.0.0.1 by default. Any other (non-loopback) host needs a token; with a
 * token every request needs `Authorization: Bearer <token>`.
 *
 * Safe on a developer's laptop: the Host header must name loopback or the
 * configured host (421 otherwise: DNS rebinding), a browser request must come
 * from an allowed Origin (403), POST needs `Content-Type: application/json` (415),
 * a request is capped in characters (413), and a 500 never echoes the internal
 * error (it is logged under the request id the body carries).
 *
 * Concurrent requests are coalesced into batches and run one batch at a time on
 * the predictor; a big request is cut into chunks, and requests that arrived
 * meanwhile go first in the next batch, so small requests stay responsive.
 */
import * as http from 'node:http';
import * as path from 'node:path';
import { timingSafeEqual, createHash, randomBytes } from 'node:crypto';
import { isIP } from 'node:net';
import type { ModelFile, Prediction, RunRecord } from '../protocol/run';
import { FewShotError, errorMessage, isFewShotError } from './errors';
import { RUN_FILES, hasModel, readModel, readRunAt, runFile } from './runs';
import { isLoopbackHost } from './util/net';
import { MultipartError, multipartBoundary, parseMultipart } from './util/multipart';
import { sniffImageFormat } from './datasets/sniff';
import type { ImageInput } from './images/preprocess';

/** What the server needs from a predictor (structurally the `Predictor` of src/core/predict.ts). */
export interface ServePredictor {
  labels: string[];
  encoderId?: string;
  predict(texts: string[]): Promise<Prediction[]>;
  /** What the model classifies (default texts); an image model labels images with predictImages. */
  modality?: 'text' | 'image';
  predictImages?(inputs: ImageInput[]): Promise<Prediction[]>;
  dispose?(): void;
}

export interface ModelServerOptions {
  /** Run folder (`.fewshot/runs/<id>`), holding run.json and model/head.json. */
  runDir: string;
  /** Default 127.0.0.1. Anything not loopback requires `token`. */
  host?: string;
  /** Default 5000; 0 = any free port. */
  port?: number;
  /**
   * When set, every request needs `Authorization: Bearer <token>`. When left
   * undefined, FEWSHOT_SERVE_TOKEN from the environment is used (so a parent can
   * pass a token without putting it on a command line other users can read).
   */
  token?: string;
  /** Largest accepted request body (default 1 MiB, 16 MiB for an image model); larger → 413. */
  maxBodyBytes?: number;
  /** Use this predictor (the caller keeps ownership) instead of loading one from runDir. */
  predictor?: ServePredictor;
  /** Most images in one request to an image model (default 64); more → 400. */
  maxImages?: number;
  /** Most texts in one request (default 1000); more → 400. */
  maxTexts?: number;
  /** Most texts the server hands to the predictor in one call (default 64). */
  maxBatch?: number;
  /** Most characters the server hands to the predictor in one call (default 10,000; a longer single text goes alone). */
  maxBatchChars?: number;
  /** Most characters (all texts together) in one request (default 100,000); more → 413. */
  maxRequestChars?: number;
  /**
   * Browser origins (e.g. "http://localhost:3000") allowed to call the server
   * besides its own loopback origins. Default none: any other Origin → 403.
   */
  allowedOrigins?: string[];
  /** Most texts waiting for the predictor; more → 503 "busy" (default 10000). */
  maxQueuedTexts?: number;
  /**
   * Passed to loadPredictor when the server loads the model itself (e.g. the
   * Hugging Face cache folder). Default: FEWSHOT_HF_CACHE from the environment as hf.cacheDir.
   */
  encoderOptions?: import('./encoders/types').EncoderOptions;
  log?: (m: string) => void;
}

export interface ModelServer {
  url: string;
  port: number;
  host: string;
  /** /predict requests accepted and not yet answered (waiting for or running on the predictor). */
  readonly pendingRequests: number;
  /** Stop accepting connections, finish the requests in flight, then release the predictor. */
  close(): Promise<void>;
}

export const DEFAULT_SERVE_HOST = '127.0.0.1';
export const DEFAULT_SERVE_PORT = 5000;
export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;
export const DEFAULT_MAX_IMAGE_BODY_BYTES = 16 * 1024 * 1024;
export const DEFAULT_MAX_REQUEST_CHARS = 100_000;
export const DEFAULT_MAX_BATCH_CHARS = 10_000;

interface ModelInfo {
  runId: string;
  labels: string[];
  encoder: string;
  head: string;
  /** What the model classifies: texts, or images (multipart/form-data or base64 JSON). */
  modality: 'text' | 'image';
  createdAt: string | null;
  testMacroF1: number | null;
  /** The decision rule predictions follow (null = the most probable class). */
  decision: { minRecall: Record<string, number>; thresholds: Record<string, number>; abstain: number | null } | null;
}

async function readModelInfo(runDir: string, predictor: ServePredictor): Promise<ModelInfo> {
  let model: Partial<ModelFile> = {};
  try {
    model = await readModel(runDir);
  } catch {
    /* an injected predictor may not come with a model file */
  }
  let record: Partial<RunRecord> = {};
  try {
    record = await readRunAt(runDir);
  } catch {
    /* optional: a bare model folder has no run.json */
  }
  return {
    runId: record.id ?? path.basename(path.resolve(runDir)),
    labels: predictor.labels.slice(),
    encoder: model.encoder?.id ?? predictor.encoderId ?? 'unknown',
    head: model.transformer ? 'transformer' : model.head ?? 'unknown',
    modality: predictor.modality === 'image' ? 'image' : 'text',
    createdAt: record.createdAt ?? null,
    testMacroF1: typeof record.testMacroF1 === 'number' ? record.testMacroF1 : null,
    decision: model.decision ? { minRecall: model.decision.minRecall, thresholds: model.decision.thresholds, abstain: model.decision.abstain ?? null } : null,
  };
}

class HttpError extends Error {
  constructor(public readonly status: number, message: string, public readonly headers: Record<string, string> = {}) {
    super(message);
  }
}

interface Pending {
  texts: string[];
  /** Texts handed to the predictor so far. */
  next: number;
  out: Prediction[];
  resolve(p: Prediction[]): void;
  reject(e: unknown): void;
}

/**
 * Queues predict calls from concurrent requests and runs them one batch at a
 * time, at most maxBatch texts and maxBatchChars characters per predictor call
 * (a single longer text goes alone). A request too big for one call is cut into
 * chunks; before each call the loop yields to the event loop, and requests not
 * started yet go before those already running, so a small request that arrives
 * while a big one runs is answered after at most one more chunk.
 */
const YIELD_TURNS = 4;

class Batcher {
  private queue: Pending[] = [];
  private running: Promise<void> | null = null;
  /** Texts waiting (not yet handed to the predictor). */
  queued = 0;
  constructor(private readonly predictor: ServePredictor, private readonly maxBatch: number, private readonly maxBatchChars: number) {}

  /** Requests not answered yet. */
  get pending(): number { return this.queue.length; }

  predict(texts: string[]): Promise<Prediction[]> {
    return new Promise((resolve, reject) => {
      this.queue.push({ texts, next: 0, out: [], resolve, reject });
      this.queued += texts.length;
      if (!this.running) this.running = this.drain();
    });
  }

  /** Resolves when nothing is queued or running. */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  /** The next predictor call: [request, from, to) slices, fresh requests first (arrival order), then started ones. */
  private nextBatch(): { p: Pending; from: number; to: number }[] {
    const order = [...this.queue.filter((p) => p.next === 0), ...this.queue.filter((p) => p.next > 0)];
    const batch: { p: Pending; from: number; to: number }[] = [];
    let n = 0;
    let chars = 0;
    for (const p of order) {
      let to = p.next;
      while (to < p.texts.length && n < this.maxBatch && (n === 0 || chars + p.texts[to].length <= this.maxBatchChars)) {
        chars += p.texts[to].length;
        n++;
        to++;
      }
      if (to > p.next) batch.push({ p, from: p.next, to });
      if (n >= this.maxBatch || to < p.texts.length) break;
    }
    return batch;
  }

  private async drain(): Promise<void> {
    try {
      while (this.queue.length) {
        // Let sockets be read and new requests queued between two predictor calls: a request needs a few
        // turns of the event loop (accept, headers, body), and the predictor may keep it busy in between.
        for (let i = 0; i < YIELD_TURNS; i++) await new Promise<void>((resolve) => setImmediate(resolve));
        const batch = this.nextBatch();
        const texts = batch.flatMap((b) => b.p.texts.slice(b.from, b.to));
        for (const b of batch) b.p.next = b.to;
        this.queued -= texts.length;
        let failed: unknown;
        let out: Prediction[] = [];
        try {
          out = await this.predictor.predict(texts);
          if (!Array.isArray(out) || out.length !== texts.length) throw new Error(`predictor returned ${Array.isArray(out) ? out.length : 'no'} predictions for ${texts.length} texts`);
        } catch (e) {
          failed = e;
        }
        let at = 0;
        for (const { p, from, to } of batch) {
          const done = failed !== undefined || to === p.texts.length;
          if (failed === undefined) p.out.push(...out.slice(at, at + to - from));
          at += to - from;
          if (!done) continue;
          this.queue.splice(this.queue.indexOf(p), 1);
          if (failed !== undefined) {
            this.queued -= p.texts.length - p.next;
            p.reject(failed);
          } else p.resolve(p.out);
        }
      }
    } finally {
      this.running = null;
    }
  }
}

function tokenMatches(header: string | undefined, token: string): boolean {
  if (!header) return false;
  const m = /^Bearer\s+(.+)$/i.exec(header.trim());
  if (!m) return false;
  // Compare digests so the comparison takes the same time whatever the length.
  const a = createHash('sha256').update(m[1].trim()).digest();
  const b = createHash('sha256').update(token).digest();
  return timingSafeEqual(a, b);
}

function readBody(req: http.IncomingMessage, max: number, what = 'fewer or shorter texts'): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > max) {
      reject(new HttpError(413, `Request body is ${declared} bytes; the limit is ${max} bytes. Send ${what} per request.`));
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let failed = false;
    req.on('data', (c: Buffer) => {
      if (failed) return;
      size += c.length;
      if (size > max) {
        failed = true;
        chunks.length = 0;
        reject(new HttpError(413, `Request body is over the limit of ${max} bytes. Send ${what} per request.`));
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => { if (!failed) resolve(Buffer.concat(chunks)); });
    req.on('error', (e) => { if (!failed) { failed = true; reject(e); } });
  });
}

/** Validates a /predict body; returns the texts and whether the single-text form was used. */
export function parsePredictBody(raw: string, maxTexts: number): { texts: string[]; single: boolean } {
  return textsOf(jsonObject(raw), maxTexts);
}

function jsonObject(raw: string, example = '{"text": "…"} or {"texts": ["…", "…"]}'): Record<string, unknown> {
  let body: unknown;
  if (!raw.trim()) throw new HttpError(400, `Empty request body. Send JSON like ${example}.`);
  try {
    body = JSON.parse(raw);
  } catch (e) {
    throw new HttpError(400, `Request body is not valid JSON (${errorMessage(e)}). Send JSON like ${example}.`);
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new HttpError(400, `Request body must be a JSON object like ${example}.`);
  }
  return body as Record<string, unknown>;
}

const IMAGE_EXAMPLE = '{"image": "<base64>"} or {"images": ["<base64>", …]}, or multipart/form-data with image files';

/** The images of a JSON body {"image": "<base64>"} / {"images": [...]} (a data: URL prefix is allowed). */
export function parseImageJson(o: Record<string, unknown>, maxImages: number): { images: { name: string; data: Buffer }[]; single: boolean } {
  if ('image' in o && 'images' in o) throw new HttpError(400, 'Send either "image" or "images", not both.');
  const one = (v: unknown, name: string) => {
    if (typeof v !== 'string') throw new HttpError(400, `"${name}" must be a base64 string, got ${v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v}.`);
    const b64 = v.replace(/^data:[\w.+/-]*(;[\w-]+=[\w.-]+)*;base64,/i, '').replace(/\s+/g, '');
    if (!b64) throw new HttpError(400, `"${name}" is empty. Send the image file's bytes in base64.`);
    if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(b64) || b64.length % 4 === 1) throw new HttpError(400, `"${name}" is not valid base64. Send the image file's bytes in base64 (e.g. base64 -w0 scan.png).`);
    return checkedImage(Buffer.from(b64, 'base64'), name);
  };
  if ('image' in o) return { images: [one(o.image, 'image')], single: true };
  if (!Array.isArray(o.images)) throw new HttpError(400, `"images" must be an array of base64 strings, got ${o.images === null ? 'null' : typeof o.images}.`);
  if (!o.images.length) throw new HttpError(400, '"images" is empty. Send at least one image.');
  if (o.images.length > maxImages) throw new HttpError(400, `"images" has ${o.images.length} items; the limit is ${maxImages} per request. Split it into several requests.`);
  return { images: o.images.map((v, i) => one(v, `images[${i}]`)), single: false };
}

/** An uploaded image's bytes, checked to be an image format the encoder reads (told by content). */
function checkedImage(data: Buffer, name: string): { name: string; data: Buffer } {
  if (!data.length) throw new HttpError(400, `${name} is empty (0 bytes). Send the image file's bytes.`);
  const k = sniffImageFormat(data.subarray(0, 32));
  if (!k || k === 'gif') throw new HttpError(400, `${name} is not a PNG, JPEG, WebP, BMP or TIFF image${k === 'gif' ? ' (GIF is not supported)' : ''}. Send one of those formats.`);
  return { name, data };
}

/** The images of a multipart/form-data body: every part is an image (its name: the file name, else the field name). */
export function parseImageMultipart(body: Buffer, contentType: string, maxImages: number): { images: { name: string; data: Buffer; file: string }[]; single: boolean } {
  const boundary = multipartBoundary(contentType);
  if (!boundary) throw new HttpError(400, 'The multipart/form-data Content-Type has no valid boundary parameter (e.g. "multipart/form-data; boundary=XYZ").');
  let parts;
  try {
    parts = parseMultipart(body, boundary);
  } catch (e) {
    if (e instanceof MultipartError) throw new HttpError(400, `Malformed multipart/form-data body: ${e.message}.`);
    throw e;
  }
  const text = parts.find((p) => p.filename === undefined && (p.name === 'text' || p.name === 'texts'));
  if (text) throw new HttpError(400, `The form field "${text.name}" is a text, but this model classifies images. Send image files.`);
  if (parts.length > maxImages) throw new HttpError(400, `The request has ${parts.length} parts; the limit is ${maxImages} images per request. Split it into several requests.`);
  return {
    images: parts.map((p, i) => {
      const file = p.filename || p.name || `part ${i + 1}`;
      return { ...checkedImage(p.data, `part ${i + 1} (${JSON.stringify(file.slice(0, 100))})`), file };
    }),
    single: parts.length === 1,
  };
}

function textsOf(o: Record<string, unknown>, maxTexts: number): { texts: string[]; single: boolean } {
  if ('text' in o && 'texts' in o) throw new HttpError(400, 'Send either "text" or "texts", not both.');
  if ('text' in o) {
    if (typeof o.text !== 'string') throw new HttpError(400, `"text" must be a string, got ${o.text === null ? 'null' : typeof o.text}.`);
    if (!o.text.trim()) throw new HttpError(400, '"text" is empty. Send the text to classify.');
    return { texts: [o.text], single: true };
  }
  if ('texts' in o) {
    if (!Array.isArray(o.texts)) throw new HttpError(400, `"texts" must be an array of strings, got ${o.texts === null ? 'null' : typeof o.texts}.`);
    if (o.texts.length === 0) throw new HttpError(400, '"texts" is empty. Send at least one text.');
    if (o.texts.length > maxTexts) throw new HttpError(400, `"texts" has ${o.texts.length} items; the limit is ${maxTexts} per request. Split it into several requests.`);
    const bad = o.texts.findIndex((t) => typeof t !== 'string');
    if (bad >= 0) throw new HttpError(400, `"texts[${bad}]" must be a string, got ${o.texts[bad] === null ? 'null' : typeof o.texts[bad]}.`);
    const empty = (o.texts as string[]).findIndex((t) => !t.trim());
    if (empty >= 0) throw new HttpError(400, `"texts[${empty}]" is empty (only whitespace): there is nothing to label. Remove it or send the text to classify.`);
    return { texts: o.texts as string[], single: false };
  }
  throw new HttpError(400, 'Missing "text". Send JSON like {"text": "…"} or {"texts": ["…", "…"]}.');
}

/** The host name of a Host header, lowercase, without port or IPv6 brackets ('' when unparsable). */
export function hostHeaderName(header: string): string {
  const h = header.trim().toLowerCase();
  const v6 = /^\[([^\]]+)\](?::\d*)?$/.exec(h);
  if (v6) return v6[1];
  const m = /^([^:]+)(?::\d*)?$/.exec(h);
  return m ? m[1].replace(/\.$/, '') : '';
}

const isWildcard = (host: string): boolean => ['0.0.0.0', '::', '[::]', ''].includes(host.trim());

/**
 * Whether a request's Host header may be answered: loopback names, the configured
 * host, and (for a wildcard bind, reached through this machine's addresses) IP
 * literals. A DNS-rebinding page always sends its own DNS name, which is refused.
 */
export function hostAllowed(header: string | undefined, configuredHost: string): boolean {
  if (header === undefined) return true; // HTTP/1.0 without Host: not a browser
  const name = hostHeaderName(header);
  if (!name) return false;
  if (isLoopbackHost(name)) return true;
  if (name === configuredHost.trim().toLowerCase().replace(/^\[|\]$/g, '')) return true;
  return isWildcard(configuredHost) && isIP(name) !== 0;
}

/** Normalise an origin ("http://LocalHost:3000/" → "http://localhost:3000"); undefined when it is not an http(s) origin. */
export function normalizeOrigin(origin: string): string | undefined {
  try {
    const u = new URL(origin.trim());
    if (u.protocol !== 'http:' && u.protocol !== 'https:') return undefined;
    return u.origin;
  } catch {
    return undefined;
  }
}

/** The server's own origins (loopback names and the configured host, on its port). */
function ownOrigins(host: string, port: number): string[] {
  const names = ['localhost', '127.0.0.1', '[::1]'];
  if (!isWildcard(host) && !isLoopbackHost(host)) names.push(host.includes(':') && !host.startsWith('[') ? `[${host}]` : host);
  return names.map((n) => normalizeOrigin(`http://${n}:${port}`)).filter((o): o is string => !!o);
}

const ROUTES: Record<string, string[]> = { '/predict': ['POST'], '/health': ['GET', 'HEAD'], '/model': ['GET', 'HEAD'] };

async function loadDefaultPredictor(runDir: string, opts: ModelServerOptions['encoderOptions']): Promise<ServePredictor> {
  const { loadPredictor } = await import('./predict');
  return loadPredictor(runDir, opts);
}

/** Start the model server. Rejects with a FewShotError for a bad host/token, a busy port or a model that cannot load. */
export async function startModelServer(opts: ModelServerOptions): Promise<ModelServer> {
  const host = (opts.host ?? DEFAULT_SERVE_HOST).trim() || DEFAULT_SERVE_HOST;
  const port = opts.port ?? DEFAULT_SERVE_PORT;
  const rawToken = opts.token === undefined ? process.env.FEWSHOT_SERVE_TOKEN : opts.token;
  const token = rawToken?.trim() ? rawToken.trim() : undefined;
  const maxTexts = opts.maxTexts ?? 1000;
  const maxImages = opts.maxImages ?? 64;
  const maxQueued = opts.maxQueuedTexts ?? 10000;
  const maxChars = opts.maxRequestChars ?? DEFAULT_MAX_REQUEST_CHARS;
  const log = opts.log ?? (() => undefined);
  const runDir = path.resolve(opts.runDir);

  if (!isLoopbackHost(host) && !token) {
    throw new FewShotError(`Refusing to serve ${runDir} on ${host}: that host is reachable from other machines and no token is set.`, {
      file: runDir,
      fix: 'Bind to 127.0.0.1 (the default), or set a token (`fewshot serve --token <secret>`) so every request needs "Authorization: Bearer <secret>".',
      code: 'serve-insecure-host',
    });
  }
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new FewShotError(`Invalid port ${port} for the model server of ${runDir}.`, { file: runDir, fix: 'Use a port between 1 and 65535, or 0 for any free port.', code: 'serve-bad-port' });
  }
  if (!Number.isInteger(maxChars) || maxChars < 1) {
    throw new FewShotError(`Invalid character limit ${maxChars} for the model server of ${runDir}.`, { file: runDir, fix: 'Use a whole number of characters per request of at least 1 (--max-request-chars, setting fewshot.serve.maxRequestChars).', code: 'serve-bad-limit' });
  }
  const allowedOrigins: string[] = [];
  for (const o of opts.allowedOrigins ?? []) {
    const n = normalizeOrigin(o);
    if (!n || n === 'null') {
      throw new FewShotError(`Invalid allowed origin "${o}" for the model server of ${runDir}.`, { file: runDir, fix: 'Give origins as scheme://host[:port], e.g. http://localhost:3000 (--allow-origin, setting fewshot.serve.allowedOrigins).', code: 'serve-bad-origin' });
    }
    allowedOrigins.push(n);
  }
  if (!opts.predictor && !(await hasModel(runDir))) {
    throw new FewShotError(`No model in ${runDir}: ${RUN_FILES.model} is missing.`, {
      file: runFile(runDir, 'model'),
      fix: 'Pass the folder of a completed run (.fewshot/runs/<id>); train one with `fewshot train <dataset>` first.',
      code: 'serve-no-model',
    });
  }

  const ownsPredictor = !opts.predictor;
  const predictor = opts.predictor ?? (await loadDefaultPredictor(runDir, opts.encoderOptions ?? (process.env.FEWSHOT_HF_CACHE ? { hf: { cacheDir: process.env.FEWSHOT_HF_CACHE } } : undefined)));
  const info = await readModelInfo(runDir, predictor);
  const imageRun = predictor.modality === 'image' && !!predictor.predictImages;
  const maxBody = opts.maxBodyBytes ?? (imageRun ? DEFAULT_MAX_IMAGE_BODY_BYTES : DEFAULT_MAX_BODY_BYTES);
  const batcher = new Batcher(predictor, Math.max(1, opts.maxBatch ?? 64), Math.max(1, opts.maxBatchChars ?? DEFAULT_MAX_BATCH_CHARS));
  let closing = false;
  let inFlight = 0;
  let drained: (() => void) | null = null;

  const send = (res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    if (res.headersSent) return;
    const json = body === undefined ? '' : JSON.stringify(body);
    res.writeHead(status, {
      ...(json ? { 'Content-Type': 'application/json; charset=utf-8' } : {}),
      ...(status === 204 ? {} : { 'Content-Length': String(Buffer.byteLength(json)) }),
      'Cache-Control': 'no-store',
      'X-Content-Type-Options': 'nosniff',
      ...(closing ? { Connection: 'close' } : {}),
      ...headers,
    });
    res.end(res.req?.method === 'HEAD' || !json ? undefined : json);
  };

  /** Browser origins allowed to call (filled once the port is known). */
  const origins = new Set<string>();
  const idPrefix = randomBytes(3).toString('hex');
  let requestCount = 0;

  // Image requests run one at a time on the predictor (an image model takes no texts, so they never mix with the batcher).
  let imageChain: Promise<unknown> = Promise.resolve();
  let imagesQueued = 0;
  let imageRequests = 0;
  const handleImages = async (req: http.IncomingMessage, type: string, contentType: string, started: number,
    reply: (status: number, body: unknown, headers?: Record<string, string>) => void) => {
    if (type !== 'application/json' && type !== 'multipart/form-data') {
      throw new HttpError(415, `POST /predict to an image model needs "Content-Type: multipart/form-data" (image files) or "application/json" ({"image": "<base64>"})${type ? ` (got "${type.slice(0, 100)}")` : ''}.`,
        { 'Accept-Post': 'multipart/form-data, application/json' });
    }
    const raw = await readBody(req, maxBody, 'fewer or smaller images');
    let parsed: { images: { name: string; data: Buffer; file?: string }[]; single: boolean };
    if (type === 'multipart/form-data') {
      parsed = parseImageMultipart(raw, contentType, maxImages);
    } else {
      const body = jsonObject(raw.toString('utf8'), IMAGE_EXAMPLE);
      if ('text' in body || 'texts' in body) {
        throw new HttpError(400, `The model of run ${info.runId} classifies images, not texts. Send ${IMAGE_EXAMPLE}.`);
      }
      if (!('image' in body) && !('images' in body)) throw new HttpError(400, `Missing "image". Send ${IMAGE_EXAMPLE}.`);
      parsed = parseImageJson(body, maxImages);
    }
    if (imagesQueued + parsed.images.length > maxQueued) {
      throw new HttpError(503, `The server is busy (${imagesQueued} images waiting). Retry shortly, or send fewer concurrent requests.`, { 'Retry-After': '1' });
    }
    imagesQueued += parsed.images.length;
    imageRequests++;
    const files = parsed.images.map((im) => im.file);
    const run = imageChain.then(() => predictor.predictImages!(parsed.images.map(({ name, data }) => ({ name, data }))));
    imageChain = run.catch(() => undefined);
    let predictions: Prediction[];
    try {
      predictions = await run;
    } catch (e) {
      // An image the decoder cannot read is the client's problem (the message names the part), not a server error.
      if (isFewShotError(e) && /^image-/.test(e.opts.code ?? '')) throw new HttpError(400, `${e.message}${e.opts.fix ? ` ${e.opts.fix}` : ''}`);
      throw e;
    } finally {
      imagesQueued -= parsed.images.length;
      imageRequests--;
    }
    const ms = Math.round((performance.now() - started) * 100) / 100;
    if (parsed.single) return reply(200, { ...(files[0] !== undefined ? { file: files[0] } : {}), label: predictions[0].label, probabilities: predictions[0].probabilities, ms });
    return reply(200, { predictions: predictions.map((p, i) => ({ ...(files[i] !== undefined ? { file: files[i] } : {}), label: p.label, probabilities: p.probabilities })), ms });
  };

  const handle = async (req: http.IncomingMessage, res: http.ServerResponse) => {
    const started = performance.now();
    const route = (req.url ?? '/').split('?')[0];
    const requestId = `${idPrefix}-${++requestCount}`;
    // Headers every answer carries: the request id, and CORS for an allowed cross-origin browser.
    const extra: Record<string, string> = { 'X-Request-Id': requestId };
    const reply = (status: number, body: unknown, headers: Record<string, string> = {}) => send(res, status, body, { ...extra, ...headers });
    try {
      if (!hostAllowed(req.headers.host, host)) {
        throw new HttpError(421, `This server only answers requests addressed to localhost, 127.0.0.1, [::1]${isWildcard(host) || isLoopbackHost(host) ? '' : ` or ${host}`}, not to "${String(req.headers.host).slice(0, 100)}" (a web page may be trying DNS rebinding). If you reach it through another name, start it with --host <that name>.`);
      }
      const origin = req.headers.origin;
      if (origin !== undefined) {
        const o = normalizeOrigin(origin);
        if (!o || !origins.has(o)) {
          throw new HttpError(403, `Browser requests from the origin "${origin.slice(0, 100)}" are not allowed. Add it to the allowed origins (fewshot serve --allow-origin <origin>, setting fewshot.serve.allowedOrigins) to call this server from that page.`);
        }
        extra['Access-Control-Allow-Origin'] = o;
        extra.Vary = 'Origin';
      } else {
        // A no-cors subresource load (<img>, <script>) from another site carries no Origin.
        const site = String(req.headers['sec-fetch-site'] ?? '');
        if (site === 'cross-site' || site === 'same-site') throw new HttpError(403, 'Cross-site browser requests without an Origin are not allowed.');
      }
      const allowed = ROUTES[route];
      if (req.method === 'OPTIONS' && allowed) {
        // CORS preflight (before the token check: browsers send it without credentials).
        return reply(204, undefined, {
          Allow: [...allowed, 'OPTIONS'].join(', '),
          ...(origin !== undefined
            ? { 'Access-Control-Allow-Methods': allowed.join(', '), 'Access-Control-Allow-Headers': 'Content-Type, Authorization', 'Access-Control-Max-Age': '600' }
            : {}),
        });
      }
      if (token && !tokenMatches(req.headers.authorization, token)) {
        throw new HttpError(401, 'Missing or wrong token. Send the header "Authorization: Bearer <token>".', { 'WWW-Authenticate': 'Bearer' });
      }
      if (!allowed) throw new HttpError(404, `Unknown route ${route}. Use POST /predict, GET /health or GET /model.`);
      if (!allowed.includes(req.method ?? '')) {
        throw new HttpError(405, `${req.method} is not allowed on ${route}; use ${allowed.filter((m) => m !== 'HEAD').join(', ')}.`, { Allow: allowed.join(', ') });
      }
      if (route === '/health') return reply(200, { status: 'ok' });
      if (route === '/model') return reply(200, info);
      const contentType = String(req.headers['content-type'] ?? '');
      const type = contentType.split(';')[0].trim().toLowerCase();
      if (imageRun) return await handleImages(req, type, contentType, started, reply);
      if (type === 'multipart/form-data') {
        throw new HttpError(400, `The model of run ${info.runId} classifies texts, not images. Send JSON like {"text": "…"} or {"texts": ["…"]}.`);
      }
      if (type !== 'application/json') {
        throw new HttpError(415, `POST /predict needs the header "Content-Type: application/json"${type ? ` (got "${type.slice(0, 100)}")` : ''}.`, { 'Accept-Post': 'application/json' });
      }
      const raw = (await readBody(req, maxBody)).toString('utf8');
      const body = jsonObject(raw);
      if ('image' in body || 'images' in body) {
        throw new HttpError(400, `The model of run ${info.runId} classifies texts, not images. Send JSON like {"text": "…"} or {"texts": ["…"]}.`);
      }
      const { texts, single } = textsOf(body, maxTexts);
      const chars = texts.reduce((a, t) => a + t.length, 0);
      if (chars > maxChars) {
        throw new HttpError(413, `The request has ${chars} characters; the limit is ${maxChars} per request. Send fewer or shorter texts per request, or raise the limit (fewshot serve --max-request-chars <n>, setting fewshot.serve.maxRequestChars).`);
      }
      if (batcher.queued + texts.length > maxQueued) {
        throw new HttpError(503, `The server is busy (${batcher.queued} texts waiting). Retry shortly, or send fewer concurrent requests.`, { 'Retry-After': '1' });
      }
      const predictions = await batcher.predict(texts);
      const ms = Math.round((performance.now() - started) * 100) / 100;
      if (single) return reply(200, { label: predictions[0].label, probabilities: predictions[0].probabilities, ms });
      return reply(200, { predictions: predictions.map((p) => ({ label: p.label, probabilities: p.probabilities })), ms });
    } catch (e) {
      if (e instanceof HttpError) {
        if (e.status === 413 && !req.readableEnded) {
          // Do not read the rest of an oversized body: answer, then close the connection.
          res.setHeader('Connection', 'close');
          reply(413, { error: e.message }, e.headers);
          res.on('finish', () => setTimeout(() => req.destroy(), 50).unref());
          req.resume();
          return;
        }
        if (e.status >= 400 && !req.readableEnded) req.resume();
        return reply(e.status, { error: e.message }, e.headers);
      }
      // Internal errors stay in the log (under the request id); the body says only that it failed.
      log(`request ${requestId} (${req.method} ${route}) failed: ${errorMessage(e)}${isFewShotError(e) && e.fix ? ` (fix: ${e.fix})` : ''}`);
      return reply(500, { error: `Prediction failed (request ${requestId}). The server log has the details.`, requestId });
    }
  };

  const server = http.createServer((req, res) => {
    inFlight++;
    res.on('close', () => {
      inFlight--;
      if (inFlight === 0 && drained) drained();
    });
    void handle(req, res);
  });
  server.keepAliveTimeout = 5000;
  server.headersTimeout = 30000;
  server.requestTimeout = 120000;

  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (e) {
    if (ownsPredictor) predictor.dispose?.();
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') {
      throw new FewShotError(`Port ${port} on ${host} is already in use; cannot serve ${runDir}.`, { file: runDir, fix: 'Stop the other server or choose another port (--port <n>, or 0 for any free port).', code: 'serve-port-in-use' });
    }
    if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND' || code === 'EAI_AGAIN') {
      throw new FewShotError(`Cannot bind the model server to ${host}: no such address on this machine.`, { file: runDir, fix: 'Use 127.0.0.1 or an address of this machine.', code: 'serve-bad-host' });
    }
    if (code === 'EACCES') {
      throw new FewShotError(`Not allowed to listen on port ${port}.`, { file: runDir, fix: 'Use a port above 1024, or 0 for any free port.', code: 'serve-port-denied' });
    }
    throw e;
  }
  server.on('error', (e) => log(`server error: ${errorMessage(e)}`));
  const addr = server.address();
  const boundPort = typeof addr === 'object' && addr ? addr.port : port;
  for (const o of [...ownOrigins(host, boundPort), ...allowedOrigins]) origins.add(o);
  const urlHost = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
  const url = `http://${urlHost}:${boundPort}`;
  log(`serving ${info.runId} (${info.labels.length} labels, encoder ${info.encoder}) at ${url}${token ? ' (token required)' : ''}`);

  let closed: Promise<void> | null = null;
  return {
    url,
    port: boundPort,
    host,
    get pendingRequests() { return batcher.pending + imageRequests; },
    close() {
      if (closed) return closed;
      closing = true;
      closed = (async () => {
        const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeIdleConnections();
        if (inFlight > 0) await new Promise<void>((resolve) => (drained = resolve));
        await batcher.idle();
        await imageChain;
        server.closeAllConnections();
        await stopped;
        if (ownsPredictor) predictor.dispose?.();
        log('server stopped');
      })();
      return closed;
    },
  };
}
