/** EnCodec neural-codec tokens: HF checkpoints, SEANet + RVQ inference, codes files. */
export * from './config.js';
export * from './weights.js';
export * from './model.js';
export { jsOps, zeroLstmState, type CodecOps, type LstmState } from './ops.js';
export { wasmOps, type WasmCodecOps } from './ops-wasm.js';
export * from './processor.js';
export { encodeFiles, type BatchOptions, type BatchResult } from './batch.js';
export { ParallelEncodec } from './parallel.js';
export type { ModelSource } from './segment-worker.js';
export * from './planar.js';
export {
  streamingEncoder,
  streamingDecoder,
  codePieces,
  CodesCollector,
  SegmentCutter,
  type CodePiece,
  type StreamingEncoder,
  type StreamingDecoder,
} from './stream.js';
export {
  audioWindows,
  modelRateBlocks,
  encodeFileStreaming,
  encodeFile,
  decodeToWavFile,
  type SourceShape,
  type StreamEncodeOptions,
  type WavDecodeOptions,
} from './stream-files.js';
