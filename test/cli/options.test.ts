import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InvalidArgumentError } from 'commander';
import { integerChoiceOption, integerOption, numberOption, numberOrWordOption, seedOption } from '../../src/cli/options.js';

test('integerOption accepts whole numbers in range and refuses the rest, never clamping', () => {
  const count = integerOption({ min: 1 });
  assert.equal(count('5'), 5);
  assert.equal(count('+7'), 7);
  for (const bad of ['0', '-5', '1.5', '1e3', '0x10', 'abc', '', ' ', 'NaN', 'Infinity', '9007199254740993']) {
    assert.throws(
      () => count(bad),
      (e: unknown) => e instanceof InvalidArgumentError && /It must be an integer >= 1\./.test(e.message),
      bad,
    );
  }
  assert.equal(integerOption({ min: 0 })('0'), 0);
  assert.throws(() => integerOption({ min: 0, max: 3 })('4'), /an integer >= 0 and <= 3/);
});

test('numberOption accepts finite decimals in range', () => {
  const rate = numberOption({ above: 0 });
  assert.equal(rate('1e-3'), 0.001);
  assert.equal(rate('.5'), 0.5);
  for (const bad of ['0', '-1e-3', 'Infinity', 'NaN', '0x10', '1/2', '']) assert.throws(() => rate(bad), /It must be a number > 0\./, bad);
  const fraction = numberOption({ min: 0, max: 1 });
  assert.equal(fraction('1'), 1);
  assert.throws(() => fraction('1.01'), /a number >= 0 and <= 1/);
  const share = numberOption({ min: 0, below: 1 });
  assert.equal(share('0.99'), 0.99);
  assert.throws(() => share('1'), /a number >= 0 and < 1/);
});

test('integerChoiceOption returns the chosen number', () => {
  const bits = integerChoiceOption([8, 16] as const);
  assert.equal(bits('16'), 16);
  for (const bad of ['12', '8.0', '0x10', '']) assert.throws(() => bits(bad), /one of 8, 16/, bad);
});

test('numberOrWordOption takes a number in range or one of its words', () => {
  const topDb = numberOrWordOption({ min: 0 }, ['none']);
  assert.equal(topDb('60'), 60);
  assert.equal(topDb('none'), 'none');
  for (const bad of ['-1', 'None', 'max', '', 'NaN'])
    assert.throws(
      () => topDb(bad),
      (e: unknown) => e instanceof InvalidArgumentError && /It must be a number >= 0, or 'none'\./.test(e.message),
      bad,
    );
  assert.throws(() => numberOrWordOption({ above: 0 }, ['max', 'min'])('0'), /a number > 0, or 'max' or 'min'/);
});

test('seedOption reads digits as a number and keeps any other text', () => {
  const seed = seedOption();
  assert.equal(seed('7'), 7);
  assert.equal(seed('-3'), -3);
  assert.equal(seed('7a'), '7a');
  assert.equal(seed('experiment-1'), 'experiment-1');
});
