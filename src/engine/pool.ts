/**
 * A small worker_threads pool: N workers, each running a worker module of the caller's choice in
 * its own thread (and so with its own wasm instance, see ./wasm.ts).
 *
 * The worker module (a .ts file under tsx, .js once compiled) exports:
 *
 *   export function init(data: TInit): void | Promise<void>;           // optional, once per worker
 *   export function run(task: TTask): TResult | Promise<TResult>;      // one task
 *
 * and may return `withTransfer(result, [arrayBuffers])` from run to move buffers instead of copying.
 *
 *   const pool = await WorkerPool.create<TTask, TResult, TInit>(new URL('./my-worker.js', import.meta.url), { size: 2, init });
 *   const results = await pool.map(tasks);        // results in task order, whichever worker ran them
 *   await pool.broadcast(task);                   // run the task once on every worker (e.g. new params)
 *   await pool.close();
 *
 * Pass the module URL with a .js suffix: under tsx (tests, `node --import tsx`) the pool resolves it
 * to the .ts source next to it when the .js does not exist. Under tsx each worker registers the tsx loader
 * itself (Node 20 does not pass `--import tsx` hooks on to worker threads). An exception in a task (or in init) rejects that task's
 * promise (or create()) with the worker's error: a WavelmError keeps its class, code and subject across the thread boundary, others
 * arrive as an Error with the worker's name, message and stack. A worker that dies rejects its task and is replaced.
 */
import { Worker } from 'node:worker_threads';
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { availableParallelism } from 'node:os';
import { deserializeError, type SerializedError } from '../util/errors.js';

/** A result together with the buffers to transfer (not copy) to the parent. */
export interface Transferring<T> {
  readonly __transfer: true;
  readonly value: T;
  readonly transfer: ArrayBuffer[];
}

export function withTransfer<T>(value: T, transfer: ArrayBuffer[]): Transferring<T> {
  return { __transfer: true, value, transfer };
}

export interface PoolOptions<TInit> {
  /** Number of workers (default: available cores). */
  size?: number;
  /** Passed to the module's init() in every worker. */
  init?: TInit;
}

/** Messages between the pool and its bootstrap worker. */
export type ToWorker = { kind: 'init'; module: string; data: unknown } | { kind: 'run'; id: number; task: unknown };
export type FromWorker =
  | { kind: 'ready' }
  | { kind: 'init-error'; error: SerializedError }
  | { kind: 'done'; id: number; result: unknown }
  | { kind: 'error'; id: number; error: SerializedError };

interface Pending {
  resolve(v: unknown): void;
  reject(e: unknown): void;
}

interface Slot {
  worker: Worker;
  busy: boolean;
}

/** Resolves a module URL for the current mode: the .ts source under tsx when the .js is absent. */
export function resolveWorkerModule(url: URL | string): string {
  const u = typeof url === 'string' ? (url.startsWith('file:') ? new URL(url) : pathToFileURL(url)) : url;
  const path = fileURLToPath(u);
  if (existsSync(path)) return u.href;
  if (path.endsWith('.js')) {
    const ts = `${path.slice(0, -3)}.ts`;
    if (existsSync(ts)) return pathToFileURL(ts).href;
  }
  throw new Error(`worker module ${path} does not exist`);
}

/**
 * Starts a worker on the bootstrap module. From compiled JS it is pool-worker.js; under tsx it is the
 * .ts source, and because Node 20 does not carry the tsx loader of `--import tsx` into worker threads,
 * the worker first registers tsx's loader itself (tsx resolved from this file, so any cwd works).
 */
function startWorker(): Worker {
  const self = fileURLToPath(import.meta.url);
  if (!self.endsWith('.ts')) return new Worker(new URL('./pool-worker.js', import.meta.url));
  const tsxApi = import.meta.resolve('tsx/esm/api');
  const boot = new URL('./pool-worker.ts', import.meta.url).href;
  const code =
    `import(${JSON.stringify(tsxApi)}).then((m) => { m.register(); return import(${JSON.stringify(boot)}); }).catch((e) => { ` +
    'setImmediate(() => { throw e; }); });';
  return new Worker(code, { eval: true });
}

export class WorkerPool<TTask, TResult, TInit = unknown> {
  private slots: Slot[] = [];
  private queue: Array<{ id: number; task: TTask; transfer?: ArrayBuffer[]; target?: Slot }> = [];
  private pending = new Map<number, Pending & { slot?: Slot }>();
  private nextId = 1;
  private closed = false;

  private constructor(
    private readonly moduleHref: string,
    private readonly initData: TInit | undefined,
  ) {}

  get size(): number {
    return this.slots.length;
  }

  static async create<TTask, TResult, TInit = unknown>(
    module: URL | string,
    options: PoolOptions<TInit> = {},
  ): Promise<WorkerPool<TTask, TResult, TInit>> {
    const size = Math.max(1, Math.floor(options.size ?? availableParallelism()));
    const pool = new WorkerPool<TTask, TResult, TInit>(resolveWorkerModule(module), options.init);
    try {
      await Promise.all(Array.from({ length: size }, () => pool.spawn()));
    } catch (err) {
      await pool.close();
      throw err;
    }
    return pool;
  }

  private spawn(): Promise<Slot> {
    const worker = startWorker();
    const slot: Slot = { worker, busy: true };
    this.slots.push(slot);
    return new Promise<Slot>((resolve, reject) => {
      let ready = false;
      worker.on('message', (msg: FromWorker) => {
        if (msg.kind === 'ready') {
          ready = true;
          slot.busy = false;
          resolve(slot);
          this.pump();
          return;
        }
        if (msg.kind === 'init-error') {
          reject(deserializeError(msg.error));
          return;
        }
        const p = this.pending.get(msg.id);
        if (!p) return;
        this.pending.delete(msg.id);
        slot.busy = false;
        if (msg.kind === 'done') p.resolve(msg.result);
        else p.reject(deserializeError(msg.error));
        this.pump();
      });
      const fail = (err: Error) => {
        if (!ready) {
          reject(err);
          return;
        }
        for (const [id, p] of this.pending) {
          if (p.slot === slot) {
            this.pending.delete(id);
            p.reject(err);
          }
        }
        this.slots = this.slots.filter((s) => s !== slot);
        if (!this.closed) void this.spawn().catch(() => undefined);
      };
      worker.on('error', fail);
      worker.on('exit', (code) => {
        if (!this.closed) fail(new Error(`pool worker exited with code ${code}`));
      });
      worker.postMessage({ kind: 'init', module: this.moduleHref, data: this.initData } satisfies ToWorker);
    });
  }

  private pump(): void {
    for (let qi = 0; qi < this.queue.length; ) {
      const item = this.queue[qi]!;
      const slot = item.target ? (item.target.busy ? undefined : item.target) : this.slots.find((s) => !s.busy);
      if (!slot) {
        qi++;
        continue;
      }
      this.queue.splice(qi, 1);
      slot.busy = true;
      const p = this.pending.get(item.id);
      if (p) p.slot = slot;
      slot.worker.postMessage({ kind: 'run', id: item.id, task: item.task } satisfies ToWorker, item.transfer ?? []);
    }
  }

  private submit(task: TTask, transfer: ArrayBuffer[] | undefined, target: Slot | undefined): Promise<TResult> {
    if (this.closed) return Promise.reject(new Error('worker pool is closed'));
    const id = this.nextId++;
    const promise = new Promise<TResult>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
    });
    this.queue.push({ id, task, transfer, target });
    this.pump();
    return promise;
  }

  /** Runs one task on the next free worker. */
  run(task: TTask, transfer?: ArrayBuffer[]): Promise<TResult> {
    return this.submit(task, transfer, undefined);
  }

  /** Runs every task; results come back in task order. */
  map(tasks: readonly TTask[]): Promise<TResult[]> {
    return Promise.all(tasks.map((t) => this.run(t)));
  }

  /** Runs the task once on every worker (in parallel); results in worker order. */
  broadcast(task: TTask): Promise<TResult[]> {
    return Promise.all(this.slots.map((s) => this.submit(task, undefined, s)));
  }

  async close(): Promise<void> {
    this.closed = true;
    const err = new Error('worker pool closed');
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
    this.queue = [];
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
    this.slots = [];
  }
}
