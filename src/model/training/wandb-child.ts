/**
 * The W&B SDK runs in this child process, never in the training process: the JavaScript SDK installs
 * its own SIGINT handler that calls process.exit (which would skip the interrupt checkpoint), prompts
 * on a TTY when it has no key, and rethrows network errors from event handlers (uncaught exceptions).
 * Here none of that can touch training. Protocol (IPC messages from the parent):
 *   {type:'init', project, name?, entity?, config, apiKey, baseUrl?} -> {type:'ready', url} | {type:'error', message}
 *   {type:'log', data, step}
 *   {type:'finish'} -> {type:'finished'}, then exit
 * The child exits when the parent disconnects, so it can never outlive a training run by much.
 */
import wandb from '@wandb/sdk';

interface InitMessage {
  type: 'init';
  project: string;
  name?: string;
  entity?: string;
  config: Record<string, unknown>;
  apiKey: string;
  baseUrl?: string;
}
type ParentMessage = InitMessage | { type: 'log'; data: Record<string, number>; step: number } | { type: 'finish' };

function send(msg: Record<string, unknown>): void {
  if (process.connected) process.send?.(msg);
}

function fail(e: unknown): void {
  send({ type: 'error', message: e instanceof Error ? e.message : String(e) });
  setTimeout(() => process.exit(1), 50).unref();
}

process.on('uncaughtException', fail);
process.on('unhandledRejection', fail);
process.on('disconnect', () => process.exit(0));
// The parent decides when to finish; a stray Ctrl-C must not end the upload early.
process.on('SIGINT', () => {});

type RunLike = Awaited<ReturnType<typeof wandb.init>>;
let run: Promise<RunLike> | undefined;

process.on('message', (raw: unknown) => {
  const msg = raw as ParentMessage;
  if (msg.type === 'init') {
    run = wandb.init({
      project: msg.project,
      name: msg.name,
      entity: msg.entity,
      config: msg.config,
      settings: { apiKey: msg.apiKey, baseUrl: msg.baseUrl ?? 'https://api.wandb.ai', silent: true },
    });
    run.then((r) => send({ type: 'ready', url: r.url() }), fail);
  } else if (msg.type === 'log') {
    run?.then((r) => r.log({ ...msg.data }, msg.step), fail);
  } else if (msg.type === 'finish') {
    const done = () => {
      send({ type: 'finished' });
      setTimeout(() => process.exit(0), 50).unref();
    };
    if (!run) done();
    else run.then((r) => r.finish(0)).then(done, fail);
  }
});
send({ type: 'started' });
