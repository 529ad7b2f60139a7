/**
 * Per-tensor mappings for the streaming transforms (core's streamTransform), for the cases that are exact
 * tensor by tensor and need no statistics of the whole model:
 * - upcycle: every layer's dense FFN copied into each of E experts (identical experts and a Mixtral router
 *   that renormalises its top-k weights give the dense output for any router weights);
 * - depth zero-growth: new layers copied from the layer below them with o_proj and the FFN's output
 *   projections zeroed, so each new layer adds nothing to the residual stream until it trains.
 * The full technique packages (progressive, moe) hold the other methods; these work on any size.
 */
import { createRng, dimsOf, ffnKinds, mismatch, type ModelConfig, type OutputTensor } from '@efficientscale/core';
import { upcycledModelConfig } from '@efficientscale/moe';
import { spreadSources } from '@efficientscale/progressive';

export interface SourceTensor {
  name: string;
  shape: number[];
}

const copyOf = (source: string, name: string, shape: number[]): OutputTensor => ({ name, shape, compute: (read) => read(source) });

function requireDense(config: ModelConfig, what: string): void {
  if (ffnKinds(config).some((k) => k !== 'dense')) throw mismatch(`${what} source`, 'a dense Llama checkpoint (every FFN dense)', `FFN kinds ${JSON.stringify([...new Set(ffnKinds(config))])}`);
}

/** Standard normal draws from the project's seeded RNG (Box–Muller). */
function gaussian(seed: number, count: number, std: number): Float32Array {
  const rng = createRng(seed);
  const out = new Float32Array(count);
  for (let i = 0; i < count; i += 2) {
    const r = Math.sqrt(-2 * Math.log(1 - rng.nextFloat()));
    const a = 2 * Math.PI * rng.nextFloat();
    out[i] = std * r * Math.cos(a);
    if (i + 1 < count) out[i + 1] = std * r * Math.sin(a);
  }
  return out;
}

export function upcycleMapping(config: ModelConfig, tensors: SourceTensor[], o: { experts: number; topK: number; seed: number; routerStd?: number }): { config: ModelConfig; outputs: OutputTensor[] } {
  requireDense(config, 'stream-upcycle');
  if (config.num_hidden_layers === 0) throw mismatch('stream-upcycle source', 'a model with at least one layer (an FFN to copy into experts)', '0 layers');
  if (o.topK > o.experts) throw mismatch('--top-k', `at most --experts (${o.experts})`, String(o.topK));
  const d = dimsOf(config);
  // Every layer upcycled at granularity 1: Mixtral's config, as `upcycle` writes it.
  const out = upcycledModelConfig(config, { experts: o.experts, topK: o.topK });
  const dense = { gate_proj: 'w1', down_proj: 'w2', up_proj: 'w3' } as const;
  const outputs: OutputTensor[] = [];
  for (const t of tensors) {
    const m = t.name.match(/^(model\.layers\.(\d+)\.)mlp\.(gate_proj|up_proj|down_proj)\.weight$/);
    if (!m) {
      outputs.push(copyOf(t.name, t.name, t.shape));
      continue;
    }
    const [, prefix, layer, proj] = m;
    if (proj === 'gate_proj') {
      const seed = o.seed * 100_003 + Number(layer);
      outputs.push({ name: `${prefix}block_sparse_moe.gate.weight`, shape: [o.experts, d.hidden], compute: () => gaussian(seed, o.experts * d.hidden, o.routerStd ?? 0.02) });
    }
    for (let e = 0; e < o.experts; e++) outputs.push(copyOf(t.name, `${prefix}block_sparse_moe.experts.${e}.${dense[proj as keyof typeof dense]}.weight`, t.shape));
  }
  return { config: out, outputs };
}

/** Tensors whose zeroing silences a layer's contribution to the residual stream. */
const isResidualOutput = (suffix: string) => /^(self_attn\.o_proj|mlp\.down_proj|block_sparse_moe\.experts\.\d+\.w2)\.weight$/.test(suffix);

export function growDepthMapping(config: ModelConfig, tensors: SourceTensor[], o: { layers: number }): { config: ModelConfig; outputs: OutputTensor[]; inserted: number[] } {
  const d = dimsOf(config);
  if (o.layers <= d.layers) throw mismatch('--layers', `more than the source's ${d.layers} layers`, String(o.layers));
  if (d.layers === 0) throw mismatch('stream-grow-depth source', 'a model with at least one layer to copy (grow --depth-method zero grows a 0-layer model)', '0 layers');
  // The same places as `grow --depth-method copy`, so streamed and in-memory growth give one model.
  const after = spreadSources(d.layers, o.layers - d.layers);
  // New layer order: each old layer j, followed by the copies inserted after it.
  const order: Array<{ from: number; zero: boolean }> = [];
  for (let j = 0; j < d.layers; j++) {
    order.push({ from: j, zero: false });
    for (const p of after) if (p === j) order.push({ from: j, zero: true });
  }
  const byLayer = new Map<number, SourceTensor[]>();
  const outputs: OutputTensor[] = [];
  const head: OutputTensor[] = [];
  for (const t of tensors) {
    const m = t.name.match(/^model\.layers\.(\d+)\.(.+)$/);
    if (!m) (t.name === 'model.embed_tokens.weight' ? outputs : head).push(copyOf(t.name, t.name, t.shape));
    else byLayer.set(Number(m[1]), [...(byLayer.get(Number(m[1])) ?? []), t]);
  }
  order.forEach(({ from, zero }, i) => {
    for (const t of byLayer.get(from) ?? []) {
      const suffix = t.name.slice(`model.layers.${from}.`.length);
      const name = `model.layers.${i}.${suffix}`;
      if (zero && isResidualOutput(suffix)) outputs.push({ name, shape: t.shape, compute: () => new Float32Array(t.shape.reduce((a, b) => a * b, 1)) });
      else outputs.push(copyOf(t.name, name, t.shape));
    }
  });
  const out: ModelConfig = { ...structuredClone(config), num_hidden_layers: o.layers };
  const kinds = config.efficientscale?.ffn_kinds;
  if (kinds && out.efficientscale) out.efficientscale.ffn_kinds = order.map(({ from }) => kinds[from]);
  return { config: out, outputs: [...outputs, ...head], inserted: order.flatMap((l, i) => (l.zero ? [i] : [])) };
}
