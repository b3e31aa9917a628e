/** The list of commands; each entry is one file in src/cli. Add a command by adding its register function here. */
import type { Command } from 'commander';
import { registerInfo } from './info.js';
import { registerChunks } from './chunks.js';
import { registerSplit } from './split.js';
import { registerDemo } from './demo.js';
import { registerFeatures } from './features.js';
import { registerTrain } from './train.js';
import { registerCodec } from './codec.js';
import { registerMetrics } from './metrics.js';
import { registerDataset } from './dataset.js';

import { registerCompress } from './compress.js';
import { registerDecompress } from './decompress.js';
import { registerEval } from './eval.js';
import { registerImport } from './import.js';
import { registerExport } from './export.js';

export type Register = (program: Command) => void;

export const commands: Register[] = [registerDemo, registerInfo, registerChunks, registerSplit, registerTrain, registerFeatures, registerCodec, registerMetrics, registerDataset, registerCompress, registerDecompress, registerEval, registerImport, registerExport];
