/** Bootstrap of a WorkerPool worker: loads the task module named by the pool and serves its run(). */
import { parentPort } from 'node:worker_threads';
import { serializeError } from '../util/errors.js';
import type { FromWorker, ToWorker, Transferring } from './pool.js';

interface TaskModule {
  init?(data: unknown): void | Promise<void>;
  run(task: unknown): unknown;
}

function isTransferring(v: unknown): v is Transferring<unknown> {
  return typeof v === 'object' && v !== null && (v as { __transfer?: unknown }).__transfer === true;
}

const port = parentPort;
if (!port) throw new Error('pool-worker.ts must run in a worker thread');
let mod: TaskModule | undefined;

port.on('message', (msg: ToWorker) => {
  void handle(msg);
});

async function handle(msg: ToWorker): Promise<void> {
  if (msg.kind === 'init') {
    try {
      mod = (await import(msg.module)) as TaskModule;
      if (typeof mod.run !== 'function') throw new Error(`worker module ${msg.module} does not export run()`);
      if (mod.init) await mod.init(msg.data);
      port!.postMessage({ kind: 'ready' } satisfies FromWorker);
    } catch (err) {
      port!.postMessage({ kind: 'init-error', error: serializeError(err) } satisfies FromWorker);
    }
    return;
  }
  try {
    const out = await mod!.run(msg.task);
    if (isTransferring(out)) port!.postMessage({ kind: 'done', id: msg.id, result: out.value } satisfies FromWorker, out.transfer);
    else port!.postMessage({ kind: 'done', id: msg.id, result: out } satisfies FromWorker);
  } catch (err) {
    port!.postMessage({ kind: 'error', id: msg.id, error: serializeError(err) } satisfies FromWorker);
  }
}
