/** Helpers shared by the bench modes (scripts/bench/main.ts, scripts/bench/finetune.ts). */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Item } from './corpora';

export const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / Math.max(1, xs.length);
export const std = (xs: number[]) => {
  const m = mean(xs);
  return Math.sqrt(mean(xs.map((x) => (x - m) ** 2)));
};
export const fmt = (xs: number[], digits = 3) => (xs.length > 1 ? `${mean(xs).toFixed(digits)}±${std(xs).toFixed(digits)}` : xs.length ? mean(xs).toFixed(digits) : 'n/a');

/** Writes a JSONL dataset with an explicit split column for the pipeline. */
export function writeDataset(dir: string, train: Item[], test: Item[]): string {
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, 'data.jsonl');
  const lines = [
    ...train.map((i) => JSON.stringify({ text: i.text, label: i.label, split: 'train' })),
    ...test.map((i) => JSON.stringify({ text: i.text, label: i.label, split: 'test' })),
  ];
  fs.writeFileSync(file, lines.join('\n') + '\n');
  return file;
}

/** Node package versions the bench depends on. */
export function nodeVersions(): Record<string, string> {
  const versions: Record<string, string> = { node: process.version };
  for (const p of ['@tensorflow/tfjs', '@huggingface/transformers', '@energetic-ai/embeddings', 'onnxruntime-node']) {
    try { versions[p] = JSON.parse(fs.readFileSync(path.join('node_modules', p, 'package.json'), 'utf8')).version; } catch { /* absent */ }
  }
  return versions;
}

export function machineInfo(backend: string) {
  return { cpus: os.cpus().length, cpu: os.cpus()[0]?.model, memGiB: +(os.totalmem() / 2 ** 30).toFixed(1), platform: `${os.platform()} ${os.release()}`, backend };
}

/** Writes `<out>/<prefix><stamp>.md|.json` and prints the markdown. */
export function writeReport(out: string, prefix: string, markdown: string, json: unknown): void {
  fs.mkdirSync(out, { recursive: true });
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  fs.writeFileSync(path.join(out, `${prefix}${stamp}.md`), markdown);
  fs.writeFileSync(path.join(out, `${prefix}${stamp}.json`), JSON.stringify(json, null, 2));
  process.stdout.write(markdown);
}

/**
 * The first interpreter among `candidates` (default: Debian's /usr/bin/python3 with python3-sklearn, the baseline of
 * ../shared/ANCHORS.md, then python3) that imports scikit-learn and `modules`; with its scikit-learn version.
 */
export function sklearnPython(candidates: (string | undefined)[] = ['/usr/bin/python3', 'python3'], modules = 'numpy'): { exe: string; version: string } | undefined {
  for (const exe of candidates) {
    if (!exe) continue;
    const r = spawnSync(exe, ['-c', `import sklearn, ${modules}; print(sklearn.__version__)`], { encoding: 'utf8' });
    if (r.status === 0) return { exe, version: r.stdout.trim() };
  }
  return undefined;
}
