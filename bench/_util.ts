/** Shared helpers for benchmarks: where ../shared is, timing, and peak RSS. */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const projectRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const sharedRoot = process.env.WAVELM_SHARED ?? resolve(projectRoot, '..', 'shared');

export function shared(...parts: string[]): string | undefined {
  const p = join(sharedRoot, ...parts);
  return existsSync(p) ? p : undefined;
}

/** Runs fn `repeat` times and returns the best wall time in seconds (warm cache, least noise). */
export async function bestOf(repeat: number, fn: () => Promise<unknown> | unknown): Promise<number> {
  let best = Infinity;
  for (let i = 0; i < repeat; i++) {
    const t0 = performance.now();
    await fn();
    best = Math.min(best, (performance.now() - t0) / 1000);
  }
  return best;
}

export function peakRssMB(): number {
  return process.resourceUsage().maxRSS / 1024;
}
