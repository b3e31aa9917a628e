import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inflateSync } from 'node:zlib';
import { encodeWav, loadAudio, toFloat32Channels } from '../../src/audio/index.js';
import { melSpectrogram, mfcc, resample, spectrogram } from '../../src/features/index.js';
import { parseNpy, type NpyArray } from '../../src/util/npy.js';
import { projectRoot } from '../helpers/shared.js';

/** parseNpy over a plain Uint8Array copy: readNpy hands it a Node Buffer, whose slice() is a view into a shared pool. */
function readNpy(path: string): NpyArray {
  return parseNpy(new Uint8Array(readFileSync(path)), path);
}

function wavelm(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(projectRoot, 'src/cli/main.ts'), ...args], {
    encoding: 'utf8',
    cwd: projectRoot,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function tone(sr: number, n: number, channels: number): Int16Array {
  const s = new Int16Array(n * channels);
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < channels; c++)
      s[i * channels + c] = Math.round(8000 * Math.sin((2 * Math.PI * (440 * (c + 1)) * i) / sr) + 3000 * Math.sin(i * 0.9));
  }
  return s;
}

test('features mel/mfcc/stft write .npy files with librosa shapes and our library values', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'wavelm-features-'));
  try {
    const sr = 16000;
    const wav = join(dir, 'in.wav');
    writeFileSync(
      wav,
      encodeWav({ sampleRate: sr, channels: 2, frames: 8000, sampleType: 'int16', bitsPerSample: 16, samples: tone(sr, 8000, 2) }),
    );
    const chans = toFloat32Channels(await loadAudio(wav));
    const mono = chans[0]!.map((v, i) => (v + chans[1]![i]!) / 2);

    let r = wavelm(
      '--json',
      'features',
      'mel',
      wav,
      '-o',
      join(dir, 'mel.npy'),
      '--n-fft',
      '400',
      '--hop-length',
      '160',
      '--n-mels',
      '80',
      '--png',
      join(dir, 'mel.png'),
    );
    assert.equal(r.code, 0, r.stderr);
    const info = JSON.parse(r.stdout) as { shape: number[]; mono: string };
    assert.deepEqual(info.shape, [80, 51]);
    assert.equal(info.mono, 'mean');
    const mel = readNpy(join(dir, 'mel.npy'));
    assert.deepEqual(mel.shape, [80, 51]);
    assert.ok(mel.data instanceof Float32Array);
    assert.deepEqual(mel.data, melSpectrogram(mono, { sr, nFft: 400, hopLength: 160, nMels: 80 }).data);

    // PNG: signature, IHDR with frames x mels, RGB, and a decodable IDAT.
    const png = readFileSync(join(dir, 'mel.png'));
    assert.equal(png.subarray(1, 4).toString('latin1'), 'PNG');
    assert.equal(png.readUInt32BE(16), 51);
    assert.equal(png.readUInt32BE(20), 80);
    assert.equal(png[25], 2);
    const idatLen = png.readUInt32BE(33);
    assert.equal(png.subarray(37, 41).toString('latin1'), 'IDAT');
    assert.equal(inflateSync(png.subarray(41, 41 + idatLen)).length, 80 * (51 * 3 + 1));

    r = wavelm('features', 'mfcc', wav, '-o', join(dir, 'mfcc.npy'), '--channel', '1', '--n-mfcc', '13');
    assert.equal(r.code, 0, r.stderr);
    const mf = readNpy(join(dir, 'mfcc.npy'));
    assert.deepEqual(mf.shape, [13, 1 + Math.floor(8000 / 512)]);
    assert.deepEqual(mf.data, mfcc(chans[1]!, { sr, nMfcc: 13 }).data);

    r = wavelm('features', 'stft', wav, '-o', join(dir, 'stft.npy'), '--n-fft', '512', '--no-center', '--pad-mode', 'reflect');
    assert.equal(r.code, 0, r.stderr);
    const st = readNpy(join(dir, 'stft.npy'));
    assert.deepEqual(st.shape, [257, 1 + Math.floor((8000 - 512) / 128)]);
    assert.deepEqual(st.data, spectrogram(mono, { nFft: 512, center: false }).data);

    // --sr resamples first.
    r = wavelm('--json', 'features', 'mel', wav, '-o', join(dir, 'mel8k.npy'), '--sr', '8000');
    assert.equal(r.code, 0, r.stderr);
    assert.equal((JSON.parse(r.stdout) as { sampleRate: number }).sampleRate, 8000);
    assert.deepEqual(readNpy(join(dir, 'mel8k.npy')).data, melSpectrogram(resample(mono, sr, 8000), { sr: 8000 }).data);

    // Errors name the option and exit with the config code.
    r = wavelm('features', 'mel', wav, '-o', join(dir, 'x.npy'), '--channel', '5');
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--channel 5/);
    r = wavelm('features', 'mel', wav);
    assert.equal(r.code, 2);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('features resample streams a WAV to the same samples as resample()', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'wavelm-resample-'));
  try {
    const n = 150001; // more than two of the command's 65536-frame windows, odd length
    const wav = join(dir, 'in.wav');
    writeFileSync(
      wav,
      encodeWav({ sampleRate: 44100, channels: 2, frames: n, sampleType: 'int16', bitsPerSample: 16, samples: tone(44100, n, 2) }),
    );
    const out = join(dir, 'out.wav');
    const r = wavelm('--json', 'features', 'resample', wav, '--sr', '16000', '-o', out, '--bits', 'float');
    assert.equal(r.code, 0, r.stderr);
    const res = JSON.parse(r.stdout) as { framesOut: number };
    assert.equal(res.framesOut, Math.ceil((n * 160) / 441));
    const got = await loadAudio(out);
    assert.equal(got.sampleRate, 16000);
    assert.equal(got.channels, 2);
    assert.equal(got.frames, res.framesOut);
    const inCh = toFloat32Channels(await loadAudio(wav));
    const gotCh = toFloat32Channels(got);
    for (let c = 0; c < 2; c++) assert.deepEqual(gotCh[c], resample(inCh[c]!, 44100, 16000));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
