import * as fs from 'node:fs';
import * as path from 'node:path';
import { fixtureWorkspace, scratchDir } from './paths';

export interface ScratchWorkspaceOptions {
  /** Sub-folders of test/fixtures/workspace to copy (default: everything). */
  only?: string[];
  /** Extra files to create: relative path → content. */
  files?: Record<string, string | Buffer>;
  /** Extra folders to copy in: relative destination → absolute source. */
  copy?: Record<string, string>;
}

/**
 * A fresh copy of test/fixtures/workspace in a scratch folder, so each suite can
 * write .fewshot/ runs without touching the repository. Returns the absolute path.
 */
export function makeScratchWorkspace(name: string, opts: ScratchWorkspaceOptions = {}): string {
  const ws = path.join(scratchDir(`ws-${name}`), 'workspace');
  fs.mkdirSync(ws, { recursive: true });
  if (fs.existsSync(fixtureWorkspace)) {
    const entries = opts.only ?? fs.readdirSync(fixtureWorkspace);
    for (const entry of entries) {
      const src = path.join(fixtureWorkspace, entry);
      if (!fs.existsSync(src)) throw new Error(`makeScratchWorkspace: no fixture ${src}`);
      fs.cpSync(src, path.join(ws, entry), { recursive: true });
    }
  }
  for (const [rel, src] of Object.entries(opts.copy ?? {})) fs.cpSync(src, path.join(ws, rel), { recursive: true });
  for (const [rel, content] of Object.entries(opts.files ?? {})) {
    const file = path.join(ws, rel);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, content);
  }
  return ws;
}
