import { beforeAll, describe, expect, it } from 'vitest';
import * as fc from 'fast-check';
import { tf } from '../tf.js';
import { dimsOf, llamaConfig, parseConfig } from '../model/config.js';
import { countParams, initParams } from '../model/params.js';
import { forward } from '../model/forward.js';
import { FUZZ_SEED, classify, fuzzRuns, fuzzTimeout, yieldToVitest, jsonValue, newTally, report } from './fuzz-util.js';

const RUNS = fuzzRuns(1500);

const FIELDS = [
  'vocab_size', 'hidden_size', 'intermediate_size', 'num_hidden_layers', 'num_attention_heads', 'num_key_value_heads', 'head_dim',
  'rms_norm_eps', 'rope_theta', 'rope_parameters', 'max_position_embeddings', 'tie_word_embeddings', 'attention_bias', 'mlp_bias',
  'hidden_act', 'efficientscale', 'architectures', 'model_type', 'num_local_experts', 'rope_scaling',
];
/** Values only some fields make sense of: FFN kinds, RoPE variants (some incomplete), a second RoPE base. */
const structured = fc.constantFrom<unknown>(
  { ffn_kinds: ['dense'] },
  { ffn_kinds: ['dense', 'dense'] },
  { rope_type: 'linear' },
  { rope_type: 'linear', factor: 2 },
  { type: 'linear', factor: 0.5 },
  { rope_type: 'llama3', factor: 8 },
  { rope_type: 'llama3', factor: 8, low_freq_factor: 1, high_freq_factor: 4, original_max_position_embeddings: 8 },
  { rope_type: 'default', rope_theta: 500000 },
  { rope_type: 'yarn', factor: 2 },
);
/** Largest model a case actually builds and runs. */
const RUNNABLE_PARAMS = 200_000;

const mutation = fc.tuple(fc.constantFrom(...FIELDS), fc.oneof(jsonValue, fc.constant('<delete>'), structured));
const base = () => llamaConfig({ vocab: 32, hidden: 16, ffn: 24, layers: 2, heads: 4, kvHeads: 2, maxPositions: 16 });

/** config.json as written: compact, pretty-printed (as we and transformers write it), or pretty and cut short. */
const textForm = fc.tuple(fc.constantFrom('compact', 'compact', 'pretty', 'pretty', 'cut'), fc.double({ min: 0, max: 1, noNaN: true }));
function configText(config: object, form: string, cut: number): string {
  if (form === 'compact') return JSON.stringify(config);
  const pretty = JSON.stringify(config, null, 2);
  return form === 'pretty' ? pretty : pretty.slice(0, Math.floor(cut * pretty.length));
}

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('config.json fuzz', () => {
  it('every mutated config is refused with one UserError line, or accepted and runs a forward pass', async () => {
    const runs = RUNS;
    const tally = newTally();
    const started = performance.now();
    const tensorsBefore = tf.memory().numTensors;
    await fc.assert(
      fc.asyncProperty(fc.array(mutation, { minLength: 1, maxLength: 4 }), textForm, async (mutations, [form, cut]) => {
        await yieldToVitest();
        const config: Record<string, unknown> = base();
        for (const [field, value] of mutations) {
          if (value === '<delete>') delete config[field];
          else config[field] = value;
        }
        classify(tally, () => {
          const parsed = parseConfig(configText(config, form, cut), 'config.json');
          if (countParams(parsed) > RUNNABLE_PARAMS) return 'skipped';
          const d = dimsOf(parsed);
          const params = initParams(parsed, 1);
          const seq = Math.min(4, d.maxPositions);
          const tokens = tf.tensor2d(Array.from({ length: seq }, (_, i) => (i * 7) % d.vocab), [1, seq], 'int32');
          const logits = forward(parsed, params, tokens);
          expect(logits.shape).toEqual([1, seq, d.vocab]);
          // Fresh weights give finite logits for any config we accept (an accepted eps or RoPE base must not overflow).
          expect(tf.tidy(() => tf.all(tf.isFinite(logits)).dataSync()[0])).toBe(1);
          tf.dispose([logits, tokens, ...Object.values(params)]);
          return 'accepted';
        });
      }),
      { numRuns: runs, seed: FUZZ_SEED },
    );
    report('config.json', runs, tally, (performance.now() - started) / 1000);
    expect(tally.accepted).toBeGreaterThan(0);
    expect(tally.refused).toBeGreaterThan(0);
    expect(tf.memory().numTensors).toBe(tensorsBefore);
  }, fuzzTimeout(RUNS, 1500, 120_000));
});
