/**
 * GPU monitor of the dashboard: polls `nvidia-smi` when it exists, reports
 * "no NVIDIA GPU" when it does not. Uses a fake nvidia-smi on PATH (this
 * machine has no GPU) that prints what the real one prints for our queries.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { GpuMonitor, parseGpuCsv } from '../../src/extension/dashboard/gpu';

describe('train: GPU monitor (nvidia-smi)', function () {
  this.timeout(30_000);
  const oldPath = process.env.PATH;
  let dir = '';

  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fewshot-fake-smi-'));
    const script = [
      '#!/bin/sh',
      'case "$*" in',
      '  *name*) echo "NVIDIA H200" ;;',
      '  *utilization.gpu,memory.used,memory.total*) echo "37, 1024, 143771" ;;',
      '  *) exit 9 ;;',
      'esac',
    ].join('\n');
    fs.mkdirSync(path.join(dir, 'gpu'));
    fs.mkdirSync(path.join(dir, 'none'));
    fs.writeFileSync(path.join(dir, 'gpu', 'nvidia-smi'), script + '\n', { mode: 0o755 });
  });

  after(() => {
    process.env.PATH = oldPath;
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('parses nvidia-smi CSV (noheader, nounits) and rejects garbage', () => {
    assert.deepEqual(parseGpuCsv('37, 1024, 143771\n12, 5, 80000\n'), { utilization: 37, memoryUsed: 1024, memoryTotal: 143771 });
    assert.equal(parseGpuCsv(''), null);
    assert.equal(parseGpuCsv('[N/A], 1, 2'), null);
  });

  it('polls utilisation and memory when nvidia-smi exists', async () => {
    process.env.PATH = `${path.join(dir, 'gpu')}${path.delimiter}${oldPath}`;
    const m = new GpuMonitor();
    try {
      const lease = m.acquire();
      const sample = await new Promise((resolve) => { const s = m.onSample((x) => { s.dispose(); resolve(x); }); });
      lease.dispose();
      assert.equal(m.available, true);
      assert.equal(m.name, 'NVIDIA H200');
      assert.deepEqual(sample, { utilization: 37, memoryUsed: 1024, memoryTotal: 143771 });
    } finally {
      m.dispose();
      process.env.PATH = oldPath;
    }
  });

  it('reports no GPU when nvidia-smi is missing', async () => {
    process.env.PATH = path.join(dir, 'none');
    const m = new GpuMonitor();
    try {
      assert.equal(await m.probe(), false);
      assert.equal(m.available, false);
      assert.equal(m.latest, null);
    } finally {
      m.dispose();
      process.env.PATH = oldPath;
    }
  });
});
