/** `wavelm export lmic RUN -o params.npz`: a wavelm model as the params.npz LMIC's language_model.py loads. */
import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import { ConfigError } from '../util/errors.js';
import { action, emit } from './common.js';

interface ExportLmicFlags {
  out: string;
  force?: boolean;
}

export function registerExport(program: Command): void {
  const cmd = program.command('export').description('write wavelm models in the formats of other tools');
  cmd
    .command('lmic')
    .description("write a wavelm model as LMIC's params.npz (Haiku's parameter dicts, as train.py saves them)")
    .argument('<model>', 'a run directory, a checkpoint directory or a model.safetensors')
    .requiredOption('-o, --out <file>', 'the .npz to write')
    .option('-f, --force', 'overwrite the output file')
    .addHelpText(
      'after',
      `
LMIC's compressors/language_model.py loads the file with np.load(..., allow_pickle=True); its
TransformerConfig must match the model's (printed here), e.g. num_heads for a model that is not 8-headed.

Example:
  wavelm export lmic runs/fsdd -o params.npz`,
    )
    .action(
      action(async (model: string, flags: ExportLmicFlags, sub: Command) => {
        if (existsSync(flags.out) && !flags.force)
          throw new ConfigError(`${flags.out} exists; give -f to overwrite it`, { subject: flags.out });
        const [{ loadModel }, { exportLmicParams }] = await Promise.all([import('../model/checkpoint.js'), import('../model/lmic.js')]);
        const m = loadModel(model);
        exportLmicParams(flags.out, m.config, m.params);
        const c = m.config;
        emit(
          sub,
          { input: m.path, output: flags.out, config: c },
          () =>
            `${flags.out}: TransformerConfig(vocab_size=${c.vocabSize}, embedding_dim=${c.embeddingDim}, ` +
            `num_layers=${c.numLayers}, num_heads=${c.numHeads}, widening_factor=${c.wideningFactor})`,
        );
      }),
    );
}
