/**
 * Typed messages from the `fewshot serve` child (dist/cli.js serve) to the parent
 * that started it (the extension's "Serve Model Locally"). They go over Node's
 * IPC channel (spawn with stdio 'ipc', `process.send`); without one (a terminal)
 * the CLI only prints its human-readable lines. The parent never scrapes stdout.
 */

export const SERVE_PROTOCOL_VERSION = 1;

export type ServeToParent =
  /** The server is bound and answers requests at `url` (loopback URL for a wildcard bind). */
  | { type: 'listening'; protocol: number; url: string; host: string; port: number; runId: string; pid: number }
  /** The server could not start (bad host, busy port, no model…). `code` is the FewShotError code. */
  | { type: 'serve-error'; protocol: number; message: string; fix?: string; code?: string };

/** True for a message of this protocol (any version: the parent checks `protocol`). */
export function isServeMessage(m: unknown): m is ServeToParent {
  if (typeof m !== 'object' || m === null) return false;
  const o = m as Record<string, unknown>;
  if (typeof o.protocol !== 'number') return false;
  if (o.type === 'listening') return typeof o.url === 'string' && typeof o.port === 'number';
  if (o.type === 'serve-error') return typeof o.message === 'string';
  return false;
}
