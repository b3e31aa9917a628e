/**
 * The features' WebAssembly SIMD kernels (assembly/features/, compiled to build/features.wasm at `npm ci`): the pair
 * FFT and mel stages, the MFCC's DCT and the resampler's polyphase dot products. A module apart from the engine's
 * (src/features sits below src/engine); every caller gets an instance with memory of its own, so resamplers, STFT
 * plans and DCTs never share scratch space. Callers fall back to their scalar loops when this returns undefined.
 */
import { join } from 'node:path';
import { packageRoot, readBuiltWasm } from '../util/paths.js';

// The project's lib setting (ES2022, no DOM) carries no WebAssembly typings; these are the few members used.
export interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: Record<string, unknown> };
  CompileError: new () => Error;
}
const WA = (globalThis as unknown as { WebAssembly?: WasmApi }).WebAssembly;

/** One Stockham stage of the pair FFT (assembly/features/pairfft.ts); pointers are byte offsets. */
export type StageKernel = (src: number, dst: number, tw: number, m: number, s: number) => void;

/** An instance's exports, typed (see assembly/features/ for what each computes). */
export interface FeatureKernels {
  readonly memory: WasmMemory;
  /** First byte free for the caller's layout, at a cache line (64 bytes): the kernels read 64-byte blocks. */
  readonly base: number;
  readonly stage2: StageKernel;
  readonly stage3: StageKernel;
  readonly stage4: StageKernel;
  readonly stage5: StageKernel;
  /** Frame B is read at y + 32768. */
  fill(h: number, y: number, win: number, dst: number): void;
  post(src: number, ptw: number, h: number, out: number): void;
  mel(w: number, start: number, off: number, nMels: number, pow: number, out: number): void;
  dct(src: number, basis: number, out: number, nIn: number, nOut: number, tb: number): void;
  poly(x: number, b: number, out: number, n: number, ph: number, iLow: number, up: number, dq: number, dr: number, k8: number): void;
}

/** The path of the compiled features kernels. */
export function featuresWasmPath(): string {
  return join(packageRoot(), 'build', 'features.wasm');
}

let compiled: object | null | undefined;

function compile(api: WasmApi): object | null {
  const path = featuresWasmPath();
  const bytes = readBuiltWasm(path);
  try {
    return new api.Module(bytes);
  } catch (err) {
    // A WebAssembly engine without SIMD rejects the module; the callers' scalar loops compute the same sums.
    if (err instanceof api.CompileError) return null;
    throw err;
  }
}

/** A fresh instance of the features kernels, or undefined without WebAssembly SIMD or under WAVELM_NO_SIMD=1. */
export function featureKernels(): FeatureKernels | undefined {
  if (process.env.WAVELM_NO_SIMD === '1' || WA === undefined) return undefined;
  if (compiled === undefined) compiled = compile(WA);
  if (compiled === null) return undefined;
  const e = new WA.Instance(compiled, {}).exports;
  const fn = <F>(name: string): F => e[name] as F;
  return {
    memory: e.memory as WasmMemory,
    base: Math.ceil(fn<() => number>('heapBase')() / 64) * 64,
    stage2: fn('stage2'),
    stage3: fn('stage3'),
    stage4: fn('stage4'),
    stage5: fn('stage5'),
    fill: fn('fill'),
    post: fn('post'),
    mel: fn('mel'),
    dct: fn('dct'),
    poly: fn('poly'),
  };
}

/** Grows `memory` to at least `bytes`. */
export function ensureMemory(memory: WasmMemory, bytes: number): void {
  const have = memory.buffer.byteLength;
  if (bytes > have) memory.grow(Math.ceil((bytes - have) / 65536));
}
