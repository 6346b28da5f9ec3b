/**
 * Where the files shipped under models/ live (the bundled encoders, USE-lite, the synonym table):
 * `<repo or extension>/models/<name>`, searched upward from the built file (dist/ in the extension and
 * CLI, the compiled tests' folder in tests). FEWSHOT_MODELS_DIR, when set, replaces that models/ folder.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

/** models/<name> when it holds `marker` (a file that proves the folder is complete), else undefined. */
export function findModelFolder(name: string, marker: string, start = __dirname): string | undefined {
  const has = (folder: string): boolean => fs.existsSync(path.join(folder, marker));
  const env = process.env.FEWSHOT_MODELS_DIR;
  if (env) return has(path.join(env, name)) ? path.join(env, name) : undefined;
  for (let dir = start; ; dir = path.dirname(dir)) {
    const folder = path.join(dir, 'models', name);
    if (has(folder)) return folder;
    if (path.dirname(dir) === dir) return undefined;
  }
}

/** Where findModelFolder looks first, for messages when it finds nothing. */
export function expectedModelFolder(name: string, start = __dirname): string {
  const env = process.env.FEWSHOT_MODELS_DIR;
  return env ? path.join(env, name) : path.join(start, 'models', name);
}
