/**
 * Child process for the run-store liveness tests: claims run `argv[3]` in store `argv[2]`
 * (owner pid + heartbeat), prints "claimed" and stays alive until it is killed.
 * Usage: node out/test/unit/helpers/claimChild.js <storeDir> <runId>
 */
import { RunStore } from '../../../src/core/runs';

const [storeDir, id] = process.argv.slice(2);
if (storeDir && id) {
  void new RunStore(storeDir).claim(id).then(() => {
    process.stdout.write('claimed\n');
    setInterval(() => undefined, 60_000);
  }, (e: unknown) => {
    process.stderr.write(`claim failed: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  });
}
