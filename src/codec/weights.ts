/**
 * EnCodec's layer plan (SEANet encoder/decoder as transformers' EncodecModel names its modules) and the
 * loading of HF checkpoints into it: every expected tensor is checked by name and shape, and weight
 * norm is folded into plain kernels (w = g * v / |v|) at load time so inference never sees it.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { MismatchError, NotFoundError, UnsupportedError } from '../util/errors.js';
import { parseSafetensors, type Tensor } from '../util/safetensors.js';
import { numQuantizers, readEncodecConfig, type EncodecConfig } from './config.js';

/** A convolution's shape: conv weights are [cout, cin, k], transposed ones [cin, cout, k]. */
export interface ConvSpec {
  kind: 'conv' | 'convtr';
  name: string;
  cin: number;
  cout: number;
  k: number;
  stride: number;
  dilation: number;
}

/** A convolution with folded weights. */
export interface ConvLayer extends ConvSpec {
  w: Float32Array;
  b: Float32Array;
  /** GroupNorm(1, cout) affine parameters (time_group_norm models). */
  norm?: { weight: Float32Array; bias: Float32Array };
}

/**
 * EnCodec's SConv1d padding for `t` input frames: the total k - stride goes left (causal) or is split
 * with the larger half on the left (non-causal), plus what the last frame needs on the right.
 * The reference model and the wasm path both pad through here, so they cannot drift apart.
 */
export function convPadding(l: ConvSpec, t: number, causal: boolean): { left: number; right: number } {
  const k = (l.k - 1) * l.dilation + 1;
  const total = k - l.stride;
  const nFrames = (t - k + total) / l.stride + 1;
  const extra = (Math.ceil(nFrames) - 1) * l.stride + (k - total) - t;
  if (causal) return { left: total, right: extra };
  const right = Math.floor(total / 2);
  return { left: total - right, right: right + extra };
}

/** EnCodec's SConvTranspose1d trimming: k - stride frames, the right share set by trim_right_ratio when causal. */
export function convTrTrim(l: ConvSpec, causal: boolean, trimRightRatio: number): { left: number; right: number } {
  const total = l.k - l.stride;
  const right = causal ? Math.ceil(total * trimRightRatio) : Math.floor(total / 2);
  return { left: total - right, right };
}

export interface ResBlock {
  kind: 'res';
  name: string;
  convs: ConvLayer[];
  shortcut: ConvLayer | null;
}

export interface LstmLayer {
  kind: 'lstm';
  name: string;
  dim: number;
  /** Per layer: w_ih [4H, H], w_hh [4H, H], bias = b_ih + b_hh [4H] (gate order i, f, g, o). */
  layers: { wih: Float32Array; whh: Float32Array; bih: Float32Array; bhh: Float32Array }[];
}

export interface EluLayer {
  kind: 'elu';
}

export type Layer = ConvLayer | ResBlock | LstmLayer | EluLayer;

export interface EncodecWeights {
  config: EncodecConfig;
  encoder: Layer[];
  decoder: Layer[];
  /** Codebooks [bins, dim] for every quantizer layer in the checkpoint. */
  codebooks: Float32Array[];
}

type LayerSpec =
  | ConvSpec
  | { kind: 'res'; name: string; convs: ConvSpec[]; shortcut: ConvSpec | null }
  | { kind: 'lstm'; name: string; dim: number; layers: number }
  | EluLayer;

function conv(name: string, cin: number, cout: number, k: number, stride = 1, dilation = 1): ConvSpec {
  return { kind: 'conv', name, cin, cout, k, stride, dilation };
}

function resBlock(c: EncodecConfig, name: string, dim: number, j: number): LayerSpec {
  const hidden = Math.trunc(dim / c.compress);
  const ks = [c.residualKernelSize, 1];
  const dil = [c.dilationGrowthRate ** j, 1];
  const convs = ks.map((k, i) =>
    conv(`${name}.block.${2 * i + 1}`, i === 0 ? dim : hidden, i === ks.length - 1 ? dim : hidden, k, 1, dil[i]!),
  );
  return { kind: 'res', name, convs, shortcut: c.useConvShortcut ? conv(`${name}.shortcut`, dim, dim, 1) : null };
}

/** The encoder's and decoder's modules in order, with HF names (encoder.layers.N..., decoder.layers.N...). */
export function layerPlan(c: EncodecConfig): { encoder: LayerSpec[]; decoder: LayerSpec[] } {
  const nf = c.numFilters;
  const enc: LayerSpec[] = [];
  const at = (prefix: string, list: LayerSpec[]): string => `${prefix}.layers.${list.length}`;
  enc.push(conv(at('encoder', enc), c.audioChannels, nf, c.kernelSize));
  let mult = 1;
  for (const ratio of [...c.upsamplingRatios].reverse()) {
    for (let j = 0; j < c.numResidualLayers; j++) enc.push(resBlock(c, at('encoder', enc), mult * nf, j));
    enc.push({ kind: 'elu' });
    enc.push(conv(at('encoder', enc), mult * nf, mult * nf * 2, ratio * 2, ratio));
    mult *= 2;
  }
  if (c.numLstmLayers > 0) enc.push({ kind: 'lstm', name: at('encoder', enc), dim: mult * nf, layers: c.numLstmLayers });
  enc.push({ kind: 'elu' });
  enc.push(conv(at('encoder', enc), mult * nf, c.hiddenSize, c.lastKernelSize));

  const dec: LayerSpec[] = [];
  mult = 2 ** c.upsamplingRatios.length;
  dec.push(conv(at('decoder', dec), c.hiddenSize, mult * nf, c.kernelSize));
  if (c.numLstmLayers > 0) dec.push({ kind: 'lstm', name: at('decoder', dec), dim: mult * nf, layers: c.numLstmLayers });
  for (const ratio of c.upsamplingRatios) {
    dec.push({ kind: 'elu' });
    dec.push({ kind: 'convtr', name: at('decoder', dec), cin: mult * nf, cout: (mult * nf) / 2, k: ratio * 2, stride: ratio, dilation: 1 });
    for (let j = 0; j < c.numResidualLayers; j++) dec.push(resBlock(c, at('decoder', dec), (mult * nf) / 2, j));
    mult /= 2;
  }
  dec.push({ kind: 'elu' });
  dec.push(conv(at('decoder', dec), nf, c.audioChannels, c.lastKernelSize));
  return { encoder: enc, decoder: dec };
}

/** Every tensor a checkpoint for `c` must hold, with its shape (weight-norm names in the classic weight_g/weight_v form). */
export function expectedTensors(c: EncodecConfig): Map<string, number[]> {
  const out = new Map<string, number[]>();
  const convT = (s: ConvSpec): void => {
    const wshape = s.kind === 'conv' ? [s.cout, s.cin, s.k] : [s.cin, s.cout, s.k];
    if (c.normType === 'weight_norm') {
      out.set(`${s.name}.conv.weight_g`, [wshape[0]!, 1, 1]);
      out.set(`${s.name}.conv.weight_v`, wshape);
    } else {
      out.set(`${s.name}.conv.weight`, wshape);
      out.set(`${s.name}.norm.weight`, [s.cout]);
      out.set(`${s.name}.norm.bias`, [s.cout]);
    }
    out.set(`${s.name}.conv.bias`, [s.cout]);
  };
  const { encoder, decoder } = layerPlan(c);
  for (const l of [...encoder, ...decoder]) {
    if (l.kind === 'conv' || l.kind === 'convtr') convT(l);
    else if (l.kind === 'res') {
      l.convs.forEach(convT);
      if (l.shortcut) convT(l.shortcut);
    } else if (l.kind === 'lstm') {
      for (let i = 0; i < l.layers; i++) {
        out.set(`${l.name}.lstm.weight_ih_l${i}`, [4 * l.dim, l.dim]);
        out.set(`${l.name}.lstm.weight_hh_l${i}`, [4 * l.dim, l.dim]);
        out.set(`${l.name}.lstm.bias_ih_l${i}`, [4 * l.dim]);
        out.set(`${l.name}.lstm.bias_hh_l${i}`, [4 * l.dim]);
      }
    }
  }
  for (let i = 0; i < numQuantizers(c); i++) out.set(`quantizer.layers.${i}.codebook.embed`, [c.codebookSize, c.codebookDim]);
  return out;
}

/** Newer transformers save weight norm as parametrizations; map those names to weight_g / weight_v. */
function canonicalName(name: string): string {
  return name.replace('.parametrizations.weight.original0', '.weight_g').replace('.parametrizations.weight.original1', '.weight_v');
}

/** Checks names, shapes and dtypes; returns float32 data by expected name. */
function checkTensors(c: EncodecConfig, tensors: Map<string, Tensor>, file: string): Map<string, Float32Array> {
  const byName = new Map<string, Tensor>();
  for (const [k, t] of tensors) byName.set(canonicalName(k), t);
  const out = new Map<string, Float32Array>();
  const missing: string[] = [];
  for (const [name, shape] of expectedTensors(c)) {
    const t = byName.get(name);
    if (!t) {
      missing.push(name);
      continue;
    }
    const same = t.shape.length === shape.length && t.shape.every((d, i) => d === shape[i]);
    if (!same) {
      throw new MismatchError(
        `${file}: tensor ${name} has shape [${t.shape.join(', ')}], expected [${shape.join(', ')}] for this config.json; ` +
          'the checkpoint and config do not belong together',
        { subject: file },
      );
    }
    if (t.dtype !== 'F32' || !(t.data instanceof Float32Array)) {
      throw new UnsupportedError(`${file}: tensor ${name} is ${t.dtype}; only float32 EnCodec checkpoints are supported`, {
        subject: file,
      });
    }
    out.set(name, t.data);
  }
  if (missing.length > 0) {
    const list = missing.slice(0, 5).join(', ') + (missing.length > 5 ? `, ... (${missing.length} in all)` : '');
    throw new MismatchError(`${file}: missing tensors ${list}; is this an HF-format EnCodec checkpoint matching its config.json?`, {
      subject: file,
    });
  }
  return out;
}

/** w[i, ...] = g[i] * v[i, ...] / |v[i, ...]|, the norm taken over all but the first dimension (torch's weight_norm, dim=0). */
function foldWeightNorm(g: Float32Array, v: Float32Array): Float32Array {
  const rows = g.length;
  const per = v.length / rows;
  const w = new Float32Array(v.length);
  for (let r = 0; r < rows; r++) {
    let ss = 0;
    for (let i = 0; i < per; i++) ss += v[r * per + i]! * v[r * per + i]!;
    const s = Math.fround(g[r]! / Math.fround(Math.sqrt(ss)));
    for (let i = 0; i < per; i++) w[r * per + i] = v[r * per + i]! * s;
  }
  return w;
}

/** Builds the model's layers from checked tensors. */
export function buildWeights(c: EncodecConfig, t: Map<string, Float32Array>): EncodecWeights {
  const get = (n: string): Float32Array => t.get(n)!;
  const convL = (s: ConvSpec): ConvLayer => {
    const w =
      c.normType === 'weight_norm'
        ? foldWeightNorm(get(`${s.name}.conv.weight_g`), get(`${s.name}.conv.weight_v`))
        : get(`${s.name}.conv.weight`);
    const layer: ConvLayer = { ...s, w, b: get(`${s.name}.conv.bias`) };
    if (c.normType === 'time_group_norm') layer.norm = { weight: get(`${s.name}.norm.weight`), bias: get(`${s.name}.norm.bias`) };
    return layer;
  };
  const build = (list: LayerSpec[]): Layer[] =>
    list.map((l): Layer => {
      if (l.kind === 'conv' || l.kind === 'convtr') return convL(l);
      if (l.kind === 'res')
        return { kind: 'res', name: l.name, convs: l.convs.map(convL), shortcut: l.shortcut ? convL(l.shortcut) : null };
      if (l.kind === 'lstm') {
        const layers = [];
        for (let i = 0; i < l.layers; i++) {
          const p = `${l.name}.lstm.`;
          layers.push({
            wih: get(`${p}weight_ih_l${i}`),
            whh: get(`${p}weight_hh_l${i}`),
            bih: get(`${p}bias_ih_l${i}`),
            bhh: get(`${p}bias_hh_l${i}`),
          });
        }
        return { kind: 'lstm', name: l.name, dim: l.dim, layers };
      }
      return { kind: 'elu' };
    });
  const plan = layerPlan(c);
  const codebooks: Float32Array[] = [];
  for (let i = 0; i < numQuantizers(c); i++) codebooks.push(get(`quantizer.layers.${i}.codebook.embed`));
  return { config: c, encoder: build(plan.encoder), decoder: build(plan.decoder), codebooks };
}

/** Loads config.json + model.safetensors from an HF-format model folder. */
export function loadEncodecWeights(dir: string): EncodecWeights {
  const cfgPath = join(dir, 'config.json');
  const stPath = join(dir, 'model.safetensors');
  if (!existsSync(cfgPath) || !existsSync(stPath)) {
    throw new NotFoundError(
      `${dir}: expected config.json and model.safetensors (an HF-format EnCodec model such as facebook/encodec_24khz; ` +
        'see docs/codec.md for where to get the weights)',
      { subject: dir },
    );
  }
  const config = readEncodecConfig(cfgPath);
  // A plain Uint8Array (not a Node Buffer) so the reader's per-tensor copies are real copies.
  const file = parseSafetensors(new Uint8Array(readFileSync(stPath)), stPath);
  return buildWeights(config, checkTensors(config, file.tensors, stPath));
}

/** Checks and builds from in-memory tensors (e.g. random weights for benchmarks). */
export function weightsFromTensors(config: EncodecConfig, tensors: Map<string, Tensor>, name = 'tensors'): EncodecWeights {
  return buildWeights(config, checkTensors(config, tensors, name));
}

/** Random tensors of the real shapes (uniform, fan-in scaled), deterministic in `seed`: for timing, not for listening. */
export function randomTensors(c: EncodecConfig, seed = 1): Map<string, Tensor> {
  let s = seed >>> 0 || 1;
  const rnd = (): number => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 2 ** 32;
  };
  const out = new Map<string, Tensor>();
  for (const [name, shape] of expectedTensors(c)) {
    const n = shape.reduce((a, b) => a * b, 1);
    const data = new Float32Array(n);
    const fanIn = shape.length === 3 ? shape[1]! * shape[2]! : shape.length === 2 ? shape[1]! : 1;
    const isNorm = name.endsWith('norm.weight') || name.endsWith('weight_g');
    const a = 1 / Math.sqrt(fanIn);
    for (let i = 0; i < n; i++) data[i] = isNorm ? 1 : name.endsWith('codebook.embed') ? rnd() * 2 - 1 : (rnd() * 2 - 1) * a;
    out.set(name, { dtype: 'F32', shape, data });
  }
  return out;
}
