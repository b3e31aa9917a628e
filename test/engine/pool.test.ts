import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WorkerPool } from '../../src/engine/pool.js';
import { getEngine } from '../../src/engine/wasm.js';
import { ConfigError, exitCodeFor } from '../../src/util/errors.js';

type Task = { x: number; fail?: boolean; typed?: boolean };
type Init = { offset: number; refuse?: boolean };
type Result = { y: number; thread: number; exp: number };

test('pool runs a TS worker module under tsx, results in task order, one wasm instance per worker', async () => {
  const pool = await WorkerPool.create<Task, Result, { offset: number }>(new URL('./pool-task.fixture.js', import.meta.url), {
    size: 2,
    init: { offset: 1 },
  });
  try {
    const tasks = Array.from({ length: 20 }, (_, i) => ({ x: i }));
    const out = await pool.map(tasks);
    assert.deepEqual(
      out.map((r) => r.y),
      tasks.map((t) => t.x * t.x + 1),
    );
    // Both workers are idle when map starts, so the first two tasks go to different workers, and
    // every task ran in one of the two (never on the main thread, whose threadId is 0).
    const b2 = await pool.broadcast({ x: 3 });
    const workerThreads = b2.map((r) => r.thread).sort();
    assert.equal(new Set(workerThreads).size, 2);
    assert.ok(workerThreads.every((id) => id !== 0));
    assert.notEqual(out[0]!.thread, out[1]!.thread);
    assert.deepEqual([...new Set(out.map((r) => r.thread))].sort(), workerThreads);
    // the kernels in the workers give the same bits as in the main thread
    const e = getEngine();
    const a = e.arena();
    const b = a.from(tasks.map((t) => t.x));
    e.k.vexp(b.ptr, b.ptr, tasks.length);
    const here = Array.from(e.f32(b));
    a.dispose();
    // vexp on 4-lane SIMD body vs scalar tail must agree bit for bit
    assert.deepEqual(
      out.map((r) => r.exp),
      here,
    );
    assert.deepEqual(
      b2.map((r) => r.y),
      [10, 10],
    );
    await assert.rejects(pool.run({ x: 5, fail: true }), /bad task 5/);
    assert.equal((await pool.run({ x: 2 })).y, 5);
  } finally {
    await pool.close();
  }
});

test('a typed error thrown in a worker task arrives with its class, code and subject', async () => {
  const pool = await WorkerPool.create<Task, Result, Init>(new URL('./pool-task.fixture.js', import.meta.url), {
    size: 1,
    init: { offset: 0 },
  });
  try {
    const err = await pool.run({ x: 7, typed: true }).then(
      () => assert.fail('the task should have failed'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof ConfigError, `expected a ConfigError, got ${String(err)}`);
    assert.equal(err.code, 'ECONFIG');
    assert.equal(err.subject, '--x');
    assert.equal(err.message, '--x 7 is not allowed');
    assert.equal(exitCodeFor(err), 2);
    // a plain error keeps its name and message, and the worker goes on serving
    await assert.rejects(pool.run({ x: 5, fail: true }), { name: 'RangeError', message: 'bad task 5' });
    assert.equal((await pool.run({ x: 3 })).y, 9);
  } finally {
    await pool.close();
  }
});

test("a typed error thrown by a worker module's init rejects create() with that error", async () => {
  const err = await WorkerPool.create<Task, Result, Init>(new URL('./pool-task.fixture.js', import.meta.url), {
    size: 2,
    init: { offset: 0, refuse: true },
  }).then(
    async (pool) => {
      await pool.close();
      return assert.fail('create should have failed');
    },
    (e: unknown) => e,
  );
  assert.ok(err instanceof ConfigError, `expected a ConfigError, got ${String(err)}`);
  assert.equal(err.subject, '--offset');
});
