// Compiles the AssemblyScript kernels to WebAssembly SIMD: the engine's (assembly/index.ts -> build/kernels.wasm,
// memory imported so that src/engine/wasm.ts can share and grow it) and the features' (assembly/features/index.ts
// -> build/features.wasm, memory its own and exported, since every resampler, STFT plan and DCT instantiates one).
// Runs at `npm ci` (prepare); needs only npm's assemblyscript package, no network.
import asc from 'assemblyscript/asc';
import { mkdirSync } from 'node:fs';

const common = ['-O3', '--noAssert', '--runtime', 'stub', '--enable', 'simd', '--disable', 'relaxed-simd'];
const targets = [
  { entry: 'assembly/index.ts', name: 'kernels', flags: ['--importMemory', '--initialMemory', '16', '--maximumMemory', '65536'] },
  // No abort import: the features kernels never trap on purpose, so the module instantiates with no imports.
  // 10 pages hold the pair FFT's fixed regions and small twiddle tables without a grow, which would cost as much
  // as the rest of creating an STFT plan's instance.
  { entry: 'assembly/features/index.ts', name: 'features', flags: ['--initialMemory', '10', '--use', 'abort='] },
];

mkdirSync('build', { recursive: true });
for (const { entry, name, flags } of targets) {
  const { error, stderr } = await asc.main([
    entry,
    '--outFile',
    `build/${name}.wasm`,
    '--textFile',
    `build/${name}.wat`,
    ...common,
    ...flags,
  ]);
  if (error) {
    console.error(stderr.toString());
    console.error(`build-wasm: ${error.message}`);
    process.exit(1);
  }
  console.log(`build-wasm: build/${name}.wasm`);
}
