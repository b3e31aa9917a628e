/**
 * Command-line tools (xz, zstd, flac, wavpack, ...) that some tests use to cross-check our output.
 * When one is missing, the test is skipped with a message naming the Debian package to install,
 * unless WAVELM_REQUIRE_TOOLS=1 (set by .ci/run, which installs them): then the test fails.
 */
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import type { TestContext } from 'node:test';

/** True when a missing tool must fail the tests that need it (WAVELM_REQUIRE_TOOLS=1, as in .ci/run). */
export const toolsRequired = process.env.WAVELM_REQUIRE_TOOLS === '1';

/** Absolute path of an executable named `name` on PATH, or undefined. */
export function findTool(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const p = join(dir, name);
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      // not in this directory
    }
  }
  return undefined;
}

/**
 * Path of the tool, or undefined after marking the test skipped when it is not on PATH (fails instead
 * under WAVELM_REQUIRE_TOOLS=1). `debianPackage` is what to install for it.
 */
export function toolPath(t: TestContext, name: string, debianPackage: string): string | undefined {
  const p = findTool(name);
  if (p) return p;
  const message = `${name} is not on PATH (apt-get install ${debianPackage})`;
  if (toolsRequired) throw new Error(`${message}, and WAVELM_REQUIRE_TOOLS=1 makes that a failure`);
  t.skip(message);
  return undefined;
}
