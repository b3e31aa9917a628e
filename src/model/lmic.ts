/**
 * LMIC's own parameter files (google-deepmind/language_modeling_is_compression): `train.py` ends with
 * `np.savez('params.npz', **params)`, where `params` is Haiku's dict of module name -> {param name: array},
 * and `compressors/language_model.py` loads it back with `{k: data[k].item() for k in data.files}`.
 *
 * Haiku names modules by class with a counter per name across the whole network (`linear`, `linear_1`, ...),
 * so in `transformer_decoder` (see ../shared/fixtures/lmic-transformer/README.md and its meta.json) layer i
 * has attention `multi_head_dot_product_attention[_i]` with q, k, v, o = `linear`, `linear_1`, `linear_2`,
 * `linear_3`, LayerNorms `layer_norm_{2i}` and `layer_norm_{2i+1}`, FFN `linear_{2i}` and `linear_{2i+1}`,
 * and the output projection is `linear_{2L}`. The embedding is `embed/embeddings`.
 */
import { ConfigError, MismatchError, UnsupportedError } from '../util/errors.js';
import { PickledArray, type PyValue } from '../util/pickle.js';
import { readNpz, toFloat32, writeNpzOfDicts, type Float32Tensor } from '../util/npz.js';
import type { ParamSet, TransformerConfig } from './api.js';
import { paramShapes, validateConfig } from './config.js';

/** LMIC's TransformerConfig default head count, used when none is given (no parameter shape records it). */
export const LMIC_DEFAULT_HEADS = 8;

/** Module -> parameter -> tensor, as Haiku holds them. */
export type HaikuParams = Map<string, Map<string, Float32Tensor>>;

const indexed = (base: string, i: number): string => (i === 0 ? base : `${base}_${i}`);

/** Haiku's `module/param` name of each wavelm parameter name, for a model of `numLayers` layers. */
export function haikuNames(numLayers: number): Map<string, [string, string]> {
  const names = new Map<string, [string, string]>([['embed.embeddings', ['embed', 'embeddings']]]);
  for (let i = 0; i < numLayers; i++) {
    const attn = indexed('multi_head_dot_product_attention', i);
    const p = `layers.${i}.`;
    names.set(`${p}attn.q.weight`, [`${attn}/linear`, 'w']);
    names.set(`${p}attn.k.weight`, [`${attn}/linear_1`, 'w']);
    names.set(`${p}attn.v.weight`, [`${attn}/linear_2`, 'w']);
    names.set(`${p}attn.o.weight`, [`${attn}/linear_3`, 'w']);
    names.set(`${p}ln1.scale`, [indexed('layer_norm', 2 * i), 'scale']);
    names.set(`${p}ln1.offset`, [indexed('layer_norm', 2 * i), 'offset']);
    names.set(`${p}ffn.fc1.weight`, [indexed('linear', 2 * i), 'w']);
    names.set(`${p}ffn.fc1.bias`, [indexed('linear', 2 * i), 'b']);
    names.set(`${p}ffn.fc2.weight`, [indexed('linear', 2 * i + 1), 'w']);
    names.set(`${p}ffn.fc2.bias`, [indexed('linear', 2 * i + 1), 'b']);
    names.set(`${p}ln2.scale`, [indexed('layer_norm', 2 * i + 1), 'scale']);
    names.set(`${p}ln2.offset`, [indexed('layer_norm', 2 * i + 1), 'offset']);
  }
  names.set('output.weight', [indexed('linear', 2 * numLayers), 'w']);
  names.set('output.bias', [indexed('linear', 2 * numLayers), 'b']);
  return names;
}

function floatOf(v: PyValue, what: string): Float32Tensor {
  if (!(v instanceof PickledArray) || !v.bytes) throw new UnsupportedError(`${what}: not a numeric array`, { subject: what });
  return toFloat32(v, what);
}

/**
 * The Haiku parameters of an .npz: either LMIC's layout (each key a module holding a pickled dict) or a
 * flat one (each key `module/param` holding a plain array, as `np.savez(**{f'{m}/{p}': a})` writes).
 */
export function readHaikuNpz(path: string): HaikuParams {
  const out: HaikuParams = new Map();
  const put = (module: string, param: string, t: Float32Tensor) => {
    if (!out.has(module)) out.set(module, new Map());
    out.get(module)!.set(param, t);
  };
  for (const [key, member] of readNpz(path)) {
    const what = `${path}: ${key}`;
    if (member.kind === 'array') {
      const slash = key.lastIndexOf('/');
      if (slash <= 0)
        throw new UnsupportedError(
          `${what}: a plain array named without a module; expected LMIC's np.savez('params.npz', **params) or keys 'module/param'`,
          { subject: path },
        );
      put(key.slice(0, slash), key.slice(slash + 1), toFloat32(member.array, what));
      continue;
    }
    const value = member.value;
    const dict = value instanceof PickledArray && value.objects?.length === 1 ? value.objects[0] : value;
    if (!(dict instanceof Map))
      throw new UnsupportedError(`${what}: holds a pickled object that is not a dict of arrays`, { subject: path });
    for (const [param, arr] of dict) put(key, String(param), floatOf(arr, `${what}/${String(param)}`));
  }
  return out;
}

function shapeOf(h: HaikuParams, module: string, param: string, path: string): number[] {
  const t = h.get(module)?.get(param);
  if (!t) throw new MismatchError(`${path}: no ${module}/${param}; is this a params.npz of LMIC's transformer_decoder?`, { subject: path });
  return t.shape;
}

/** The model config that Haiku parameters imply; the head count is not in any shape, so it comes from `numHeads` (LMIC's default 8). */
export function inferLmicConfig(h: HaikuParams, path: string, numHeads = LMIC_DEFAULT_HEADS): TransformerConfig {
  const [vocabSize, embeddingDim] = shapeOf(h, 'embed', 'embeddings', path);
  let numLayers = 0;
  while (h.has(`${indexed('multi_head_dot_product_attention', numLayers)}/linear`)) numLayers++;
  if (numLayers === 0) throw new MismatchError(`${path}: no attention layers (multi_head_dot_product_attention/linear)`, { subject: path });
  const hidden = shapeOf(h, 'linear', 'w', path)[1];
  if (vocabSize === undefined || embeddingDim === undefined || hidden === undefined || hidden % embeddingDim !== 0) {
    throw new MismatchError(`${path}: embed/embeddings or linear/w has an unexpected shape`, { subject: path });
  }
  return {
    vocabSize,
    embeddingDim,
    numLayers,
    numHeads,
    wideningFactor: hidden / embeddingDim,
    embInitScale: 0.02,
    positionalEncoding: 'sinusoidal',
  };
}

/** wavelm parameters from Haiku's, every name and shape checked and nothing left over. */
export function fromHaikuParams(h: HaikuParams, config: TransformerConfig, path: string): ParamSet {
  const names = haikuNames(config.numLayers);
  const params: ParamSet = {};
  const used = new Set<string>();
  for (const [name, shape] of paramShapes(config)) {
    const [module, param] = names.get(name)!;
    const t = h.get(module)?.get(param);
    if (!t)
      throw new MismatchError(`${path}: ${module}/${param} (${name}) is missing for a ${config.numLayers}-layer model`, { subject: path });
    if (t.shape.join('x') !== shape.join('x'))
      throw new MismatchError(
        `${path}: ${module}/${param} has shape [${t.shape.join(', ')}], a model of this config needs [${shape.join(', ')}]`,
        { subject: path },
      );
    params[name] = { shape: [...shape], data: t.data };
    used.add(`${module}/${param}`);
  }
  const extra = [...h].flatMap(([m, ps]) => [...ps.keys()].map((p) => `${m}/${p}`)).filter((n) => !used.has(n));
  if (extra.length > 0)
    throw new MismatchError(`${path}: parameters LMIC's transformer_decoder does not have: ${extra.slice(0, 4).join(', ')}`, {
      subject: path,
    });
  return params;
}

/** LMIC's `TransformerConfig` fields (transformer.py), as a user may give them. */
export interface LmicConfigFields {
  vocab_size?: number;
  embedding_dim?: number;
  num_layers?: number;
  num_heads?: number;
  widening_factor?: number;
  emb_init_scale?: number;
}

const FIELD_OF: Array<[keyof LmicConfigFields, keyof TransformerConfig]> = [
  ['vocab_size', 'vocabSize'],
  ['embedding_dim', 'embeddingDim'],
  ['num_layers', 'numLayers'],
  ['num_heads', 'numHeads'],
  ['widening_factor', 'wideningFactor'],
  ['emb_init_scale', 'embInitScale'],
];

/** Checks a given TransformerConfig against the one the shapes imply (num_heads and emb_init_scale are taken as given). */
function applyGivenConfig(inferred: TransformerConfig, given: LmicConfigFields, path: string): TransformerConfig {
  const out = { ...inferred };
  for (const [field, key] of FIELD_OF) {
    const v = given[field];
    if (v === undefined) continue;
    if (typeof v !== 'number')
      throw new ConfigError(`config field ${field} must be a number, got ${JSON.stringify(v)}`, { subject: field });
    if (key === 'numHeads' || key === 'embInitScale') (out[key] as number) = v;
    else if (out[key] !== v)
      throw new MismatchError(`${path}: the given ${field}=${v} disagrees with the parameters, which have ${field}=${String(out[key])}`, {
        subject: path,
      });
  }
  const unknown = Object.keys(given).filter((k) => !FIELD_OF.some(([f]) => f === k));
  if (unknown.length > 0)
    throw new ConfigError(`unknown TransformerConfig field(s) ${unknown.join(', ')}; known: ${FIELD_OF.map(([f]) => f).join(', ')}`, {
      subject: unknown[0],
    });
  try {
    validateConfig(out);
  } catch (e) {
    throw new ConfigError(`${path}: ${(e as Error).message}; give the right num_heads`, { subject: path, cause: e });
  }
  return out;
}

/**
 * Reads LMIC's params.npz as a wavelm model. The config is inferred from the shapes; `config` (LMIC's field
 * names) is checked against them and supplies num_heads (default LMIC's 8), which no shape records.
 */
export function importLmicParams(
  path: string,
  options: { config?: LmicConfigFields } = {},
): { config: TransformerConfig; params: ParamSet } {
  const h = readHaikuNpz(path);
  const config = applyGivenConfig(inferLmicConfig(h, path), options.config ?? {}, path);
  return { config, params: fromHaikuParams(h, config, path) };
}

/** Writes a wavelm model as LMIC's params.npz (one pickled dict per Haiku module, as train.py's np.savez does). */
export function exportLmicParams(path: string, config: TransformerConfig, params: ParamSet): void {
  if (config.positionalEncoding !== 'sinusoidal')
    throw new UnsupportedError(
      `LMIC's transformer uses sinusoidal positions; a ${config.positionalEncoding} model cannot be exported to it`,
      { subject: path },
    );
  const modules = new Map<string, Array<[string, Float32Tensor]>>();
  for (const [name, [module, param]] of haikuNames(config.numLayers)) {
    const t = params[name];
    if (!t) throw new MismatchError(`the model has no ${name}`, { subject: name });
    if (!modules.has(module)) modules.set(module, []);
    modules.get(module)!.push([param, t]);
  }
  writeNpzOfDicts(path, [...modules]);
}
