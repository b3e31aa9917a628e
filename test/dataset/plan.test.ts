/**
 * `dataset plan`: sizes predicted from a sample agree with real builds, and the decision rule picks what it says.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildDataset, parseFieldSpecs, planStorage, recommend, type CandidateReport } from '../../src/dataset/index.js';
import { ConfigError } from '../../src/util/errors.js';
import { runCli } from '../cli/run.js';
import { sharedPath } from '../helpers/shared.js';
import { tmp } from './helpers.js';

test('dataset plan: predicted sizes within 5 % of real builds on FSDD (waveform, FLAC, Opus, mel float16)', async (t) => {
  const rec = sharedPath(t, 'data', 'speech', 'fsdd', 'recordings');
  if (!rec) return;
  const dir = tmp('wlds-plan-');
  try {
    // Every 10th recording: 300 files, all six speakers, durations from 0.14 to 2.3 s.
    const files = readdirSync(rec)
      .filter((f) => f.endsWith('.wav'))
      .sort()
      .filter((_, i) => i % 10 === 0);
    const list = join(dir, 'files.txt');
    writeFileSync(list, files.map((f) => join(rec, f)).join('\n'));
    const spec = 'waveform_int16=waveform(dtype=int16),flac,opus,mel_float16=mel(dtype=float16)';
    const plan = await planStorage([list], { candidates: parseFieldSpecs(spec), sampleSize: 32 });
    assert.equal(plan.input.samples, files.length);
    assert.equal(plan.sample.samples, 32);
    for (const s of parseFieldSpecs(spec)) {
      const out = join(dir, `${s.name}.wlds`);
      const r = await buildDataset([list], { out, fields: [s] });
      const real = statSync(out).size;
      assert.equal(r.shards[0]!.bytes, real);
      const c = plan.candidates.find((x) => x.name === s.name)!;
      const err = Math.abs(c.predictedBytes - real) / real;
      assert.ok(err < 0.05, `${s.name}: predicted ${c.predictedBytes}, built ${real} (${(100 * err).toFixed(2)} %)`);
      assert.ok(c.decodeRealtime > 0 && c.decodeMsPerBatch > 0);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

function cand(name: string, type: string, args: Record<string, unknown>, predictedBytes: number, budget?: number): CandidateReport {
  return {
    name,
    type,
    args,
    lossy: false,
    bytesPerSecond: 1,
    predictedBytes,
    decodeMsPerBatch: 1,
    decodeRealtime: 1,
    fitsBudget: budget === undefined || predictedBytes <= budget,
  };
}

test('dataset plan: the decision rule follows model family, budget and priority', () => {
  const make = (budget?: number) => [
    cand('raw', 'waveform', { dtype: 'int16' }, 1000, budget),
    cand('f32', 'waveform', { dtype: 'float32' }, 2000, budget),
    cand('flac', 'compressed', { codec: 'flac' }, 600, budget),
    cand('opus', 'compressed', { codec: 'opus' }, 200, budget),
    cand('mel16', 'mel', { dtype: 'float16' }, 900, budget),
    cand('mel32', 'mel', { dtype: 'float32' }, 1800, budget),
    cand('tok', 'codec_tokens', {}, 50, budget),
  ];
  const specs = new Map(make().map((c) => [c.name, c.name]));
  assert.equal(recommend(make(), specs, 'waveform', 'speed')!.name, 'raw');
  assert.equal(recommend(make(), specs, 'waveform', 'space')!.name, 'flac');
  assert.equal(recommend(make(800), specs, 'waveform', 'speed')!.name, 'flac');
  assert.equal(recommend(make(300), specs, 'waveform', 'speed')!.name, 'opus');
  assert.match(recommend(make(100), specs, 'waveform', 'speed')!.reason, /nothing fits/);
  assert.equal(recommend(make(), specs, 'spectrogram', 'speed')!.name, 'mel16');
  assert.equal(recommend(make(), specs, 'token-lm', 'speed')!.name, 'tok');
  assert.equal(
    recommend(
      make().filter((c) => c.type !== 'codec_tokens'),
      specs,
      'token-lm',
      'speed',
    ),
    null,
  );
});

test('dataset plan: bad options are ConfigErrors that name the option, not the CLI flag', async () => {
  const candidates = parseFieldSpecs('waveform');
  const cases: [Parameters<typeof planStorage>[1], string, string][] = [
    [{ model: 'transformer' as 'waveform' }, "model must be waveform, spectrogram or token-lm, got 'transformer'", 'model'],
    [{ prefer: 'both' as 'speed' }, "prefer must be speed or space, got 'both'", 'prefer'],
    [{ sampleSize: 0 }, 'sampleSize must be a positive integer, got 0', 'sampleSize'],
    [{ diskBudget: -1 }, 'diskBudget must be positive, got -1', 'diskBudget'],
    [{ candidates: [] }, 'candidates is empty: no fields to measure (e.g. candidates waveform,flac)', 'candidates'],
  ];
  for (const [opts, message, option] of cases) {
    await assert.rejects(
      planStorage([], { candidates, ...opts }),
      (e: unknown) => e instanceof ConfigError && e.message === message && e.options?.join() === option,
    );
  }
});

test('dataset plan CLI: --json, the recommendation for a spectrogram model, bad options', async (t) => {
  const rec = sharedPath(t, 'data', 'speech', 'fsdd', 'recordings');
  if (!rec) return;
  const one = join(rec, '0_jackson_0.wav');
  const two = join(rec, '1_nicolas_10.wav');
  let r = await runCli([
    '--json',
    'dataset',
    'plan',
    one,
    two,
    '--model',
    'spectrogram',
    '--fields',
    'waveform,mel_float16=mel(dtype=float16)',
    '--disk-budget',
    '1MB',
  ]);
  assert.equal(r.code, 0, r.stderr);
  const plan = JSON.parse(r.stdout) as {
    recommendation: { name: string };
    diskBudget: number;
    candidates: { name: string; bytesPerSecond: number }[];
  };
  assert.equal(plan.recommendation.name, 'mel_float16');
  assert.equal(plan.diskBudget, 1e6);
  assert.equal(plan.candidates.length, 2);
  // 8 kHz int16 mono: 16,000 bytes per second exactly.
  assert.equal(plan.candidates.find((c) => c.name === 'waveform')!.bytesPerSecond, 16000);
  r = await runCli(['dataset', 'plan', one, '--model', 'transformer']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /^wavelm: --model must be waveform, spectrogram or token-lm, got 'transformer'$/m);
  r = await runCli(['dataset', 'plan', one, '--disk-budget', 'lots']);
  assert.equal(r.code, 2);
  r = await runCli(['dataset', 'plan', join(rec, 'nope.wav')]);
  assert.equal(r.code, 3);
});

test('dataset plan: codec_tokens(model=...) candidates are sized for their model and bandwidth, as a real build stores them', async (t) => {
  const model = sharedPath(t, 'fixtures', 'encodec', 'encodec_24khz_tiny');
  const speech = sharedPath(t, 'data', 'speech', 'arctic');
  if (!model || !speech) return;
  const { encodecTokenEncoder } = await import('../../src/cli/encodec-tokens.js');
  const files = readdirSync(speech)
    .filter((f) => f.endsWith('.wav'))
    .sort()
    .slice(0, 3)
    .map((f) => join(speech, f));
  const dir = tmp('wlds-plan-codec-');
  try {
    const sizes: number[] = [];
    for (const bandwidth of [3, 6]) {
      const [spec] = parseFieldSpecs(`codes=codec_tokens(model=${model},bandwidth=${bandwidth})`);
      const plan = await planStorage(files, { candidates: [spec!], codecTokenEncoder: encodecTokenEncoder, model: 'token-lm' });
      const out = join(dir, `bw${bandwidth}.wlds`);
      await buildDataset(files, { out, fields: [spec!], codecTokenEncoder: encodecTokenEncoder });
      const real = statSync(out).size;
      const c = plan.candidates[0]!;
      assert.equal(c.args.bandwidth, bandwidth);
      const err = Math.abs(c.predictedBytes - real) / real;
      assert.ok(err < 0.05, `bandwidth ${bandwidth}: predicted ${c.predictedBytes}, built ${real} (${(100 * err).toFixed(2)} %)`);
      sizes.push(c.bytesPerSecond);
    }
    // Half the bandwidth, half the codebooks: about half the bytes per second.
    assert.ok(sizes[0]! < 0.6 * sizes[1]!, `bytes/s at 3 and 6 kbps: ${sizes.join(', ')}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
