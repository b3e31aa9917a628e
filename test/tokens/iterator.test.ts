/** The streaming iterator, the dataset registry and file-level splits. */
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { encodeWav, loadAudio, type AudioData } from '../../src/audio/index.js';
import {
  assignSplits,
  audioToChunks,
  collectAudioFiles,
  customAudioIterator,
  datasetRegistry,
  emptyStats,
  getCustomAudioIterator,
  getDataset,
  getTestPaths,
  getTrainPaths,
  getValidPaths,
} from '../../src/tokens/index.js';
import { ConfigError, NotFoundError, WavelmError } from '../../src/util/errors.js';
import { sharedPath } from '../helpers/shared.js';

const dir = mkdtempSync(join(tmpdir(), 'wavelm-iter-test-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function tone(frames: number, channels: number, seed: number): AudioData {
  const s = new Int16Array(frames * channels);
  let x = seed;
  for (let i = 0; i < s.length; i++) {
    x = (Math.imul(x, 1103515245) + 12345) | 0;
    s[i] = x >> 16;
  }
  return { sampleRate: 16000, channels, frames, sampleType: 'int16', bitsPerSample: 16, samples: s };
}

async function collect(it: AsyncIterable<Uint8Array>): Promise<Uint8Array[]> {
  const out: Uint8Array[] = [];
  for await (const c of it) out.push(c);
  return out;
}

const audios: AudioData[] = [tone(5000, 1, 1), tone(3000, 2, 2), tone(700, 1, 3)];
before(() => {
  mkdirSync(join(dir, 'in', 'b'), { recursive: true });
  writeFileSync(join(dir, 'in', 'a.wav'), encodeWav(audios[0]!));
  writeFileSync(join(dir, 'in', 'b', 'c.wav'), encodeWav(audios[1]!));
  writeFileSync(join(dir, 'in', 'b', 'd.wav'), encodeWav(audios[2]!));
  writeFileSync(join(dir, 'in', 'notes.txt'), 'not audio');
  writeFileSync(join(dir, 'broken.wav'), 'RIFF....WAVEjunk');
});

describe('customAudioIterator', () => {
  test('folders are searched recursively in sorted order; chunks equal audioToChunks per file', async () => {
    const files = collectAudioFiles([join(dir, 'in')]);
    assert.deepEqual(
      files.map((f) => f.slice(dir.length)),
      ['/in/a.wav', '/in/b/c.wav', '/in/b/d.wav'],
    );
    const expected = audios.flatMap((a) => audioToChunks(a, { chunkSizeBytes: 512, blockingSize: 256 }).map((c) => Array.from(c)));
    const it = getCustomAudioIterator([join(dir, 'in')], { chunkSizeBytes: 512, blockingSize: 256, windowFrames: 512 });
    const got = await collect(it);
    assert.deepEqual(
      got.map((c) => Array.from(c)),
      expected,
    );
    assert.equal(it.stats.files, 3);
    assert.equal(it.stats.chunks, expected.length);
    assert.equal(it.stats.frames, 8700);
  });

  test('stops at numChunks, and warns when fewer were produced', async () => {
    const stats = emptyStats();
    const got = await collect(customAudioIterator([join(dir, 'in')], { numChunks: 3, chunkSizeBytes: 512 }, stats));
    assert.equal(got.length, 3);
    // The only warning: the folder walk passed over notes.txt.
    assert.deepEqual(stats.warnings, [`${join(dir, 'in')}: skipped 1 file(s): 1 that are not audio by their extension: 1 .txt`]);
    const warnings: string[] = [];
    const s2 = emptyStats();
    const all = await collect(
      customAudioIterator([join(dir, 'in')], { numChunks: 1000, chunkSizeBytes: 512, onWarning: (m) => warnings.push(m) }, s2),
    );
    assert.ok(all.length < 1000);
    assert.equal(warnings.length, 2);
    assert.match(warnings[1]!, new RegExp(`only ${all.length} of the 1000 requested chunks`));
  });

  test('unreadable files are skipped with a warning and a count, or raise in strict mode', async () => {
    const inputs = [join(dir, 'broken.wav'), join(dir, 'in', 'a.wav')];
    const stats = emptyStats();
    const got = await collect(customAudioIterator(inputs, { chunkSizeBytes: 512 }, stats));
    assert.equal(got.length, audioToChunks(audios[0]!, { chunkSizeBytes: 512 }).length);
    assert.equal(stats.skipped, 1);
    assert.equal(stats.files, 1);
    assert.match(stats.warnings.join('\n'), /skipped .*broken\.wav/);
    await assert.rejects(
      collect(customAudioIterator(inputs, { strict: true })),
      (e: unknown) => e instanceof WavelmError && /broken\.wav/.test(e.message),
    );
    await assert.rejects(collect(customAudioIterator([join(dir, 'missing')])), NotFoundError);
  });

  test('a 16 MB file streams through a small window with the same chunks as a whole read', async () => {
    const big = tone(4_000_000, 2, 4);
    const p = join(dir, 'big.wav');
    writeFileSync(p, encodeWav(big));
    const whole = audioToChunks(big, { bitDepth: 16 });
    let n = 0;
    let same = true;
    for await (const c of customAudioIterator([p], { bitDepth: 16, windowFrames: 65536 })) {
      if (!Buffer.from(c.buffer, c.byteOffset, c.length).equals(Buffer.from(whole[n]!.buffer, whole[n]!.byteOffset, whole[n]!.length)))
        same = false;
      n++;
    }
    assert.equal(n, whole.length);
    assert.ok(same);
    rmSync(p);
  });
});

describe('registry', () => {
  test('custom_audio, random and librispeech are registered', () => {
    assert.deepEqual([...datasetRegistry.keys()].sort(), ['custom_audio', 'librispeech', 'random']);
    assert.throws(
      () => getDataset('nope'),
      (e: unknown) => e instanceof ConfigError && /custom_audio/.test(e.message),
    );
  });

  test('random is deterministic per seed and roughly uniform', async () => {
    const a = await collect(getDataset('random', { numChunks: 4, seed: 7 }));
    const b = await collect(getDataset('random', { numChunks: 4, seed: 7 }));
    const c = await collect(getDataset('random', { numChunks: 4, seed: 8 }));
    assert.equal(a.length, 4);
    assert.ok(a.every((x) => x.length === 2048));
    assert.deepEqual(a, b);
    assert.notDeepEqual(a, c);
    const counts = new Array(256).fill(0);
    for (const x of a) for (const v of x) counts[v]++;
    assert.ok(Math.max(...counts) < 80 && Math.min(...counts) > 10);
  });

  test('librispeech reads a local folder with LMIC settings and never downloads', async (t) => {
    await assert.rejects(
      async () => collect(getDataset('librispeech', { root: join(dir, 'no-librispeech') })),
      (e: unknown) => e instanceof NotFoundError && /openslr/.test(e.message),
    );
    const flac = sharedPath(t, 'data', 'encoded', '0_jackson_0.flac');
    if (!flac) return;
    const root = join(dir, 'LibriSpeech', 'dev-clean', '84', '121123');
    mkdirSync(root, { recursive: true });
    copyFileSync(flac, join(root, '84-121123-0000.flac'));
    const got = await collect(getDataset('librispeech', { root: join(dir, 'LibriSpeech'), subset: 'dev-clean' }));
    const expected = audioToChunks(await loadAudio(flac), { conversion: 'lmic' });
    assert.equal(got.length, expected.length);
    assert.deepEqual(got, expected);
    const viaCustom = await collect(getDataset('custom_audio', { paths: [flac], conversion: 'lmic' }));
    assert.deepEqual(viaCustom, expected);
  });
});

describe('splits', () => {
  const root = join(dir, 'corpus');
  before(() => {
    for (let spk = 0; spk < 20; spk++) {
      mkdirSync(join(root, `spk${spk}`), { recursive: true });
      for (let u = 0; u < 10; u++) writeFileSync(join(root, `spk${spk}`, `u${u}.wav`), encodeWav(tone(10, 1, u)));
    }
  });

  test('deterministic, complete, disjoint, roughly the requested fractions', () => {
    const opts = { seed: 3, valid: 0.2, test: 0.1 };
    const tr = getTrainPaths(root, opts);
    const va = getValidPaths(root, opts);
    const te = getTestPaths(root, opts);
    assert.equal(tr.length + va.length + te.length, 200);
    assert.equal(new Set([...tr, ...va, ...te]).size, 200);
    assert.ok(va.length > 20 && va.length < 65, `valid ${va.length}`);
    assert.ok(te.length > 5 && te.length < 40, `test ${te.length}`);
    assert.deepEqual(getTrainPaths(root, opts), tr);
    assert.notDeepEqual(getTrainPaths(root, { ...opts, seed: 4 }), tr);
  });

  test('adding files never moves existing ones', () => {
    const before = new Map(assignSplits(root, { seed: 1 }).map((e) => [e.relative, e.split]));
    mkdirSync(join(root, 'new'), { recursive: true });
    for (let u = 0; u < 30; u++) writeFileSync(join(root, 'new', `n${u}.wav`), encodeWav(tone(10, 1, u)));
    const afterAdd = assignSplits(root, { seed: 1 });
    assert.equal(afterAdd.length, 230);
    for (const e of afterAdd) if (before.has(e.relative)) assert.equal(e.split, before.get(e.relative), e.relative);
    rmSync(join(root, 'new'), { recursive: true });
  });

  test('groupBy parent or a regex keeps each group in one split', () => {
    for (const groupBy of ['parent', /^(spk\d+)\//, '^(spk\\d+)/'] as const) {
      const entries = assignSplits(root, { seed: 5, valid: 0.3, test: 0.3, groupBy });
      const byGroup = new Map<string, Set<string>>();
      for (const e of entries) byGroup.set(e.group, (byGroup.get(e.group) ?? new Set()).add(e.split));
      assert.equal(byGroup.size, 20, String(groupBy));
      for (const [g, s] of byGroup) assert.equal(s.size, 1, `${String(groupBy)}: group ${g}`);
      assert.ok(new Set(entries.map((e) => e.split)).size >= 2);
    }
  });

  test('invalid fractions and patterns are config errors', () => {
    assert.throws(() => assignSplits(root, { valid: 0.7, test: 0.5 }), ConfigError);
    assert.throws(() => assignSplits(root, { valid: -0.1 }), ConfigError);
    assert.throws(() => assignSplits(root, { groupBy: '([' }), ConfigError);
    assert.throws(() => assignSplits(join(dir, 'nowhere')), NotFoundError);
  });
});

test('progress: one tick per file, skipped files included, out of the file count', async () => {
  const inputs = [join(dir, 'in'), join(dir, 'broken.wav')];
  let total = -1;
  let ticked = 0;
  let stopped = false;
  const progress = { start: (t: number) => (total = t), tick: (n: number) => (ticked += n), stop: () => (stopped = true) };
  const got = await collect(customAudioIterator(inputs, { progress, windowFrames: 1024 }));
  assert.ok(got.length > 0);
  const expected = collectAudioFiles(inputs).length;
  assert.ok(expected > 1);
  assert.equal(total, expected);
  assert.equal(ticked, expected);
  assert.ok(stopped);
});

test('compressed files stream through the iterator with the chunks of a whole-file decode', async (t) => {
  const enc = sharedPath(t, 'data', 'encoded');
  if (!enc) return;
  const files = collectAudioFiles([enc]);
  assert.ok(files.length >= 6);
  for (const opts of [{ bitDepth: 16 as const }, { conversion: 'seed-float' as const, blockingSize: 700 }]) {
    const expected: Uint8Array[] = [];
    for (const f of files) expected.push(...audioToChunks(await loadAudio(f), opts));
    const got = await collect(customAudioIterator([enc], { ...opts, pieceBytes: 50_000, windowFrames: 4096 }));
    assert.equal(got.length, expected.length);
    assert.ok(
      got.every((c, i) => Buffer.from(c).equals(Buffer.from(expected[i]!))),
      JSON.stringify(opts),
    );
  }
});

test('split manifests resolve the same files for training and evaluation', async () => {
  const { mkdtempSync, mkdirSync, writeFileSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join, relative } = await import('node:path');
  const { readSplitManifest } = await import('../../src/tokens/index.js');
  const { manifestPaths } = await import('../../src/compress/data.js');
  const d = mkdtempSync(join(tmpdir(), 'wavelm-manifest-'));
  try {
    mkdirSync(join(d, 'runs'));
    writeFileSync(join(d, 'a.wav'), 'x');
    writeFileSync(join(d, 'b.wav'), 'x');
    // Paths relative to the working directory (as `wavelm split DIR` writes them), manifest in another folder.
    const rel = (p: string) => relative(process.cwd(), p);
    writeFileSync(
      join(d, 'runs', 'm.jsonl'),
      [
        JSON.stringify({ path: rel(join(d, 'a.wav')), split: 'train' }),
        JSON.stringify({ path: rel(join(d, 'b.wav')), split: 'test' }),
      ].join('\n'),
    );
    const m = readSplitManifest(join(d, 'runs', 'm.jsonl'));
    assert.deepEqual(m, { train: [join(d, 'a.wav')], valid: [], test: [join(d, 'b.wav')] });
    assert.deepEqual(manifestPaths(join(d, 'runs', 'm.jsonl'), 'test'), [join(d, 'b.wav')]);
    assert.throws(() => manifestPaths(join(d, 'runs', 'm.jsonl'), 'valid'), /no files in split 'valid'/);
  } finally {
    rmSync(d, { recursive: true, force: true });
  }
});
