/**
 * Where the PCM samples of a WAV file lie, to the byte, so an archive can code the samples and keep every
 * other byte (header, LIST/bext/cue chunks, pad bytes, trailing garbage) verbatim. The chunk walk is
 * src/audio's (`parseWavLayout`: RIFF, RIFX, RF64 and BW64, ds64 sizes, sizes of 0 or 0xFFFFFFFF meaning
 * "to the end"); this file only decides which of those layouts the compressors code. Anything else is
 * reported as unsupported so the caller can fall back to coding the file as raw bytes.
 */
import { isWav, parseWavLayout } from '../audio/wav.js';
import { UnsupportedError } from '../util/errors.js';

export interface PcmLayout {
  sampleRate: number;
  channels: number;
  /** 8 (unsigned) or 16 (signed little-endian). */
  bitsPerSample: 8 | 16;
  /** Byte offset of the first sample. */
  dataOffset: number;
  /** Bytes of whole frames available from dataOffset (declared size clipped to the file, rounded down to whole frames). */
  dataLength: number;
  frames: number;
}

/** Where the samples of an integer PCM WAV file of any width (8 to 32 bits per container) lie. */
export interface AnyPcmLayout extends Omit<PcmLayout, 'bitsPerSample'> {
  /** Container width in bits: 8 (unsigned), 16, 24 or 32 (signed). */
  bitsPerSample: number;
  /** Samples are big-endian (RIFX). */
  bigEndian: boolean;
}

/** Parses a WAV file's chunk list; throws UnsupportedError for valid files the LM path cannot code. */
export function pcmLayout(buf: Uint8Array, name = 'input'): PcmLayout {
  const { bigEndian, ...l } = anyPcmLayout(buf, name);
  if (l.bitsPerSample !== 8 && l.bitsPerSample !== 16)
    throw new UnsupportedError(`${name}: ${l.bitsPerSample}-bit PCM; the LM path codes 8- and 16-bit PCM`, { subject: name });
  // The LM archive stores the samples' bytes as tokens in the file's order, and its tokens are little-endian.
  if (bigEndian) throw new UnsupportedError(`${name}: big-endian (RIFX) samples; the LM path codes little-endian PCM`, { subject: name });
  return { ...l, bitsPerSample: l.bitsPerSample };
}

/** Parses a WAV file's chunk list for integer PCM of 8, 16, 24 or 32 bits per container. */
export function anyPcmLayout(buf: Uint8Array, name = 'input'): AnyPcmLayout {
  if (!isWav(buf)) throw new UnsupportedError(`${name}: not a WAV file (RIFF, RIFX, RF64 or BW64)`, { subject: name });
  const l = parseWavLayout(buf, name);
  const f = l.format;
  if (f.codec === 'float')
    throw new UnsupportedError(
      `${name}: ${f.bitsPerSample}-bit float WAV; wavelm codes integer PCM (8 to 32 bits) losslessly; ` +
        'keep float recordings in their own format',
      { subject: name },
    );
  if (f.codec !== 'pcm')
    throw new UnsupportedError(`${name}: ${f.codec} (G.711) WAV, format tag ${f.effectiveTag}, is not integer PCM`, { subject: name });
  if (f.containerBytes > 4)
    throw new UnsupportedError(`${name}: ${f.bitsPerSample}-bit PCM; 8 to 32 bits are supported`, { subject: name });
  return {
    sampleRate: f.sampleRate,
    channels: f.channels,
    bitsPerSample: 8 * f.containerBytes,
    dataOffset: l.dataOffset,
    dataLength: l.audioBytes,
    frames: l.frames,
    bigEndian: !l.littleEndian,
  };
}
