/**
 * `npm run bench -- dataset [CORPUS...] [--quick] [--only=FIELD,...]`: the dataset format measured on real recordings
 * (../shared/data): per field, the write time, bytes on disk per minute of audio, and random-order
 * batch throughput (samples/s, MB/s of decoded output), against reading the same audio as individual
 * WAV files in random order with src/audio's loadAudio; plus the peer (scipy) loader when Python is
 * there, and a consumer that needs 5 ms per batch (does it ever wait?). Warm page cache throughout.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadAudio } from '../src/audio/index.js';
import { type BuildResult, buildDataset, collectSources } from '../src/dataset/build.js';
import { parseFieldSpecs } from '../src/dataset/fields/index.js';
import { batchBytes, Loader, type LoaderOptions } from '../src/dataset/loader.js';
import { DatasetReader } from '../src/dataset/reader.js';
import { RandomOrder } from '../src/dataset/orders/index.js';
import { shared } from './_util.js';
import type { BenchResult } from './run.js';

const CORPORA: Record<string, string[]> = {
  fsdd: ['data', 'speech', 'fsdd', 'recordings'],
  arctic: ['data', 'speech', 'arctic'],
  'sms-tools': ['data', 'music', 'sms-tools', 'sounds'],
};

const FIELDS: Record<string, string> = {
  waveform: 'waveform',
  'waveform-f32': 'waveform(dtype=float32)',
  flac: 'flac(dtype=int16)',
  opus: 'opus(bitrate=32000,dtype=int16)',
  mel: 'mel(sample_rate=16000)',
  chunks: 'chunks',
};

async function loaderRun(
  path: string,
  opts: LoaderOptions,
  minSeconds: number,
): Promise<{ samples: number; bytes: number; seconds: number; batches: number; bestSamplesPerS: number; bestBytesPerS: number }> {
  let samples = 0;
  let bytes = 0;
  let batches = 0;
  let bestSamplesPerS = 0;
  let bestBytesPerS = 0;
  const l = new Loader(path, opts);
  // Warm-up (worker threads started, decoders instantiated) is not part of the steady-state rate.
  for await (const b of l) {
    void b;
    break;
  }
  const t0 = performance.now();
  for (let epoch = 1; ; epoch++) {
    l.setEpoch(epoch);
    const te = performance.now();
    let es = 0;
    let eb = 0;
    for await (const b of l) {
      es += b.size;
      eb += batchBytes(b);
      batches++;
    }
    const dt = (performance.now() - te) / 1000;
    samples += es;
    bytes += eb;
    // The best epoch is the steady state on a quiet machine (JIT warm, checksums done, no neighbours).
    bestSamplesPerS = Math.max(bestSamplesPerS, es / dt);
    bestBytesPerS = Math.max(bestBytesPerS, eb / dt);
    if ((performance.now() - t0) / 1000 >= minSeconds) break;
  }
  await l.close();
  return { samples, bytes, seconds: (performance.now() - t0) / 1000, batches, bestSamplesPerS, bestBytesPerS };
}

/** Random-order batches of individual WAV files with loadAudio, zero-padded int16 (what the peer does). */
async function wavRun(
  files: string[],
  batch: number,
  minSeconds: number,
): Promise<{ samples: number; bytes: number; seconds: number; bestBytesPerS: number; bestSamplesPerS: number }> {
  let samples = 0;
  let bytes = 0;
  let bestBytesPerS = 0;
  let bestSamplesPerS = 0;
  const t0 = performance.now();
  for (let epoch = 0; ; epoch++) {
    const te = performance.now();
    const s0 = samples;
    const b0 = bytes;
    const order = new RandomOrder(files.length, { seed: 0, epoch });
    for (let i = 0; i + batch <= files.length; i += batch) {
      const arrs = [];
      for (let j = 0; j < batch; j++) arrs.push(await loadAudio(files[order.at(i + j)]!));
      const T = Math.max(...arrs.map((a) => a.frames));
      const out = new Int16Array(batch * T);
      arrs.forEach((a, j) => {
        const s = a.samples as Int16Array;
        if (a.channels === 1) out.set(s.subarray(0, a.frames), j * T);
        else for (let k = 0; k < a.frames; k++) out[j * T + k] = s[k * a.channels]!;
        bytes += a.frames * 2;
      });
      samples += batch;
    }
    const dt = (performance.now() - te) / 1000;
    bestBytesPerS = Math.max(bestBytesPerS, (bytes - b0) / dt);
    bestSamplesPerS = Math.max(bestSamplesPerS, (samples - s0) / dt);
    if ((performance.now() - t0) / 1000 >= minSeconds) break;
  }
  return { samples, bytes, seconds: (performance.now() - t0) / 1000, bestBytesPerS, bestSamplesPerS };
}

/** A consumer that needs `ms` of (asynchronous) work per batch: how long does it wait for the next one? */
async function stallRun(
  path: string,
  opts: LoaderOptions,
  ms: number,
  maxBatches: number,
): Promise<{ batches: number; waitsOver1ms: number; maxWaitMs: number; meanWaitMs: number }> {
  // Enough epochs for maxBatches, read ahead across epoch boundaries.
  const l = new Loader(path, { ...opts, epochs: 1_000_000 });
  const it = l[Symbol.asyncIterator]();
  await it.next(); // the first batch is a cold start, not a stall
  let n = 0;
  let over = 0;
  let max = 0;
  let total = 0;
  while (n < maxBatches) {
    // The consumer's work, asynchronous (as a GPU step or a worker would be), during which the loader runs.
    await new Promise((r) => setTimeout(r, ms));
    const t = performance.now();
    const r = await it.next();
    const w = performance.now() - t;
    if (r.done) break;
    n++;
    total += w;
    max = Math.max(max, w);
    if (w > 1) over++;
  }
  await it.return?.();
  await l.close();
  return { batches: n, waitsOver1ms: over, maxWaitMs: +max.toFixed(2), meanWaitMs: +(total / Math.max(1, n)).toFixed(3) };
}

function warm(path: string): void {
  readFileSync(path);
}

export default async function* dataset(args: string[]): AsyncGenerator<BenchResult> {
  const quick = args.includes('--quick');
  // --only=flac,waveform measures those fields only (default: all; --quick: waveform and flac, shorter).
  const only = args
    .find((a) => a.startsWith('--only='))
    ?.slice(7)
    .split(',');
  const names = args.filter((a) => !a.startsWith('--'));
  const corpora = names.length > 0 ? names : Object.keys(CORPORA);
  const minSeconds = quick ? 0.5 : 2;
  const work = mkdtempSync(join(tmpdir(), 'wlds-bench-'));
  try {
    for (const corpus of corpora) {
      const dir = CORPORA[corpus] ? shared(...CORPORA[corpus]!) : undefined;
      if (!dir) {
        yield { corpus, skipped: `../shared/${(CORPORA[corpus] ?? [corpus]).join('/')} is missing` };
        continue;
      }
      const files = collectSources([dir]).map((s) => s.path);
      for (const f of files) warm(f);
      let seconds = 0;
      for (const f of files) {
        const a = await loadAudio(f);
        seconds += a.frames / a.sampleRate;
      }
      const batch = 32;
      const wav = await wavRun(files, Math.min(batch, files.length), minSeconds);
      yield {
        corpus,
        field: 'wav-files (loadAudio)',
        files: files.length,
        audio_minutes: +(seconds / 60).toFixed(2),
        bytes_per_minute: Math.round(files.reduce((a, f) => a + statSync(f).size, 0) / (seconds / 60)),
        samples_per_s: Math.round(wav.samples / wav.seconds),
        decoded_MB_per_s: +(wav.bytes / wav.seconds / 1e6).toFixed(1),
        best_epoch_samples_per_s: Math.round(wav.bestSamplesPerS),
        best_epoch_MB_per_s: +(wav.bestBytesPerS / 1e6).toFixed(1),
      };
      const peer = shared('peers', 'peer_loader.py');
      if (peer && existsSync('/usr/bin/python3')) {
        const p = spawnSync('/usr/bin/python3', [peer, dir, String(batch)], { encoding: 'utf8' });
        const m = /: (\d+) samples\/s, (\d+) MB\/s/.exec(p.stdout);
        if (m) yield { corpus, field: 'peer: scipy wavfile', samples_per_s: Number(m[1]), decoded_MB_per_s: Number(m[2]) };
        else yield { corpus, field: 'peer: scipy wavfile', error: (p.stderr || p.stdout).trim().split('\n').pop() };
      }
      for (const [name, spec] of Object.entries(FIELDS)) {
        if (only ? !only.includes(name) : quick && !['waveform', 'flac'].includes(name)) continue;
        const out = join(work, `${corpus}-${name}.wlds`);
        const t0 = performance.now();
        let built: BuildResult;
        try {
          built = await buildDataset([dir], { out, fields: parseFieldSpecs(spec), workers: 2 });
        } catch (e) {
          yield { corpus, field: name, error: (e as Error).message };
          continue;
        }
        const writeSeconds = (performance.now() - t0) / 1000;
        const r = DatasetReader.open(out);
        let blob = 0;
        for (let i = 0; i < r.numSamples; i++) blob += r.blobLength(i, 0);
        await r.close();
        warm(out);
        const base = {
          corpus,
          field: name,
          spec,
          write_s: +writeSeconds.toFixed(2),
          bytes_per_minute: Math.round(built.shards[0]!.bytes / (seconds / 60)),
          blob_bytes: blob,
        };
        const variants: [string, LoaderOptions][] =
          name === 'flac' || name === 'opus'
            ? [
                ['0 workers', { workers: 0 }],
                ['2 workers', { workers: 2 }],
              ]
            : name === 'waveform'
              ? [
                  ['checked once (default)', {}],
                  ['checked every read', { verify: true }],
                  ['unchecked', { verify: false }],
                  ['checked once, reused buffers', { reuseBuffers: true }],
                ]
              : [['checked once (default)', {}]];
        for (const [label, v] of variants) {
          const t = await loaderRun(out, { batchSize: batch, seed: 0, order: 'random', ...v }, minSeconds);
          yield {
            ...base,
            loader: label,
            samples_per_s: Math.round(t.samples / t.seconds),
            decoded_MB_per_s: +(t.bytes / t.seconds / 1e6).toFixed(1),
            best_epoch_samples_per_s: Math.round(t.bestSamplesPerS),
            best_epoch_MB_per_s: +(t.bestBytesPerS / 1e6).toFixed(1),
          };
        }
        if (name === 'waveform' || name === 'flac') {
          const s = await stallRun(
            out,
            { batchSize: batch, seed: 0, workers: name === 'flac' ? 2 : 0, batchesAhead: 4 },
            5,
            quick ? 100 : 300,
          );
          yield { corpus, field: name, consumer_ms_per_batch: 5, ...s };
        }
        rmSync(out);
      }
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
