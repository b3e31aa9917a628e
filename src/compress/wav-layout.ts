/**
 * Where the PCM samples of a RIFF/WAVE file lie, to the byte, so an archive can code the samples and
 * keep every other byte (header, LIST/bext/cue chunks, pad bytes, trailing garbage) verbatim. Only the
 * layouts the LM path codes are recognised here: integer PCM (format 1, or WAVE_FORMAT_EXTENSIBLE with the
 * PCM sub-format), 8 or 16 bits. Anything else is reported as unsupported so the caller can fall back to
 * coding the file as raw bytes.
 */
import { FormatError, UnsupportedError } from '../util/errors.js';

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

const PCM_GUID_TAIL = [0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xaa, 0x00, 0x38, 0x9b, 0x71];

/** Where the samples of an integer PCM WAV file of any width (8 to 32 bits per container) lie. */
export interface AnyPcmLayout extends Omit<PcmLayout, 'bitsPerSample'> {
  /** Container width in bits: 8 (unsigned), 16, 24 or 32 (signed little-endian). */
  bitsPerSample: number;
}

/** Parses a WAV file's chunk list; throws UnsupportedError for valid files the LM path cannot code. */
export function pcmLayout(buf: Uint8Array, name = 'input'): PcmLayout {
  const l = anyPcmLayout(buf, name);
  if (l.bitsPerSample !== 8 && l.bitsPerSample !== 16)
    throw new UnsupportedError(`${name}: ${l.bitsPerSample}-bit PCM; the LM path codes 8- and 16-bit PCM`, { subject: name });
  return { ...l, bitsPerSample: l.bitsPerSample };
}

/** Parses a WAV file's chunk list for integer PCM of 8, 16, 24 or 32 bits per container. */
export function anyPcmLayout(buf: Uint8Array, name = 'input'): AnyPcmLayout {
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const tag = (o: number): string => String.fromCharCode(buf[o]!, buf[o + 1]!, buf[o + 2]!, buf[o + 3]!);
  if (buf.length < 12 || tag(0) !== 'RIFF' || tag(8) !== 'WAVE')
    throw new UnsupportedError(`${name}: not a RIFF/WAVE file`, { subject: name });
  let pos = 12;
  let fmt: { channels: number; sampleRate: number; bits: number; blockAlign: number } | undefined;
  while (pos + 8 <= buf.length) {
    const id = tag(pos);
    const size = dv.getUint32(pos + 4, true);
    const body = pos + 8;
    if (id === 'fmt ') {
      if (size < 16 || body + 16 > buf.length) throw new FormatError(`${name}: fmt chunk of ${size} bytes is too short`, { subject: name });
      let format = dv.getUint16(body, true);
      const channels = dv.getUint16(body + 2, true);
      const sampleRate = dv.getUint32(body + 4, true);
      const blockAlign = dv.getUint16(body + 12, true);
      const bits = dv.getUint16(body + 14, true);
      if (format === 0xfffe && size >= 40 && body + 40 <= buf.length) {
        const tail = buf.subarray(body + 26, body + 40);
        if (PCM_GUID_TAIL.every((b, i) => tail[i] === b)) format = dv.getUint16(body + 24, true);
      }
      if (format === 3)
        throw new UnsupportedError(
          `${name}: ${bits}-bit float WAV; wavelm codes integer PCM (8 to 32 bits) losslessly; keep float recordings in their own format`,
          { subject: name },
        );
      if (format !== 1) throw new UnsupportedError(`${name}: WAV format tag ${format} is not integer PCM`, { subject: name });
      // The container is what blockAlign says (24 valid bits may sit in 4 bytes); the valid bits must fit it.
      const container = channels > 0 && blockAlign % channels === 0 ? (8 * blockAlign) / channels : 0;
      if (bits < 1 || bits > 32) throw new UnsupportedError(`${name}: ${bits}-bit PCM; 8 to 32 bits are supported`, { subject: name });
      if (channels < 1 || container < bits || container > 32 || container % 8 !== 0)
        throw new FormatError(`${name}: block align ${blockAlign} does not match ${channels} channels of ${bits} bits`, { subject: name });
      fmt = { channels, sampleRate, bits: container, blockAlign };
    } else if (id === 'data') {
      if (!fmt) throw new FormatError(`${name}: data chunk before fmt chunk`, { subject: name });
      const avail = Math.min(size, buf.length - body);
      const frames = Math.floor(avail / fmt.blockAlign);
      return {
        sampleRate: fmt.sampleRate,
        channels: fmt.channels,
        bitsPerSample: fmt.bits,
        dataOffset: body,
        dataLength: frames * fmt.blockAlign,
        frames,
      };
    }
    pos = body + size + (size & 1);
  }
  throw new FormatError(`${name}: no data chunk`, { subject: name });
}
