/**
 * The published package holds what an installed wavelm reads: the compiled CLI and library that
 * package.json points at, and every file the code opens relative to the package root (the wasm kernels
 * that `npm ci` builds, the codec's prior). A registry install runs no build, so a file left out of the
 * tarball is a CLI that fails on first use.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { test } from 'node:test';
import { projectRoot } from './helpers/shared.js';

/** Paths that `npm pack` would put in the tarball (no scripts run: dist/ and build/ are what `npm ci` left). */
function packedFiles(): Set<string> {
  const r = spawnSync('npm', ['pack', '--dry-run', '--ignore-scripts', '--json'], { cwd: projectRoot, encoding: 'utf8' });
  assert.equal(r.status, 0, `npm pack --dry-run failed: ${r.stderr}`);
  const [pack] = JSON.parse(r.stdout) as { files: { path: string }[] }[];
  return new Set(pack!.files.map((f) => f.path));
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? sourceFiles(p) : p.endsWith('.ts') ? [p] : [];
  });
}

/** Every `join(packageRoot(), 'a', 'b')` in src/: the files the code opens inside the installed package. */
function filesReadAtRuntime(): string[] {
  const found = new Set<string>();
  for (const file of sourceFiles(join(projectRoot, 'src'))) {
    for (const m of readFileSync(file, 'utf8').matchAll(/join\(packageRoot\(\),((?:\s*'[^']+',?)+)\)/g))
      found.add([...m[1]!.matchAll(/'([^']+)'/g)].map((p) => p[1]).join('/'));
  }
  return [...found].sort();
}

test('the tarball holds package.json entry points and every file the code reads from the package root', () => {
  const packed = packedFiles();
  const pkg = JSON.parse(readFileSync(join(projectRoot, 'package.json'), 'utf8')) as {
    bin: Record<string, string>;
    main: string;
    types: string;
  };
  const entries = [...Object.values(pkg.bin), pkg.main, pkg.types].map((p) => relative('.', p));
  const runtime = filesReadAtRuntime();
  assert.ok(runtime.includes('build/kernels.wasm') && runtime.includes('build/features.wasm'), `found ${runtime.join(', ')}`);
  for (const path of [...entries, ...runtime, 'LICENSE'])
    assert.ok(packed.has(path), `${path} is not in the npm tarball (package.json "files")`);
});

test('the tarball leaves out tests, benchmarks and sources that are only for development', () => {
  const packed = [...packedFiles()];
  for (const prefix of ['test/', 'bench/', 'dist/test/', 'dist/bench/', 'src/', 'assembly/'])
    assert.deepEqual(
      packed.filter((p) => p.startsWith(prefix)),
      [],
      `${prefix} is in the npm tarball`,
    );
});
