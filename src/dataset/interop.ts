/**
 * Interop with the Python world: WebDataset tar shards (`KEY.wav` or `KEY.flac`, `KEY.json`, and
 * `KEY.NAME.npy` for other arrays) and plain `.npy` files of any array field.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { encodeWav, parseWav } from '../audio/index.js';
import { decodeFlac, decodeMp3, decodeOpus as decodeOggOpus, decodeVorbis } from '../audio/decoders.js';
import type { AudioData } from '../audio/types.js';
import { ConfigError, FormatError } from '../util/errors.js';
import { parseNpy, serializeNpy, type NpyData } from '../util/npy.js';
import { silentProgress, type ProgressSink } from '../util/progress.js';
import type { DecodedValue, Encoded, Field } from './fields/field.js';
import { CompressedField, unpackFlac } from './fields/compressed.js';
import { createField, type FieldSpec } from './fields/index.js';
import { resolveDatasetPaths } from './paths.js';
import { DatasetReader } from './reader.js';
import { readTar, TarWriter } from './tar.js';
import { DatasetWriter } from './writer.js';

const isAudioField = (f: Field) => f.type === 'waveform' || f.type === 'compressed';

/** Planar [C, T] decoded audio as AudioData (interleaved). */
export function decodedToAudio(v: DecodedValue & { kind: 'array' }): AudioData {
  const [C, T] = v.shape as [number, number];
  const inter = v.dtype === 'int16' ? new Int16Array(C * T) : new Float32Array(C * T);
  for (let c = 0; c < C; c++) for (let i = 0; i < T; i++) inter[i * C + c] = v.data[c * T + i]!;
  return {
    sampleRate: v.sampleRate ?? 16000,
    channels: C,
    frames: T,
    sampleType: v.dtype === 'int16' ? 'int16' : 'float32',
    bitsPerSample: v.dtype === 'int16' ? 16 : 32,
    samples: inter,
  };
}

function jsonValue(v: DecodedValue): unknown {
  return v.kind === 'scalar' ? v.value : v.kind === 'value' ? v.value : undefined;
}

export interface ExportOptions {
  /** Folder for the tar shards. */
  outDir: string;
  /** Shard name prefix (default: the dataset's name). */
  prefix?: string;
  fields?: string[];
  samplesPerShard?: number;
  progress?: ProgressSink;
}

/** Writes WebDataset shards; keys are the global sample index, zero-padded to 9 digits. */
export async function exportWebDataset(paths: string[], opts: ExportOptions): Promise<{ shards: string[]; samples: number }> {
  const files = resolveDatasetPaths(paths);
  mkdirSync(opts.outDir, { recursive: true });
  const per = opts.samplesPerShard ?? 1000;
  if (!Number.isInteger(per) || per < 1) throw new ConfigError(`samples per shard must be a positive integer, got ${per}`);
  const prefix = opts.prefix ?? basename(files[0]!).replace(/(-\d{5}-of-\d{5})?\.wlds$/, '');
  const shards: string[] = [];
  const progress = opts.progress ?? silentProgress;
  let g = 0;
  let tar = new TarWriter();
  let inShard = 0;
  const flush = () => {
    if (inShard === 0) return;
    const p = join(opts.outDir, `${prefix}-${String(shards.length).padStart(6, '0')}.tar`);
    writeFileSync(p, tar.finish());
    shards.push(p);
    tar = new TarWriter();
    inShard = 0;
  };
  const readers = files.map((f) => DatasetReader.open(f));
  try {
    progress.start(
      readers.reduce((a, r) => a + r.numSamples, 0),
      'export',
    );
    for (const r of readers) {
      const ks = (opts.fields ?? r.fields.map((f) => f.name)).map((n) => r.fieldIndex(n));
      const audioKs = ks.filter((k) => isAudioField(r.fields[k]!));
      for (let i = 0; i < r.numSamples; i++, g++) {
        const key = String(g).padStart(9, '0');
        const json: Record<string, unknown> = {};
        for (const k of ks) {
          const f = r.fields[k]!;
          const bytes = r.readBlob(i, k);
          const ext = audioKs.length === 1 ? '' : `.${f.name}`;
          if (f instanceof CompressedField && f.codec === 'flac') {
            tar.add(`${key}${ext}.flac`, unpackFlac(bytes, f.name).file);
            continue;
          }
          const v = await f.decode(bytes, r.meta(i, k));
          if (isAudioField(f) && v.kind === 'array') tar.add(`${key}${ext}.wav`, encodeWav(decodedToAudio(v)));
          else if (v.kind === 'array') tar.add(`${key}.${f.name}.npy`, serializeNpy(v.data as NpyData, v.shape));
          else json[f.name] = jsonValue(v);
        }
        tar.add(`${key}.json`, new Uint8Array(Buffer.from(JSON.stringify(json))));
        if (++inShard >= per) flush();
        progress.tick(1);
      }
    }
    flush();
  } finally {
    progress.stop();
    await Promise.all(readers.map((r) => r.close()));
  }
  return { shards, samples: g };
}

/** Writes one `.npy` per sample of an array field into `outDir` (`000000042.npy`, audio as [channels, frames]). */
export async function exportNpy(
  paths: string[],
  field: string,
  outDir: string,
  progress: ProgressSink = silentProgress,
): Promise<{ files: number }> {
  const files = resolveDatasetPaths(paths);
  mkdirSync(outDir, { recursive: true });
  let g = 0;
  for (const p of files) {
    const r = DatasetReader.open(p);
    try {
      const k = r.fieldIndex(field);
      if (r.fields[k]!.kind !== 'array')
        throw new ConfigError(`field '${field}' is not an array field; export it with the WebDataset JSON instead`, { subject: field });
      progress.start(r.numSamples, 'npy');
      for (let i = 0; i < r.numSamples; i++, g++) {
        const v = await r.fields[k]!.decode(r.readBlob(i, k), r.meta(i, k));
        if (v.kind !== 'array') continue;
        writeFileSync(join(outDir, `${String(g).padStart(9, '0')}.npy`), serializeNpy(v.data as NpyData, v.shape));
        progress.tick(1);
      }
    } finally {
      progress.stop();
      await r.close();
    }
  }
  return { files: g };
}

async function decodeAudioBytes(name: string, b: Uint8Array): Promise<AudioData> {
  if (name.endsWith('.wav')) return parseWav(b, name);
  if (name.endsWith('.flac')) return (await decodeFlac(b, name)).audio;
  if (name.endsWith('.mp3')) return decodeMp3(b, name);
  if (name.endsWith('.opus')) return decodeOggOpus(b, name);
  if (name.endsWith('.ogg')) return decodeVorbis(b, name);
  throw new FormatError(`${name}: not an audio entry`);
}

const AUDIO_EXT = /(^|\.)(wav|flac|mp3|opus|ogg)$/;

export interface ImportOptions {
  out: string;
  /** Fields to build; default: waveform from the audio entry plus every key of the JSON, typed by its values. */
  fields?: FieldSpec[];
  progress?: ProgressSink;
}

/**
 * Reads WebDataset shards (grouped by key in archive order) into one dataset. Audio entries feed the
 * audio fields (the first audio entry, or `KEY.NAME.ext` for field NAME), `.npy` entries the array value
 * of the field they name, and `KEY.json` the values of the other fields.
 */
export async function importWebDataset(tars: string[], opts: ImportOptions): Promise<{ path: string; samples: number }> {
  type Group = { key: string; entries: Map<string, Uint8Array> };
  const groups: Group[] = [];
  for (const t of tars) {
    let cur: Group | undefined;
    for (const e of readTar(new Uint8Array(readFileSync(t)), t)) {
      const base = basename(e.name);
      const dot = base.indexOf('.');
      if (dot <= 0) continue;
      const key = e.name.slice(0, e.name.length - base.length + dot);
      const ext = base.slice(dot + 1);
      if (!cur || cur.key !== key) {
        cur = { key, entries: new Map() };
        groups.push(cur);
      }
      cur.entries.set(ext, e.data);
    }
  }
  if (groups.length === 0) throw new FormatError(`${tars.join(', ')}: no WebDataset samples found`);
  let specs = opts.fields;
  if (!specs) {
    const first = groups[0]!;
    specs = [];
    if ([...first.entries.keys()].some((x) => AUDIO_EXT.test(x))) specs.push({ name: 'audio', type: 'waveform', args: {} });
    const j = first.entries.get('json');
    if (j) {
      const o = JSON.parse(Buffer.from(j).toString('utf8')) as Record<string, unknown>;
      for (const [k, v] of Object.entries(o)) {
        const type = typeof v === 'number' ? (Number.isInteger(v) ? 'int' : 'float') : typeof v === 'string' ? 'string' : 'json';
        specs.push({ name: k, type, args: {} });
      }
    }
  }
  const fields = specs.map((s) => createField(s.name, s.type, s.args));
  const audioFields = fields.filter((f) => f.kind === 'array' && f.type !== 'codec_tokens');
  const w = new DatasetWriter(opts.out, fields, { metadata: { imported_from: tars.map((t) => basename(t)) } });
  const progress = opts.progress ?? silentProgress;
  progress.start(groups.length, 'import');
  try {
    for (const g of groups) {
      const json = g.entries.get('json');
      let values: Record<string, unknown> = {};
      if (json) {
        try {
          values = JSON.parse(Buffer.from(json).toString('utf8')) as Record<string, unknown>;
        } catch (e) {
          throw new FormatError(`${g.key}.json is not valid JSON`, { subject: g.key, cause: e });
        }
      }
      for (const [ext, data] of g.entries) {
        const m = /^(.+)\.npy$/.exec(ext);
        if (m) values[m[1]!] = parseNpy(data, `${g.key}.${ext}`);
      }
      const encoded: Encoded[] = [];
      for (const f of fields) {
        let audio: AudioData | undefined;
        let fileBytes: Uint8Array | undefined;
        if (audioFields.includes(f)) {
          const own = [...g.entries.keys()].find((x) => x.startsWith(`${f.name}.`) && AUDIO_EXT.test(x));
          const any = own ?? [...g.entries.keys()].find((x) => AUDIO_EXT.test(x));
          if (!any) throw new FormatError(`sample ${g.key} has no audio entry for field '${f.name}'`, { subject: g.key });
          fileBytes = g.entries.get(any)!;
          audio = await decodeAudioBytes(`${g.key}.${any}`, fileBytes);
        }
        encoded.push(await f.encode({ key: g.key, audio, fileBytes, values }));
      }
      w.add(encoded);
      progress.tick(1);
    }
    const r = w.close();
    return { path: opts.out, samples: r.numSamples };
  } catch (e) {
    w.abort();
    throw e;
  } finally {
    progress.stop();
  }
}
