/** Synthetic audio and small datasets for the dataset tests. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AudioData } from '../../src/audio/types.js';
import { createField, type Field } from '../../src/dataset/fields/index.js';
import { DatasetWriter } from '../../src/dataset/writer.js';

export function tmp(prefix = 'wlds-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** A chirp with a little deterministic noise, int16, `channels` channels (each channel a different phase). */
export function synth(frames: number, rate = 16000, channels = 1, seed = 1): AudioData {
  const s = new Int16Array(frames * channels);
  let x = seed >>> 0;
  for (let i = 0; i < frames; i++) {
    for (let c = 0; c < channels; c++) {
      x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
      const f = 200 + (1800 * i) / Math.max(1, frames);
      s[i * channels + c] = Math.round(9000 * Math.sin((2 * Math.PI * f * i) / rate + c) + ((x >>> 20) - 2048));
    }
  }
  return { sampleRate: rate, channels, frames, sampleType: 'int16', bitsPerSample: 16, samples: s };
}

/** Writes `n` samples of lengths 300 + 97 * i with a waveform, a label and a text field. */
export async function smallDataset(
  path: string,
  n = 6,
  specs: [string, string, Record<string, unknown>?][] = [
    ['audio', 'waveform'],
    ['label', 'int'],
    ['text', 'string'],
  ],
): Promise<Field[]> {
  const fields = specs.map(([name, type, args]) => createField(name, type, args ?? {}));
  const w = new DatasetWriter(path, fields, { sync: false });
  for (let i = 0; i < n; i++) {
    const input = { key: `s${i}`, audio: synth(300 + 97 * i, 8000, 1, i + 1), values: { label: i % 3, text: `sample ${i}`, score: i / 2 } };
    w.add(await Promise.all(fields.map((f) => f.encode(input))));
  }
  w.close();
  return fields;
}
