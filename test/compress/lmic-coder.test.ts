import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseSafetensors } from '../../src/util/safetensors.js';
import {
  bitsToBytes,
  bytesToBits,
  LmicDecoder,
  LmicEncoder,
  lmicCompress,
  lmicDecompress,
  normalizePdfForArithmeticCoding,
} from '../../src/compress/lmic-coder.js';
import { FormatError } from '../../src/util/errors.js';
import { sharedPath } from '../helpers/shared.js';

const CASES = ['uniform', 'peaked', 'transformer_row0', 'transformer_row1'];

for (const name of CASES) {
  test(`lmic coder matches the upstream bits and state: ${name}`, (t) => {
    const dir = sharedPath(t, 'fixtures', 'lmic-coder');
    if (!dir) return;
    // A plain Uint8Array copy: Buffer.slice does not copy, which breaks the reader's aligned views.
    const st = parseSafetensors(new Uint8Array(readFileSync(join(dir, `${name}.safetensors`)))).tensors;
    const meta = JSON.parse(readFileSync(join(dir, `${name}.json`), 'utf8')) as { bitstring: string; num_padded_bits: number };
    const raw = st.get('pdf_raw')!.data as Float32Array;
    const fed = st.get('pdf_fed')!.data as Float32Array;
    const symbols = st.get('symbols')!.data as Int32Array;
    const state = st.get('coder_state_after_step')!.data as BigInt64Array;
    const bitstream = st.get('bitstream')!.data as Uint8Array;
    const n = symbols.length;
    const enc = new LmicEncoder(256);
    for (let i = 0; i < n; i++) {
      const pdf = normalizePdfForArithmeticCoding(raw.subarray(i * 256, (i + 1) * 256));
      assert.deepEqual(pdf, fed.subarray(i * 256, (i + 1) * 256), `normalised pdf of step ${i}`);
      enc.encode(pdf, symbols[i]!);
      const [lo, hi, carry] = enc.state();
      assert.deepEqual([lo, hi, carry, enc.numBits], Array.from(state.subarray(i * 4, i * 4 + 4), Number), `coder state after step ${i}`);
    }
    const bits = enc.terminate();
    assert.equal(Array.from(bits).join(''), meta.bitstring);
    const packed = bitsToBytes(bits);
    assert.equal(packed.numPaddedBits, meta.num_padded_bits);
    assert.deepEqual(packed.bytes, bitstream);
    const whole = lmicCompress(raw, symbols);
    assert.deepEqual(whole.bytes, bitstream);
    // Decoding the upstream bytes gives back the symbols.
    const back = lmicDecompress(bitstream, meta.num_padded_bits, raw, n);
    assert.deepEqual(Array.from(back), Array.from(symbols));
  });
}

test('lmic coder round-trips random pdfs and rejects a symbol outside the alphabet', () => {
  let s = 12345;
  const rnd = (): number => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return s / 2 ** 32;
  };
  const n = 200;
  const pdfs = new Float32Array(n * 256);
  const syms = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < 256; j++) pdfs[i * 256 + j] = rnd() ** 8;
    syms[i] = Math.floor(rnd() * 256);
  }
  const c = lmicCompress(pdfs, syms);
  assert.deepEqual(lmicDecompress(c.bytes, c.numPaddedBits, pdfs, n), syms);
  assert.deepEqual(bytesToBits(bitsToBytes(Uint8Array.from([1, 0, 1])).bytes, 5), Uint8Array.from([1, 0, 1]));
  assert.throws(() => new LmicEncoder(256).encode(pdfs.subarray(0, 256), 256), /outside the alphabet/);
  // A stream shorter than the coder's 32-bit window is padded, as LMIC's decoder pads it: one likely
  // symbol costs a few bits and still decodes.
  const peaked = new Float32Array(256).fill(1e-6);
  peaked[7] = 1;
  const one = lmicCompress(peaked, Uint8Array.from([7]));
  const oneBits = bytesToBits(one.bytes, one.numPaddedBits);
  assert.ok(oneBits.length > 0 && oneBits.length < 32, `${oneBits.length} bits`);
  assert.equal(new LmicDecoder(256, oneBits).decode(normalizePdfForArithmeticCoding(peaked)), 7);
  // No bits at all is more than the padding can cover: a corrupt stream, not a guess.
  assert.throws(
    () => new LmicDecoder(256, new Uint8Array(0)),
    (e: unknown) => e instanceof FormatError && /read past the end/.test(e.message),
  );
});
