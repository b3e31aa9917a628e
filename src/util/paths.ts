/** Locations inside the installed package, the same from src/ (tsx) and dist/src/ (compiled). */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NotFoundError } from './errors.js';

let root: string | undefined;

/** The folder holding wavelm's package.json. */
export function packageRoot(): string {
  if (root) return root;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pj = join(dir, 'package.json');
    if (existsSync(pj) && (JSON.parse(readFileSync(pj, 'utf8')) as { name?: string }).name === 'wavelm') {
      root = dir;
      return root;
    }
    const up = dirname(dir);
    if (up === dir) throw new Error('wavelm: cannot locate the package root');
    dir = up;
  }
}

export function packageVersion(): string {
  return (JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { version: string }).version;
}

/** The bytes of a wasm module that `npm ci` builds (build/*.wasm); a missing file says how to build it. */
export function readBuiltWasm(path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new NotFoundError(`${path} is missing: build the kernels with "node scripts/build-wasm.mjs" (npm ci runs it)`, {
      subject: path,
      cause: err,
    });
  }
}
