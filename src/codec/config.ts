/**
 * EnCodec configuration in HuggingFace's `EncodecConfig` field names (config.json of
 * facebook/encodec_24khz and facebook/encodec_48khz), with the values derived from it.
 */
import { readFileSync } from 'node:fs';
import { ConfigError, FormatError, NotFoundError } from '../util/errors.js';

export type NormType = 'weight_norm' | 'time_group_norm';

export interface EncodecConfig {
  targetBandwidths: number[];
  samplingRate: number;
  audioChannels: number;
  normalize: boolean;
  /** Segment length in seconds (48 kHz model: 1.0), or null to encode the whole input at once. */
  chunkLengthS: number | null;
  overlap: number | null;
  hiddenSize: number;
  numFilters: number;
  numResidualLayers: number;
  upsamplingRatios: number[];
  normType: NormType;
  kernelSize: number;
  lastKernelSize: number;
  residualKernelSize: number;
  dilationGrowthRate: number;
  useCausalConv: boolean;
  padMode: 'reflect' | 'constant' | 'replicate';
  compress: number;
  numLstmLayers: number;
  trimRightRatio: number;
  codebookSize: number;
  codebookDim: number;
  useConvShortcut: boolean;
}

/** The two published models' configurations (HF defaults), for tests and benchmarks with random weights. */
export const ENCODEC_24KHZ: EncodecConfig = {
  targetBandwidths: [1.5, 3, 6, 12, 24],
  samplingRate: 24000,
  audioChannels: 1,
  normalize: false,
  chunkLengthS: null,
  overlap: null,
  hiddenSize: 128,
  numFilters: 32,
  numResidualLayers: 1,
  upsamplingRatios: [8, 5, 4, 2],
  normType: 'weight_norm',
  kernelSize: 7,
  lastKernelSize: 7,
  residualKernelSize: 3,
  dilationGrowthRate: 2,
  useCausalConv: true,
  padMode: 'reflect',
  compress: 2,
  numLstmLayers: 2,
  trimRightRatio: 1,
  codebookSize: 1024,
  codebookDim: 128,
  useConvShortcut: true,
};
export const ENCODEC_48KHZ: EncodecConfig = {
  ...ENCODEC_24KHZ,
  targetBandwidths: [3, 6, 12, 24],
  samplingRate: 48000,
  audioChannels: 2,
  normalize: true,
  chunkLengthS: 1,
  overlap: 0.01,
  normType: 'time_group_norm',
  useCausalConv: false,
};

/** Hop length in samples (product of the ratios: 320 for both published models). */
export function hopLength(c: EncodecConfig): number {
  return c.upsamplingRatios.reduce((a, b) => a * b, 1);
}

/** Code frames per second (75 at 24 kHz, 150 at 48 kHz). */
export function frameRate(c: EncodecConfig): number {
  return Math.ceil(c.samplingRate / hopLength(c));
}

/** Total codebooks in the checkpoint (32 at 24 kHz, 16 at 48 kHz), as HF's EncodecConfig.num_quantizers. */
export function numQuantizers(c: EncodecConfig): number {
  return Math.trunc((1000 * c.targetBandwidths[c.targetBandwidths.length - 1]!) / (frameRate(c) * 10));
}

/** Codebooks used at `bandwidth` kbps: floor(bw * 1000 / (log2(bins) * frame rate)), at least 1 (encodec's rule). */
export function codebooksForBandwidth(c: EncodecConfig, bandwidth: number): number {
  if (!c.targetBandwidths.includes(bandwidth)) {
    throw new ConfigError(`bandwidth ${bandwidth} kbps is not one of this model's target bandwidths (${c.targetBandwidths.join(', ')})`, {
      subject: String(bandwidth),
    });
  }
  const perQ = Math.log2(c.codebookSize) * frameRate(c);
  return Math.max(1, Math.floor((bandwidth * 1000) / perQ));
}

/** Segment length and stride in samples, or undefined when the model encodes the whole input at once. */
export function segmentation(c: EncodecConfig): { length: number; stride: number } | undefined {
  if (c.chunkLengthS === null) return undefined;
  const length = Math.trunc(c.chunkLengthS * c.samplingRate);
  return { length, stride: Math.max(1, Math.trunc(length * (1 - (c.overlap ?? 0)))) };
}

type Json = Record<string, unknown>;

function field<T>(j: Json, key: string, check: (v: unknown) => boolean, fallback: T | undefined, file: string): T {
  const v = j[key];
  if (v === undefined) {
    if (fallback !== undefined) return fallback;
    throw new FormatError(`${file}: missing field "${key}"`, { subject: file });
  }
  if (!check(v)) throw new FormatError(`${file}: field "${key}" has an invalid value ${JSON.stringify(v)}`, { subject: file });
  return v as T;
}

const isPosInt = (v: unknown): boolean => Number.isInteger(v) && (v as number) > 0;
const isNonNegInt = (v: unknown): boolean => Number.isInteger(v) && (v as number) >= 0;
const isNum = (v: unknown): boolean => typeof v === 'number' && Number.isFinite(v);
const isBool = (v: unknown): boolean => typeof v === 'boolean';

/** Parses an HF EncodecConfig object; absent fields take HF's defaults (those of encodec_24khz). */
export function parseEncodecConfig(j: Json, file = 'config.json'): EncodecConfig {
  const d = ENCODEC_24KHZ;
  const norm = field<string>(j, 'norm_type', (v) => v === 'weight_norm' || v === 'time_group_norm', d.normType, file);
  const pad = field<string>(j, 'pad_mode', (v) => v === 'reflect' || v === 'constant' || v === 'replicate', d.padMode, file);
  const chunk =
    j.chunk_length_s === null
      ? null
      : (field<number>(j, 'chunk_length_s', (v) => isNum(v) && (v as number) > 0, d.chunkLengthS ?? undefined, file) ?? null);
  const overlap =
    j.overlap === null || j.overlap === undefined
      ? null
      : field<number>(j, 'overlap', (v) => isNum(v) && (v as number) >= 0 && (v as number) < 1, undefined, file);
  const c: EncodecConfig = {
    targetBandwidths: field<number[]>(
      j,
      'target_bandwidths',
      (v) => Array.isArray(v) && v.length > 0 && v.every(isNum),
      d.targetBandwidths,
      file,
    ),
    samplingRate: field<number>(j, 'sampling_rate', isPosInt, d.samplingRate, file),
    audioChannels: field<number>(j, 'audio_channels', (v) => v === 1 || v === 2, d.audioChannels, file),
    normalize: field<boolean>(j, 'normalize', isBool, d.normalize, file),
    chunkLengthS: chunk,
    overlap,
    hiddenSize: field<number>(j, 'hidden_size', isPosInt, d.hiddenSize, file),
    numFilters: field<number>(j, 'num_filters', isPosInt, d.numFilters, file),
    numResidualLayers: field<number>(j, 'num_residual_layers', isNonNegInt, d.numResidualLayers, file),
    upsamplingRatios: field<number[]>(
      j,
      'upsampling_ratios',
      (v) => Array.isArray(v) && v.length > 0 && v.every(isPosInt),
      d.upsamplingRatios,
      file,
    ),
    normType: norm as NormType,
    kernelSize: field<number>(j, 'kernel_size', isPosInt, d.kernelSize, file),
    lastKernelSize: field<number>(j, 'last_kernel_size', isPosInt, d.lastKernelSize, file),
    residualKernelSize: field<number>(j, 'residual_kernel_size', isPosInt, d.residualKernelSize, file),
    dilationGrowthRate: field<number>(j, 'dilation_growth_rate', isPosInt, d.dilationGrowthRate, file),
    useCausalConv: field<boolean>(j, 'use_causal_conv', isBool, d.useCausalConv, file),
    padMode: pad as EncodecConfig['padMode'],
    compress: field<number>(j, 'compress', isPosInt, d.compress, file),
    numLstmLayers: field<number>(j, 'num_lstm_layers', isNonNegInt, d.numLstmLayers, file),
    trimRightRatio: field<number>(j, 'trim_right_ratio', isNum, d.trimRightRatio, file),
    codebookSize: field<number>(j, 'codebook_size', isPosInt, d.codebookSize, file),
    codebookDim: field<number>(j, 'codebook_dim', isPosInt, (j.hidden_size as number) ?? d.codebookDim, file),
    useConvShortcut: field<boolean>(j, 'use_conv_shortcut', isBool, d.useConvShortcut, file),
  };
  if (c.codebookDim !== c.hiddenSize) {
    throw new UnsupportedCodebookDim(file, c.codebookDim, c.hiddenSize);
  }
  return c;
}

class UnsupportedCodebookDim extends FormatError {
  constructor(file: string, cd: number, hs: number) {
    super(
      `${file}: codebook_dim ${cd} differs from hidden_size ${hs}; projected codebooks are not supported (no published EnCodec uses them)`,
      { subject: file },
    );
  }
}

export function readEncodecConfig(path: string): EncodecConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new NotFoundError(`${path}: cannot read the EnCodec config (give model the folder holding config.json and model.safetensors)`, {
      subject: path,
      options: ['model'],
      cause: e,
    });
  }
  let j: unknown;
  try {
    j = JSON.parse(text);
  } catch (e) {
    throw new FormatError(`${path}: not valid JSON`, { subject: path, cause: e });
  }
  if (typeof j !== 'object' || j === null) throw new FormatError(`${path}: expected a JSON object`, { subject: path });
  return parseEncodecConfig(j as Json, path);
}
