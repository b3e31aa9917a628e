/**
 * W&B logging (src/model/wandb.ts): the success path against a fake W&B service on 127.0.0.1
 * (test/helpers/fake-wandb.ts) that records what the SDK uploads, a rejected key, an unreachable host,
 * no key, and WANDB_MODE=disabled/offline; through the library and through `wavelm train`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultAudioDir } from '../../src/audio/default.js';
import { readMetrics } from '../../src/model/logging.js';
import { createWandbSink, findWandbApiKey, wandbSyncCommand } from '../../src/model/wandb.js';
import { FAKE_ENTITY, startFakeWandb, type FakeWandb, type FakeWandbRun } from '../helpers/fake-wandb.js';
import { projectRoot } from '../helpers/shared.js';
import { DOCUMENTED_WANDB_KEYS, TINY_MODEL_FLAGS } from '../helpers/training.js';

const KEY = 'k'.repeat(40);
const MAIN = join(projectRoot, 'src', 'cli', 'main.ts');

function tmp(t: { after: (fn: () => void) => void }): string {
  const d = mkdtempSync(join(tmpdir(), 'wavelm-wandb-'));
  t.after(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

async function fakeWandb(t: { after: (fn: () => Promise<void>) => void }): Promise<FakeWandb> {
  const server = await startFakeWandb(KEY);
  t.after(() => server.close());
  return server;
}

/** The environment for a W&B run against `server` (WANDB_MODE of the caller's shell dropped). */
function wandbEnv(server: FakeWandb, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, WANDB_API_KEY: KEY, WANDB_BASE_URL: server.baseUrl, ...extra };
  if (!('WANDB_MODE' in extra)) delete env.WANDB_MODE;
  return env;
}

function onlyRun(server: FakeWandb): FakeWandbRun {
  assert.equal(server.runs.size, 1, `runs: ${[...server.runs.keys()].join(', ')}`);
  return [...server.runs.values()][0]!;
}

test('W&B success: run config, every history row and the summary reach the service; finish completes the run', async (t) => {
  const server = await fakeWandb(t);
  const notices: string[] = [];
  const sink = createWandbSink({
    project: 'wavelm-test',
    runName: 'library',
    config: { note: 'from --wandb-config' },
    notice: (m) => notices.push(m),
    env: wandbEnv(server),
    initTimeoutMs: 60_000,
    finishTimeoutMs: 60_000,
  });
  sink.config({ 'model/num_layers': 4, 'dataset/use_16bit': false, 'optimizer/learning_rate': 0.001 });
  for (let s = 1; s <= 5; s++) sink.log({ 'train/loss': 10 - s, 'train/bits_per_byte': (10 - s) / 8 }, s);
  sink.summary({ 'train/final_loss': 5, 'train/total_steps': 5 });
  await sink.finish();

  assert.deepEqual(server.rejected, []);
  const run = onlyRun(server);
  assert.equal(run.entity, FAKE_ENTITY, 'the default entity comes from the Viewer query');
  assert.equal(run.project, 'wavelm-test');
  assert.equal(run.displayName, 'library');
  assert.deepEqual(run.config, {
    note: 'from --wandb-config',
    'model/num_layers': 4,
    'dataset/use_16bit': false,
    'optimizer/learning_rate': 0.001,
  });
  // One row per logged point, at its step, then the final row at the last step.
  assert.deepEqual(
    run.history.map((h) => h._step),
    [1, 2, 3, 4, 5, 5],
  );
  assert.deepEqual(
    run.history.slice(0, 5).map((h) => h['train/loss']),
    [9, 8, 7, 6, 5],
  );
  assert.deepEqual([run.history[5]!['train/final_loss'], run.history[5]!['train/total_steps']], [5, 5]);
  // W&B's summary: each key's last value.
  assert.equal(run.summary['train/loss'], 5);
  assert.equal(run.summary['train/bits_per_byte'], 5 / 8);
  assert.equal(run.summary['train/final_loss'], 5);
  assert.equal(run.summary['train/total_steps'], 5);
  assert.equal(run.exitcode, 0, 'the run is reported complete with exit code 0');
  assert.deepEqual(notices, [`W&B run: ${server.baseUrl}/${FAKE_ENTITY}/wavelm-test/runs/${run.name}`]);
});

test('W&B: a key the service rejects turns W&B off with one notice; nothing is uploaded', async (t) => {
  const server = await fakeWandb(t);
  const notices: string[] = [];
  let noticed!: () => void;
  const firstNotice = new Promise<void>((resolve) => (noticed = resolve));
  const notice = (m: string): void => {
    notices.push(m);
    noticed();
  };
  const sink = createWandbSink({
    project: 'wavelm-test',
    notice,
    env: wandbEnv(server, { WANDB_API_KEY: 'w'.repeat(40) }),
    runDir: '/runs/x',
  });
  sink.log({ 'train/loss': 1 }, 1);
  await firstNotice;
  await sink.finish();
  assert.equal(notices.length, 1, JSON.stringify(notices));
  assert.match(
    notices[0]!,
    /W&B logging is off for this run \(W&B is unreachable or refused the run: .*\); training continues with local logs/,
  );
  assert.ok(notices[0]!.includes('`wandb sync --sync-tensorboard --project wavelm-test /runs/x`'), notices[0]);
  assert.ok(server.rejected.length > 0 && server.rejected.every((r) => r.startsWith('401 ')), server.rejected.join('\n'));
  assert.equal(server.runs.size, 0);
});

test('W&B: an unreachable service never blocks or throws; one notice, and finish returns', async () => {
  let noticed!: (m: string) => void;
  const firstNotice = new Promise<string>((resolve) => (noticed = resolve));
  const notices: string[] = [];
  const sink = createWandbSink({
    project: 'wavelm-test',
    runName: 'unreachable',
    notice: (m) => {
      notices.push(m);
      noticed(m);
    },
    // Port 9 (discard) on loopback: connection refused at once, no network needed.
    env: { ...process.env, WANDB_MODE: '', WANDB_API_KEY: 'x'.repeat(40), WANDB_BASE_URL: 'http://127.0.0.1:9' },
    initTimeoutMs: 20000,
    finishTimeoutMs: 5000,
  });
  sink.config({ 'model/num_layers': 4 });
  for (let s = 1; s <= 50; s++) assert.equal(sink.log({ 'train/loss': 1 / s }, s), undefined);
  // log returned 50 times before W&B could answer once: it does not wait for the service.
  assert.deepEqual(notices, []);
  await firstNotice;
  sink.log({ 'train/loss': 0 }, 51);
  await sink.finish();
  assert.equal(notices.length, 1, JSON.stringify(notices));
  assert.match(notices[0]!, /W&B logging is off for this run/);
  assert.match(notices[0]!, /local logs/);
});

test('W&B: no key means a null sink and one notice; WANDB_MODE=disabled turns it off', async () => {
  const notices: string[] = [];
  const sink = createWandbSink({ project: 'p', notice: (m) => notices.push(m), env: { HOME: '/nonexistent' } });
  sink.log({ 'train/loss': 1 }, 1);
  await sink.finish();
  assert.equal(notices.length, 1);
  assert.match(notices[0]!, /no API key/);
  const off = createWandbSink({ project: 'p', notice: (m) => notices.push(m), env: { WANDB_MODE: 'disabled', WANDB_API_KEY: 'k' } });
  await off.finish();
  assert.equal(notices.length, 2);
  assert.match(notices[1]!, /WANDB_MODE=disabled/);
  assert.equal(findWandbApiKey({ WANDB_API_KEY: 'abc' }), 'abc');
});

test('W&B: WANDB_MODE=offline uploads nothing, names the local run directory, and ends with the command that uploads it', async (t) => {
  const server = await fakeWandb(t);
  const notices: string[] = [];
  const sink = createWandbSink({
    project: 'wavelm-test',
    entity: 'team',
    notice: (m) => notices.push(m),
    env: wandbEnv(server, { WANDB_MODE: 'offline' }),
    runDir: '/runs/x',
  });
  assert.equal(notices.length, 1);
  assert.match(notices[0]!, /^W&B is offline \(WANDB_MODE=offline\): nothing is uploaded; the run logs locally to \/runs\/x/);
  sink.config({ 'model/num_layers': 4 });
  sink.log({ 'train/loss': 1 }, 1);
  await sink.finish();
  assert.equal(
    wandbSyncCommand({ project: 'wavelm-test', entity: 'team', runDir: '/runs/x' }),
    'wandb sync --sync-tensorboard --project wavelm-test --entity team /runs/x',
  );
  // A directory a shell would split or expand is quoted, so the hint can be pasted as it is.
  assert.equal(
    wandbSyncCommand({ project: 'p', runDir: "/runs/it's $HOME" }),
    `wandb sync --sync-tensorboard --project p '/runs/it'\\''s $HOME'`,
  );
  assert.deepEqual(notices.slice(1), [
    'W&B offline run: upload it with `wandb sync --sync-tensorboard --project wavelm-test --entity team /runs/x`',
  ]);
  assert.deepEqual(server.requests, []);
});

/** Runs `wavelm ARGS` without blocking this process's event loop (the fake service lives in it). */
function wavelm(args: string[], env: NodeJS.ProcessEnv): Promise<{ status: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, ...args], { cwd: projectRoot, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
  child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

const SAMPLE = (): string => join(defaultAudioDir(), 'bd_gas.flac');

test("train --wandb-project: the run config has docs/training.md's keys, history equals metrics.jsonl, summary the last row", async (t) => {
  const server = await fakeWandb(t);
  const out = join(tmp(t), 'run');
  const r = await wavelm(
    [
      'train',
      '--files',
      SAMPLE(),
      '--steps',
      '3',
      '--log-every',
      '1',
      '--lr',
      '0.002',
      '--out',
      out,
      '--wandb-project',
      'wavelm-test',
      '--wandb-run-name',
      'cli',
      '--wandb-config',
      '{"note": "cli test"}',
      ...TINY_MODEL_FLAGS,
    ],
    wandbEnv(server),
  );
  assert.equal(r.status, 0, r.stderr);
  const { numParams } = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8')) as { numParams: number };
  assert.deepEqual(server.rejected, []);
  const run = onlyRun(server);
  assert.match(r.stderr, new RegExp(`W&B run: ${server.baseUrl}/${FAKE_ENTITY}/wavelm-test/runs/${run.name}`));
  assert.doesNotMatch(r.stderr, /W&B logging is off/);
  assert.equal(run.displayName, 'cli');
  assert.equal(run.exitcode, 0);
  // The run config: docs/training.md's keys, with --wandb-config's beside them.
  for (const k of DOCUMENTED_WANDB_KEYS) assert.ok(k in run.config, `run config lacks ${k}: ${JSON.stringify(run.config)}`);
  assert.equal(run.config.note, 'cli test');
  const expected: Record<string, unknown> = {
    'dataset/num_files': 1,
    'dataset/use_16bit': false,
    'dataset/vocab_size': 256,
    'model/total_parameters': numParams,
    'model/embedding_dim': 16,
    'model/num_layers': 1,
    'model/num_heads': 2,
    'optimizer/learning_rate': 0.002,
  };
  for (const [k, v] of Object.entries(expected)) assert.equal(run.config[k], v, k);
  // History: the same training points as the local log, step by step.
  const local = readMetrics(join(out, 'metrics.jsonl')).filter((p) => 'train/loss' in p);
  assert.deepEqual(
    local.map((p) => p.step),
    [1, 2, 3],
  );
  const uploaded = run.history.filter((h) => 'train/loss' in h);
  assert.deepEqual(
    uploaded.map((h) => h._step),
    [1, 2, 3],
  );
  assert.deepEqual(
    uploaded.map((h) => h['train/loss']),
    local.map((p) => p['train/loss']),
  );
  // Summary: each key's last value, with the final row (with --log-every 1 the final loss is the last point's).
  assert.equal(run.summary['train/total_steps'], 3);
  assert.equal(run.summary['train/final_loss'], local.at(-1)!['train/loss']);
  assert.equal(run.summary['train/loss'], local.at(-1)!['train/loss']);
});

test('wavelm train under WANDB_MODE=offline: local logs only, nothing sent, and the command to upload the run', async (t) => {
  const server = await fakeWandb(t);
  const out = join(tmp(t), 'run');
  const r = await wavelm(
    ['train', '--files', SAMPLE(), '--steps', '2', '--out', out, '--wandb-project', 'wavelm-test', ...TINY_MODEL_FLAGS],
    wandbEnv(server, { WANDB_MODE: 'offline' }),
  );
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(server.requests, []);
  assert.ok(r.stderr.includes(`the run logs locally to ${out}`), r.stderr);
  assert.ok(r.stderr.includes(`\`wandb sync --sync-tensorboard --project wavelm-test ${out}\``), r.stderr);
  assert.ok(existsSync(join(out, 'metrics.jsonl')));
  assert.equal(
    readdirSync(out).filter((f) => f.startsWith('events.out.tfevents.')).length,
    1,
    'the TensorBoard file that wandb sync uploads',
  );
});
