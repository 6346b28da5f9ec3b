/** Builds scratch copies of test/fixtures/diagnostics (+ generated binary / encoded files) for the analysis and server tests. */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export const FIXTURES = path.resolve(__dirname, '..', '..', '..', 'test', 'fixtures', 'diagnostics');

/** GB18030 bytes of "你好，世界，这是一个测试" (generated with TextDecoder's inverse by hand). */
export const GB18030_HELLO = Buffer.from('c4e3bac3a3accac0bde7a3acd5e2cac7d2bbb8f6b2e2cad4', 'hex');

export function utf16le(text: string, bom = true): Buffer {
  const body = Buffer.from(text, 'utf16le');
  return bom ? Buffer.concat([Buffer.from([0xff, 0xfe]), body]) : body;
}

/** A fresh copy of the diagnostics fixtures with the non-UTF-8 files and a symbolic-link loop added. */
export function makeFixtureWorkspace(): string {
  const ws = fs.mkdtempSync(path.join(os.tmpdir(), 'fewshot-diag-'));
  fs.cpSync(FIXTURES, ws, { recursive: true });
  const news = path.join(ws, 'folders', 'news');
  fs.writeFileSync(path.join(news, 'train', 'sports', 'scan.txt'), Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 0, 0, 0x0d, 0x49, 0x48, 0x44, 0x52, 0, 0, 1, 0, 0xff, 0x00]));
  fs.writeFileSync(path.join(news, 'train', 'tech', 't09-gb18030.txt'), GB18030_HELLO);
  fs.writeFileSync(path.join(news, 'train', 'tech', 't10-utf16.txt'), utf16le('A foldable tablet doubles as a small laptop.'));
  // a loop (train/sports/up -> train): never followed, shown on the link
  fs.symlinkSync('..', path.join(news, 'train', 'sports', 'up'));
  return ws;
}

export function rmrf(p: string): void {
  fs.rmSync(p, { recursive: true, force: true });
}
