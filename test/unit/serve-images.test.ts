import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import { startModelServer, type ModelServer } from '../../src/core/serve';
import { loadPredictor, type Predictor } from '../../src/core/predict';
import { multipartBoundary, parseMultipart, MultipartError } from '../../src/core/util/multipart';
import { makeTinyModel, type TinyModel } from './helpers/serveModel';
import { shapeTestImages, trainShapesRun } from './helpers/imageRun';
import { rmrf, tempDir } from './helpers/trainerFixtures';
import { curlExample } from '../../src/extension/predict/serveProcess';
import { execFile } from 'node:child_process';

interface Reply { status: number; body: any }

function post(url: string, body: string | Buffer, contentType: string): Promise<Reply> {
  return new Promise((resolve, reject) => {
    let answered = false;
    const req = http.request(new URL('/predict', url), { method: 'POST', headers: { 'Content-Type': contentType }, agent: false }, (res) => {
      answered = true;
      const chunks: Buffer[] = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        let parsed: unknown = raw;
        try { parsed = JSON.parse(raw); } catch { /* raw */ }
        resolve({ status: res.statusCode ?? 0, body: parsed });
      });
    });
    req.on('error', (e) => { if (!answered) reject(e); });
    req.end(body);
  });
}

const BOUNDARY = '----fewshot-test-7MA4YWxkTrZu0gW';
function multipart(parts: { name: string; filename?: string; data: Buffer }[], boundary = BOUNDARY): Buffer {
  const chunks: Buffer[] = [];
  for (const p of parts) {
    chunks.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${p.name}"${p.filename ? `; filename="${p.filename}"` : ''}\r\nContent-Type: application/octet-stream\r\n\r\n`));
    chunks.push(p.data, Buffer.from('\r\n'));
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return Buffer.concat(chunks);
}
const MP = `multipart/form-data; boundary=${BOUNDARY}`;

describe('multipart/form-data parser (src/core/util/multipart.ts)', () => {
  it('splits parts on the boundary, keeps binary content byte for byte, reads name and filename', () => {
    const bin = Buffer.from([0, 13, 10, 45, 45, 255, 13, 10]); // CR LF "--" inside the data
    const parts = parseMultipart(multipart([{ name: 'a', filename: 'scan; 1.png', data: bin }, { name: 'b', data: Buffer.from('hello') }]), BOUNDARY);
    assert.equal(parts.length, 2);
    assert.deepEqual([...parts[0].data], [...bin]);
    assert.equal(parts[0].name, 'a');
    assert.equal(parts[0].filename, 'scan; 1.png');
    assert.equal(parts[1].filename, undefined);
    assert.equal(parts[1].data.toString(), 'hello');
  });
  it('reads the boundary from the content type (quoted or not) and refuses a missing one', () => {
    assert.equal(multipartBoundary('multipart/form-data; boundary=abc'), 'abc');
    assert.equal(multipartBoundary('multipart/form-data; boundary="a b:c"'), 'a b:c');
    assert.equal(multipartBoundary('multipart/form-data'), undefined);
  });
  it('refuses malformed bodies with a message that says what is wrong', () => {
    const ok = multipart([{ name: 'a', data: Buffer.from('x') }]);
    assert.throws(() => parseMultipart(ok.subarray(0, ok.length - 20), BOUNDARY), (e: unknown) => e instanceof MultipartError && /not closed by the boundary/.test(e.message));
    assert.throws(() => parseMultipart(ok, 'other'), /does not start with the boundary/);
    assert.throws(() => parseMultipart(Buffer.from(`--${BOUNDARY}\r\nX-No-Disposition: 1\r\n\r\nx\r\n--${BOUNDARY}--`), BOUNDARY), /no Content-Disposition/);
    assert.throws(() => parseMultipart(Buffer.from(`--${BOUNDARY}--\r\n`), BOUNDARY), /no parts/);
  });
});

describe('model server: images (src/core/serve.ts)', function () {
  this.timeout(120_000);
  let dir: string;
  let runDir: string;
  let predictor: Predictor;
  let server: ModelServer | undefined;
  let tiny: TinyModel;
  const images = shapeTestImages();

  before(async () => {
    dir = tempDir('serve-images');
    runDir = await trainShapesRun(path.join(dir, 'store'));
    predictor = await loadPredictor(runDir);
    tiny = await makeTinyModel();
  });
  after(() => { predictor?.dispose(); tiny?.predictor.dispose(); tiny?.cleanup(); rmrf(dir); });
  afterEach(async () => { await server?.close(); server = undefined; });
  const start = async (o: Partial<Parameters<typeof startModelServer>[0]> = {}) => (server = await startModelServer({ runDir, port: 0, predictor, ...o }));

  it('labels one multipart image and names its file; the label is the image\'s class and matches the predictor', async () => {
    const s = await start();
    const { label, file } = images.find((x) => x.label === 'triangle')!;
    const r = await post(s.url, multipart([{ name: 'image', filename: path.basename(file), data: fs.readFileSync(file) }]), MP);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.file, path.basename(file));
    assert.equal(r.body.label, label);
    const direct = (await predictor.predictImages!([file]))[0];
    assert.deepEqual(r.body.probabilities.map((q: { label: string }) => q.label), direct.probabilities.map((q) => q.label));
    assert.ok(Math.abs(r.body.probabilities[0].p - direct.probabilities[0].p) < 1e-9);
    assert.equal(r.body.probabilities.length, 4);
  });

  it('labels several multipart parts in order, and base64 JSON (image, images, data: URL)', async () => {
    const s = await start();
    const pick = ['circle', 'square', 'star'].map((l) => images.find((x) => x.label === l)!);
    const r = await post(s.url, multipart(pick.map((x, i) => ({ name: `f${i}`, filename: path.basename(x.file), data: fs.readFileSync(x.file) }))), MP);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.deepEqual(r.body.predictions.map((p: { label: string }) => p.label), pick.map((x) => x.label));
    assert.deepEqual(r.body.predictions.map((p: { file: string }) => p.file), pick.map((x) => path.basename(x.file)));
    const b64 = pick.map((x) => fs.readFileSync(x.file).toString('base64'));
    const one = await post(s.url, JSON.stringify({ image: `data:image/png;base64,${b64[1]}` }), 'application/json');
    assert.equal(one.status, 200, JSON.stringify(one.body));
    assert.equal(one.body.label, 'square');
    const many = await post(s.url, JSON.stringify({ images: b64 }), 'application/json');
    assert.deepEqual(many.body.predictions.map((p: { label: string }) => p.label), pick.map((x) => x.label));
  });

  it('reuses the embedding of an image it has seen (content key), whatever its name', async () => {
    const s = await start();
    const data = fs.readFileSync(images[5].file);
    await post(s.url, multipart([{ name: 'a', filename: 'a.png', data }]), MP);
    const before = { ...predictor.imageCache! };
    const r = await post(s.url, multipart([{ name: 'b', filename: 'renamed.png', data }]), MP);
    assert.equal(r.status, 200);
    assert.equal(predictor.imageCache!.hits, before.hits + 1);
    assert.equal(predictor.imageCache!.misses, before.misses);
  });

  it('answers bad image requests with 400/413/415 and a clear message, never a 500', async () => {
    const s = await start({ maxBodyBytes: 200_000, maxImages: 2 });
    const png = fs.readFileSync(images[0].file);
    const cases: [string | Buffer, string, number, RegExp][] = [
      [multipart([{ name: 'a', data: png }]).subarray(0, 300), MP, 400, /Malformed multipart\/form-data body: part 1 is not closed/],
      [multipart([{ name: 'a', data: png }]), 'multipart/form-data', 400, /no valid boundary/],
      [multipart([{ name: 'a', filename: 'notes.txt', data: Buffer.from('not an image at all') }]), MP, 400, /part 1 \("notes.txt"\) is not a PNG, JPEG, WebP, BMP or TIFF image/],
      [multipart([{ name: 'a', filename: 'cut.png', data: png.subarray(0, 60) }]), MP, 400, /Could not read the image part 1 \("cut.png"\)/],
      [multipart([{ name: 'a', data: png }, { name: 'b', data: png }, { name: 'c', data: png }]), MP, 400, /3 parts; the limit is 2 images/],
      [JSON.stringify({ image: 'not base64!!' }), 'application/json', 400, /"image" is not valid base64/],
      [JSON.stringify({ image: '' }), 'application/json', 400, /"image" is empty/],
      [JSON.stringify({ images: [png.toString('base64'), 'aGVsbG8gd29ybGQ='] }), 'application/json', 400, /images\[1\] is not a PNG/],
      [JSON.stringify({ image: Buffer.alloc(300_000, 1).toString('base64') }), 'application/json', 413, /limit is 200000 bytes. Send fewer or smaller images/],
      [png, 'image/png', 415, /multipart\/form-data/],
      ['{', 'application/json', 400, /not valid JSON/],
    ];
    for (const [body, type, status, msg] of cases) {
      const r = await post(s.url, body, type);
      assert.equal(r.status, status, `${type} ${String(body).slice(0, 40)} → ${JSON.stringify(r.body)}`);
      assert.match(r.body.error, msg);
      assert.doesNotMatch(r.body.error, /\n\s+at /);
    }
  });

  it('the curl example shown for an image run works as printed', async function () {
    const s = await start();
    const cmd = curlExample(s.url, 'scan.png', undefined, true);
    assert.equal(cmd, `curl -s -X POST ${s.url}/predict -F 'image=@scan.png'`);
    fs.copyFileSync(images.find((x) => x.label === 'circle')!.file, path.join(dir, 'scan.png'));
    const out = await new Promise<string>((resolve, reject) => execFile('sh', ['-c', cmd], { cwd: dir }, (e, stdout) => (e ? reject(e) : resolve(stdout))))
      .catch((e: NodeJS.ErrnoException) => (/curl: not found|ENOENT/.test(String(e.message)) ? undefined : Promise.reject(e)));
    if (out === undefined) return this.skip(); // no curl on this machine
    const body = JSON.parse(out);
    assert.equal(body.file, 'scan.png');
    assert.equal(body.label, 'circle');
  });

  it('a text request to an image run, and an image request to a text run, get a 400 that says so', async () => {
    const s = await start();
    const t = await post(s.url, JSON.stringify({ text: 'a red circle' }), 'application/json');
    assert.equal(t.status, 400);
    assert.match(t.body.error, /classifies images, not texts/);
    const field = await post(s.url, multipart([{ name: 'text', data: Buffer.from('a red circle') }]), MP);
    assert.equal(field.status, 400);
    assert.match(field.body.error, /is a text, but this model classifies images/);
    await server!.close();
    server = await startModelServer({ runDir: tiny.runDir, port: 0, predictor: tiny.predictor });
    const png = fs.readFileSync(images[0].file);
    for (const [body, type] of [[multipart([{ name: 'a', data: png }]), MP], [JSON.stringify({ image: png.toString('base64') }), 'application/json']] as const) {
      const r = await post(server.url, body, type);
      assert.equal(r.status, 400, JSON.stringify(r.body));
      assert.match(r.body.error, /classifies texts, not images/);
    }
  });
});
