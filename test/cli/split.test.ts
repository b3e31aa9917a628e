import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { encodeWav } from '../../src/audio/index.js';
import { runCli } from './run.js';

const dir = mkdtempSync(join(tmpdir(), 'wavelm-cli-split-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('wavelm split: JSONL manifest, groups kept together, same seed same result', async () => {
  const wav = encodeWav({ sampleRate: 8000, channels: 1, frames: 10, sampleType: 'int16', bitsPerSample: 16, samples: new Int16Array(10) });
  for (let s = 0; s < 12; s++) {
    mkdirSync(join(dir, 'data', `speaker${s}`), { recursive: true });
    for (let u = 0; u < 5; u++) writeFileSync(join(dir, 'data', `speaker${s}`, `${u}.wav`), wav);
  }
  const m1 = join(dir, 'm1.jsonl');
  const r = await runCli([
    '--json',
    'split',
    join(dir, 'data'),
    '--valid',
    '0.25',
    '--test',
    '0.25',
    '--seed',
    '9',
    '--group-by',
    'parent',
    '-o',
    m1,
  ]);
  assert.equal(r.code, 0, r.stderr);
  const summary = JSON.parse(r.stdout) as { files: number; groups: number; train: number; valid: number; test: number };
  assert.equal(summary.files, 60);
  assert.equal(summary.groups, 12);
  assert.equal(summary.train + summary.valid + summary.test, 60);
  const lines = readFileSync(m1, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { relative: string; group: string; split: string });
  assert.equal(lines.length, 60);
  const byGroup = new Map<string, Set<string>>();
  for (const l of lines) byGroup.set(l.group, (byGroup.get(l.group) ?? new Set()).add(l.split));
  for (const s of byGroup.values()) assert.equal(s.size, 1);
  const m2 = join(dir, 'm2.jsonl');
  await runCli(['split', join(dir, 'data'), '--valid', '0.25', '--test', '0.25', '--seed', '9', '--group-by', 'parent', '-o', m2]);
  assert.equal(readFileSync(m2, 'utf8'), readFileSync(m1, 'utf8'));
  const bad = await runCli(['split', join(dir, 'data'), '--valid', '2']);
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /--valid/);
});

test('wavelm split: a split left empty is warned about; -o - writes the manifest to stdout', async () => {
  const { assignSplits } = await import('../../src/tokens/index.js');
  const wav = encodeWav({ sampleRate: 8000, channels: 1, frames: 10, sampleType: 'int16', bitsPerSample: 16, samples: new Int16Array(10) });
  const small = join(dir, 'small');
  mkdirSync(small, { recursive: true });
  for (let i = 0; i < 35; i++) writeFileSync(join(small, `${i}.wav`), wav);
  // A seed whose default 10%/10% assignment of 35 files gives the test split nothing.
  let seed = 0;
  while (assignSplits(small, { seed }).some((e) => e.split === 'test')) seed++;
  const warnings: string[] = [];
  assignSplits(small, { seed, onWarning: (m) => warnings.push(m) });
  assert.equal(warnings.length, 1);
  assert.match(warnings[0]!, /the test split is empty: 35 group\(s\) of 35 file\(s\) at test 0\.1 gave it none/);
  const r = await runCli(['split', small, '--seed', String(seed), '-o', '-']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /warning: .*the test split is empty/);
  assert.match(r.stderr, /35 files \(35 groups\): \d+ train, \d+ valid, 0 test/);
  const lines = r.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { split: string });
  assert.equal(lines.length, 35);
  assert.ok(!lines.some((l) => l.split === 'test'));
  assert.ok(!existsSync(join(process.cwd(), '-')), 'no file named -');
});
