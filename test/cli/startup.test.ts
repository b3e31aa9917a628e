/**
 * Start-up loads only what the command line asks for: `--version` no command, `--help` no library module,
 * `info` only its file and src/audio (the timing is bench/startup.ts; tests assert which modules load, not how fast).
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

/** tsx, which runs the sources here, and the compiler it loads: not what a user's `wavelm` loads. */
const TS_RUNNER = ['tsx', 'esbuild', 'get-tsconfig', 'resolve-pkg-maps'];

/** Runs the CLI from source and returns the project files (relative paths) and packages it loaded. */
function loadedBy(args: string[]): { code: number | null; stdout: string; src: string[]; packages: string[] } {
  const log = join(dir, `modules-${args[0]!.replace(/\W/g, '')}.log`);
  writeFileSync(log, '');
  const hooks = pathToFileURL(join(projectRoot, 'test', 'cli', 'module-log.mjs')).href;
  const r = spawnSync(
    process.execPath,
    ['--import', import.meta.resolve('tsx'), '--import', hooks, join(projectRoot, 'src', 'cli', 'main.ts'), ...args],
    {
      env: { ...process.env, WAVELM_MODULE_LOG: log },
      encoding: 'utf8',
    },
  );
  const files = readFileSync(log, 'utf8')
    .split('\n')
    .filter((u) => u.startsWith('file:'))
    .map((u) => fileURLToPath(u));
  const src = [...new Set(files.filter((f) => f.startsWith(join(projectRoot, 'src'))).map((f) => f.slice(projectRoot.length + 1)))].sort();
  const packages = [
    ...new Set(
      files
        .map((f) => /node_modules\/((@[^/]+\/)?[^/]+)/.exec(f)?.[1])
        .filter((p): p is string => p !== undefined && !TS_RUNNER.includes(p)),
    ),
  ].sort();
  return { code: r.status, stdout: r.stdout, src, packages };
}

/** What every command line loads: the entry, the command list and what every command shares. */
const CORE = [
  'src/cli/commander.ts',
  'src/cli/commands.ts',
  'src/cli/common.ts',
  'src/cli/main.ts',
  'src/util/errors.ts',
  'src/util/paths.ts',
  'src/util/progress.ts',
];
/** The library's table of training options, which `train` declares its options from: data that imports nothing at run time. */
const TRAIN_OPTIONS = 'src/model/training/options.ts';
/** Numeric bounds, shared by the option parsers and the library's checks: a module with no imports. */
const RANGE = 'src/util/range.ts';

test('--version loads no command and no library module', () => {
  const r = loadedBy(['--version']);
  assert.equal(r.code, 0);
  assert.match(r.stdout, /^\d+\.\d+\.\d+\n$/);
  assert.deepEqual(r.src, CORE);
  assert.deepEqual(r.packages, ['commander']);
});

test("--help declares every command, loads no library code; a command's help loads only its file (train's: and its option table)", () => {
  const all = loadedBy(['--help']);
  assert.equal(all.code, 0);
  assert.match(all.stdout, /decompress/);
  assert.ok(all.src.includes('src/cli/dataset.ts') && all.src.includes('src/cli/train.ts'), all.src.join(', '));
  assert.deepEqual(
    all.src.filter((f) => !/^src\/cli\/[a-z]+\.ts$/.test(f) && !CORE.includes(f)),
    [TRAIN_OPTIONS, RANGE],
  );
  const train = loadedBy(['train', '--help']);
  assert.equal(train.code, 0);
  assert.match(train.stdout, /--wandb-config <json>/);
  assert.deepEqual(
    train.src.filter((f) => !CORE.includes(f)),
    ['src/cli/options.ts', 'src/cli/train.ts', TRAIN_OPTIONS, RANGE],
  );
  assert.deepEqual(train.packages, ['commander']);
});

test('info WAV loads its command file and src/audio, no other layer or package', () => {
  const wav = join(dir, 'tone.wav');
  writeFileSync(
    wav,
    encodeWav({ sampleRate: 8000, channels: 1, frames: 800, sampleType: 'int16', bitsPerSample: 16, samples: new Int16Array(800) }),
  );
  const r = loadedBy(['info', wav]);
  assert.equal(r.code, 0);
  assert.match(r.stdout, /tone\.wav: wav\/pcm, 8000 Hz/);
  // The loader itself, not the barrel: the writers and the embedded-audio lookup stay out of `info`'s start-up.
  assert.ok(r.src.includes('src/audio/load.ts'));
  for (const f of ['src/audio/index.ts', 'src/audio/wav-writer.ts', 'src/audio/wav-encode.ts', 'src/audio/default.ts'])
    assert.ok(!r.src.includes(f), `info loads ${f}`);
  assert.deepEqual(
    r.src.filter((f) => !CORE.includes(f) && !f.startsWith('src/audio/')),
    ['src/cli/info.ts'],
  );
  assert.deepEqual(r.packages, ['commander']);
});

test("eval's help lists exactly the compressors of the registry", () => {
  assert.deepEqual([...CLASSICAL_COMPRESSOR_NAMES].sort(), Object.keys(CLASSICAL_COMPRESSORS).sort());
});
