/**
 * One stream over several worker threads: the 48 kHz model's 1 s segments are independent, so they are
 * encoded and decoded on a pool (one model per worker) and joined in order; codes and audio are identical
 * to the single-thread model's. Models without segments (24 kHz, causal, one pass) run on one worker.
 */
import { join } from 'node:path';
import { WorkerPool } from '../engine/pool.js';
import { codebooksForBandwidth, readEncodecConfig, segmentation, type EncodecConfig } from './config.js';
import { ConfigError } from '../util/errors.js';
import { linearOverlapAdd, type EncodedAudio, type EncodedChunk, type Planar } from './model.js';
import { SegmentCutter } from './stream.js';
import type { ModelSource, SegmentResult, SegmentTask } from './segment-worker.js';

export class ParallelEncodec {
  private constructor(
    readonly config: EncodecConfig,
    private readonly pool: WorkerPool<SegmentTask, SegmentResult, ModelSource>,
  ) {}

  static async create(src: ModelSource, workers: number): Promise<ParallelEncodec> {
    const config = 'modelDir' in src ? readEncodecConfig(join(src.modelDir, 'config.json')) : src.random.config;
    const pool = await WorkerPool.create<SegmentTask, SegmentResult, ModelSource>(new URL('./segment-worker.js', import.meta.url), {
      size: workers,
      init: src,
    });
    return new ParallelEncodec(config, pool);
  }

  private segments(length: number): { offset: number; length: number }[] {
    const seg = segmentation(this.config);
    if (!seg) return [{ offset: 0, length }];
    const out = [];
    for (let off = 0; off < length; off += seg.stride) out.push({ offset: off, length: Math.min(seg.length, length - off) });
    return out;
  }

  async encode(x: Planar, bandwidth: number): Promise<EncodedAudio> {
    const codebooks = codebooksForBandwidth(this.config, bandwidth);
    const tasks: SegmentTask[] = this.segments(x.length).map(({ offset, length }) => {
      const d = new Float32Array(x.channels * length);
      for (let ch = 0; ch < x.channels; ch++) d.set(x.data.subarray(ch * x.length + offset, ch * x.length + offset + length), ch * length);
      return { op: 'encode', x: { data: d, channels: x.channels, length }, codebooks };
    });
    const chunks = (await this.pool.map(tasks)) as EncodedChunk[];
    return { chunks, length: x.length, bandwidth };
  }

  /**
   * Encodes a signal arriving in blocks: segments are cut as their samples arrive and sent to the pool a
   * few per worker at a time, so memory holds those segments, not the signal.
   */
  async encodeBlocks(blocks: AsyncIterable<Planar>, bandwidth: number): Promise<EncodedAudio> {
    const codebooks = codebooksForBandwidth(this.config, bandwidth);
    const cutter = new SegmentCutter(this.config);
    const chunks: EncodedChunk[] = [];
    let waiting: Planar[] = [];
    const batch = 2 * this.pool.size;
    const send = async (): Promise<void> => {
      const tasks = waiting.map((x): SegmentTask => ({ op: 'encode', x, codebooks }));
      waiting = [];
      chunks.push(...((await this.pool.map(tasks)) as EncodedChunk[]));
    };
    for await (const block of blocks) {
      waiting.push(...cutter.push(block));
      if (waiting.length >= batch) await send();
    }
    waiting.push(...cutter.end());
    await send();
    if (cutter.length === 0) throw new ConfigError('encodec: cannot encode an empty signal');
    return { chunks, length: cutter.length, bandwidth };
  }

  async decode(enc: { chunks: EncodedChunk[]; length?: number }): Promise<Planar> {
    const frames = (await this.pool.map(enc.chunks.map((chunk): SegmentTask => ({ op: 'decode', chunk })))) as Planar[];
    const seg = segmentation(this.config);
    let out = seg ? linearOverlapAdd(frames, seg.stride) : frames[0]!;
    if (enc.length !== undefined && enc.length < out.length) {
      const d = new Float32Array(out.channels * enc.length);
      for (let ch = 0; ch < out.channels; ch++) d.set(out.data.subarray(ch * out.length, ch * out.length + enc.length), ch * enc.length);
      out = { data: d, channels: out.channels, length: enc.length };
    }
    return out;
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}
