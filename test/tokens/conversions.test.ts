/** Bit-exact conformance with ../shared/fixtures/pcm-conversions (audioop, numpy 1.24 float32 semantics, LMIC chunking). */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { loadAudio, type AudioData } from '../../src/audio/index.js';
import {
  audioToBytes,
  audioToChunks,
  convertToTargetBitDepth,
  customAudioIterator,
  int16ToTokens,
  chunkToTokens16,
  tokensToInt16,
} from '../../src/tokens/index.js';
import { parseSafetensors, type TensorData } from '../../src/util/safetensors.js';
import { sharedPath } from '../helpers/shared.js';

const FX = ['fixtures', 'pcm-conversions'];

function tensors(path: string): Map<string, TensorData> {
  // A plain Uint8Array copy: the tensors must not view a pooled Buffer.
  const st = parseSafetensors(new Uint8Array(readFileSync(path)), path);
  return new Map([...st.tensors].map(([k, v]) => [k, v.data]));
}

function mismatches(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length, 'lengths');
  let d = 0;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) d++;
  return d;
}

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

describe('16-bit to 8-bit and float paths', () => {
  for (const name of ['0_jackson_0', '7_theo_12', '9_yweweler_3', 'test_24k', 'ramp']) {
    test(name, async (t) => {
      const dir = sharedPath(t, ...FX);
      if (!dir) return;
      const x = tensors(join(dir, `${name}.safetensors`));
      const a = await loadAudio(join(dir, `${name}.wav`));
      assert.equal(mismatches(a.samples as Int16Array, x.get('input_i16') as Int16Array), 0, 'input');
      assert.equal(mismatches(convertToTargetBitDepth(a, 8, 'lmic'), x.get('audioop_u8') as Uint8Array), 0, 'lmic');
      assert.equal(mismatches(convertToTargetBitDepth(a, 8, 'exact'), x.get('audioop_u8') as Uint8Array), 0, 'exact 8-bit equals lmic');
      assert.equal(mismatches(convertToTargetBitDepth(a, 8, 'seed-float'), x.get('float_u8') as Uint8Array), 0, 'seed-float 8-bit');
      assert.equal(mismatches(convertToTargetBitDepth(a, 16, 'seed-float'), x.get('float_i16') as Int16Array), 0, 'seed-float 16-bit');
      assert.equal(mismatches(convertToTargetBitDepth(a, 16, 'exact'), x.get('input_i16') as Int16Array), 0, 'exact 16-bit keeps samples');
      // The general (unfused) path agrees with the fused kernel.
      const general = convertToTargetBitDepth(
        { samples: Float64Array.from(a.samples as Int16Array, (v) => v / 32768), sampleType: 'float64' },
        8,
        'lmic',
      );
      assert.equal(mismatches(general, x.get('audioop_u8') as Uint8Array), 0, 'float input through the integer path');
    });
  }

  test('the ramp covers every int16 value, and the two 8-bit paths differ where the README says', async (t) => {
    const dir = sharedPath(t, ...FX);
    if (!dir) return;
    const summary = JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8')) as {
      files: Record<string, { audioop_u8_vs_float_u8_mismatches: number }>;
    };
    const a = await loadAudio(join(dir, 'ramp.wav'));
    assert.equal(new Set(a.samples as Int16Array).size, 65536);
    const d = mismatches(convertToTargetBitDepth(a, 8, 'lmic'), convertToTargetBitDepth(a, 8, 'seed-float'));
    assert.equal(d, summary.files.ramp!.audioop_u8_vs_float_u8_mismatches);
  });
});

interface BlockedVariant {
  stream_num_bytes: number;
  stream_sha256: string;
  num_chunks: number;
  dropped_tail_bytes: number;
  chunks_concat_sha256: string;
  first_chunk_sha256: string;
  last_chunk_sha256: string;
}

interface Summary {
  stereo_blocking: { block_size_samples: number; interleaved_u8_sha256: string; variant_u8: BlockedVariant; variant_i16: BlockedVariant };
}

function findVariants(summary: Summary): { u8: BlockedVariant; i16: BlockedVariant } {
  const sb = summary.stereo_blocking;
  assert.equal(sb.block_size_samples, 1024);
  return { u8: sb.variant_u8, i16: sb.variant_i16 };
}

describe('stereo interleaved blocking (test_48k_blocked)', () => {
  test('u8 and i16 streams and chunks match LMIC + stereo blocking', async (t) => {
    const dir = sharedPath(t, ...FX);
    if (!dir) return;
    const { u8, i16 } = findVariants(JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8')));
    const x = tensors(join(dir, 'test_48k_blocked.safetensors'));
    const a: AudioData = await loadAudio(join(dir, 'test_48k.wav'));
    for (const [variant, opts] of [
      [u8, { bitDepth: 8, conversion: 'lmic' }],
      [i16, { bitDepth: 16, conversion: 'exact' }],
    ] as const) {
      const stream = audioToBytes(a, opts);
      assert.equal(stream.length, variant.stream_num_bytes);
      assert.equal(sha(stream), variant.stream_sha256);
      const chunks = audioToChunks(a, opts);
      assert.equal(chunks.length, variant.num_chunks);
      assert.equal(stream.length - chunks.length * 2048, variant.dropped_tail_bytes);
      const h = createHash('sha256');
      for (const c of chunks) h.update(c);
      assert.equal(h.digest('hex'), variant.chunks_concat_sha256);
      assert.equal(sha(chunks[0]!), variant.first_chunk_sha256);
      assert.equal(sha(chunks.at(-1)!), variant.last_chunk_sha256);
    }
    assert.equal(mismatches(audioToBytes(a, { conversion: 'lmic' }), x.get('blocked_u8') as Uint8Array), 0);
    const summary = JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8')) as Summary;
    assert.equal(sha(convertToTargetBitDepth(a, 8, 'lmic')), summary.stereo_blocking.interleaved_u8_sha256, 'interleaved before blocking');
    const b16 = audioToBytes(a, { bitDepth: 16 });
    const v16 = new Int16Array(b16.buffer, b16.byteOffset, b16.length / 2);
    const first = x.get('blocked_i16_first_8_blocks') as Int16Array;
    const last = x.get('blocked_i16_last_4_blocks') as Int16Array;
    assert.equal(mismatches(v16.subarray(0, first.length), first), 0);
    assert.equal(mismatches(v16.subarray(v16.length - last.length), last), 0);
  });

  test('the streaming iterator gives the same chunks with small windows', async (t) => {
    const dir = sharedPath(t, ...FX);
    if (!dir) return;
    const { u8 } = findVariants(JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8')));
    const h = createHash('sha256');
    let n = 0;
    for await (const c of customAudioIterator([join(dir, 'test_48k.wav')], { conversion: 'lmic', windowFrames: 3000 })) {
      h.update(c);
      n++;
    }
    assert.equal(n, u8.num_chunks);
    assert.equal(h.digest('hex'), u8.chunks_concat_sha256);
  });
});

test('16-bit tokens are offset binary, and chunks convert back', () => {
  const s = Int16Array.from([-32768, -1, 0, 1, 32767]);
  const tok = int16ToTokens(s);
  assert.deepEqual(Array.from(tok), [0, 32767, 32768, 32769, 65535]);
  assert.deepEqual(Array.from(tokensToInt16(tok)), Array.from(s));
  assert.deepEqual(Array.from(chunkToTokens16(new Uint8Array(s.buffer))), Array.from(tok));
});
