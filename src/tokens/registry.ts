/**
 * Data sources by name, like LMIC's GET_DATA_GENERATOR_FN_DICT (docs/background.md): `custom_audio` (files or folders),
 * `random` (seeded random bytes, a baseline that no model can compress) and `librispeech` (a local
 * LibriSpeech folder read with LMIC's settings; wavelm never downloads it).
 */
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, NotFoundError } from '../util/errors.js';
import { customAudioIterator, emptyStats, type IteratorOptions, type IteratorStats } from './iterator.js';
import { validateAudioConfig } from './options.js';

export interface DatasetOptions extends IteratorOptions {
  /** custom_audio: files or folders. */
  paths?: string[];
  /** librispeech: the folder holding LibriSpeech (or one of its subsets). */
  root?: string;
  /** librispeech: subset folder, e.g. 'train-clean-100' (used when it exists under root). */
  subset?: string;
  /** random: PRNG seed. Default 0. */
  seed?: number;
}

export interface DatasetSpec {
  name: string;
  description: string;
  create(opts: DatasetOptions, stats?: IteratorStats): AsyncIterable<Uint8Array>;
}

/** A small, fast, seedable PRNG (mulberry32): 32-bit outputs, same sequence on every machine. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
}

async function* randomChunks(opts: DatasetOptions, stats: IteratorStats): AsyncGenerator<Uint8Array> {
  const { options } = validateAudioConfig(opts);
  const n = opts.numChunks;
  if (n === undefined || !Number.isInteger(n) || n < 0)
    throw new ConfigError(`the random dataset needs numChunks (a non-negative integer), got ${String(n)}`, { subject: 'numChunks' });
  const next = mulberry32(opts.seed ?? 0);
  const C = options.chunkSizeBytes;
  for (let i = 0; i < n; i++) {
    const chunk = new Uint8Array(C);
    const words = new Uint32Array(chunk.buffer, 0, C >> 2);
    for (let j = 0; j < words.length; j++) words[j] = next();
    for (let j = words.length * 4; j < C; j++) chunk[j] = next() & 0xff;
    stats.chunks++;
    stats.bytes += C;
    yield chunk;
  }
}

function librispeechFolder(opts: DatasetOptions): string {
  const root = opts.root;
  if (!root) throw new ConfigError('the librispeech dataset needs root: the folder where LibriSpeech was extracted', { subject: 'root' });
  if (!existsSync(root) || !statSync(root).isDirectory())
    throw new NotFoundError(
      `${root}: no LibriSpeech folder here; download a subset from https://www.openslr.org/12 (e.g. train-clean-100.tar.gz), ` +
        'extract it and pass its folder (wavelm does not download data)',
      { subject: root },
    );
  const candidates = opts.subset ? [join(root, opts.subset), join(root, 'LibriSpeech', opts.subset)] : [];
  for (const c of candidates) if (existsSync(c)) return c;
  if (opts.subset) throw new NotFoundError(`${root}: has no subset folder '${opts.subset}'`, { subject: root });
  return root;
}

export const datasetRegistry: ReadonlyMap<string, DatasetSpec> = new Map<string, DatasetSpec>([
  [
    'custom_audio',
    {
      name: 'custom_audio',
      description: 'audio files or folders (WAV, FLAC, Ogg Vorbis/Opus, MP3), streamed through the byte-token pipeline',
      create: (opts, stats = emptyStats()) => {
        if (!opts.paths || opts.paths.length === 0)
          throw new ConfigError('custom_audio needs paths: audio files or folders', { subject: 'paths' });
        return customAudioIterator(opts.paths, opts, stats);
      },
    },
  ],
  [
    'random',
    {
      name: 'random',
      description: 'uniformly random bytes from a seeded PRNG (incompressible baseline)',
      create: (opts, stats = emptyStats()) => randomChunks(opts, stats),
    },
  ],
  [
    'librispeech',
    {
      name: 'librispeech',
      description: "a local LibriSpeech folder (FLAC), with LMIC's settings: 8-bit audioop conversion, first channel, 2048-byte chunks",
      create: (opts, stats = emptyStats()) =>
        customAudioIterator(
          [librispeechFolder(opts)],
          { conversion: 'lmic', bitDepth: 8, channelMode: 'pick', channel: 0, ...opts },
          stats,
        ),
    },
  ],
]);

/** A dataset's chunks by registry name. */
export function getDataset(name: string, opts: DatasetOptions = {}, stats?: IteratorStats): AsyncIterable<Uint8Array> {
  const spec = datasetRegistry.get(name);
  if (!spec) throw new ConfigError(`unknown dataset '${name}'; known: ${[...datasetRegistry.keys()].join(', ')}`, { subject: name });
  return spec.create(opts, stats);
}
