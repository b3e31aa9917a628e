// Entry point of the compute kernels (compiled to build/kernels.wasm by scripts/build-wasm.mjs).
// Each kernel family lives in its own file and is re-exported here.
export function abiVersion(): i32 {
  return 1;
}
/** First byte past the static data: the JS-side allocator (src/engine/wasm.ts) hands out memory from here. */
export function heapBase(): usize {
  return __heap_base;
}
export { vexp, vexp_fast, vtanh, vlog } from './mathf';
export * from './gemm';
export * from './nn';
export * from './attention';
export * from './codec/index';
export * from './lm';
export * from './gemv16';
export { attend8q, cache_put8 } from './attend16';
