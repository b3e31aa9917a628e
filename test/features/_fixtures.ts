/** Test-local fixture loading. parseSafetensors is handed a plain Uint8Array: Node Buffers' slice() is a view, not a copy. */
import { readFileSync } from 'node:fs';
import { parseSafetensors, type Tensor } from '../../src/util/safetensors.js';

export function loadTensors(path: string): Map<string, Tensor> {
  return parseSafetensors(new Uint8Array(readFileSync(path)), path).tensors;
}
