import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compareAudio, logSpectralDistance, segmentalSnr, siSdr, snr } from '../../src/metrics/index.js';

function noise(n: number, seed: number): Float64Array {
  // Box-Muller over a small LCG: deterministic Gaussian noise without dependencies.
  let s = seed >>> 0;
  const u = (): number => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s + 1) / 2 ** 32;
  };
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u());
  return out;
}

function tone(n: number): Float64Array {
  const x = new Float64Array(n);
  for (let i = 0; i < n; i++) x[i] = 0.5 * Math.sin(i * 0.031) + 0.2 * Math.sin(i * 0.17 + 1);
  return x;
}

function atSnr(x: Float64Array, n: Float64Array, db: number): Float64Array {
  let px = 0;
  let pn = 0;
  for (let i = 0; i < x.length; i++) {
    px += x[i]! ** 2;
    pn += n[i]! ** 2;
  }
  const g = Math.sqrt(px / (pn * 10 ** (db / 10)));
  return x.map((v, i) => v + g * n[i]!);
}

test('a signal against itself: infinite SNR/SI-SDR, ceiling segmental SNR, zero LSD', () => {
  const x = tone(16000);
  assert.equal(snr(x, x), Infinity);
  assert.equal(siSdr(x, x), Infinity);
  assert.equal(segmentalSnr(x, x, 16000), 35);
  assert.equal(logSpectralDistance(x, x), 0);
});

test('a scaled copy: SI-SDR is infinite (scale invariant) while SNR reflects the gain error', () => {
  const x = tone(16000);
  const y = x.map((v) => 0.5 * v);
  assert.ok(siSdr(x, y) > 100);
  assert.ok(Math.abs(snr(x, y) - 10 * Math.log10(1 / 0.25)) < 1e-9);
  // For broadband noise (no bins near the 1e-10 floor) |0.5 X|^2 is 6.02 dB below |X|^2 in every bin.
  const n = noise(16000, 5);
  assert.ok(
    Math.abs(
      logSpectralDistance(
        n,
        n.map((v) => 0.5 * v),
      ) -
        20 * Math.log10(2),
    ) < 1e-6,
  );
});

test('noise at a known SNR: SNR and SI-SDR recover it', () => {
  const x = tone(48000);
  const n = noise(48000, 7);
  for (const db of [-5, 0, 10, 20]) {
    const y = atSnr(x, n, db);
    assert.ok(Math.abs(snr(x, y) - db) < 1e-9, `snr at ${db} dB`);
    // Noise is nearly uncorrelated with the tone, so SI-SDR is close to the SNR.
    assert.ok(Math.abs(siSdr(x, y) - db) < 0.2, `si-sdr at ${db} dB: ${siSdr(x, y)}`);
    const seg = segmentalSnr(x, y, 16000);
    assert.ok(Math.abs(seg - db) < 1.5, `segmental snr at ${db} dB: ${seg}`);
  }
  assert.ok(logSpectralDistance(x, atSnr(x, n, 0)) > logSpectralDistance(x, atSnr(x, n, 20)));
});

test('compareAudio reports every metric and rejects mismatched inputs', () => {
  const x = Float32Array.from(tone(16000 * 2));
  const y = Float32Array.from(atSnr(tone(16000 * 2), noise(32000, 3), 10));
  const r = compareAudio([x], [y], 16000);
  assert.ok(Math.abs(r.snrDb - 10) < 1e-3);
  assert.ok(r.stoi > 0 && r.stoi <= 1);
  assert.ok(Number.isFinite(r.estoi));
  assert.deepEqual(r.warnings, []);
  // 0.2 s is too short for STOI: pystoi's placeholder, said so instead of passing as "unintelligible".
  const short = compareAudio([x.subarray(0, 3200)], [x.subarray(0, 3200)], 16000);
  assert.equal(short.stoi, 1e-5);
  assert.equal(short.estoi, 1e-5);
  assert.equal(short.warnings.length, 1);
  assert.match(short.warnings[0]!, /^STOI and ESTOI need 30 non-silent frames .* placeholder 0\.00001, not a measurement$/);
  assert.deepEqual(compareAudio([x.subarray(0, 3200)], [x.subarray(0, 3200)], 16000, { skipStoi: true }).warnings, []);
  assert.throws(() => compareAudio([x], [y, y], 16000), /channels/);
  assert.throws(() => snr(x, y.subarray(1)), /differ in length/);
});
