/**
 * Weights & Biases logging through W&B's JavaScript SDK (npm `@wandb/sdk`), as a MetricsSink.
 *
 * Training must never wait on, or fail because of, the service. So the SDK runs in a detached child
 * process (training/wandb-child.ts) that we talk to over IPC without ever awaiting it during training:
 * points logged before the run is ready are buffered, and if the run cannot start (no API key,
 * unreachable host, rejected key) or dies, the sink says so once through `notice` and drops
 * everything after that, while the local logs (metrics.jsonl, TensorBoard files) carry on. `finish`
 * waits at most `finishTimeoutMs`. The local TensorBoard files can be uploaded later with
 * `wandb sync --sync-tensorboard RUN_DIR`.
 *
 * The key comes from WANDB_API_KEY or ~/.netrc (what `wandb login` writes); the SDK is never allowed to
 * prompt for one. WANDB_MODE=disabled turns W&B off (with a notice). WANDB_MODE=offline (or its old name
 * dryrun) uploads nothing, as in W&B's Python SDK, and says at the start and at the end of the run how to
 * upload the run's local logs later (`wandb sync --sync-tensorboard`,
 * https://docs.wandb.ai/models/ref/cli/wandb-sync).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { MetricValue, MetricsSink } from './logging.js';

export interface WandbOptions {
  project: string;
  runName?: string;
  entity?: string;
  /** Extra run config (from --wandb-config), merged under wavelm's own keys. */
  config?: Record<string, unknown>;
  /** Called at most once with a human-readable reason when W&B is off or fails. And once with the run URL when it starts. */
  notice?: (message: string) => void;
  /** How long the run may take to start before we give up (default 30 s). */
  initTimeoutMs?: number;
  /** How long finish waits for the upload to complete (default 15 s). */
  finishTimeoutMs?: number;
  /** Environment to read WANDB_* from (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** The run's local log directory (metrics.jsonl, TensorBoard files), named in the upload-later hints. */
  runDir?: string;
}

/** `word` as a POSIX shell reads it back: as it is when that is safe, else in single quotes. */
function shellWord(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`;
}

/** The command that uploads a run's TensorBoard files to W&B later, ready to paste into a shell. */
export function wandbSyncCommand(opts: Pick<WandbOptions, 'project' | 'entity' | 'runDir'>): string {
  const words = ['wandb sync --sync-tensorboard', `--project ${shellWord(opts.project)}`];
  if (opts.entity) words.push(`--entity ${shellWord(opts.entity)}`);
  words.push(opts.runDir ? shellWord(opts.runDir) : 'RUN_DIR');
  return words.join(' ');
}

/** The API key W&B would use: WANDB_API_KEY, else the ~/.netrc entry for the API host. */
export function findWandbApiKey(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.WANDB_API_KEY) return env.WANDB_API_KEY;
  const host = (env.WANDB_BASE_URL ?? 'https://api.wandb.ai').split('://').pop()!.split('/')[0]!.trim();
  const netrc = join(homedir(), '.netrc');
  if (!existsSync(netrc)) return undefined;
  const words = readFileSync(netrc, 'utf8')
    .split('\n')
    .map((l) => l.replace(/#.*/, ''))
    .join(' ')
    .split(/\s+/)
    .filter(Boolean);
  for (let i = 0; i < words.length; i++) {
    if (words[i] === 'machine' && words[i + 1] === host) {
      for (let j = i + 2; j < words.length && words[j] !== 'machine'; j += 2) if (words[j] === 'password') return words[j + 1];
    }
  }
  return undefined;
}

function childModule(): string {
  const self = fileURLToPath(import.meta.url);
  return join(self, '..', 'training', self.endsWith('.ts') ? 'wandb-child.ts' : 'wandb-child.js');
}

type State = 'pending' | 'starting' | 'ready' | 'failed' | 'finished';

class WandbSink implements MetricsSink {
  private state: State = 'pending';
  private child?: ChildProcess;
  private readonly runConfig: Record<string, unknown>;
  private queue: { data: Record<string, number>; step: number }[] = [];
  private lastStep = 0;
  private readonly finalValues: Record<string, number> = {};
  private initTimer?: NodeJS.Timeout;
  private finishedResolve?: () => void;
  /** finish() was called before the run was ready: send 'finish' right after the queued points. */
  private finishRequested = false;
  private noticeGiven = false;

  constructor(
    private readonly opts: WandbOptions,
    private readonly apiKey: string,
  ) {
    this.runConfig = { ...(opts.config ?? {}) };
  }

  private notice(message: string): void {
    if (this.noticeGiven) return;
    this.noticeGiven = true;
    this.opts.notice?.(message);
  }

  private fail(reason: string): void {
    if (this.state === 'failed' || this.state === 'finished') return;
    this.state = 'failed';
    this.queue = [];
    if (this.initTimer) clearTimeout(this.initTimer);
    this.notice(
      `W&B logging is off for this run (${reason}); training continues with local logs (metrics.jsonl, TensorBoard files; upload ` +
        `later with \`${wandbSyncCommand(this.opts)}\`)`,
    );
    this.kill();
    this.finishedResolve?.();
  }

  private kill(): void {
    const c = this.child;
    if (c && c.exitCode === null && c.signalCode === null) {
      try {
        c.kill('SIGKILL');
      } catch {
        // already gone
      }
    }
  }

  private send(msg: Record<string, unknown>): void {
    try {
      this.child?.send(msg, (err) => {
        if (err) this.fail(`cannot talk to the W&B process: ${err.message}`);
      });
    } catch (e) {
      this.fail(`cannot talk to the W&B process: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  /** Starts the child and the run with everything configured so far (the SDK takes config only at init). */
  private start(): void {
    if (this.state !== 'pending') return;
    this.state = 'starting';
    let child: ChildProcess;
    try {
      child = fork(childModule(), [], {
        detached: true,
        stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
        env: { ...(this.opts.env ?? process.env) },
      });
    } catch (e) {
      this.fail(`cannot start the W&B process: ${e instanceof Error ? e.message : String(e)}`);
      return;
    }
    this.child = child;
    child.unref();
    child.stderr?.resume();
    child.on('error', (e) => this.fail(`W&B process error: ${e.message}`));
    child.on('exit', (code) => {
      if (this.state === 'finished') return;
      if (this.state === 'failed') return;
      this.fail(`the W&B process exited with code ${code}`);
    });
    child.on('message', (raw: unknown) => {
      const msg = raw as { type: string; url?: string; message?: string };
      if (msg.type === 'ready') {
        if (this.state !== 'starting') return;
        this.state = 'ready';
        if (this.initTimer) clearTimeout(this.initTimer);
        this.opts.notice?.(`W&B run: ${msg.url ?? '(no url)'}`);
        for (const q of this.queue) this.send({ type: 'log', data: q.data, step: q.step });
        this.queue = [];
        if (this.finishRequested) this.send({ type: 'finish' });
      } else if (msg.type === 'error') {
        this.fail(`W&B is unreachable or refused the run: ${msg.message ?? 'unknown error'}`);
      } else if (msg.type === 'finished') {
        this.state = 'finished';
        this.finishedResolve?.();
      }
    });
    (child as ChildProcess & { channel?: { unref(): void } }).channel?.unref();
    this.initTimer = setTimeout(
      () => this.fail(`the run did not start within ${(this.opts.initTimeoutMs ?? 30000) / 1000} s`),
      this.opts.initTimeoutMs ?? 30000,
    );
    this.initTimer.unref();
    this.send({
      type: 'init',
      project: this.opts.project,
      name: this.opts.runName,
      entity: this.opts.entity,
      config: this.runConfig,
      apiKey: this.apiKey,
      baseUrl: (this.opts.env ?? process.env).WANDB_BASE_URL,
    });
  }

  config(values: Record<string, MetricValue>): void {
    if (this.state === 'pending') Object.assign(this.runConfig, values);
  }

  log(values: Record<string, number>, step: number): void {
    this.start();
    this.lastStep = Math.max(this.lastStep, step);
    if (this.state === 'starting') this.queue.push({ data: { ...values }, step });
    else if (this.state === 'ready') this.send({ type: 'log', data: values, step });
  }

  summary(values: Record<string, number>): void {
    // The JS SDK has no summary call; W&B's summary defaults to each key's last logged value.
    Object.assign(this.finalValues, values);
  }

  async finish(): Promise<void> {
    if (Object.keys(this.finalValues).length > 0) this.log(this.finalValues, this.lastStep);
    if (this.state === 'pending' || this.state === 'failed' || this.state === 'finished') {
      this.state = this.state === 'failed' ? 'failed' : 'finished';
      this.kill();
      return;
    }
    const timeoutMs = this.opts.finishTimeoutMs ?? 15000;
    await new Promise<void>((resolve) => {
      this.finishedResolve = resolve;
      const t = setTimeout(() => {
        this.fail(`the upload did not finish within ${timeoutMs / 1000} s`);
        resolve();
      }, timeoutMs);
      const done = resolve;
      this.finishedResolve = () => {
        clearTimeout(t);
        done();
      };
      if (this.state === 'ready') this.send({ type: 'finish' });
      // While still starting, the ready handler has flushed nothing yet: it sends 'finish' after the
      // queued points (the child's first message is 'started', so waiting for "the next message" would not do).
      else if (this.state === 'starting') this.finishRequested = true;
      else this.finishedResolve();
    });
    this.kill();
  }
}

/** A sink that drops everything (W&B off). */
export const nullSink: MetricsSink = {
  config() {},
  log() {},
  summary() {},
  async finish() {},
};

/**
 * WANDB_MODE=offline: nothing leaves the machine. The local logs are the offline run, so the sink only
 * says where they are when the run starts, and how to upload them when it ends.
 */
function offlineSink(opts: WandbOptions, mode: string): MetricsSink {
  const where = opts.runDir ?? 'the run directory';
  opts.notice?.(
    `W&B is offline (WANDB_MODE=${mode}): nothing is uploaded; the run logs locally to ${where} (metrics.jsonl, TensorBoard files)`,
  );
  return {
    ...nullSink,
    async finish() {
      opts.notice?.(`W&B offline run: upload it with \`${wandbSyncCommand(opts)}\``);
    },
  };
}

/**
 * A W&B sink for the project; an offline sink under WANDB_MODE=offline; or a null sink (after one
 * notice) when W&B is disabled or has no key. Never throws and never blocks training.
 */
export function createWandbSink(opts: WandbOptions): MetricsSink {
  const env = opts.env ?? process.env;
  const mode = (env.WANDB_MODE ?? '').toLowerCase();
  if (mode === 'offline' || mode === 'dryrun') return offlineSink(opts, mode);
  if (mode === 'disabled') {
    opts.notice?.(`W&B logging is off (WANDB_MODE=disabled); local logs only (upload later with \`${wandbSyncCommand(opts)}\`)`);
    return nullSink;
  }
  const key = findWandbApiKey(env);
  if (!key) {
    opts.notice?.('W&B logging is off: no API key (set WANDB_API_KEY or run `wandb login`); training continues with local logs');
    return nullSink;
  }
  return new WandbSink(opts, key);
}
