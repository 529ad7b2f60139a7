import { mismatch, ffnKinds, type ModelConfig } from '@efficientscale/core';

/** Growth rewrites SwiGLU weights by name; other FFN kinds (moe, lowrank) are refused, not mangled. */
export function requireDense(config: ModelConfig): void {
  if (config.num_hidden_layers === 0) return;
  const kinds = ffnKinds(config);
  const other = kinds.findIndex((k) => k !== 'dense');
  if (other >= 0) throw mismatch(`layer ${other} FFN kind`, '"dense" (growth of other FFN kinds is not supported)', JSON.stringify(kinds[other]));
}
