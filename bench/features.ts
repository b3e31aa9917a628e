/**
 * `npm run bench -- features [SECONDS]`: seconds of audio processed per second of wall time, on one core, for
 * librosa-default mel and MFCC at 22.05 kHz (n_fft 2048, hop 512, 128 mels), Whisper-style mel and MFCC at 16 kHz
 * (n_fft 400, hop 160, 80 mels), and resampling 44.1 -> 16 kHz (scipy resample_poly's filter, and the other qualities).
 * Input: a real recording from ../shared when present (looped to SECONDS), else a synthetic signal.
 * librosa 0.11.0 / scipy 1.10 on this machine: mel 847x (22.05 kHz), 2,121x (16 kHz); MFCC 758x, 1,397x;
 * resample_poly about 1,000x (measured on a quiet machine). Run the peer in the same minute for a fair ratio.
 */
import { readFileSync } from 'node:fs';
import { shared } from './_util.js';
import type { BenchResult } from './run.js';
import { melSpectrogram, mfcc, resample, StreamingResampler, type ResampleQuality } from '../src/features/index.js';
import { parseSafetensors } from '../src/util/safetensors.js';

function signal(rate: number, seconds: number): { x: Float32Array; source: string } {
  const n = Math.round(rate * seconds);
  const fx = shared('fixtures', 'resample', 'sms_speech_female_44k1_to_16k.safetensors');
  const x = new Float32Array(n);
  if (fx) {
    const t = parseSafetensors(new Uint8Array(readFileSync(fx)), fx).tensors.get('input_i16');
    if (t && t.data instanceof Int16Array && t.data.length > 0) {
      // Speech at 44.1 kHz, reused as a stream at `rate`: the content does not change the work done.
      for (let i = 0; i < n; i++) x[i] = t.data[i % t.data.length]! / 32768;
      return { x, source: 'speech-female.wav (looped)' };
    }
  }
  for (let i = 0; i < n; i++) x[i] = 0.3 * Math.sin(i * 0.05) + 0.1 * Math.sin(i * 0.71) + 0.01 * Math.sin(i * i * 1e-7);
  return { x, source: 'synthetic' };
}

export default async function* features(args: string[]): AsyncGenerator<BenchResult> {
  const seconds = Number(args[0] ?? 60);
  const repeat = Number(args[1] ?? 5);
  const peers: Record<string, number> = { mel_22k: 847, mel_16k: 2121, mfcc_22k: 758, mfcc_16k: 1397, resample_44k1_16k: 1000 };
  const cases: [string, number, () => unknown][] = [];
  const a22 = signal(22050, seconds);
  const a16 = signal(16000, seconds);
  const a44 = signal(44100, seconds);
  cases.push(['mel_22k', 22050, () => melSpectrogram(a22.x, { sr: 22050 })]);
  cases.push(['mel_16k', 16000, () => melSpectrogram(a16.x, { sr: 16000, nFft: 400, hopLength: 160, nMels: 80 })]);
  cases.push(['mfcc_22k', 22050, () => mfcc(a22.x, { sr: 22050 })]);
  cases.push(['mfcc_16k', 16000, () => mfcc(a16.x, { sr: 16000, nFft: 400, hopLength: 160, nMels: 80 })]);
  for (const q of ['default', 'fast', 'best'] as ResampleQuality[]) {
    cases.push([q === 'default' ? 'resample_44k1_16k' : `resample_44k1_16k_${q}`, 44100, () => resample(a44.x, 44100, 16000, { quality: q })]);
  }
  cases.push(['resample_44k1_16k_streaming', 44100, () => {
    const r = new StreamingResampler(44100, 16000);
    for (let i = 0; i < a44.x.length; i += 4096) r.push(a44.x.subarray(i, i + 4096));
    return r.flush();
  }]);
  for (const [name, , fn] of cases) {
    fn(); // warm up the JIT
    // Best of `repeat` for wall time and, separately, for this process's CPU time: on a shared machine the CPU
    // time is the steadier figure of what one core does; both are reported.
    let bestWall = Infinity;
    let bestCpu = Infinity;
    for (let r = 0; r < repeat; r++) {
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      fn();
      const wall = (performance.now() - t0) / 1000;
      const c = process.cpuUsage(c0);
      bestWall = Math.min(bestWall, wall);
      bestCpu = Math.min(bestCpu, (c.user + c.system) / 1e6);
    }
    const realtime = seconds / bestWall;
    const realtimeCpu = seconds / bestCpu;
    const peer = peers[name];
    yield {
      case: name,
      audioSeconds: seconds,
      wallSeconds: Number(bestWall.toFixed(4)),
      realtime: Math.round(realtime),
      realtimeCpu: Math.round(realtimeCpu),
      ...(peer ? { peerRealtime: peer, vsPeer: Number((realtime / peer).toFixed(2)), vsPeerCpu: Number((realtimeCpu / peer).toFixed(2)) } : {}),
      source: a22.source,
    };
  }
}
