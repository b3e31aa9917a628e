/**
 * Whole-file lossless comparison: every file compressed as a whole by each compressor, rates as total
 * compressed bytes over total file bytes. FLAC codes the file's own samples at their own bit depth and
 * channel count (libFLAC level 8, the best of five block sizes per file); wavelm's codec and an LM write
 * complete .wlm archives (header and verbatim bytes included); the general-purpose compressors get the
 * file's bytes. A file a compressor cannot take (an LM and a FLAC file, say) is reported for that
 * compressor and left out of its totals; the others go on.
 */
import { readFileSync } from 'node:fs';
import { encodeFlac, flacEncoderReady } from '../audio/encoders/flac.js';
import { silentProgress, type ProgressSink } from '../util/progress.js';
import { compressAudio, type CompressionModel } from './archive.js';
import { ChunkRunner } from './parallel.js';
import type { Compressor } from './compressor.js';
import { compressLossless } from './lossless/codec.js';
import type { LevelName } from './lossless/levels.js';
import { readPcmImage } from './lossless/pcm-image.js';
import { SegmentRunner } from './lossless/segment-runner.js';
import { WavelmError } from '../util/errors.js';

export interface LosslessResult {
  compressor: string;
  files: number;
  /** Files this compressor could not take, with why; they are left out of its totals. */
  failed: { file: string; error: string }[];
  originalBytes: number;
  compressedBytes: number;
  rate: number;
  seconds: number;
}

export type LosslessEntry =
  | { kind: 'flac' }
  | { kind: 'codec'; level: LevelName; workers: number }
  | { kind: 'lm'; name: string; model: CompressionModel; workers: number; chunkLength?: number }
  | { kind: 'bytes'; compressor: Compressor };

/** Block sizes tried for FLAC's best: libFLAC -8 keeps 4096 for every input; on FSDD's short files 1152 saves 3.5 points. */
const FLAC_BLOCK_SIZES = [576, 1152, 2048, 4096, 4608];

/** The smallest of libFLAC level 8 over FLAC_BLOCK_SIZES: FLAC at its maximum compression for this file (WAV, AIFF or FLAC). */
async function flacOf(buf: Uint8Array, name: string): Promise<Uint8Array> {
  const image = await readPcmImage(buf, name);
  const bits = image.bitsPerSample;
  const samples =
    bits === 8 ? Uint8Array.from(image.samples, (v) => v + 128) : bits === 16 ? Int16Array.from(image.samples) : image.samples;
  let best: Uint8Array | undefined;
  for (const blockSize of FLAC_BLOCK_SIZES) {
    const out = encodeFlac(samples, {
      sampleRate: image.sampleRate,
      channels: image.channels,
      bitsPerSample: bits,
      compressionLevel: 8,
      blockSize,
    });
    if (!best || out.length < best.length) best = out;
  }
  return best!;
}

export async function evaluateLossless(
  files: string[],
  entries: LosslessEntry[],
  progress: ProgressSink = silentProgress,
): Promise<LosslessResult[]> {
  const inputs = files.map((f) => ({ name: f, bytes: new Uint8Array(readFileSync(f)) }));
  const _originalBytes = inputs.reduce((a, f) => a + f.bytes.length, 0);
  const results: LosslessResult[] = [];
  for (const e of entries) {
    const label = e.kind === 'flac' ? 'flac' : e.kind === 'codec' ? `wavelm:${e.level}` : e.kind === 'lm' ? e.name : e.compressor.name;
    if (e.kind === 'flac') await flacEncoderReady();
    if (e.kind === 'bytes') await e.compressor.init?.();
    const runner = e.kind === 'lm' ? await ChunkRunner.open(e.model.spec, e.workers) : undefined;
    const segments = e.kind === 'codec' ? await SegmentRunner.open(e.workers) : undefined;
    const compress = async (f: { name: string; bytes: Uint8Array }): Promise<number> => {
      if (e.kind === 'flac') return (await flacOf(f.bytes, f.name)).length;
      if (e.kind === 'codec') return (await compressLossless(f.bytes, { level: e.level, runner: segments, name: f.name })).archive.length;
      if (e.kind === 'lm')
        return (await compressAudio(f.bytes, e.model, { runner, name: f.name, chunkLength: e.chunkLength })).archive.length;
      return e.compressor.compress(f.bytes, { sampleRate: 0 }).length;
    };
    progress.start(inputs.length, label);
    let total = 0;
    let original = 0;
    let seconds = 0;
    const failed: LosslessResult['failed'] = [];
    try {
      for (const f of inputs) {
        const t0 = performance.now();
        try {
          total += await compress(f);
          original += f.bytes.length;
        } catch (err) {
          if (!(err instanceof WavelmError)) throw err;
          failed.push({ file: f.name, error: err.message });
        }
        seconds += (performance.now() - t0) / 1000;
        progress.tick(1);
      }
    } finally {
      progress.stop();
      await runner?.close();
      await segments?.close();
    }
    results.push({
      compressor: label,
      files: inputs.length - failed.length,
      failed,
      originalBytes: original,
      compressedBytes: total,
      rate: original > 0 ? total / original : 0,
      seconds,
    });
  }
  return results;
}

export function formatLosslessTable(results: LosslessResult[]): string {
  const rows = [['compressor', 'files', 'original MB', 'compressed MB', 'rate %', 'time s']];
  for (const r of results)
    rows.push([
      r.compressor,
      String(r.files),
      (r.originalBytes / 1e6).toFixed(3),
      (r.compressedBytes / 1e6).toFixed(3),
      (100 * r.rate).toFixed(2),
      r.seconds.toFixed(2),
    ]);
  const w = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((c, i) => (i === 0 ? c.padEnd(w[i]!) : c.padStart(w[i]!))).join('  ')).join('\n');
}
