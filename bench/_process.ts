/**
 * The path a user runs: the built CLI (`node dist/src/cli/main.js`, from `npm ci` or `npm run build:ts`) as a
 * spawned process, timed from process start to exit. Benchmarks put these figures beside their in-process
 * library calls, so that decoding, writing, model loading and Node's start-up are counted where a user pays them.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot } from './_util.js';

export const cliPath = join(projectRoot, 'dist', 'src', 'cli', 'main.js');

export interface ProcessRun {
  /** Wall seconds from spawn to exit. */
  wallSeconds: number;
  /** User + system CPU seconds of the process and its threads (undefined where /proc is missing). */
  cpuSeconds: number | undefined;
  stdout: string;
}

/** The newest modification time of the TypeScript sources under dir. */
function newestSource(dir: string): number {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newestSource(p) : e.name.endsWith('.ts') ? statSync(p).mtimeMs : 0);
  }
  return t;
}

let checkedStale = false;

/** Throws when dist/ is missing; warns on stderr (once) when it is older than src/. */
export function requireBuiltCli(bench: string): string {
  if (!existsSync(cliPath)) throw new Error(`${cliPath} is missing: build it with npm run build:ts`);
  if (!checkedStale && statSync(cliPath).mtimeMs < newestSource(join(projectRoot, 'src'))) {
    process.stderr.write(`${bench}: dist/ is older than src/; run npm run build:ts to time the current code\n`);
  }
  checkedStale = true;
  return cliPath;
}

/**
 * CPU seconds of this process's waited-for children (cutime + cstime of /proc/self/stat, fields 16 and 17,
 * in clock ticks of 1/100 s on Linux: proc(5)). The difference around a spawnSync is that child's CPU time.
 */
function childrenCpuSeconds(): number | undefined {
  let stat: string;
  try {
    stat = readFileSync('/proc/self/stat', 'utf8');
  } catch {
    return undefined;
  }
  // Fields after the command name, which is in parentheses and may hold spaces: field 3 is at index 0.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[16 - 3]) + Number(fields[17 - 3]);
  return Number.isFinite(ticks) ? ticks / 100 : undefined;
}

/** Runs `wavelm ARGS...` to completion; a failed run throws with its stderr (a broken CLI would time fast). */
export function runWavelm(args: string[], options: { timeoutMs?: number } = {}): ProcessRun {
  const cpu0 = childrenCpuSeconds();
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [cliPath, ...args], {
    encoding: 'utf8',
    maxBuffer: 1 << 26,
    timeout: options.timeoutMs,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const wallSeconds = (performance.now() - t0) / 1000;
  const cpu1 = childrenCpuSeconds();
  if (r.status !== 0) {
    const why = r.error ? String(r.error) : `exited with ${r.status ?? r.signal}`;
    throw new Error(`wavelm ${args.join(' ')} ${why}: ${(r.stderr ?? '').trim().split('\n').slice(-3).join(' | ')}`);
  }
  return { wallSeconds, cpuSeconds: cpu0 === undefined || cpu1 === undefined ? undefined : cpu1 - cpu0, stdout: r.stdout };
}

/** The fastest of `repeat` runs by wall time and, separately, by CPU time (the steadier figure on a shared machine). */
export function bestWavelmRun(
  repeat: number,
  args: () => string[],
): { wallSeconds: number; cpuSeconds: number | undefined; stdout: string } {
  let best: ProcessRun | undefined;
  let cpu: number | undefined;
  for (let i = 0; i < repeat; i++) {
    const r = runWavelm(args());
    if (!best || r.wallSeconds < best.wallSeconds) best = r;
    if (r.cpuSeconds !== undefined) cpu = Math.min(cpu ?? Infinity, r.cpuSeconds);
  }
  if (!best) throw new Error('bestWavelmRun: repeat must be at least 1');
  return { wallSeconds: best.wallSeconds, cpuSeconds: cpu, stdout: best.stdout };
}

/** The last JSON object a `wavelm --json ...` run printed on stdout. */
export function lastJson(stdout: string): Record<string, unknown> {
  const line = stdout
    .trim()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .pop();
  if (!line) throw new Error(`no JSON result in wavelm's output: ${stdout.slice(-300)}`);
  return JSON.parse(line) as Record<string, unknown>;
}
