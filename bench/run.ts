/**
 * Benchmark runner: `npm run bench -- NAME [ARGS...]` runs bench/NAME.ts, whose default export is an
 * async generator of result objects; each is printed as one JSON line on stdout.
 */
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export type BenchResult = Record<string, unknown>;
export type Bench = (args: string[]) => AsyncIterable<BenchResult>;

const here = dirname(fileURLToPath(import.meta.url));
const [name, ...args] = process.argv.slice(2);
const available = readdirSync(here)
  .filter((f) => f.endsWith('.ts') && f !== 'run.ts' && !f.startsWith('_'))
  .map((f) => f.slice(0, -3));
if (!name || !available.includes(name)) {
  process.stderr.write(`usage: npm run bench -- NAME [ARGS...]\nbenchmarks: ${available.join(', ')}\n`);
  process.exit(name ? 2 : 0);
}
const file = join(here, `${name}.ts`);
if (!existsSync(file)) process.exit(2);
const mod = (await import(pathToFileURL(file).href)) as { default: Bench };
for await (const r of mod.default(args)) {
  process.stdout.write(`${JSON.stringify({ bench: name, ...r })}\n`);
}
