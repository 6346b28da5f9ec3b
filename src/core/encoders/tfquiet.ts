/**
 * Several tfjs copies share one engine in a process (@tensorflow/tfjs 4.22 for heads,
 * @energetic-ai/core's bundled tfjs-core 4.5 + wasm backend for USE-lite). The second copy to load
 * re-sets the platform and re-registers every wasm kernel, and tfjs prints one warning per
 * kernel ("The kernel 'X' for backend 'wasm' is already registered", "Platform node has already
 * been set"). Those re-registrations are expected here, so before any tfjs copy loads we create the
 * shared engine with @tensorflow/tfjs-core and turn on tfjs' production mode, which only mutes
 * tfjs' own warn()/log() output (errors still throw).
 */
const QUIET = Symbol.for('fewshot-lab.tfjs-quiet');

export function quietTfjs(): void {
  const g = globalThis as unknown as Record<symbol, boolean>;
  if (g[QUIET]) return;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const core = require('@tensorflow/tfjs-core') as { env(): { set(flag: string, v: boolean): void } };
  core.env().set('PROD', true);
  g[QUIET] = true;
}
