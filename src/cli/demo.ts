/**
 * `wavelm demo`: the README's main job on the embedded default audio. Today it runs the byte-token
 * pipeline over the CC0 samples and prints a summary; later stages (train, compress) append
 * themselves to DEMO_STEPS, each receiving what the earlier steps produced.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import type { Command } from 'commander';
import { defaultAudioDir } from '../audio/index.js';
import type { IteratorOptions } from '../tokens/index.js';
import { action, barFor, emit, warn } from './common.js';
import { addPipelineOptions, describeChunks, pipelineOptions, runChunks, type ChunksResult, type PipelineFlags } from './chunks.js';

/** What the demo's steps share: inputs, options, and each step's result by name. */
export interface DemoContext {
  cmd: Command;
  audioDir: string;
  outDir: string;
  pipeline: IteratorOptions;
  results: Record<string, unknown>;
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
      const r: ChunksResult = await runChunks([ctx.audioDir], ctx.pipeline, out, barFor(ctx.cmd, { unit: 'bytes' }), (m) => warn(ctx.cmd, m));
      return { result: r, text: `pipeline: ${r.files} files of embedded audio\n${describeChunks(r)}` };
    },
  },
];

export function registerDemo(program: Command): void {
  const cmd = program
    .command('demo')
    .description('run the main job on the embedded default audio (CC0 Sonic Pi samples): audio -> byte-token chunks, with a summary')
    .option('--out-dir <dir>', 'where the demo writes its outputs (default: a folder in the system temp dir)');
  addPipelineOptions(cmd)
    .addHelpText(
      'after',
      `
The embedded audio is the 207 CC0 samples (206 FLAC, 1 AIFF) of the npm package supersonic-scsynth-samples, installed
with wavelm (no download, no ../shared). The demo decodes them, converts to 8-bit (or --bit-depth 16)
samples, blocks stereo channels, cuts 2048-byte chunks, writes them to OUT-DIR/chunks.bin and prints
files, seconds of audio, chunks, bytes, sha256 and time. Pipeline options are the same as 'wavelm chunks'.

Examples:
  wavelm demo
  wavelm demo --bit-depth 16 --out-dir /tmp/demo
  wavelm --json demo`,
    )
    .action(
      action(async (flags: PipelineFlags & { outDir?: string }, c: Command) => {
        const outDir = flags.outDir ?? join(tmpdir(), 'wavelm-demo');
        mkdirSync(outDir, { recursive: true });
        const ctx: DemoContext = { cmd: c, audioDir: defaultAudioDir(), outDir, pipeline: pipelineOptions(flags), results: {} };
        const texts: string[] = [];
        const t0 = performance.now();
        for (const step of DEMO_STEPS) {
          const { result, text } = await step.run(ctx);
          ctx.results[step.name] = result;
          texts.push(text);
        }
        const elapsed = +((performance.now() - t0) / 1000).toFixed(3);
        emit(c, { audioDir: ctx.audioDir, outDir, elapsedSeconds: elapsed, ...ctx.results }, () => [...texts, `done in ${elapsed.toFixed(2)} s; outputs in ${outDir}`].join('\n'));
      }),
    );
}
