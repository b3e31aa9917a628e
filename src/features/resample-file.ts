/**
 * A whole audio file resampled to a WAV, streaming: one StreamingResampler per channel, a WavWriter, bounded memory
 * however long the file.
 */
import { openAudio } from '../audio/index.js';
import { interleave, toFloat32Channels } from '../audio/convert.js';
import { WavWriter } from '../audio/wav-writer.js';
import { wavBitsOptions, type WavBitsName } from '../audio/wav-encode.js';
import { silentProgress, type ProgressSink } from '../util/progress.js';
import { StreamingResampler, type ResampleQuality } from './resample.js';

export interface ResampleFileOptions {
  /** Output sample rate. */
  sampleRate: number;
  quality?: ResampleQuality;
  /** Default: 16 for input of at most 16 bits, 24 up to 24, else float. */
  bits?: WavBitsName;
  /** Counts input frames. */
  progress?: ProgressSink;
}

export interface ResampleFileResult {
  fromRate: number;
  toRate: number;
  channels: number;
  framesIn: number;
  framesOut: number;
  bits: WavBitsName;
}

/** Input frames read per step. */
const WINDOW_FRAMES = 1 << 16;

export function defaultWavBitsName(inputBits: number): WavBitsName {
  return inputBits <= 16 ? '16' : inputBits <= 24 ? '24' : 'float';
}

/**
 * Resamples `input` (any format loadAudio reads) to a WAV at `output`, as resample_poly would the whole signal; an
 * unfinished output is deleted.
 */
export async function resampleFile(input: string, output: string, opts: ResampleFileOptions): Promise<ResampleFileResult> {
  const reader = await openAudio(input);
  const progress = opts.progress ?? silentProgress;
  try {
    const channels = reader.channels;
    const resamplers = Array.from(
      { length: channels },
      () => new StreamingResampler(reader.sampleRate, opts.sampleRate, { quality: opts.quality }),
    );
    const { up, down } = resamplers[0]!.design;
    const framesOut = Math.ceil((reader.frames * up) / down);
    const bits = opts.bits ?? defaultWavBitsName(reader.bitsPerSample);
    const writer = WavWriter.open(output, {
      sampleRate: opts.sampleRate,
      channels,
      ...wavBitsOptions(bits),
      expectedFrames: framesOut,
      rf64: 'auto',
    });
    try {
      progress.start(reader.frames, 'resample');
      for (let start = 0; start < reader.frames; start += WINDOW_FRAMES) {
        const end = Math.min(reader.frames, start + WINDOW_FRAMES);
        const block = toFloat32Channels(reader.read(start, end));
        writer.write(interleave(block.map((x, c) => resamplers[c]!.push(x) as Float32Array)));
        progress.tick(end - start);
      }
      writer.write(interleave(resamplers.map((r) => r.flush() as Float32Array)));
      const written = writer.close();
      if (written.frames !== framesOut)
        throw new Error(`internal: resampling ${input} wrote ${written.frames} frames, expected ${framesOut}`);
    } finally {
      writer.abort();
      progress.stop();
    }
    return { fromRate: reader.sampleRate, toRate: opts.sampleRate, channels, framesIn: reader.frames, framesOut, bits };
  } finally {
    reader.close();
  }
}
