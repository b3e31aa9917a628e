/** Errors that name options: the library's names in `message`, a front end's spelling through `messageWith`. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError, deserializeError, FormatError, renameOptions, serializeError, type WavelmError } from '../../src/util/errors.js';

const flags: Record<string, string> = { numShards: '--num-shards', shardIndex: '--shard-index', model: '--model', seed: '--seed' };
const flag = (name: string): string | undefined => flags[name];

test('messageWith spells the options an error names, wherever they stand as words', () => {
  const e = new ConfigError('shardIndex 3 is outside 0..2 (numShards 3): give an index below the number of shards', {
    options: ['shardIndex', 'numShards'],
  });
  assert.equal(e.messageWith(flag), '--shard-index 3 is outside 0..2 (--num-shards 3): give an index below the number of shards');
  assert.equal(e.message, 'shardIndex 3 is outside 0..2 (numShards 3): give an index below the number of shards');
  assert.deepEqual(e.options, ['shardIndex', 'numShards']);
  // An option the front end has no spelling for keeps its name.
  assert.equal(
    e.messageWith(() => undefined),
    e.message,
  );
});

test('only the options the error names are spelt, and not inside a quoted value, a path or a longer word', () => {
  const e = new ConfigError("model must be waveform, spectrogram or token-lm, got 'model' (see models/model.json, seed, modelName)", {
    options: ['model'],
  });
  assert.equal(
    e.messageWith(flag),
    "--model must be waveform, spectrogram or token-lm, got 'model' (see models/model.json, seed, modelName)",
  );
  // Without options nothing is spelt, even a word that is an option elsewhere.
  assert.equal(new ConfigError('try another seed').messageWith(flag), 'try another seed');
  assert.equal(renameOptions('try another seed, or add files', ['seed'], flag), 'try another --seed, or add files');
  assert.equal(renameOptions('seed: no such folder; seed.txt', ['seed'], flag), 'seed: no such folder; seed.txt');
});

test('the options cross a thread boundary with the error', () => {
  const e = new FormatError('a.wav: truncated WAV data (pass allowTruncated to keep them)', {
    subject: 'a.wav',
    options: ['allowTruncated'],
  });
  const back = deserializeError(structuredClone(serializeError(e)));
  assert.ok(back instanceof FormatError);
  assert.deepEqual((back as WavelmError).options, ['allowTruncated']);
  assert.equal(
    (back as WavelmError).messageWith((n) => (n === 'allowTruncated' ? '--allow-truncated' : undefined)),
    'a.wav: truncated WAV data (pass --allow-truncated to keep them)',
  );
  assert.equal((deserializeError(serializeError(new ConfigError('x'))) as WavelmError).options, undefined);
});
