/**
 * Batch encoding over many files: cached results are returned without work, the rest are encoded in a
 * worker pool (one model per worker) or, for a single worker, in this thread. Results come back in input order.
 */
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { WorkerPool } from '../engine/pool.js';
import type { ProgressSink } from '../util/progress.js';
import { readAudioInfo } from '../audio/index.js';
import { codebooksForBandwidth, readEncodecConfig, segmentation } from './config.js';
import { ParallelEncodec } from './parallel.js';
import { silentProgress } from '../util/progress.js';
import {
  AudioProcessor,
  CodesCache,
  featuresFromEncoded,
  modelFingerprint,
  sha256File,
  sourceRecord,
  type CodecFeatures,
  type ProcessorOptions,
} from './processor.js';
import { encodeFile, modelRateBlocks, type SourceShape } from './stream-files.js';
import type { EncodeTask, EncodeWorkerInit } from './worker.js';

export interface BatchOptions {
  modelDir: string;
  bandwidth: number;
  maxSeconds?: number;
  /** Worker threads (default: min(files, available cores)). 1 encodes in this thread. */
  workers?: number;
  /** Cache folder, or null to disable caching. */
  cacheDir?: string | null;
  backend?: ProcessorOptions['backend'];
  progress?: ProgressSink;
  /** Called as each file finishes (in completion order). */
  onResult?: (index: number, result: BatchResult) => void;
}

export interface BatchResult {
  path: string;
  features: CodecFeatures;
  cached: boolean;
  seconds: number;
}

export async function encodeFiles(paths: string[], opts: BatchOptions): Promise<BatchResult[]> {
  // Checked here, before any hashing or worker start-up, so a wrong folder or bandwidth fails fast with a typed error.
  const config = readEncodecConfig(join(opts.modelDir, 'config.json'));
  codebooksForBandwidth(config, opts.bandwidth);
  const progress = opts.progress ?? silentProgress;
  const cache = opts.cacheDir ? new CodesCache(opts.cacheDir) : undefined;
  const modelSha = cache ? modelFingerprint(opts.modelDir) : '';
  const results: (BatchResult | undefined)[] = new Array(paths.length);
  const todo: { index: number; task: EncodeTask; key?: string }[] = [];
  progress.start(paths.length, 'encodec');
  const finish = (i: number, r: BatchResult): void => {
    results[i] = r;
    opts.onResult?.(i, r);
    progress.tick(1);
  };
  for (let i = 0; i < paths.length; i++) {
    const path = paths[i]!;
    const sha = sha256File(path);
    const key = cache?.key(sha, modelSha, opts.bandwidth, opts.maxSeconds);
    const hit = key ? cache!.get(key) : undefined;
    if (hit) finish(i, { path, features: hit, cached: true, seconds: 0 });
    else todo.push({ index: i, task: { path, bandwidth: opts.bandwidth, maxSeconds: opts.maxSeconds, sha256: sha }, key });
  }
  const store = (t: (typeof todo)[number], features: CodecFeatures, seconds: number): void => {
    if (t.key) cache!.put(t.key, features);
    finish(t.index, { path: t.task.path, features, cached: false, seconds });
  };
  const maxWorkers = Math.max(1, opts.workers ?? availableParallelism());
  const workers = Math.min(todo.length, maxWorkers);
  try {
    if (todo.length === 0) {
      // all cached
    } else if (todo.length === 1 && maxWorkers > 1 && segmentation(config)) {
      // One file, a segmented model: its segments are independent, so they are spread over the workers as the file is read.
      const t = todo[0]!;
      const t0 = performance.now();
      const info = await readAudioInfo(t.task.path);
      const seconds = Math.min(info.durationSeconds, opts.maxSeconds ?? Infinity);
      const segments = Math.max(1, Math.ceil((seconds * config.samplingRate) / segmentation(config)!.stride));
      const par = await ParallelEncodec.create({ modelDir: opts.modelDir, backend: opts.backend }, Math.min(maxWorkers, segments));
      try {
        const shape: SourceShape = { sampleRate: 0, channels: 0, frames: 0 };
        const enc = await par.encodeBlocks(modelRateBlocks(config, t.task.path, { maxSeconds: opts.maxSeconds }, shape), opts.bandwidth);
        const src = sourceRecord(shape, opts.maxSeconds, { path: t.task.path, ...(t.task.sha256 ? { sha256: t.task.sha256 } : {}) });
        store(t, featuresFromEncoded(config, enc, src), (performance.now() - t0) / 1000);
      } finally {
        await par.close();
      }
    } else if (workers === 1) {
      const proc = AudioProcessor.load(opts.modelDir, { backend: opts.backend });
      for (const t of todo) {
        const t0 = performance.now();
        const f = await encodeFile(proc, t.task.path, { bandwidth: t.task.bandwidth, maxSeconds: t.task.maxSeconds }, t.task.sha256);
        store(t, f, (performance.now() - t0) / 1000);
      }
    } else {
      const pool = await WorkerPool.create<EncodeTask, CodecFeatures, EncodeWorkerInit>(new URL('./worker.js', import.meta.url), {
        size: workers,
        init: { modelDir: opts.modelDir, backend: opts.backend },
      });
      try {
        await Promise.all(
          todo.map(async (t) => {
            const t0 = performance.now();
            const f = await pool.run(t.task);
            store(t, f, (performance.now() - t0) / 1000);
          }),
        );
      } finally {
        await pool.close();
      }
    }
  } finally {
    progress.stop();
  }
  return results as BatchResult[];
}
