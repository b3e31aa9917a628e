/**
 * Parsers of numeric option values, for every command. A value out of range is refused while the command
 * line is parsed (commander reports it as a usage error, exit code 2), never clamped or passed on.
 * They throw commander's InvalidArgumentError, the one error type commander turns into a usage error.
 */
import { InvalidArgumentError } from './commander.js';
import type { Command } from 'commander';
import type { Shard } from '../util/shards.js';
import { ConfigError } from '../util/errors.js';
import { describeRange, inRange, type Range } from '../util/range.js';

export type { Range };

/** Parses a whole number (decimal digits, optional sign), e.g. `integerOption({ min: 1 })` for counts. */
export function integerOption(range: Range = {}): (value: string) => number {
  return (value) => {
    const n = /^[+-]?\d+$/.test(value.trim()) ? Number(value) : NaN;
    if (!Number.isSafeInteger(n) || !inRange(n, range)) throw new InvalidArgumentError(`It must be ${describeRange('an integer', range)}.`);
    return n;
  };
}

/** Parses a finite decimal number (1e-3 and 0.5 are fine; NaN, Infinity and hex are not). */
export function numberOption(range: Range = {}): (value: string) => number {
  return (value) => {
    const n = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(value.trim()) ? Number(value) : NaN;
    if (!Number.isFinite(n) || !inRange(n, range)) throw new InvalidArgumentError(`It must be ${describeRange('a number', range)}.`);
    return n;
  };
}

/** Parses a finite decimal number in range or one of a few words, e.g. `--top-db 60` or `--top-db none`. */
export function numberOrWordOption<W extends string>(range: Range, words: readonly W[]): (value: string) => number | W {
  const number = numberOption(range);
  return (value) => {
    const word = words.find((w) => w === value.trim());
    if (word !== undefined) return word;
    try {
      return number(value);
    } catch {
      throw new InvalidArgumentError(`It must be ${describeRange('a number', range)}, or ${words.map((w) => `'${w}'`).join(' or ')}.`);
    }
  };
}

/** Parses a seed that may be any text: digits (with an optional minus) become a number, so `--seed 7` is the seed 7 of the library call. */
export function seedOption(): (value: string) => number | string {
  return (value) => (/^-?\d+$/.test(value) ? Number(value) : value);
}

/** Parses one of a fixed set of integers (e.g. bit depths 8 and 16), returned as a number. */
export function integerChoiceOption<T extends number>(choices: readonly T[]): (value: string) => T {
  return (value) => {
    const n = Number(value);
    const hit = choices.find((c) => c === n && /^\d+$/.test(value.trim()));
    if (hit === undefined) throw new InvalidArgumentError(`It must be one of ${choices.join(', ')}.`);
    return hit;
  };
}

/**
 * Adds `--num-shards N --shard-index I` to a batch command: the run does shard I of N of the sorted
 * file list (src/util/shards.ts, the assignment `dataset build` uses), so array jobs share the work.
 */
export function addShardOptions(cmd: Command): Command {
  return cmd
    .option(
      '--num-shards <n>',
      'split the sorted file list into N contiguous shards (with --shard-index; see docs/scaling.md)',
      integerOption({ min: 1 }),
    )
    .option(
      '--shard-index <i>',
      'do only shard I (0..N-1) of --num-shards N, e.g. $SLURM_ARRAY_TASK_ID or $JOB_COMPLETION_INDEX',
      integerOption({ min: 0 }),
    );
}

/** The shard the flags ask for: both flags or neither, and the index below the count (else a ConfigError, exit 2). */
export async function shardFromFlags(flags: { numShards?: number; shardIndex?: number }): Promise<Shard | undefined> {
  if (flags.numShards === undefined && flags.shardIndex === undefined) return undefined;
  if (flags.numShards === undefined || flags.shardIndex === undefined) {
    throw new ConfigError(
      '--num-shards and --shard-index go together: give both (got only ' +
        `${flags.numShards === undefined ? `--shard-index ${flags.shardIndex}` : `--num-shards ${flags.numShards}`})`,
    );
  }
  const shard = { count: flags.numShards, index: flags.shardIndex };
  (await import('../util/shards.js')).checkShard(shard);
  return shard;
}
