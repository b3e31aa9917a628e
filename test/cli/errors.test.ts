/**
 * Exit codes and error lines as README.md promises them: 2 bad option, 3 missing file, 4 malformed input,
 * 5 checksum or model mismatch; one line on stderr, no help text, no stack trace.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { encodeWav } from '../../src/audio/index.js';
import { runCli, type CliResult } from './run.js';

const dir = mkdtempSync(join(tmpdir(), 'wavelm-cli-errors-'));
after(() => rmSync(dir, { recursive: true, force: true }));

// Two short 8 kHz recordings named like FSDD's, so label fields have something to parse.
const wav = encodeWav({
  sampleRate: 8000,
  channels: 1,
  frames: 4000,
  sampleType: 'int16',
  bitsPerSample: 16,
  samples: Int16Array.from({ length: 4000 }, (_, i) => Math.round(8000 * Math.sin(i / 5))),
});
for (const name of ['0_ana_0.wav', '1_ana_0.wav']) writeFileSync(join(dir, name), wav);
const A = '0_ana_0.wav';
const B = '1_ana_0.wav';
// A WAV cut short (the header declares 4000 frames), and one of a dataset's two shards.
writeFileSync(join(dir, 'cut.wav'), wav.subarray(0, wav.length - 2000));
writeFileSync(join(dir, 'half-00000-of-00002.wlds'), '');
mkdirSync(join(dir, 'empty-model'));

// A run whose config.json is not JSON, and a model whose safetensors header is `null`.
mkdirSync(join(dir, 'broken-run'));
writeFileSync(join(dir, 'broken-run', 'config.json'), '{"sources": ');
const nullHeader = Buffer.from('null');
const nullModel = Buffer.alloc(8 + nullHeader.length);
nullModel.writeBigUInt64LE(BigInt(nullHeader.length), 0);
nullHeader.copy(nullModel, 8);
writeFileSync(join(dir, 'null.safetensors'), nullModel);
// Runs whose checkpoint records are `null`.
for (const [run, latest, state] of [
  ['null-latest', 'null', '{}'],
  ['null-state', '{"dir":"step-1"}', 'null'],
]) {
  mkdirSync(join(dir, run!, 'checkpoints', 'step-1'), { recursive: true });
  writeFileSync(join(dir, run!, 'config.json'), '{}');
  writeFileSync(join(dir, run!, 'checkpoints', 'latest.json'), latest!);
  writeFileSync(join(dir, run!, 'checkpoints', 'step-1', 'state.json'), state!);
}

interface Case {
  args: string[];
  code: number;
  /** What the one stderr line says. */
  says: RegExp;
}

const CASES: Case[] = [
  // bad options (2): commander's errors and every numeric option parser
  { args: ['chunks', A, '--bit-depth', '12'], code: 2, says: /'--bit-depth <bits>' argument '12' is invalid.*see 'wavelm chunks --help'/ },
  { args: ['train', '--steps', '-5'], code: 2, says: /'--steps <n>' argument '-5' is invalid\. It must be an integer >= 1/ },
  { args: ['train', '--bit-depth', '12'], code: 2, says: /'--bit-depth <n>' argument '12' is invalid\. It must be one of 8, 16/ },
  {
    args: ['train', '--valid-fraction', '1'],
    code: 2,
    says: /'--valid-fraction <f>' argument '1' is invalid\. It must be a number >= 0 and < 1/,
  },
  { args: ['chunks', A, '--no-such-option'], code: 2, says: /unknown option '--no-such-option'/ },
  { args: ['features', 'mel'], code: 2, says: /missing required argument 'input'.*'wavelm features mel --help'/ },
  { args: ['no-such-command'], code: 2, says: /unknown command 'no-such-command'/ },
  { args: ['features', 'mel', A, '-o', 'm.npy', '--n-fft', 'abc'], code: 2, says: /'--n-fft <n>' argument 'abc' is invalid/ },
  {
    args: ['compress', A, '-m', 'model', '--workers', '1.5'],
    code: 2,
    says: /'--workers <n>' argument '1\.5' is invalid\. It must be an integer >= 1/,
  },
  { args: ['decompress', 'x.wlm', '-m', 'model', '--workers', '-2'], code: 2, says: /'--workers <n>' argument '-2' is invalid/ },
  { args: ['demo', '--steps', '-5'], code: 2, says: /'--steps <n>' argument '-5' is invalid/ },
  {
    args: ['split', '.', '--valid', '2'],
    code: 2,
    says: /'--valid <fraction>' argument '2' is invalid\. It must be a number >= 0 and <= 1/,
  },
  { args: ['dataset', 'cat', 'x.wlds', '-1'], code: 2, says: /value '-1' is invalid for argument 'index'/ },
  // a ConfigError thrown inside a build worker keeps its type across the thread boundary
  {
    args: ['dataset', 'build', A, B, '-o', 'n.wlds', '--workers', '2', '--fields', 'waveform,n=int(from=stem)'],
    code: 2,
    says: /field 'n': sample [01]_ana_0\.wav has "[01]_ana_0", not a finite number/,
  },
  // the library names options (prefer, allowTruncated, ...); the CLI prints the command's flags, or another command's
  {
    args: ['dataset', 'plan', A, '--fields', 'waveform', '--prefer', 'fast'],
    code: 2,
    says: /^wavelm: --prefer must be speed or space, got 'fast'$/,
  },
  {
    args: ['dataset', 'build', 'cut.wav', '-o', 'cut.wlds', '--workers', '2', '--fields', 'waveform'],
    code: 4,
    says: /cut\.wav: truncated WAV data: .* \(pass --allow-truncated to keep them\); or --skip-unreadable leaves unreadable files out/,
  },
  {
    args: ['dataset', 'info', 'half.wlds'],
    code: 3,
    says: /^wavelm: half\.wlds: 1 of 2 shards are present; build the missing ones \(--shard-index\) first$/,
  },
  {
    args: ['codec', 'encode', A, '-m', 'empty-model', '-o', 'x.npy'],
    code: 3,
    says: /^wavelm: empty-model\/config\.json: cannot read the EnCodec config \(give --model the folder holding config\.json and/,
  },
  // outputs in a missing folder (3), found before any work is done
  { args: ['dataset', 'build', A, '-o', 'nodir/x.wlds'], code: 3, says: /-o nodir\/x\.wlds: the folder nodir does not exist/ },
  { args: ['features', 'mel', A, '-o', 'nodir/m.npy'], code: 3, says: /-o nodir\/m\.npy: the folder nodir does not exist/ },
  {
    args: ['features', 'resample', A, '--sr', '16000', '-o', 'nodir/r.wav'],
    code: 3,
    says: /-o nodir\/r\.wav: the folder nodir does not exist/,
  },
  { args: ['eval', '--files', A, '--csv', 'nodir/r.csv'], code: 3, says: /--csv nodir\/r\.csv: the folder nodir does not exist/ },
  {
    args: ['train', '--files', A, '--out', 'run', '--wandb-project', 'p', '--wandb-config', '@missing.json'],
    code: 3,
    says: /--wandb-config @missing\.json: cannot read missing\.json \(ENOENT\)/,
  },
  // malformed inputs (4)
  { args: ['train', '--out', 'broken-run', '--resume'], code: 4, says: /broken-run\/config\.json: not valid JSON/ },
  { args: ['compress', A, '-m', 'null.safetensors', '-o', 'a.wlm'], code: 4, says: /null\.safetensors: header is null/ },
  { args: ['train', '--out', 'null-latest', '--resume', '--files', A], code: 4, says: /latest\.json: no checkpoint directory named/ },
  { args: ['train', '--out', 'null-state', '--resume', '--files', A], code: 4, says: /state\.json: not a wavelm checkpoint/ },
];

function assertOneLine(c: Case, r: CliResult): void {
  const label = `wavelm ${c.args.join(' ')}`;
  assert.equal(r.code, c.code, `${label}: exit ${r.code}, stderr:\n${r.stderr}`);
  const lines = r.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, `${label}: expected one stderr line, got:\n${r.stderr}`);
  assert.match(lines[0]!, /^wavelm: /, label);
  assert.doesNotMatch(lines[0]!, /internal error|Usage:/, label);
  assert.match(lines[0]!, c.says, label);
  assert.equal(r.stdout, '', `${label}: nothing on stdout`);
}

test('usage errors, missing files and malformed inputs: one line each and their exit code', async () => {
  // A few at a time: each is a process of its own.
  for (let i = 0; i < CASES.length; i += 4) {
    const batch = CASES.slice(i, i + 4);
    const results = await Promise.all(batch.map((c) => runCli(['--quiet', ...c.args], { cwd: dir })));
    batch.forEach((c, k) => {
      assertOneLine(c, results[k]!);
    });
  }
});

test('help and --version still exit 0, and a command without its subcommand prints help with exit 2', async () => {
  const [version, help, sub] = await Promise.all([runCli(['--version']), runCli(['features', 'mel', '--help']), runCli(['features'])]);
  assert.equal(version.code, 0);
  assert.match(version.stdout, /^\d+\.\d+\.\d+\n$/);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /Usage: wavelm features mel/);
  assert.match(help.stdout, /--n-fft <n>/);
  assert.equal(sub.code, 2);
  assert.match(sub.stderr, /Usage: wavelm features/);
});
