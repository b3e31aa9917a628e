/**
 * The one way tests reach ../shared (real recordings, reference fixtures). When the folder or file
 * is missing, the test is skipped with a message that names the missing path.
 */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestContext } from 'node:test';

/** Absolute path of the project root. */
export const projectRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
/** Absolute path of ../shared beside the project root (WAVELM_SHARED overrides). */
export const sharedRoot = process.env.WAVELM_SHARED ?? resolve(projectRoot, '..', 'shared');

/** Path under ../shared, or undefined after marking the test skipped when it is absent. */
export function sharedPath(t: TestContext, ...parts: string[]): string | undefined {
  const p = join(sharedRoot, ...parts);
  if (!existsSync(p)) {
    t.skip(`missing ${p} (../shared is not beside this checkout)`);
    return undefined;
  }
  return p;
}

/** Path under ../shared when it exists (for describe-level decisions); never skips by itself. */
export function sharedPathOrUndefined(...parts: string[]): string | undefined {
  const p = join(sharedRoot, ...parts);
  return existsSync(p) ? p : undefined;
}
