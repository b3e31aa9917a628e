/**
 * Chunks as a .npy array for other frameworks: shape [chunks, tokens per chunk], memory-mappable by
 * numpy, JAX and PyTorch, with a sidecar JSON of the pipeline settings that made it.
 * 8-bit chunks are uint8 tokens; 16-bit chunks are either the little-endian int16 samples as stored
 * ('int16') or the 65,536-symbol tokens x + 32768 ('uint16'), ready to index an embedding table.
 */
import { ConfigError } from '../util/errors.js';
import { NpyRowWriter, type NpyRowDtype } from '../util/npy-rows.js';
import { DEFAULT_PIPELINE_OPTIONS, type BitDepth, type ResolvedPipelineOptions } from './options.js';

export type ChunkDtype = NpyRowDtype;

/** The dtype for a bit depth: `requested` checked against it, or uint8 (8-bit) / uint16 (16-bit tokens). */
export function chunkDtype(bitDepth: BitDepth, requested?: string): ChunkDtype {
  if (requested === undefined) return bitDepth === 8 ? 'uint8' : 'uint16';
  const fits = bitDepth === 8 ? ['uint8'] : ['int16', 'uint16'];
  if (!fits.includes(requested))
    throw new ConfigError(`npyDtype ${requested} does not hold ${bitDepth}-bit tokens; use ${fits.join(' or ')}`, {
      subject: 'npyDtype',
      options: ['npyDtype'],
    });
  return requested as ChunkDtype;
}

/** Tokens in a chunk of `chunkSizeBytes` bytes: one per byte at 8 bits, one per 2 bytes at 16. */
export function tokensPerChunk(bitDepth: BitDepth, chunkSizeBytes: number): number {
  return bitDepth === 8 ? chunkSizeBytes : chunkSizeBytes / 2;
}

/** Writes chunks (as the pipeline gives them) as rows of a .npy file of the chosen dtype. */
export class NpyChunkWriter {
  private readonly npy: NpyRowWriter;
  private scratch = new Uint8Array(0);

  constructor(
    path: string,
    readonly dtype: ChunkDtype,
    readonly tokens: number,
  ) {
    this.npy = new NpyRowWriter(path, dtype, [tokens]);
  }

  get rows(): number {
    return this.npy.rows;
  }

  /** Appends chunks; they are not modified (uint16 tokens are made in a copy). */
  write(chunks: readonly Uint8Array[]): void {
    if (this.dtype !== 'uint16') {
      this.npy.append(chunks);
      return;
    }
    let n = 0;
    for (const c of chunks) n += c.length;
    if (this.scratch.length < n) this.scratch = new Uint8Array(n);
    let at = 0;
    for (const c of chunks) {
      this.scratch.set(c, at);
      // x + 32768 modulo 2^16 flips the top bit: bit 7 of each little-endian sample's high byte.
      for (let i = at + 1; i < at + c.length; i += 2) this.scratch[i]! ^= 0x80;
      at += c.length;
    }
    this.npy.append([this.scratch.subarray(0, n)]);
  }

  close(): void {
    this.npy.close();
  }
}

/** What the sidecar JSON beside a .npy of chunks records. */
export interface ChunkSidecar {
  array: { file: string; dtype: ChunkDtype; shape: [number, number]; tokens: string };
  pipeline: ResolvedPipelineOptions & { tokensPerChunk: number };
  sampleRatePolicy: string;
  files: string[];
  filesRead: number;
  skipped: number;
  chunks: number;
  sha256: string;
  sha256Of: string;
  warnings: string[];
  wavelm: string;
}

const TOKEN_MEANING: Record<ChunkDtype, string> = {
  uint8: 'byte tokens (vocabulary 256): 8-bit offset-binary samples',
  int16: 'little-endian int16 samples (the tokens are x + 32768, vocabulary 65536)',
  uint16: 'tokens x + 32768 of the int16 samples x (vocabulary 65536)',
};

export function chunkSidecar(a: {
  file: string;
  dtype: ChunkDtype;
  options: ResolvedPipelineOptions;
  files: string[];
  filesRead: number;
  skipped: number;
  chunks: number;
  sha256: string;
  warnings: string[];
  version: string;
}): ChunkSidecar {
  const tokens = tokensPerChunk(a.options.bitDepth, a.options.chunkSizeBytes);
  // Only the settings that shape the tokens (resolved options may carry the caller's other keys).
  const pipeline = Object.fromEntries(
    Object.keys(DEFAULT_PIPELINE_OPTIONS).map((k) => [k, a.options[k as keyof ResolvedPipelineOptions]]),
  ) as ResolvedPipelineOptions;
  return {
    array: { file: a.file, dtype: a.dtype, shape: [a.chunks, tokens], tokens: TOKEN_MEANING[a.dtype] },
    pipeline: { ...pipeline, tokensPerChunk: tokens },
    sampleRatePolicy: 'native: each file is chunked at its own sample rate (no resampling)',
    files: a.files,
    filesRead: a.filesRead,
    skipped: a.skipped,
    chunks: a.chunks,
    sha256: a.sha256,
    sha256Of: 'the chunks as the pipeline made them, back to back (the bytes `wavelm chunks -o out.bin` writes)',
    warnings: a.warnings,
    wavelm: a.version,
  };
}
