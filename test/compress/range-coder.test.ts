import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AdaptiveModel, findSymbol, quantizeProbs, RangeDecoder, RangeEncoder } from '../../src/compress/range-coder.js';
import { decodeChunk, encodeChunk } from '../../src/compress/lm-codec.js';
import { Order1Predictor } from './order1-predictor.js';
import { lmicCompress } from '../../src/compress/lmic-coder.js';

function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

test('quantizeProbs: every symbol >= 1, exact total, remainder on the most probable symbol', () => {
  const rnd = lcg(7);
  const cum = new Uint32Array(257);
  for (let k = 0; k < 50; k++) {
    const p = new Float32Array(256);
    let s = 0;
    for (let i = 0; i < 256; i++) s += p[i] = rnd() ** 12;
    for (let i = 0; i < 256; i++) p[i] = p[i]! / s;
    quantizeProbs(p, cum);
    assert.equal(cum[256], 2 ** 24);
    for (let i = 0; i < 256; i++) assert.ok(cum[i + 1]! - cum[i]! >= 1, `symbol ${i}`);
  }
  // Garbage in: NaN, negatives, all zero -> still a valid table.
  const bad = new Float32Array(256).fill(Number.NaN);
  bad[3] = -1;
  quantizeProbs(bad, cum);
  assert.equal(cum[256], 2 ** 24);
  for (let i = 0; i < 256; i++) assert.ok(cum[i + 1]! - cum[i]! >= 1);
  assert.equal(findSymbol(cum, 0), 0);
  assert.equal(findSymbol(cum, 2 ** 24 - 1), 255);
});

test('range coder round-trips random tables, adaptive models and raw bits; cost is near the ideal', () => {
  const rnd = lcg(99);
  const n = 20000;
  const cum = new Uint32Array(257);
  const p = new Float32Array(256);
  const enc = new RangeEncoder();
  const syms: number[] = [];
  const tables: Uint32Array[] = [];
  let ideal = 0;
  const ad = new AdaptiveModel(256);
  const extra: number[] = [];
  for (let i = 0; i < n; i++) {
    let s = 0;
    const peak = Math.floor(rnd() * 256);
    for (let j = 0; j < 256; j++) s += p[j] = j === peak ? 200 * rnd() : rnd() ** 4;
    for (let j = 0; j < 256; j++) p[j] = p[j]! / s;
    quantizeProbs(p, cum);
    // Draw the symbol from the distribution so the ideal cost is meaningful.
    let u = rnd();
    let sym = 0;
    while (sym < 255) {
      u -= p[sym]!;
      if (!(u > 0)) break;
      sym++;
    }
    syms.push(sym);
    tables.push(cum.slice());
    ideal -= Math.log2(p[sym]!);
    enc.encode(cum[sym]!, cum[sym + 1]! - cum[sym]!, 2 ** 24);
    if (i % 10 === 0) {
      const e = Math.floor(rnd() * 16);
      extra.push(e);
      ad.encode(enc, e);
      enc.encodeBits(i & 0xfff, 12);
    }
  }
  const bytes = enc.finish();
  const dec = new RangeDecoder(bytes);
  const ad2 = new AdaptiveModel(256);
  let k = 0;
  for (let i = 0; i < n; i++) {
    const t = tables[i]!;
    const s = findSymbol(t, dec.target(2 ** 24));
    dec.decode(t[s]!, t[s + 1]! - t[s]!);
    assert.equal(s, syms[i], `symbol ${i}`);
    if (i % 10 === 0) {
      assert.equal(ad2.decode(dec), extra[k++]);
      assert.equal(dec.decodeBits(12), i & 0xfff);
    }
  }
  // The LM part's overhead: compare with a coder run on the LM symbols only.
  const enc2 = new RangeEncoder();
  for (let i = 0; i < n; i++) {
    const t = tables[i]!;
    enc2.encode(t[syms[i]!]!, t[syms[i]! + 1]! - t[syms[i]!]!, 2 ** 24);
  }
  const actual = enc2.finish().length * 8;
  const overhead = actual / ideal - 1;
  assert.ok(
    overhead < 0.001 && overhead > -0.001,
    `overhead ${(overhead * 100).toFixed(4)}% (actual ${actual} bits, ideal ${ideal.toFixed(1)})`,
  );
});

test('range coder handles carries: long runs near the interval top and bottom', () => {
  const enc = new RangeEncoder();
  const seq: number[] = [];
  const rnd = lcg(3);
  for (let i = 0; i < 5000; i++) {
    // Mostly the last (top) or first symbol with tiny intervals, which provokes 0xff runs and carries.
    const r = rnd();
    const s = r < 0.45 ? 0 : r < 0.9 ? 2 : 1;
    seq.push(s);
    const cum = [0, 1, 2, 2 ** 24];
    const cumT = s === 2 ? [2, 2 ** 24 - 2] : s === 0 ? [0, 1] : [1, 1];
    void cum;
    enc.encode(cumT[0]!, cumT[1]!, 2 ** 24);
  }
  const bytes = enc.finish();
  const dec = new RangeDecoder(bytes);
  for (let i = 0; i < seq.length; i++) {
    const t = dec.target(2 ** 24);
    const s = t < 1 ? 0 : t < 2 ? 1 : 2;
    assert.equal(s, seq[i], `step ${i}`);
    dec.decode(s === 0 ? 0 : s === 1 ? 1 : 2, s === 2 ? 2 ** 24 - 2 : 1);
  }
});

test('LM chunk codec round-trips u8, hi8lo and u16 tokens with a predictor', () => {
  const rnd = lcg(11);
  const pred = new Order1Predictor();
  const tokens = Uint8Array.from({ length: 3000 }, (_, i) => (128 + Math.round(60 * Math.sin(i / 9) + 8 * rnd())) & 255);
  const stats = { idealBits: 0 };
  const data = encodeChunk(pred, 'u8', tokens, undefined, stats);
  assert.deepEqual(decodeChunk(pred, 'u8', data, tokens.length).tokens, tokens);
  assert.ok(data.length * 8 < stats.idealBits * 1.01 + 64, `${data.length * 8} bits vs ideal ${stats.idealBits}`);
  const low = Uint8Array.from({ length: 3000 }, () => Math.floor(rnd() * 256));
  const d2 = encodeChunk(pred, 'hi8lo', tokens, low);
  const r2 = decodeChunk(pred, 'hi8lo', d2, tokens.length);
  assert.deepEqual(r2.tokens, tokens);
  assert.deepEqual(r2.low, low);
  const p16 = new Order1Predictor({ vocabSize: 65536 });
  const t16 = Uint16Array.from({ length: 200 }, (_, i) => 32768 + Math.round(3000 * Math.sin(i / 7) + 40 * rnd()));
  const d3 = encodeChunk(p16, 'u16', t16);
  assert.deepEqual(decodeChunk(p16, 'u16', d3, t16.length).tokens, t16);
  // A different model decodes something else (never silently the same bytes by accident here).
  const other = new Order1Predictor({ prior: 0.01 });
  let wrong: Uint8Array | Uint16Array | undefined;
  try {
    wrong = decodeChunk(other, 'u8', data, tokens.length).tokens;
  } catch {
    wrong = undefined; // a detected overrun is as good as different output
  }
  if (wrong) assert.notDeepEqual(wrong, tokens);
});

test('a stream whose bytes are all zero trims to nothing and still decodes', () => {
  const enc = new RangeEncoder();
  for (let i = 0; i < 5000; i++) enc.encode(0, 2 ** 24 - 1, 2 ** 24);
  const bytes = enc.finish();
  assert.equal(bytes.length, 0);
  const dec = new RangeDecoder(bytes);
  for (let i = 0; i < 5000; i++) {
    assert.equal(dec.target(2 ** 24) < 2 ** 24 - 1, true);
    dec.decode(0, 2 ** 24 - 1);
  }
  assert.equal(dec.overrun, 6, 'the whole 48-bit window was read past the (empty) end, legitimately');
});

test("encodeChunk's LMIC figure equals LMIC's coder run on the same probabilities", () => {
  const rnd = lcg(21);
  const tokens = Uint8Array.from({ length: 700 }, (_, i) => (128 + Math.round(50 * Math.sin(i / 5) + 10 * rnd())) & 255);
  const stats = { idealBits: 0, lmicBytes: 0 };
  const range = encodeChunk(new Order1Predictor(), 'u8', tokens, undefined, stats);
  const pred = new Order1Predictor();
  const pdfs = new Float32Array(700 * 256);
  pdfs.set(pred.reset(), 0);
  for (let i = 0; i + 1 < 700; i++) pdfs.set(pred.next(tokens[i]!), (i + 1) * 256);
  const ref = lmicCompress(pdfs, tokens);
  assert.equal(stats.lmicBytes, ref.bytes.length);
  // The range coder is never more than a few bytes longer than LMIC's coder.
  assert.ok(range.length <= ref.bytes.length + 3, `range ${range.length} vs lmic ${ref.bytes.length}`);
});
