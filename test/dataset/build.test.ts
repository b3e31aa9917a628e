import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { buildDataset, makePlan, shardRanges } from '../../src/dataset/build.js';
import { parseFieldSpecs } from '../../src/dataset/fields/index.js';
import { exportNpy, exportWebDataset, importWebDataset } from '../../src/dataset/interop.js';
import { DatasetReader } from '../../src/dataset/reader.js';
import { readTar, TarWriter } from '../../src/dataset/tar.js';
import { loadAudio } from '../../src/audio/index.js';
import { WavelmError } from '../../src/util/errors.js';
import { parseNpy } from '../../src/util/npy.js';
import { projectRoot, sharedPath } from '../helpers/shared.js';
import { tmp } from './helpers.js';
import { decodedArray } from '../helpers/decoded.js';

/** 24 FSDD recordings (a few per digit) copied into a temp folder. */
function fsddSubset(src: string): string {
  const dir = tmp('fsdd-');
  const names = readdirSync(src)
    .filter((f) => f.endsWith('.wav'))
    .sort()
    .filter((_, i) => i % 125 === 0);
  for (const n of names) copyFileSync(join(src, n), join(dir, n));
  return dir;
}

const FIELDS =
  'waveform,flac,opus(bitrate=16000),mel(sample_rate=8000,n_fft=256,hop_length=80,n_mels=32),' +
  'label=int(from=regex:^(\\d)_),speaker=string(from=regex:^\\d_([a-z]+)_)';

test('build: same bytes with 0 or 2 workers; shard jobs reproduce the full sharded build; values from names', async (t) => {
  const src = sharedPath(t, 'data', 'speech', 'fsdd', 'recordings');
  if (!src) return;
  const dir = fsddSubset(src);
  const out = tmp();
  const fields = parseFieldSpecs(FIELDS);
  const a = await buildDataset([dir], { out: join(out, 'a.wlds'), fields, workers: 0 });
  const b = await buildDataset([dir], { out: join(out, 'b.wlds'), fields, workers: 2 });
  assert.equal(a.plan.samples, 24);
  assert.ok(readFileSync(a.shards[0]!.path).equals(readFileSync(b.shards[0]!.path)), '0 and 2 workers give identical files');
  const full = await buildDataset([dir], { out: join(out, 'full.wlds'), fields, numShards: 3 });
  assert.equal(full.shards.length, 3);
  for (let i = 0; i < 3; i++) {
    const one = await buildDataset([dir], { out: join(out, 'job.wlds'), fields, numShards: 3, shardIndex: i, workers: 1 });
    assert.equal(one.shards.length, 1);
    assert.ok(
      readFileSync(one.shards[0]!.path).equals(readFileSync(full.shards[i]!.path)),
      `shard ${i} built alone equals the full build's`,
    );
  }
  const r = DatasetReader.open(a.shards[0]!.path);
  const names = readdirSync(dir).sort();
  for (const i of [0, 5, 23]) {
    const s = await r.get(i);
    const wav = await loadAudio(join(dir, names[i]!));
    assert.deepEqual(s.label, { kind: 'scalar', value: Number(names[i]![0]) });
    assert.deepEqual(s.speaker, { kind: 'value', value: /^\d_([a-z]+)_/.exec(names[i]!)![1] });
    const flac = decodedArray(s, 'flac');
    assert.deepEqual(Array.from(decodedArray(s, 'waveform').data), Array.from(wav.samples), 'waveform is the WAV samples');
    assert.equal(decodedArray(s, 'opus').shape[1], wav.frames, 'opus decodes to the exact frame count');
    for (let k = 0; k < wav.frames; k += 7) assert.equal(flac.data[k], (wav.samples[k] as number) / 32768, 'flac is lossless');
  }
  await r.close();
});

test('segments of long recordings map back to (file, offset); manifests and plans are deterministic', async (t) => {
  const src = sharedPath(t, 'data', 'speech', 'arctic');
  if (!src) return;
  const dir = tmp();
  const wav = readdirSync(src)
    .filter((f) => f.endsWith('.wav'))
    .sort()
    .slice(0, 2);
  writeFileSync(
    join(dir, 'list.jsonl'),
    `${wav.map((w, i) => JSON.stringify({ path: join(src, w), text: `utterance ${i}` })).join('\n')}\n`,
  );
  const fields = parseFieldSpecs('audio=waveform,text=string,source=string(from=path),offset=int(from=offset)');
  const plan = await makePlan([join(dir, 'list.jsonl')], { fields, segmentSeconds: 1 });
  assert.deepEqual(await makePlan([join(dir, 'list.jsonl')], { fields, segmentSeconds: 1 }), plan);
  const res = await buildDataset([join(dir, 'list.jsonl')], { out: join(dir, 'seg.wlds'), fields, segmentSeconds: 1 });
  const r = DatasetReader.open(res.shards[0]!.path);
  assert.equal(r.numSamples, plan.length);
  for (const i of [0, 1, plan.length - 1]) {
    const s = await r.get(i);
    const srcName = s.source!.kind === 'value' ? String(s.source!.value) : '';
    const off = s.offset!.kind === 'scalar' ? s.offset!.value : -1;
    const a = s.audio!;
    assert.ok(a.kind === 'array');
    const whole = await loadAudio(join(src, srcName));
    assert.deepEqual(Array.from(a.data), Array.from(whole.samples.subarray(off, off + a.shape[1]!)), `segment ${i} is ${srcName}@${off}`);
    assert.ok(a.shape[1]! <= 16000);
    assert.match(String(s.text!.kind === 'value' ? s.text!.value : ''), /^utterance [01]$/);
  }
  await r.close();
  assert.deepEqual(shardRanges(10, { numShards: 3 }), [
    [0, 3],
    [3, 6],
    [6, 10],
  ]);
  assert.deepEqual(shardRanges(10, { shardSize: 4 }), [
    [0, 4],
    [4, 8],
    [8, 10],
  ]);
});

test('WebDataset export and import round-trip audio, labels and arrays; .npy export', async (t) => {
  const src = sharedPath(t, 'data', 'speech', 'fsdd', 'recordings');
  if (!src) return;
  const dir = fsddSubset(src);
  const out = tmp();
  const res = await buildDataset([dir], {
    out: join(out, 'd.wlds'),
    fields: parseFieldSpecs(
      'audio=waveform,label=int(from=regex:^(\\d)_),mel(sample_rate=8000,n_fft=256,hop_length=80,n_mels=16,dtype=float32)',
    ),
  });
  const wds = await exportWebDataset([res.shards[0]!.path], { outDir: join(out, 'wds'), samplesPerShard: 10 });
  assert.equal(wds.samples, 24);
  assert.equal(wds.shards.length, 3);
  const entries = readTar(readFileSync(wds.shards[0]!));
  assert.deepEqual(
    entries.slice(0, 3).map((e) => e.name),
    ['000000000.wav', '000000000.mel.npy', '000000000.json'],
  );
  assert.deepEqual(JSON.parse(Buffer.from(entries[2]!.data).toString()), { label: Number(readdirSync(dir).sort()[0]![0]) });
  const back = await importWebDataset(wds.shards, { out: join(out, 'back.wlds'), fields: parseFieldSpecs('audio=waveform,label=int') });
  assert.equal(back.samples, 24);
  const r0 = DatasetReader.open(res.shards[0]!.path);
  const r1 = DatasetReader.open(back.path);
  for (let i = 0; i < 24; i += 5) {
    const x = await r0.get(i, ['audio', 'label']);
    const y = await r1.get(i);
    assert.deepEqual(y, x);
  }
  const npy = await exportNpy([res.shards[0]!.path], 'mel', join(out, 'npy'));
  assert.equal(npy.files, 24);
  const m = parseNpy(new Uint8Array(readFileSync(join(out, 'npy', '000000003.npy'))));
  const ref = await r0.get(3, ['mel']);
  const mel = decodedArray(ref, 'mel');
  assert.deepEqual(m.shape, mel.shape);
  assert.deepEqual(Array.from(m.data), Array.from(mel.data));
  await r0.close();
  await r1.close();
});

test('tar writer and reader agree, and damaged tar headers are refused', () => {
  const w = new TarWriter();
  w.add('a/000001.json', new Uint8Array(Buffer.from('{"x":1}')));
  w.add(`${'b'.repeat(120)}/000001.wav`, new Uint8Array(1000).fill(7));
  const tar = w.finish();
  assert.equal(tar.length % 512, 0);
  const e = readTar(tar);
  assert.deepEqual(
    e.map((x) => [x.name, x.data.length]),
    [
      ['a/000001.json', 7],
      [`${'b'.repeat(120)}/000001.wav`, 1000],
    ],
  );
  const bad = new Uint8Array(tar);
  bad[10] = bad[10]! ^ 1;
  assert.throws(() => readTar(bad), /checksum/);
  assert.throws(() => readTar(tar.subarray(0, 1024 + 512 + 100)), /past the end|truncated/);
});

test('CLI: dataset build, info --json, verify (exit 5 on damage), cat', (t) => {
  const src = sharedPath(t, 'data', 'speech', 'fsdd', 'recordings');
  if (!src) return;
  const dir = fsddSubset(src);
  const out = tmp();
  const cli = (...args: string[]) =>
    spawnSync(process.execPath, ['--import', 'tsx', join(projectRoot, 'src/cli/main.ts'), ...args], { encoding: 'utf8', cwd: projectRoot });
  const file = join(out, 'c.wlds');
  const b = cli('--json', 'dataset', 'build', dir, '-o', file, '--fields', 'waveform,label=int(from=regex:^(\\d)_)');
  assert.equal(b.status, 0, b.stderr);
  assert.equal(JSON.parse(b.stdout).shards[0].samples, 24);
  const info = JSON.parse(cli('--json', 'dataset', 'info', file).stdout);
  assert.equal(info.samples, 24);
  assert.deepEqual(
    info.fields.map((f: { name: string }) => f.name),
    ['waveform', 'label'],
  );
  assert.ok(Math.abs(info.fields[0].bytes_per_minute - 8000 * 2 * 60) < 1, 'int16 at 8 kHz is 960000 bytes a minute');
  assert.equal(cli('dataset', 'verify', file).status, 0);
  const cat = JSON.parse(cli('--json', 'dataset', 'cat', file, '3').stdout);
  assert.equal(cat.fields.label, Number(readdirSync(dir).sort()[3]![0]));
  const bytes = readFileSync(file);
  bytes[1000] = bytes[1000]! ^ 0x40;
  mkdirSync(join(out, 'bad'));
  writeFileSync(join(out, 'bad', 'c.wlds'), bytes);
  const v = cli('--json', 'dataset', 'verify', join(out, 'bad', 'c.wlds'));
  assert.equal(v.status, 5);
  const rep = JSON.parse(v.stdout);
  assert.equal(rep.ok, false);
  assert.deepEqual(
    rep.files[0].damaged.map((d: { sample: number }) => d.sample),
    [0],
  );
});

test('multi-track stems: audio fields with from=key:NAME read the stem files a manifest names', async (t) => {
  const src = sharedPath(t, 'data', 'speech', 'fsdd', 'recordings');
  if (!src) return;
  const dir = fsddSubset(src);
  const names = readdirSync(dir).sort();
  writeFileSync(join(dir, 'stems.jsonl'), [0, 1].map((i) => JSON.stringify({ path: names[2 * i], vocals: names[2 * i + 1] })).join('\n'));
  const res = await buildDataset([join(dir, 'stems.jsonl')], {
    out: join(dir, 's.wlds'),
    fields: parseFieldSpecs('mix=waveform,vocals=waveform(from=key:vocals),vflac=flac(from=key:vocals,dtype=int16)'),
  });
  const r = DatasetReader.open(res.shards[0]!.path);
  for (const i of [0, 1]) {
    const s = await r.get(i);
    const mix = await loadAudio(join(dir, names[2 * i]!));
    const voc = await loadAudio(join(dir, names[2 * i + 1]!));
    assert.deepEqual(Array.from(decodedArray(s, 'mix').data), Array.from(mix.samples));
    assert.deepEqual(Array.from(decodedArray(s, 'vocals').data), Array.from(voc.samples));
    assert.deepEqual(Array.from(decodedArray(s, 'vflac').data), Array.from(voc.samples));
  }
  await r.close();
});

test('real folders: a truncated WAV and a damaged FLAC stop the build, or on request are left out or kept; skips are counted', async () => {
  const { encodeWav } = await import('../../src/audio/index.js');
  const { encodeFlacAsync } = await import('../../src/audio/encoders/flac.js');
  const { synth } = await import('./helpers.js');
  const { verifyDataset } = await import('../../src/dataset/verify.js');
  const dir = tmp('real-');
  writeFileSync(join(dir, 'a.wav'), encodeWav(synth(3000, 8000, 1, 1)));
  writeFileSync(join(dir, 'b.wav'), encodeWav(synth(2000, 8000, 1, 2)));
  const cut = encodeWav(synth(4000, 8000, 1, 3));
  writeFileSync(join(dir, 'c-cut.wav'), cut.subarray(0, cut.length - 2000)); // 1000 of 4000 frames missing
  const flac = await encodeFlacAsync(synth(40000, 8000, 1, 4).samples as Int16Array, { sampleRate: 8000, channels: 1, bitsPerSample: 16 });
  for (let i = flac.length >> 1; i < (flac.length >> 1) + 64; i++) flac[i] = flac[i]! ^ 0xff;
  writeFileSync(join(dir, 'd-damaged.flac'), flac);
  for (const n of ['e.au', 'g.m4a', 'notes.txt']) writeFileSync(join(dir, n), 'not read');
  const fields = parseFieldSpecs('waveform,flac');
  const out = tmp();

  const warnings: string[] = [];
  await assert.rejects(
    buildDataset([dir], { out: join(out, 'stop.wlds'), fields, onWarning: (m) => warnings.push(m) }),
    (e: unknown) =>
      e instanceof WavelmError &&
      e.code === 'EFORMAT' &&
      /c-cut\.wav: truncated WAV data.*\(pass allowTruncated to keep them\); or skipUnreadable leaves/.test(e.message) &&
      e.options?.join() === 'allowTruncated,skipUnreadable',
  );
  assert.match(
    warnings.join('\n'),
    new RegExp(
      /skipped 3 file\(s\): 2 in audio formats wavelm does not read: 1 \.au \(Sun\/NeXT audio\), 1 \.m4a .*.*; /.source +
        /1 that are not audio by their extension: 1 \.txt/.source,
    ),
  );
  // The same typed error from a worker thread, the options it names included.
  await assert.rejects(
    buildDataset([dir], { out: join(out, 'stop2.wlds'), fields, workers: 1 }),
    (e: unknown) =>
      e instanceof WavelmError &&
      e.code === 'EFORMAT' &&
      /c-cut\.wav/.test(e.message) &&
      e.options?.join() === 'allowTruncated,skipUnreadable',
  );

  const skip = await buildDataset([dir], { out: join(out, 'skip.wlds'), fields, skipUnreadable: true, workers: 1 });
  assert.deepEqual(
    skip.skipped.map((s) => s.key),
    ['c-cut.wav', 'd-damaged.flac'],
  );
  assert.match(skip.skipped[1]!.reason, /only \d+ of the 40000 frames its header declares are readable/);
  assert.match(skip.warnings.join('\n'), /skipped .*c-cut\.wav/);
  const r = DatasetReader.open(skip.shards[0]!.path);
  assert.equal(r.numSamples, 2);
  assert.equal((r.schema.metadata.shard as { samples: number }).samples, 2);
  assert.equal((r.schema.metadata.shard as { skipped: unknown[] }).skipped.length, 2);
  await r.close();

  const kept = await buildDataset([dir], { out: join(out, 'kept.wlds'), fields, allowTruncated: true });
  assert.equal(kept.shards[0]!.samples, 4);
  assert.match(kept.warnings.join('\n'), /c-cut\.wav: truncated WAV data: kept the 3000 of 4000 frames/);
  assert.match(kept.warnings.join('\n'), /d-damaged\.flac: damaged or cut FLAC stream: kept \d+ of the 40000 frames/);
  const k = DatasetReader.open(kept.shards[0]!.path);
  assert.deepEqual(k.meta(2, 0).slice(0, 1), [3000]);
  await k.close();
  // The damaged FLAC's readable part is stored so that it decodes (re-encoded, not the damaged file).
  const [report] = await verifyDataset([kept.shards[0]!.path], { decode: true });
  assert.ok(report!.ok, JSON.stringify(report));
});

test('class fields map folder names to integers, with the sorted names stored in the schema and shared by every shard', async () => {
  const { encodeWav } = await import('../../src/audio/index.js');
  const { synth } = await import('./helpers.js');
  const dir = tmp('classes-');
  const names = { dog: 2, cat: 1, bird: 3 } as const;
  let seed = 1;
  for (const [cls, n] of Object.entries(names)) {
    mkdirSync(join(dir, cls));
    for (let i = 0; i < n; i++) writeFileSync(join(dir, cls, `${i}.wav`), encodeWav(synth(500, 8000, 1, seed++)));
  }
  const out = tmp();
  const fields = parseFieldSpecs('waveform,label=class(from=dir)');
  const all = await buildDataset([dir], { out: join(out, 'all.wlds'), fields });
  const r = DatasetReader.open(all.shards[0]!.path);
  const classes = r.schema.fields.find((f) => f.name === 'label')!.args.classes as string[];
  assert.deepEqual(classes, ['bird', 'cat', 'dog']);
  // Samples are in sorted path order: bird/0..2, cat/0, dog/0..1.
  const got: string[] = [];
  for (let i = 0; i < r.numSamples; i++) {
    const v = (await r.get(i)).label!;
    assert.ok(v.kind === 'scalar');
    got.push(classes[v.value]!);
  }
  assert.deepEqual(got, ['bird', 'bird', 'bird', 'cat', 'dog', 'dog']);
  await r.close();
  // The last shard holds only dog files, and still numbers the classes of the whole plan.
  const last = await buildDataset([dir], { out: join(out, 'job.wlds'), fields, numShards: 3, shardIndex: 2 });
  const j = DatasetReader.open(last.shards[0]!.path);
  assert.deepEqual(j.schema.fields.find((f) => f.name === 'label')!.args.classes, ['bird', 'cat', 'dog']);
  assert.deepEqual(j.meta(0, 1), [2]);
  await j.close();
  // Given classes fix the order; a name outside them is an error naming the sample.
  const fixed = await buildDataset([dir], {
    out: join(out, 'fixed.wlds'),
    fields: parseFieldSpecs('label=class(from=dir,classes=dog|cat|bird)'),
  });
  const f = DatasetReader.open(fixed.shards[0]!.path);
  assert.deepEqual(f.meta(0, 0), [2], 'bird/0.wav is class 2 of dog|cat|bird');
  await f.close();
  await assert.rejects(
    buildDataset([dir], { out: join(out, 'bad.wlds'), fields: parseFieldSpecs('label=class(from=dir,classes=dog|cat)') }),
    /sample bird\/0\.wav has class 'bird', not one of the 2 classes/,
  );
});

test('manifests: dataset build finds listed paths as train and eval do (working directory, then beside the manifest)', async () => {
  const { relative } = await import('node:path');
  const { collectSources } = await import('../../src/dataset/build.js');
  const { readSplitManifest } = await import('../../src/tokens/index.js');
  const d = tmp('manifest-rule-');
  mkdirSync(join(d, 'runs'));
  writeFileSync(join(d, 'a.wav'), 'x');
  writeFileSync(join(d, 'runs', 'b.wav'), 'x');
  // a.wav relative to the working directory (as `wavelm split DIR` writes it), b.wav beside the manifest.
  const m = join(d, 'runs', 'm.jsonl');
  writeFileSync(
    m,
    [
      JSON.stringify({ path: relative(process.cwd(), join(d, 'a.wav')), split: 'train' }),
      JSON.stringify({ path: 'b.wav', split: 'train' }),
    ].join('\n'),
  );
  assert.deepEqual(readSplitManifest(m).train, [join(d, 'a.wav'), join(d, 'runs', 'b.wav')]);
  assert.deepEqual(
    collectSources([m]).map((s) => s.path),
    [join(d, 'a.wav'), join(d, 'runs', 'b.wav')],
  );
});

test("a field's error names the sample and the field (encodeFlac's own message names neither), from a worker too", async () => {
  const { encodeWav } = await import('../../src/audio/index.js');
  const dir = tmp('nine-');
  const frames = 100;
  const samples = Int16Array.from({ length: frames * 9 }, (_, i) => (i * 37) % 2000);
  writeFileSync(
    join(dir, 'nine.wav'),
    encodeWav({ sampleRate: 8000, channels: 9, frames, sampleType: 'int16', bitsPerSample: 16, samples }),
  );
  for (const workers of [0, 2]) {
    await assert.rejects(
      buildDataset([dir], { out: join(tmp(), 'nine.wlds'), fields: parseFieldSpecs('flac'), workers }),
      (e: unknown) =>
        e instanceof WavelmError &&
        e.code === 'ECONFIG' &&
        e.message.startsWith("nine.wav: field 'flac': encodeFlac: 9 channels; FLAC holds 1 to 8"),
    );
  }
});

test('a 32-bit source in a flac field is stored at 24 bits with a warning naming the sample; 24 bits are stored without one', async () => {
  const { encodeWav } = await import('../../src/audio/index.js');
  const dir = tmp('deep-');
  const frames = 2000;
  const deep = Int32Array.from({ length: frames }, (_, i) => Math.round(2 ** 30 * Math.sin(i / 5)) | 0x5a);
  writeFileSync(
    join(dir, 'deep.wav'),
    encodeWav({ sampleRate: 8000, channels: 1, frames, sampleType: 'int32', bitsPerSample: 32, samples: deep }),
  );
  const warnings: string[] = [];
  const out = join(tmp(), 'deep.wlds');
  await buildDataset([dir], { out, fields: parseFieldSpecs('flac(dtype=float32)'), onWarning: (m) => warnings.push(m) });
  assert.deepEqual(warnings, [
    "deep.wav: field 'flac': 32-bit samples are stored at their top 24 bits (libFLAC's limit); the low 8 bits are dropped",
  ]);
  const r = await DatasetReader.open(out);
  const got = decodedArray(await r.get(0), 'flac').data;
  for (let i = 0; i < frames; i++) assert.equal(got[i], Math.fround((deep[i]! >> 8) / 2 ** 23), `frame ${i}`);
  await r.close();
  rmSync(join(dir, 'deep.wav'));
  const s24 = Int32Array.from({ length: frames }, (_, i) => Math.round(2 ** 22 * Math.sin(i / 5)) * 256);
  writeFileSync(
    join(dir, 's24.wav'),
    encodeWav({ sampleRate: 8000, channels: 1, frames, sampleType: 'int32', bitsPerSample: 24, samples: s24 }),
  );
  warnings.length = 0;
  await buildDataset([dir], { out: join(tmp(), 's24.wlds'), fields: parseFieldSpecs('flac'), onWarning: (m) => warnings.push(m) });
  assert.deepEqual(warnings, []);
});
