import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { forEachFile, planFiles } from '../../src/compress/batch.js';
import { WavelmError } from '../../src/util/errors.js';

test('planFiles: directories keep inner paths under outDir; clashing outputs and missing inputs are typed errors', () => {
  const dir = mkdtempSync(join(tmpdir(), 'wavelm-plan-'));
  try {
    mkdirSync(join(dir, 'a', 'x'), { recursive: true });
    mkdirSync(join(dir, 'b'), { recursive: true });
    for (const f of ['a/one.wav', 'a/x/two.wav', 'b/one.wav', 'a/notes.txt', 'a/x/old.wlm']) writeFileSync(join(dir, f), 'x');
    const add = (p: string): string => `${p}.wlm`;
    const plans = planFiles([join(dir, 'a')], { find: 'audio', outputFor: add, outDir: join(dir, 'out') });
    assert.deepEqual(
      plans.map((p) => [p.input, p.output]),
      [
        [join(dir, 'a/one.wav'), join(dir, 'out/one.wav.wlm')],
        [join(dir, 'a/x/two.wav'), join(dir, 'out/x/two.wav.wlm')],
      ],
    );
    // without outDir each output sits next to its input
    assert.deepEqual(
      planFiles([join(dir, 'b')], { find: 'audio', outputFor: add }).map((p) => p.output),
      [join(dir, 'b/one.wav.wlm')],
    );
    // archives are found by suffix
    assert.deepEqual(
      planFiles([join(dir, 'a')], { find: '.wlm', outputFor: (p) => p.slice(0, -4) }).map((p) => p.output),
      [join(dir, 'a/x/old')],
    );
    // a/one.wav and b/one.wav both land on out/one.wav.wlm
    assert.throws(
      () => planFiles([join(dir, 'a', 'one.wav'), join(dir, 'b', 'one.wav')], { find: 'audio', outputFor: add, outDir: join(dir, 'out') }),
      (e: unknown) => e instanceof WavelmError && e.code === 'ECONFIG' && /both be written/.test(e.message),
    );
    assert.throws(
      () => planFiles([join(dir, 'nope')], { find: 'audio', outputFor: add }),
      (e: unknown) => e instanceof WavelmError && e.code === 'ENOENT',
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/** A promise and the function that resolves it, for a test to decide when work finishes. */
function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

// The timeout turns a lane that never starts (a bug) into a failure instead of a hang.
test('forEachFile: outcomes in plan order, at most `concurrency` at once, a failure stays with its file', { timeout: 30_000 }, async () => {
  const plans = Array.from({ length: 7 }, (_, i) => ({ input: `in${i}`, output: `out${i}` }));
  // Each file's work waits for its gate, which the test opens, so the order of events is the test's.
  const gates = plans.map(() => deferred());
  const started: string[] = [];
  const done: string[] = [];
  let wake: (() => void) | undefined;
  const changed = (): void => {
    wake?.();
    wake = undefined;
  };
  const until = async (cond: () => boolean): Promise<void> => {
    while (!cond()) await new Promise<void>((r) => (wake = r));
  };
  let running = 0;
  let peak = 0;
  const finished = forEachFile(
    plans,
    3,
    async ({ input }) => {
      started.push(input);
      running++;
      peak = Math.max(peak, running);
      changed();
      await gates[Number(input.slice(2))]!.promise;
      running--;
      if (input === 'in4') throw new Error('broken');
      return input.toUpperCase();
    },
    (o) => {
      done.push(o.input);
      changed();
    },
  );
  await until(() => started.length === 3);
  assert.deepEqual(started, ['in0', 'in1', 'in2']);
  // While in0 is held, the others finish one by one, and each frees a lane that takes the next file.
  for (let i = 1; i < plans.length; i++) {
    gates[i]!.resolve();
    await until(() => done.includes(`in${i}`));
    assert.deepEqual(
      started,
      plans.slice(0, Math.min(i + 3, plans.length)).map((p) => p.input),
    );
  }
  gates[0]!.resolve();
  const out = await finished;
  assert.equal(peak, 3);
  assert.deepEqual(
    out.map((o) => o.result ?? o.error!.message),
    ['IN0', 'IN1', 'IN2', 'IN3', 'broken', 'IN5', 'IN6'],
  );
  // in0 finished last: outcomes follow the plan, onDone follows completion.
  assert.deepEqual(done, ['in1', 'in2', 'in3', 'in4', 'in5', 'in6', 'in0']);
});
