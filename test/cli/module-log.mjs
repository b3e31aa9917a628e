// Loader hooks for test/cli/startup.test.ts: appends every module URL the process resolves to the file named
// by WAVELM_MODULE_LOG (hooks run on their own thread, so a file is the simplest channel back). CommonJS
// modules loaded with require() (commander: src/cli/commander.ts) pass no ESM hook; they are appended from
// require's cache when the process exits.
import { appendFileSync } from 'node:fs';
import { createRequire, register } from 'node:module';
import { pathToFileURL } from 'node:url';

const log = process.env.WAVELM_MODULE_LOG;
if (log && !process.env.WAVELM_MODULE_LOG_HOOKS) {
  process.env.WAVELM_MODULE_LOG_HOOKS = '1';
  register(import.meta.url, { data: { log } });
  process.on('exit', () => {
    for (const path of Object.keys(createRequire(import.meta.url).cache)) appendFileSync(log, `${pathToFileURL(path).href}\n`);
  });
}

let file;
export function initialize(data) {
  file = data.log;
}

export async function resolve(specifier, context, next) {
  const r = await next(specifier, context);
  if (file) appendFileSync(file, `${r.url}\n`);
  return r;
}
