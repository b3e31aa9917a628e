/**
 * The compressor protocol of `wavelm eval`, after LMIC's compressors/compressor.py: a compressor turns
 * bytes into bytes. 'classical' compressors have a fixed container header that compress.py counts only
 * once in the chunked rate (the length of compressing one zero byte); 'lm' compressors are charged for
 * every byte. A new compressor is one file in ./baselines plus one line in ./compressors.ts.
 */
export interface CompressContext {
  /** Sample rate of the data (FLAC writes it into its header; LMIC passes the dataset's rate). */
  sampleRate: number;
  /** Bits per token: 8 (unsigned bytes, LMIC's) or 16 (little-endian int16 samples). Default 8. */
  bitDepth?: 8 | 16;
  /** Channels in the token stream; with more than one, the data are blocks of `blockingSize` samples per channel in turn. Default 1. */
  channels?: number;
  /** Samples per channel block when `channels` > 1. */
  blockingSize?: number;
}

export interface Compressor {
  readonly name: string;
  readonly kind: 'classical' | 'lm';
  /** One line for tables and --help. */
  readonly description: string;
  /** Loads libraries or models; called once before compress. */
  init?(): Promise<void>;
  /** Compresses one buffer (synchronous, so evaluation times the work alone). */
  compress(data: Uint8Array, ctx: CompressContext): Uint8Array;
  /** Releases workers or models. */
  dispose?(): Promise<void>;
}
