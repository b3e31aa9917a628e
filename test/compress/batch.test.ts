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
    assert.deepEqual(plans.map((p) => [p.input, p.output]), [
      [join(dir, 'a/one.wav'), join(dir, 'out/one.wav.wlm')],
      [join(dir, 'a/x/two.wav'), join(dir, 'out/x/two.wav.wlm')],
    ]);
    // without outDir each output sits next to its input
    assert.deepEqual(planFiles([join(dir, 'b')], { find: 'audio', outputFor: add }).map((p) => p.output), [join(dir, 'b/one.wav.wlm')]);
    // archives are found by suffix
    assert.deepEqual(planFiles([join(dir, 'a')], { find: '.wlm', outputFor: (p) => p.slice(0, -4) }).map((p) => p.output), [join(dir, 'a/x/old')]);
    // a/one.wav and b/one.wav both land on out/one.wav.wlm
    assert.throws(() => planFiles([join(dir, 'a', 'one.wav'), join(dir, 'b', 'one.wav')], { find: 'audio', outputFor: add, outDir: join(dir, 'out') }), (e: unknown) => e instanceof WavelmError && e.code === 'ECONFIG' && /both be written/.test(e.message));
    assert.throws(() => planFiles([join(dir, 'nope')], { find: 'audio', outputFor: add }), (e: unknown) => e instanceof WavelmError && e.code === 'ENOENT');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('forEachFile: outcomes in plan order, at most `concurrency` at once, a failure stays with its file', async () => {
  const plans = Array.from({ length: 7 }, (_, i) => ({ input: `in${i}`, output: `out${i}` }));
  let running = 0;
  let peak = 0;
  const seen: string[] = [];
  const out = await forEachFile(
    plans,
    3,
    async ({ input }) => {
      running++;
      peak = Math.max(peak, running);
      await new Promise((r) => setTimeout(r, input === 'in0' ? 30 : 5));
      running--;
      if (input === 'in4') throw new Error('broken');
      return input.toUpperCase();
    },
    (o) => seen.push(o.input),
  );
  assert.equal(peak, 3);
  assert.deepEqual(out.map((o) => o.result ?? o.error!.message), ['IN0', 'IN1', 'IN2', 'IN3', 'broken', 'IN5', 'IN6']);
  assert.equal(seen.length, 7);
  assert.notEqual(seen[0], 'in0'); // the slow first file finished after others: order comes from the plan, not completion
});
