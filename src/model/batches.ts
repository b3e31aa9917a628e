/**
 * Token chunks held for training, and the seeded batches drawn from them.
 *
 * How a training batch is drawn (the same scheme as LMIC's train.py, which samples whole chunks):
 * for each of the `batchSize` rows, draw a chunk index uniformly with replacement,
 * `rng.int(numChunks)`; when `seqLen` is shorter than a chunk, also draw a start offset
 * `rng.int(chunkTokens - seqLen + 1)`; when `seqLen` equals the chunk length (the default) no offset
 * is drawn and the row is the whole chunk. Rows are drawn in order, chunk then offset, so the only
 * state is the RNG's four words: a checkpoint stores them and a resumed run draws the same batches.
 *
 * Tokens: 8-bit chunks are their bytes (vocabulary 256). 16-bit chunks are little-endian int16
 * samples; their tokens are the samples in offset binary, `x + 32768` as uint16 (vocabulary 65536),
 * so silence is 32768 as in 8-bit's 128.
 *
 * Evaluation uses fixed sequences instead: up to `maxSequences` chunks spread evenly over the
 * validation set (chunk `floor(i * numChunks / n)`), each from offset 0, so every evaluation of a
 * run measures the same tokens and the curve is comparable from point to point.
 */
import { ConfigError } from '../util/errors.js';
import type { TokenBatch } from './api.js';
import { optionName, type OptionLabel } from './training/options.js';
import type { TrainingRng } from './training/rng.js';

/** Equal-length token chunks stored back to back. */
export interface ChunkSet {
  /** numChunks * chunkTokens tokens. */
  tokens: Uint8Array | Uint16Array;
  numChunks: number;
  chunkTokens: number;
  vocabSize: 256 | 65536;
}

/** Little-endian int16 bytes to offset-binary uint16 tokens (x + 32768). */
export function int16BytesToTokens(bytes: Uint8Array): Uint16Array {
  if (bytes.length % 2 !== 0) throw new ConfigError(`16-bit chunk has an odd number of bytes (${bytes.length}); use an even chunk size`);
  const out = new Uint16Array(bytes.length / 2);
  for (let i = 0, j = 0; i < out.length; i++, j += 2) out[i] = (bytes[j]! | (bytes[j + 1]! << 8)) ^ 0x8000;
  return out;
}

/** Packs pipeline chunks (bytes) into a ChunkSet of tokens for the given bit depth. All chunks must have the same length. */
export function chunkSetFromChunks(chunks: readonly Uint8Array[], bitDepth: 8 | 16): ChunkSet {
  const chunkBytes = chunks.length > 0 ? chunks[0]!.length : 0;
  const chunkTokens = bitDepth === 16 ? chunkBytes / 2 : chunkBytes;
  if (bitDepth === 16 && chunkBytes % 2 !== 0) throw new ConfigError(`16-bit chunks must have an even size, got ${chunkBytes} bytes`);
  const tokens = bitDepth === 16 ? new Uint16Array(chunks.length * chunkTokens) : new Uint8Array(chunks.length * chunkTokens);
  chunks.forEach((c, i) => {
    if (c.length !== chunkBytes)
      throw new ConfigError(`chunk ${i} has ${c.length} bytes, expected ${chunkBytes}; chunks must all have the same size`);
    if (tokens instanceof Uint16Array) tokens.set(int16BytesToTokens(c), i * chunkTokens);
    else tokens.set(c, i * chunkTokens);
  });
  return { tokens, numChunks: chunks.length, chunkTokens, vocabSize: bitDepth === 16 ? 65536 : 256 };
}

/** A ChunkSet over an existing flat token array (tests, the demo, pre-tokenised data). */
export function chunkSetFromTokens(
  tokens: Uint8Array | Uint16Array,
  chunkTokens: number,
  vocabSize: 256 | 65536 = tokens instanceof Uint16Array ? 65536 : 256,
): ChunkSet {
  if (!Number.isInteger(chunkTokens) || chunkTokens < 1)
    throw new ConfigError(`chunk length must be a positive integer, got ${chunkTokens}`);
  const numChunks = Math.floor(tokens.length / chunkTokens);
  return { tokens: tokens.subarray(0, numChunks * chunkTokens), numChunks, chunkTokens, vocabSize };
}

function emptyLike(set: ChunkSet, n: number): Uint8Array | Uint16Array {
  return set.tokens instanceof Uint16Array ? new Uint16Array(n) : new Uint8Array(n);
}

/** Checks that sequences of seqLen tokens can be cut from the set; messages name options as `label` calls them. */
export function checkSeqLen(set: ChunkSet, seqLen: number, label: OptionLabel = optionName, what = 'training data'): void {
  if (!Number.isInteger(seqLen) || seqLen < 1)
    throw new ConfigError(`${label('seqLen')} must be a positive integer, got ${seqLen}`, { subject: 'seqLen' });
  if (set.numChunks === 0)
    throw new ConfigError(`${what} produced no chunks; give more or longer audio, or a smaller ${label('chunkSizeBytes')}`, {
      subject: 'chunkSizeBytes',
    });
  if (seqLen > set.chunkTokens) {
    throw new ConfigError(
      `${label('seqLen')} ${seqLen} is longer than a chunk (${set.chunkTokens} tokens); lower ${label('seqLen')} or raise ` +
        `${label('chunkSizeBytes')}`,
      { subject: 'seqLen' },
    );
  }
}

/** Seeded random batches (see the file comment for the exact scheme). */
export class BatchSampler {
  constructor(
    readonly set: ChunkSet,
    readonly batchSize: number,
    readonly seqLen: number,
    private readonly rng: TrainingRng,
  ) {
    checkSeqLen(set, seqLen);
    if (!Number.isInteger(batchSize) || batchSize < 1)
      throw new ConfigError(`batchSize must be a positive integer, got ${batchSize}`, { subject: 'batchSize' });
  }

  next(): TokenBatch {
    const { set, batchSize, seqLen } = this;
    const out = emptyLike(set, batchSize * seqLen);
    const span = set.chunkTokens - seqLen + 1;
    for (let b = 0; b < batchSize; b++) {
      const chunk = this.rng.int(set.numChunks);
      const offset = span > 1 ? this.rng.int(span) : 0;
      const start = chunk * set.chunkTokens + offset;
      out.set(set.tokens.subarray(start, start + seqLen), b * seqLen);
    }
    return { tokens: out, batchSize, seqLen };
  }
}

/** The fixed evaluation batches: up to maxSequences chunks spread evenly, offset 0, in batches of batchSize (the last may be smaller). */
export function evalBatches(set: ChunkSet, batchSize: number, seqLen: number, maxSequences: number): TokenBatch[] {
  checkSeqLen(set, seqLen, optionName, 'validation data');
  const n = Math.max(1, Math.min(set.numChunks, maxSequences));
  const batches: TokenBatch[] = [];
  for (let first = 0; first < n; first += batchSize) {
    const rows = Math.min(batchSize, n - first);
    const out = emptyLike(set, rows * seqLen);
    for (let r = 0; r < rows; r++) {
      const chunk = Math.floor(((first + r) * set.numChunks) / n);
      const start = chunk * set.chunkTokens;
      out.set(set.tokens.subarray(start, start + seqLen), r * seqLen);
    }
    batches.push({ tokens: out, batchSize: rows, seqLen });
  }
  return batches;
}

/** Shannon entropy (bits per token) of the token histogram: the loss a context-free model would reach. */
export function unigramEntropyBits(
  tokens: Uint8Array | Uint16Array,
  vocabSize: number = tokens instanceof Uint16Array ? 65536 : 256,
): number {
  const counts = new Float64Array(vocabSize);
  for (let i = 0; i < tokens.length; i++) counts[tokens[i]!]!++;
  let h = 0;
  const n = tokens.length;
  for (let v = 0; v < vocabSize; v++) {
    const c = counts[v]!;
    if (c > 0) h -= (c / n) * Math.log2(c / n);
  }
  return h;
}
