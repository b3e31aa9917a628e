/**
 * Incremental next-token prediction with a key/value cache, in the calling thread's wasm instance.
 * One token = one wasm call (assembly/lm.ts: lm_step) running the whole layer stack, so compression
 * and decompression, which call it the same way, see bit-identical probabilities.
 */
import { getEngine, type Arena, type Block, type Engine } from '../engine/wasm.js';
import { ConfigError } from '../util/errors.js';
import type { IncrementalPredictor, ParamSet, TransformerConfig } from './api.js';
import { flattenParams, paramLayout, type ParamLayout } from './config.js';

const SLOTS = 18; // table slots before the per-layer pointers (see assembly/lm.ts)
const QSCALE_SLOT = 15; // LM_QSCALE: the 16-bit cache's steps
const PACK_SLOT = 16; // LM_PACK: the packed projections
const PER_LAYER = 14;

export interface PredictorOptions {
  /** Initial cache capacity in tokens (grows on demand; default 2048). */
  capacity?: number;
  /** Engine to run in (default: this thread's). */
  engine?: Engine;
}

/** Wasm memory of a predictor, freed by dispose() or, as a safety net, when the predictor is garbage-collected. */
interface Held {
  arenas: Arena[];
}
const reclaim = new FinalizationRegistry<Held>((held) => {
  for (const a of held.arenas) a.dispose();
});

export class KvPredictor implements IncrementalPredictor {
  readonly config: TransformerConfig;
  private readonly eng: Engine;
  private readonly layout: ParamLayout;
  private readonly arena: Arena;
  private readonly params: Block;
  private readonly table: Block;
  private cacheArena: Arena | undefined;
  private cap = 0;
  private pos = 0;
  private probs!: Block;
  private viewsOf: ArrayBuffer | undefined;
  private tableView: Int32Array = new Int32Array(0);
  private probsView: Float32Array = new Float32Array(0);
  private disposed = false;
  private readonly held: Held = { arenas: [] };

  constructor(params: ParamSet | Float32Array, config: TransformerConfig, options: PredictorOptions = {}) {
    this.config = config;
    this.eng = options.engine ?? getEngine();
    this.layout = paramLayout(config);
    const flat = params instanceof Float32Array ? params : flattenParams(this.layout, params);
    if (flat.length !== this.layout.total)
      throw new ConfigError(`flat parameter vector has ${flat.length} floats, the configuration needs ${this.layout.total}`);
    this.arena = this.eng.arena();
    this.params = this.arena.from(flat);
    this.table = this.arena.i32(SLOTS + PER_LAYER * config.numLayers, true);
    this.held.arenas.push(this.arena);
    reclaim.register(this, this.held, this);
    // lm_prepare packs the projections into 16-bit integers (assembly/gemv16.ts) and, for head size 8,
    // sets the steps of the 16-bit key/value cache (assembly/attend16.ts), both from the weights
    const d = config.embeddingDim;
    const scales = this.arena.f32(config.numLayers * 4 * d, true);
    const packed = this.arena.f32(this.eng.k.lm_pack_bytes(d, config.wideningFactor * d, config.vocabSize, config.numLayers) / 4, true);
    const t = this.eng.i32(this.table);
    t[QSCALE_SLOT] = scales.ptr;
    t[PACK_SLOT] = packed.ptr;
    this.grow(Math.max(8, Math.ceil((options.capacity ?? 2048) / 8) * 8));
    this.eng.k.lm_prepare(this.table.ptr);
  }

  /** Tokens fed since reset (the position of the next token). */
  get position(): number {
    return this.pos;
  }

  private grow(cap: number): void {
    const c = this.config;
    const d = c.embeddingDim;
    const H = c.numHeads;
    const dh = d / H;
    const f = c.wideningFactor * d;
    const old = this.cacheArena;
    const oldCap = this.cap;
    const next = this.eng.arena();
    const caches: Array<[Block, Block]> = [];
    for (let l = 0; l < c.numLayers; l++) caches.push([next.f32(H * cap * dh, true), next.f32(H * cap * dh, true)]);
    const posTab = next.f32(c.positionalEncoding === 'rotary' ? cap * (dh / 2) : cap * d);
    const sinTab = c.positionalEncoding === 'rotary' ? next.f32(cap * (dh / 2)) : { ptr: 0, length: 0 };
    const scratch = next.f32(8 * d + 2 * f + cap + c.vocabSize + cap / 2 + f / 2 + 4);
    const probs = next.f32(c.vocabSize);
    if (c.positionalEncoding === 'rotary') this.eng.k.rotary_table(cap, dh, posTab.ptr, sinTab.ptr);
    else this.eng.k.sinusoid_table(cap, d, posTab.ptr);
    if (old) {
      // carry the cached keys/values over, per head: the first ceil(pos/4) blocks of four positions
      // (f32), or ceil(pos/8) groups of eight (16-bit cache, head size 8)
      const t = this.eng.i32(this.table);
      const bytes = dh === 8 ? 2 : 4;
      const used = (dh === 8 ? Math.ceil(this.pos / 8) * 8 : Math.ceil(this.pos / 4) * 4) * dh * bytes;
      const mem = new Uint8Array(this.eng.memory.buffer);
      for (let l = 0; l < c.numLayers; l++) {
        const ok = t[SLOTS + l * PER_LAYER + 12]!;
        const ov = t[SLOTS + l * PER_LAYER + 13]!;
        const [nk, nv] = caches[l]!;
        for (let h = 0; h < H; h++) {
          const from = h * oldCap * dh * bytes;
          mem.copyWithin(nk.ptr + h * cap * dh * bytes, ok + from, ok + from + used);
          mem.copyWithin(nv.ptr + h * cap * dh * bytes, ov + from, ov + from + used);
        }
      }
      old.dispose();
    }
    this.cacheArena = next;
    this.held.arenas = [this.arena, next];
    this.cap = cap;
    this.probs = probs;
    this.viewsOf = undefined;
    const t = this.eng.i32(this.table);
    const P = this.params.ptr;
    const lay = this.layout;
    t[0] = d;
    t[1] = c.numLayers;
    t[2] = H;
    t[3] = f;
    t[4] = c.vocabSize;
    t[5] = cap;
    t[6] = c.positionalEncoding === 'rotary' ? 1 : 0;
    t[7] = this.pos;
    t[8] = P + 4 * lay.embed;
    t[9] = posTab.ptr;
    t[10] = sinTab.ptr;
    t[11] = P + 4 * lay.outW;
    t[12] = P + 4 * lay.outB;
    t[13] = probs.ptr;
    t[14] = scratch.ptr;
    for (let l = 0; l < c.numLayers; l++) {
      const o = lay.layers[l]!;
      const b = SLOTS + l * PER_LAYER;
      const offs = [o.q, o.k, o.v, o.o, o.ln1s, o.ln1o, o.fc1w, o.fc1b, o.fc2w, o.fc2b, o.ln2s, o.ln2o];
      for (let i = 0; i < offs.length; i++) t[b + i] = P + 4 * offs[i]!;
      t[b + 12] = caches[l]![0].ptr;
      t[b + 13] = caches[l]![1].ptr;
    }
  }

  private step(token: number): Float32Array {
    if (this.disposed) throw new Error('predictor is disposed');
    if (!(Number.isInteger(token) && token >= 0 && token < this.config.vocabSize)) {
      throw new RangeError(`token ${token} is outside the vocabulary 0..${this.config.vocabSize - 1}`);
    }
    if (this.pos >= this.cap) this.grow(this.cap * 2);
    // views over the table and the output, rebuilt only when wasm memory has grown (which detaches them)
    if (this.eng.memory.buffer !== this.viewsOf) {
      this.viewsOf = this.eng.memory.buffer;
      this.tableView = this.eng.i32(this.table);
      this.probsView = this.eng.f32(this.probs);
    }
    this.tableView[7] = this.pos;
    this.eng.k.lm_step(this.table.ptr, token);
    this.pos++;
    return this.probsView.slice();
  }

  reset(): Float32Array {
    this.pos = 0;
    return this.step(0);
  }

  next(token: number): Float32Array {
    if (this.pos === 0) throw new Error('call reset() before next()');
    return this.step(token);
  }

  /** Frees the wasm memory held by the predictor. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    reclaim.unregister(this);
    this.cacheArena?.dispose();
    this.arena.dispose();
    this.held.arenas = [];
  }
}

/** IncrementalPredictor over the given parameters (ParamSet or the flat vector of paramLayout). */
export async function createPredictor(
  params: ParamSet | Float32Array,
  config: TransformerConfig,
  options: PredictorOptions = {},
): Promise<KvPredictor> {
  return new KvPredictor(params, config, options);
}
