/**
 * The one way tests reach ../shared (real recordings, reference fixtures). When the folder or file
 * is missing, the test is skipped with a message that names the missing path, unless
 * WAVELM_REQUIRE_SHARED=1 (set by .ci/run): then the test fails with that message, so that CI cannot
 * pass with every comparison against the upstream implementations skipped.
 */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestContext } from 'node:test';

/** Absolute path of the project root. */
export const projectRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
/** Absolute path of ../shared beside the project root (WAVELM_SHARED overrides). */
export const sharedRoot = process.env.WAVELM_SHARED ?? resolve(projectRoot, '..', 'shared');
/** True when a missing ../shared must fail the tests that need it (WAVELM_REQUIRE_SHARED=1, as in .ci/run). */
export const sharedRequired = process.env.WAVELM_REQUIRE_SHARED === '1';

function missingMessage(p: string): string {
  return `missing ${p} (../shared is not beside this checkout; WAVELM_SHARED=DIR points elsewhere)`;
}

/** Throws when ../shared is required and `p` is missing; a test that needs it then fails. */
function requirePresent(p: string): void {
  if (sharedRequired) throw new Error(`${missingMessage(p)}, and WAVELM_REQUIRE_SHARED=1 makes that a failure`);
}

/** Path under ../shared, or undefined after marking the test skipped when it is absent (fails instead under WAVELM_REQUIRE_SHARED=1). */
export function sharedPath(t: TestContext, ...parts: string[]): string | undefined {
  const p = join(sharedRoot, ...parts);
  if (!existsSync(p)) {
    requirePresent(p);
    t.skip(missingMessage(p));
    return undefined;
  }
  return p;
}

/**
 * Path under ../shared when it exists (for describe-level decisions); never skips by itself, but
 * throws under WAVELM_REQUIRE_SHARED=1 when the path is missing.
 */
export function sharedPathOrUndefined(...parts: string[]): string | undefined {
  const p = join(sharedRoot, ...parts);
  if (existsSync(p)) return p;
  requirePresent(p);
  return undefined;
}
