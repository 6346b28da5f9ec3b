/**
 * User-facing failures. Every FewShotError names the file it is about (in the
 * message) and says how to fix it (`fix`). Callers show `message` + `fix`, never
 * a stack trace.
 */
interface FewShotErrorOptions {
  /** Absolute path of the file or folder the error is about. */
  file?: string;
  /** What the user should do about it. */
  fix?: string;
  /** Stable machine-readable code, e.g. 'dataset-missing'. */
  code?: string;
  /** 1-based line in `file`, when known. */
  line?: number;
  /** Longer detail (e.g. a child process's last log lines). */
  detail?: string;
}

export class FewShotError extends Error {
  constructor(message: string, public readonly opts: FewShotErrorOptions = {}) {
    super(message);
    this.name = 'FewShotError';
    Object.setPrototypeOf(this, new.target.prototype);
  }
  get file(): string | undefined { return this.opts.file; }
  get fix(): string | undefined { return this.opts.fix; }
  get code(): string | undefined { return this.opts.code; }
  /** "message\nFix: fix" — suitable for a notification or a CLI error line. */
  toUserString(): string {
    return this.opts.fix ? `${this.message}\nFix: ${this.opts.fix}` : this.message;
  }
}

export function isFewShotError(e: unknown): e is FewShotError {
  return e instanceof FewShotError || (typeof e === 'object' && e !== null && (e as { name?: unknown }).name === 'FewShotError' && 'opts' in e);
}

/** Message of any thrown value, without a stack. */
export function errorMessage(e: unknown): string {
  if (e instanceof Error) return e.message;
  return String(e);
}
