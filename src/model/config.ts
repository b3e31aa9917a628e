/**
 * LMIC transformer configuration, parameter names/shapes, and the flat parameter layout shared by
 * the trainer, its workers and the predictor.
 */
import { ConfigError, MismatchError } from '../util/errors.js';
import type { ParamSet, TransformerConfig } from './api.js';

export interface AudioTransformerOptions extends Partial<TransformerConfig> {
  /** 8 -> vocab 256, 16 -> vocab 65536 (wavelm's 16-bit tokens, docs/background.md). */
  bitDepth: 8 | 16;
}

/**
 * How a message names a setting: by default as AudioTransformerOptions does; training passes its own
 * options' labels (the CLI's flags) so a user reads the option to change.
 */
export type SettingLabel = (setting: keyof AudioTransformerOptions) => string;

const settingName: SettingLabel = (setting) => setting;

/** LMIC's transformer defaults (docs/background.md) with the vocabulary set by the token bit depth. */
export function createAudioTransformerConfig(options: AudioTransformerOptions, label: SettingLabel = settingName): TransformerConfig {
  const { bitDepth, ...overrides } = options;
  if (bitDepth !== 8 && bitDepth !== 16)
    throw new ConfigError(`${label('bitDepth')} must be 8 or 16, got ${String(bitDepth)}`, { subject: 'bitDepth' });
  const config: TransformerConfig = {
    vocabSize: bitDepth === 16 ? 65536 : 256,
    embeddingDim: 64,
    numLayers: 4,
    numHeads: 8,
    wideningFactor: 4,
    embInitScale: 0.02,
    positionalEncoding: 'sinusoidal',
    ...overrides,
  };
  validateConfig(config, label);
  return config;
}

export function validateConfig(c: TransformerConfig, label: SettingLabel = settingName): void {
  const int = (name: keyof TransformerConfig, v: number, min: number) => {
    if (!Number.isInteger(v) || v < min)
      throw new ConfigError(`transformer ${label(name)} must be an integer >= ${min}, got ${v}`, { subject: name });
  };
  int('vocabSize', c.vocabSize, 2);
  int('embeddingDim', c.embeddingDim, 2);
  int('numLayers', c.numLayers, 1);
  int('numHeads', c.numHeads, 1);
  int('wideningFactor', c.wideningFactor, 1);
  const [dim, heads] = [label('embeddingDim'), label('numHeads')];
  if (c.embeddingDim % c.numHeads !== 0)
    throw new ConfigError(`${dim} ${c.embeddingDim} must be divisible by ${heads} ${c.numHeads}`, { subject: 'numHeads' });
  if (c.embeddingDim % 2 !== 0) throw new ConfigError(`${dim} must be even, got ${c.embeddingDim}`, { subject: 'embeddingDim' });
  if (c.positionalEncoding === 'rotary' && (c.embeddingDim / c.numHeads) % 2 !== 0) {
    throw new ConfigError(
      `${label('positionalEncoding')} rotary needs an even head size (${dim} / ${heads}), got ${c.embeddingDim / c.numHeads}`,
      { subject: 'positionalEncoding' },
    );
  }
  if (c.positionalEncoding !== 'sinusoidal' && c.positionalEncoding !== 'rotary') {
    throw new ConfigError(`${label('positionalEncoding')} must be "sinusoidal" or "rotary", got ${String(c.positionalEncoding)}`, {
      subject: 'positionalEncoding',
    });
  }
  if (!(c.embInitScale > 0))
    throw new ConfigError(`${label('embInitScale')} must be > 0, got ${c.embInitScale}`, { subject: 'embInitScale' });
}

export interface ParamSpec {
  name: string;
  shape: number[];
  size: number;
  /** Offset in the flat parameter vector (floats; a multiple of 4 so SIMD loads stay aligned). */
  offset: number;
}

/** Per-layer parameter offsets into the flat vector. */
export interface LayerOffsets {
  q: number;
  k: number;
  v: number;
  o: number;
  ln1s: number;
  ln1o: number;
  fc1w: number;
  fc1b: number;
  fc2w: number;
  fc2b: number;
  ln2s: number;
  ln2o: number;
}

export interface ParamLayout {
  specs: ParamSpec[];
  /** Floats in the flat vector (with alignment padding). */
  total: number;
  /** Number of parameters (without padding). */
  count: number;
  embed: number;
  layers: LayerOffsets[];
  outW: number;
  outB: number;
}

/** Parameter names and shapes in LMIC's creation order (the order the fixture's init draws them). */
export function paramShapes(c: TransformerConfig): Array<[string, number[]]> {
  const d = c.embeddingDim;
  const f = c.wideningFactor * d;
  const out: Array<[string, number[]]> = [['embed.embeddings', [c.vocabSize, d]]];
  for (let i = 0; i < c.numLayers; i++) {
    const p = `layers.${i}.`;
    out.push(
      [`${p}attn.q.weight`, [d, d]],
      [`${p}attn.k.weight`, [d, d]],
      [`${p}attn.v.weight`, [d, d]],
      [`${p}attn.o.weight`, [d, d]],
      [`${p}ln1.scale`, [d]],
      [`${p}ln1.offset`, [d]],
      [`${p}ffn.fc1.weight`, [d, f]],
      [`${p}ffn.fc1.bias`, [f]],
      [`${p}ffn.fc2.weight`, [f, d]],
      [`${p}ffn.fc2.bias`, [d]],
      [`${p}ln2.scale`, [d]],
      [`${p}ln2.offset`, [d]],
    );
  }
  out.push(['output.weight', [d, c.vocabSize]], ['output.bias', [c.vocabSize]]);
  return out;
}

/** Number of trainable parameters (d=64, 4 layers, vocab 256: 231,936). */
export function countParams(c: TransformerConfig): number {
  return paramShapes(c).reduce((s, [, sh]) => s + sh.reduce((a, b) => a * b, 1), 0);
}

export function paramLayout(c: TransformerConfig): ParamLayout {
  validateConfig(c);
  const specs: ParamSpec[] = [];
  let off = 0;
  let count = 0;
  const at = new Map<string, number>();
  for (const [name, shape] of paramShapes(c)) {
    const size = shape.reduce((a, b) => a * b, 1);
    specs.push({ name, shape, size, offset: off });
    at.set(name, off);
    off += Math.ceil(size / 4) * 4;
    count += size;
  }
  const g = (n: string) => at.get(n)!;
  const layers: LayerOffsets[] = [];
  for (let i = 0; i < c.numLayers; i++) {
    const p = `layers.${i}.`;
    layers.push({
      q: g(`${p}attn.q.weight`),
      k: g(`${p}attn.k.weight`),
      v: g(`${p}attn.v.weight`),
      o: g(`${p}attn.o.weight`),
      ln1s: g(`${p}ln1.scale`),
      ln1o: g(`${p}ln1.offset`),
      fc1w: g(`${p}ffn.fc1.weight`),
      fc1b: g(`${p}ffn.fc1.bias`),
      fc2w: g(`${p}ffn.fc2.weight`),
      fc2b: g(`${p}ffn.fc2.bias`),
      ln2s: g(`${p}ln2.scale`),
      ln2o: g(`${p}ln2.offset`),
    });
  }
  return { specs, total: off, count, embed: g('embed.embeddings'), layers, outW: g('output.weight'), outB: g('output.bias') };
}

/** Packs a ParamSet into the flat vector (checks every name and shape). */
export function flattenParams(layout: ParamLayout, params: ParamSet, what = 'parameters'): Float32Array {
  const flat = new Float32Array(layout.total);
  for (const s of layout.specs) {
    const t = params[s.name];
    if (!t) throw new MismatchError(`${what}: missing tensor "${s.name}"`, { subject: s.name });
    if (t.shape.length !== s.shape.length || t.shape.some((v, i) => v !== s.shape[i]) || t.data.length !== s.size) {
      throw new MismatchError(`${what}: tensor "${s.name}" has shape [${t.shape.join(', ')}], the model needs [${s.shape.join(', ')}]`, {
        subject: s.name,
      });
    }
    flat.set(t.data, s.offset);
  }
  const extra = Object.keys(params).filter((n) => !layout.specs.some((s) => s.name === n));
  if (extra.length > 0)
    throw new MismatchError(`${what}: unexpected tensors ${extra.slice(0, 5).join(', ')} for this configuration`, { subject: extra[0] });
  return flat;
}

/** Unpacks the flat vector into a ParamSet (copies). */
export function unflattenParams(layout: ParamLayout, flat: Float32Array): ParamSet {
  const out: ParamSet = {};
  for (const s of layout.specs) out[s.name] = { shape: [...s.shape], data: flat.slice(s.offset, s.offset + s.size) };
  return out;
}
