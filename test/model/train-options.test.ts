/** The table of training options agrees with the library it describes. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { defaultModelConfig } from '../../src/model/train.js';
import { TRAINING_OPTIONS, TRAINING_OPTION_NAMES } from '../../src/model/training/options.js';
import { LR_SCHEDULES } from '../../src/model/schedule.js';

test("the model options' defaults are LMIC's, as defaultModelConfig builds them", () => {
  const lmic = defaultModelConfig(8);
  const model = TRAINING_OPTION_NAMES.filter((n) => TRAINING_OPTIONS[n].section === 'model');
  assert.deepEqual(model.sort(), ['embeddingDim', 'numHeads', 'numLayers', 'positionalEncoding', 'wideningFactor']);
  for (const name of model) assert.equal((TRAINING_OPTIONS[name] as { default?: unknown }).default, lmic[name as keyof typeof lmic], name);
});

test('the schedule choices are the schedules there are; every option has a flag of its own and a default or a text for it', () => {
  assert.deepEqual([...TRAINING_OPTIONS.lrSchedule.value.choices], [...LR_SCHEDULES]);
  const flags = TRAINING_OPTION_NAMES.map((n) => TRAINING_OPTIONS[n].flag.split(' ')[0]);
  assert.equal(new Set(flags).size, flags.length);
  for (const name of TRAINING_OPTION_NAMES) {
    const o: { default?: unknown; defaultText?: string } = TRAINING_OPTIONS[name];
    assert.notEqual(o.default === undefined, o.defaultText === undefined, name);
  }
});
