/**
 * Start-up loads only what the command line asks for: `--version` and `--help` load no library module,
 * `info` only src/audio (the timing is bench/startup.ts; tests assert which modules load, not how fast).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { after, test } from 'node:test';
import { encodeWav } from '../../src/audio/index.js';
import { CLASSICAL_COMPRESSORS } from '../../src/compress/compressors.js';
import { CLASSICAL_COMPRESSOR_NAMES } from '../../src/cli/eval.js';
import { projectRoot } from '../helpers/shared.js';

const dir = mkdtempSync(join(tmpdir(), 'wavelm-cli-startup-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** Runs the CLI from source and returns the project files (relative paths) and packages it loaded. */
function loadedBy(args: string[]): { code: number | null; stdout: string; src: string[]; packages: string[] } {
  const log = join(dir, `modules-${args[0]!.replace(/\W/g, '')}.log`);
  writeFileSync(log, '');
  const hooks = pathToFileURL(join(projectRoot, 'test', 'cli', 'module-log.mjs')).href;
  const r = spawnSync(process.execPath, ['--import', import.meta.resolve('tsx'), '--import', hooks, join(projectRoot, 'src', 'cli', 'main.ts'), ...args], {
    env: { ...process.env, WAVELM_MODULE_LOG: log },
    encoding: 'utf8',
  });
  const files = readFileSync(log, 'utf8').split('\n').filter((u) => u.startsWith('file:')).map((u) => fileURLToPath(u));
  const src = [...new Set(files.filter((f) => f.startsWith(join(projectRoot, 'src'))).map((f) => f.slice(projectRoot.length + 1)))].sort();
  const packages = [...new Set(files.map((f) => /node_modules\/((@[^/]+\/)?[^/]+)/.exec(f)?.[1]).filter((p): p is string => p !== undefined && p !== 'tsx'))].sort();
  return { code: r.status, stdout: r.stdout, src, packages };
}

const DECLARATIONS = /^src\/(cli\/[a-z-]+|util\/(errors|paths|progress))\.ts$/;

test('--version and --help load the command declarations and commander, no library module', () => {
  for (const args of [['--version'], ['--help'], ['train', '--help']]) {
    const r = loadedBy(args);
    assert.equal(r.code, 0, args.join(' '));
    assert.ok(r.src.includes('src/cli/main.ts'), `the log names the modules (${r.src.join(', ')})`);
    assert.deepEqual(r.src.filter((f) => !DECLARATIONS.test(f)), [], `${args.join(' ')} loads library modules`);
    assert.deepEqual(r.packages, ['commander'], `${args.join(' ')} loads packages`);
  }
});

test('info WAV loads src/audio and no other layer or package', () => {
  const wav = join(dir, 'tone.wav');
  writeFileSync(wav, encodeWav({ sampleRate: 8000, channels: 1, frames: 800, sampleType: 'int16', bitsPerSample: 16, samples: new Int16Array(800) }));
  const r = loadedBy(['info', wav]);
  assert.equal(r.code, 0);
  assert.match(r.stdout, /tone\.wav: wav\/pcm, 8000 Hz/);
  assert.ok(r.src.some((f) => f.startsWith('src/audio/')));
  assert.deepEqual(r.src.filter((f) => !DECLARATIONS.test(f) && !f.startsWith('src/audio/')), []);
  assert.deepEqual(r.packages, ['commander']);
});

test("eval's help lists exactly the compressors of the registry", () => {
  assert.deepEqual([...CLASSICAL_COMPRESSOR_NAMES].sort(), Object.keys(CLASSICAL_COMPRESSORS).sort());
});
