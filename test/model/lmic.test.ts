// LMIC's params.npz in and out: the lmic-transformer fixtures' parameters written in the layout LMIC's
// train.py writes (np.savez of Haiku's module dicts; by Python's numpy, as plain, deflated and
// jax.Array-pickled files), imported by `wavelm import lmic`, give the fixture's log-probs; `wavelm
// export lmic` writes a file that LMIC's loading expression reads back to the same float32 values; an
// imported model compresses and decompresses bit-exactly through the CLI.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { encodeWav } from '../../src/audio/wav-encode.js';
import { loadModel } from '../../src/model/checkpoint.js';
import { exportLmicParams, importLmicParams } from '../../src/model/lmic.js';
import { lossAndGradients } from '../../src/model/transformer.js';
import type { ParamSet, TransformerConfig } from '../../src/model/api.js';
import { writeNpy } from '../../src/util/npy.js';
import { parseSafetensors, toFloat64 } from '../../src/util/safetensors.js';
import { sharedPath } from '../helpers/shared.js';
import { runCli } from '../cli/run.js';

interface Fixture {
  config: TransformerConfig;
  haikuNames: Record<string, string>;
  params: Map<string, { shape: number[]; data: Float64Array }>;
  tokens: Uint8Array;
  batch: number;
  length: number;
  logProbs: Float64Array;
}

function loadFixture(dir: string): Fixture {
  const meta = JSON.parse(readFileSync(join(dir, 'meta.json'), 'utf8')) as {
    config: { vocab_size: number; embedding_dim: number; num_layers: number; num_heads: number; widening_factor: number };
    haiku_param_names: Record<string, string>;
  };
  const c = meta.config;
  const st = parseSafetensors(new Uint8Array(readFileSync(join(dir, 'params.safetensors'))));
  const io = parseSafetensors(new Uint8Array(readFileSync(join(dir, 'io.safetensors'))));
  const tokens = io.tensors.get('tokens')!;
  return {
    config: {
      vocabSize: c.vocab_size,
      embeddingDim: c.embedding_dim,
      numLayers: c.num_layers,
      numHeads: c.num_heads,
      wideningFactor: c.widening_factor,
      embInitScale: 0.02,
      positionalEncoding: 'sinusoidal',
    },
    haikuNames: meta.haiku_param_names,
    params: new Map([...st.tensors].map(([n, t]) => [n, { shape: t.shape, data: toFloat64(t) }])),
    tokens: tokens.data as Uint8Array,
    batch: tokens.shape[0]!,
    length: tokens.shape[1]!,
    logProbs: toFloat64(io.tensors.get('log_probs')!),
  };
}

function maxLogProbError(f: Fixture, config: TransformerConfig, params: ParamSet): number {
  const r = lossAndGradients(config, params, { tokens: f.tokens, batchSize: f.batch, seqLen: f.length }, { logProbs: true });
  let err = 0;
  for (let i = 0; i < f.logProbs.length; i++) err = Math.max(err, Math.abs(r.logProbs![i]! - f.logProbs[i]!));
  return err;
}

function hasNumpy(t: TestContext): boolean {
  if (spawnSync('python3', ['-c', 'import numpy']).status === 0) return true;
  t.skip('python3 with numpy is not installed (apt-get install python3-numpy); the LMIC-layout files cannot be made');
  return false;
}

// Builds LMIC's params.npz from one .npy per parameter, as train.py's np.savez('params.npz', **params) does.
// 'jax' pickles every array the way a jax.Array pickles (jax/_src/array.py: ArrayImpl.__reduce__ returns
// _reconstruct_array(fun, args, arr_state, aval_state)), with a stand-in module since JAX is not installed.
const WRITE_LMIC_NPZ = `
import json, sys, types, numpy as np
src, out, mode = sys.argv[1:4]
params = {}
for ours, haiku in json.load(open(src + '/names.json')).items():
    module, param = haiku.rsplit('/', 1)
    value = np.load(src + '/' + ours + '.npy')
    params.setdefault(module, {})[param] = value if mode == 'f64' else value.astype(np.float32)
if mode == 'jax':
    jax_array = types.ModuleType('jax._src.array')
    def _reconstruct_array(fun, args, arr_state, aval_state):
        value = fun(*args)
        value.__setstate__(arr_state)
        return value
    _reconstruct_array.__module__ = 'jax._src.array'
    jax_array._reconstruct_array = _reconstruct_array
    sys.modules.update({'jax': types.ModuleType('jax'), 'jax._src': types.ModuleType('jax._src'), 'jax._src.array': jax_array})
    class ArrayImpl:
        def __init__(self, value): self._value = value
        def __reduce__(self):
            fun, args, arr_state = self._value.__reduce__()
            return (_reconstruct_array, (fun, args, arr_state, {'weak_type': False}))
    params = {m: {p: ArrayImpl(v) for p, v in d.items()} for m, d in params.items()}
(np.savez_compressed if mode == 'f64' else np.savez)(out, **params)
`;

function writeLmicNpz(f: Fixture, dir: string, mode: 'f32' | 'f64' | 'jax'): string {
  const src = join(dir, 'npy');
  mkdirSync(src, { recursive: true });
  for (const [name, t] of f.params) writeNpy(join(src, `${name}.npy`), t.data, t.shape);
  writeFileSync(join(src, 'names.json'), JSON.stringify(f.haikuNames));
  const out = join(dir, `params-${mode}.npz`);
  const r = spawnSync('python3', ['-c', WRITE_LMIC_NPZ, src, out, mode], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return out;
}

for (const name of ['d32', 'd64']) {
  test(`fixture ${name}: LMIC's params.npz (savez, savez_compressed of float64, jax.Array pickles) gives its log-probs`, async (t) => {
    const dir = sharedPath(t, 'fixtures', 'lmic-transformer', name);
    if (!dir || !hasNumpy(t)) return;
    const f = loadFixture(dir);
    const tmp = mkdtempSync(join(tmpdir(), 'wavelm-lmic-'));
    try {
      for (const mode of ['f32', 'f64', 'jax'] as const) {
        const npz = writeLmicNpz(f, tmp, mode);
        if (mode === 'jax') assert.ok(readFileSync(npz).includes('_reconstruct_array'), 'the arrays pickle as jax.Array does');
        const out = join(tmp, `${mode}.safetensors`);
        const r = await runCli(['--json', 'import', 'lmic', npz, '-o', out, '--heads', String(f.config.numHeads)]);
        assert.equal(r.code, 0, r.stderr);
        const model = loadModel(out);
        assert.deepEqual(model.config, f.config, `${mode}: config inferred from the shapes`);
        assert.equal(model.pipeline?.bitDepth, 8);
        const err = maxLogProbError(f, model.config, model.params);
        assert.ok(err < 2e-5, `${mode}: log-probs max abs error ${err}`);
      }
      // The head count is in no shape: a wrong one is refused when it cannot divide the width.
      const bad = await runCli(['import', 'lmic', join(tmp, 'params-f32.npz'), '-o', join(tmp, 'bad.safetensors'), '--heads', '5']);
      assert.equal(bad.code, 2, bad.stderr);
      assert.match(bad.stderr, /num_heads/);
      // A given TransformerConfig is checked against the shapes.
      const wrong = await runCli([
        'import',
        'lmic',
        join(tmp, 'params-f32.npz'),
        '-o',
        join(tmp, 'wrong.safetensors'),
        '--config',
        `{"num_layers": ${f.config.numLayers + 1}, "num_heads": ${f.config.numHeads}}`,
      ]);
      assert.equal(wrong.code, 5, wrong.stderr);
      assert.match(wrong.stderr, /num_layers=\d+ disagrees with the parameters/);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });
}

test("wavelm export lmic writes what LMIC's language_model.py loads: Haiku's names, float32 values of the model", async (t) => {
  const dir = sharedPath(t, 'fixtures', 'lmic-transformer', 'd32');
  if (!dir || !hasNumpy(t)) return;
  const f = loadFixture(dir);
  const tmp = mkdtempSync(join(tmpdir(), 'wavelm-lmic-'));
  try {
    const npzIn = writeLmicNpz(f, tmp, 'f32');
    const model = join(tmp, 'model.safetensors');
    assert.equal((await runCli(['import', 'lmic', npzIn, '-o', model, '--heads', '4'])).code, 0);
    const npzOut = join(tmp, 'exported.npz');
    const r = await runCli(['export', 'lmic', model, '-o', npzOut]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /num_heads=4/);
    // LMIC's _retrieve_model_params, then every array against the fixture's value cast to float32.
    const check = `
import json, sys, numpy as np
with np.load(sys.argv[1], allow_pickle=True) as data:
    params = {key: data[key].item() for key in data.files}
names = json.load(open(sys.argv[2] + '/names.json'))
assert sorted(f'{m}/{p}' for m, d in params.items() for p in d) == sorted(names.values())
for ours, haiku in names.items():
    module, param = haiku.rsplit('/', 1)
    got, want = params[module][param], np.load(sys.argv[2] + '/' + ours + '.npy').astype(np.float32)
    assert got.dtype == np.float32 and got.shape == want.shape and np.array_equal(got, want), ours
print('ok', len(names))
`;
    const py = spawnSync('python3', ['-W', 'error', '-c', check, npzOut, join(tmp, 'npy')], { encoding: 'utf8' });
    assert.equal(py.status, 0, py.stderr);
    assert.equal(py.stdout.trim(), `ok ${f.params.size}`);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});

test('export then import gives the same parameters bit for bit, with no Python involved', (t) => {
  const dir = sharedPath(t, 'fixtures', 'lmic-transformer', 'd32');
  if (!dir) return;
  const f = loadFixture(dir);
  const params: ParamSet = {};
  for (const [n, p] of f.params) params[n] = { shape: p.shape, data: Float32Array.from(p.data) };
  const tmp = mkdtempSync(join(tmpdir(), 'wavelm-lmic-'));
  try {
    const npz = join(tmp, 'params.npz');
    exportLmicParams(npz, f.config, params);
    const back = importLmicParams(npz, { config: { num_heads: f.config.numHeads } });
    assert.deepEqual(back.config, f.config);
    assert.deepEqual(Object.keys(back.params).sort(), Object.keys(params).sort());
    for (const n of Object.keys(params)) assert.deepEqual(back.params[n], params[n], n);
    assert.ok(maxLogProbError(f, back.config, back.params) < 2e-5);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});

test('an imported LMIC model compresses with wavelm compress -m and decompresses to the same bytes', async (t) => {
  const dir = sharedPath(t, 'fixtures', 'lmic-transformer', 'd32');
  if (!dir) return;
  const f = loadFixture(dir);
  const params: ParamSet = {};
  for (const [n, p] of f.params) params[n] = { shape: p.shape, data: Float32Array.from(p.data) };
  const tmp = mkdtempSync(join(tmpdir(), 'wavelm-lmic-'));
  try {
    const npz = join(tmp, 'params.npz');
    exportLmicParams(npz, f.config, params);
    const model = join(tmp, 'lmic.safetensors');
    assert.equal((await runCli(['import', 'lmic', npz, '-o', model, '--heads', '4'])).code, 0);
    const samples = new Uint8Array(3000).map((_, i) => 128 + Math.round(50 * Math.sin(i / 7)));
    const wav = encodeWav({ sampleRate: 8000, channels: 1, frames: samples.length, sampleType: 'uint8', bitsPerSample: 8, samples });
    writeFileSync(join(tmp, 'in.wav'), wav);
    const c = await runCli(['compress', join(tmp, 'in.wav'), '-m', model, '-o', join(tmp, 'in.wlm'), '--workers', '1']);
    assert.equal(c.code, 0, c.stderr);
    const d = await runCli(['decompress', join(tmp, 'in.wlm'), '-m', model, '-o', join(tmp, 'out.wav'), '--workers', '1']);
    assert.equal(d.code, 0, d.stderr);
    assert.deepEqual(new Uint8Array(readFileSync(join(tmp, 'out.wav'))), wav);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});
