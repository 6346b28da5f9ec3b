import * as assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Checks every file a PROVENANCE.json records under `dir` (its size and sha256, as the conversion script wrote
 * them) and returns their total size in bytes.
 */
export function checkRecordedFiles(dir: string, files: Record<string, { bytes: number; sha256: string }>): number {
  let total = 0;
  for (const [rel, want] of Object.entries(files)) {
    const buf = readFileSync(join(dir, rel));
    assert.equal(buf.length, want.bytes, rel);
    assert.equal(createHash('sha256').update(buf).digest('hex'), want.sha256, `${rel} changed since conversion`);
    total += buf.length;
  }
  return total;
}
