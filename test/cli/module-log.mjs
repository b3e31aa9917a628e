// Loader hooks for test/cli/startup.test.ts: appends every module URL the process resolves to the file named
// by WAVELM_MODULE_LOG (hooks run on their own thread, so a file is the simplest channel back).
import { appendFileSync } from 'node:fs';
import { register } from 'node:module';

const log = process.env.WAVELM_MODULE_LOG;
if (log && !process.env.WAVELM_MODULE_LOG_HOOKS) {
  process.env.WAVELM_MODULE_LOG_HOOKS = '1';
  register(import.meta.url, { data: { log } });
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
