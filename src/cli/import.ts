/** `wavelm import lmic PARAMS.npz -o MODEL.safetensors`: a model trained by LMIC's train.py (JAX/Haiku) as a wavelm model. */
import { existsSync, readFileSync } from 'node:fs';
import type { Command } from 'commander';
import type { PipelineSettings } from '../model/checkpoint.js';
import type { LmicConfigFields } from '../model/lmic.js';

/** LMIC's default head count (src/model/lmic.ts's LMIC_DEFAULT_HEADS), written out so the help loads no model code. */
const DEFAULT_HEADS = 8;
import { ConfigError } from '../util/errors.js';
import { action, emit } from './common.js';
import { integerOption } from './options.js';

interface ImportLmicFlags {
  out: string;
  heads?: number;
  config?: string;
  force?: boolean;
}

/** --config: LMIC's TransformerConfig fields as JSON, inline or in a file. */
function readGivenConfig(text: string): LmicConfigFields {
  const source = existsSync(text) ? readFileSync(text, 'utf8') : text;
  let fields: unknown;
  try {
    fields = JSON.parse(source);
  } catch (e) {
    throw new ConfigError(`--config: neither a JSON file nor JSON (${(e as Error).message}); e.g. '{"num_heads": 4}'`, {
      subject: '--config',
      cause: e,
    });
  }
  if (!fields || typeof fields !== 'object' || Array.isArray(fields))
    throw new ConfigError('--config must be a JSON object of TransformerConfig fields', { subject: '--config' });
  return fields as LmicConfigFields;
}

/** The audio pipeline LMIC's own audio experiments use: 8-bit, its conversion, 2048-byte chunks (16-bit for a 65536-token vocabulary). */
function lmicPipeline(vocabSize: number): PipelineSettings {
  return { bitDepth: vocabSize === 65536 ? 16 : 8, conversion: 'lmic', blockingSize: 1024, chunkSizeBytes: 2048 };
}

export function registerImport(program: Command): void {
  const cmd = program.command('import').description('turn models trained elsewhere into wavelm models');
  cmd
    .command('lmic')
    .description("read the params.npz that LMIC's train.py writes (np.savez of Haiku's parameters) into a wavelm model.safetensors")
    .argument('<params>', "LMIC's params.npz (np.savez or np.savez_compressed; pickled module dicts or flat 'module/param' keys)")
    .requiredOption('-o, --out <file>', 'the wavelm model to write (a .safetensors file that compress, decompress and eval take with -m)')
    .option(
      '--heads <n>',
      `attention heads (no parameter shape records them; LMIC's default is ${DEFAULT_HEADS})`,
      integerOption({ min: 1 }),
    )
    .option(
      '--config <json|file>',
      "LMIC's TransformerConfig fields (vocab_size, embedding_dim, num_layers, num_heads, widening_factor) as JSON; checked " +
        'against the shapes',
    )
    .option('-f, --force', 'overwrite the output file')
    .addHelpText(
      'after',
      `
The vocabulary, width, layer count and widening factor are read from the parameter shapes (a --config that
disagrees is an error, exit 5). Float16/32/64
parameters are stored as float32, so decoding is bit-exact on every machine from then on.

Examples:
  wavelm import lmic params.npz -o lmic.safetensors
  wavelm import lmic params.npz -o lmic.safetensors --config '{"embedding_dim": 32, "num_layers": 2, "num_heads": 4}'
  wavelm compress speech.wav -m lmic.safetensors -o speech.wlm`,
    )
    .action(
      action(async (params: string, flags: ImportLmicFlags, sub: Command) => {
        if (existsSync(flags.out) && !flags.force)
          throw new ConfigError(`${flags.out} exists; give -f to overwrite it`, { subject: flags.out });
        const given = flags.config !== undefined ? readGivenConfig(flags.config) : {};
        if (flags.heads !== undefined) given.num_heads = flags.heads;
        const [{ writeModelFile }, { countParams }, { importLmicParams }] = await Promise.all([
          import('../model/checkpoint.js'),
          import('../model/config.js'),
          import('../model/lmic.js'),
        ]);
        const { config, params: weights } = importLmicParams(params, { config: given });
        writeModelFile(flags.out, weights, config, lmicPipeline(config.vocabSize), 0);
        emit(
          sub,
          { input: params, output: flags.out, config, numParams: countParams(config) },
          () =>
            `${flags.out}: ${countParams(config)} parameters (vocabulary ${config.vocabSize}, d ${config.embeddingDim}, ` +
            `${config.numLayers} layers, ${config.numHeads} heads, widening ${config.wideningFactor})`,
        );
      }),
    );
}
