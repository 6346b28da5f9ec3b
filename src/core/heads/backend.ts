/**
 * tfjs compute backend selection: tfjs-node-gpu → tfjs-node → WebGPU → WASM → cpu.
 * Every package is loaded lazily; native tfjs-node packages only when require.resolve finds them,
 * WebGPU (Dawn) only when a Vulkan loader exists on Linux. A candidate that failed is not probed
 * again in the same process (the reason is reported again).
 *
 * Cost on a 2-core machine (measured): loading @tensorflow/tfjs ≈ 250–300 ms CPU (needed anyway:
 * heads train with its gradients), the probes and wasm start-up ≈ 30–100 ms.
 * USE-lite shares the tfjs engine but pins its own backend (see encoders/use.ts), so switching
 * the backend here never slows embedding down.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { BackendInfo } from '../../protocol/run';
import { quietTfjs } from '../encoders/tfquiet';

export type Tf = typeof import('@tensorflow/tfjs-core');

let tfCore: Tf | null = null;
let current: BackendInfo | null = null;

/** @tensorflow/tfjs (core ops, gradients, 'cpu' backend). */
export function loadTf(): Tf {
  if (!tfCore) {
    // Creates the shared engine in production mode first: no duplicate-registration warnings
    // when USE-lite's bundled tfjs copy loads too (see encoders/tfquiet.ts).
    quietTfjs();
    // The full package registers the gradient functions (tfjs-core alone has none) and the cpu backend.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    tfCore = require('@tensorflow/tfjs') as Tf;
  }
  return tfCore;
}

function resolvable(name: string): string | null {
  try {
    return require.resolve(name);
  } catch {
    return null;
  }
}

function hasVulkanLoader(): boolean {
  const dirs = [
    ...(process.env.LD_LIBRARY_PATH ?? '').split(':').filter(Boolean),
    '/usr/lib', '/usr/lib64', '/lib', '/lib64', '/usr/local/lib',
    '/usr/lib/x86_64-linux-gnu', '/lib/x86_64-linux-gnu', '/usr/lib/aarch64-linux-gnu', '/lib/aarch64-linux-gnu',
  ];
  return dirs.some((d) => existsSync(join(d, 'libvulkan.so.1')));
}

const CHAIN = ['tensorflow-gpu', 'tensorflow', 'webgpu', 'wasm', 'cpu'] as const;

/** Probes that failed in this process (shared by every bundle that includes this module). */
const FAILED_KEY = Symbol.for('fewshot-lab.backend-probe-failures');
function failedProbes(): Map<string, string> {
  const g = globalThis as unknown as Record<symbol, Map<string, string> | undefined>;
  return (g[FAILED_KEY] ??= new Map());
}
/** Failures worth remembering: the package or the hardware is missing (not a transient error). */
const STICKY = new Set<string>(['tensorflow-gpu', 'tensorflow', 'webgpu']);
type Candidate = (typeof CHAIN)[number];

function msg(e: unknown): string {
  return ((e as Error)?.message ?? String(e)).split('\n')[0].slice(0, 200);
}

async function trySet(tf: Tf, name: string): Promise<void> {
  const ok = await tf.setBackend(name);
  if (!ok) throw new Error(`tf.setBackend('${name}') failed`);
  await tf.ready();
  // smoke test: a tiny matmul must run
  const r = tf.tidy(() => tf.sum(tf.matMul(tf.ones([2, 3]), tf.ones([3, 2]))));
  const v = (await r.data())[0];
  r.dispose();
  if (v !== 12) throw new Error(`backend '${name}' computed a wrong smoke-test result (${v})`);
}

async function attempt(tf: Tf, c: Candidate): Promise<{ name: string; gpu: boolean }> {
  switch (c) {
    case 'tensorflow-gpu':
    case 'tensorflow': {
      const pkg = c === 'tensorflow-gpu' ? '@tensorflow/tfjs-node-gpu' : '@tensorflow/tfjs-node';
      if (!resolvable(pkg)) throw new Error(`${pkg} is not installed`);
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      require(pkg);
      await trySet(tf, 'tensorflow');
      return { name: 'tensorflow', gpu: c === 'tensorflow-gpu' };
    }
    case 'webgpu': {
      if (!resolvable('webgpu') || !resolvable('@tensorflow/tfjs-backend-webgpu')) {
        // The .vsix leaves Dawn out (.vscodeignore, issue 16 size budget): an installed extension always lands here.
        throw new Error('not installed: the packaged extension leaves WebGPU (webgpu, @tensorflow/tfjs-backend-webgpu) out to stay small; WASM runs the heads instead');
      }
      // Dawn on Linux needs the Vulkan loader; without it there can be no adapter (and Dawn prints a warning).
      if (process.platform === 'linux' && !process.env.FEWSHOT_FORCE_WEBGPU && !hasVulkanLoader()) throw new Error('no WebGPU adapter possible: the Vulkan loader (libvulkan.so.1) is not installed');
      const g = globalThis as unknown as { navigator?: { gpu?: unknown } };
      if (!g.navigator?.gpu) {
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const webgpu = require('webgpu') as { create(o: string[]): unknown; globals: Record<string, unknown> };
        Object.assign(globalThis, webgpu.globals);
        const gpu = webgpu.create([]);
        if (!g.navigator) Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true, writable: true });
        else Object.defineProperty(g.navigator, 'gpu', { value: gpu, configurable: true });
      }
      const gpu = g.navigator!.gpu as { requestAdapter(): Promise<unknown | null> };
      const adapter = (await gpu.requestAdapter()) as { isFallbackAdapter?: boolean; info?: { adapterType?: string; description?: string } } | null;
      if (!adapter) throw new Error('no WebGPU adapter (no supported GPU or driver)');
      // A software rasteriser (e.g. lavapipe/SwiftShader) is slower than wasm for these heads.
      if (adapter.isFallbackAdapter || adapter.info?.adapterType === 'cpu') throw new Error(`only a software WebGPU adapter (${adapter.info?.description ?? 'CPU'}), slower than wasm`);
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      require('@tensorflow/tfjs-backend-webgpu');
      await trySet(tf, 'webgpu');
      return { name: 'webgpu', gpu: true };
    }
    case 'wasm': {
      // A wasm backend may already be registered in the shared tfjs engine (USE-lite's bundled
      // tfjs registers one): reuse it instead of registering every kernel twice.
      if (tf.findBackendFactory('wasm')) {
        await trySet(tf, 'wasm');
        return { name: 'wasm', gpu: false };
      }
      const main = resolvable('@tensorflow/tfjs-backend-wasm');
      if (!main) throw new Error('@tensorflow/tfjs-backend-wasm is not installed');
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const wasm = require('@tensorflow/tfjs-backend-wasm') as { setWasmPaths(p: string | Record<string, string>, usePlatformFetch?: boolean): void };
      // dist/ holds tfjs-backend-wasm{,-simd,-threaded-simd}.wasm
      const dist = main.includes(`${join('tfjs-backend-wasm', 'dist')}`) ? dirname(main) : join(dirname(main), 'dist');
      wasm.setWasmPaths(dist.endsWith('/') ? dist : dist + '/');
      await trySet(tf, 'wasm');
      return { name: 'wasm', gpu: false };
    }
    case 'cpu':
      await trySet(tf, 'cpu');
      return { name: 'cpu', gpu: false };
  }
}

/**
 * Picks and activates the fastest tfjs backend that works. `pref`: 'auto' (default) or one of
 * 'tensorflow' | 'webgpu' | 'wasm' | 'cpu' — the chain then starts there. Always ends at 'cpu'.
 */
export async function selectBackend(pref = 'auto'): Promise<BackendInfo> {
  const tf = loadTf();
  const startAt: Record<string, number> = { auto: 0, tensorflow: 0, 'tensorflow-gpu': 0, webgpu: 2, wasm: 3, cpu: 4 };
  const start = startAt[pref] ?? 0;
  const skipped: BackendInfo['skipped'] = [];
  if (!(pref in startAt)) skipped.push({ name: pref, reason: `unknown backend '${pref}' (use auto, tensorflow, webgpu, wasm or cpu)` });
  const failed = failedProbes();
  for (const c of CHAIN.slice(start)) {
    const label = c === 'tensorflow-gpu' ? 'tensorflow (GPU)' : c;
    const known = failed.get(c);
    if (known !== undefined) {
      skipped.push({ name: label, reason: known });
      continue;
    }
    try {
      const r = await attempt(tf, c);
      current = { name: r.name, gpu: r.gpu, skipped };
      return current;
    } catch (e) {
      const reason = msg(e);
      if (STICKY.has(c)) failed.set(c, reason);
      skipped.push({ name: label, reason });
    }
  }
  throw new Error(`no tfjs backend works: ${skipped.map((s) => `${s.name}: ${s.reason}`).join('; ')}`);
}

/** The backend chosen by the last selectBackend(), selecting one ('auto') if none was chosen yet. */
export async function ensureBackend(): Promise<BackendInfo> {
  return current ?? selectBackend('auto');
}
