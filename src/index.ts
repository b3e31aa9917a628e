/** wavelm's public API. Each capability's folder exports its own index; this file gathers them. */
export * from './util/errors.js';
export * from './util/safetensors.js';
export * from './util/npy.js';
export { readNpz, parseNpz, toFloat32, type NpzMember, type Float32Tensor } from './util/npz.js';
export {
  resolveModelPath,
  resolveCheckpointPath,
  parseHubId,
  hubCachePath,
  ENCODEC_FILES,
  type HubModelId,
  type ResolveModelOptions,
} from './util/hub.js';
export { importLmicParams, exportLmicParams, haikuNames, inferLmicConfig, LMIC_DEFAULT_HEADS } from './model/lmic.js';
export type { AudioData, AudioInfo, SampleType, Samples } from './audio/types.js';
export * from './features/index.js';
export * from './audio/index.js';
export * from './tokens/index.js';
export * from './codec/index.js';
export * from './metrics/index.js';
export * from './compress/index.js';
export * from './model/training/index.js';
export * from './model/index.js';
export * from './dataset/index.js';
