/**
 * `wavelm demo`: the README's main job on the embedded default audio, the whole loop in stages:
 * byte-token chunks, a short training run, compress.py's evaluation on held-out files, and a
 * lossless round trip. Each stage receives what the earlier ones produced.
 */
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { tmpdir } from 'node:os';
import type { Command } from 'commander';
import type { EvalResult } from '../compress/evaluate.js';
import type { IteratorOptions } from '../tokens/index.js';
import { ConfigError, MismatchError } from '../util/errors.js';
import { action, barFor, emit, warn } from './common.js';
import { integerOption, numberOption } from './options.js';
import { addPipelineOptions, describeChunks, pipelineOptions, runChunks, type ChunksResult, type PipelineFlags } from './chunks.js';

/** What the demo's steps share: inputs, options, and each step's result by name. */
export interface DemoContext {
  cmd: Command;
  audioDir: string;
  outDir: string;
  pipeline: IteratorOptions;
  settings: DemoSettings;
  results: Record<string, unknown>;
}

/** The demo's knobs beyond the pipeline: how long to train and how much to evaluate. */
export interface DemoSettings {
  steps: number;
  seqLen: number;
  batchSize: number;
  learningRate: number;
  workers: number;
  evalChunks: number;
  roundtripSeconds: number;
  seed: number;
}

/** Train/valid/test files of the embedded audio (file-level, seeded, stable). */
async function demoSplits(ctx: DemoContext): Promise<{ train: string[]; valid: string[]; test: string[] }> {
  const { assignSplits } = await import('../tokens/index.js');
  const entries = assignSplits(ctx.audioDir, { seed: ctx.settings.seed, valid: 0.1, test: 0.1 });
  const pick = (split: string) => entries.filter((e) => e.split === split).map((e) => e.path);
  return { train: pick('train'), valid: pick('valid'), test: pick('test') };
}

function runDir(ctx: DemoContext): string {
  return join(ctx.outDir, 'run');
}

export interface DemoStep {
  name: string;
  /** Runs the step; returns its result (kept in ctx.results[name] and the JSON output) and a text summary. */
  run(ctx: DemoContext): Promise<{ result: unknown; text: string }>;
}

export const DEMO_STEPS: DemoStep[] = [
  {
    name: 'chunks',
    async run(ctx) {
      const out = join(ctx.outDir, 'chunks.bin');
      const r: ChunksResult = await runChunks([ctx.audioDir], ctx.pipeline, out, barFor(ctx.cmd, { unit: 'files' }), (m) =>
        warn(ctx.cmd, m),
      );
      return { result: r, text: `pipeline: ${r.files} files of embedded audio\n${describeChunks(r)}` };
    },
  },
  {
    // LMIC's transformer on the train split, short and with a higher learning rate than LMIC's 1e-4 so
    // that a couple of minutes already beat the unigram entropy clearly.
    name: 'train',
    async run(ctx) {
      const sp = await demoSplits(ctx);
      const out = runDir(ctx);
      const { trainAudioTransformer } = await import('../model/train.js');
      // Only a previous demo run is replaced; anything else in the way is an error, never deleted.
      if (existsSync(out)) {
        if (!existsSync(join(out, 'config.json')))
          throw new ConfigError(`${out} exists and is not a wavelm run; choose another --out-dir`, { subject: out });
        rmSync(out, { recursive: true, force: true });
      }
      const st = ctx.settings;
      const r = await trainAudioTransformer(
        {
          files: sp.train,
          validFiles: sp.valid,
          outDir: out,
          bitDepth: ctx.pipeline.bitDepth === 16 ? 16 : 8,
          conversion: ctx.pipeline.conversion,
          blockingSize: ctx.pipeline.blockingSize,
          steps: st.steps,
          seqLen: st.seqLen,
          batchSize: st.batchSize,
          learningRate: st.learningRate,
          evalEvery: 0,
          checkpointEvery: 0,
          seed: st.seed,
          workers: st.workers,
          onNotice: (m) => warn(ctx.cmd, m),
        },
        barFor(ctx.cmd, { unit: 'steps', fields: ['loss', 'bpb'] }),
      );
      const fmt = (x: number | null) => (x === null ? '-' : x.toFixed(3));
      return {
        result: {
          files: sp.train.length,
          validFiles: sp.valid.length,
          testFiles: sp.test.length,
          outDir: r.outDir,
          steps: r.step,
          numParams: r.numParams,
          tokensPerSecond: Math.round(r.tokensPerSecond),
          validBitsPerByte: r.validBitsPerByte,
          validUnigramBitsPerByte: r.validUnigramBitsPerByte,
          checkpoint: r.checkpoint,
        },
        text:
          `train: ${r.numParams.toLocaleString('en-US')}-parameter transformer, ${r.step} steps on ${sp.train.length} files at ` +
          `${Math.round(r.tokensPerSecond)} tokens/s; validation ${fmt(r.validBitsPerByte)} bits/byte (unigram entropy ` +
          `${fmt(r.validUnigramBitsPerByte)}); run in ${r.outDir}`,
      };
    },
  },
  {
    // compress.py's measurement on the held-out test files: LMIC 8-bit chunks, each compressed alone.
    name: 'eval',
    async run(ctx) {
      const sp = await demoSplits(ctx);
      const [
        { CLASSICAL_COMPRESSORS },
        { lmicChunks },
        { evaluateCompressor, formatEvalTable },
        { LmCompressor },
        { loadCompressionModel },
      ] = await Promise.all([
        import('../compress/compressors.js'),
        import('../compress/data.js'),
        import('../compress/evaluate.js'),
        import('../compress/lm-compressor.js'),
        import('../compress/model.js'),
      ]);
      const data = await lmicChunks(sp.test, { maxChunks: ctx.settings.evalChunks, onWarning: (m) => warn(ctx.cmd, m) });
      if (data.chunks.length === 0) throw new ConfigError('the test split of the embedded audio has no complete 2048-byte chunk');
      const model = loadCompressionModel(runDir(ctx));
      // LMIC's chunks are 8-bit, so only an 8-bit model joins the table; a 16-bit model shows in the round trip.
      const compressors = ['gzip', 'lzma', 'flac', 'png'].map((n) => CLASSICAL_COMPRESSORS[n]!);
      if (model.vocabSize === 256) compressors.push(new LmCompressor('lm:demo', model, ctx.settings.workers));
      const results: EvalResult[] = [];
      for (const c of compressors) {
        try {
          results.push(
            await evaluateCompressor(c, data.chunks, { sampleRate: data.sampleRate }, { progress: barFor(ctx.cmd, { unit: 'chunks' }) }),
          );
        } finally {
          await c.dispose?.();
        }
      }
      return {
        result: { files: data.files, chunks: data.chunks.length, results },
        text:
          `eval: ${data.chunks.length} held-out chunks from ${data.files} files (rate = compressed / raw; lower is ` +
          `better)\n${formatEvalTable(results)}`,
      };
    },
  },
  {
    // A real archive: the start of a held-out file as 16-bit WAV, compressed with the trained model,
    // decompressed, and compared byte for byte.
    name: 'roundtrip',
    async run(ctx) {
      const file = (await demoSplits(ctx)).test[0];
      if (!file) throw new ConfigError('the embedded audio has no test file');
      const [
        { encodeWav, loadAudio, sliceFrames, toInt16 },
        { encodeFlacAsync },
        { compressAudio, decompressAudio },
        { defaultChunkLength, loadCompressionModel },
      ] = await Promise.all([
        import('../audio/index.js'),
        import('../audio/encoders/flac.js'),
        import('../compress/archive.js'),
        import('../compress/model.js'),
      ]);
      const full = await loadAudio(file);
      const audio = sliceFrames(full, 0, Math.max(1, Math.round(ctx.settings.roundtripSeconds * full.sampleRate)));
      const pcm = toInt16(audio);
      const wav = encodeWav({ ...audio, sampleType: 'int16', bitsPerSample: 16, samples: pcm }, { bits: 16 });
      const wavPath = join(ctx.outDir, `${basename(file).replace(/\.[^.]+$/, '')}.wav`);
      writeFileSync(wavPath, wav);
      const model = loadCompressionModel(runDir(ctx));
      const chunkLength = defaultChunkLength(model);
      const { archive, stats } = await compressAudio(wav, model, {
        workers: ctx.settings.workers,
        chunkLength,
        name: wavPath,
        progress: barFor(ctx.cmd, { unit: 'samples' }),
      });
      writeFileSync(`${wavPath}.wlm`, archive);
      const restored = await decompressAudio(archive, model, { workers: ctx.settings.workers, name: `${wavPath}.wlm` });
      if (Buffer.compare(Buffer.from(restored), Buffer.from(wav)) !== 0)
        throw new MismatchError(`${wavPath}: the restored file differs from the original`, { subject: wavPath });
      const flac = await encodeFlacAsync(pcm, {
        sampleRate: audio.sampleRate,
        channels: audio.channels,
        bitsPerSample: 16,
        compressionLevel: 8,
      });
      const result = {
        file: wavPath,
        seconds: audio.frames / audio.sampleRate,
        wavBytes: wav.length,
        archiveBytes: archive.length,
        rate: stats.rate,
        flacBytes: flac.length,
        flacRate: flac.length / wav.length,
        identical: true,
      };
      return {
        result,
        text:
          `roundtrip: ${basename(wavPath)} (${result.seconds.toFixed(2)} s, 16-bit) -> ${archive.length} bytes ` +
          `(${(100 * stats.rate).toFixed(1)}%; FLAC -8: ${(100 * result.flacRate).toFixed(1)}%) -> restored byte for byte`,
      };
    },
  },
];

interface DemoFlags extends PipelineFlags {
  outDir?: string;
  stages: string;
  steps: number;
  seqLen: number;
  batchSize: number;
  lr: number;
  workers: number;
  evalChunks: number;
  roundtripSeconds: number;
  seed: number;
}

export function registerDemo(program: Command): void {
  const cmd = program
    .command('demo')
    .description(
      'run the main job on the embedded default audio (CC0 Sonic Pi samples): chunks -> train -> eval against gzip/lzma/FLAC/PNG ' +
        '-> lossless round trip',
    )
    .option('--out-dir <dir>', 'where the demo writes its outputs (default: a folder in the system temp dir)')
    .option(
      '--stages <list>',
      `comma-separated stages to run, in order (${DEMO_STEPS.map((d) => d.name).join(',')})`,
      DEMO_STEPS.map((d) => d.name).join(','),
    )
    .option('--steps <n>', 'training steps', integerOption({ min: 1 }), 300)
    .option('--seq-len <n>', 'training sequence length (tokens)', integerOption({ min: 1 }), 256)
    .option('--batch-size <n>', 'training batch size (sequences)', integerOption({ min: 1 }), 8)
    .option('--lr <x>', 'Adam learning rate (LMIC uses 1e-4 over far longer runs)', numberOption({ above: 0 }), 1e-3)
    .option('--workers <n>', 'worker threads (results do not depend on it)', integerOption({ min: 1 }), 2)
    .option('--eval-chunks <n>', 'held-out 2048-byte chunks to evaluate', integerOption({ min: 1 }), 64)
    .option('--roundtrip-seconds <s>', 'seconds of a held-out file to compress and restore', numberOption({ above: 0 }), 1)
    .option('--seed <n>', 'seed for the split, initialisation and batches', integerOption({ min: 0 }), 0);
  addPipelineOptions(cmd)
    .addHelpText(
      'after',
      `
The embedded audio is the 207 CC0 samples (206 FLAC, 1 AIFF) of the npm package supersonic-scsynth-samples, installed
with wavelm (no download, no ../shared). The demo runs the whole loop on them:
  chunks     decode, convert to 8-bit (or --bit-depth 16), block stereo channels, cut 2048-byte chunks
             into OUT-DIR/chunks.bin; prints files, seconds of audio, chunks, bytes, sha256
  train      LMIC's transformer (231,936 parameters) on a seeded file-level train split (80%), validated
             on the valid split; run directory OUT-DIR/run (checkpoint, metrics.jsonl, TensorBoard, loss.html)
  eval       compress.py's rates on the held-out test split: gzip, lzma, FLAC, PNG and the trained model
  roundtrip  the start of a held-out file as 16-bit WAV -> .wlm archive -> restored byte for byte
With the defaults it takes about a minute on two cores. Pipeline options are the same as 'wavelm chunks'.

Examples:
  wavelm demo
  wavelm demo --steps 1000 --out-dir /tmp/demo
  wavelm demo --stages chunks --bit-depth 16
  wavelm --json demo`,
    )
    .action(
      action(async (flags: DemoFlags, c: Command) => {
        const names = flags.stages
          .split(',')
          .map((x) => x.trim())
          .filter((x) => x.length > 0);
        const steps = names.map((n) => {
          const st = DEMO_STEPS.find((d) => d.name === n);
          if (!st) throw new ConfigError(`--stages: unknown stage '${n}'; known: ${DEMO_STEPS.map((d) => d.name).join(', ')}`);
          return st;
        });
        const outDir = flags.outDir ?? join(tmpdir(), 'wavelm-demo');
        mkdirSync(outDir, { recursive: true });
        const settings: DemoSettings = {
          steps: flags.steps,
          seqLen: flags.seqLen,
          batchSize: flags.batchSize,
          learningRate: flags.lr,
          workers: flags.workers,
          evalChunks: flags.evalChunks,
          roundtripSeconds: flags.roundtripSeconds,
          seed: flags.seed,
        };
        const { defaultAudioDir } = await import('../audio/index.js');
        const ctx: DemoContext = { cmd: c, audioDir: defaultAudioDir(), outDir, pipeline: pipelineOptions(flags), settings, results: {} };
        const texts: string[] = [];
        const t0 = performance.now();
        for (const step of steps) {
          const { result, text } = await step.run(ctx);
          ctx.results[step.name] = result;
          texts.push(text);
        }
        const elapsed = +((performance.now() - t0) / 1000).toFixed(3);
        emit(c, { audioDir: ctx.audioDir, outDir, elapsedSeconds: elapsed, ...ctx.results }, () =>
          [...texts, `done in ${elapsed.toFixed(2)} s; outputs in ${outDir}`].join('\n'),
        );
      }),
    );
}
