// Entry point of the features kernels (compiled to build/features.wasm by scripts/build-wasm.mjs), a module apart
// from the engine's build/kernels.wasm because src/features sits below src/engine: each caller instantiates it with
// memory of its own (src/features/wasm.ts), and lays out that memory from heapBase() up.
/** First byte past the static data. */
export function heapBase(): usize {
  return __heap_base;
}
export { stage2, stage3, stage4, stage5, fill, post, mel } from './pairfft';
export { dct } from './dct';
export { poly } from './poly';
