/**
 * `lm:CHECKPOINT` for `wavelm eval`: each 2048-byte chunk coded on its own by the model and the range
 * coder, exactly as it would be inside a .wlm archive (no header to amortise: LMIC counts an LM's
 * output in full). Chunks run on worker threads; sizes do not depend on how many.
 */
import type { IncrementalPredictor } from '../model/api.js';
import { UnsupportedError } from '../util/errors.js';
import type { ProgressSink } from '../util/progress.js';
import type { CompressionModel } from './archive.js';
import type { CompressContext } from './compressor.js';
import type { BatchCompressor } from './evaluate.js';
import { encodeChunk, type TokenMode } from './lm-codec.js';
import { makePredictor, runChunkJobs, type ChunkJob, type EncodeResult } from './parallel.js';

function tokensOf(data: Uint8Array, mode: TokenMode): Uint8Array | Uint16Array {
  if (mode === 'u8') return data;
  // 16-bit models: little-endian int16 samples.
  const n = data.length >> 1;
  const t = new Uint16Array(n);
  for (let i = 0; i < n; i++) t[i] = ((data[2 * i]! | (data[2 * i + 1]! << 8)) ^ 0x8000) & 0xffff;
  return t;
}

export class LmCompressor implements BatchCompressor {
  readonly kind = 'lm' as const;
  readonly description: string;
  private predictor?: IncrementalPredictor;
  private readonly mode: TokenMode;
  /** `withLmic`: also code every chunk with LMIC's coder and report its rate (extra.lmicCoderRate). */
  constructor(
    readonly name: string,
    private readonly model: CompressionModel,
    private readonly workers = 1,
    private readonly withLmic = false,
  ) {
    if (model.vocabSize !== 256 && model.vocabSize !== 65536)
      throw new UnsupportedError(`${name}: vocabulary ${model.vocabSize}; eval needs an 8-bit or 16-bit model`);
    this.mode = model.vocabSize === 256 ? 'u8' : 'u16';
    this.description = `${model.vocabSize === 256 ? '8' : '16'}-bit LM + range coder`;
  }

  compress(data: Uint8Array): Uint8Array {
    if (!this.predictor) throw new UnsupportedError(`${this.name}: call init() first (single-chunk compress needs workers = 1)`);
    return encodeChunk(this.predictor, this.mode, tokensOf(data, this.mode));
  }

  async init(): Promise<void> {
    // Only single-chunk compress() needs a predictor in this thread; compressChunks uses workers.
    if (this.workers <= 1) this.predictor ??= await makePredictor(this.model.spec);
  }

  dispose(): Promise<void> {
    (this.predictor as { dispose?: () => void } | undefined)?.dispose?.();
    this.predictor = undefined;
    return Promise.resolve();
  }

  async compressChunks(
    chunks: Uint8Array[],
    _ctx: CompressContext,
    progress: ProgressSink,
  ): Promise<{ sizes: number[]; seconds: number; extra: Record<string, number | string> }> {
    const jobs: ChunkJob[] = chunks.map((c) => ({
      kind: 'encode',
      mode: this.mode,
      tokens: tokensOf(c, this.mode).slice(),
      lmic: this.withLmic,
    }));
    const t0 = performance.now();
    const results = (await runChunkJobs(this.model.spec, jobs, this.workers, () => progress.tick(1))) as EncodeResult[];
    const seconds = (performance.now() - t0) / 1000;
    const sizes = results.map((r) => r.data.length);
    const raw = chunks.reduce((a, c) => a + c.length, 0);
    const ideal = results.reduce((a, r) => a + r.idealBits, 0) / 8;
    const coded = sizes.reduce((a, b) => a + b, 0);
    const extra: Record<string, number | string> = {
      idealRate: ideal / raw,
      coderOverhead: coded / ideal - 1,
      workers: this.workers,
      bytesPerSecond: raw / seconds,
    };
    if (this.withLmic) extra.lmicCoderRate = results.reduce((a, r) => a + (r.lmicBytes ?? 0), 0) / raw;
    return { sizes, seconds, extra };
  }
}
