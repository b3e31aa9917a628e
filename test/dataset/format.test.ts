import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createField } from '../../src/dataset/fields/index.js';
import { FOOTER_BYTES, HEADER_BYTES } from '../../src/dataset/format.js';
import { DatasetReader } from '../../src/dataset/reader.js';
import { verifyDataset } from '../../src/dataset/verify.js';
import { DatasetWriter } from '../../src/dataset/writer.js';
import { WavelmError } from '../../src/util/errors.js';
import { smallDataset, synth, tmp } from './helpers.js';
import { decodedArray } from '../helpers/decoded.js';

/** Opens and fully reads a file with checksums; returns 'error' for a clear WavelmError, 'ok' otherwise; anything else throws. */
async function readAll(path: string): Promise<'error' | Record<string, unknown>[]> {
  let r: DatasetReader;
  try {
    r = DatasetReader.open(path);
  } catch (e) {
    if (e instanceof WavelmError) return 'error';
    throw e;
  }
  try {
    const out: Record<string, unknown>[] = [];
    for (let i = 0; i < r.numSamples; i++) out.push(await r.get(i));
    return out;
  } catch (e) {
    if (e instanceof WavelmError) return 'error';
    throw e;
  } finally {
    await r.close();
  }
}

test('every single-byte corruption is caught by the reader or by verify, never a crash or silent wrong data', async () => {
  const dir = tmp();
  const path = join(dir, 'small.wlds');
  await smallDataset(path, 3, [
    ['audio', 'waveform'],
    ['label', 'int'],
    ['text', 'string'],
    ['score', 'float'],
  ]);
  const good = readFileSync(path);
  const want = await readAll(path);
  assert.notEqual(want, 'error');
  const bad = join(dir, 'bad.wlds');
  let byReader = 0;
  let byVerify = 0;
  for (let pos = 0; pos < good.length; pos++) {
    for (const flip of [0x01, 0xff]) {
      const b = Buffer.from(good);
      b[pos] = b[pos]! ^ flip;
      writeFileSync(bad, b);
      const rep = (await verifyDataset([bad]))[0]!;
      assert.equal(rep.ok, false, `byte ${pos} ^ ${flip}: verify did not notice`);
      if (rep.error) byReader++;
      else {
        byVerify++;
        assert.ok(
          rep.damaged.length > 0 && rep.damaged.every((d) => d.sample >= 0 && d.sample < 3),
          `byte ${pos}: damaged samples reported by index`,
        );
        // The checked reader refuses the damaged sample rather than returning wrong data.
        assert.equal(await readAll(bad), 'error', `byte ${pos} ^ ${flip}: reader returned data`);
      }
    }
  }
  assert.ok(byReader > 0 && byVerify > 0, `${byReader} structural, ${byVerify} blob corruptions`);
  assert.ok(good.length > HEADER_BYTES + FOOTER_BYTES + 3000);
});

test('truncated files are rejected with a clear error at every length', async () => {
  const dir = tmp();
  const path = join(dir, 'small.wlds');
  await smallDataset(path, 2);
  const good = readFileSync(path);
  const cut = join(dir, 'cut.wlds');
  for (let n = 0; n < good.length; n += n < 200 ? 1 : 37) {
    writeFileSync(cut, good.subarray(0, n));
    assert.throws(
      () => DatasetReader.open(cut),
      (e: unknown) => e instanceof WavelmError && e.code === 'EFORMAT',
      `length ${n}`,
    );
  }
  writeFileSync(cut, good.subarray(0, good.length - 1));
  assert.throws(() => DatasetReader.open(cut), /commit marker|truncated/);
  // Bytes appended after the footer are not silently ignored either.
  writeFileSync(cut, Buffer.concat([good, Buffer.from([0])]));
  assert.throws(() => DatasetReader.open(cut), WavelmError);
});

test('a writer that died before close leaves a file readers reject by name', async () => {
  const path = join(tmp(), 'died.wlds');
  const f = createField('audio', 'waveform');
  const w = new DatasetWriter(path, [f], { sync: false });
  w.add([f.encode({ key: 'a', audio: synth(500), values: {} }) as Awaited<ReturnType<typeof f.encode>>]);
  w.abort(true); // as if the process had died: the file stays, without its commit marker
  assert.throws(() => DatasetReader.open(path), /writer did not finish|too short/);
  const rep = await verifyDataset([path]);
  assert.equal(rep[0]!.ok, false);
});

test('reader gives O(1) access, blob references and typed errors for bad indices and fields', async () => {
  const path = join(tmp(), 'a.wlds');
  await smallDataset(path, 5);
  const r = DatasetReader.open(path);
  assert.equal(r.numSamples, 5);
  assert.deepEqual(r.meta(4, 0), [300 + 97 * 4, 1, 8000]);
  assert.equal(r.blob(4, 0).length, (300 + 97 * 4) * 2);
  const s = await r.get(2, ['text', 'label']);
  assert.deepEqual(Object.keys(s), ['text', 'label']);
  assert.deepEqual(s.text, { kind: 'value', value: 'sample 2' });
  await assert.rejects(r.get(5), (e: unknown) => e instanceof WavelmError && e.code === 'ENOENT');
  assert.throws(() => r.fieldIndex('nope'), /no field 'nope'/);
  assert.equal(r.duration(1), 397 / 8000);
  await r.close();
  assert.throws(
    () => DatasetReader.open(join(tmp(), 'missing.wlds')),
    (e: unknown) => e instanceof WavelmError && e.code === 'ENOENT',
  );
});

test('a sample larger than any page size (and an empty one) round-trips', async () => {
  const path = join(tmp(), 'big.wlds');
  const f = createField('audio', 'waveform', { dtype: 'float32' });
  const w = new DatasetWriter(path, [f], { sync: false });
  const big = synth(300_000, 16000, 2);
  w.add([await f.encode({ key: 'big', audio: big, values: {} })]);
  w.add([await f.encode({ key: 'empty', audio: synth(0), values: {} })]);
  w.close();
  const r = DatasetReader.open(path);
  assert.equal(r.blob(0, 0).length, 300_000 * 2 * 4);
  const d = await r.get(0);
  assert.equal(decodedArray(d, 'audio').data[12345], big.samples[12345 * 2]! / 32768);
  const e = await r.get(1);
  assert.deepEqual(decodedArray(e, 'audio').shape, [1, 0]);
  await r.close();
});

test('getWindow returns a time window of waveform, flac and mel fields', async () => {
  const path = join(tmp(), 'w.wlds');
  const fields = [
    createField('w', 'waveform'),
    createField('f', 'flac', { dtype: 'int16' }),
    createField('m', 'mel', { sample_rate: '8000', n_fft: '256', hop_length: '80', n_mels: '16' }),
  ];
  const w = new DatasetWriter(path, fields, { sync: false });
  const a = synth(4000, 8000, 2);
  const input = { key: 'a', audio: a, values: {} };
  w.add(await Promise.all(fields.map((f) => f.encode(input))));
  w.close();
  const r = DatasetReader.open(path);
  for (const name of ['w', 'f']) {
    const v = await r.getWindow(0, name, 1000, 300);
    assert.ok(v.kind === 'array');
    assert.deepEqual(v.shape, [2, 300]);
    for (let i = 0; i < 300; i += 17) {
      assert.equal(v.data[i], a.samples[(1000 + i) * 2]);
      assert.equal(v.data[300 + i], a.samples[(1000 + i) * 2 + 1]);
    }
  }
  const tail = await r.getWindow(0, 'w', 3900, 500);
  assert.ok(tail.kind === 'array' && tail.shape[1] === 100, 'a window past the end is cut at the end');
  const full = await r.get(0, ['m']);
  const mw = await r.getWindow(0, 'm', 10, 5);
  const fullM = decodedArray(full, 'm');
  assert.ok(mw.kind === 'array');
  const F = fullM.shape[1]!;
  for (let m = 0; m < 16; m++) for (let t = 0; t < 5; t++) assert.equal(mw.data[m * 5 + t], fullM.data[m * F + 10 + t]);
  await assert.rejects(r.getWindow(0, 'w', -1, 5), /not a valid range/);
  await r.close();
});
