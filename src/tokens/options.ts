/**
 * Pipeline options and their validation. Defaults follow LMIC's LibriSpeech recipe and wavelm's
 * stereo blocking (docs/background.md): 8-bit samples, 2048-byte chunks, stereo blocks of 1024 samples per channel,
 * incomplete tail dropped; conversion 'exact' (which for 8-bit equals LMIC's).
 */
import { ConfigError } from '../util/errors.js';

export type BitDepth = 8 | 16;

/**
 * How samples reach the target bit depth:
 * - 'lmic': audioop.bias(audioop.lin2lin(x, width, 1), 1, 128) for 8-bit (keep the high byte, add 128 mod 256);
 *   16-bit output is the exact path.
 * - 'seed-float': a numpy-style float round trip, docs/background.md (x / 32767.0 etc. in float32, then uint8((x + 1) * 127.5) or
 *   int16(x * 32767) with numpy's truncating casts).
 * - 'exact': integer arithmetic, no float round trip; 8-bit equals 'lmic', 16-bit keeps int16 unchanged and
 *   rounds wider samples to the nearest 16-bit value.
 */
export type Conversion = 'lmic' | 'seed-float' | 'exact';

/**
 * How channels become one token stream:
 * - 'block' (default): mono passes through; 2+ channels become interleaved blocks
 *   [C0_block1, C1_block1, ..., C0_block2, ...] of `blockingSize` samples per channel (docs/background.md).
 * - 'mix': down-mix to mono (mean of the channels, truncated toward zero like numpy's astype).
 * - 'pick': one channel (`channel`, default 0; LMIC's `a[:, 0]`).
 * - 'upmix': mono is duplicated to stereo and then blocked; files with 2+ channels are blocked as they are.
 */
export type ChannelMode = 'block' | 'mix' | 'pick' | 'upmix';

export type TailMode = 'drop' | 'pad';

export interface PipelineOptions {
  /** Bits per output sample: 8 (1 byte, 256 symbols) or 16 (2 bytes little-endian). Default 8. */
  bitDepth?: BitDepth;
  /** Default 'exact'. */
  conversion?: Conversion;
  /** Samples per channel in one stereo block. Default 1024. */
  blockingSize?: number;
  /** Bytes per chunk. Default 2048 (LMIC's CHUNK_SIZE_BYTES); must be even for 16-bit. */
  chunkSizeBytes?: number;
  /** Default 'block'. */
  channelMode?: ChannelMode;
  /** Channel index for channelMode 'pick'. Default 0. */
  channel?: number;
  /** The incomplete last chunk of each file: dropped (LMIC, default) or zero-padded. */
  tail?: TailMode;
}

export type ResolvedPipelineOptions = Required<PipelineOptions>;

export const DEFAULT_PIPELINE_OPTIONS: ResolvedPipelineOptions = Object.freeze({
  bitDepth: 8,
  conversion: 'exact',
  blockingSize: 1024,
  chunkSizeBytes: 2048,
  channelMode: 'block',
  channel: 0,
  tail: 'drop',
}) as ResolvedPipelineOptions;

export function validateBlockingSize(blockingSize: number): void {
  if (!Number.isInteger(blockingSize) || blockingSize <= 0)
    throw new ConfigError(`blocking size must be a positive integer number of samples per channel, got ${blockingSize}`, {
      subject: 'blockingSize',
    });
}

/**
 * Checks a configuration and fills in defaults. Errors (ConfigError): non-positive or non-integer
 * blocking or chunk size, odd chunk size with 16-bit samples, unknown enum values. Returns the
 * resolved options and warnings about weak settings (which callers print or collect).
 */
export function validateAudioConfig(opts: PipelineOptions = {}): { options: ResolvedPipelineOptions; warnings: string[] } {
  const o: ResolvedPipelineOptions = { ...DEFAULT_PIPELINE_OPTIONS };
  for (const [k, v] of Object.entries(opts)) if (v !== undefined) (o as unknown as Record<string, unknown>)[k] = v;
  if (o.bitDepth !== 8 && o.bitDepth !== 16)
    throw new ConfigError(`bit depth must be 8 or 16, got ${String(o.bitDepth)}`, { subject: 'bitDepth' });
  if (!['lmic', 'seed-float', 'exact'].includes(o.conversion))
    throw new ConfigError(`conversion must be lmic, seed-float or exact, got '${String(o.conversion)}'`, { subject: 'conversion' });
  if (!['block', 'mix', 'pick', 'upmix'].includes(o.channelMode))
    throw new ConfigError(`channel mode must be block, mix, pick or upmix, got '${String(o.channelMode)}'`, { subject: 'channelMode' });
  if (o.tail !== 'drop' && o.tail !== 'pad')
    throw new ConfigError(`tail must be drop or pad, got '${String(o.tail)}'`, { subject: 'tail' });
  if (!Number.isInteger(o.channel) || o.channel < 0)
    throw new ConfigError(`channel must be a non-negative integer, got ${o.channel}`, { subject: 'channel' });
  validateBlockingSize(o.blockingSize);
  if (!Number.isInteger(o.chunkSizeBytes) || o.chunkSizeBytes <= 0)
    throw new ConfigError(`chunk size must be a positive integer number of bytes, got ${o.chunkSizeBytes}`, { subject: 'chunkSizeBytes' });
  if (o.bitDepth === 16 && o.chunkSizeBytes % 2 !== 0)
    throw new ConfigError(
      `chunk size must be even for 16-bit samples (2 bytes each), got ${o.chunkSizeBytes}; use ${o.chunkSizeBytes + 1}`,
      {
        subject: 'chunkSizeBytes',
      },
    );
  const warnings: string[] = [];
  const bytesPerSample = o.bitDepth / 8;
  const blockBytes = o.blockingSize * bytesPerSample;
  if ((o.channelMode === 'block' || o.channelMode === 'upmix') && blockBytes * 2 < o.chunkSizeBytes) {
    warnings.push(
      `blocking size ${o.blockingSize} samples (${blockBytes} bytes per channel block at ${o.bitDepth}-bit) is less than half the ` +
        `${o.chunkSizeBytes}-byte chunk, so each stereo chunk switches channel ${Math.ceil(o.chunkSizeBytes / blockBytes) - 1}+ times: ` +
        `the model sees short single-channel runs and loses the longer same-channel context a chunk could hold; ` +
        `use blockingSize ${Math.ceil(o.chunkSizeBytes / 2 / bytesPerSample)} or more to keep one left/right pair per chunk`,
    );
  }
  return { options: o, warnings };
}
