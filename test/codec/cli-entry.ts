// A wavelm CLI with only the codec and metrics commands, so their tests do not depend on other commands loading.
import { Command } from 'commander';
import { registerCodec } from '../../src/cli/codec.js';
import { registerMetrics } from '../../src/cli/metrics.js';

const program = new Command('wavelm').option('--json').option('-q, --quiet');
registerCodec(program);
registerMetrics(program);
void program.parseAsync(process.argv);
