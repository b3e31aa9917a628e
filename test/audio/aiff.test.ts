import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { loadAudio, readAudioInfo, ULAW_TABLE } from '../../src/audio/index.js';
import { FormatError, UnsupportedError } from '../../src/util/errors.js';
import { sharedPath } from '../helpers/shared.js';

const dir = mkdtempSync(join(tmpdir(), 'wavelm-aiff-test-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** 80-bit extended for integer rates. */
function ext80(rate: number): number[] {
  const e = Math.floor(Math.log2(rate));
  const mant = BigInt(rate) << BigInt(63 - e);
  const out = [((16383 + e) >> 8) & 0x7f, (16383 + e) & 0xff];
  for (let i = 7; i >= 0; i--) out.push(Number((mant >> BigInt(8 * i)) & 0xffn));
  return out;
}

function aiff(opts: {
  channels: number;
  frames: number;
  bits: number;
  rate: number;
  data: number[];
  compression?: string;
  declaredFrames?: number;
}): Uint8Array {
  const be32 = (v: number) => [(v >>> 24) & 0xff, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff];
  const be16 = (v: number) => [(v >> 8) & 0xff, v & 0xff];
  const ascii = (s: string) => [...s].map((c) => c.charCodeAt(0));
  const comm = [...be16(opts.channels), ...be32(opts.declaredFrames ?? opts.frames), ...be16(opts.bits), ...ext80(opts.rate)];
  if (opts.compression) comm.push(...ascii(opts.compression), 0, 0);
  const ssnd = [...be32(0), ...be32(0), ...opts.data];
  const body = [
    ...ascii(opts.compression ? 'AIFC' : 'AIFF'),
    ...ascii('COMM'),
    ...be32(comm.length),
    ...comm,
    ...ascii('SSND'),
    ...be32(ssnd.length),
    ...ssnd,
  ];
  if (ssnd.length & 1) body.push(0);
  return new Uint8Array([...ascii('FORM'), ...be32(body.length), ...body]);
}

async function load(name: string, bytes: Uint8Array, opts = {}) {
  const p = join(dir, name);
  writeFileSync(p, bytes);
  return loadAudio(p, opts);
}

test('AIFF 16-bit big-endian, 8-bit signed, 24-bit, AIFF-C sowt, fl32 and ulaw', async () => {
  const a = await load(
    's16.aif',
    aiff({ channels: 2, frames: 2, bits: 16, rate: 44100, data: [0x01, 0x02, 0xff, 0xfe, 0x80, 0x00, 0x7f, 0xff] }),
  );
  assert.deepEqual([a.sampleType, a.sampleRate, a.channels, a.frames], ['int16', 44100, 2, 2]);
  assert.deepEqual(Array.from(a.samples), [0x0102, -2, -32768, 32767]);
  const b = await load('s8.aif', aiff({ channels: 1, frames: 3, bits: 8, rate: 8000, data: [0x00, 0x7f, 0x80] }));
  assert.deepEqual([b.sampleType, ...Array.from(b.samples)], ['uint8', 128, 255, 0]);
  const c = await load('s24.aif', aiff({ channels: 1, frames: 2, bits: 24, rate: 48000, data: [0x12, 0x34, 0x56, 0xff, 0xff, 0xff] }));
  assert.deepEqual([c.sampleType, c.bitsPerSample, ...Array.from(c.samples)], ['int32', 24, 0x12345600, -256]);
  const d = await load(
    'sowt.aifc',
    aiff({ channels: 1, frames: 2, bits: 16, rate: 22050, data: [0x02, 0x01, 0xfe, 0xff], compression: 'sowt' }),
  );
  assert.deepEqual(Array.from(d.samples), [0x0102, -2]);
  const f = new Uint8Array(new Float32Array([0.5, -0.25]).buffer).reverse();
  const e = await load('f32.aifc', aiff({ channels: 1, frames: 2, bits: 32, rate: 16000, data: [...f], compression: 'fl32' }));
  assert.deepEqual([e.sampleType, ...Array.from(e.samples)], ['float32', -0.25, 0.5]);
  const u = await load('ulaw.aifc', aiff({ channels: 1, frames: 2, bits: 8, rate: 8000, data: [0x00, 0xff], compression: 'ulaw' }));
  assert.deepEqual(Array.from(u.samples), [ULAW_TABLE[0], ULAW_TABLE[0xff]]);
  assert.equal((await readAudioInfo(join(dir, 'sowt.aifc'))).container, 'aifc');
});

test('AIFF errors: truncated data, unknown compression, frame ranges', async () => {
  const data = Array.from({ length: 20 }, (_, i) => i);
  const p = aiff({ channels: 1, frames: 10, bits: 16, rate: 8000, data, declaredFrames: 50 });
  await assert.rejects(load('trunc.aif', p), (e: unknown) => e instanceof FormatError && /declares 50 frames but only 10/.test(e.message));
  assert.equal((await load('trunc2.aif', p, { allowTruncated: true })).frames, 10);
  await assert.rejects(
    load('ima.aifc', aiff({ channels: 1, frames: 2, bits: 16, rate: 8000, data: [0, 0, 0, 0], compression: 'ima4' })),
    (e: unknown) => e instanceof UnsupportedError && /ima4/.test(e.message),
  );
  const r = await load('range.aif', aiff({ channels: 1, frames: 10, bits: 16, rate: 8000, data }), { startFrame: 3, endFrame: 5 });
  assert.deepEqual(Array.from(r.samples), [0x0607, 0x0809]);
});

test('go-audio bloop.aif reads the same frames through a frame range', async (t) => {
  const p = sharedPath(t, 'data', 'odd', 'go-audio-wav', 'fixtures', 'bloop.aif');
  if (!p) return;
  const a = await loadAudio(p);
  assert.deepEqual([a.sampleType, a.channels, a.sampleRate], ['int16', 2, 44100]);
  assert.deepEqual(Array.from(a.samples.subarray(0, 4)), [-22, -22, -110, -110]);
  const part = await loadAudio(p, { startFrame: 100, endFrame: 103 });
  assert.deepEqual(Array.from(part.samples), Array.from(a.samples.subarray(200, 206)));
});
