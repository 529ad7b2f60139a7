/**
 * The one validation layer for config.json: every field core reads is checked for type and range
 * before anything allocates, and the model's size is bounded. Unknown keys (Mixtral's MoE fields,
 * technique options under `efficientscale`) pass through untouched: the package that reads them
 * checks them.
 */
import { z } from 'zod';
import { mismatch, type UserError } from '../errors.js';
import { describeFound, describeJson } from '../io/read.js';
import { envVar } from '../env.js';

/** Largest size any one dimension may have; far above real models, small enough that products stay exact. */
export const MAX_DIM = 2 ** 24;
export const MAX_LAYERS = 1024;
/** One tensor may hold at most this many elements (typed arrays and tfjs index with int32). */
export const MAX_TENSOR_ELEMENTS = 2 ** 31 - 1;
/** Default cap on a model's total parameters (16 GiB of float32); EFFICIENTSCALE_MAX_PARAMS overrides it. */
export const DEFAULT_MAX_PARAMS = 2 ** 32;

export function maxParams(): number {
  const env = Number(envVar('EFFICIENTSCALE_MAX_PARAMS'));
  return Number.isSafeInteger(env) && env > 0 ? env : DEFAULT_MAX_PARAMS;
}

const positiveInteger = { error: 'a positive integer' };
const nonNegativeInteger = { error: 'a non-negative integer' };
const size = (max: number) => z.number(positiveInteger).int(positiveInteger).min(1, positiveInteger).max(max, { error: `a positive integer of at most ${max}` });
const optionalSize = (max: number) => size(max).nullish();
const positiveNumber = { error: 'a positive number' };
const positiveFinite = z.number(positiveNumber).positive(positiveNumber).finite(positiveNumber);
// A base below 1 turns RoPE's frequencies up instead of down; near 0 they overflow float32 (NaN logits).
const ropeBaseError = { error: 'a finite number of at least 1 (the RoPE base)' };
const ropeBase = z.number(ropeBaseError).min(1, ropeBaseError).finite(ropeBaseError);

const efficientscaleSchema = z.looseObject({
  ffn_kinds: z.array(z.string().min(1)).optional(),
  ffn_options: z.record(z.string(), z.looseObject({})).optional(),
});

export const configSchema = z.looseObject({
  architectures: z.array(z.string()).optional(),
  model_type: z.string().optional(),
  vocab_size: size(MAX_DIM),
  hidden_size: size(MAX_DIM),
  intermediate_size: size(MAX_DIM),
  num_hidden_layers: z.number(nonNegativeInteger).int(nonNegativeInteger).min(0, nonNegativeInteger).max(MAX_LAYERS, { error: `a non-negative integer of at most ${MAX_LAYERS}` }),
  num_attention_heads: size(MAX_DIM),
  num_key_value_heads: optionalSize(MAX_DIM),
  head_dim: optionalSize(MAX_DIM),
  rms_norm_eps: positiveFinite.nullish(),
  rope_theta: ropeBase.nullish(),
  rope_parameters: z.looseObject({ rope_theta: ropeBase.optional(), rope_type: z.string().optional() }).nullish(),
  rope_scaling: z.looseObject({ rope_type: z.string().optional() }).nullish(),
  max_position_embeddings: optionalSize(MAX_DIM),
  tie_word_embeddings: z.boolean().nullish(),
  attention_bias: z.boolean().nullish(),
  mlp_bias: z.boolean().nullish(),
  hidden_act: z.string().nullish(),
  efficientscale: efficientscaleSchema.optional(),
});

// Our own checks carry their expectation as the message; zod's defaults are translated.
function expectation(issue: z.core.$ZodIssue): string {
  if (!/^(Invalid|Too)/.test(issue.message)) return issue.message;
  switch (issue.code) {
    case 'invalid_type':
      return issue.expected === 'int' ? 'an integer' : `${/^[aeio]/.test(issue.expected) ? 'an' : 'a'} ${issue.expected}`;
    case 'too_small':
      return `${issue.inclusive === false ? 'more than' : 'at least'} ${String(issue.minimum)}`;
    case 'too_big':
      return `at most ${String(issue.maximum)}`;
    default:
      return issue.message.replace(/^Invalid input: expected /, '');
  }
}

function valueAt(root: unknown, path: PropertyKey[]): unknown {
  let v: unknown = root;
  for (const key of path) v = v !== null && typeof v === 'object' ? (v as Record<PropertyKey, unknown>)[key] : undefined;
  return v;
}


/** Checks the fields core reads; throws one UserError naming the first bad field. */
export function checkConfigFields(json: unknown): void {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw mismatch('config', 'a JSON object', describeJson(json));
  const result = configSchema.safeParse(json);
  if (result.success) return;
  const issue = result.error.issues[0];
  const field = issue.path.map(String).join('.');
  const found = valueAt(json, issue.path);
  throw mismatch(`"${field}"`, expectation(issue), describeFound(found)) as UserError;
}
