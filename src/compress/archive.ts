/**
 * The .wlm archive: an audio file compressed losslessly with a wavelm language model. The byte layout is documented
 * in docs/compression.md; in short: a fixed header (magic, version, SHA-256 of the model's weights and config and
 * of the original file, its size), the pipeline settings, the original bytes before and after the coded samples
 * verbatim (header, other RIFF chunks, a partial last frame), a chunk table of varint lengths, a CRC-32C over all
 * of that, the range-coded chunks, and a CRC-32C of the chunks.
 *
 * Decoding checks, in order: magic and version, the header CRC, the model hashes (another model is an
 * EMISMATCH error before any decoding), the payload CRC, and after decoding the SHA-256 of the restored
 * file, so a damaged archive or a wrong model never yields wrong output silently.
 */
import { createHash } from 'node:crypto';
import { crc32c } from '../util/crc32c.js';
import { ARCHIVE_HEADER_BYTES, readArchiveHeader, writeArchiveHeader } from './archive-header.js';
import { ChecksumError, ConfigError, FormatError, MismatchError, UnsupportedError } from '../util/errors.js';
import { silentProgress, type ProgressSink } from '../util/progress.js';
import { TOKEN_MODES, vocabForMode, type TokenMode } from './lm-codec.js';
import {
  runChunkJobs,
  type ChunkRunner,
  type ChunkJob,
  type DecodeJob,
  type DecodeResult,
  type EncodeJob,
  type EncodeResult,
  type PredictorSpec,
} from './parallel.js';
import { pcmLayout, type PcmLayout } from './wav-layout.js';

export const WLM_MAGIC = Uint8Array.from([0x57, 0x4c, 0x4d, 0x1a]); // "WLM\x1a"
/**
 * Format version. It also stands for the predictor's arithmetic: an archive decodes only with the
 * probabilities it was coded with, so a deliberate change of lm_step's bits (the pinned hash in
 * test/model/predictor.test.ts) bumps it. 2: attention's value sums go two key blocks at a time, and
 * its weights use a degree-4 exp polynomial.
 */
export const WLM_VERSION = 3;
/** Bytes before the verbatim prefix (see docs/compression.md). */
const FIXED = ARCHIVE_HEADER_BYTES;
const INPUT_KINDS = ['wav', 'raw'] as const;
/**
 * Longest chunk. Every chunk costs at least one chunk-table byte, so this also bounds how much output an archive can
 * claim per byte (and so the allocation a crafted header can cause).
 */
const MAX_CHUNK = 1 << 16;
const CODERS = ['range48-t24'] as const;

/** A model as compression sees it: how to build its predictor, and the hashes that identify it. */
export interface CompressionModel {
  spec: PredictorSpec;
  vocabSize: number;
  /** SHA-256 of the weights file's bytes. */
  weightsSha256: Uint8Array;
  /** SHA-256 of the config (the checkpoint's config bytes). */
  configSha256: Uint8Array;
  /** For messages. */
  name?: string;
}

/** Pipeline settings stored in the archive (the header fields after the original's size). */
export interface ArchiveSettings {
  /** 'wav': PCM samples of a WAV file are coded; 'raw': the file's bytes are the tokens. */
  input: 'wav' | 'raw';
  mode: TokenMode;
  vocabSize: number;
  /** Tokens (frames) per chunk and channel. */
  chunkLength: number;
  channels: number;
  bitsPerSample: 8 | 16;
  sampleRate: number;
  /** Frames coded by the LM (every whole frame); the last chunk of each channel may be shorter than chunkLength. */
  codedFrames: number;
  /** Offset of the first coded byte in the original (the verbatim prefix's length). */
  dataOffset: number;
  coder: 'range48-t24';
}

export interface ArchiveInfo {
  version: number;
  weightsSha256: string;
  configSha256: string;
  originalSha256: string;
  originalSize: number;
  settings: ArchiveSettings;
  prefix: Uint8Array;
  suffix: Uint8Array;
  chunkLengths: number[];
  /** Offset of the first chunk payload in the archive. */
  payloadOffset: number;
}

export interface CompressOptions {
  /** Tokens per chunk and channel (default 2048, LMIC's chunk size). */
  chunkLength?: number;
  /** Worker threads (default 1); the archive is identical for any number. */
  workers?: number;
  /** An open runner to code on (reused across files; the model must be the same); `workers` is then ignored. */
  runner?: ChunkRunner;
  /** Code a non-WAV (or unsupported WAV) file as raw bytes with an 8-bit model instead of failing. */
  allowRaw?: boolean;
  progress?: ProgressSink;
  /** For messages. */
  name?: string;
}

export interface CompressStats {
  originalBytes: number;
  archiveBytes: number;
  /** archiveBytes / originalBytes. */
  rate: number;
  chunks: number;
  /** Samples (tokens) coded by the LM. */
  codedSamples: number;
  /** Bytes of the original stored verbatim (header, tail, other chunks). */
  verbatimBytes: number;
  /** Range-coded payload bytes. */
  payloadBytes: number;
  /** Ideal code length of the LM tokens, -sum log2 p, in bytes; payload over it is the coder's overhead (plus the low bytes in 'hi8lo'). */
  idealLmBytes: number;
  mode: TokenMode;
  seconds: number;
}

function sha256(data: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha256').update(data).digest());
}
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

function pickMode(vocab: number, bits: 8 | 16, name: string): TokenMode {
  if (vocab === 256) return bits === 8 ? 'u8' : 'hi8lo';
  if (vocab === 65536) {
    if (bits === 16) return 'u16';
    throw new UnsupportedError(`${name}: 8-bit audio needs an 8-bit model (this model has 65,536 tokens)`, { subject: name });
  }
  throw new UnsupportedError(`model vocabulary ${vocab}: compression needs 256 (8-bit) or 65,536 (16-bit) tokens`);
}

/** Frames in chunk `block` (the last one of a channel may be short). */
function blockLength(s: ArchiveSettings, block: number): number {
  return Math.min(s.chunkLength, s.codedFrames - block * s.chunkLength);
}

/** Tokens (and low bytes) of chunk `block` of channel `c`. */
function extract(buf: Uint8Array, s: ArchiveSettings, block: number, c: number): { tokens: Uint8Array | Uint16Array; low?: Uint8Array } {
  const L = blockLength(s, block);
  const ch = s.channels;
  const f0 = block * s.chunkLength;
  if (s.bitsPerSample === 8) {
    const tokens = new Uint8Array(L);
    for (let i = 0; i < L; i++) tokens[i] = buf[s.dataOffset + (f0 + i) * ch + c]!;
    return { tokens };
  }
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  if (s.mode === 'u16') {
    const tokens = new Uint16Array(L);
    for (let i = 0; i < L; i++) tokens[i] = dv.getInt16(s.dataOffset + 2 * ((f0 + i) * ch + c), true) + 32768;
    return { tokens };
  }
  const tokens = new Uint8Array(L);
  const low = new Uint8Array(L);
  for (let i = 0; i < L; i++) {
    const o = s.dataOffset + 2 * ((f0 + i) * ch + c);
    low[i] = buf[o]!;
    // audioop.lin2lin(2 -> 1) keeps the signed high byte; bias(128) makes it unsigned.
    tokens[i] = (buf[o + 1]! + 128) & 0xff;
  }
  return { tokens, low };
}

function place(out: Uint8Array, s: ArchiveSettings, block: number, c: number, r: DecodeResult): void {
  const L = blockLength(s, block);
  const ch = s.channels;
  const f0 = block * s.chunkLength;
  if (s.bitsPerSample === 8) {
    for (let i = 0; i < L; i++) out[s.dataOffset + (f0 + i) * ch + c] = r.tokens[i]!;
    return;
  }
  for (let i = 0; i < L; i++) {
    const o = s.dataOffset + 2 * ((f0 + i) * ch + c);
    if (s.mode === 'u16') {
      const v = r.tokens[i]! - 32768;
      out[o] = v & 0xff;
      out[o + 1] = (v >> 8) & 0xff;
    } else {
      out[o] = r.low![i]!;
      out[o + 1] = (r.tokens[i]! - 128) & 0xff;
    }
  }
}

function writeVarint(out: number[], v: number): void {
  while (v >= 0x80) {
    out.push((v & 0x7f) | 0x80);
    v = Math.floor(v / 128);
  }
  out.push(v);
}

/** Compresses a file's bytes into a .wlm archive. */
export async function compressAudio(
  input: Uint8Array,
  model: CompressionModel,
  opts: CompressOptions = {},
): Promise<{ archive: Uint8Array; stats: CompressStats }> {
  const t0 = performance.now();
  const name = opts.name ?? 'input';
  const L = opts.chunkLength ?? 2048;
  if (!Number.isInteger(L) || L < 1 || L > MAX_CHUNK) throw new ConfigError(`chunk length ${L} must be an integer from 1 to ${MAX_CHUNK}`);
  if (model.weightsSha256.length !== 32 || model.configSha256.length !== 32)
    throw new ConfigError('model hashes must be 32-byte SHA-256 digests');
  let layout: PcmLayout;
  let kind: 'wav' | 'raw' = 'wav';
  try {
    layout = pcmLayout(input, name);
  } catch (e) {
    if (!opts.allowRaw || !(e instanceof UnsupportedError || e instanceof FormatError)) throw e;
    if (model.vocabSize !== 256) throw new UnsupportedError(`${name}: raw bytes need an 8-bit model`, { subject: name });
    kind = 'raw';
    layout = { sampleRate: 0, channels: 1, bitsPerSample: 8, dataOffset: 0, dataLength: input.length, frames: input.length };
  }
  const mode = pickMode(model.vocabSize, layout.bitsPerSample, name);
  // The final partial chunk is coded too (a shorter sequence from an empty context): on short files
  // such as FSDD's digits, keeping it raw would leave a third of the samples uncompressed.
  const blocks = Math.ceil(layout.frames / L);
  const settings: ArchiveSettings = {
    input: kind,
    mode,
    vocabSize: model.vocabSize,
    chunkLength: L,
    channels: layout.channels,
    bitsPerSample: layout.bitsPerSample,
    sampleRate: layout.sampleRate,
    codedFrames: layout.frames,
    dataOffset: layout.dataOffset,
    coder: 'range48-t24',
  };
  const bytesPerFrame = (layout.channels * layout.bitsPerSample) / 8;
  const codedEnd = layout.dataOffset + settings.codedFrames * bytesPerFrame;
  const prefix = input.subarray(0, layout.dataOffset);
  const suffix = input.subarray(codedEnd);

  const jobs: ChunkJob[] = [];
  for (let b = 0; b < blocks; b++)
    for (let c = 0; c < layout.channels; c++) jobs.push({ kind: 'encode', mode, ...extract(input, settings, b, c) });
  const progress = opts.progress ?? silentProgress;
  progress.start(settings.codedFrames * layout.channels, 'compress');
  let results: EncodeResult[];
  try {
    results = (await runChunkJobs(
      model.spec,
      jobs,
      opts.workers ?? 1,
      (_, job) => progress.tick((job as EncodeJob).tokens.length),
      opts.runner,
    )) as EncodeResult[];
  } finally {
    progress.stop();
  }

  const table: number[] = [];
  for (const r of results) writeVarint(table, r.data.length);
  const headLen = FIXED + prefix.length + suffix.length + 4 + table.length;
  const payloadLen = results.reduce((a, r) => a + r.data.length, 0);
  const out = new Uint8Array(headLen + 4 + payloadLen + 4);
  const dv = new DataView(out.buffer);
  writeArchiveHeader(out, {
    magic: WLM_MAGIC,
    version: WLM_VERSION,
    weightsSha256: model.weightsSha256,
    configSha256: model.configSha256,
    originalSha256: sha256(input),
    originalSize: input.length,
    inputKind: INPUT_KINDS.indexOf(settings.input),
    tokenMode: TOKEN_MODES.indexOf(settings.mode),
    coder: CODERS.indexOf(settings.coder),
    bitsPerSample: settings.bitsPerSample,
    vocabSize: settings.vocabSize,
    chunkLength: settings.chunkLength,
    channels: settings.channels,
    sampleRate: settings.sampleRate,
    codedFrames: settings.codedFrames,
    dataOffset: settings.dataOffset,
    suffixLength: suffix.length,
  });
  let p = FIXED;
  out.set(prefix, p);
  p += prefix.length;
  out.set(suffix, p);
  p += suffix.length;
  dv.setUint32(p, results.length, true);
  out.set(table, p + 4);
  p += 4 + table.length;
  dv.setUint32(p, crc32c(out.subarray(0, p)), true);
  p += 4;
  const payloadStart = p;
  for (const r of results) {
    out.set(r.data, p);
    p += r.data.length;
  }
  dv.setUint32(p, crc32c(out.subarray(payloadStart, p)), true);
  const idealBits = results.reduce((a, r) => a + r.idealBits, 0);
  const stats: CompressStats = {
    originalBytes: input.length,
    archiveBytes: out.length,
    rate: input.length > 0 ? out.length / input.length : 0,
    chunks: results.length,
    codedSamples: settings.codedFrames * layout.channels,
    verbatimBytes: prefix.length + suffix.length,
    payloadBytes: payloadLen,
    idealLmBytes: idealBits / 8,
    mode,
    seconds: (performance.now() - t0) / 1000,
  };
  return { archive: out, stats };
}

/** Parses and checks an archive's header and chunk table (not the payload). */
export function readArchiveInfo(archive: Uint8Array, name = 'archive'): ArchiveInfo {
  const bad = (m: string): FormatError => new FormatError(`${name}: ${m}`, { subject: name });
  if (archive.length < FIXED + 8 || !WLM_MAGIC.every((b, i) => archive[i] === b)) throw bad('not a .wlm archive (bad magic)');
  const header = readArchiveHeader(archive, name);
  const version = header.version;
  if (version !== WLM_VERSION) {
    const hint =
      version < WLM_VERSION
        ? ' (written by an older wavelm whose predictor computed other probabilities: decompress it with that release)'
        : ' (written by a newer wavelm: upgrade)';
    throw new UnsupportedError(`${name}: .wlm version ${version}; this wavelm reads version ${WLM_VERSION}${hint}`, { subject: name });
  }
  const dv = new DataView(archive.buffer, archive.byteOffset, archive.byteLength);
  const need = (p: number, n: number): void => {
    if (n < 0 || p + n > archive.length) throw bad(`truncated: needs ${p + n} bytes, has ${archive.length}`);
  };
  const originalSize = header.originalSize;
  const settings: ArchiveSettings = {
    input: INPUT_KINDS[header.inputKind]!,
    mode: TOKEN_MODES[header.tokenMode]!,
    coder: CODERS[header.coder]!,
    bitsPerSample: header.bitsPerSample as 8 | 16,
    vocabSize: header.vocabSize,
    chunkLength: header.chunkLength,
    channels: header.channels,
    sampleRate: header.sampleRate,
    codedFrames: header.codedFrames,
    dataOffset: header.dataOffset,
  };
  const sl = header.suffixLength;
  need(FIXED, settings.dataOffset);
  const prefix = archive.subarray(FIXED, FIXED + settings.dataOffset);
  let p = FIXED + settings.dataOffset;
  need(p, sl + 4);
  const suffix = archive.subarray(p, p + sl);
  p += sl;
  const count = dv.getUint32(p, true);
  p += 4;
  if (count > archive.length) throw bad(`chunk count ${count} exceeds the archive size (corrupt header)`);
  const chunkLengths: number[] = [];
  for (let i = 0; i < count; i++) {
    let v = 0;
    let mul = 1;
    for (;;) {
      need(p, 1);
      const b = archive[p++]!;
      v += (b & 0x7f) * mul;
      mul *= 128;
      if (!(b & 0x80)) break;
      if (mul > 2 ** 35) throw bad('chunk table entry too long (corrupt table)');
    }
    chunkLengths.push(v);
  }
  need(p, 4);
  const storedCrc = dv.getUint32(p, true);
  if (crc32c(archive.subarray(0, p)) !== storedCrc)
    throw new ChecksumError(`${name}: header checksum mismatch; the archive is damaged`, { subject: name });
  p += 4;
  if (
    settings.input === undefined ||
    settings.mode === undefined ||
    settings.coder === undefined ||
    (settings.bitsPerSample !== 8 && settings.bitsPerSample !== 16) ||
    settings.chunkLength < 1 ||
    settings.chunkLength > MAX_CHUNK ||
    settings.channels < 1 ||
    settings.vocabSize !== vocabForMode(settings.mode)
  ) {
    throw new UnsupportedError(`${name}: pipeline settings (the header fields after the original's size) are not ones this wavelm writes`, {
      subject: name,
    });
  }
  const payload = chunkLengths.reduce((a, b) => a + b, 0);
  if (p + payload + 4 !== archive.length)
    throw bad(`chunk table sums to ${payload} payload bytes, the archive holds ${archive.length - p - 4} (truncated or corrupt)`);
  const bytesPerFrame = (settings.channels * settings.bitsPerSample) / 8;
  if (prefix.length !== settings.dataOffset || prefix.length + settings.codedFrames * bytesPerFrame + suffix.length !== originalSize) {
    throw bad('sizes in the header disagree (corrupt header)');
  }
  const needChunks = Math.ceil(settings.codedFrames / settings.chunkLength) * settings.channels;
  if (count !== needChunks) throw bad(`chunk table has ${count} entries, the settings need ${needChunks}`);
  return {
    version,
    weightsSha256: hex(header.weightsSha256),
    configSha256: hex(header.configSha256),
    originalSha256: hex(header.originalSha256),
    originalSize,
    settings,
    prefix,
    suffix,
    chunkLengths,
    payloadOffset: p,
  };
}

export interface DecompressOptions {
  workers?: number;
  /** An open runner for the same model (see CompressOptions.runner). */
  runner?: ChunkRunner;
  progress?: ProgressSink;
  name?: string;
}

/** Restores the original file from a .wlm archive, byte for byte, or throws a typed error. */
export async function decompressAudio(archive: Uint8Array, model: CompressionModel, opts: DecompressOptions = {}): Promise<Uint8Array> {
  const name = opts.name ?? 'archive';
  const info = readArchiveInfo(archive, name);
  const s = info.settings;
  if (info.weightsSha256 !== hex(model.weightsSha256) || info.configSha256 !== hex(model.configSha256)) {
    throw new MismatchError(
      `${name} was compressed with another model (weights ${info.weightsSha256.slice(0, 12)}…, config ` +
        `${info.configSha256.slice(0, 12)}…); ` +
        `${model.name ?? 'this model'} has weights ${hex(model.weightsSha256).slice(0, 12)}…, config ` +
        `${hex(model.configSha256).slice(0, 12)}…. Use the checkpoint it was compressed with.`,
      { subject: name },
    );
  }
  if (model.vocabSize !== vocabForMode(s.mode))
    throw new MismatchError(`${name}: needs a ${vocabForMode(s.mode)}-token model, this one has ${model.vocabSize}`, { subject: name });
  const payloadEnd = archive.length - 4;
  const dv = new DataView(archive.buffer, archive.byteOffset, archive.byteLength);
  if (crc32c(archive.subarray(info.payloadOffset, payloadEnd)) !== dv.getUint32(payloadEnd, true)) {
    throw new ChecksumError(`${name}: payload checksum mismatch; the archive is damaged`, { subject: name });
  }
  const jobs: ChunkJob[] = [];
  let p = info.payloadOffset;
  info.chunkLengths.forEach((len, i) => {
    // A copy, so posting a job to a worker does not clone the whole archive.
    jobs.push({ kind: 'decode', mode: s.mode, data: archive.slice(p, p + len), length: blockLength(s, Math.floor(i / s.channels)) });
    p += len;
  });
  const out = new Uint8Array(info.originalSize);
  out.set(info.prefix, 0);
  out.set(info.suffix, info.originalSize - info.suffix.length);
  const progress = opts.progress ?? silentProgress;
  progress.start(s.codedFrames * s.channels, 'decompress');
  let results: DecodeResult[];
  try {
    results = (await runChunkJobs(
      model.spec,
      jobs,
      opts.workers ?? 1,
      (_, job) => progress.tick((job as DecodeJob).length),
      opts.runner,
    )) as DecodeResult[];
  } finally {
    progress.stop();
  }
  for (let i = 0; i < results.length; i++) place(out, s, Math.floor(i / s.channels), i % s.channels, results[i]!);
  if (hex(sha256(out)) !== info.originalSha256) {
    throw new ChecksumError(
      `${name}: the restored file fails its SHA-256 check; the archive is damaged or the model computes different probabilities here`,
      { subject: name },
    );
  }
  return out;
}
