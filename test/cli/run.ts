/** Runs the wavelm CLI from source (node --import tsx src/cli/main.ts ...), as a user would. */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { projectRoot } from '../helpers/shared.js';

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function runCli(args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    // tsx resolved here, not from the child's cwd, so that a test may run the CLI in a temporary folder.
    const child = spawn(process.execPath, ['--import', import.meta.resolve('tsx'), join(projectRoot, 'src', 'cli', 'main.ts'), ...args], {
      cwd: opts.cwd ?? projectRoot,
      env: { ...process.env, ...opts.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 120_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}
