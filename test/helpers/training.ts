/** What the training tests share: the smallest model the CLI trains in a second, and the W&B keys docs/training.md lists. */

/** `wavelm train` flags for a one-layer, 16-wide model on 64-byte chunks, one worker. */
export const TINY_MODEL_FLAGS = [
  '--embedding-dim',
  '16',
  '--num-layers',
  '1',
  '--num-heads',
  '2',
  '--chunk-size',
  '64',
  '--batch-size',
  '2',
  '--workers',
  '1',
];

/** The run-config keys docs/training.md promises in every W&B run. */
export const DOCUMENTED_WANDB_KEYS = [
  'dataset/num_files',
  'dataset/use_16bit',
  'dataset/blocking_size',
  'dataset/total_chunks',
  'dataset/vocab_size',
  'model/total_parameters',
  'model/embedding_dim',
  'model/num_layers',
  'model/num_heads',
  'optimizer/learning_rate',
];
