import assert from 'node:assert/strict';
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { AUDIO_EXTENSIONS, loadAudio, readAudioInfo, sliceFrames, ULAW_TABLE, type AudioData } from '../../src/audio/index.js';
import { DatasetReader } from '../../src/dataset/reader.js';
import { FormatError, UnsupportedError } from '../../src/util/errors.js';
import { runCli } from '../cli/run.js';
import { sharedPath } from '../helpers/shared.js';
import { decodedArray } from '../helpers/decoded.js';

const dir = mkdtempSync(join(tmpdir(), 'wavelm-sphere-test-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** A SPHERE file: the NIST_1A and size lines, `lines` of fields, end_head, padding to `headerBytes`, then `data`. */
function sphere(lines: string[], data: Uint8Array, headerBytes = 1024): Uint8Array {
  const text = `NIST_1A\n${String(headerBytes).padStart(7)}\n${lines.join('\n')}\nend_head\n`;
  assert.ok(text.length <= headerBytes, 'test header fits');
  const out = new Uint8Array(headerBytes + data.length).fill(0x20, 0, headerBytes);
  out.set(Buffer.from(text, 'latin1'));
  out.set(data, headerBytes);
  return out;
}

function pcm16(samples: Int16Array, littleEndian: boolean): Uint8Array {
  const out = new Uint8Array(samples.length * 2);
  const dv = new DataView(out.buffer);
  samples.forEach((v, i) => {
    dv.setInt16(2 * i, v, littleEndian);
  });
  return out;
}

/** G.711 mu-law encoding of a 16-bit sample (ITU-T G.711, as in Sun's g711.c linear2ulaw). */
function linearToUlaw(x: number): number {
  const BIAS = 0x84;
  let v = x >> 2;
  const mask = v < 0 ? 0x7f : 0xff;
  v = Math.min(Math.abs(v), 8159) + (BIAS >> 2);
  let seg = 0;
  while (seg < 8 && v > (0x40 << seg) - 1) seg++;
  if (seg >= 8) return 0x7f ^ mask;
  return (((seg << 4) | ((v >> (seg + 1)) & 0x0f)) ^ mask) & 0xff;
}

function write(name: string, bytes: Uint8Array): string {
  const p = join(dir, name);
  writeFileSync(p, bytes);
  return p;
}

/** The first `frames` frames of a real 16-bit recording from ../shared. */
async function realInt16(path: string, frames: number): Promise<AudioData> {
  const a = sliceFrames(await loadAudio(path), 0, frames);
  assert.equal(a.sampleType, 'int16');
  return a;
}

test('SPHERE 16-bit PCM in both byte orders, mono and stereo, from real recordings', async (t) => {
  const speech = sharedPath(t, 'data', 'speech', 'arctic', 'arctic_a0010.wav');
  const music = sharedPath(t, 'data', 'music', 'encodec', 'test_48k.wav');
  if (!speech || !music) return;
  const mono = await loadAudio(speech);
  const le = write(
    'speech-le.sph',
    sphere(
      [
        'sample_count -i 57040',
        'sample_n_bytes -i 2',
        'channel_count -i 1',
        'sample_byte_format -s2 01',
        'sample_rate -i 16000',
        'sample_coding -s3 pcm',
      ],
      pcm16(mono.samples as Int16Array, true),
    ),
  );
  const a = await loadAudio(le);
  assert.deepEqual([a.sampleType, a.sampleRate, a.channels, a.frames, a.bitsPerSample], ['int16', 16000, 1, 57040, 16]);
  assert.deepEqual(a.samples, mono.samples);

  const stereo = await realInt16(music, 48000);
  // TIMIT-style header: database fields and a comment line before the format fields, big-endian data.
  const be = write(
    'music-be.sph',
    sphere(
      [
        'database_id -s5 TIMIT',
        '; a comment line',
        'channel_count -i 2',
        'sample_count -i 48000',
        'sample_rate -r 48000.0',
        'sample_n_bytes -i 2',
        'sample_byte_format -s2 10',
        'sample_sig_bits -i 16',
      ],
      pcm16(stereo.samples as Int16Array, false),
    ),
  );
  const b = await loadAudio(be);
  assert.deepEqual([b.sampleRate, b.channels, b.frames], [48000, 2, 48000]);
  assert.deepEqual(b.samples, stereo.samples);
  const info = await readAudioInfo(be);
  assert.deepEqual([info.container, info.codec, info.frames, info.durationSeconds], ['sphere', 'pcm', 48000, 1]);
  const part = await loadAudio(be, { startFrame: 1000, endFrame: 1003 });
  assert.deepEqual(Array.from(part.samples), Array.from(stereo.samples.subarray(2000, 2006)));
});

test('SPHERE 8-bit signed PCM and mu-law from a real recording; a header size other than 1024', async (t) => {
  const speech = sharedPath(t, 'data', 'speech', 'arctic', 'arctic_a0010.wav');
  if (!speech) return;
  const x = (await realInt16(speech, 16000)).samples as Int16Array;
  const signed8 = Uint8Array.from(x, (v) => (v >> 8) & 0xff);
  const p8 = write(
    'speech-8.sph',
    sphere(
      ['sample_count -i 16000', 'sample_n_bytes -i 1', 'sample_byte_format -s1 1', 'sample_rate -i 16000', 'sample_coding -s3 pcm'],
      signed8,
      512,
    ),
  );
  const a = await loadAudio(p8);
  assert.deepEqual([a.sampleType, a.frames, a.bitsPerSample], ['uint8', 16000, 8]);
  // Offset binary: the signed high byte plus 128.
  assert.deepEqual(
    Array.from(a.samples),
    Array.from(x, (v) => (v >> 8) + 128),
  );

  const ulaw = Uint8Array.from(x, linearToUlaw);
  const pu = write(
    'speech-ulaw.wv1',
    sphere(['sample_count -i 16000', 'sample_rate -i 16000', 'sample_coding -s6 mu-law', 'channel_count -i 1'], ulaw),
  );
  const u = await loadAudio(pu);
  assert.deepEqual([u.sampleType, u.frames], ['int16', 16000]);
  assert.deepEqual(
    Array.from(u.samples),
    Array.from(ulaw, (c) => ULAW_TABLE[c]!),
  );
  // mu-law's step is 1/16 of the value's segment or 8 in the smallest: decoded speech stays within a step of the original.
  const outside = Array.from(x).filter((v, i) => Math.abs(v - u.samples[i]!) > Math.abs(v) / 16 + 8);
  assert.deepEqual(outside, []);
  assert.equal((await readAudioInfo(pu)).codec, 'mulaw');
});

test('SPHERE sample counts: a missing sample_count takes the data length; a short file is truncated', async () => {
  const data = pcm16(
    Int16Array.from({ length: 10 }, (_, i) => i * 100 - 300),
    true,
  );
  const fmt = ['sample_n_bytes -i 2', 'sample_byte_format -s2 01', 'sample_rate -i 8000'];
  const implicit = await loadAudio(write('implicit.sph', sphere(fmt, data)));
  assert.equal(implicit.frames, 10);
  const short = write('short.sph', sphere([...fmt, 'sample_count -i 50'], data));
  await assert.rejects(loadAudio(short), (e: unknown) => e instanceof FormatError && /declares 50 frames but only 10/.test(e.message));
  assert.deepEqual(
    Array.from((await loadAudio(short, { allowTruncated: true })).samples),
    Array.from({ length: 10 }, (_, i) => i * 100 - 300),
  );
  assert.equal((await readAudioInfo(short)).declaredFrames, 50);
  // Bytes after sample_count's samples (some corpora pad to a block) are not audio.
  assert.equal((await loadAudio(write('padded.sph', sphere([...fmt, 'sample_count -i 4'], data)))).frames, 4);
});

test('SPHERE refusals: shorten, malformed headers and sizes that do not fit the file', async () => {
  const fmt = ['sample_count -i 2', 'sample_n_bytes -i 2', 'sample_byte_format -s2 01', 'sample_rate -i 16000'];
  const data = new Uint8Array([1, 0, 2, 0]);
  const unsupported = (re: RegExp) => (e: unknown) => e instanceof UnsupportedError && re.test(e.message);
  const malformed = (re: RegExp) => (e: unknown) => e instanceof FormatError && !(e instanceof UnsupportedError) && re.test(e.message);
  await assert.rejects(
    loadAudio(write('shorten.wv1', sphere([...fmt, 'sample_coding -s26 pcm,embedded-shorten-v2.00'], data))),
    unsupported(/shorten.*sph2pipe/),
  );
  await assert.rejects(readAudioInfo(join(dir, 'shorten.wv1')), unsupported(/shorten/));
  await assert.rejects(loadAudio(write('ajkg.sph', sphere(fmt, new Uint8Array([0x61, 0x6a, 0x6b, 0x67, 0, 0])))), unsupported(/ajkg/));
  await assert.rejects(loadAudio(write('adpcm.sph', sphere([...fmt, 'sample_coding -s5 adpcm'], data))), unsupported(/adpcm/));
  await assert.rejects(
    loadAudio(
      write(
        'order.sph',
        sphere(
          fmt.filter((l) => !l.startsWith('sample_byte')),
          data,
        ),
      ),
    ),
    malformed(/sample_byte_format/),
  );
  await assert.rejects(
    loadAudio(
      write(
        'rate.sph',
        sphere(
          fmt.filter((l) => !l.startsWith('sample_rate')),
          data,
        ),
      ),
    ),
    malformed(/sample_rate/),
  );
  await assert.rejects(
    loadAudio(write('bytes.sph', sphere([...fmt.slice(0, 1), 'sample_n_bytes -i 9', ...fmt.slice(2)], data))),
    malformed(/sample_n_bytes = '9'/),
  );
  await assert.rejects(loadAudio(write('int.sph', sphere([...fmt, 'channel_count -i two'], data))), malformed(/channel_count.*'two'/));
  await assert.rejects(
    loadAudio(write('garbage.sph', sphere([...fmt, 'this is not a field'], data))),
    malformed(/malformed SPHERE header line/),
  );
  const noEnd = Buffer.from(sphere(fmt, data));
  noEnd.write('; ended', noEnd.indexOf('end_head'), 'latin1');
  await assert.rejects(loadAudio(write('noend.sph', noEnd)), malformed(/no end_head/));
  const huge = sphere(fmt, data);
  huge.set(Buffer.from('  99999'), 8);
  await assert.rejects(loadAudio(write('huge.sph', huge)), malformed(/declares 99999 bytes but the file has only 1028/));
  const notNumber = sphere(fmt, data);
  notNumber.set(Buffer.from('   1x24'), 8);
  await assert.rejects(loadAudio(write('nan.sph', notNumber)), malformed(/'1x24' is not a number/));
  await assert.rejects(loadAudio(write('tiny.sph', Buffer.from('NIST_1A\n   1'))), malformed(/too short/));
});

test('folder walks take .sph/.nist/.wv1/.wv2; info, chunks and dataset build read SPHERE like the WAV it came from', async (t) => {
  for (const e of ['.sph', '.nist', '.wv1', '.wv2']) assert.ok((AUDIO_EXTENSIONS as readonly string[]).includes(e), e);
  const speech = sharedPath(t, 'data', 'speech', 'arctic', 'arctic_a0010.wav');
  if (!speech) return;
  const x = await loadAudio(speech);
  const folder = join(dir, 'corpus');
  mkdirSync(folder, { recursive: true });
  writeFileSync(
    join(folder, 'a0010.sph'),
    sphere(
      ['sample_count -i 57040', 'sample_n_bytes -i 2', 'sample_byte_format -s2 10', 'sample_rate -i 16000'],
      pcm16(x.samples as Int16Array, false),
    ),
  );

  const info = await runCli(['info', join(folder, 'a0010.sph')]);
  assert.equal(info.code, 0, info.stderr);
  assert.match(info.stdout, /sphere\/pcm, 16000 Hz, 1 ch, 16-bit, 57040 frames, 3\.56\d* s/);
  const shortened = write(
    'compressed.sph',
    sphere(
      ['sample_n_bytes -i 2', 'sample_byte_format -s2 01', 'sample_rate -i 16000', 'sample_coding -s26 pcm,embedded-shorten-v2.00'],
      new Uint8Array(8),
    ),
  );
  const refused = await runCli(['info', shortened]);
  assert.equal(refused.code, 4, 'unsupported input');
  assert.match(refused.stderr.trim(), /^[^\n]*compressed\.sph: compressed SPHERE .*not supported[^\n]*$/);

  const fromSphere = join(dir, 'sphere.bin');
  const fromWav = join(dir, 'wav.bin');
  const c1 = await runCli(['--json', 'chunks', folder, '--conversion', 'lmic', '-o', fromSphere]);
  const c2 = await runCli(['--json', 'chunks', speech, '--conversion', 'lmic', '-o', fromWav]);
  assert.equal(c1.code, 0, c1.stderr);
  assert.equal(c2.code, 0, c2.stderr);
  assert.equal((JSON.parse(c1.stdout) as { files: number }).files, 1);
  assert.ok(readFileSync(fromSphere).length > 0);
  assert.ok(readFileSync(fromSphere).equals(readFileSync(fromWav)), 'the same chunks as from the WAV');

  const wlds = join(dir, 'sphere.wlds');
  const b = await runCli(['dataset', 'build', folder, '-o', wlds, '--fields', 'waveform']);
  assert.equal(b.code, 0, b.stderr);
  const r = DatasetReader.open(wlds);
  try {
    assert.equal(r.numSamples, 1);
    const s = await r.get(0);
    assert.deepEqual(Array.from(decodedArray(s, 'waveform').data), Array.from(x.samples));
  } finally {
    await r.close();
  }
});

test('SPHERE files written by SoX decode to the samples SoX itself reads from them', async (t) => {
  if (spawnSync('sox', ['--version']).error) {
    t.skip('sox is not installed (apt-get install sox); the SoX cross-check is skipped');
    return;
  }
  const music = sharedPath(t, 'data', 'music', 'encodec', 'test_48k.wav');
  if (!music) return;
  // SoX 14.4 writes 16-bit little-endian by default, big-endian with -B, signed 8-bit with -b 8, mu-law with -e u-law.
  const variants: [string, string[]][] = [
    ['le16', []],
    ['be16', ['-B']],
    ['s8', ['-b', '8']],
    ['ulaw', ['-e', 'u-law']],
  ];
  for (const [name, opts] of variants) {
    const sph = join(dir, `sox-${name}.sph`);
    const back = join(dir, `sox-${name}.wav`);
    const made: SpawnSyncReturns<Buffer> = spawnSync('sox', [music, ...opts, '-t', 'sph', sph, 'trim', '0', '0.5']);
    assert.equal(made.status, 0, made.stderr.toString());
    const read: SpawnSyncReturns<Buffer> = spawnSync('sox', [
      sph,
      ...(name === 'ulaw' ? ['-e', 'signed', '-b', '16'] : []),
      '-t',
      'wav',
      back,
    ]);
    assert.equal(read.status, 0, read.stderr.toString());
    const ours = await loadAudio(sph);
    const theirs = await loadAudio(back);
    assert.deepEqual([ours.channels, ours.sampleRate, ours.frames], [2, 48000, 24000], name);
    assert.deepEqual([ours.sampleType, Array.from(ours.samples)], [theirs.sampleType, Array.from(theirs.samples)], name);
  }
});
