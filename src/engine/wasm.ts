/**
 * The compute engine's WebAssembly loader: one instance of build/kernels.wasm per thread, with a
 * small allocator over its memory.
 *
 * API (for every area that calls kernels, including the EnCodec kernels in assembly/codec/):
 *
 *   import { getEngine } from '../engine/wasm.js';
 *   const eng = getEngine();                      // this thread's instance (main thread or a worker)
 *   const a = eng.arena();                        // a group of allocations freed together
 *   const x = a.f32(n);                           // Float32 block: { ptr, length }
 *   eng.f32(x).set(data);                         // a fresh Float32Array view over the block
 *   eng.k.gemm_nn(...);                           // typed kernels (interface Kernels below)
 *   const myKernel = eng.fn<(p: number, n: number) => void>('codec_conv1d');  // any other export
 *   a.dispose();                                  // frees every block of the arena
 *
 * - Pointers are byte offsets into wasm memory (numbers); blocks are 16-byte aligned (SIMD loads).
 * - Memory grows on demand (up to 4 GiB). Growing detaches every typed array obtained before, so
 *   take views (`eng.f32(block)`, `eng.view(...)`) after the allocations they follow, and never
 *   keep one across a call that may allocate.
 * - Kernels never allocate; all scratch space is passed in by the caller.
 * - Each worker thread that imports this module gets its own instance (module state is per thread).
 *   `createEngine()` makes an extra independent instance when a caller wants isolation.
 * - New kernels: write them in assembly/<area>/*.ts, re-export from assembly/index.ts, rebuild with
 *   `node scripts/build-wasm.mjs`, then call them with `eng.fn(name)` (or add them to `Kernels`).
 */
import { readFileSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import { join } from 'node:path';
import { packageRoot, readBuiltWasm } from '../util/paths.js';
import { NotFoundError, WavelmError } from '../util/errors.js';

/** A block of wasm memory: byte offset and element count (f32 or i32 elements). */
export interface Block {
  readonly ptr: number;
  readonly length: number;
}

/** The kernels of assembly/ with their signatures (pointers are byte offsets, counts are elements). */
export interface Kernels {
  abiVersion(): number;
  heapBase(): number;
  // elementwise elementary functions (tests; the same code the fused kernels inline)
  vexp(x: number, y: number, n: number): void;
  /** the attention-weight exp (n a multiple of 4) */
  vexp_fast(x: number, y: number, n: number): void;
  vtanh(x: number, y: number, n: number): void;
  vlog(x: number, y: number, n: number): void;
  // matrices: row-major with row strides; acc = 1 adds to C. See assembly/gemm.ts.
  /** C[M,N] (+)= A[M,K] B[K,N] */
  gemm_nn(M: number, N: number, K: number, A: number, lda: number, B: number, ldb: number, C: number, ldc: number, acc: number): void;
  /** C[M,N] (+)= A^T B, A stored [K,M] */
  gemm_tn(M: number, N: number, K: number, A: number, lda: number, B: number, ldb: number, C: number, ldc: number, acc: number): void;
  /** C[M,N] (+)= A B^T, B stored [N,K] */
  gemm_nt(M: number, N: number, K: number, A: number, lda: number, B: number, ldb: number, C: number, ldc: number, acc: number): void;
  // layers and elementwise ops: see assembly/nn.ts
  add_bias(M: number, N: number, Y: number, b: number): void;
  col_sum(M: number, N: number, dY: number, db: number): void;
  vadd(n: number, X: number, Y: number, Z: number): void;
  vscale(n: number, X: number, s: number): void;
  sumsq(n: number, X: number): number;
  transpose(R: number, C: number, In: number, ldi: number, Out: number, ldo: number): void;
  ln_fwd(T: number, D: number, X: number, scale: number, offset: number, Y: number, mean: number, rstd: number, eps: number): void;
  ln_bwd(
    T: number,
    D: number,
    X: number,
    dY: number,
    scale: number,
    mean: number,
    rstd: number,
    dX: number,
    dScale: number,
    dOffset: number,
  ): void;
  gelu_fwd(n: number, X: number, Y: number): void;
  gelu_bwd(n: number, X: number, dY: number, dX: number): void;
  embed_fwd(T: number, D: number, tokens: number, E: number, s: number, P: number, X: number): void;
  embed_bwd(T: number, D: number, tokens: number, dX: number, s: number, dE: number): void;
  softmax(T: number, V: number, X: number, P: number): void;
  log_softmax(T: number, V: number, X: number, L: number, scratch: number): void;
  /** returns sum of -log p(target) (float64); overwrites X with (softmax - onehot) * g when g != 0 */
  xent(T: number, V: number, X: number, targets: number, g: number, LP: number): number;
  adam(
    n: number,
    P: number,
    G: number,
    M: number,
    V: number,
    lr: number,
    b1: number,
    b2: number,
    eps: number,
    bc1: number,
    bc2: number,
    gs: number,
  ): void;
  sinusoid_table(T: number, D: number, out: number): void;
  rotary_table(T: number, dh: number, cosT: number, sinT: number): void;
  rotary(T: number, H: number, dh: number, X: number, ld: number, cosT: number, sinT: number, t0: number, dir: number): void;
  // incremental inference: see assembly/lm.ts
  gemv(N: number, K: number, x: number, W: number, b: number, y: number): void;
  lm_step(table: number, token: number): void;
  lm_prepare(table: number): void;
  lm_pack_bytes(d: number, f: number, V: number, L: number): number;
  // attention: see assembly/attention.ts
  attn_scratch_size(T: number, dh: number): number;
  attn_fwd(
    T: number,
    H: number,
    dh: number,
    Q: number,
    K: number,
    V: number,
    ld: number,
    O: number,
    ldo: number,
    LSE: number,
    Kt: number,
    Vt: number,
    S: number,
    scale: number,
  ): void;
  attn_bwd(
    T: number,
    H: number,
    dh: number,
    Q: number,
    K: number,
    V: number,
    ld: number,
    O: number,
    dO: number,
    ldo: number,
    LSE: number,
    dQ: number,
    dK: number,
    dV: number,
    ldg: number,
    Kt: number,
    Vt: number,
    dKt: number,
    dVt: number,
    S: number,
    scale: number,
  ): void;
}

// Minimal WebAssembly typings: the project's tsconfig has no DOM lib and @types/node 20 does not
// declare the WebAssembly global, so the loader types the few parts it uses itself.
export interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}
export interface WasmInstance {
  readonly exports: Record<string, unknown>;
}
type WasmModule = object;
interface WasmApi {
  Module: new (bytes: Uint8Array) => WasmModule;
  Instance: new (module: WasmModule, imports: Record<string, Record<string, unknown>>) => WasmInstance;
  Memory: new (desc: { initial: number; maximum?: number }) => WasmMemory;
}
const WA = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

const PAGE = 65536;
const MAX_PAGES = 65536;
const ALIGN = 16;

let compiled: WasmModule | undefined;

/** The path of the compiled kernels. */
export function kernelsPath(): string {
  return join(packageRoot(), 'build', 'kernels.wasm');
}

function wasmModule(): WasmModule {
  if (compiled) return compiled;
  const path = kernelsPath();
  const bytes = readBuiltWasm(path);
  // V8 first runs wasm in its baseline compiler (Liftoff) and swaps in optimised code only on a later
  // call; a kernel called once for seconds (attention over a long sequence) would stay 3-5x slower.
  // Compile straight to optimised code instead. This only changes speed, never results (both tiers
  // implement IEEE semantics). WAVELM_WASM_LIFTOFF=1 keeps V8's default.
  if (process.env.WAVELM_WASM_LIFTOFF !== '1') setFlagsFromString('--no-liftoff');
  compiled = new WA.Module(bytes);
  return compiled;
}

/** Free-list allocator over wasm memory (first fit, coalescing). */
class Allocator {
  // Free blocks sorted by address: [start, size] in bytes.
  private free: Array<[number, number]> = [];
  private sizes = new Map<number, number>();
  private top: number;
  constructor(
    private readonly memory: WasmMemory,
    base: number,
  ) {
    this.top = roundUp(base, ALIGN);
  }

  alloc(bytes: number): number {
    const size = roundUp(Math.max(bytes, ALIGN), ALIGN);
    for (let i = 0; i < this.free.length; i++) {
      const [start, sz] = this.free[i]!;
      if (sz >= size) {
        if (sz === size) this.free.splice(i, 1);
        else this.free[i] = [start + size, sz - size];
        this.sizes.set(start, size);
        return start;
      }
    }
    const start = this.top;
    const end = start + size;
    const have = this.memory.buffer.byteLength;
    if (end > have) {
      const pages = Math.ceil((end - have) / PAGE);
      const cur = have / PAGE;
      if (cur + pages > MAX_PAGES) {
        throw new WavelmError(
          'ECONFIG',
          `wasm memory exhausted: ${bytes} more bytes requested with ${have} in use (4 GiB limit); use shorter sequences or a ` +
            'smaller batch',
        );
      }
      // Grow by at least 1/8 of the current size so that many small allocations do not grow page by page.
      this.memory.grow(Math.min(MAX_PAGES - cur, Math.max(pages, Math.ceil(cur / 8))));
    }
    this.top = end;
    this.sizes.set(start, size);
    return start;
  }

  release(ptr: number): void {
    const size = this.sizes.get(ptr);
    if (size === undefined) throw new Error(`wasm free: ${ptr} is not an allocated block`);
    this.sizes.delete(ptr);
    // insert sorted, coalesce with neighbours
    let lo = 0;
    let hi = this.free.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.free[mid]![0] < ptr) lo = mid + 1;
      else hi = mid;
    }
    this.free.splice(lo, 0, [ptr, size]);
    if (lo + 1 < this.free.length && this.free[lo]![0] + this.free[lo]![1] === this.free[lo + 1]![0]) {
      this.free[lo]![1] += this.free[lo + 1]![1];
      this.free.splice(lo + 1, 1);
    }
    if (lo > 0 && this.free[lo - 1]![0] + this.free[lo - 1]![1] === this.free[lo]![0]) {
      this.free[lo - 1]![1] += this.free[lo]![1];
      this.free.splice(lo, 1);
      lo--;
    }
    // give the last free block back to the bump pointer
    const last = this.free[this.free.length - 1];
    if (last && last[0] + last[1] === this.top) {
      this.top = last[0];
      this.free.pop();
    }
  }

  get inUse(): number {
    let s = 0;
    for (const v of this.sizes.values()) s += v;
    return s;
  }
}

function roundUp(n: number, a: number): number {
  return Math.ceil(n / a) * a;
}

/** A group of allocations that are freed together. */
export class Arena {
  private blocks: number[] = [];
  constructor(private readonly engine: Engine) {}
  /** n float32 elements (uninitialised unless zero is true). */
  f32(n: number, zero = false): Block {
    return this.bytes(n * 4, n, zero);
  }
  /** n int32 elements. */
  i32(n: number, zero = false): Block {
    return this.bytes(n * 4, n, zero);
  }
  /** A float32 block holding a copy of data. */
  from(data: Float32Array | ArrayLike<number>): Block {
    const b = this.f32(data.length);
    this.engine.f32(b).set(data);
    return b;
  }
  private bytes(nbytes: number, length: number, zero: boolean): Block {
    const ptr = this.engine.alloc(nbytes);
    this.blocks.push(ptr);
    if (zero) new Uint8Array(this.engine.memory.buffer, ptr, nbytes).fill(0);
    return { ptr, length };
  }
  dispose(): void {
    for (let i = this.blocks.length - 1; i >= 0; i--) this.engine.free(this.blocks[i]!);
    this.blocks = [];
  }
}

/** One wasm instance of the kernels with its memory and allocator. */
export class Engine {
  readonly memory: WasmMemory;
  readonly instance: WasmInstance;
  /** The kernels, typed. */
  readonly k: Kernels;
  private readonly allocator: Allocator;

  constructor(module?: WasmModule) {
    this.memory = new WA.Memory({ initial: 16, maximum: MAX_PAGES });
    this.instance = new WA.Instance(module ?? wasmModule(), {
      env: {
        memory: this.memory,
        abort: () => {
          throw new Error('wasm kernel abort');
        },
      },
    });
    this.k = this.instance.exports as unknown as Kernels;
    this.allocator = new Allocator(this.memory, this.k.heapBase());
  }

  /** Allocates bytes (16-byte aligned); returns the byte offset. */
  alloc(bytes: number): number {
    return this.allocator.alloc(bytes);
  }
  free(ptr: number): void {
    this.allocator.release(ptr);
  }
  /** Bytes currently allocated. */
  get bytesInUse(): number {
    return this.allocator.inUse;
  }
  arena(): Arena {
    return new Arena(this);
  }
  /** A Float32Array view over a block (or ptr + length); invalid after the memory grows. */
  f32(b: Block): Float32Array;
  f32(ptr: number, length: number): Float32Array;
  f32(b: Block | number, length?: number): Float32Array {
    return typeof b === 'number' ? new Float32Array(this.memory.buffer, b, length) : new Float32Array(this.memory.buffer, b.ptr, b.length);
  }
  i32(b: Block): Int32Array;
  i32(ptr: number, length: number): Int32Array;
  i32(b: Block | number, length?: number): Int32Array {
    return typeof b === 'number' ? new Int32Array(this.memory.buffer, b, length) : new Int32Array(this.memory.buffer, b.ptr, b.length);
  }
  u8(ptr: number, length: number): Uint8Array {
    return new Uint8Array(this.memory.buffer, ptr, length);
  }
  /** Any export by name (kernels added by other areas); throws when it does not exist. */
  fn<F extends (...args: never[]) => unknown>(name: string): F {
    const f = this.instance.exports[name];
    if (typeof f !== 'function') {
      throw new NotFoundError(`wasm export "${name}" not found in ${kernelsPath()}: rebuild with "node scripts/build-wasm.mjs"`, {
        subject: name,
      });
    }
    return f as unknown as F;
  }
}

let threadEngine: Engine | undefined;

/** This thread's engine instance (created on first use). */
export function getEngine(): Engine {
  threadEngine ??= new Engine();
  return threadEngine;
}

/**
 * A new, independent engine instance; of another build of the kernels when `wasmFile` is given (A/B
 * comparisons of kernel variants in one process, see bench/kernel-ab.ts).
 */
export function createEngine(wasmFile?: string): Engine {
  if (!wasmFile) return new Engine();
  wasmModule(); // sets the compiler flags
  let bytes: Buffer;
  try {
    bytes = readFileSync(wasmFile);
  } catch (err) {
    throw new NotFoundError(
      `${wasmFile}: cannot read this build of the kernels (copy build/kernels.wasm aside after "node scripts/build-wasm.mjs")`,
      { subject: wasmFile, cause: err },
    );
  }
  return new Engine(new WA.Module(bytes));
}
