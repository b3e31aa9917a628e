// Learning-rate schedules (src/model/schedule.ts) and their use by the training loop: the rate of
// every step, warm-up, cosine end points, validation messages, and resume following the same rates.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { learningRateAt, validateSchedule, type LrSchedule } from '../../src/model/schedule.js';
import { ConfigError } from '../../src/util/errors.js';

const cosine: LrSchedule = { name: 'cosine', learningRate: 1e-3, warmupSteps: 10, minLearningRate: 1e-5, totalSteps: 110 };

test('constant: the rate throughout, after a linear warm-up when one is asked for', () => {
  const c: LrSchedule = { ...cosine, name: 'constant', warmupSteps: 0 };
  for (const s of [1, 50, 110, 500]) assert.equal(learningRateAt(s, c), 1e-3);
  const w: LrSchedule = { ...c, warmupSteps: 4 };
  assert.deepEqual(
    [1, 2, 3, 4, 5, 99].map((s) => learningRateAt(s, w)),
    [2.5e-4, 5e-4, 7.5e-4, 1e-3, 1e-3, 1e-3],
  );
});

test('cosine: warm-up to the peak, half-way at the midpoint, the minimum at the last step and after', () => {
  assert.ok(Math.abs(learningRateAt(5, cosine) - 5e-4) < 1e-15);
  assert.equal(learningRateAt(10, cosine), 1e-3);
  assert.ok(Math.abs(learningRateAt(60, cosine) - (1e-5 + 1e-3) / 2) < 1e-12, 'midpoint of the decay');
  assert.ok(Math.abs(learningRateAt(110, cosine) - 1e-5) < 1e-15);
  assert.ok(Math.abs(learningRateAt(1000, cosine) - 1e-5) < 1e-15);
  let prev = Infinity;
  for (let s = 10; s <= 110; s++) {
    const r = learningRateAt(s, cosine);
    assert.ok(r <= prev, `step ${s}: the decay never rises`);
    prev = r;
  }
});

test('validateSchedule names the training option to change, or its label (the CLI: its flag)', () => {
  assert.throws(
    () => validateSchedule({ ...cosine, name: 'linear' as 'cosine' }),
    (e: unknown) => e instanceof ConfigError && /^lrSchedule must be one of constant, cosine/.test(e.message),
  );
  assert.throws(
    () => validateSchedule({ ...cosine, warmupSteps: 2.5 }),
    /^ConfigError: warmupSteps must be a whole number of steps, got 2\.5$/,
  );
  assert.throws(
    () => validateSchedule({ ...cosine, minLearningRate: 2e-3 }),
    /^ConfigError: minLearningRate must be between 0 and learningRate \(0\.001\), got 0\.002$/,
  );
  assert.throws(() => validateSchedule({ ...cosine, learningRate: 0 }), /^ConfigError: learningRate must be positive/);
  const flags: Record<string, string> = { minLearningRate: '--min-lr', learningRate: '--lr' };
  assert.throws(
    () => validateSchedule({ ...cosine, minLearningRate: 2e-3 }, (o) => flags[o] ?? o),
    /^ConfigError: --min-lr must be between 0 and --lr \(0\.001\), got 0\.002$/,
  );
  assert.equal(validateSchedule(cosine), cosine);
});
