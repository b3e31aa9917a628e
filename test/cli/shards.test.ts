/**
 * --num-shards N --shard-index I: every shard runs as its own process (as a Slurm array task or a
 * Kubernetes Indexed Job would), and the shards' outputs, put together, are one run's, byte for byte.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { encodeWav, type AudioData } from '../../src/audio/index.js';
import { projectRoot, sharedPath } from '../helpers/shared.js';
import { runCli } from './run.js';

const dir = mkdtempSync(join(tmpdir(), 'wavelm-cli-shards-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function noise(frames: number, channels: number, seed: number, sampleRate: number): AudioData {
  const s = new Int16Array(frames * channels);
  let x = seed;
  // Smoothed noise, so that the compressors find something to compress.
  let y = 0;
  for (let i = 0; i < s.length; i++) {
    x = (Math.imul(x, 1103515245) + 12345) | 0;
    y = (y * 3 + (x >> 18)) >> 2;
    s[i] = y;
  }
  return { sampleRate, channels, frames, sampleType: 'int16', bitsPerSample: 16, samples: s };
}

/** Five WAV files of different lengths, channel counts and rates (the first file's rate is the one eval reports). */
const wavs = join(dir, 'wavs');
mkdirSync(join(wavs, 'sub'), { recursive: true });
[
  ['a.wav', noise(9000, 2, 1, 8000)],
  ['b.wav', noise(5000, 1, 2, 16000)],
  ['c.wav', noise(7000, 1, 3, 8000)],
  ['sub/d.wav', noise(3000, 2, 4, 22050)],
  ['sub/e.wav', noise(12000, 1, 5, 8000)],
].forEach(([name, a]) => {
  writeFileSync(join(wavs, name as string), encodeWav(a as AudioData));
});

/** Four small FLAC files of the embedded samples (CC0). */
const flacs = join(dir, 'flacs');
mkdirSync(flacs);
for (const f of ['bd_haus', 'elec_blip', 'perc_snap', 'drum_cymbal_closed'])
  copyFileSync(join(projectRoot, 'node_modules', 'supersonic-scsynth-samples', 'samples', `${f}.flac`), join(flacs, `${f}.flac`));

/** Runs `args(i)` for shards 0..n-1 as separate processes at once; all must succeed. */
async function shards(n: number, args: (i: number) => string[]): Promise<string[]> {
  const rs = await Promise.all(
    Array.from({ length: n }, (_, i) => runCli([...args(i), '--num-shards', String(n), '--shard-index', String(i)])),
  );
  rs.forEach((r, i) => {
    assert.equal(r.code, 0, `shard ${i}: ${r.stderr}`);
  });
  return rs.map((r) => r.stdout);
}

/** Every file under `root`, by relative path, with its bytes. */
function tree(root: string): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  for (const e of readdirSync(root, { recursive: true, withFileTypes: true })) {
    if (e.isFile()) out.set(join(e.parentPath, e.name).slice(root.length), readFileSync(join(e.parentPath, e.name)));
  }
  return out;
}

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

test('chunks: the shard outputs concatenated in shard order are the single run, byte for byte; an empty shard is no failure', async () => {
  const tokens = ['--bit-depth', '16', '--blocking-size', '256', '--chunk-size', '1024', '--tail', 'pad'];
  const one = join(dir, 'chunks-one.bin');
  const r = await runCli(['chunks', wavs, ...tokens, '-o', one]);
  assert.equal(r.code, 0, r.stderr);
  const outs = await shards(3, (i) => ['--json', 'chunks', wavs, ...tokens, '-o', join(dir, `chunks-${i}.bin`)]);
  const parts = [0, 1, 2].map((i) => readFileSync(join(dir, `chunks-${i}.bin`)));
  assert.deepEqual(Buffer.concat(parts), readFileSync(one));
  const json = outs.map((o) => JSON.parse(o) as { sha256: string; shard: { count: number; index: number; files: number } });
  json.forEach((j, i) => {
    assert.equal(j.sha256, sha(parts[i]!), `shard ${i}'s sha256 is its file's`);
    assert.deepEqual(j.shard, { count: 3, index: i, files: [1, 2, 2][i] });
  });
  // Six shards over five files: shard 0 holds none and writes an empty file.
  const empty = await runCli([
    '--json',
    'chunks',
    wavs,
    ...tokens,
    '-o',
    join(dir, 'chunks-empty.bin'),
    '--num-shards',
    '6',
    '--shard-index',
    '0',
  ]);
  assert.equal(empty.code, 0, empty.stderr);
  assert.equal(readFileSync(join(dir, 'chunks-empty.bin')).length, 0);
});

test('the shard flags: an index outside 0..N-1, one flag alone, or --num-chunks with shards is a usage error (exit 2)', async () => {
  const outside = await runCli(['chunks', wavs, '--num-shards', '3', '--shard-index', '3']);
  assert.equal(outside.code, 2);
  assert.match(outside.stderr, /^wavelm: --shard-index 3 is outside 0\.\.2 \(--num-shards 3\): give an index below the number of shards$/m);
  const alone = await runCli(['compress', wavs, '--out-dir', join(dir, 'never'), '--num-shards', '3']);
  assert.equal(alone.code, 2);
  assert.match(alone.stderr, /--num-shards and --shard-index go together/);
  const limit = await runCli(['chunks', wavs, '--num-chunks', '5', '--num-shards', '2', '--shard-index', '0']);
  assert.equal(limit.code, 2);
  assert.match(limit.stderr, /--num-chunks 5 counts over all files/);
});

test('compress and decompress: each shard writes its own files; together they are the single run', async () => {
  const r = await runCli(['compress', flacs, '--out-dir', join(dir, 'wlm-one'), '--level', 'fast', '--workers', '1']);
  assert.equal(r.code, 0, r.stderr);
  await shards(3, () => ['compress', flacs, '--out-dir', join(dir, 'wlm-sh'), '--level', 'fast', '--workers', '1']);
  const one = tree(join(dir, 'wlm-one'));
  assert.equal(one.size, 4);
  assert.deepEqual(tree(join(dir, 'wlm-sh')), one);
  const d = await runCli(['decompress', join(dir, 'wlm-one'), '--out-dir', join(dir, 'restored-one'), '--workers', '1']);
  assert.equal(d.code, 0, d.stderr);
  await shards(3, () => ['decompress', join(dir, 'wlm-sh'), '--out-dir', join(dir, 'restored-sh'), '--workers', '1']);
  const restored = tree(join(dir, 'restored-one'));
  assert.equal(restored.size, 4);
  assert.deepEqual(tree(join(dir, 'restored-sh')), restored);
});

interface RateRow {
  compressor: string;
  chunks?: number;
  rawBytes?: number;
  chunked?: { rate: number; compressedBytes: number };
  unchunked?: unknown;
  files?: number;
  originalBytes?: number;
  compressedBytes?: number;
  rate?: number;
}

/** The figures that do not depend on timing. */
function bytesOf(rows: RateRow[]): unknown[] {
  return rows.map((r) => [
    r.compressor,
    r.chunks,
    r.rawBytes,
    r.chunked?.compressedBytes,
    r.chunked?.rate,
    r.files,
    r.originalBytes,
    r.compressedBytes,
    r.rate,
  ]);
}

test("eval: --merge of shards' --json gives the single run's chunked rates (4 shards, 5 files, other rates than the first)", async () => {
  const args = [
    '--json',
    'eval',
    '--files',
    wavs,
    '-c',
    'gzip,flac',
    '--bit-depth',
    '16',
    '--channel-mode',
    'block',
    '--blocking-size',
    '256',
    '--chunk-size',
    '1024',
  ];
  const one = await runCli(args);
  assert.equal(one.code, 0, one.stderr);
  const outs = await shards(4, () => args);
  // Given out of order: the merge puts them in shard order.
  const files = outs.map((o, i) => {
    const p = join(dir, `eval-${i}.json`);
    writeFileSync(p, o);
    return p;
  });
  const m = await runCli(['--json', 'eval', '--merge', ...[...files].reverse()]);
  assert.equal(m.code, 0, m.stderr);
  const single = JSON.parse(one.stdout) as { chunks: number; files: number; results: RateRow[] };
  const merged = JSON.parse(m.stdout) as { chunks: number; files: number; shards: number; results: RateRow[] };
  assert.equal(merged.shards, 4);
  assert.equal(merged.files, single.files);
  assert.equal(merged.chunks, single.chunks);
  assert.deepEqual(bytesOf(merged.results), bytesOf(single.results));
  assert.ok(
    merged.results.every((r) => r.unchunked === undefined),
    'unchunked rates do not add up over shards',
  );
  // A missing shard, or a file that is no shard's JSON, is refused.
  const missing = await runCli(['eval', '--merge', ...files.slice(1)]);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /shard\(s\) 0 of 4 missing/);
  writeFileSync(join(dir, 'not.json'), '{"files": 3}');
  const bad = await runCli(['eval', '--merge', join(dir, 'not.json')]);
  assert.equal(bad.code, 4);
});

test("eval --lossless: --merge of two shards gives the single run's totals", async () => {
  const args = ['--json', 'eval', '--lossless', '--files', flacs, '-c', 'flac,gzip'];
  const one = await runCli(args);
  assert.equal(one.code, 0, one.stderr);
  const outs = await shards(2, () => args);
  const files = outs.map((o, i) => {
    const p = join(dir, `lossless-${i}.json`);
    writeFileSync(p, o);
    return p;
  });
  const m = await runCli(['--json', 'eval', '--merge', ...files]);
  assert.equal(m.code, 0, m.stderr);
  assert.deepEqual(
    bytesOf((JSON.parse(m.stdout) as { results: RateRow[] }).results),
    bytesOf((JSON.parse(one.stdout) as { results: RateRow[] }).results),
  );
});

test("codec encode: the shards write the single run's codes and sidecars", async (t) => {
  const model = sharedPath(t, 'fixtures', 'encodec', 'encodec_24khz_tiny');
  if (!model) return;
  const inputs = ['bd_haus', 'elec_blip', 'perc_snap'].map((f) => join(flacs, `${f}.flac`));
  const common = ['codec', 'encode', ...inputs, '-m', model, '-b', '3', '--no-cache', '--workers', '1'];
  const r = await runCli([...common, '-o', join(dir, 'codes-one')]);
  assert.equal(r.code, 0, r.stderr);
  await shards(2, () => [...common, '-o', join(dir, 'codes-sh')]);
  const one = tree(join(dir, 'codes-one'));
  assert.equal(one.size, 6);
  assert.deepEqual(tree(join(dir, 'codes-sh')), one);
});
