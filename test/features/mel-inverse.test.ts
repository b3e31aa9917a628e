/**
 * Mel inversion (librosa.feature.inverse.mel_to_audio): istft, Griffin-Lim, the NNLS fit and numpy's RandomState,
 * against librosa 0.11.0's fixtures and a numpy re-derivation (mel_inverse_reference.py, skipped when python3
 * with numpy is absent), plus the CLI round trip.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadAudio, toFloat32Channels } from '../../src/audio/index.js';
import { AudioProcessor } from '../../src/codec/index.js';
import {
  RandomState,
  griffinLim,
  istft,
  melFilterbank,
  melPseudoInverse,
  nnlsFilterbank,
  readMelFeatures,
  stft,
  type FeatureMatrix,
} from '../../src/features/index.js';
import { stoi } from '../../src/metrics/index.js';
import { parseNpy, writeNpy } from '../../src/util/npy.js';
import { projectRoot, sharedPath } from '../helpers/shared.js';
import { runCli } from '../cli/run.js';
import { loadTensors } from './_fixtures.js';

function matrix(t: { data: unknown; shape: number[] }): FeatureMatrix {
  return { data: t.data as Float32Array, shape: t.shape as [number, number] };
}

function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let e = 0;
  let n = 0;
  for (let i = 0; i < a.length; i++) {
    e += (a[i]! - b[i]!) ** 2;
    n += b[i]! ** 2;
  }
  return Math.sqrt(e / n);
}

function readNpyCopy(path: string): Float32Array {
  return parseNpy(new Uint8Array(readFileSync(path)), path).data as Float32Array;
}

const python = spawnSync('python3', ['-c', 'import numpy, scipy'], { encoding: 'utf8' });
const haveNumpy = python.status === 0;

test('RandomState: numpy.random.RandomState(seed).random() sequence', () => {
  // Published values: python3 -c "import numpy; print(numpy.random.RandomState(0).random(3))".
  assert.deepEqual(Array.from(new RandomState(0).randomArray(3)), [0.5488135039273248, 0.7151893663724195, 0.6027633760716439]);
  assert.throws(() => new RandomState(-1), /seed/);
});

test('istft(stft(y)) gives y back (librosa defaults and a 16 kHz setting) on a real clip', (t) => {
  const p = sharedPath(t, 'fixtures', 'mel', 'lj22k.safetensors');
  if (!p) return;
  const y = loadTensors(p).get('audio_f32')!.data as Float32Array;
  for (const o of [
    { nFft: 2048, hopLength: 512 },
    { nFft: 400, hopLength: 160 },
  ]) {
    const D = stft(y, o);
    const back = istft(D.re, D.im, { ...o, length: y.length });
    assert.equal(back.length, y.length);
    assert.ok(relErr(back, y) < 1e-6, `n_fft ${o.nFft}: ${relErr(back, y)}`);
  }
});

test('griffinLim and the NNLS fit against a numpy re-derivation of librosa 0.11 on a real clip', {
  skip: haveNumpy ? false : `python3 with numpy and scipy is not available (${python.stderr.trim().split('\n').pop()})`,
}, (t) => {
  const p = sharedPath(t, 'fixtures', 'mel', 'lj22k.safetensors');
  if (!p) return;
  const tensors = loadTensors(p);
  const S = matrix(tensors.get('stft_mag_nfft2048_hop512')!);
  const M = matrix(tensors.get('melspec_default')!);
  const fb = melFilterbank({ sr: 22050, nFft: 2048, nMels: 128 });
  // A few frames for librosa's own L-BFGS-B solver, whose memory grows with frames x bins.
  const T = M.shape[1];
  const few = 8;
  const Mfew = new Float32Array(128 * few);
  for (let m = 0; m < 128; m++) Mfew.set(M.data.subarray(m * T + 30, m * T + 30 + few), m * few);
  const dir = mkdtempSync(join(tmpdir(), 'wavelm-melinv-'));
  try {
    writeNpy(join(dir, 'mag.npy'), S.data, S.shape);
    writeNpy(join(dir, 'mel.npy'), M.data, M.shape);
    writeNpy(join(dir, 'melfew.npy'), Mfew, [128, few]);
    writeNpy(join(dir, 'fb.npy'), fb.data, fb.shape);
    writeFileSync(
      join(dir, 'params.json'),
      JSON.stringify({
        griffinlim: [
          { name: 'gl_zero', input: 'mag', n_fft: 2048, hop: 512, n_iter: 32, momentum: 0.99, init: null, seed: 0 },
          { name: 'gl_rand', input: 'mag', n_fft: 2048, hop: 512, n_iter: 32, momentum: 0.99, init: 'random', seed: 3 },
          { name: 'gl_plain', input: 'mag', n_fft: 2048, hop: 512, n_iter: 8, momentum: 0, init: 'random', seed: 0 },
        ],
        nnls: [
          { name: 'nnls', filterbank: 'fb', input: 'mel', iters: 100 },
          { name: 'nnls_few', filterbank: 'fb', input: 'melfew', iters: 100, librosa: true },
        ],
      }),
    );
    const r = spawnSync('python3', [join(projectRoot, 'test', 'features', 'mel_inverse_reference.py'), dir], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    // float32 rounding in both, compounded over 32 iterations: observed 4e-5.
    const gz = griffinLim(S, { init: null });
    assert.ok(relErr(gz, readNpyCopy(join(dir, 'out_gl_zero.npy'))) < 1e-3);
    const gr = griffinLim(S, { init: 'random', randomState: 3 });
    assert.ok(relErr(gr, readNpyCopy(join(dir, 'out_gl_rand.npy'))) < 1e-3);
    const gp = griffinLim(S, { nIter: 8, momentum: 0, randomState: 0 });
    assert.ok(relErr(gp, readNpyCopy(join(dir, 'out_gl_plain.npy'))) < 1e-4);
    // A different seed really gives a different start.
    assert.ok(relErr(gr, gz) > 0.1);
    const X = nnlsFilterbank(fb, M, 100);
    assert.ok(relErr(X.data, readNpyCopy(join(dir, 'out_nnls.npy'))) < 1e-9);
    // librosa's solver reaches another point of the same objective; the mel frames must fit at least as well.
    const Xf = nnlsFilterbank(fb, { data: Mfew, shape: [128, few] }, 100);
    const Lf = readNpyCopy(join(dir, 'out_nnls_few_librosa.npy'));
    const fit = (Xd: Float32Array): number => {
      const out = new Float32Array(128 * few);
      for (let m = 0; m < 128; m++)
        for (let tt = 0; tt < few; tt++) {
          let acc = 0;
          for (let k = fb.start[m]!; k < fb.end[m]!; k++) acc += fb.data[m * 1025 + k]! * Xd[k * few + tt]!;
          out[m * few + tt] = acc;
        }
      return relErr(out, Mfew);
    };
    assert.ok(fit(Xf.data) <= fit(Lf), `ours ${fit(Xf.data)}, librosa ${fit(Lf)}`);
    for (const v of Xf.data) assert.ok(v >= 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('melPseudoInverse: A pinv(A) A = A, also for a rank-deficient filterbank (n_fft 400, 80 mels)', () => {
  for (const o of [
    { sr: 22050, nFft: 2048, nMels: 128 },
    { sr: 22050, nFft: 400, nMels: 80, htk: true },
  ]) {
    const fb = melFilterbank(o);
    const [nMels, bins] = fb.shape;
    const { pinv } = melPseudoInverse(fb);
    // B = A pinv(A) ([nMels, nMels]); then B A should equal A.
    const B = new Float64Array(nMels * nMels);
    for (let i = 0; i < nMels; i++)
      for (let k = fb.start[i]!; k < fb.end[i]!; k++)
        for (let j = 0; j < nMels; j++) B[i * nMels + j] = B[i * nMels + j]! + fb.data[i * bins + k]! * pinv[k * nMels + j]!;
    const BA = new Float64Array(nMels * bins);
    for (let i = 0; i < nMels; i++)
      for (let j = 0; j < nMels; j++)
        for (let k = fb.start[j]!; k < fb.end[j]!; k++) BA[i * bins + k] = BA[i * bins + k]! + B[i * nMels + j]! * fb.data[j * bins + k]!;
    assert.ok(relErr(BA, fb.data) < 1e-6, `${JSON.stringify(o)}: ${relErr(BA, fb.data)}`);
  }
});

test('features invert: mel and dB-mel round trips are intelligible (STOI) and the CLI reports bad input', async (t) => {
  const wav = sharedPath(t, 'fixtures', 'mel', 'sb16k.wav');
  if (!wav) return;
  const dir = mkdtempSync(join(tmpdir(), 'wavelm-invert-'));
  try {
    const ref = toFloat32Channels(await loadAudio(wav))[0]!;
    const mel = join(dir, 'm.npy');
    let r = await runCli(['features', 'mel', wav, '--n-fft', '400', '--hop-length', '160', '--n-mels', '80', '--db', '-o', mel]);
    assert.equal(r.code, 0, r.stderr);
    const out = join(dir, 'back.wav');
    r = await runCli(['--json', 'features', 'invert', mel, '-o', out]);
    assert.equal(r.code, 0, r.stderr);
    const back = toFloat32Channels(await loadAudio(out))[0]!;
    assert.equal(back.length, ref.length);
    const score = stoi(ref, back, 16000);
    assert.ok(score > 0.9, `STOI ${score}`);
    // The library path gives the same audio as the CLI (same seed, same settings from the sidecar).
    const lib = new AudioProcessor().featuresToAudio(readMelFeatures(mel));
    assert.ok(relErr(lib.channels[0]!, back) < 1e-6);
    // Zero initial phase is another, deterministic start.
    const zero = new AudioProcessor().featuresToAudio(readMelFeatures(mel), { init: null, nIter: 4 });
    assert.ok(relErr(zero.channels[0]!, back) > 0.1);
    // Without the sidecar the settings come from the command line (librosa's defaults otherwise).
    const bare = join(dir, 'bare.npy');
    writeFileSync(bare, readFileSync(mel));
    r = await runCli([
      'features',
      'invert',
      bare,
      '-o',
      out,
      '--sr',
      '16000',
      '--n-fft',
      '400',
      '--hop-length',
      '160',
      '--db',
      '--length',
      String(ref.length),
    ]);
    assert.equal(r.code, 0, r.stderr);
    const bareBack = toFloat32Channels(await loadAudio(out))[0]!;
    assert.ok(relErr(bareBack, back) < 1e-6);
    r = await runCli(['features', 'invert', join(dir, 'missing.npy'), '-o', out]);
    assert.equal(r.code, 3);
    r = await runCli(['features', 'invert', mel, '-o', out, '--init', 'sideways']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--init/);
    const side = JSON.parse(readFileSync(`${mel}.json`, 'utf8')) as Record<string, unknown>;
    writeFileSync(`${mel}.json`, JSON.stringify({ ...side, window: 'kaiser' }));
    r = await runCli(['features', 'invert', mel, '-o', out]);
    assert.equal(r.code, 4);
    assert.match(r.stderr, /window/);
    writeFileSync(`${mel}.json`, '{"format":"wavelm-mel","version":7}');
    r = await runCli(['features', 'invert', mel, '-o', out]);
    assert.equal(r.code, 4);
    assert.match(r.stderr, /version 7/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
