// Entry point of the compute kernels (compiled to build/kernels.wasm by scripts/build-wasm.mjs).
// Each kernel family lives in its own file and is re-exported here.
export function abiVersion(): i32 {
  return 1;
}
