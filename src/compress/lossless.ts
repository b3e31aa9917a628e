/**
 * Whole-file lossless comparison (the "16-bit lossless against FLAC at maximum compression"):
 * every file compressed as a whole by each compressor, rates as total compressed bytes over total file
 * bytes. FLAC codes the file's own samples at their own bit depth and channel count (libFLAC level 8,
 * the best of five block sizes per file); an LM writes a complete .wlm archive (header and verbatim bytes included); the
 * general-purpose compressors get the file's bytes.
 */
import { readFileSync } from 'node:fs';
import { encodeFlac, flacEncoderReady } from '../audio/encoders/flac.js';
import { silentProgress, type ProgressSink } from '../util/progress.js';
import { compressAudio, type CompressionModel } from './archive.js';
import { ChunkRunner } from './parallel.js';
import type { Compressor } from './compressor.js';
import { pcmLayout } from './wav-layout.js';

export interface LosslessResult {
  compressor: string;
  files: number;
  originalBytes: number;
  compressedBytes: number;
  rate: number;
  seconds: number;
}

export type LosslessEntry = { kind: 'flac' } | { kind: 'lm'; name: string; model: CompressionModel; workers: number; chunkLength?: number } | { kind: 'bytes'; compressor: Compressor };

/** Block sizes tried for FLAC's best: libFLAC -8 keeps 4096 for every input; on FSDD's short files 1152 saves 3.5 points. */
const FLAC_BLOCK_SIZES = [576, 1152, 2048, 4096, 4608];

/** The smallest of libFLAC level 8 over FLAC_BLOCK_SIZES: FLAC at its maximum compression for this file. */
function flacOfWav(buf: Uint8Array, name: string): Uint8Array {
  const l = pcmLayout(buf, name);
  const data = buf.subarray(l.dataOffset, l.dataOffset + l.dataLength);
  const samples = l.bitsPerSample === 8 ? data.slice() : new Int16Array(data.slice().buffer);
  let best: Uint8Array | undefined;
  for (const blockSize of FLAC_BLOCK_SIZES) {
    const out = encodeFlac(samples, { sampleRate: l.sampleRate, channels: l.channels, bitsPerSample: l.bitsPerSample, compressionLevel: 8, blockSize });
    if (!best || out.length < best.length) best = out;
  }
  return best!;
}

export async function evaluateLossless(files: string[], entries: LosslessEntry[], progress: ProgressSink = silentProgress): Promise<LosslessResult[]> {
  const inputs = files.map((f) => ({ name: f, bytes: new Uint8Array(readFileSync(f)) }));
  const originalBytes = inputs.reduce((a, f) => a + f.bytes.length, 0);
  const results: LosslessResult[] = [];
  for (const e of entries) {
    const label = e.kind === 'flac' ? 'flac' : e.kind === 'lm' ? e.name : e.compressor.name;
    if (e.kind === 'flac') await flacEncoderReady();
    if (e.kind === 'bytes') await e.compressor.init?.();
    const runner = e.kind === 'lm' ? await ChunkRunner.open(e.model.spec, e.workers) : undefined;
    progress.start(inputs.length, label);
    let total = 0;
    let seconds = 0;
    try {
      for (const f of inputs) {
        const t0 = performance.now();
        if (e.kind === 'flac') total += flacOfWav(f.bytes, f.name).length;
        else if (e.kind === 'lm') total += (await compressAudio(f.bytes, e.model, { runner, name: f.name, chunkLength: e.chunkLength })).archive.length;
        else total += e.compressor.compress(f.bytes, { sampleRate: 0 }).length;
        seconds += (performance.now() - t0) / 1000;
        progress.tick(1);
      }
    } finally {
      progress.stop();
      await runner?.close();
    }
    results.push({ compressor: label, files: inputs.length, originalBytes, compressedBytes: total, rate: total / originalBytes, seconds });
  }
  return results;
}

export function formatLosslessTable(results: LosslessResult[]): string {
  const rows = [['compressor', 'files', 'original MB', 'compressed MB', 'rate %', 'time s']];
  for (const r of results) rows.push([r.compressor, String(r.files), (r.originalBytes / 1e6).toFixed(3), (r.compressedBytes / 1e6).toFixed(3), (100 * r.rate).toFixed(2), r.seconds.toFixed(2)]);
  const w = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((c, i) => (i === 0 ? c.padEnd(w[i]!) : c.padStart(w[i]!))).join('  ')).join('\n');
}
