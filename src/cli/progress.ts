/**
 * Training progress on stderr: a live bar on a TTY, one plain line per epoch
 * (and per phase) otherwise, so logs and CI output stay readable.
 */
import type { TrainerToParent } from '../protocol/trainer';

export interface ProgressOptions {
  stream: NodeJS.WriteStream | NodeJS.WritableStream;
  tty: boolean;
  verbose?: boolean;
  width?: number;
}

function fmt(x: number | null | undefined, digits = 4): string {
  return typeof x === 'number' && Number.isFinite(x) ? x.toFixed(digits) : '-';
}

function bar(done: number, total: number, width: number): string {
  const f = total > 0 ? Math.min(1, Math.max(0, done / total)) : 0;
  const n = Math.round(f * width);
  return '[' + '#'.repeat(n) + '.'.repeat(width - n) + ']';
}

export class ProgressReporter {
  private lastLine = '';
  private live = false;
  private lastPhase = '';
  private lastDraw = 0;
  constructor(private readonly o: ProgressOptions) {}

  private write(s: string): void { this.o.stream.write(s); }

  private draw(line: string, force = false): void {
    const now = Date.now();
    if (!force && now - this.lastDraw < 80) return;
    this.lastDraw = now;
    const cols = (this.o.stream as NodeJS.WriteStream).columns ?? 100;
    const text = line.length > cols - 1 ? line.slice(0, cols - 1) : line;
    this.write('\r' + text + ' '.repeat(Math.max(0, this.lastLine.length - text.length)));
    this.lastLine = text;
    this.live = true;
  }

  /** Print a whole line (clearing the live bar first). */
  line(s: string): void {
    if (this.live) { this.write('\r' + ' '.repeat(this.lastLine.length) + '\r'); this.live = false; this.lastLine = ''; }
    this.write(s + '\n');
  }

  finish(): void {
    if (this.live) { this.write('\n'); this.live = false; this.lastLine = ''; }
  }

  handle(e: TrainerToParent): void {
    switch (e.type) {
      case 'started':
        this.line(`Run ${e.runId}: training on ${e.record.config.dataset}`);
        break;
      case 'progress': {
        const label = e.message ?? '';
        if (this.o.tty) {
          const pct = e.total > 0 ? ` ${e.done}/${e.total}` : '';
          this.draw(`${e.phase.padEnd(8)} ${bar(e.done, e.total, this.o.width ?? 24)}${pct} ${label}`, e.done === e.total);
        } else if (e.message && (e.phase !== this.lastPhase || e.done === 0 || e.done === e.total)) {
          this.line(`${e.phase}: ${e.message}`);
        }
        this.lastPhase = e.phase;
        break;
      }
      case 'epoch': {
        const m = e.metrics;
        const text = `epoch ${m.epoch}/${e.totalEpochs}  loss ${fmt(m.loss)}  val_loss ${fmt(m.valLoss)}  val_macro_f1 ${fmt(m.valMacroF1)}  val_acc ${fmt(m.valAccuracy)}`;
        if (this.o.tty) this.draw(`train    ${bar(m.epoch, e.totalEpochs, this.o.width ?? 24)} ${text}`, true);
        else this.line(text);
        break;
      }
      case 'log':
        if (e.level !== 'info' || this.o.verbose) this.line(`${e.level === 'info' ? '' : e.level + ': '}${e.message}`);
        break;
      default:
        break;
    }
  }
}
