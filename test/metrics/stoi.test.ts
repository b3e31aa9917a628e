import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readFileSync as readBytes } from 'node:fs';
import { parseSafetensors, toFloat64 } from '../../src/util/safetensors.js';

// A plain Uint8Array copy: the shared reader's per-tensor copy uses .slice(), which on a Node Buffer is a view.
const readSafetensors = (p: string) => parseSafetensors(new Uint8Array(readBytes(p)), p);
import { estoi, removeSilentFrames, resampleOct, stoi, thirdOctaveMatrix, thirdOctaveSpectrogram } from '../../src/metrics/index.js';
import { sharedPath } from '../helpers/shared.js';

interface Scores {
  results: Record<string, { fs: number; stoi: number; estoi: number }>;
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

test('STOI and ESTOI match pystoi within 1e-4 on every fixture pair', (t) => {
  const dir = sharedPath(t, 'fixtures', 'stoi');
  if (!dir) return;
  const scores = JSON.parse(readFileSync(join(dir, 'scores.json'), 'utf8')) as Scores;
  const inputs = readSafetensors(join(dir, 'inputs.safetensors')).tensors;
  for (const [name, ref] of Object.entries(scores.results)) {
    const x = toFloat64(inputs.get(`${name}.clean`)!);
    const y = toFloat64(inputs.get(`${name}.degraded`)!);
    const s = stoi(x, y, ref.fs);
    const e = estoi(x, y, ref.fs);
    assert.ok(Math.abs(s - ref.stoi) < 1e-4, `${name}: stoi ${s} vs pystoi ${ref.stoi}`);
    assert.ok(Math.abs(e - ref.estoi) < 1e-4, `${name}: estoi ${e} vs pystoi ${ref.estoi}`);
  }
});

test('STOI intermediates (10 kHz resampling, silent-frame removal, band matrix, band spectrogram) match pystoi', (t) => {
  const dir = sharedPath(t, 'fixtures', 'stoi');
  if (!dir) return;
  const inputs = readSafetensors(join(dir, 'inputs.safetensors')).tensors;
  const inter = readSafetensors(join(dir, 'intermediates_p16k_noisy_0db.safetensors')).tensors;
  const x = toFloat64(inputs.get('p16k_noisy_0db.clean')!);
  const y = toFloat64(inputs.get('p16k_noisy_0db.degraded')!);
  const xr = resampleOct(x, 10000, 16000);
  const yr = resampleOct(y, 10000, 16000);
  assert.ok(maxAbsDiff(xr, toFloat64(inter.get('clean_resampled_10k')!)) < 1e-9);
  assert.ok(maxAbsDiff(yr, toFloat64(inter.get('degraded_resampled_10k')!)) < 1e-9);
  const [xs, ys] = removeSilentFrames(xr, yr);
  assert.ok(maxAbsDiff(xs, toFloat64(inter.get('clean_after_silence_removal')!)) < 1e-9);
  assert.ok(maxAbsDiff(ys, toFloat64(inter.get('degraded_after_silence_removal')!)) < 1e-9);
  assert.ok(maxAbsDiff(thirdOctaveMatrix(), toFloat64(inter.get('third_octave_matrix')!)) === 0);
  const bands = thirdOctaveSpectrogram(toFloat64(inter.get('clean_after_silence_removal')!));
  const want = inter.get('clean_third_octave_bands')!;
  assert.deepEqual(want.shape, [15, bands.frames]);
  assert.ok(maxAbsDiff(bands.data, toFloat64(want)) < 1e-9);
});

test('STOI of a signal against itself is 1, and too-short input returns 1e-5 like pystoi', () => {
  let seed = 1;
  const rnd = (): number => {
    seed = (seed * 1103515245 + 12345) >>> 0;
    return seed / 2 ** 32 - 0.5;
  };
  const x = new Float64Array(16000 * 2);
  for (let i = 0; i < x.length; i++) x[i] = Math.sin(i * 0.05) * (1 + Math.sin(i * 0.0007)) * rnd();
  assert.ok(Math.abs(stoi(x, x, 16000) - 1) < 1e-9);
  assert.ok(Math.abs(estoi(x, x, 16000) - 1) < 1e-9);
  assert.equal(stoi(x.subarray(0, 3000), x.subarray(0, 3000), 16000), 1e-5);
  assert.throws(() => stoi(x, x.subarray(1), 16000), /differ in length/);
});
