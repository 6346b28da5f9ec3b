/**
 * Polls `nvidia-smi` every few seconds while a dashboard needs it. Absent
 * nvidia-smi (ENOENT, error, timeout) is remembered: no further polling.
 */
import * as vscode from 'vscode';
import { execFile } from 'node:child_process';
import type { GpuSample } from '../../protocol/webview';

const GPU_POLL_MS = 3000;

function run(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('nvidia-smi', args, { timeout: 4000, windowsHide: true }, (err, stdout) => (err ? reject(err) : resolve(String(stdout))));
  });
}

/** Parse `utilization.gpu,memory.used,memory.total` CSV (noheader, nounits); first GPU only. */
export function parseGpuCsv(text: string): GpuSample | null {
  const line = text.split(/\r?\n/).find((l) => l.trim());
  if (!line) return null;
  const [u, used, total] = line.split(',').map((x) => Number(x.trim()));
  if (![u, used, total].every(Number.isFinite)) return null;
  return { utilization: u, memoryUsed: used, memoryTotal: total };
}

export class GpuMonitor implements vscode.Disposable {
  /** undefined: not probed yet. */
  available: boolean | undefined;
  name: string | undefined;
  latest: GpuSample | null = null;
  private timer: NodeJS.Timeout | undefined;
  private users = 0;
  private probing: Promise<boolean> | undefined;
  private readonly emitter = new vscode.EventEmitter<GpuSample | null>();
  readonly onSample = this.emitter.event;

  probe(): Promise<boolean> {
    this.probing ??= (async () => {
      try {
        const name = await run(['--query-gpu=name', '--format=csv,noheader']);
        this.name = name.split(/\r?\n/)[0]?.trim() || undefined;
        this.available = true;
        await this.poll();
      } catch {
        this.available = false;
      }
      return this.available;
    })();
    return this.probing;
  }

  private async poll(): Promise<void> {
    try {
      this.latest = parseGpuCsv(await run(['--query-gpu=utilization.gpu,memory.used,memory.total', '--format=csv,noheader,nounits']));
    } catch {
      this.latest = null;
    }
    this.emitter.fire(this.latest);
  }

  /** Start polling for one more user; dispose the result to stop. */
  acquire(): vscode.Disposable {
    this.users++;
    void this.probe().then((ok) => {
      if (ok && this.users > 0 && !this.timer) this.timer = setInterval(() => void this.poll(), GPU_POLL_MS);
    });
    let released = false;
    return new vscode.Disposable(() => {
      if (released) return;
      released = true;
      if (--this.users <= 0 && this.timer) {
        clearInterval(this.timer);
        this.timer = undefined;
      }
    });
  }

  dispose(): void {
    if (this.timer) clearInterval(this.timer);
    this.emitter.dispose();
  }
}
