// Compiles the AssemblyScript kernels (assembly/index.ts) to WebAssembly SIMD: build/kernels.wasm.
// Runs at `npm ci` (prepare); needs only npm's assemblyscript package, no network.
import asc from 'assemblyscript/asc';
import { mkdirSync } from 'node:fs';

mkdirSync('build', { recursive: true });
const { error, stderr } = await asc.main([
  'assembly/index.ts',
  '--outFile', 'build/kernels.wasm',
  '--textFile', 'build/kernels.wat',
  '-O3', '--noAssert',
  '--runtime', 'stub',
  '--enable', 'simd',
  '--disable', 'relaxed-simd',
  '--importMemory', '--initialMemory', '16', '--maximumMemory', '65536',
]);
if (error) {
  console.error(stderr.toString());
  console.error(`build-wasm: ${error.message}`);
  process.exit(1);
}
console.log('build-wasm: build/kernels.wasm');
