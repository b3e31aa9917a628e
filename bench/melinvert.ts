/**
 * `npm run bench -- melinvert [ITER]`: how much of a speech recording survives a round trip through its features,
 * on the CMU ARCTIC sentences of ../shared (16 kHz): mel spectrograms (librosa's defaults, and Whisper's 80-band
 * setting) inverted by librosa's mel_to_audio (NNLS + Griffin-Lim, ITER iterations, default 32), and EnCodec at
 * 1.5 / 3 / 6 kbps. One row per setting: STOI, ESTOI, SNR, SI-SDR and LSD against the original (mean over files),
 * and the inversion speed in seconds of audio per wall second and per CPU second.
 *
 * EnCodec runs the model found in WAVELM_ENCODEC_24K (an HF-format folder of facebook/encodec_24khz); without it,
 * the tiny random-weight test model of ../shared/fixtures/encodec, whose output is noise by construction: those rows
 * measure the pipeline, not EnCodec's quality, and say so in their `model` field.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { shared } from './_util.js';
import type { BenchResult } from './run.js';
import { loadAudio, toFloat32Channels } from '../src/audio/index.js';
import { AudioProcessor } from '../src/codec/index.js';
import { melSpectrogram, melToAudio, resample, type MelSpectrogramOptions } from '../src/features/index.js';
import { compareAudio, type MetricReport } from '../src/metrics/index.js';

interface Row {
  reports: MetricReport[];
  audioSeconds: number;
  wallSeconds: number;
  cpuSeconds: number;
}

/** This process's user + system CPU seconds since `c0` (a steadier speed figure than wall time on a shared machine). */
function cpuSince(c0: NodeJS.CpuUsage): number {
  const d = process.cpuUsage(c0);
  return (d.user + d.system) / 1e6;
}

function summary(name: string, extra: Record<string, unknown>, r: Row): BenchResult {
  const mean = (f: (m: MetricReport) => number): number => Number((r.reports.reduce((a, m) => a + f(m), 0) / r.reports.length).toFixed(4));
  return {
    case: name,
    ...extra,
    files: r.reports.length,
    stoi: mean((m) => m.stoi),
    estoi: mean((m) => m.estoi),
    snr_db: mean((m) => m.snrDb),
    si_sdr_db: mean((m) => m.siSdrDb),
    lsd_db: mean((m) => m.lsdDb),
    x_realtime: Number((r.audioSeconds / r.wallSeconds).toFixed(1)),
    x_realtime_cpu: Number((r.audioSeconds / r.cpuSeconds).toFixed(1)),
  };
}

export default async function* melinvert(args: string[]): AsyncGenerator<BenchResult> {
  const nIter = Number(args[0] ?? 32);
  const dir = shared('data', 'speech', 'arctic');
  if (!dir) {
    yield { case: 'skipped', reason: 'no ../shared/data/speech/arctic' };
    return;
  }
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.wav'))
    .sort();
  const clips: { name: string; y: Float32Array; sr: number }[] = [];
  for (const f of files) {
    const a = await loadAudio(join(dir, f));
    clips.push({ name: f, y: toFloat32Channels(a)[0]!, sr: a.sampleRate });
  }
  const settings: [string, Omit<MelSpectrogramOptions, 'sr'>][] = [
    ['mel librosa default (n_fft 2048, hop 512, 128 mels)', {}],
    ['mel Whisper-style (n_fft 400, hop 160, 80 mels)', { nFft: 400, hopLength: 160, nMels: 80 }],
  ];
  for (const [name, o] of settings) {
    const row: Row = { reports: [], audioSeconds: 0, wallSeconds: 0, cpuSeconds: 0 };
    for (const c of clips) {
      const M = melSpectrogram(c.y, { ...o, sr: c.sr });
      const t0 = performance.now();
      const c0 = process.cpuUsage();
      const back = melToAudio(M, { ...o, sr: c.sr, nIter, length: c.y.length });
      row.wallSeconds += (performance.now() - t0) / 1000;
      row.cpuSeconds += cpuSince(c0);
      row.audioSeconds += c.y.length / c.sr;
      row.reports.push(compareAudio([c.y], [back], c.sr));
    }
    yield summary(name, { n_iter: nIter, momentum: 0.99, init: 'random seed 0' }, row);
  }
  const real = process.env.WAVELM_ENCODEC_24K;
  const modelDir = real ?? shared('fixtures', 'encodec', 'encodec_24khz_tiny');
  if (!modelDir) return;
  const proc = AudioProcessor.load(modelDir);
  const model = real ? real : 'tiny random-weight fixture model (noise by construction, not EnCodec quality)';
  for (const bw of [1.5, 3, 6]) {
    const row: Row = { reports: [], audioSeconds: 0, wallSeconds: 0, cpuSeconds: 0 };
    for (const c of clips) {
      const t0 = performance.now();
      const c0 = process.cpuUsage();
      const codes = proc.audioToFeatures({ sampleRate: c.sr, channels: [c.y] }, { bandwidth: bw });
      const out = proc.featuresToAudio(codes);
      row.wallSeconds += (performance.now() - t0) / 1000;
      row.cpuSeconds += cpuSince(c0);
      row.audioSeconds += c.y.length / c.sr;
      const back = resample(out.channels[0]!, out.sampleRate, c.sr).subarray(0, c.y.length);
      const fitted = new Float32Array(c.y.length);
      fitted.set(back);
      row.reports.push(compareAudio([c.y], [fitted], c.sr));
    }
    yield summary(`encodec 24 kHz ${bw} kbps`, { model }, row);
  }
}
