/** Worker-thread side of batch encoding: one model (and wasm instance) per worker, one file per task. */
import { withTransfer, type Transferring } from '../engine/pool.js';
import { AudioProcessor, type CodecFeatures, type ProcessorOptions } from './processor.js';
import { encodeFile } from './stream-files.js';

export interface EncodeWorkerInit {
  modelDir: string;
  backend?: ProcessorOptions['backend'];
}

export interface EncodeTask {
  path: string;
  bandwidth: number;
  maxSeconds?: number;
  sha256?: string;
}

let proc: AudioProcessor | undefined;

export function init(data: EncodeWorkerInit): void {
  proc = AudioProcessor.load(data.modelDir, { backend: data.backend });
}

export async function run(task: EncodeTask): Promise<Transferring<CodecFeatures>> {
  if (!proc) throw new Error('encodec worker used before init');
  const f = await encodeFile(proc, task.path, { bandwidth: task.bandwidth, maxSeconds: task.maxSeconds }, task.sha256);
  return withTransfer(f, [f.codes.buffer as ArrayBuffer]);
}
