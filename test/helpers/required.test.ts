/**
 * .ci/run sets WAVELM_REQUIRE_SHARED=1 and WAVELM_REQUIRE_TOOLS=1 so that CI cannot pass with the
 * reference comparisons skipped; a user's `npm test` skips them with a message instead. Each case runs
 * one real test file in a child test runner and reads its exit code and TAP report.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { projectRoot } from './shared.js';

function tmp(t: { after: (fn: () => void) => void }): string {
  const d = mkdtempSync(join(tmpdir(), 'wavelm-required-'));
  t.after(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

/** Runs one test file in a fresh test runner with `env` over ours; NODE_TEST_CONTEXT would make it report to our runner instead. */
function runTestFile(file: string, env: NodeJS.ProcessEnv) {
  const base = { ...process.env };
  delete base.NODE_TEST_CONTEXT;
  delete base.WAVELM_REQUIRE_SHARED;
  delete base.WAVELM_REQUIRE_TOOLS;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-reporter=tap', file], {
    cwd: projectRoot,
    encoding: 'utf8',
    env: { ...base, ...env },
  });
  return { status: r.status, out: r.stdout + r.stderr };
}

const CODER_TESTS = join('test', 'compress', 'lmic-coder.test.ts');
const BASELINE_TESTS = join('test', 'compress', 'baselines.test.ts');

test('without ../shared, tests that need it skip and name the missing path', (t) => {
  const missing = join(tmp(t), 'no-shared');
  const r = runTestFile(CODER_TESTS, { WAVELM_SHARED: missing });
  assert.equal(r.status, 0, r.out);
  assert.match(r.out, /# skipped [1-9]/);
  assert.ok(r.out.includes(`# SKIP missing ${join(missing, 'fixtures', 'lmic-coder')}`), r.out);
  assert.match(r.out, /# fail 0/);
});

test('WAVELM_REQUIRE_SHARED=1: a missing ../shared fails the run, naming the path and the flag', (t) => {
  const missing = join(tmp(t), 'no-shared');
  const r = runTestFile(CODER_TESTS, { WAVELM_SHARED: missing, WAVELM_REQUIRE_SHARED: '1' });
  assert.notEqual(r.status, 0, r.out);
  assert.match(r.out, /# fail [1-9]/);
  assert.match(r.out, /# skipped 0/);
  assert.ok(r.out.includes(`missing ${join(missing, 'fixtures', 'lmic-coder')}`), r.out);
  assert.match(r.out, /WAVELM_REQUIRE_SHARED=1 makes that a failure/);
});

test('a missing tool skips its cross-check with the package to install, or fails it under WAVELM_REQUIRE_TOOLS=1', (t) => {
  // An empty PATH: no xz, no zstd (the runner is started by its absolute path).
  const emptyPath = tmp(t);
  const skipped = runTestFile(BASELINE_TESTS, { PATH: emptyPath });
  assert.equal(skipped.status, 0, skipped.out);
  assert.match(skipped.out, /# SKIP xz is not on PATH \(apt-get install xz-utils\)/);
  assert.match(skipped.out, /# SKIP zstd is not on PATH \(apt-get install zstd\)/);
  const failed = runTestFile(BASELINE_TESTS, { PATH: emptyPath, WAVELM_REQUIRE_TOOLS: '1' });
  assert.notEqual(failed.status, 0, failed.out);
  assert.match(failed.out, /xz is not on PATH .*WAVELM_REQUIRE_TOOLS=1 makes that a failure/);
});
