/**
 * The Python peers of ../shared/peers (their README lists them), run in the same benchmark run as wavelm's
 * figures so that the pair shares one machine and one minute. A peer that cannot run says why instead.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { shared } from './_util.js';

/** Debian's Python, where apt-get's python3-numpy / python3-torch install (../shared/peers/README.md). */
export const peerPython = '/usr/bin/python3';

export type PeerOutcome = { ok: true; stdout: string; wallSeconds: number } | { ok: false; skipped: string };

/** Why the peer cannot run (script or Python modules missing), or undefined when it can. */
export function peerUnavailable(script: string, modules: string[]): string | undefined {
  if (!shared('peers', script)) return `../shared/peers/${script} is missing`;
  if (!existsSync(peerPython))
    return `${peerPython} is missing (apt-get install -y python3 ${modules.map((m) => `python3-${m}`).join(' ')})`;
  const r = spawnSync(peerPython, ['-c', modules.map((m) => `import ${m}`).join('; ')], { encoding: 'utf8' });
  if (r.status !== 0)
    return `${peerPython} cannot import ${modules.join(', ')} (apt-get install -y ${modules.map((m) => `python3-${m}`).join(' ')})`;
  return undefined;
}

/** Runs ../shared/peers/SCRIPT ARGS... with Debian's Python. */
export function runPeer(script: string, args: string[], modules: string[], options: { timeoutMs?: number } = {}): PeerOutcome {
  const missing = peerUnavailable(script, modules);
  if (missing) return { ok: false, skipped: missing };
  const t0 = performance.now();
  const r = spawnSync(peerPython, [shared('peers', script)!, ...args], { encoding: 'utf8', timeout: options.timeoutMs });
  const wallSeconds = (performance.now() - t0) / 1000;
  if (r.error) return { ok: false, skipped: `${script} did not finish: ${String(r.error)}` };
  if (r.status !== 0)
    return { ok: false, skipped: `${script} exited with ${r.status ?? r.signal}: ${(r.stderr || r.stdout).trim().split('\n').pop()}` };
  return { ok: true, stdout: r.stdout, wallSeconds };
}
