/** `wavelm train` end to end: JSON output, resume, Ctrl-C checkpoint, errors, and W&B unreachable. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeWav } from '../../src/audio/index.js';
import { readCheckpoint } from '../../src/model/checkpoint.js';
import { projectRoot } from '../helpers/shared.js';
import { TINY_MODEL_FLAGS } from '../helpers/training.js';

const MAIN = join(projectRoot, 'src', 'cli', 'main.ts');

function tmp(t: { after: (fn: () => void) => void }): string {
  const d = mkdtempSync(join(tmpdir(), 'wavelm-train-cli-'));
  t.after(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

/** A 2-second 8 kHz 16-bit mono WAV: a chirp plus a little seeded noise. */
function writeWav(dir: string, name: string, seed: number): string {
  const frames = 16000;
  const s = new Int16Array(frames);
  let x = seed;
  for (let i = 0; i < frames; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    s[i] = Math.round(8000 * Math.sin((2 * Math.PI * (200 + i / 40) * i) / 8000) + ((x >>> 16) % 512) - 256);
  }
  const p = join(dir, name);
  writeFileSync(p, encodeWav({ sampleRate: 8000, channels: 1, frames, sampleType: 'int16', bitsPerSample: 16, samples: s }));
  return p;
}

function cli(args: string[], env: NodeJS.ProcessEnv = process.env) {
  return spawnSync(process.execPath, ['--import', 'tsx', MAIN, ...args], { cwd: projectRoot, encoding: 'utf8', env });
}

test('wavelm train --json, then --resume continues the run with its own settings', (t) => {
  const d = tmp(t);
  const wavs = [writeWav(d, 'a.wav', 1), writeWav(d, 'b.wav', 2)];
  const out = join(d, 'run');
  const r1 = cli([
    '--json',
    'train',
    '--files',
    ...wavs,
    '--valid',
    wavs[1]!,
    '--steps',
    '4',
    '--eval-every',
    '2',
    '--lr',
    '0.002',
    '--normalize-by-length',
    '--positional',
    'rotary',
    '--out',
    out,
    ...TINY_MODEL_FLAGS,
  ]);
  assert.equal(r1.status, 0, r1.stderr);
  const j1 = JSON.parse(r1.stdout) as { step: number; numParams: number; validLoss: number; dataset: { validSource: string } };
  assert.equal(j1.step, 4);
  assert.equal(j1.dataset.validSource, 'files');
  assert.ok(j1.validLoss > 0);
  for (const f of ['config.json', 'metrics.jsonl', 'loss.html', join('checkpoints', 'latest.json')]) assert.ok(existsSync(join(out, f)), f);
  // Each flag reaches its setting.
  const config = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8')) as {
    model: Record<string, unknown>;
    pipeline: Record<string, unknown>;
    training: Record<string, unknown>;
  };
  assert.deepEqual(
    [config.model.embeddingDim, config.model.numLayers, config.model.numHeads, config.model.positionalEncoding],
    [16, 1, 2, 'rotary'],
  );
  assert.equal(config.pipeline.chunkSizeBytes, 64);
  assert.deepEqual(
    [
      config.training.steps,
      config.training.evalEvery,
      config.training.batchSize,
      config.training.learningRate,
      config.training.normalizeByLength,
      config.training.workers,
    ],
    [4, 2, 2, 0.002, true, 1],
  );
  const r2 = cli(['--json', 'train', '--out', out, '--resume', '--steps', '6']);
  assert.equal(r2.status, 0, r2.stderr);
  const j2 = JSON.parse(r2.stdout) as { step: number; resumedFrom: number; numParams: number };
  assert.equal(j2.resumedFrom, 4);
  assert.equal(j2.step, 6);
  assert.equal(j2.numParams, j1.numParams);
  // Starting again over an existing run is refused with a config error (exit 2).
  const r3 = cli(['train', '--files', wavs[0]!, '--out', out, ...TINY_MODEL_FLAGS]);
  assert.equal(r3.status, 2);
  assert.match(r3.stderr, /--resume/);
  // The library names its options; the command line names them by their flags.
  const r4 = cli(['train', '--out', out, '--resume', '--batch-size', '3']);
  assert.notEqual(r4.status, 0);
  assert.match(r4.stderr, /cannot resume: --batch-size is 3, the checkpoint used 2/);
});

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  test(`${signal} (Ctrl-C, or a scheduler stopping the job) writes a checkpoint and exits 130`, async (t) => {
    const d = tmp(t);
    const wav = writeWav(d, 'a.wav', 3);
    const out = join(d, 'run');
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        MAIN,
        '--json',
        'train',
        '--files',
        wav,
        '--steps',
        '1000000',
        '--log-every',
        '1',
        '--checkpoint-every',
        '0',
        '--out',
        out,
        ...TINY_MODEL_FLAGS,
      ],
      {
        cwd: projectRoot,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const metrics = join(out, 'metrics.jsonl');
    for (let i = 0; i < 300 && !(existsSync(metrics) && readFileSync(metrics, 'utf8').split('\n').length > 3); i++)
      await new Promise((r) => setTimeout(r, 100));
    child.kill(signal);
    const code = await exited;
    assert.equal(code, 130, stderr);
    const r = JSON.parse(stdout) as { interrupted: boolean; step: number };
    assert.equal(r.interrupted, true);
    assert.ok(r.step >= 3);
    assert.equal(readCheckpoint(out).state.step, r.step);
  });
}

test('clear errors for missing input and bad options', (t) => {
  const d = tmp(t);
  const none = cli(['train', '--out', join(d, 'x')]);
  assert.equal(none.status, 2);
  // The library names options; the CLI labels them with its flags.
  assert.match(none.stderr, /no training audio: give --files \(audio files or directories\) or --manifest/);
  const bad = cli(['train', '--files', d, '--bit-depth', '12']);
  assert.notEqual(bad.status, 0);
  assert.match(bad.stderr, /bit-depth/);
  const odd = cli(['train', '--files', d, '--bit-depth', '16', '--chunk-size', '63', '--out', join(d, 'z')]);
  assert.equal(odd.status, 2);
  assert.match(odd.stderr, /16-bit needs an even --chunk-size, got 63/);
  const missing = cli(['train', '--files', join(d, 'nope.wav'), '--out', join(d, 'y')]);
  assert.equal(missing.status, 3);
  assert.match(missing.stderr, /nope\.wav/);
  const wav = writeWav(d, 'a.wav', 2);
  const flagged: [string[], RegExp][] = [
    [['--files', wav, '--manifest', join(d, 'm.json')], /give either --files or --manifest, not both/],
    [['--files', wav, '--lr', '0.001', '--min-lr', '0.01'], /--min-lr must be between 0 and --lr \(0\.001\), got 0\.01/],
    [['--files', wav, '--embedding-dim', '3', '--num-heads', '3'], /--embedding-dim must be even, got 3/],
    [
      ['--files', wav, '--embedding-dim', '12', '--num-heads', '4', '--positional', 'rotary'],
      /--positional rotary needs an even head size \(--embedding-dim \/ --num-heads\), got 3/,
    ],
    [
      ['--files', wav, '--chunk-size', '64', '--seq-len', '100'],
      /--seq-len 100 is longer than a chunk \(64 tokens\); lower --seq-len or raise --chunk-size/,
    ],
  ];
  for (const [args, says] of flagged) {
    const r = cli(['train', ...args, '--out', join(d, 'w')]);
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, says);
  }
});

test('--wandb-project with W&B unreachable: training completes, one notice', (t) => {
  const d = tmp(t);
  const wav = writeWav(d, 'a.wav', 4);
  const env = { ...process.env, WANDB_API_KEY: 'k'.repeat(40), WANDB_BASE_URL: 'http://127.0.0.1:9' };
  const r = cli(
    [
      'train',
      '--files',
      wav,
      '--steps',
      '3',
      '--out',
      join(d, 'run'),
      '--wandb-project',
      'wavelm-test',
      '--wandb-config',
      '{"note": "cli test"}',
      ...TINY_MODEL_FLAGS,
    ],
    env,
  );
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stderr.match(/W&B logging is off/g)?.length ?? 0, 1, r.stderr);
  assert.match(r.stdout, /trained 3\/3 steps/);
});
