/**
 * Training progress on stderr: a live bar on a TTY, one plain line per progress point
 * (and per phase) otherwise, so logs and CI output stay readable. Points are labelled by their
 * unit ("configuration 7/18 · CV log-loss 0.41 · OOF macro-F1 0.78", "epoch 3/60 · …"); the only
 * time estimate is extrapolated from the points really completed, and says "about".
 */
import type { EpochMetrics, ProgressUnit } from '../protocol/run';
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

/** One progress point as text, by its unit. */
export function pointText(m: EpochMetrics, total: number, unit: ProgressUnit = m.unit ?? 'epoch'): string {
  const parts = [`${unit} ${m.epoch}/${total}`];
  if (unit === 'configuration') {
    if (m.label) parts.push(m.label);
    parts.push(`CV log-loss ${fmt(m.valLoss)}`, `OOF macro-F1 ${fmt(m.valMacroF1)}`);
  } else {
    if (m.label) parts.push(m.label);
    parts.push(`loss ${fmt(m.loss)}`);
    if (m.valMacroF1 !== null) parts.push(`val loss ${fmt(m.valLoss)}`, `val macro-F1 ${fmt(m.valMacroF1)}`, `val acc ${fmt(m.valAccuracy)}`);
    else if (m.trainMacroF1 !== undefined) parts.push(`train macro-F1 ${fmt(m.trainMacroF1)}`);
  }
  if (m.samplesPerSecond !== undefined) parts.push(`${m.samplesPerSecond.toFixed(1)} samples/s`);
  if (m.device) parts.push(m.deviceMemoryMiB !== undefined ? `${m.device} ${Math.round(m.deviceMemoryMiB)} MiB` : m.device);
  const left = total - m.epoch;
  if (left > 0 && m.epoch > 0 && m.elapsedMs > 0) parts.push(`about ${Math.max(1, Math.round((m.elapsedMs / m.epoch) * left / 1000))} s left`);
  return parts.join(' · ');
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
        if (e.phase === 'load' && e.done === e.total && e.message) {
          // what was read (counts, the text and label columns) stays on screen, also on a terminal
          this.line(`${e.phase}: ${e.message}`);
        } else if (this.o.tty) {
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
        const text = pointText(m, e.totalEpochs, e.unit ?? m.unit);
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
