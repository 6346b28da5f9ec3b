/**
 * Trainer child process (dist/trainer.js), forked by src/trainer/launch.ts with
 * an IPC channel. Protocol (src/protocol/trainer.ts):
 *   child → {type:'ready'}; parent → {type:'train', protocol, request};
 *   child → started / progress / epoch / log … → done | cancelled | error; exit 0 (done,
 *   cancelled) or 1 (error). parent → {type:'cancel'} aborts the run; the child exits
 *   within a second (a watchdog forces the exit if the pipeline does not return in time).
 * Every 'log' message is mirrored to stderr, so the parent's log tail also sees it.
 *
 * Test hooks (only when NODE_ENV === 'test'; ignored otherwise):
 *   FEWSHOT_TEST_CRASH_AT=epoch:<n>  exit with code 3 right after sending epoch <n>
 *   FEWSHOT_TEST_CRASH_AT=started    exit with code 3 right after the 'started' message
 *   FEWSHOT_TEST_HANG_AT=epoch:<n>   block the event loop after epoch <n> (a stuck native call),
 *                                    so that only the parent's SIGKILL can end the child.
 */
import { TRAINER_PROTOCOL_VERSION, type ParentToTrainer, type TrainerToParent } from '../protocol/trainer';
import { runTraining, errorEvent } from '../core/train';
import { RunStore } from '../core/runs';

let pending = 0;
let drained: (() => void)[] = [];
const send = (m: TrainerToParent): void => {
  if (m.type === 'log') process.stderr.write(`[trainer] ${m.level}: ${m.message}\n`);
  else if (m.type === 'error') process.stderr.write(`[trainer] error: ${m.message}${m.fix ? `\n[trainer] fix: ${m.fix}` : ''}\n`);
  if (process.send && process.connected) {
    pending++;
    try {
      process.send(m, undefined, {}, () => {
        if (--pending === 0) { const d = drained; drained = []; d.forEach((f) => f()); }
      });
    } catch { pending--; /* parent gone */ }
  }
};

/** Resolves once every queued IPC message has been handed to the OS (so exit does not drop them); at most 500 ms. */
function flush(): Promise<void> {
  return new Promise((resolve) => {
    if (pending === 0 || !process.connected) return resolve();
    drained.push(resolve);
    setTimeout(resolve, 500).unref();
  });
}

function crashHook(): { epoch?: number; started?: boolean; hangEpoch?: number } {
  if (process.env.NODE_ENV !== 'test') return {};
  const spec = process.env.FEWSHOT_TEST_CRASH_AT ?? '';
  const m = /^epoch:(\d+)$/.exec(spec);
  const hang = /^epoch:(\d+)$/.exec(process.env.FEWSHOT_TEST_HANG_AT ?? '');
  return { epoch: m ? Number(m[1]) : undefined, started: spec === 'started', hangEpoch: hang ? Number(hang[1]) : undefined };
}

/** Test hook: block the event loop (like a stuck native call) so only SIGKILL ends the process. */
function hangForever(): void {
  const sab = new Int32Array(new SharedArrayBuffer(4));
  for (;;) Atomics.wait(sab, 0, 0, 60_000);
}

const controller = new AbortController();
let running = false;
let current: { storeDir: string; runId?: string } | undefined;

async function train(msg: Extract<ParentToTrainer, { type: 'train' }>): Promise<void> {
  if (running) {
    send({ type: 'error', message: 'This trainer process is already running a training job.' });
    return;
  }
  running = true;
  if (msg.protocol !== TRAINER_PROTOCOL_VERSION) {
    send({ type: 'error', message: `Trainer protocol mismatch: the parent speaks version ${msg.protocol}, this trainer version ${TRAINER_PROTOCOL_VERSION}.`, fix: 'Rebuild the extension (npm run build) so dist/trainer.js matches the extension.' });
    await flush();
    process.exit(1);
  }
  const hook = crashHook();
  current = { storeDir: msg.request.storeDir };
  let ok = false;
  try {
    const record = await runTraining(msg.request, {
      signal: controller.signal,
      onEvent: (e) => {
        if (e.type === 'started') current!.runId = e.runId;
        send(e);
        if (hook.started && e.type === 'started') process.exit(3);
        if (hook.epoch !== undefined && e.type === 'epoch' && e.metrics.epoch === hook.epoch) process.exit(3);
        if (hook.hangEpoch !== undefined && e.type === 'epoch' && e.metrics.epoch === hook.hangEpoch) hangForever();
      },
    });
    ok = record.status === 'completed' || record.status === 'cancelled';
  } catch (e) {
    // runTraining already sent the 'error' event for failures it could see.
    ok = false;
    void e;
  }
  await flush();
  process.exit(ok ? 0 : 1);
}

function cancel(): void {
  if (controller.signal.aborted) return;
  controller.abort();
  if (!running) {
    process.exit(0);
  }
  // Watchdog: if the pipeline does not wind down quickly, mark the run cancelled and leave.
  setTimeout(() => {
    void (async () => {
      if (current?.runId) {
        try {
          const store = new RunStore(current.storeDir);
          const rec = await store.read(current.runId);
          if (rec.status === 'running') await store.update(current.runId, { status: 'cancelled', finishedAt: new Date().toISOString() });
          send({ type: 'cancelled', runId: current.runId, runDir: store.dirOf(current.runId) });
        } catch { /* best effort */ }
      }
      await flush();
      process.exit(0);
    })();
  }, 700).unref();
}

process.on('message', (raw: unknown) => {
  const msg = raw as ParentToTrainer;
  if (!msg || typeof msg !== 'object') return;
  if (msg.type === 'train') void train(msg);
  else if (msg.type === 'cancel') cancel();
});

// Parent gone (extension host closed, CLI killed): stop and leave.
process.on('disconnect', () => {
  controller.abort();
  setTimeout(() => process.exit(running ? 1 : 0), 300).unref();
});

process.on('uncaughtException', (e) => {
  send(errorEvent(e, current?.runId));
  process.exitCode = 1;
  setTimeout(() => process.exit(1), 50);
});
process.on('unhandledRejection', (e) => {
  send(errorEvent(e, current?.runId));
  setTimeout(() => process.exit(1), 50);
});

// Keep stdout for machine output only: libraries that print go to stderr (the parent keeps the tail).
console.log = (...args: unknown[]) => process.stderr.write(args.map(String).join(' ') + '\n');
console.info = console.log;

if (!process.send) {
  process.stderr.write('dist/trainer.js is a child process: start it with child_process.fork (see src/trainer/launch.ts) or use the fewshot CLI.\n');
  process.exit(2);
}
send({ type: 'ready', protocol: TRAINER_PROTOCOL_VERSION, pid: process.pid });
