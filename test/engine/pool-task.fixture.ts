// Worker module used by pool.test.ts: squares numbers in its own wasm instance.
import { threadId } from 'node:worker_threads';
import { getEngine } from '../../src/engine/wasm.js';
import { ConfigError } from '../../src/util/errors.js';

let offset = 0;
export function init(data: { offset: number; refuse?: boolean }): void {
  if (data.refuse) throw new ConfigError('init refused: offset is out of range', { subject: '--offset' });
  offset = data.offset;
}
export function run(task: { x: number; fail?: boolean; typed?: boolean }): { y: number; thread: number; exp: number } {
  if (task.typed) throw new ConfigError(`--x ${task.x} is not allowed`, { subject: '--x' });
  if (task.fail) throw new RangeError(`bad task ${task.x}`);
  const e = getEngine();
  const a = e.arena();
  const b = a.from([task.x]);
  e.k.vexp(b.ptr, b.ptr, 1);
  const exp = e.f32(b)[0]!;
  a.dispose();
  return { y: task.x * task.x + offset, thread: threadId, exp };
}
