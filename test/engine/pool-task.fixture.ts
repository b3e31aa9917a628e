// Worker module used by pool.test.ts: squares numbers in its own wasm instance.
import { threadId } from 'node:worker_threads';
import { getEngine } from '../../src/engine/wasm.js';

let offset = 0;
export function init(data: { offset: number }): void {
  offset = data.offset;
}
export function run(task: { x: number; fail?: boolean }): { y: number; thread: number; exp: number } {
  if (task.fail) throw new RangeError(`bad task ${task.x}`);
  const e = getEngine();
  const a = e.arena();
  const b = a.from([task.x]);
  e.k.vexp(b.ptr, b.ptr, 1);
  const exp = e.f32(b)[0]!;
  a.dispose();
  return { y: task.x * task.x + offset, thread: threadId, exp };
}
